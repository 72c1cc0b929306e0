//! The key split of template.yaml (docs/API.md, "Signing keys"): which function's role can read
//! which key secret, proven from the template, against the route table's own declaration
//! (`Endpoint::keys`), which is also what each function reads at cold start.
//!
//! - A private key set is reachable only by the functions that mint its tokens.
//! - No function reaches the public set's secret: public keys come with the deployment
//!   (`PUBLIC_KEYS`), so a function that only verifies reads no secret at cold start, and is
//!   built without the Secrets Manager client (its crate leaves the `secrets-manager` feature off).
//! - No function reaches a secret by wildcard, by another action, or through its environment;
//!   no other resource of the template grants or exposes them; the key secrets hold no key
//!   material in the template.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use shared::jobs::{WORKER_FUNCTION, WORKER_KEYS};
use shared::keys::KeyNeeds;
use shared::routes::{Endpoint, FALLBACK_FUNCTION};

use crate::assert_same_set;
use crate::cfn::{Template, actions};

const SESSION: &str = "SessionSigningKeys";
const LINK: &str = "LinkSigningKeys";
const VERIFICATION: &str = "VerificationKeys";
const ABUSE: &str = "AbuseHashKey";
const MFA: &str = "MfaKey";
const SECRETS: [&str; 5] = [SESSION, LINK, VERIFICATION, ABUSE, MFA];

/// The secrets a function with these needs must reach, and no others.
fn secrets_of(needs: KeyNeeds) -> BTreeSet<&'static str> {
    [
        (needs.sign_session, SESSION),
        (needs.sign_link, LINK),
        (needs.abuse_hash, ABUSE),
        (needs.mfa, MFA),
    ]
    .into_iter()
    .filter_map(|(needed, secret)| needed.then_some(secret))
    .collect()
}

/// Every function and the key secrets its role can read.
fn granted(template: &Template) -> BTreeMap<String, BTreeSet<String>> {
    let mut granted = BTreeMap::new();
    for function in template.functions() {
        let id = function.logical_id;
        let mut reachable = BTreeSet::new();
        for statement in function.statements() {
            let secrets_actions: Vec<&str> = actions(statement)
                .into_iter()
                .filter(|a| a.starts_with("secretsmanager:") || *a == "*" || a.starts_with("kms:"))
                .collect();
            if secrets_actions.is_empty() {
                continue;
            }
            assert_eq!(
                secrets_actions,
                ["secretsmanager:GetSecretValue"],
                "{id}: only GetSecretValue, alone in its statement: {statement}"
            );
            assert!(statement.get("Condition").is_none(), "{id}: {statement}");
            let resources = match &statement["Resource"] {
                Value::Array(resources) => resources.clone(),
                one => vec![one.clone()],
            };
            for resource in resources {
                let secret = resource["Ref"]
                    .as_str()
                    .filter(|r| SECRETS.contains(r))
                    .unwrap_or_else(|| {
                        panic!("{id}: GetSecretValue on {resource}, not one named key secret")
                    });
                reachable.insert(secret.to_owned());
            }
        }
        granted.insert(function.binary().to_owned(), reachable);
    }
    granted
}

/// Every function of the template and the keys it takes at cold start.
fn functions_and_needs() -> Vec<(&'static str, KeyNeeds)> {
    let mut all: Vec<(&str, KeyNeeds)> = Endpoint::ALL
        .iter()
        .map(|e| (e.function_name(), e.keys()))
        .collect();
    all.push((FALLBACK_FUNCTION, KeyNeeds::NONE));
    all.push((WORKER_FUNCTION, WORKER_KEYS));
    all
}

#[test]
fn each_function_reaches_exactly_the_key_secrets_its_route_needs() {
    let template = Template::load();
    let granted = granted(&template);
    for (name, needs) in functions_and_needs() {
        let want: BTreeSet<String> = secrets_of(needs).into_iter().map(str::to_owned).collect();
        let got = granted
            .get(name)
            .unwrap_or_else(|| panic!("{name}: not in template.yaml"));
        assert_same_set(
            &format!("{name}'s key needs"),
            &want,
            "its role in template.yaml",
            got,
        );
    }
}

#[test]
fn exactly_the_functions_that_read_secrets_link_the_secrets_manager_client() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, needs) in functions_and_needs() {
        let manifest = std::fs::read_to_string(root.join("functions").join(name).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("functions/{name}/Cargo.toml: {e}"));
        let manifest: toml_like::Manifest = toml_like::parse(&manifest);
        assert_eq!(
            manifest.shared_features.contains(&"secrets-manager".to_owned()),
            needs.secret(),
            "functions/{name}: the `secrets-manager` feature of shared must be on exactly when the route reads a secret ({needs:?})"
        );
    }
}

/// Just enough of a Cargo manifest: the features of the `shared` dependency.
mod toml_like {
    pub struct Manifest {
        pub shared_features: Vec<String>,
    }

    pub fn parse(text: &str) -> Manifest {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("shared"))
            .unwrap_or_else(|| panic!("no shared dependency in {text}"));
        let shared_features = line
            .split_once("features")
            .map(|(_, rest)| rest.split('"').skip(1).step_by(2).map(str::to_owned).collect())
            .unwrap_or_default();
        Manifest { shared_features }
    }
}

#[test]
fn only_minting_functions_reach_a_private_key_set() {
    let granted = granted(&Template::load());
    let holders = |secret: &str| -> BTreeSet<&str> {
        granted
            .iter()
            .filter(|(_, secrets)| secrets.contains(secret))
            .map(|(name, _)| name.as_str())
            .collect()
    };
    // Spelled out, not derived: this is the contract's list (docs/API.md, "Signing keys").
    assert_eq!(
        holders(SESSION),
        BTreeSet::from([
            "login",
            "refresh-token",
            "change-password",
            "passkey-login",
            "authorize",
            "signin",
            "token",
        ])
    );
    // Links are minted only by the jobs that mail them.
    assert_eq!(holders(LINK), BTreeSet::from(["worker"]));
    assert_eq!(
        holders(ABUSE),
        BTreeSet::from([
            "login",
            "register",
            "change-password",
            "change-email",
            "delete-account",
            "totp-setup",
            "totp-confirm",
            "totp-disable",
            "recovery-codes",
            "passkey-register",
            "signin",
            "token",
            "signup",
            "worker",
        ])
    );
    // The key of TOTP secrets and recovery codes: only where a code is checked or stored.
    assert_eq!(
        holders(MFA),
        BTreeSet::from([
            "login",
            "change-password",
            "change-email",
            "delete-account",
            "totp-setup",
            "totp-confirm",
            "totp-disable",
            "recovery-codes",
            "passkey-register",
            "signin",
            "token",
        ])
    );
    for never in [
        "me",
        "health",
        "openapi",
        "docs",
        "docs-asset",
        "jwks",
        "fallback",
        "list-contacts",
        "confirm-email-change",
        "delete-account",
        "register",
        "request-email",
        "reset-password",
        "change-email",
        "list-sessions",
        "revoke-session",
        "mfa-status",
        "totp-setup",
        "totp-confirm",
        "totp-disable",
        "recovery-codes",
        "passkey-register-options",
        "passkey-register",
        "list-passkeys",
        "delete-passkey",
        "passkey-login-options",
        "userinfo",
        "end-session",
        "signin-page-asset",
        "signup-page",
        "signup",
        "forgot-password-page",
        "forgot-password",
    ] {
        assert!(
            !holders(SESSION).contains(never) && !holders(LINK).contains(never),
            "{never} can mint"
        );
    }
}

#[test]
fn the_key_secrets_hold_no_key_material_and_nothing_else_grants_them() {
    let template = Template::load();
    for secret in SECRETS {
        let resource = template.resource(secret);
        assert_eq!(resource["Type"], "AWS::SecretsManager::Secret", "{secret}");
        let properties = &resource["Properties"];
        // Named under the one prefix every function is given.
        let name = properties["Name"]["Fn::Sub"][0].as_str().unwrap_or_default();
        assert!(
            name.starts_with("ucontact/${StackUuid}/keys/"),
            "{secret}: Name {name}"
        );
    }
    // The signing sets start empty: the first `keys rotate` makes the keys, never the template.
    for (secret, empty) in [
        (SESSION, json!({"keys": []})),
        (LINK, json!({"keys": []})),
        (VERIFICATION, json!({"session": [], "link": []})),
    ] {
        let text = template.resource(secret)["Properties"]["SecretString"]
            .as_str()
            .unwrap_or_else(|| panic!("{secret}: SecretString"));
        assert_eq!(
            serde_json::from_str::<Value>(text).expect("JSON"),
            empty,
            "{secret}"
        );
    }
    assert_eq!(
        template.resource(ABUSE)["Properties"]["GenerateSecretString"],
        json!({"PasswordLength": 64, "ExcludePunctuation": true})
    );
    // No resource policy, no other role, no output and no parameter reaches a key secret.
    for (id, resource) in template.resources() {
        let kind = resource["Type"].as_str().unwrap_or_default();
        assert!(
            !kind.starts_with("AWS::SecretsManager::") || SECRETS.contains(&id.as_str()),
            "{id}: {kind}"
        );
        assert!(
            !kind.starts_with("AWS::KMS::") && kind != "AWS::IAM::Role" && kind != "AWS::IAM::Policy",
            "{id}: {kind}"
        );
    }
    let text = |value: &Value| serde_json::to_string(value).expect("JSON");
    let outputs = text(&template.0["Outputs"]);
    let parameters = text(&template.0["Parameters"]);
    for secret in SECRETS {
        let reference = format!("\"{secret}\"");
        assert!(!outputs.contains(&reference), "an output names {secret}");
        assert!(!parameters.contains(&reference), "a parameter names {secret}");
    }
    // The environment names the prefix, never a secret's value (a dynamic reference would
    // resolve it into every function's configuration).
    let environment = text(&Value::Object(template.global_environment().clone()));
    assert!(!environment.contains("resolve:secretsmanager"), "{environment}");
    for secret in SECRETS {
        assert!(!environment.contains(&format!("\"{secret}\"")), "{environment}");
    }
}
