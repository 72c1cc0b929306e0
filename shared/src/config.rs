//! Typed settings from the environment (docs/API.md, "Configuration"), read and checked once at start.
//!
//! Every problem is reported at once, naming the variable, so that a misconfigured function fails
//! its cold start with a clear message instead of failing requests later.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use lettre::message::Mailbox;

use crate::keys::Algorithm;
use crate::keys::deployed::PUBLIC_KEYS_VAR;

/// `KEYS_SECRET_PREFIX` when unset: where the AWS key store's secrets live.
pub const DEFAULT_KEYS_SECRET_PREFIX: &str = "ucontact/keys";

/// Which transport the process serves; it decides the defaults that differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// The local server: embedded store and outbox mailer by default.
    Local,
    /// A Lambda function: the store must be named explicitly, never a silent fallback.
    Lambda,
}

/// Where users and sessions live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// The embedded SQLite database in the data directory.
    Sqlite,
    /// A DynamoDB table.
    DynamoDb { table: String },
}

/// How emails leave the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailerKind {
    /// One `.eml` file per email in `$UCONTACT_DATA_DIR/outbox/`.
    Outbox,
    /// Amazon SES v2.
    Ses,
}

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    pub access: i64,
    pub refresh: i64,
    pub email_verification: i64,
    pub password_reset: i64,
}

/// Abuse limits (docs/API.md, "Configuration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbuseSettings {
    /// Consecutive failed logins for one identifier before backoff starts.
    pub login_backoff_threshold: i64,
    /// Least seconds between two emails to one address (0: no spacing).
    pub email_throttle_seconds: i64,
    /// Most emails to one address per UTC day.
    pub email_daily_limit: i64,
}

/// The service's settings.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub store: StoreKind,
    pub mailer: MailerKind,
    pub mail_from: Mailbox,
    /// Base of the links in emails; `None` derives it from the request.
    pub public_base_url: Option<String>,
    /// `JWT_ISSUER`: the `iss` of every token; `None`: the public base URL of the request.
    pub jwt_issuer: Option<String>,
    /// `JWT_AUDIENCE`: the `aud` of access tokens.
    pub jwt_audience: String,
    /// `MFA_ISSUER`: the issuer name in `otpauth://` URIs (what an authenticator app shows).
    pub mfa_issuer: String,
    /// `WEBAUTHN_RP_ID`: the passkeys' relying party id; `None`: the host of the public base URL
    /// (`localhost` for a loopback one).
    pub webauthn_rp_id: Option<String>,
    /// `WEBAUTHN_ORIGINS`: the origins a passkey ceremony may come from; `None`: the public base
    /// URL's (locally both `localhost` and `127.0.0.1` of its port).
    pub webauthn_origins: Option<Vec<String>>,
    /// `OIDC_CLIENTS`: the apps that may sign users in through the OpenID Connect provider.
    pub oidc_clients: Vec<crate::oidc::OidcClient>,
    /// `JWT_ALGORITHM`: the algorithm of new session keys.
    pub jwt_algorithm: Algorithm,
    /// Lambda only: `PUBLIC_KEYS`, the public keys of the deployment (keys::deployed); `None`
    /// in the local server, which reads its key store.
    pub public_keys: Option<String>,
    /// `KEYS_SECRET_PREFIX` (with `STORE=dynamodb`): the Secrets Manager names of the key sets.
    pub keys_secret_prefix: String,
    /// `KEYS_REFRESH_SECONDS`: how often a running process rereads its keys (a rotation reaches
    /// warm instances within it).
    pub keys_refresh_seconds: i64,
    pub lifetimes: TokenLifetimes,
    pub bcrypt_cost: u32,
    /// `LOGIN_BACKOFF_THRESHOLD`, `EMAIL_THROTTLE_SECONDS`, `EMAIL_DAILY_LIMIT`.
    pub abuse: AbuseSettings,
    /// `AWS_ENDPOINT_URL` (local server only): an emulator for DynamoDB and SES; missing
    /// resources are created there at start. (The SDK itself reads the variable in both
    /// deployments.)
    pub aws_endpoint_url: Option<String>,
    /// `UCONTACT_FAKE_NOW` (local only): the clock starts at this instant, then runs normally.
    pub fake_now: Option<chrono::DateTime<chrono::Utc>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("store", &self.store)
            .field("mailer", &self.mailer)
            .field("mail_from", &self.mail_from.to_string())
            .field("public_base_url", &self.public_base_url)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("mfa_issuer", &self.mfa_issuer)
            .field("webauthn_rp_id", &self.webauthn_rp_id)
            .field("webauthn_origins", &self.webauthn_origins)
            .field("oidc_clients", &self.oidc_clients)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .field("keys_secret_prefix", &self.keys_secret_prefix)
            .field("keys_refresh_seconds", &self.keys_refresh_seconds)
            .field("lifetimes", &self.lifetimes)
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("abuse", &self.abuse)
            .field("aws_endpoint_url", &self.aws_endpoint_url)
            .field("fake_now", &self.fake_now)
            .finish()
    }
}

/// Everything wrong with the environment, one line per variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  {}", .problems.join("\n  "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Whether `url` can be the base of links and of the issuer: http(s), a host, no query, fragment
/// or whitespace (each would end up inside every link and `jwks_uri`).
fn base_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    !host.is_empty() && !url.contains(['?', '#']) && !url.chars().any(char::is_whitespace)
}

/// `UCONTACT_DATA_DIR`, default `.ucontact`.
pub fn data_dir(lookup: &impl Fn(&str) -> Option<String>) -> PathBuf {
    PathBuf::from(
        lookup("UCONTACT_DATA_DIR")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| ".ucontact".into()),
    )
}

impl Config {
    /// Reads the process environment.
    pub fn from_env(deployment: Deployment) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_lookup(deployment, |name| vars.get(name).cloned())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(
        deployment: Deployment,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let data_dir = data_dir(&lookup);

        let store = match (get("STORE").as_deref(), deployment) {
            (Some("sqlite"), _) | (None, Deployment::Local) => Some(StoreKind::Sqlite),
            (Some("dynamodb"), _) => match get("TABLE_NAME") {
                Some(table) => Some(StoreKind::DynamoDb { table }),
                None => {
                    problems.push("TABLE_NAME: required with STORE=dynamodb".into());
                    None
                }
            },
            (None, Deployment::Lambda) => {
                problems.push("STORE: required in Lambda (sqlite or dynamodb)".into());
                None
            }
            (Some(other), _) => {
                problems.push(format!("STORE: expected sqlite or dynamodb, got {other:?}"));
                None
            }
        };
        let mailer = match get("MAILER").as_deref() {
            None | Some("outbox") => Some(MailerKind::Outbox),
            Some("ses") => Some(MailerKind::Ses),
            Some(other) => {
                problems.push(format!("MAILER: expected outbox or ses, got {other:?}"));
                None
            }
        };
        let mail_from = get("MAIL_FROM")
            .unwrap_or_else(|| "UContact <noreply@localhost>".into())
            .parse::<Mailbox>()
            .map_err(|e| problems.push(format!("MAIL_FROM: not a mailbox ({e})")))
            .ok();
        let public_base_url = match get("PUBLIC_BASE_URL") {
            None => None,
            Some(url) if base_url(&url) => Some(url.trim_end_matches('/').to_owned()),
            Some(_) => {
                problems.push(
                    "PUBLIC_BASE_URL: must be an http:// or https:// URL with a host and no query, fragment or spaces".into(),
                );
                None
            }
        };
        // The HMAC secret is gone: tokens are signed with the signing keys. A stale setting is
        // reported rather than ignored, so nobody believes their secret still signs.
        if get("JWT_SECRET").is_some() {
            problems.push(
                "JWT_SECRET: no longer used: tokens are signed with asymmetric keys (docs/API.md, \"Signing keys\"); unset it".into(),
            );
        }
        let jwt_algorithm = match get("JWT_ALGORITHM").as_deref().map(str::trim) {
            None | Some("") => Algorithm::EdDSA,
            Some(name) => Algorithm::from_name(name).unwrap_or_else(|| {
                problems.push(format!(
                    "JWT_ALGORITHM: expected EdDSA, ES256 or RS256 (never HMAC), got {name:?}"
                ));
                Algorithm::EdDSA
            }),
        };
        // Deployed, the public keys come with the deployment (keys::deployed).
        let public_keys = match deployment {
            Deployment::Lambda => Some(get(PUBLIC_KEYS_VAR).unwrap_or_default()),
            Deployment::Local => None,
        };
        let jwt_issuer = get("JWT_ISSUER").map(|v| v.trim().to_owned());
        let jwt_audience = get("JWT_AUDIENCE")
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "ucontact".into());
        let mfa_issuer = get("MFA_ISSUER")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "UContact".into());
        let webauthn_rp_id = get("WEBAUTHN_RP_ID").map(|v| v.trim().to_ascii_lowercase());
        if let Some(rp_id) = &webauthn_rp_id
            && (rp_id.contains(['/', ':', ' ']) || rp_id.starts_with('.') || rp_id.ends_with('.'))
        {
            problems.push(format!(
                "WEBAUTHN_RP_ID: expected a domain (like example.com), got {rp_id:?}"
            ));
        }
        let oidc_clients = match get("OIDC_CLIENTS") {
            None => Vec::new(),
            Some(json) => crate::oidc::parse_clients(&json).unwrap_or_else(|problem| {
                problems.push(problem);
                Vec::new()
            }),
        };
        // An ID token's `aud` is its client: a client named as the access tokens' audience (or
        // one of the service's own token audiences) would mint ID tokens that pass for them.
        if let Some(client) = oidc_clients
            .iter()
            .find(|c| c.client_id == jwt_audience || c.client_id.starts_with(&format!("{jwt_audience}:")))
        {
            problems.push(format!(
                "OIDC_CLIENTS: client_id {:?} is JWT_AUDIENCE or one of its token kinds: its ID tokens would pass for access tokens",
                client.client_id
            ));
        }
        let webauthn_origins = get("WEBAUTHN_ORIGINS").map(|list| {
            let origins: Vec<String> = list
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect();
            for origin in &origins {
                let is_origin = url::Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "https" | "http")
                        && u.host_str().is_some()
                        && u.path() == "/"
                        && u.query().is_none()
                });
                if !is_origin {
                    problems.push(format!(
                        "WEBAUTHN_ORIGINS: {origin:?} is no origin (scheme://host[:port], comma-separated)"
                    ));
                }
            }
            origins
        });
        let keys_secret_prefix = get("KEYS_SECRET_PREFIX")
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_KEYS_SECRET_PREFIX.into());
        let mut number = |name: &str, default: i64, min: i64, max: i64| -> i64 {
            match get(name).map(|v| i64::from_str(v.trim())) {
                None => default,
                Some(Ok(v)) if (min..=max).contains(&v) => v,
                Some(_) => {
                    problems.push(format!("{name}: expected a whole number from {min} to {max}"));
                    default
                }
            }
        };
        const YEAR: i64 = 366 * 24 * 3600;
        let lifetimes = TokenLifetimes {
            access: number("ACCESS_JWT_EXPIRATION_SECONDS", 900, 1, YEAR),
            refresh: number("REFRESH_JWT_EXPIRATION_SECONDS", 604_800, 1, YEAR),
            email_verification: number("EMAIL_TOKEN_EXPIRATION_SECONDS", 604_800, 1, YEAR),
            password_reset: number("RESET_TOKEN_EXPIRATION_SECONDS", 900, 1, YEAR),
        };
        let bcrypt_cost = number("BCRYPT_COST", 12, 4, 31) as u32;
        let keys_refresh_seconds = number("KEYS_REFRESH_SECONDS", 300, 1, 24 * 3600);
        let abuse = AbuseSettings {
            login_backoff_threshold: number("LOGIN_BACKOFF_THRESHOLD", 5, 1, 1000),
            email_throttle_seconds: number("EMAIL_THROTTLE_SECONDS", 60, 0, 24 * 3600),
            email_daily_limit: number("EMAIL_DAILY_LIMIT", 10, 1, 10_000),
        };
        // Only the local server provisions an emulator; a Lambda function never creates
        // resources, and never spends its cold start checking for them.
        let aws_endpoint_url = match deployment {
            Deployment::Local => get("AWS_ENDPOINT_URL"),
            Deployment::Lambda => None,
        };
        let fake_now = match (get("UCONTACT_FAKE_NOW"), deployment) {
            (None, _) => None,
            (Some(_), Deployment::Lambda) => {
                problems.push("UCONTACT_FAKE_NOW: only the local server takes a fake clock".into());
                None
            }
            (Some(value), Deployment::Local) => match chrono::DateTime::parse_from_rfc3339(value.trim()) {
                Ok(at) => Some(at.with_timezone(&chrono::Utc)),
                Err(_) => {
                    problems.push(
                        "UCONTACT_FAKE_NOW: expected an RFC 3339 instant like 2025-12-30T12:00:00Z".into(),
                    );
                    None
                }
            },
        };

        match (store, mailer, mail_from) {
            (Some(store), Some(mailer), Some(mail_from)) if problems.is_empty() => Ok(Config {
                data_dir,
                store,
                mailer,
                mail_from,
                public_base_url,
                jwt_issuer,
                jwt_audience,
                mfa_issuer,
                webauthn_rp_id,
                webauthn_origins,
                oidc_clients,
                jwt_algorithm,
                public_keys,
                keys_secret_prefix,
                keys_refresh_seconds,
                lifetimes,
                bcrypt_cost,
                abuse,
                aws_endpoint_url,
                fake_now,
            }),
            _ => Err(ConfigError { problems }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(deployment: Deployment, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(deployment, |name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(Deployment::Local, &[]).unwrap();
        assert_eq!(c.store, StoreKind::Sqlite);
        assert_eq!(c.mailer, MailerKind::Outbox);
        assert_eq!(c.jwt_issuer, None);
        assert_eq!(c.jwt_audience, "ucontact");
        assert_eq!(c.keys_refresh_seconds, 300);
        assert_eq!(c.bcrypt_cost, 12);
        assert_eq!(
            c.abuse,
            AbuseSettings {
                login_backoff_threshold: 5,
                email_throttle_seconds: 60,
                email_daily_limit: 10
            }
        );
        assert_eq!(
            c.lifetimes,
            TokenLifetimes {
                access: 900,
                refresh: 604_800,
                email_verification: 604_800,
                password_reset: 900
            }
        );
        assert_eq!(c.mail_from.email.to_string(), "noreply@localhost");
        assert_eq!(c.data_dir, PathBuf::from(".ucontact"));
    }

    #[test]
    fn a_leftover_hmac_setting_refuses_to_start() {
        let err = config(
            Deployment::Local,
            &[("JWT_SECRET", "an-old-secret-of-32-bytes-or-more!!")],
        )
        .unwrap_err();
        assert!(err.problems[0].starts_with("JWT_SECRET"), "{err}");
        assert!(!err.to_string().contains("an-old-secret"));
        for bad in [
            "http://x.example/?a=b",
            "https://x.example/#c",
            "https://",
            "https://a b.example",
        ] {
            let err = config(Deployment::Local, &[("PUBLIC_BASE_URL", bad)]).unwrap_err();
            assert!(err.problems[0].starts_with("PUBLIC_BASE_URL"), "{bad}: {err}");
        }
        for alg in ["EdDSA", "ES256", "RS256"] {
            assert_eq!(
                config(Deployment::Local, &[("JWT_ALGORITHM", alg)])
                    .unwrap()
                    .jwt_algorithm
                    .name(),
                alg
            );
        }
        let err = config(Deployment::Local, &[("JWT_ALGORITHM", "HS256")]).unwrap_err();
        assert!(err.problems[0].starts_with("JWT_ALGORITHM"), "{err}");
        assert!(config(Deployment::Local, &[("JWT_ALGORITHM", "EdDSA")]).is_ok());
    }

    #[test]
    fn every_problem_is_reported_at_once_and_the_secret_never_is() {
        let err = config(
            Deployment::Local,
            &[
                ("JWT_SECRET", "short-secret-value"),
                ("BCRYPT_COST", "99"),
                ("JWT_ALGORITHM", "none"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(!err.to_string().contains("short-secret-value"));
    }

    #[test]
    fn lambda_never_falls_back_to_the_embedded_store() {
        let err = config(Deployment::Lambda, &[]).unwrap_err();
        assert!(err.problems[0].starts_with("STORE"), "{err}");
        let err = config(Deployment::Lambda, &[("STORE", "dynamodb")]).unwrap_err();
        assert!(err.problems[0].starts_with("TABLE_NAME"), "{err}");
    }

    #[test]
    fn the_key_store_settings_have_defaults_and_bounds() {
        let c = config(
            Deployment::Local,
            &[
                ("KEYS_REFRESH_SECONDS", "60"),
                ("JWT_ISSUER", "https://id.example.com"),
            ],
        )
        .unwrap();
        assert_eq!(c.keys_refresh_seconds, 60);
        assert_eq!(c.jwt_issuer.as_deref(), Some("https://id.example.com"));
        assert_eq!(c.keys_secret_prefix, DEFAULT_KEYS_SECRET_PREFIX);
        assert!(config(Deployment::Local, &[("KEYS_REFRESH_SECONDS", "0")]).is_err());
    }
}
