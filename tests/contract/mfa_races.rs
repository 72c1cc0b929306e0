//! Races of the second factors (docs/API.md, "Second factors and passkeys": a code is good once),
//! with real concurrency against the running server, on whichever store
//! `UCONTACT_TEST_BACKEND` names: one TOTP code, or one recovery code, sent by several logins at
//! once lets exactly one in; one code given to two concurrent `totp-disable` / `recovery-codes`
//! calls changes the account at most once. What each race must leave is checked after every
//! round; the figures printed say how the rounds went, since which interleaving a round got only
//! the server saw.

use futures_util::future::join_all;
use serde_json::json;
use ucontact_tests::{Answer, PASSWORD, Server, Settings, tokens_of};

use crate::account::assert_401;
use crate::mfa::{
    Enrolled, INVALID_CODE, OFF, amr, enrolled, login_otp, mfa_status, new_recovery_codes, recovery_codes_of,
    status, totp_disable, turned_off_notices,
};

/// A bcrypt slow enough (tens of milliseconds a hash) that requests checking the password first
/// reach their code check together; no backoff, since the concurrent failures here are not abuse.
fn racing() -> Settings {
    Settings::default()
        .with("BCRYPT_COST", "10")
        .with("LOGIN_BACKOFF_THRESHOLD", "1000")
}

/// Concurrent logins per round.
const LOGINS: usize = 4;

/// The statuses of a round's answers, for failure messages.
fn statuses(answers: &[Answer]) -> Vec<(u16, &str)> {
    answers.iter().map(|a| (a.status, a.text.as_str())).collect()
}

/// Exactly one of `answers` is a login (with `amr` `["pwd", "otp"]`), every other one 401
/// "Invalid two-factor code"; returns how many were refused.
#[track_caller]
fn assert_one_got_in(answers: &[Answer], round: &str) -> usize {
    let winners: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(winners.len(), 1, "{round}: {:?}", statuses(answers));
    assert_eq!(
        amr(&tokens_of(winners[0]).access),
        json!(["pwd", "otp"]),
        "{round}"
    );
    let losers: Vec<&Answer> = answers.iter().filter(|a| a.status != 200).collect();
    for loser in &losers {
        assert_401(loser, INVALID_CODE, round);
    }
    losers.len()
}

#[tokio::test]
async fn concurrent_logins_with_one_totp_code_let_exactly_one_in() {
    // A user per round: each has three steps to spend at once (now-1, now, now+1), no waiting.
    const ROUNDS: usize = 3;
    let app = Server::start_with(racing()).await;
    let mut refused = 0;
    for round in 1..=ROUNDS {
        let mut user = enrolled(&app, &format!("totp-racer{round}")).await;
        let code = user.authenticator.next_code().await;
        let answers =
            join_all((0..LOGINS).map(|_| login_otp(&app, &user.username, PASSWORD, Some(&code)))).await;
        refused += assert_one_got_in(&answers, &format!("round {round}"));
        // The code stays spent; the next step's is good.
        let again = login_otp(&app, &user.username, PASSWORD, Some(&code)).await;
        assert_401(
            &again,
            INVALID_CODE,
            &format!("round {round}: the code once more"),
        );
        let next = user.authenticator.next_code().await;
        tokens_of(&login_otp(&app, &user.username, PASSWORD, Some(&next)).await);
    }
    eprintln!(
        "TOTP login race: {ROUNDS} rounds of {LOGINS} concurrent logins with one code: one got in each round, {refused} answered 401"
    );
}

#[tokio::test]
async fn concurrent_logins_with_one_recovery_code_let_exactly_one_in() {
    const ROUNDS: usize = 4;
    let app = Server::start_with(racing()).await;
    let user = enrolled(&app, "johndoe").await;
    let mut refused = 0;
    for (round, code) in user.recovery_codes.iter().take(ROUNDS).enumerate() {
        let answers = join_all((0..LOGINS).map(|_| login_otp(&app, "johndoe", PASSWORD, Some(code)))).await;
        refused += assert_one_got_in(&answers, &format!("round {}", round + 1));
        let again = login_otp(&app, "johndoe", PASSWORD, Some(code)).await;
        assert_401(
            &again,
            INVALID_CODE,
            &format!("round {}: the code once more", round + 1),
        );
    }
    // One code spent per round, not more.
    assert_eq!(
        mfa_status(&app, &user.tokens.access).await,
        status(true, 10 - ROUNDS as u64)
    );
    eprintln!(
        "recovery-code login race: {ROUNDS} rounds of {LOGINS} concurrent logins with one code: one got in each round, {refused} answered 401"
    );
}

/// A call that spends a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    /// `totp-disable`: 204.
    Disable,
    /// `recovery-codes`: 200 and ten new codes.
    NewRecoveryCodes,
}

impl Call {
    async fn send(self, app: &Server, user: &Enrolled, code: &str) -> Answer {
        match self {
            Call::Disable => totp_disable(app, &user.tokens.access, PASSWORD, Some(code)).await,
            Call::NewRecoveryCodes => {
                new_recovery_codes(app, &user.tokens.access, PASSWORD, Some(code)).await
            }
        }
    }

    fn succeeded(self, answer: &Answer) -> bool {
        match self {
            Call::Disable => answer.status == 204,
            Call::NewRecoveryCodes => answer.status == 200,
        }
    }
}

#[tokio::test]
async fn one_code_on_concurrent_totp_disable_and_recovery_codes_calls_changes_the_account_at_most_once() {
    let app = Server::start_with(racing()).await;
    let pairs = [
        (Call::Disable, Call::Disable),
        (Call::Disable, Call::NewRecoveryCodes),
        (Call::NewRecoveryCodes, Call::NewRecoveryCodes),
    ];
    let mut outcomes = Vec::new();
    let mut round = 0;
    for (first, second) in pairs {
        for by_recovery_code in [false, true] {
            round += 1;
            let what = format!(
                "round {round}: {first:?} and {second:?}, by a {} code",
                if by_recovery_code { "recovery" } else { "TOTP" }
            );
            // A user per round: a disable that wins leaves nothing for the next round.
            let mut user = enrolled(&app, &format!("racer{round}")).await;
            let code = if by_recovery_code {
                user.recovery_codes[0].clone()
            } else {
                user.authenticator.next_code().await
            };
            let (a, b) = tokio::join!(first.send(&app, &user, &code), second.send(&app, &user, &code));
            let answers = [(first, &a), (second, &b)];
            let winners: Vec<(Call, &Answer)> = answers
                .iter()
                .filter(|(call, answer)| call.succeeded(answer))
                .map(|(call, answer)| (*call, *answer))
                .collect();
            assert!(winners.len() <= 1, "{what}: {a:?} {b:?}");
            let winner = winners.first().copied();
            let disabled = winner.is_some_and(|(call, _)| call == Call::Disable);
            // The other one found the code spent, or (after a disable) TOTP off.
            for (call, answer) in answers {
                if !call.succeeded(answer) {
                    if disabled && answer.status == 409 {
                        answer.assert_detail(409, OFF);
                    } else {
                        answer.assert_detail(400, INVALID_CODE);
                    }
                }
            }

            // The account holds what the winner did, and only that.
            assert_eq!(
                turned_off_notices(&app, &user.email).await,
                usize::from(disabled),
                "{what}"
            );
            let now = mfa_status(&app, &user.tokens.access).await;
            match winner {
                Some((Call::Disable, _)) => {
                    assert_eq!(now, status(false, 0), "{what}");
                    let login = tokens_of(&app.login(&user.username, PASSWORD).await);
                    assert_eq!(amr(&login.access), json!(["pwd"]), "{what}");
                }
                Some((Call::NewRecoveryCodes, answer)) => {
                    let fresh = recovery_codes_of(answer);
                    assert_eq!(now, status(true, 10), "{what}");
                    let old = login_otp(&app, &user.username, PASSWORD, Some(&user.recovery_codes[1])).await;
                    assert_401(&old, INVALID_CODE, &format!("{what}: an old recovery code"));
                    tokens_of(&login_otp(&app, &user.username, PASSWORD, Some(&fresh[0])).await);
                }
                None => assert_eq!(
                    now,
                    status(true, 10),
                    "{what}: nothing went through, nothing changed"
                ),
            }
            outcomes.push(format!(
                "{first:?}+{second:?} ({}): {}",
                if by_recovery_code { "recovery" } else { "TOTP" },
                winner.map_or_else(|| "none".to_owned(), |(call, _)| format!("{call:?} won"))
            ));
        }
    }
    eprintln!(
        "disable / recovery-codes race: one code on two concurrent calls, {round} rounds: {}",
        outcomes.join("; ")
    );
}

#[tokio::test]
async fn concurrent_regenerations_each_with_another_code_of_one_set_replace_it_once() {
    let app = Server::start_with(racing()).await;
    for round in 0..3 {
        let user: Enrolled = enrolled(&app, &format!("regen{round}")).await;
        let access = &user.tokens.access;
        // Four different codes of the same set: serially, the first regeneration would kill the
        // other three (they belong to the old set).
        let answers = join_all(
            user.recovery_codes[..LOGINS]
                .iter()
                .map(|code| new_recovery_codes(&app, access, PASSWORD, Some(code))),
        )
        .await;
        let winners: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {:?}", statuses(&answers));
        for loser in answers.iter().filter(|a| a.status != 200) {
            loser.assert_detail(400, INVALID_CODE);
        }
        // The winner's set is the set: ten left, and one of them works.
        let fresh = recovery_codes_of(winners[0]);
        assert_eq!(mfa_status(&app, access).await, status(true, 10), "round {round}");
        tokens_of(&login_otp(&app, &user.username, PASSWORD, Some(&fresh[0])).await);
        for old in &user.recovery_codes {
            login_otp(&app, &user.username, PASSWORD, Some(old))
                .await
                .assert_detail(401, INVALID_CODE);
        }
    }
}
