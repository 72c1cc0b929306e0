use serde_json::{Value, json};
use ucontact_tests::{Server, Settings, Tokens};

fn jane() -> Value {
    json!({
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@example.com",
        "phone": "+1 (555) 010-0000",
        "birthday": "1990-12-31",
        "description": "Met at RustConf"
    })
}

fn person(first: &str, last: &str, email: &str) -> Value {
    json!({ "first_name": first, "last_name": last, "email": email })
}

async fn signed_in(app: &Server, username: &str) -> Tokens {
    app.verified_user(username, &format!("{username}@example.com"))
        .await;
    app.tokens(username).await
}

async fn create(app: &Server, token: &str, body: Value) -> ucontact_tests::Answer {
    app.send(
        app.client()
            .post(app.url("/api/contacts"))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn update(app: &Server, token: &str, id: &Value, body: Value) -> ucontact_tests::Answer {
    app.send(
        app.client()
            .put(app.url(&format!("/api/contacts/{id}")))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn delete(app: &Server, token: &str, id: &Value) -> ucontact_tests::Answer {
    app.send(
        app.client()
            .delete(app.url(&format!("/api/contacts/{id}")))
            .bearer_auth(token),
    )
    .await
}

fn ids(answer: &ucontact_tests::Answer) -> Vec<i64> {
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_contact_goes_through_create_read_update_delete() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;

    let created = create(&app, &alice.access, jane()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let contact = created.json();
    let id = contact["id"].clone();
    assert!(id.as_i64().is_some_and(|id| id > 0));
    for (field, value) in jane().as_object().unwrap() {
        assert_eq!(&contact[field], value, "{field}");
    }
    assert!(contact["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(contact["created_at"], contact["updated_at"]);

    let read = app
        .get_with_token(&format!("/api/contacts/{id}"), &alice.access)
        .await;
    assert_eq!((read.status, read.json()), (200, contact.clone()));

    let mut changed = person("Janet", "Doe", "JANET@example.com");
    changed["phone"] = json!(null); // optional fields may be null or absent
    let updated = update(&app, &alice.access, &id, changed).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let updated = updated.json();
    assert_eq!(
        (updated["id"].clone(), updated["first_name"].clone()),
        (id.clone(), json!("Janet"))
    );
    assert_eq!(updated["email"], "JANET@example.com");
    assert_eq!(
        (updated["phone"].clone(), updated["birthday"].clone()),
        (json!(null), json!(null))
    );
    assert_eq!(updated["created_at"], contact["created_at"]);
    assert_eq!(
        app.get_with_token(&format!("/api/contacts/{id}"), &alice.access)
            .await
            .json(),
        updated
    );

    let deleted = delete(&app, &alice.access, &id).await;
    assert_eq!((deleted.status, deleted.json()), (200, updated));
    app.get_with_token(&format!("/api/contacts/{id}"), &alice.access)
        .await
        .assert_detail(404, "Contact not found");
    delete(&app, &alice.access, &id)
        .await
        .assert_detail(404, "Contact not found");
    // The email is free again.
    assert_eq!(
        create(&app, &alice.access, person("Janet", "Doe", "janet@example.com"))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn users_see_and_change_only_their_own_contacts() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let bob = signed_in(&app, "bob").await;
    let id = create(&app, &alice.access, jane()).await.json()["id"].clone();

    app.get_with_token(&format!("/api/contacts/{id}"), &bob.access)
        .await
        .assert_detail(404, "Contact not found");
    update(&app, &bob.access, &id, person("X", "Y", "x@example.com"))
        .await
        .assert_detail(404, "Contact not found");
    delete(&app, &bob.access, &id)
        .await
        .assert_detail(404, "Contact not found");
    assert!(ids(&app.get_with_token("/api/contacts", &bob.access).await).is_empty());
    // Bob may have his own Jane: emails are unique per user only.
    assert_eq!(create(&app, &bob.access, jane()).await.status, 201);
    // Alice's contact is untouched.
    let read = app
        .get_with_token(&format!("/api/contacts/{id}"), &alice.access)
        .await;
    assert_eq!(read.json()["first_name"], "Jane");
}

#[tokio::test]
async fn contact_ids_count_per_user_and_are_never_reused() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let bob = signed_in(&app, "bob").await;
    let first = create(&app, &alice.access, person("A", "A", "a@example.com"))
        .await
        .json()["id"]
        .clone();
    let second = create(&app, &alice.access, person("B", "B", "b@example.com"))
        .await
        .json()["id"]
        .clone();
    assert!(second.as_i64() > first.as_i64());
    delete(&app, &alice.access, &second).await;
    let third = create(&app, &alice.access, person("C", "C", "c@example.com"))
        .await
        .json()["id"]
        .clone();
    assert!(third.as_i64() > second.as_i64(), "a deleted id came back");
    let bobs = create(&app, &bob.access, person("A", "A", "a@example.com"))
        .await
        .json()["id"]
        .clone();
    assert_eq!(bobs.as_i64(), Some(1), "ids are per user");
}

#[tokio::test]
async fn a_second_contact_with_the_same_email_is_a_409_on_create_and_update() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    create(&app, &alice.access, jane()).await;
    create(&app, &alice.access, person("Other", "Jane", "JANE@Example.com"))
        .await
        .assert_detail(409, "Contact with this email already exists");

    let john = create(&app, &alice.access, person("John", "Doe", "john@example.com"))
        .await
        .json()["id"]
        .clone();
    update(
        &app,
        &alice.access,
        &john,
        person("John", "Doe", "Jane@example.com"),
    )
    .await
    .assert_detail(409, "Contact with this email already exists");
    // The refused update changed nothing, and John can still change his own email's case.
    let read = app
        .get_with_token(&format!("/api/contacts/{john}"), &alice.access)
        .await
        .json();
    assert_eq!(read["email"], "john@example.com");
    assert_eq!(
        update(
            &app,
            &alice.access,
            &john,
            person("John", "Doe", "John@Example.com")
        )
        .await
        .status,
        200
    );
    assert_eq!(
        update(
            &app,
            &alice.access,
            &john,
            person("John", "Doe", "johnny@example.com")
        )
        .await
        .status,
        200
    );
    // Moving the email freed the old one.
    assert_eq!(
        create(&app, &alice.access, person("New", "John", "john@example.com"))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn a_contact_email_is_one_mailbox_whatever_its_spelling() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let created = create(
        &app,
        &alice.access,
        person("Jörg", "B", "jo\u{308}rg@xn--bcher-kva.example"),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json()["email"], "j\u{F6}rg@bücher.example");
    for spelling in [
        "j\u{F6}rg@bücher.example",
        "J\u{D6}RG@B\u{DC}CHER.example",
        "jo\u{308}rg@bu\u{308}cher.example",
    ] {
        create(&app, &alice.access, person("Other", "Jörg", spelling))
            .await
            .assert_detail(409, "Contact with this email already exists");
    }
}

#[tokio::test]
async fn concurrent_creates_with_one_email_make_exactly_one_contact() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let attempts = (0..12).map(|i| {
        create(
            &app,
            &alice.access,
            person(&format!("J{i}"), "Doe", "same@example.com"),
        )
    });
    let answers = futures_util::future::join_all(attempts).await;
    assert_eq!(
        answers.iter().filter(|a| a.status == 201).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| a.status == 409).count(),
        11,
        "{answers:?}"
    );
    assert_eq!(
        ids(&app.get_with_token("/api/contacts", &alice.access).await).len(),
        1
    );
}

#[tokio::test]
async fn bad_contacts_get_a_422_naming_the_field() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let with = |field: &str, value: Value| {
        let mut body = jane();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = jane();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases = [
        ("empty first name", with("first_name", json!("")), "first_name"),
        (
            "first name over 50",
            with("first_name", json!("x".repeat(51))),
            "first_name",
        ),
        ("last name missing", without("last_name"), "last_name"),
        (
            "last name over 50",
            with("last_name", json!("x".repeat(51))),
            "last_name",
        ),
        ("email missing", without("email"), "email"),
        (
            "email malformed",
            with("email", json!("jane-at-example.com")),
            "email",
        ),
        (
            "phone with letters",
            with("phone", json!("call me maybe")),
            "phone",
        ),
        ("phone over 20", with("phone", json!("1".repeat(21))), "phone"),
        ("phone not a string", with("phone", json!(5550100)), "phone"),
        (
            "birthday not a date",
            with("birthday", json!("yesterday")),
            "birthday",
        ),
        (
            "birthday not a real date",
            with("birthday", json!("2023-02-29")),
            "birthday",
        ),
        (
            "birthday in the future",
            with("birthday", json!("2999-01-01")),
            "birthday",
        ),
        (
            "birthday in year 0 (Python's dates start at year 1)",
            with("birthday", json!("0000-05-01")),
            "birthday",
        ),
        (
            "email with a quoted local part",
            with("email", json!("\"jane doe\"@example.com")),
            "email",
        ),
        (
            "email with a right-to-left override",
            with("email", json!("jane\u{202E}@example.com")),
            "email",
        ),
        (
            "description over 255",
            with("description", json!("x".repeat(256))),
            "description",
        ),
    ];
    for (case, body, field) in cases {
        let answer = create(&app, &alice.access, body.clone()).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.text);
        answer.assert_422_on(field);
        let answer = update(&app, &alice.access, &json!(1), body).await;
        assert_eq!(answer.status, 422, "update, {case}: {}", answer.text);
    }
    // Optional fields may be absent or null.
    let minimal = create(&app, &alice.access, person("Min", "Imal", "min@example.com")).await;
    assert_eq!(minimal.status, 201, "{}", minimal.text);
    assert_eq!(minimal.json()["birthday"], json!(null));
    let nulls = json!({"first_name": "N", "last_name": "U", "email": "n@example.com", "phone": null, "birthday": null, "description": null});
    assert_eq!(create(&app, &alice.access, nulls).await.status, 201);
    assert!(ids(&app.get_with_token("/api/contacts", &alice.access).await).len() == 2);
}

#[tokio::test]
async fn bad_ids_and_parameters_are_422s_or_404s() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let answer = app.get_with_token("/api/contacts/abc", &alice.access).await;
    answer.assert_422_on("contact_id");
    for id in ["0", "-3", "999"] {
        app.get_with_token(&format!("/api/contacts/{id}"), &alice.access)
            .await
            .assert_detail(404, "Contact not found");
    }
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("skip=-1", "skip"),
    ] {
        app.get_with_token(&format!("/api/contacts?{query}"), &alice.access)
            .await
            .assert_422_on(field);
    }
    for days in ["0", "367", "x"] {
        app.get_with_token(
            &format!("/api/contacts/upcoming-birthdays?days={days}"),
            &alice.access,
        )
        .await
        .assert_422_on("days");
    }
}

#[tokio::test]
async fn contacts_need_a_valid_access_token() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    for path in [
        "/api/contacts",
        "/api/contacts/1",
        "/api/contacts/upcoming-birthdays",
    ] {
        app.get(path).await.assert_detail(401, "Not authenticated");
        app.get_with_token(path, &alice.refresh)
            .await
            .assert_detail(401, "Could not validate credentials");
    }
    let answer = app
        .send(app.client().post(app.url("/api/contacts")).json(&jane()))
        .await;
    answer.assert_detail(401, "Not authenticated");
}

#[tokio::test]
async fn the_list_searches_names_and_emails_and_pages_in_id_order() {
    let app = Server::start().await;
    let alice = signed_in(&app, "alice").await;
    let people = [
        ("Jane", "Doe", "jane@example.com"),
        ("John", "Smith", "john@work.org"),
        ("Zoë", "Janssen", "zoe@example.com"),
        ("Max", "Power", "maxj@EXAMPLE.com"),
        ("Ann", "Lee", "ann@other.net"),
    ];
    let mut created = Vec::new();
    for (first, last, email) in people {
        created.push(
            create(&app, &alice.access, person(first, last, email))
                .await
                .json()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let list = async |query: &str| {
        app.get_with_token(&format!("/api/contacts{query}"), &alice.access)
            .await
    };

    assert_eq!(ids(&list("").await), created);
    // "ja": Jane (first), Janssen (last); "J" in maxj's email only matches a search for "xj".
    assert_eq!(ids(&list("?query=JA").await), vec![created[0], created[2]]);
    assert_eq!(
        ids(&list("?query=example.COM").await),
        vec![created[0], created[2], created[3]]
    );
    assert_eq!(ids(&list("?query=zoë").await), vec![created[2]]);
    assert_eq!(ids(&list("?query=nobody").await), Vec::<i64>::new());
    assert_eq!(ids(&list("?skip=1&limit=2").await), created[1..3].to_vec());
    assert_eq!(ids(&list("?skip=4&limit=100").await), vec![created[4]]);
    assert_eq!(ids(&list("?skip=10").await), Vec::<i64>::new());
    assert_eq!(
        ids(&list("?query=example.com&skip=1&limit=1").await),
        vec![created[2]]
    );
}

/// A server whose clock starts at `now` (and runs on), with the contacts given as
/// (first name, birthday); returns the list the birthday route gives for `days`.
async fn birthdays_seen_on(now: &str, birthdays: &[(&str, &str)], days: u32) -> Vec<String> {
    let app = Server::start_with(Settings::default().with("UCONTACT_FAKE_NOW", now)).await;
    let alice = signed_in(&app, "alice").await;
    for (i, (name, birthday)) in birthdays.iter().enumerate() {
        let mut body = person(name, "Test", &format!("p{i}@example.com"));
        body["birthday"] = json!(birthday);
        let answer = create(&app, &alice.access, body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    create(
        &app,
        &alice.access,
        person("NoBirthday", "Test", "none@example.com"),
    )
    .await;
    let answer = app
        .get_with_token(
            &format!("/api/contacts/upcoming-birthdays?days={days}"),
            &alice.access,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn upcoming_birthdays_cross_the_year_end_in_order() {
    let found = birthdays_seen_on(
        "2025-12-28T10:00:00Z",
        &[
            ("Jan3", "1990-01-03"),
            ("Dec28", "1985-12-28"),
            ("Dec31", "2000-12-31"),
            ("Jan5", "1970-01-05"),
            ("Dec27", "1999-12-27"),
        ],
        7,
    )
    .await;
    // From Dec 28 through Jan 4: today counts, yesterday does not, Jan 5 is one day too far.
    assert_eq!(found, vec!["Dec28", "Dec31", "Jan3"]);
}

#[tokio::test]
async fn feb_29_birthdays_fall_on_feb_28_in_common_years() {
    let common = birthdays_seen_on(
        "2025-02-27T12:00:00Z",
        &[("Leap", "2000-02-29"), ("Mar1", "1990-03-01")],
        1,
    )
    .await;
    assert_eq!(common, vec!["Leap"]);
    let leap = birthdays_seen_on(
        "2028-02-27T12:00:00Z",
        &[("Leap", "2000-02-29"), ("Feb28", "1990-02-28")],
        1,
    )
    .await;
    assert_eq!(leap, vec!["Feb28"], "in a leap year Feb 29 is two days off");
    let leap = birthdays_seen_on("2028-02-29T00:00:01Z", &[("Leap", "2000-02-29")], 1).await;
    assert_eq!(leap, vec!["Leap"]);
}

#[tokio::test]
async fn a_birthday_of_today_is_not_in_the_future() {
    let app = Server::start_with(Settings::default().with("UCONTACT_FAKE_NOW", "2025-06-15T23:59:00Z")).await;
    let alice = signed_in(&app, "alice").await;
    let mut body = jane();
    body["birthday"] = json!("2025-06-15");
    assert_eq!(create(&app, &alice.access, body.clone()).await.status, 201);
    body["email"] = json!("tomorrow@example.com");
    body["birthday"] = json!("2025-06-16");
    create(&app, &alice.access, body).await.assert_422_on("birthday");
}
