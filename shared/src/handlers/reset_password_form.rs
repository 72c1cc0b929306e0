//! `GET /auth/reset-password/{token}`: the HTML page a reset email links to. Its form posts the
//! token and the new password to `/api/auth/set-password`. The token is checked (signature, kind,
//! expiry) before the page is shown; whether it was used already is checked on submit.

use ::http::StatusCode;
use html_escape::encode_double_quoted_attribute;

use crate::app::App;
use crate::auth;
use crate::http::{self, ApiError, Request, Response};

/// The password reset page (the link of the reset email)
///
/// An HTML form that posts the token and the new password to `/api/auth/set-password`.
#[utoipa::path(
    get,
    path = "/auth/reset-password/{token}",
    operation_id = "reset-password-form",
    tag = "auth",
    params(("token" = String, Path, description = "The token of the reset link")),
    responses(
        (status = 200, description = "The form page", content_type = "text/html", body = String),
        (status = 400, description = "Invalid or expired token", body = crate::openapi::schemas::ErrorDetail,
            example = json!({"detail": crate::http::detail::INVALID_RESET})),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Result<Response, ApiError> {
    let token = http::path_param(&request, "token")?;
    auth::check_reset_token(app, &http::caller(app, &request), &token)?;
    Ok(http::html(StatusCode::OK, page(&token)))
}

fn page(token: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Reset your password · UContact</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}}label,input,button{{display:block;width:100%;margin:.4rem 0}}input{{padding:.5rem}}button{{padding:.6rem}}</style>
</head>
<body>
<h1>Choose a new password</h1>
<form method="post" action="/api/auth/set-password" enctype="application/x-www-form-urlencoded">
<input type="hidden" name="token" value="{token}">
<label for="password">New password (8 to 128 characters)</label>
<input id="password" name="password" type="password" minlength="8" maxlength="128" autocomplete="new-password" required>
<label for="confirm_password">Repeat it</label>
<input id="confirm_password" name="confirm_password" type="password" minlength="8" maxlength="128" autocomplete="new-password" required>
<button type="submit">Set password</button>
</form>
</body>
</html>
"#,
        token = encode_double_quoted_attribute(token)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_token_cannot_break_out_of_its_attribute() {
        let page = super::page(r#""><script>alert(1)</script>"#);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&quot;&gt;&lt;script&gt;") || page.contains("&quot;>&lt;script>"));
    }
}
