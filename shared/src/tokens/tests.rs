//! The token rules of tokens.rs, kind by kind and forgery by forgery.
use super::*;
use crate::config::Deployment;
use crate::keys::{Algorithm, KeyMaterial, KeyNeeds, KeySigner, PrivateKeySet};

const ISSUER: &str = "https://api.example.com";

struct Sets {
    session: PrivateKeySet,
    link: PrivateKeySet,
}

fn sets() -> Sets {
    sets_of(Algorithm::EdDSA)
}

fn sets_of(alg: Algorithm) -> Sets {
    let now = Utc::now().timestamp() - 10;
    Sets {
        session: PrivateKeySet::first(alg, now).unwrap(),
        link: PrivateKeySet::first(Algorithm::EdDSA, now).unwrap(),
    }
}

/// A token with any header, signed by `signer` (forgeries that carry a real signature).
fn signed(header: serde_json::Value, claims: &serde_json::Value, signer: &KeySigner) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = URL_SAFE_NO_PAD.encode(signer.sign(input.as_bytes()).unwrap());
    format!("{input}.{signature}")
}

fn hs256(header: serde_json::Value, claims: &serde_json::Value, secret: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn tokens_with(sets: &Sets, needs: KeyNeeds) -> Tokens {
    let config = Config::from_lookup(Deployment::Local, |_| None).unwrap();
    let material = KeyMaterial::from_private(needs, &sets.session, &sets.link, None, None, None).unwrap();
    Tokens::new(
        &config,
        Arc::new(KeyRing::fixed(material)),
        Arc::new(crate::clock::SystemClock),
    )
}

fn tokens(sets: &Sets) -> Tokens {
    tokens_with(sets, KeyNeeds::ALL)
}

fn uid(n: i64) -> UserId {
    UserId::new(n).unwrap()
}

fn part(token: &str, i: usize) -> serde_json::Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn each_kind_is_accepted_only_where_it_belongs() {
    let t = tokens(&sets());
    let now = Utc::now();
    let access = t.issue_access(uid(1), "s1", Amr::Password, ISSUER, now).unwrap();
    let refresh = t
        .issue_refresh(uid(1), "s1", Amr::Password, now.timestamp() + 60, ISSUER, now)
        .unwrap()
        .token;
    let verify = t
        .issue_email_verification(uid(1), &Email::parse("a@example.com").unwrap(), ISSUER, now)
        .unwrap();
    let reset = t.issue_password_reset(uid(1), 0, ISSUER, now).unwrap();
    let change = t
        .issue_email_change(
            uid(1),
            &Email::parse("b@example.com").unwrap(),
            7,
            "change-1",
            ISSUER,
            now,
        )
        .unwrap();

    assert_eq!(
        t.verify_access(&access, ISSUER),
        Ok(AccessClaims {
            user_id: uid(1),
            session_id: Some("s1".to_owned()),
            scope: None,
        })
    );
    assert!(t.verify_refresh(&refresh, ISSUER).is_ok());
    assert!(t.verify_email_verification(&verify, ISSUER).is_ok());
    assert!(t.verify_password_reset(&reset, ISSUER).is_ok());
    assert_eq!(t.verify_email_change(&change, ISSUER).map(|c| c.epoch), Ok(7));
    // An email-change token is no verification token, nor the other way round.
    assert_eq!(t.verify_email_verification(&change, ISSUER), Err(InvalidToken));
    assert_eq!(t.verify_email_change(&verify, ISSUER), Err(InvalidToken));
    assert_eq!(t.verify_email_change(&reset, ISSUER), Err(InvalidToken));
    for other in [&refresh, &verify, &reset, &change] {
        assert_eq!(t.verify_access(other, ISSUER), Err(InvalidToken));
    }
    for other in [&access, &verify, &reset] {
        assert_eq!(t.verify_refresh(other, ISSUER), Err(InvalidToken));
    }
    for other in [&access, &refresh, &reset] {
        assert_eq!(t.verify_email_verification(other, ISSUER), Err(InvalidToken));
    }
    for other in [&access, &refresh, &verify] {
        assert_eq!(t.verify_password_reset(other, ISSUER), Err(InvalidToken));
    }
}

#[test]
fn every_algorithm_signs_and_verifies_and_link_tokens_stay_eddsa() {
    for alg in Algorithm::ALL {
        let t = tokens(&sets_of(alg));
        let now = Utc::now();
        let access = t.issue_access(uid(7), "s1", Amr::Password, ISSUER, now).unwrap();
        assert_eq!(part(&access, 0)["alg"], alg.name());
        assert_eq!(part(&access, 0)["typ"], "JWT");
        assert!(t.verify_access(&access, ISSUER).is_ok(), "{alg}");
        let refresh = t
            .issue_refresh(uid(7), "s1", Amr::Password, now.timestamp() + 60, ISSUER, now)
            .unwrap();
        assert!(t.verify_refresh(&refresh.token, ISSUER).is_ok(), "{alg}");
        let reset = t.issue_password_reset(uid(7), 0, ISSUER, now).unwrap();
        assert_eq!(part(&reset, 0)["alg"], "EdDSA");
        assert!(t.verify_password_reset(&reset, ISSUER).is_ok());
    }
}

#[test]
fn tokens_name_their_key_issuer_and_audience() {
    let sets = sets();
    let t = tokens(&sets);
    let now = Utc::now();
    let access = t.issue_access(uid(7), "s1", Amr::Password, ISSUER, now).unwrap();
    let header = part(&access, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], sets.session.keys[0].kid.as_str());
    let claims = part(&access, 1);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], "ucontact");
    assert_eq!(claims["sub"], "7");
    let reset = t.issue_password_reset(uid(7), 0, ISSUER, now).unwrap();
    assert_eq!(part(&reset, 0)["kid"], sets.link.keys[0].kid.as_str());
    assert_eq!(part(&reset, 1)["aud"], "ucontact:password-reset");
    // Another issuer (another base URL) is refused.
    assert_eq!(
        t.verify_access(&access, "https://elsewhere.example.com"),
        Err(InvalidToken)
    );
}

#[test]
fn a_verifying_only_holder_cannot_mint() {
    let sets = sets();
    let verifier = tokens_with(
        &sets,
        KeyNeeds {
            verify: true,
            ..KeyNeeds::NONE
        },
    );
    assert!(
        verifier
            .issue_access(uid(1), "s1", Amr::Password, ISSUER, Utc::now())
            .is_err()
    );
    let minted = tokens(&sets)
        .issue_access(uid(1), "s1", Amr::Password, ISSUER, Utc::now())
        .unwrap();
    assert!(verifier.verify_access(&minted, ISSUER).is_ok());
    // A link minter cannot make a session token either.
    let link_only = tokens_with(
        &sets,
        KeyNeeds {
            sign_link: true,
            ..KeyNeeds::NONE
        },
    );
    assert!(
        link_only
            .issue_access(uid(1), "s1", Amr::Password, ISSUER, Utc::now())
            .is_err()
    );
    assert!(
        link_only
            .issue_password_reset(uid(1), 0, ISSUER, Utc::now())
            .is_ok()
    );
}

#[test]
fn expired_tokens_are_refused_without_leeway() {
    let t = tokens(&sets());
    let issued = Utc::now() - chrono::Duration::seconds(901);
    let access = t
        .issue_access(uid(1), "s1", Amr::Password, ISSUER, issued)
        .unwrap();
    assert_eq!(t.verify_access(&access, ISSUER), Err(InvalidToken));
}

#[test]
fn forged_tokens_are_refused() {
    for alg in Algorithm::ALL {
        forgeries_are_refused(alg);
    }
}

fn forgeries_are_refused(alg: Algorithm) {
    let sets = sets_of(alg);
    let t = tokens(&sets);
    let access = t
        .issue_access(uid(1), "s1", Amr::Password, ISSUER, Utc::now())
        .unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    let header = |json: serde_json::Value| URL_SAFE_NO_PAD.encode(json.to_string());
    let kid = sets.session.keys[0].kid.clone();

    // Signed with a key nobody published.
    let other = tokens(&sets_of(alg))
        .issue_access(uid(1), "s1", Amr::Password, ISSUER, Utc::now())
        .unwrap();
    assert_eq!(t.verify_access(&other, ISSUER), Err(InvalidToken), "{alg}");

    // Payload changed to another user, signature kept.
    let payload = part(&access, 1)
        .to_string()
        .replace("\"sub\":\"1\"", "\"sub\":\"2\"");
    let tampered = URL_SAFE_NO_PAD.encode(payload);
    assert_eq!(
        t.verify_access(&format!("{}.{}.{}", parts[0], tampered, parts[2]), ISSUER),
        Err(InvalidToken)
    );

    // alg none, no signature.
    let none = header(serde_json::json!({"alg": "none", "typ": "JWT", "kid": kid}));
    assert_eq!(
        t.verify_access(&format!("{none}.{}.", parts[1]), ISSUER),
        Err(InvalidToken)
    );

    // HS256 keyed with the public key (the classic confusion attack), in every encoding of it.
    let public = &sets.session.public().unwrap()[0].jwk;
    let claims = part(&access, 1);
    let members = [&public.x, &public.y, &public.n].into_iter().flatten();
    for member in members {
        for secret in [
            member.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(member).unwrap(),
        ] {
            let forged = hs256(serde_json::json!({"alg": "HS256", "kid": kid}), &claims, &secret);
            assert_eq!(t.verify_access(&forged, ISSUER), Err(InvalidToken), "{alg}");
        }
    }

    // A genuine signature under another algorithm's name than the key's.
    let signing = sets.session.signing().unwrap();
    let key = &signing.current(Utc::now().timestamp()).unwrap().signer;
    for other in Algorithm::ALL.into_iter().filter(|other| *other != alg) {
        let token = signed(serde_json::json!({"alg": other.name(), "kid": kid}), &claims, key);
        assert_eq!(
            t.verify_access(&token, ISSUER),
            Err(InvalidToken),
            "{alg} as {other}"
        );
    }
    // The same, named right: accepted (so the refusals above are about the header).
    let genuine = signed(serde_json::json!({"alg": alg.name(), "kid": kid}), &claims, key);
    assert!(t.verify_access(&genuine, ISSUER).is_ok(), "{alg}");

    // Headers that point at or carry another key, or ask for extensions, even with a valid
    // signature of ours.
    for (name, value) in [
        ("jku", serde_json::json!("https://evil.example.com/jwks.json")),
        ("x5u", serde_json::json!("https://evil.example.com/cert.pem")),
        (
            "jwk",
            serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        ),
        ("crit", serde_json::json!(["exp"])),
    ] {
        let mut h = serde_json::json!({"alg": alg.name(), "kid": kid});
        h[name] = value;
        let token = signed(h, &claims, key);
        assert_eq!(t.verify_access(&token, ISSUER), Err(InvalidToken), "{alg} {name}");
    }

    // An unknown kid, and no kid at all.
    let token = signed(
        serde_json::json!({"alg": alg.name(), "kid": "unknown"}),
        &claims,
        key,
    );
    assert_eq!(t.verify_access(&token, ISSUER), Err(InvalidToken));
    let token = signed(serde_json::json!({"alg": alg.name()}), &claims, key);
    assert_eq!(t.verify_access(&token, ISSUER), Err(InvalidToken));

    // An access token issued in the future (so that `exp − iat` passes for years).
    let mut future = claims.clone();
    future["iat"] = serde_json::json!(Utc::now().timestamp() + 100_000_000);
    future["exp"] = serde_json::json!(Utc::now().timestamp() + 100_000_900);
    let token = signed(serde_json::json!({"alg": alg.name(), "kid": kid}), &future, key);
    assert_eq!(
        t.verify_access(&token, ISSUER),
        Err(InvalidToken),
        "{alg} future iat"
    );

    // An access token minted for longer than access tokens live.
    let mut long = claims.clone();
    long["exp"] = serde_json::json!(long["iat"].as_i64().unwrap() + 901);
    let token = signed(serde_json::json!({"alg": alg.name(), "kid": kid}), &long, key);
    assert_eq!(
        t.verify_access(&token, ISSUER),
        Err(InvalidToken),
        "{alg} lifetime"
    );

    // A link token's kid is not a session key.
    let reset = t.issue_password_reset(uid(1), 0, ISSUER, Utc::now()).unwrap();
    assert_eq!(t.verify_access(&reset, ISSUER), Err(InvalidToken));
    assert_eq!(t.verify_access("not a token", ISSUER), Err(InvalidToken));
}

#[tokio::test]
async fn a_remembered_token_stops_verifying_when_its_key_is_removed() {
    use crate::keys::{KeyStore, KeyStoreError};
    /// A key store whose session set the test can empty.
    struct Switch(Sets, std::sync::atomic::AtomicBool);
    #[async_trait::async_trait]
    impl KeyStore for Switch {
        async fn load(&self, needs: KeyNeeds) -> Result<KeyMaterial, KeyStoreError> {
            let removed = self.1.load(std::sync::atomic::Ordering::SeqCst);
            let empty = PrivateKeySet::default();
            let session = if removed { &empty } else { &self.0.session };
            Ok(KeyMaterial::from_private(
                needs,
                session,
                &self.0.link,
                None,
                None,
                None,
            )?)
        }
    }
    let store = Arc::new(Switch(sets(), false.into()));
    let ring = KeyRing::load(store.clone(), KeyNeeds::ALL, std::time::Duration::ZERO)
        .await
        .unwrap();
    let config = Config::from_lookup(Deployment::Local, |_| None).unwrap();
    let t = Tokens::new(&config, Arc::new(ring), Arc::new(crate::clock::SystemClock));
    let access = t
        .issue_access(uid(4), "s1", Amr::Password, ISSUER, Utc::now())
        .unwrap();
    assert!(t.verify_access(&access, ISSUER).is_ok());
    assert!(t.verify_access(&access, ISSUER).is_ok(), "remembered");
    store.1.store(true, std::sync::atomic::Ordering::SeqCst);
    t.ring().refresh_if_stale().await;
    assert_eq!(
        t.verify_access(&access, ISSUER),
        Err(InvalidToken),
        "its key is gone"
    );
}

#[test]
fn a_remembered_token_still_expires_and_only_its_exact_bytes_hit() {
    struct ManualClock(std::sync::Mutex<DateTime<Utc>>);
    impl Clock for ManualClock {
        fn exact(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }
    let sets = sets();
    let clock = Arc::new(ManualClock(std::sync::Mutex::new(Utc::now())));
    let config = Config::from_lookup(Deployment::Local, |_| None).unwrap();
    let material =
        KeyMaterial::from_private(KeyNeeds::ALL, &sets.session, &sets.link, None, None, None).unwrap();
    let t = Tokens::new(&config, Arc::new(KeyRing::fixed(material)), clock.clone());
    let issued = clock.now();
    let access = t
        .issue_access(uid(3), "s1", Amr::Password, ISSUER, issued)
        .unwrap();
    let unseen = t
        .issue_access(uid(3), "s1", Amr::Password, ISSUER, issued)
        .unwrap();
    assert!(t.verify_access(&access, ISSUER).is_ok());
    assert!(t.verify_access(&access, ISSUER).is_ok(), "the remembered answer");
    // Another issuer, or one byte more, is not the remembered token.
    assert_eq!(
        t.verify_access(&access, "https://other.example"),
        Err(InvalidToken)
    );
    assert_eq!(t.verify_access(&format!("{access}x"), ISSUER), Err(InvalidToken));
    // Valid while now < exp, to the millisecond: a whole-second clock would still take it
    // during all of second `exp`.
    let exp = issued + chrono::Duration::seconds(900);
    *clock.0.lock().unwrap() = exp - chrono::Duration::milliseconds(1);
    assert!(
        t.verify_access(&access, ISSUER).is_ok(),
        "a millisecond before exp"
    );
    *clock.0.lock().unwrap() = exp;
    assert_eq!(
        t.verify_access(&access, ISSUER),
        Err(InvalidToken),
        "at exp, remembered"
    );
    assert_eq!(
        t.verify_access(&unseen, ISSUER),
        Err(InvalidToken),
        "at exp, verified anew"
    );
}

#[test]
fn debug_output_shows_no_key() {
    let sets = sets();
    let secret = serde_json::to_value(&sets.session).unwrap()["keys"][0]["private_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!format!("{:?}", tokens(&sets)).contains(&secret));
}
