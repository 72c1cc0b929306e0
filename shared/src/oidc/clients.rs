//! The apps that may sign users in (`OIDC_CLIENTS`, docs/API.md "Sign-in for other apps"):
//! public clients with PKCE, no secrets, their redirect URIs matched byte for byte.

use serde::Deserialize;

/// One registered client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcClient {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// What the hosted pages and the user's session list call the app; else its `client_id`.
    #[serde(default)]
    pub name: Option<String>,
}

impl OidcClient {
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.client_id)
    }

    /// Whether `uri` is one of the client's redirect URIs, exactly (RFC 9700: no pattern, no
    /// prefix, no normalization).
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri)
    }

    pub fn returns_to(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }
}

/// Parses `OIDC_CLIENTS`: a JSON list of clients. Every URI must be absolute, without a
/// fragment; `http` only for a loopback host (RFC 8252 native apps, local development); client
/// ids unique and printable.
pub fn parse_clients(json: &str) -> Result<Vec<OidcClient>, String> {
    let clients: Vec<OidcClient> =
        serde_json::from_str(json).map_err(|e| format!("OIDC_CLIENTS: not a JSON list of clients: {e}"))?;
    let mut seen = std::collections::HashSet::new();
    for client in &clients {
        let id = &client.client_id;
        if id.is_empty() || id.len() > 100 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "OIDC_CLIENTS: client_id {id:?}: 1 to 100 printable ASCII characters"
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(format!("OIDC_CLIENTS: client_id {id:?} is listed twice"));
        }
        if client.redirect_uris.is_empty() {
            return Err(format!("OIDC_CLIENTS: client {id:?} has no redirect_uris"));
        }
        for uri in client
            .redirect_uris
            .iter()
            .chain(&client.post_logout_redirect_uris)
        {
            check_uri(uri).map_err(|why| format!("OIDC_CLIENTS: client {id:?}: {uri:?} {why}"))?;
        }
    }
    Ok(clients)
}

fn check_uri(uri: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(uri).map_err(|_| "is not an absolute URI")?;
    if parsed.fragment().is_some() {
        return Err("has a fragment");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("has a user name or password");
    }
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("uses http for a host that is not loopback"),
        "javascript" | "data" | "file" | "vbscript" => Err("has a scheme that is no redirect"),
        // A native app's private-use scheme (RFC 8252 7.1), e.g. com.example.app:/callback.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_parse_and_bad_ones_are_refused() {
        let ok = parse_clients(
            r#"[{"client_id":"web","redirect_uris":["https://app.example/cb","http://localhost:3000/cb"],"name":"Web"},
                {"client_id":"ios","redirect_uris":["com.example.app:/cb"],"post_logout_redirect_uris":["com.example.app:/out"]}]"#,
        )
        .unwrap();
        assert_eq!(ok[0].display_name(), "Web");
        assert_eq!(ok[1].display_name(), "ios");
        assert!(ok[0].redirects_to("https://app.example/cb"));
        assert!(!ok[0].redirects_to("https://app.example/cb/"));
        assert!(!ok[0].redirects_to("https://app.example/cb?x=1"));
        for bad in [
            r#"{}"#,
            r#"[{"client_id":"a","redirect_uris":[]}]"#,
            r#"[{"client_id":"a","redirect_uris":["/relative"]}]"#,
            r#"[{"client_id":"a","redirect_uris":["http://app.example/cb"]}]"#,
            r#"[{"client_id":"a","redirect_uris":["https://app.example/cb#x"]}]"#,
            r#"[{"client_id":"a","redirect_uris":["javascript:alert(1)"]}]"#,
            r#"[{"client_id":"a","redirect_uris":["https://a/cb"]},{"client_id":"a","redirect_uris":["https://a/cb"]}]"#,
            r#"[{"client_id":"","redirect_uris":["https://a/cb"]}]"#,
            r#"[{"client_id":"a","redirect_uris":["https://a/cb"],"client_secret":"x"}]"#,
            r#"[{"client_id":"a","redirect_uris":["https://user:pw@a.example/cb"]}]"#,
        ] {
            assert!(parse_clients(bad).is_err(), "{bad}");
        }
    }
}
