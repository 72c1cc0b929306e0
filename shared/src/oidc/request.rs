//! An authorization request (`GET /oauth2/authorize`'s query, carried on through the sign-in
//! page's hidden fields), checked in the order docs/API.md gives: an unknown client or an
//! unregistered redirect URI is never redirected to; every other error goes back to the client.

use crate::oidc::OidcClient;

/// The scopes served (docs/API.md): `openid` is required.
pub const SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];

/// `prompt` (OpenID Connect Core 3.1.2.1): the two values served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Show the sign-in page even with a live sign-in session.
    Login,
    /// Never show a page: a code, or `login_required`.
    None,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: OidcClient,
    pub redirect_uri: String,
    /// The requested scopes, space-separated, each once, `openid` among them.
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Option<Prompt>,
    /// `max_age` (OpenID Connect Core 3.1.2.1): a sign-in older than this many seconds is asked
    /// again.
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// Unknown client or unregistered redirect URI: a 400 page, no redirect.
    Page(&'static str),
    /// Anything else: back to the client's redirect URI with `error`.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
}

/// The most characters of `state`, `nonce` and `login_hint` taken.
const MAX_PARAMETER_CHARS: usize = 512;

/// The largest `max_age` taken: ten years.
const MAX_AGE_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// The names of the request's parameters, as the sign-in page carries them.
pub const PARAMETERS: [&str; 12] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "response_mode",
    "login_hint",
];

impl AuthorizationRequest {
    /// Checks the parameters (`pairs`: every name and value given; other names are ignored, as
    /// OAuth 2.0 asks).
    pub fn parse(clients: &[OidcClient], pairs: &[(String, String)]) -> Result<Self, RequestError> {
        let values = |name: &str| -> Vec<&str> {
            pairs
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let single = |name: &str| -> Result<Option<&str>, ()> {
            match values(name).as_slice() {
                [] => Ok(None),
                [""] => Ok(None),
                [one] => Ok(Some(*one)),
                _ => Err(()),
            }
        };
        let client = match single("client_id") {
            Ok(Some(id)) => clients
                .iter()
                .find(|c| c.client_id == id)
                .ok_or(RequestError::Page(
                    "This app is not registered with UContact (unknown client_id).",
                ))?,
            Ok(None) => return Err(RequestError::Page("The app sent no client_id.")),
            Err(()) => return Err(RequestError::Page("The app sent client_id twice.")),
        };
        let redirect_uri = match single("redirect_uri") {
            Ok(Some(uri)) if client.redirects_to(uri) => uri.to_owned(),
            Ok(Some(_)) => {
                return Err(RequestError::Page(
                    "The app asked to return to an address it has not registered (redirect_uri).",
                ));
            }
            Ok(None) => return Err(RequestError::Page("The app sent no redirect_uri.")),
            Err(()) => return Err(RequestError::Page("The app sent redirect_uri twice.")),
        };
        // From here on, errors go back to the app. `state` first, so that they carry it (unless
        // it is too long to send back).
        let given_state = single("state").ok().flatten();
        let state_too_long = given_state.is_some_and(|s| s.chars().count() > MAX_PARAMETER_CHARS);
        let state = given_state.filter(|_| !state_too_long).map(str::to_owned);
        let fail = |error: &'static str, description: &'static str| RequestError::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description,
        };
        let invalid = |description| fail("invalid_request", description);
        for name in PARAMETERS {
            if values(name).len() > 1 {
                return Err(invalid("A parameter is repeated"));
            }
        }
        if state_too_long {
            return Err(invalid("state is too long"));
        }
        match single("response_mode").unwrap_or(None) {
            None | Some("query") => {}
            Some(_) => return Err(invalid("Only response_mode=query is supported")),
        }
        let max_age = match single("max_age").unwrap_or(None) {
            None => None,
            Some(age) => match age.parse::<i64>() {
                Ok(age) if (0..=MAX_AGE_SECONDS).contains(&age) => Some(age),
                _ => return Err(invalid("max_age must be a number of seconds")),
            },
        };
        match single("response_type").unwrap_or(None) {
            Some("code") => {}
            Some(_) => {
                return Err(fail(
                    "unsupported_response_type",
                    "Only response_type=code is supported",
                ));
            }
            None => return Err(invalid("response_type is required")),
        }
        let scope = match single("scope").unwrap_or(None) {
            Some(scope) => scope,
            None => return Err(fail("invalid_scope", "scope must include openid")),
        };
        let scope = parse_scope(scope).map_err(|why| fail("invalid_scope", why))?;
        let code_challenge = match single("code_challenge").unwrap_or(None) {
            Some(challenge) if is_pkce_value(challenge) => challenge.to_owned(),
            Some(_) => {
                return Err(invalid(
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
            None => return Err(invalid("code_challenge is required (PKCE)")),
        };
        match single("code_challenge_method").unwrap_or(None) {
            Some("S256") => {}
            _ => return Err(invalid("code_challenge_method must be S256")),
        }
        let prompt = match single("prompt").unwrap_or(None) {
            None => None,
            Some("login") => Some(Prompt::Login),
            Some("none") => Some(Prompt::None),
            Some(_) => return Err(invalid("prompt may be login or none")),
        };
        let bounded = |name: &str| -> Result<Option<String>, RequestError> {
            match single(name).unwrap_or(None) {
                Some(v) if v.chars().count() > MAX_PARAMETER_CHARS => Err(invalid("A parameter is too long")),
                other => Ok(other.map(str::to_owned)),
            }
        };
        Ok(Self {
            client: client.clone(),
            redirect_uri: redirect_uri.clone(),
            scope,
            state: state.clone(),
            nonce: bounded("nonce")?,
            code_challenge,
            prompt,
            max_age,
            login_hint: bounded("login_hint")?,
        })
    }

    /// The parameters the pages carry in hidden fields and in their links to each other: all of
    /// them but `login_hint` (the page has its field) and `prompt=none` (no page shows then), so
    /// that "back to sign in" still asks for the fresh sign-in `prompt=login` or `max_age` asked.
    pub fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scope.clone()),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        if let Some(state) = &self.state {
            fields.push(("state", state.clone()));
        }
        if let Some(nonce) = &self.nonce {
            fields.push(("nonce", nonce.clone()));
        }
        if self.prompt == Some(Prompt::Login) {
            fields.push(("prompt", "login".to_owned()));
        }
        if let Some(max_age) = self.max_age {
            fields.push(("max_age", max_age.to_string()));
        }
        fields
    }

    pub fn offline(&self) -> bool {
        offline(&self.scope)
    }
}

/// Whether a (parsed) scope asks for a refresh token.
pub fn offline(scope: &str) -> bool {
    scope.split(' ').any(|s| s == "offline_access")
}

impl RequestError {
    /// Where an error goes back to the client: its redirect URI with `error`,
    /// `error_description`, `state` and `iss` (RFC 9207).
    pub fn location(&self, issuer: &str) -> Option<String> {
        match self {
            RequestError::Page(_) => None,
            RequestError::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => Some(redirect(
                redirect_uri,
                &[("error", error), ("error_description", description)],
                state.as_deref(),
                issuer,
            )),
        }
    }
}

/// `uri` (a registered redirect URI, which may have a query of its own) with `pairs`, `state`
/// and `iss` added to its query.
pub fn redirect(uri: &str, pairs: &[(&str, &str)], state: Option<&str>, issuer: &str) -> String {
    let Ok(mut url) = url::Url::parse(uri) else {
        // Registered URIs are checked at start (crate::oidc::clients).
        return uri.to_owned();
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.into()
}

/// A space-separated scope: each value known, `openid` among them; returned each once, in the
/// order given.
pub fn parse_scope(scope: &str) -> Result<String, &'static str> {
    let mut seen: Vec<&str> = Vec::new();
    for value in scope.split(' ').filter(|v| !v.is_empty()) {
        if !SCOPES.contains(&value) {
            return Err("Unknown scope: the scopes served are openid, email, profile and offline_access");
        }
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    if !seen.contains(&"openid") {
        return Err("scope must include openid");
    }
    Ok(seen.join(" "))
}

/// RFC 7636 4.1: 43 to 128 characters of the unreserved set (a verifier or an S256 challenge).
pub fn is_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Vec<OidcClient> {
        crate::oidc::parse_clients(r#"[{"client_id":"web","redirect_uris":["https://app.example/cb?x=1"]}]"#)
            .unwrap()
    }

    fn pairs(extra: &[(&str, &str)], without: &[&str]) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", "https://app.example/cb?x=1"),
            ("scope", "openid email"),
            ("state", "s1"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .filter(|(n, _)| !without.contains(n))
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        all.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
        all
    }

    fn error_of(p: Vec<(String, String)>) -> &'static str {
        match AuthorizationRequest::parse(&clients(), &p) {
            Err(RequestError::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("s1"));
                error
            }
            Err(RequestError::Page(_)) => "page",
            Ok(_) => "ok",
        }
    }

    #[test]
    fn requests_are_checked_in_the_contracts_order() {
        assert_eq!(error_of(pairs(&[], &[])), "ok");
        assert_eq!(error_of(pairs(&[], &["client_id"])), "page");
        assert_eq!(error_of(pairs(&[("client_id", "web")], &[])), "page");
        assert_eq!(
            error_of(pairs(
                &[("redirect_uri", "https://evil.example/cb")],
                &["redirect_uri"]
            )),
            "page"
        );
        assert_eq!(
            error_of(pairs(
                &[("redirect_uri", "https://app.example/cb")],
                &["redirect_uri"]
            )),
            "page"
        );
        assert_eq!(
            error_of(pairs(&[("response_type", "token")], &["response_type"])),
            "unsupported_response_type"
        );
        assert_eq!(error_of(pairs(&[], &["response_type"])), "invalid_request");
        assert_eq!(
            error_of(pairs(&[("scope", "email")], &["scope"])),
            "invalid_scope"
        );
        assert_eq!(
            error_of(pairs(&[("scope", "openid admin")], &["scope"])),
            "invalid_scope"
        );
        assert_eq!(error_of(pairs(&[], &["code_challenge"])), "invalid_request");
        assert_eq!(
            error_of(pairs(
                &[("code_challenge_method", "plain")],
                &["code_challenge_method"]
            )),
            "invalid_request"
        );
        assert_eq!(
            error_of(pairs(&[], &["code_challenge_method"])),
            "invalid_request"
        );
        assert_eq!(error_of(pairs(&[("prompt", "consent")], &[])), "invalid_request");
        assert_eq!(
            error_of(pairs(&[("scope", "openid")], &[])),
            "invalid_request",
            "a repeated parameter"
        );
    }

    #[test]
    fn newer_parameters_are_checked_and_a_state_too_long_to_send_back_is_left_out() {
        assert_eq!(
            error_of(pairs(&[("response_mode", "form_post")], &[])),
            "invalid_request"
        );
        assert_eq!(
            error_of(pairs(&[("response_mode", "query"), ("max_age", "0")], &[])),
            "ok"
        );
        assert_eq!(error_of(pairs(&[("max_age", "-1")], &[])), "invalid_request");
        let long = "s".repeat(MAX_PARAMETER_CHARS + 1);
        match AuthorizationRequest::parse(&clients(), &pairs(&[("state", &long)], &["state"])) {
            Err(RequestError::Redirect { state, error, .. }) => {
                assert_eq!((state, error), (None, "invalid_request"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_go_back_with_state_and_issuer_keeping_the_registered_query() {
        let e = AuthorizationRequest::parse(&clients(), &pairs(&[("prompt", "x")], &[])).unwrap_err();
        let location = e.location("https://id.example").unwrap();
        assert!(
            location.starts_with("https://app.example/cb?x=1&error=invalid_request&"),
            "{location}"
        );
        assert!(
            location.contains("&state=s1&iss=https%3A%2F%2Fid.example"),
            "{location}"
        );
    }

    #[test]
    fn scopes_are_deduplicated_and_pkce_values_checked() {
        assert_eq!(parse_scope("openid  email openid").unwrap(), "openid email");
        assert!(is_pkce_value(&"a".repeat(43)));
        assert!(!is_pkce_value(&"a".repeat(42)));
        assert!(!is_pkce_value(&"a".repeat(129)));
        assert!(!is_pkce_value(&format!("{}+", "a".repeat(43))));
    }
}
