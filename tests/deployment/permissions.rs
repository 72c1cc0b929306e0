//! What template.yaml gives each function: exactly the DynamoDB actions its store calls need (on
//! the table only), SES only where it sends email, memory sized for bcrypt where it hashes, and an
//! environment that the functions' config accepts and that holds no secret. (Which key secrets
//! each function may read: tests/deployment/keys.rs.)

use std::collections::BTreeSet;

use serde_json::{Value, json};
use shared::config::{Config, Deployment, MailerKind, StoreKind};
use shared::jobs::WORKER_FUNCTION;
use shared::routes::{Endpoint, FALLBACK_FUNCTION};

use crate::assert_same_set;
use crate::cfn::{Template, actions};

/// Lambda's memory for one full vCPU: bcrypt is single-threaded, so more buys nothing.
const ONE_VCPU_MB: u64 = 1769;
/// The smallest size, for functions that only sign or check tokens and call the store.
const SMALLEST_MB: u64 = 128;

/// Per function: memory, DynamoDB actions, and whether it sends email (SES).
/// TransactWriteItems has no IAM action: its parts need PutItem, UpdateItem, ConditionCheckItem.
#[rustfmt::skip]
const EXPECTED: [(&str, u64, &[&str], bool); 52] = [
    // Every email is a job (PutItem in the change's transaction) that the worker sends.
    ("register",            ONE_VCPU_MB, &["UpdateItem", "PutItem", "GetItem"], false),
    // The session's transaction checks the user is as read (ConditionCheckItem).
    ("login",               ONE_VCPU_MB, &["GetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], false),
    ("refresh-token",       SMALLEST_MB, &["BatchGetItem", "UpdateItem", "ConditionCheckItem"], false),
    ("confirm-email",       SMALLEST_MB, &["GetItem", "UpdateItem"], false),
    // Reads the user, moves the email (and its guard) to the new address, revokes every session
    // and writes the notice job, in one transaction.
    ("confirm-email-change", SMALLEST_MB, &["GetItem", "UpdateItem", "PutItem", "DeleteItem"], false),
    // Only write a job: known and unknown addresses cost the same (the worker looks them up).
    ("request-email",       SMALLEST_MB, &["PutItem"], false),
    ("reset-password",      SMALLEST_MB, &["PutItem"], false),
    // Only checks the reset token's signature: no store, no email.
    ("reset-password-form", SMALLEST_MB, &[], false),
    ("set-password",        ONE_VCPU_MB, &["GetItem", "UpdateItem"], false),
    // Revokes the session in a transaction that checks the user still exists.
    ("logout",              SMALLEST_MB, &["UpdateItem", "ConditionCheckItem"], false),
    // Reads the user beside the token's session (an ended one is refused), then moves the
    // revocation epoch on its three copies in one transaction that checks that session again.
    ("logout-all",          SMALLEST_MB, &["BatchGetItem", "UpdateItem", "ConditionCheckItem"], false),
    ("me",                  SMALLEST_MB, &["GetItem"], false),
    // Verifies the current password (bcrypt; the username's login backoff), hashes the new one,
    // revokes every session and writes a new one. The user is read beside the token's session
    // (BatchGetItem: an ended one is refused); a refused change reads the user again.
    ("change-password",     ONE_VCPU_MB, &["BatchGetItem", "GetItem", "UpdateItem", "PutItem", "DeleteItem"], false),
    // Verifies the password (bcrypt; login backoff), checks the new address is free, records the
    // pending change and writes the link's job. The user is read beside the token's session.
    ("change-email",        ONE_VCPU_MB, &["BatchGetItem", "GetItem", "UpdateItem", "PutItem", "DeleteItem"], false),
    // Verifies the password (bcrypt; login backoff), then deletes the user and its guards and
    // writes the purge job, in one transaction. The user is read beside the token's session.
    ("delete-account",      ONE_VCPU_MB, &["BatchGetItem", "GetItem", "UpdateItem", "PutItem", "DeleteItem"], false),
    // Reads the user and queries its sessions.
    ("list-sessions",       SMALLEST_MB, &["GetItem", "Query"], false),
    // Reads the user beside the token's session (an ended one is refused), then revokes the
    // target session.
    ("revoke-session",      SMALLEST_MB, &["BatchGetItem", "UpdateItem"], false),
    // Second factors: the state lives on the profile. The status reads it beside the token's
    // session; setup checks the password (bcrypt; login backoff) and records the pending secret;
    // confirm checks a code (login backoff) and turns TOTP on over the three copies of the user;
    // disable checks the password and a code and turns it off over the three copies, writing the
    // notice's job; recovery-codes checks both and replaces the codes' hashes.
    ("mfa-status",          SMALLEST_MB, &["BatchGetItem", "GetItem", "Query"], false),
    ("totp-setup",          ONE_VCPU_MB, &["BatchGetItem", "GetItem", "UpdateItem", "DeleteItem"], false),
    ("totp-confirm",        SMALLEST_MB, &["BatchGetItem", "GetItem", "UpdateItem", "DeleteItem"], false),
    ("totp-disable",        ONE_VCPU_MB, &["BatchGetItem", "GetItem", "UpdateItem", "PutItem", "DeleteItem"], false),
    ("recovery-codes",      ONE_VCPU_MB, &["BatchGetItem", "GetItem", "UpdateItem", "DeleteItem"], false),
    // Passkeys live in the user's partition, each with a credential-id guard; a ceremony's state
    // is an item of its own, taken by one conditional delete. Options: the session beside the
    // passkeys (Query), the user handle (UpdateItem), the state (PutItem). Register: the state
    // taken, then the guard, the passkey and the notice's job in one transaction that checks the
    // profile (and with TOTP on a code, as on the account routes). Login: the state taken, the
    // guard, the passkey beside the profile, then the passkey's counter and the session in one
    // transaction that checks the profile.
    ("passkey-register-options", SMALLEST_MB, &["BatchGetItem", "Query", "UpdateItem", "PutItem"], false),
    ("passkey-register",    SMALLEST_MB, &["BatchGetItem", "GetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], false),
    ("list-passkeys",       SMALLEST_MB, &["BatchGetItem", "Query"], false),
    ("delete-passkey",      SMALLEST_MB, &["BatchGetItem", "GetItem", "DeleteItem"], false),
    ("passkey-login-options", SMALLEST_MB, &["PutItem"], false),
    ("passkey-login",       SMALLEST_MB, &["GetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], false),
    // Sign in with UContact. Every authorization is a session: authorize reads the sign-in
    // cookie's session beside its user (one batch) and creates the app's session in a transaction
    // that checks the profile; signin signs in as login or
    // passkey-login do (bcrypt), then does what authorize does; token rotates a code's or refresh
    // token's session as refresh-token does, or runs the password grant as login, then reads the
    // user for the ID token; userinfo reads the token's session beside its user; end-session
    // reads the sign-in's session beside its user, then revokes sessions as logout does; the asset route serves what is compiled in.
    ("authorize",           SMALLEST_MB, &["BatchGetItem", "PutItem", "ConditionCheckItem"], false),
    ("signin",              ONE_VCPU_MB, &["GetItem", "BatchGetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], false),
    ("token",               ONE_VCPU_MB, &["GetItem", "BatchGetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], false),
    ("userinfo",            SMALLEST_MB, &["BatchGetItem"], false),
    ("end-session",         SMALLEST_MB, &["BatchGetItem", "UpdateItem", "ConditionCheckItem"], false),
    ("signin-page-asset",   SMALLEST_MB, &[], false),
    // The hosted "create an account" and "forgot password" pages touch no store; their forms
    // do what register and reset-password do.
    ("signup-page",         SMALLEST_MB, &[], false),
    ("signup",              ONE_VCPU_MB, &["UpdateItem", "PutItem", "GetItem"], false),
    ("forgot-password-page", SMALLEST_MB, &[], false),
    ("forgot-password",     SMALLEST_MB, &["PutItem"], false),
    // Contacts live in the user's partition: listing and birthdays are one Query each, beside a
    // read of the user (a deleted user's token reads nothing).
    ("list-contacts",       SMALLEST_MB, &["GetItem", "Query"], false),
    // The id counter (ADD on the profile), then the contact and its email guard in one transaction
    // that also checks the profile still exists (a deleted user's token writes nothing).
    ("create-contact",      SMALLEST_MB, &["UpdateItem", "PutItem", "ConditionCheckItem"], false),
    ("get-contact",         SMALLEST_MB, &["GetItem"], false),
    // A read, then a conditional update, or (new email) one transaction replacing the contact,
    // deleting the old email guard and putting the new one, checking the profile still exists.
    ("update-contact",      SMALLEST_MB, &["GetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], false),
    // A read, then one transaction deleting the contact and its email guard, checking the profile.
    ("delete-contact",      SMALLEST_MB, &["GetItem", "DeleteItem", "ConditionCheckItem"], false),
    ("upcoming-birthdays",  SMALLEST_MB, &["GetItem", "Query"], false),
    ("health",              SMALLEST_MB, &["GetItem"], false),
    // The docs serve what is compiled in, and the fallback answers from the route table alone.
    ("openapi",             SMALLEST_MB, &[], false),
    ("docs",                SMALLEST_MB, &[], false),
    ("docs-asset",          SMALLEST_MB, &[], false),
    ("fallback",            SMALLEST_MB, &[], false),
    // Serves the public keys it read at cold start.
    ("jwks",                SMALLEST_MB, &[], false),
    ("openid-configuration", SMALLEST_MB, &[], false),
    // The background jobs: looks addresses up and claims email sends, purges a deleted user's
    // partition (Query, BatchWriteItem), deletes or replaces its job; the only function that
    // sends email. Not bcrypt: a little more memory than the smallest for the purge's batches.
    ("worker",              WORKER_MB,   &["GetItem", "PutItem", "DeleteItem", "Query", "BatchWriteItem"], true),
];

/// The worker's memory: network-bound, but a purge keeps 200 deletes in flight.
const WORKER_MB: u64 = 256;

fn expected_cover_the_route_table() {
    let mut functions: BTreeSet<&str> = Endpoint::ALL.iter().map(|e| e.function_name()).collect();
    functions.insert(FALLBACK_FUNCTION);
    functions.insert(WORKER_FUNCTION);
    let expected: BTreeSet<&str> = EXPECTED.iter().map(|(name, ..)| *name).collect();
    assert_same_set(
        "the route table and the fallback",
        &functions,
        "this test's expectations",
        &expected,
    );
}

#[test]
fn every_function_has_exactly_its_dynamodb_and_ses_permissions() {
    expected_cover_the_route_table();
    let template = Template::load();
    let table_arn = json!({"Fn::GetAtt": ["Table", "Arn"]});
    // Only the sender's own identity, never `identity/*`.
    let ses_identities = json!({"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailFromIdentity}"});
    let dead_letters = json!({"Fn::GetAtt": ["JobDeadLetterQueue", "Arn"]});

    for (name, _, dynamodb, sends_email) in EXPECTED {
        let function = template.function(name);
        let id = function.logical_id;
        let mut granted_dynamodb = BTreeSet::new();
        let mut granted_ses = BTreeSet::new();
        for statement in function.statements() {
            assert_eq!(
                statement["Effect"], "Allow",
                "{id}: unexpected statement {statement}"
            );
            for action in actions(statement) {
                if let Some(action) = action.strip_prefix("dynamodb:") {
                    assert_eq!(
                        statement["Resource"], table_arn,
                        "{id}: dynamodb:{action} beyond the table"
                    );
                    // Only named key families (bench/run checks them against the keys each
                    // function's requests use): never the whole table.
                    let families = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                        .as_array()
                        .unwrap_or_else(|| {
                            panic!("{id}: dynamodb:{action} without a dynamodb:LeadingKeys condition")
                        });
                    assert!(
                        !families.is_empty()
                            && families.iter().all(|f| f.as_str().is_some_and(|f| f.len() > 1)),
                        "{id}: LeadingKeys {families:?}"
                    );
                    granted_dynamodb.insert(action);
                } else if let Some(action) = action.strip_prefix("ses:") {
                    assert_eq!(
                        statement["Resource"], ses_identities,
                        "{id}: ses:{action} on other resources"
                    );
                    granted_ses.insert(action);
                } else if action == "sqs:SendMessage" && name == WORKER_FUNCTION {
                    assert_eq!(statement["Resource"], dead_letters, "{id}: sqs beyond its DLQ");
                } else if action.starts_with("secretsmanager:") {
                    // The key split has its own test (keys.rs).
                } else {
                    panic!("{id}: unexpected action {action}");
                }
            }
        }
        let expected_dynamodb: BTreeSet<&str> = dynamodb.iter().copied().collect();
        assert_same_set(
            &format!("{id}'s expected DynamoDB actions"),
            &expected_dynamodb,
            "template.yaml",
            &granted_dynamodb,
        );
        let expected_ses: BTreeSet<&str> = sends_email.then_some("SendEmail").into_iter().collect();
        assert_same_set(
            &format!("{id}'s expected SES actions"),
            &expected_ses,
            "template.yaml",
            &granted_ses,
        );
    }
}

#[test]
fn bcrypt_functions_get_one_full_vcpu_and_the_others_the_smallest_size() {
    expected_cover_the_route_table();
    let template = Template::load();
    for (name, memory, ..) in EXPECTED {
        let function = template.function(name);
        assert_eq!(
            function.properties()["MemorySize"].as_u64(),
            Some(memory),
            "{}: MemorySize",
            function.logical_id
        );
    }
}

#[test]
fn the_functions_environment_is_a_valid_lambda_config_and_holds_no_secret() {
    let template = Template::load();
    let variables = template.global_environment();

    // No dynamic reference anywhere in it: a resolved secret would sit in every function's
    // configuration, readable by anyone with lambda:GetFunctionConfiguration.
    let text = serde_json::to_string(variables).expect("JSON");
    assert!(
        !text.contains("{{resolve:"),
        "a dynamic reference in the environment: {text}"
    );
    // (JWT_ALGORITHM is the JwtAlgorithm parameter: tests/deployment/authorizer.rs.)
    assert!(
        variables.get("JWT_SECRET").is_none(),
        "JWT_SECRET is superseded by the signing keys"
    );
    for function in template.functions() {
        assert!(
            function.properties()["Environment"].is_null(),
            "{}: sets its own Environment; every function shares Globals.Function.Environment",
            function.logical_id
        );
    }

    // With the parameters' defaults, the functions' config starts (PUBLIC_BASE_URL is unset).
    let value = |name: &str| -> Option<String> {
        match variables.get(name)? {
            Value::String(value) => Some(value.clone()),
            Value::Number(value) => Some(value.to_string()),
            Value::Object(function) if function.contains_key("Fn::If") => None,
            // KEYS_SECRET_PREFIX: the stack's UUID spliced into a name.
            Value::Object(function) if function.contains_key("Fn::Sub") => Some(
                function["Fn::Sub"][0]
                    .as_str()
                    .expect("a Sub string")
                    .replace("${StackUuid}", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
            ),
            Value::Object(function) => match function.get("Ref").and_then(Value::as_str) {
                Some(parameter) if template.0["Parameters"].get(parameter).is_some() => {
                    match &template.0["Parameters"][parameter]["Default"] {
                        Value::String(value) => Some(value.clone()),
                        other => Some(other.to_string()),
                    }
                }
                Some(resource) => Some(format!("{resource}-physical-id")),
                None => panic!("{name}: cannot evaluate {function:?}"),
            },
            other => panic!("{name}: unexpected value {other}"),
        }
    };
    let config = Config::from_lookup(Deployment::Lambda, value)
        .unwrap_or_else(|e| panic!("the functions would not start with template.yaml's environment: {e}"));
    assert_eq!(
        config.store,
        StoreKind::DynamoDb {
            table: "Table-physical-id".into()
        }
    );
    assert_eq!(config.mailer, MailerKind::Ses);
    assert_eq!(config.bcrypt_cost, 12);
    assert_eq!(config.public_base_url, None);
    assert_eq!(config.jwt_audience, "ucontact");
    assert_eq!(
        config.keys_secret_prefix,
        "ucontact/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/keys"
    );
}

#[test]
fn the_table_is_keyed_by_pk_and_sk_expires_by_ttl_and_survives_stack_deletion() {
    let template = Template::load();
    let table = template.resource("Table");
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    assert_eq!(table["DeletionPolicy"], "Retain", "Table: DeletionPolicy");
    assert_eq!(
        table["UpdateReplacePolicy"], "Retain",
        "Table: UpdateReplacePolicy"
    );
    let properties = &table["Properties"];
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    // The DynamoDB adapter creates emulator tables from these same names (ensure_table).
    use shared::store::dynamodb::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
    assert_eq!(
        properties["AttributeDefinitions"],
        json!([
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"}
        ])
    );
    assert_eq!(
        properties["KeySchema"],
        json!([
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"}
        ])
    );
    assert!(properties["GlobalSecondaryIndexes"].is_null() && properties["LocalSecondaryIndexes"].is_null());
    assert_eq!(
        properties["TimeToLiveSpecification"],
        json!({"AttributeName": TTL_ATTRIBUTE, "Enabled": true})
    );
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(properties["DeletionProtectionEnabled"], true);
    assert_eq!(properties["SSESpecification"]["SSEEnabled"], true);
}

#[test]
fn exactly_the_functions_that_send_email_or_use_the_table_are_built_with_their_clients() {
    // A function built without `shared/ses` answers any email with an error, and one built
    // without `shared/dynamodb` any store call (store::absent): the crates that turn the
    // features on must be exactly those the template lets send email, or use the table.
    for (name, _, dynamodb, sends_email) in EXPECTED {
        let path = crate::workspace_root().join(format!("functions/{name}/Cargo.toml"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let manifest: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let features: Vec<&str> = manifest["dependencies"]["shared"]
            .get("features")
            .and_then(|f| f.as_array())
            .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            features.contains(&"ses"),
            sends_email,
            "{name}: shared features {features:?}"
        );
        assert_eq!(
            features.contains(&"dynamodb"),
            !dynamodb.is_empty(),
            "{name}: shared features {features:?}, DynamoDB actions {dynamodb:?}"
        );
        assert!(
            !features.contains(&"embedded"),
            "{name}: deployed functions leave SQLite and the outbox out"
        );
    }
}
