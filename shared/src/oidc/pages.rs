//! The hosted pages (docs/API.md, "Sign-in for other apps"): server-rendered with maud (every
//! value escaped), styled and scripted only by the service's own assets
//! (`/oauth2/assets/{file}`), no inline script or style, labelled fields, errors in an alert.
//! Every page is served under `/oauth2/`, and names what it loads and posts to relative to that:
//! the browser stays on the origin (and API Gateway stage) it reached the page on.

use maud::{DOCTYPE, Markup, html};

use crate::oidc::AuthorizationRequest;

/// What every sign-in form carries: the CSRF token and the authorization request.
pub struct FormContext<'a> {
    pub csrf_token: &'a str,
    pub request: &'a AuthorizationRequest,
}

impl FormContext<'_> {
    /// The authorization request as a query string: the links between the pages carry it.
    fn query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.request.hidden_fields() {
            query.append_pair(name, &value);
        }
        query.finish()
    }
}

fn layout(title: &str, script: bool, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · UContact" }
                link rel="icon" href="assets/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="assets/signin.css";
                @if script {
                    script src="assets/signin.js" defer {}
                }
            }
            body {
                main {
                    (content)
                }
            }
        }
    }
    .into_string()
}

/// What a page shows again of what was typed: at most 320 characters (an address's most), so that a
/// huge field does not come back whole.
fn clip(value: &str) -> &str {
    value
        .char_indices()
        .nth(320)
        .map_or(value, |(cut, _)| &value[..cut])
}

fn carried(form: &FormContext<'_>) -> Markup {
    html! {
        input type="hidden" name="csrf_token" value=(form.csrf_token);
        @for (name, value) in form.request.hidden_fields() {
            input type="hidden" name=(name) value=(value);
        }
    }
}

fn alert(error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error {
            p.error role="alert" id="error" { (error) }
        }
    }
}

/// The sign-in page: username or email and password, and the passkey button.
pub fn sign_in(form: &FormContext<'_>, error: Option<&str>, username: &str) -> String {
    let app = form.request.client.display_name();
    layout(
        "Sign in",
        true,
        html! {
            h1 { "Sign in" }
            p.lead { "to continue to " strong { (app) } }
            (alert(error))
            form method="post" action="signin" id="password-form" {
                (carried(form))
                label for="username" { "Username or email" }
                input id="username" name="username" type="text" autocomplete="username webauthn"
                    autocapitalize="none" spellcheck="false" required value=(clip(username));
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" id="signin" { "Sign in" }
            }
            p.links {
                a href={ "forgot-password?" (form.query()) } id="forgot-password" { "Forgot your password?" }
            }
            form method="post" action="signin" id="passkey-form" {
                (carried(form))
                input type="hidden" name="challenge_token" id="challenge_token";
                input type="hidden" name="credential" id="credential";
                p.or { "or" }
                button type="button" id="passkey-signin" class="secondary" hidden
                    data-options="../api/auth/passkey/options" { "Sign in with a passkey" }
                p.error role="alert" id="passkey-error" hidden {}
            }
            p.links {
                "New here? "
                a href={ "signup?" (form.query()) } id="create-account" { "Create an account" }
            }
        },
    )
}

/// What the "create an account" form was sent with, shown again beside an error.
#[derive(Default)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
}

/// "Create an account": username, email, password; then the user confirms the email.
pub fn create_account(form: &FormContext<'_>, error: Option<&str>, values: &NewAccount<'_>) -> String {
    layout(
        "Create an account",
        false,
        html! {
            h1 { "Create an account" }
            p.lead { "to continue to " strong { (form.request.client.display_name()) } }
            (alert(error))
            form method="post" action="signup" id="signup-form" {
                (carried(form))
                label for="username" { "Username" }
                input id="username" name="username" type="text" autocomplete="username"
                    autocapitalize="none" spellcheck="false" minlength="3" maxlength="40" required value=(clip(values.username));
                label for="email" { "Email" }
                input id="email" name="email" type="email" autocomplete="email" required value=(clip(values.email));
                label for="password" { "Password (at least 8 characters)" }
                input id="password" name="password" type="password" autocomplete="new-password"
                    minlength="8" maxlength="128" required;
                button type="submit" id="signup" { "Create account" }
            }
            p.links { a href={ "authorize?" (form.query()) } { "Back to sign in" } }
        },
    )
}

/// "Forgot password": the address to send the reset link to.
pub fn forgot_password(form: &FormContext<'_>, error: Option<&str>) -> String {
    layout(
        "Reset your password",
        false,
        html! {
            h1 { "Reset your password" }
            p.lead { "We will email you a link to choose a new password." }
            (alert(error))
            form method="post" action="forgot-password" id="forgot-password-form" {
                (carried(form))
                label for="email" { "Email" }
                input id="email" name="email" type="email" autocomplete="email" required;
                button type="submit" id="send-link" { "Send the link" }
            }
            p.links { a href={ "authorize?" (form.query()) } { "Back to sign in" } }
        },
    )
}

/// After "create an account" or "forgot password": what to do next, and the way back.
pub fn check_email(form: &FormContext<'_>, message: &str) -> String {
    layout(
        "Check your email",
        false,
        html! {
            h1 { "Check your email" }
            p id="check-email" role="status" { (message) }
            p.links { a href={ "authorize?" (form.query()) } id="back-to-sign-in" { "Back to sign in" } }
        },
    )
}

/// The two-factor step: the password was right and TOTP is on.
pub fn second_factor(form: &FormContext<'_>, error: Option<&str>, username: &str, proof: &str) -> String {
    layout(
        "Two-factor code",
        false,
        html! {
            h1 { "Two-factor code" }
            p.lead { "Enter the 6-digit code from your authenticator app, or one of your recovery codes." }
            (alert(error))
            form method="post" action="signin" id="otp-form" {
                (carried(form))
                input type="hidden" name="username" value=(clip(username));
                input type="hidden" name="second_step" value=(proof);
                label for="otp" { "Code" }
                input id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code"
                    autocapitalize="none" spellcheck="false" required autofocus;
                button type="submit" id="verify" { "Verify" }
            }
        },
    )
}

/// An error that cannot go back to the app (an unknown app, an unregistered address).
pub fn error(message: &str) -> String {
    layout(
        "Sign-in error",
        false,
        html! {
            h1 { "Sign-in error" }
            p.error role="alert" id="error" { (message) }
            p { "Go back to the app you came from and try again." }
        },
    )
}

/// After `end-session` with nowhere to return to.
pub fn signed_out() -> String {
    layout(
        "Signed out",
        false,
        html! {
            h1 { "Signed out" }
            p id="signed-out" { "You are signed out of UContact." }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_break_out_of_their_attributes() {
        let clients = crate::oidc::parse_clients(
            r#"[{"client_id":"web","redirect_uris":["https://a.example/cb"],"name":"<b>App</b>"}]"#,
        )
        .unwrap();
        let pairs: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", "https://a.example/cb"),
            ("scope", "openid"),
            ("state", "\"><script>alert(1)</script>"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        let request = AuthorizationRequest::parse(&clients, &pairs).unwrap();
        let form = FormContext {
            csrf_token: "t",
            request: &request,
        };
        let page = sign_in(&form, Some("<i>bad</i>"), "\"><img src=x>");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<b>App"), "{page}");
        assert!(!page.contains("<i>bad"), "{page}");
        assert!(!page.contains("<img src=x>"), "{page}");
        assert!(page.contains(r#"id="passkey-signin""#));
        assert!(page.contains(r#"name="csrf_token" value="t""#));
    }
}
