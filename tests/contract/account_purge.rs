//! Deleting a big account (docs/API.md, "Account"): a user with 1,000 contacts (2,000 items with
//! their email guards: 80 of DynamoDB's 25-item batches) and several sessions is deleted within
//! one request, and afterwards the store itself holds nothing of theirs: no row or item keyed to
//! their id, no purge left pending. Another user's data is untouched. Prints how long the
//! deletion took, on whichever store `UCONTACT_TEST_BACKEND` names.

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use ucontact_tests::{Backend, PASSWORD, Server};

const CONTACTS: usize = 1_000;

/// Through the API on SQLite. On DynamoDB the emulator (moto) slows down with the partition
/// (a transaction takes seconds past a few hundred items, and times out), so there the test
/// writes the contacts as the adapter does (contact item + email guard), 25 per batch.
async fn seed_contacts(app: &Server, access: &str, user_id: i64, count: usize, prefix: &str) {
    if app.backend() == Backend::Embedded {
        return create_contacts(app, access, count, prefix).await;
    }
    let client = dynamodb(app).await;
    let table = app.setting("TABLE_NAME").expect("table");
    let s = |v: String| AttributeValue::S(v);
    let mut requests = Vec::new();
    for i in 0..count {
        let id = i as i64 + 1;
        let email = format!("{prefix}{i}@example.com");
        let contact = [
            ("PK", s(format!("USER#{user_id}"))),
            ("SK", s(format!("CONTACT#{id:020}"))),
            ("id", AttributeValue::N(id.to_string())),
            ("first_name", s("Contact".into())),
            ("last_name", s(format!("No {i}"))),
            ("email", s(email.clone())),
            ("email_key", s(email.clone())),
            ("created_at", s("2025-04-16T12:00:00Z".into())),
            ("updated_at", s("2025-04-16T12:00:00Z".into())),
        ];
        let guard = [
            ("PK", s(format!("USER#{user_id}"))),
            ("SK", s(format!("CONTACTEMAIL#{email}"))),
            ("contact_id", AttributeValue::N(id.to_string())),
        ];
        for item in [&contact[..], &guard[..]] {
            let item = item.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            let put = aws_sdk_dynamodb::types::PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("put");
            requests.push(
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(put)
                    .build(),
            );
        }
    }
    for batch in requests.chunks(25) {
        let out = client
            .batch_write_item()
            .request_items(table, batch.to_vec())
            .send()
            .await
            .expect("batch write");
        assert!(
            out.unprocessed_items().is_none_or(|u| u.is_empty()),
            "unprocessed seed items"
        );
    }
    // The profile's counter, as the creates would have left it.
    client
        .update_item()
        .table_name(table)
        .key("PK", s(format!("USER#{user_id}")))
        .key("SK", s("PROFILE".into()))
        .update_expression("SET contact_seq = :n")
        .expression_attribute_values(":n", AttributeValue::N(count.to_string()))
        .send()
        .await
        .expect("counter");
    let listed = app.get_with_token("/api/contacts?limit=100", access).await;
    assert_eq!(
        listed.json().as_array().map(Vec::len),
        Some(100.min(count)),
        "seeded contacts are served"
    );
}

async fn dynamodb(app: &Server) -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(app.setting("AWS_ENDPOINT_URL").expect("endpoint"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

async fn create_contacts(app: &Server, access: &str, count: usize, prefix: &str) {
    let created: Vec<u16> = stream::iter(0..count)
        .map(|i| async move {
            let body = json!({"first_name": "Contact", "last_name": format!("No {i}"), "email": format!("{prefix}{i}@example.com")});
            let request = app.client().post(app.url("/api/contacts")).bearer_auth(access).json(&body);
            app.send(request).await.status
        })
        .buffer_unordered(8)
        .collect()
        .await;
    if !created.iter().all(|s| *s == 201) {
        let log = app.log();
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("WARN"))
            .take(3)
            .collect();
        panic!("creates answered {created:?}\n{errors:#?}");
    }
}

/// Everything the store still holds under the user's id, and any unfinished purge.
async fn leftovers(app: &Server, user_id: i64) -> Vec<String> {
    match app.backend() {
        Backend::Embedded => {
            let db =
                rusqlite::Connection::open(app.data_dir().join("ucontact.db")).expect("open the database");
            let mut left = Vec::new();
            for (table, column) in [("users", "id"), ("sessions", "user_id"), ("contacts", "user_id")] {
                let count: i64 = db
                    .query_row(
                        &format!("SELECT COUNT(*) FROM {table} WHERE {column} = ?1"),
                        [user_id],
                        |row| row.get(0),
                    )
                    .expect("count");
                if count > 0 {
                    left.push(format!("{count} row(s) in {table}"));
                }
            }
            left
        }
        Backend::Aws => {
            let client = dynamodb(app).await;
            let table = app.setting("TABLE_NAME").expect("table");
            let mut left = Vec::new();
            for pk in [format!("USER#{user_id}"), "PURGE".to_owned()] {
                let page = client
                    .query()
                    .table_name(table)
                    .key_condition_expression("PK = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("query");
                if page.count() > 0 {
                    left.push(format!("{} item(s) under {pk}", page.count()));
                }
            }
            left
        }
    }
}

#[tokio::test]
async fn a_user_with_a_thousand_contacts_is_deleted_completely_in_one_request() {
    let app = Server::start().await;
    let john = app.verified_user("johndoe", "john@example.com").await;
    let jane = app.verified_user("janedoe", "jane@example.com").await;
    let john_id = john["id"].as_i64().expect("id");
    let sessions = [
        app.tokens("johndoe").await,
        app.tokens("johndoe").await,
        app.tokens("johndoe").await,
    ];
    seed_contacts(&app, &sessions[0].access, john_id, CONTACTS, "friend").await;
    let jane_tokens = app.tokens("janedoe").await;
    create_contacts(&app, &jane_tokens.access, 3, "jane-friend").await;
    let before = leftovers(&app, john_id).await;
    assert!(
        !before.is_empty(),
        "the check sees the user's data before the deletion"
    );

    let started = Instant::now();
    let answer = app
        .send(
            app.client()
                .delete(app.url("/api/users/me"))
                .bearer_auth(&sessions[1].access)
                .json(&json!({"password": PASSWORD})),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(answer.status, 204, "{}", answer.text);
    eprintln!(
        "delete-account: a user with {CONTACTS} contacts and 3 sessions deleted in {:.2} s ({:?}; before: {before:?})",
        took.as_secs_f64(),
        app.backend()
    );
    assert_eq!(
        leftovers(&app, john_id).await,
        Vec::<String>::new(),
        "left behind"
    );
    let listed = app.get_with_token("/api/contacts", &jane_tokens.access).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json().as_array().map(Vec::len), Some(3), "jane's contacts");
    assert_eq!(
        app.get_with_token("/api/users/me", &jane_tokens.access)
            .await
            .json()["id"],
        jane["id"]
    );
}
