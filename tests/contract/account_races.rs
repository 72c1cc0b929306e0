//! Races of the account routes (docs/API.md, "Account"), with real concurrency against the
//! running server, on whichever store `UCONTACT_TEST_BACKEND` names: one address confirmed by two
//! users at once, logins racing a delete-account, a refresh racing the revocation of its session,
//! and concurrent password changes. What each race must leave is checked after every round; the
//! figures printed say how the rounds went (which side won), since which interleaving a round got
//! only the server saw.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use ucontact_tests::{PASSWORD, Server, Settings, tokens_of};

use crate::account::{
    BAD_LOGIN, BAD_REFRESH, INCORRECT, INVALID_CREDENTIALS, TAKEN, change_email, change_password,
    confirm_email_change, create_contact, delete_account, email_change_token, list_sessions, login_as, me,
    revoke_session, session_id_of,
};

/// A bcrypt slow enough (tens of milliseconds a hash) that requests overlap in the server; no
/// backoff, since the concurrent failures here are not abuse.
fn racing() -> Settings {
    Settings::default()
        .with("BCRYPT_COST", "10")
        .with("LOGIN_BACKOFF_THRESHOLD", "1000")
}

#[tokio::test]
async fn two_users_confirming_a_change_to_one_address_get_one_200_and_one_409() {
    const ROUNDS: usize = 4;
    let app = Server::start().await;
    let users = ["alice", "bob"];
    let mut emails = ["alice@example.com".to_owned(), "bob@example.com".to_owned()];
    for (user, email) in users.iter().zip(&emails) {
        app.verified_user(user, email).await;
    }
    let mut wins = [0usize; 2];
    for round in 1..=ROUNDS {
        let shared = format!("shared-{round}@example.com");
        let mut sessions = Vec::new();
        let mut links = Vec::new();
        for user in users {
            let tokens = app.tokens(user).await;
            let answer = change_email(&app, &tokens.access, &shared, PASSWORD).await;
            assert_eq!(answer.status, 202, "{user}: {}", answer.text);
            links.push(email_change_token(&app, &shared).await);
            sessions.push(tokens);
        }
        assert_ne!(links[0], links[1], "one link each");

        let (first, second) = tokio::join!(
            confirm_email_change(&app, &links[0]),
            confirm_email_change(&app, &links[1])
        );
        let answers = [first, second];
        let winners: Vec<usize> = (0..2).filter(|&i| answers[i].status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        let (winner, loser) = (winners[0], 1 - winners[0]);
        assert_eq!(
            answers[winner].json(),
            json!({"message": "Email changed successfully"})
        );
        answers[loser].assert_detail(409, TAKEN);
        wins[winner] += 1;

        // Exactly one has the address: the winner, verified, whose sessions ended; the loser
        // keeps their address and their session.
        let winner_now = me(&app, &app.tokens(users[winner]).await.access).await;
        assert_eq!(
            (&winner_now["email"], &winner_now["is_verified"]),
            (&json!(shared.as_str()), &json!(true)),
            "round {round}"
        );
        app.refresh(&sessions[winner].refresh)
            .await
            .assert_detail(401, BAD_REFRESH);
        let loser_now = me(&app, &sessions[loser].access).await;
        assert_eq!(loser_now["email"], emails[loser].as_str(), "round {round}");
        tokens_of(&app.refresh(&sessions[loser].refresh).await);
        let by_address = tokens_of(&app.login(&shared, PASSWORD).await);
        assert_eq!(me(&app, &by_address.access).await["username"], users[winner]);
        tokens_of(&app.login(&emails[loser], PASSWORD).await);
        app.login(&emails[winner], PASSWORD)
            .await
            .assert_detail(401, BAD_LOGIN);
        emails[winner] = shared;
    }
    eprintln!(
        "email-change race: {ROUNDS} rounds of two concurrent confirmations of one address: alice won {}, bob won {}, the other got 409 each time",
        wins[0], wins[1]
    );
}

#[tokio::test]
async fn no_login_racing_a_delete_account_leaves_a_working_token() {
    const ROUNDS: usize = 3;
    const LOGINS: usize = 8;
    let app = Server::start_with(racing()).await;
    let (mut sessions_got, mut refused) = (0, 0);
    for round in 1..=ROUNDS {
        let username = format!("doomed{round}");
        let email = format!("{username}@example.com");
        app.verified_user(&username, &email).await;
        let signed_in = app.tokens(&username).await;

        // Half the logins start before the delete, half after it has begun.
        let early = join_all((0..LOGINS / 2).map(|_| app.login(&username, PASSWORD)));
        let delete = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            delete_account(&app, &signed_in.access, PASSWORD).await
        };
        let late = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            join_all((0..LOGINS / 2).map(|_| app.login(&username, PASSWORD))).await
        };
        let (early, delete, late) = tokio::join!(early, delete, late);
        assert_eq!((delete.status, delete.text.as_str()), (204, ""), "round {round}");

        for login in early.iter().chain(&late) {
            match login.status {
                200 => {
                    sessions_got += 1;
                    let tokens = tokens_of(login);
                    app.refresh(&tokens.refresh).await.assert_detail(401, BAD_REFRESH);
                    app.get_with_token("/api/users/me", &tokens.access)
                        .await
                        .assert_detail(401, INVALID_CREDENTIALS);
                    create_contact(&app, &tokens.access, "friend@example.com")
                        .await
                        .assert_detail(401, INVALID_CREDENTIALS);
                }
                401 => {
                    refused += 1;
                    login.assert_detail(401, BAD_LOGIN);
                }
                other => {
                    let log = app.log();
                    let errors: Vec<&str> = log.lines().filter(|l| l.contains("\"ERROR\"")).collect();
                    panic!(
                        "round {round}: a login answered {other}: {}\n{errors:#?}",
                        login.text
                    )
                }
            }
        }
        app.refresh(&signed_in.refresh)
            .await
            .assert_detail(401, BAD_REFRESH);
        app.get_with_token("/api/users/me", &signed_in.access)
            .await
            .assert_detail(401, INVALID_CREDENTIALS);
        for identifier in [username.as_str(), email.as_str()] {
            app.login(identifier, PASSWORD)
                .await
                .assert_detail(401, BAD_LOGIN);
        }
    }
    eprintln!(
        "delete race: {ROUNDS} rounds of {LOGINS} logins around a delete-account: {sessions_got} got tokens (all dead afterwards), {refused} refused"
    );
}

#[tokio::test]
async fn a_refresh_racing_the_revocation_of_its_session_keeps_nothing_alive() {
    const ROUNDS: usize = 10;
    let app = Server::start().await;
    app.verified_user("johndoe", "john@example.com").await;
    let keeper = tokens_of(&login_as(&app, "johndoe", PASSWORD, "agent-keeper").await);
    let mut rotated_first = 0;
    for round in 1..=ROUNDS {
        let agent = format!("agent-target-{round}");
        let target = tokens_of(&login_as(&app, "johndoe", PASSWORD, &agent).await);
        let id = session_id_of(&list_sessions(&app, &keeper.access).await, &agent);

        let (revoke, refresh) = tokio::join!(
            revoke_session(&app, &keeper.access, &id),
            app.refresh(&target.refresh)
        );
        // The session existed when the revocation came, whichever went first.
        assert_eq!((revoke.status, revoke.text.as_str()), (204, ""), "round {round}");
        assert!(
            list_sessions(&app, &keeper.access)
                .await
                .iter()
                .all(|s| s["id"] != id.as_str()),
            "round {round}: the revoked session is still listed"
        );
        // The rotated token first: presenting the retired one would end the session by reuse
        // detection and hide a rotation that outlived the revocation.
        match refresh.status {
            200 => {
                rotated_first += 1;
                let rotated = tokens_of(&refresh);
                app.refresh(&rotated.refresh)
                    .await
                    .assert_detail(401, BAD_REFRESH);
            }
            _ => refresh.assert_detail(401, BAD_REFRESH),
        }
        app.refresh(&target.refresh).await.assert_detail(401, BAD_REFRESH);
    }
    // The revoker's own session lives on.
    let listed = list_sessions(&app, &keeper.access).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    tokens_of(&app.refresh(&keeper.refresh).await);
    eprintln!(
        "revoke race: {ROUNDS} refreshes each racing the revocation of its session: {rotated_first} rotated before it, none alive after"
    );
}

#[tokio::test]
async fn concurrent_password_changes_with_the_right_password_let_exactly_one_through() {
    const ROUNDS: usize = 3;
    const CHANGES: usize = 4;
    let app = Server::start_with(racing()).await;
    app.verified_user("johndoe", "john@example.com").await;
    let mut current = PASSWORD.to_owned();
    let mut refused = 0;
    for round in 1..=ROUNDS {
        let tokens = tokens_of(&app.login("johndoe", &current).await);
        let candidates: Vec<String> = (0..CHANGES)
            .map(|i| format!("round-{round}-passphrase-{i}"))
            .collect();
        let answers = join_all(
            candidates
                .iter()
                .map(|new| change_password(&app, &tokens.access, &current, new)),
        )
        .await;
        let winners: Vec<usize> = (0..CHANGES).filter(|&i| answers[i].status == 200).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {:?}",
            answers.iter().map(|a| (a.status, &a.text)).collect::<Vec<_>>()
        );
        let winner = winners[0];
        for (i, answer) in answers.iter().enumerate() {
            if i != winner {
                answer.assert_detail(400, INCORRECT);
                refused += 1;
            }
        }
        // The winner's pair works.
        let pair = tokens_of(&answers[winner]);
        assert_eq!(me(&app, &pair.access).await["username"], "johndoe");
        tokens_of(&app.refresh(&pair.refresh).await);
        // Exactly the winner's password logs in: not the old one, none of the others.
        for (i, candidate) in candidates.iter().enumerate() {
            let login = app.login("johndoe", candidate).await;
            if i == winner {
                tokens_of(&login);
            } else {
                login.assert_detail(401, BAD_LOGIN);
            }
        }
        app.login("johndoe", &current).await.assert_detail(401, BAD_LOGIN);
        current = candidates[winner].clone();
    }
    eprintln!(
        "password race: {ROUNDS} rounds of {CHANGES} concurrent changes with the right password: one went through each round, {refused} answered 400"
    );
}
