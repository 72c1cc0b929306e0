//! The round trips of "Sign in with UContact": the sign-in page, its password form, a silent
//! authorization with the sign-in cookie, the token endpoint's three grants, userinfo,
//! end-session and the pages' assets, as a browser and an app would call them.

use anyhow::{Context, bail};
use shared::routes::Endpoint;

use super::{Flow, token_pair};

/// The one app the bench's configuration registers.
pub const CLIENTS: &str = r#"[{"client_id":"bench","redirect_uris":["https://app.example.com/callback"],"post_logout_redirect_uris":["https://app.example.com/"]}]"#;
/// A PKCE verifier and its S256 challenge (RFC 7636 appendix B).
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
fn request() -> String {
    format!(
        "response_type=code&client_id=bench&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback\
         &scope=openid%20email%20offline_access&state=bench-state&nonce=bench-nonce\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    )
}
const FORM: &str = "application/x-www-form-urlencoded";

/// The value of cookie `name` that a response sets.
fn set_cookie(response: &shared::http::Response, name: &str) -> anyhow::Result<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("no {name} cookie set"))
}

/// The `code` of a redirect to the app.
fn code(response: &shared::http::Response) -> anyhow::Result<String> {
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("no Location")?;
    let url = url::Url::parse(location)?;
    url.query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
        .with_context(|| format!("no code in {location}"))
}

pub(super) async fn sign_in(flow: &mut Flow, password: &str) -> anyhow::Result<()> {
    let request = request();
    let authorize = format!("/oauth2/authorize?{request}");
    let page = flow.call_with(Endpoint::Authorize, &authorize, None, &[]).await?;
    flow.label_last("authorize (the sign-in page)");
    let csrf_cookie = set_cookie(&page, "ucontact_csrf")?;
    let csrf_token = csrf_token(&page)?;
    let form = format!("{request}&csrf_token={csrf_token}&username=benchuser&password={password}");
    let cookie = format!("ucontact_csrf={csrf_cookie}");
    let signed_in = flow
        .call_with(
            Endpoint::Signin,
            "/oauth2/signin",
            Some((FORM, form)),
            &[("cookie", &cookie)],
        )
        .await?;
    if signed_in.status() != 303 {
        bail!("signin: {} (not 303)", signed_in.status());
    }
    let first = code(&signed_in)?;
    let cookie = format!("ucontact_signin={}", set_cookie(&signed_in, "ucontact_signin")?);
    let again = flow
        .call_with(Endpoint::Authorize, &authorize, None, &[("cookie", &cookie)])
        .await?;
    flow.label_last("authorize (signed in: a code)");
    code(&again)?;
    let exchange = format!(
        "grant_type=authorization_code&code={first}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback\
         &client_id=bench&code_verifier={VERIFIER}"
    );
    let tokens = flow
        .call(Endpoint::Token, "/oauth2/token", Some((FORM, exchange)), None)
        .await?;
    flow.label_last("token (authorization_code)");
    let (refresh, access) = token_pair(&tokens).context("token (authorization_code)")?;
    let refresh = format!("grant_type=refresh_token&refresh_token={refresh}&client_id=bench");
    let refreshed = flow
        .call(Endpoint::Token, "/oauth2/token", Some((FORM, refresh)), None)
        .await?;
    flow.label_last("token (refresh_token)");
    token_pair(&refreshed).context("token (refresh_token)")?;
    flow.call(Endpoint::Userinfo, "/oauth2/userinfo", None, Some(&access))
        .await?;
    let grant = format!("grant_type=password&username=benchuser&password={password}&client_id=bench");
    let granted = flow
        .call(Endpoint::Token, "/oauth2/token", Some((FORM, grant)), None)
        .await?;
    flow.label_last("token (password)");
    token_pair(&granted).context("token (password)")?;
    let out =
        "/oauth2/logout?client_id=bench&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2F&state=s";
    flow.call_with(Endpoint::EndSession, out, None, &[("cookie", &cookie)])
        .await?;
    flow.call(Endpoint::SigninPageAsset, "/oauth2/assets/signin.css", None, None)
        .await?;
    other_pages(flow, &request).await
}

/// "Create an account" and "forgot password": each page, then its form.
async fn other_pages(flow: &mut Flow, request: &str) -> anyhow::Result<()> {
    for (page, post, fields) in [
        (
            Endpoint::SignupPage,
            Endpoint::Signup,
            "username=benchsignup&email=bench.signup%40example.com&password=bench-signup-passphrase",
        ),
        (
            Endpoint::ForgotPasswordPage,
            Endpoint::ForgotPassword,
            "email=bench.signup%40example.com",
        ),
    ] {
        let path = page.path();
        let shown = flow
            .call_with(page, &format!("{path}?{request}"), None, &[])
            .await?;
        let cookie = format!("ucontact_csrf={}", set_cookie(&shown, "ucontact_csrf")?);
        let token = csrf_token(&shown)?;
        let form = format!("{request}&csrf_token={token}&{fields}");
        let answer = flow
            .call_with(post, path, Some((FORM, form)), &[("cookie", &cookie)])
            .await?;
        if !std::str::from_utf8(answer.body())?.contains(r#"id="check-email""#) {
            bail!("{}: not the \"check your email\" page", post.function_name());
        }
    }
    Ok(())
}

/// The CSRF token of a page's form.
fn csrf_token(page: &shared::http::Response) -> anyhow::Result<String> {
    std::str::from_utf8(page.body())?
        .split(r#"name="csrf_token" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .context("no csrf_token in the page")
}
