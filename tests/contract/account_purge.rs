//! Deleting a big account (docs/API.md, "Account"): a user with 10,000 contacts (20,000 items
//! with their email guards) and several sessions is unreachable as soon as the deletion answers
//! (every token refused, username and email free), and the purge job then empties the store of
//! them in bounded time: no row or item keyed to their id, no job left. Another user's data is
//! untouched. Prints how long each took, on whichever store `UCONTACT_TEST_BACKEND` names.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use ucontact_tests::{Backend, PASSWORD, Server};

const CONTACTS: usize = 10_000;
/// How long the purge may take on the emulator before the test calls it stuck (moto serves one
/// request at a time; the purge's own pace is 800 deletes/s).
const PURGE_BOUND: Duration = Duration::from_secs(300);

/// Written as the adapter writes them, for speed (the API would take minutes for 10,000): rows
/// of the `contacts` table on SQLite; on DynamoDB a contact item and its email guard each, 25 per
/// batch.
async fn seed_contacts(app: &Server, access: &str, user_id: i64, count: usize, prefix: &str) {
    if app.backend() == Backend::Embedded {
        let mut db =
            rusqlite::Connection::open(app.data_dir().join("ucontact.db")).expect("open the database");
        db.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
        let tx = db.transaction().expect("a transaction");
        for i in 0..count {
            let email = format!("{prefix}{i}@example.com");
            tx.execute(
                "INSERT INTO contacts (user_id, id, first_name, last_name, email, email_key, created_at, updated_at)
                 VALUES (?1, ?2, 'Contact', ?3, ?4, ?4, '2025-04-16T12:00:00Z', '2025-04-16T12:00:00Z')",
                rusqlite::params![user_id, i as i64 + 1, format!("No {i}"), email],
            )
            .expect("a contact row");
        }
        tx.execute(
            "UPDATE users SET contact_seq = ?1 WHERE id = ?2",
            rusqlite::params![count as i64, user_id],
        )
        .expect("the counter");
        tx.commit().expect("commit");
        return check_seeded(app, access, count).await;
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
    // Not read back through list-contacts: it reads the whole partition, which moto serves
    // slower than the SDK's timeouts at this size (each batch above was checked instead).
    let got = app
        .get_with_token(&format!("/api/contacts/{count}"), access)
        .await;
    assert_eq!(got.status, 200, "the last seeded contact is served: {}", got.text);
}

async fn check_seeded(app: &Server, access: &str, count: usize) {
    let listed = app.get_with_token("/api/contacts?limit=100", access).await;
    assert_eq!(
        listed.json().as_array().map(Vec::len),
        Some(100.min(count)),
        "seeded contacts are served: {} {}",
        listed.status,
        listed.text
    );
}

async fn dynamodb(app: &Server) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&crate::emulator_config(app).await)
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

/// Whether the user's partition (SQLite: their rows) still holds anything: one key read.
async fn partition_holds_items(app: &Server, user_id: i64) -> bool {
    match app.backend() {
        Backend::Embedded => !leftovers(app, user_id).await.is_empty(),
        Backend::Aws => {
            let page = dynamodb(app)
                .await
                .query()
                .table_name(app.setting("TABLE_NAME").expect("table"))
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user_id}")))
                .projection_expression("PK")
                .limit(1)
                .consistent_read(true)
                .send()
                .await
                .expect("query");
            page.count() > 0
        }
    }
}

/// Everything the store still holds under the user's id, and any unfinished purge.
async fn leftovers(app: &Server, user_id: i64) -> Vec<String> {
    match app.backend() {
        Backend::Embedded => {
            let db =
                rusqlite::Connection::open(app.data_dir().join("ucontact.db")).expect("open the database");
            let mut left = Vec::new();
            let jobs: i64 = db
                .query_row("SELECT COUNT(*) FROM jobs", [], |row| row.get(0))
                .expect("count");
            if jobs > 0 {
                left.push(format!("{jobs} job(s)"));
            }
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
            let jobs = client
                .scan()
                .table_name(table)
                .filter_expression("begins_with(PK, :job)")
                .expression_attribute_values(":job", AttributeValue::S("JOB#".into()))
                .consistent_read(true)
                .send()
                .await
                .expect("scan");
            if jobs.count() > 0 {
                left.push(format!("{} job item(s)", jobs.count()));
            }
            for pk in [format!("USER#{user_id}")] {
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
async fn a_user_with_ten_thousand_contacts_is_unreachable_at_once_and_purged_in_bounded_time() {
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
    let answered = started.elapsed();
    assert_eq!(answer.status, 204, "{}", answer.text);
    // Unreachable at once: nothing of theirs is read back, whatever the purge has done so far.
    let read = app
        .get_with_token(&format!("/api/contacts/{CONTACTS}"), &sessions[0].access)
        .await;
    let unreachable = started.elapsed();
    read.assert_detail(401, "Could not validate credentials");
    let refresh = app
        .post_json(
            "/api/auth/refresh-token",
            json!({"refresh_token": sessions[2].refresh}),
        )
        .await;
    refresh.assert_detail(401, "Invalid or expired refresh token");

    // The purge empties the store of them in bounded time. Polled lightly (one key of the
    // partition a second): moto serves one request at a time, and a scan of the whole table
    // every moment would starve the purge's own batches.
    while partition_holds_items(&app, john_id).await && started.elapsed() < PURGE_BOUND {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut left = leftovers(&app, john_id).await;
    for _ in 0..20 {
        if left.is_empty() {
            break;
        }
        // The job ends a moment after the last contact goes (abuse state, then its own item).
        tokio::time::sleep(Duration::from_millis(500)).await;
        left = leftovers(&app, john_id).await;
    }
    let purged = started.elapsed();
    assert_eq!(left, Vec::<String>::new(), "left behind after {PURGE_BOUND:?}");
    eprintln!(
        "delete-account of {CONTACTS} contacts and 3 sessions ({:?}): answered in {:.3} s, a read refused {:.3} s after the request, purged {:.1} s after it (before: {before:?})",
        app.backend(),
        answered.as_secs_f64(),
        unreachable.as_secs_f64(),
        purged.as_secs_f64(),
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
    // The username and email are free again, for a new user with a new id.
    let again = app.register("johndoe", "john@example.com", PASSWORD).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_ne!(again.json()["id"], john["id"], "an id is never reused");
}
