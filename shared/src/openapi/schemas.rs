//! Schemas of the request bodies and error bodies. The handlers read their bodies field by field
//! (so that every bad field is reported at once, in FastAPI's shape), so these types exist for the
//! document only; the response types (`User`, `Token`, `Contact`) are the handlers' own.

use serde::Serialize;
use utoipa::ToSchema;

/// Every error but a validation error: `{"detail": "<message>"}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"detail": "Not Found"}))]
pub struct ErrorDetail {
    pub detail: String,
}

/// One problem of a 422 answer, as FastAPI reports it. Values are never echoed back.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"type": "missing", "loc": ["body", "email"], "msg": "Field required"}))]
pub struct ValidationError {
    /// Where the problem is: `["body", field]`, `["query", name]`, `["path", name]` or `["body"]`.
    pub loc: Vec<Location>,
    pub msg: String,
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
}

/// A part of a [`ValidationError`]'s location: a name, or a byte offset into a JSON body.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Location {
    Name(String),
    Index(i64),
}

/// A 422 answer: every problem of the request at once.
#[derive(Serialize, ToSchema)]
#[schema(as = HTTPValidationError)]
pub struct HttpValidationError {
    pub detail: Vec<ValidationError>,
}

/// `{"message": "..."}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"message": "OK"}))]
pub struct Message {
    pub message: String,
}

/// The body of `register`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"username": "johndoe", "email": "john@example.com", "password": "correct-horse-battery"}))]
pub struct RegisterIn {
    /// 3–40 characters: ASCII letters, digits, `.`, `_`, `-`; unique ignoring case.
    #[schema(min_length = 3, max_length = 40, pattern = "^[A-Za-z0-9._-]{3,40}$")]
    pub username: String,
    /// A valid address as email-validator (FastAPI's `EmailStr`) takes it, of at most 254
    /// characters; answered in its normalized form; unique ignoring case.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// 8–128 characters, not a common password, not the username or the email's local part.
    #[schema(min_length = 8, max_length = 128, format = Password)]
    pub password: String,
}

/// The OAuth2 password form of `login` (FastAPI's `OAuth2PasswordRequestForm`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"username": "johndoe", "password": "correct-horse-battery"}))]
pub struct LoginForm {
    /// The username or the email.
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
    /// Absent, empty or `password`; anything else is a 422.
    #[schema(pattern = "^password$", nullable = false)]
    pub grant_type: Option<String>,
    /// Accepted and ignored.
    #[schema(nullable = false)]
    pub scope: Option<String>,
    /// Accepted and ignored.
    #[schema(nullable = false)]
    pub client_id: Option<String>,
    /// Accepted and ignored.
    #[schema(nullable = false, format = Password)]
    pub client_secret: Option<String>,
    /// With two-factor authentication on: a TOTP code (6 digits) or an unused recovery code.
    #[schema(nullable = false, example = "123456")]
    pub otp: Option<String>,
}

/// The form of the OpenID Connect token endpoint (RFC 6749): the fields of its grant.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"grant_type": "authorization_code", "code": "eyJhbGciOi...", "redirect_uri": "https://app.example/callback", "client_id": "web", "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}))]
pub struct TokenForm {
    /// `authorization_code`, `refresh_token` or `password`.
    pub grant_type: String,
    /// A registered client.
    pub client_id: String,
    /// authorization_code: the code from the redirect.
    #[schema(nullable = false)]
    pub code: Option<String>,
    /// authorization_code: the authorization request's `redirect_uri`.
    #[schema(nullable = false)]
    pub redirect_uri: Option<String>,
    /// authorization_code: the PKCE verifier (43 to 128 characters).
    #[schema(nullable = false)]
    pub code_verifier: Option<String>,
    /// refresh_token: the client's current refresh token.
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// password: the username or the email.
    #[schema(nullable = false)]
    pub username: Option<String>,
    /// password.
    #[schema(nullable = false, format = Password)]
    pub password: Option<String>,
    /// password, with two-factor authentication on: a TOTP or recovery code.
    #[schema(nullable = false)]
    pub otp: Option<String>,
    /// password: the scopes (`openid` by default).
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// The authorization request every hosted page's form carries (hidden fields), as `authorize`
/// takes it, and the form's CSRF token.
#[derive(Serialize, ToSchema)]
pub struct CarriedRequest {
    /// The page's: the keyed hash of the browser's `ucontact_csrf` cookie.
    pub csrf_token: String,
    /// `code`.
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: String,
    /// `S256`.
    pub code_challenge_method: String,
    #[schema(nullable = false)]
    pub state: Option<String>,
    #[schema(nullable = false)]
    pub nonce: Option<String>,
}

/// The sign-in page's forms: `username` and `password`; then `otp` with the step's
/// `second_step` proof; or the passkey button's `challenge_token` and `credential` (JSON).
#[derive(Serialize, ToSchema)]
pub struct SigninForm {
    #[serde(flatten)]
    pub request: CarriedRequest,
    #[schema(nullable = false)]
    pub username: Option<String>,
    #[schema(nullable = false, format = Password)]
    pub password: Option<String>,
    #[schema(nullable = false)]
    pub otp: Option<String>,
    #[schema(nullable = false)]
    pub second_step: Option<String>,
    #[schema(nullable = false)]
    pub challenge_token: Option<String>,
    #[schema(nullable = false)]
    pub credential: Option<String>,
}

/// The "create an account" form.
#[derive(Serialize, ToSchema)]
pub struct SignupForm {
    #[serde(flatten)]
    pub request: CarriedRequest,
    pub username: String,
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

/// The "forgot password" form.
#[derive(Serialize, ToSchema)]
pub struct ForgotPasswordForm {
    #[serde(flatten)]
    pub request: CarriedRequest,
    pub email: String,
}

/// An OAuth 2.0 error (RFC 6749 5.2).
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type` or
    /// `invalid_scope`.
    pub error: String,
    pub error_description: String,
}

/// The body of `refresh-token` and `logout`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"refresh_token": "eyJ0eXAiOiJKV1QiLCJhbGc..."}))]
pub struct RefreshTokenIn {
    pub refresh_token: String,
}

/// The body of `request-email` and `reset-password`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"email": "john@example.com"}))]
pub struct EmailIn {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

/// The form of `set-password` (the reset page posts it).
#[derive(Serialize, ToSchema)]
pub struct SetPasswordForm {
    /// The token of the reset link.
    pub token: String,
    #[schema(min_length = 8, max_length = 128, format = Password)]
    pub password: String,
    /// Must equal `password`.
    #[schema(format = Password)]
    pub confirm_password: String,
}

/// The body of `change-password`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"current_password": "correct-horse-battery", "new_password": "staple-of-the-new-era"}))]
pub struct ChangePasswordIn {
    /// The password now; a wrong one counts against the username's login backoff.
    #[schema(format = Password)]
    pub current_password: String,
    /// 8–128 characters, not a common password, not the username or the email's local part.
    #[schema(min_length = 8, max_length = 128, format = Password)]
    pub new_password: String,
    /// With two-factor authentication on: a TOTP code (6 digits) or an unused recovery code
    /// (a wrong one counts against the username's login backoff). Ignored otherwise.
    #[schema(nullable = false, example = "123456")]
    pub code: Option<String>,
}

/// The body of `change-email`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"new_email": "john.doe@example.org", "password": "correct-horse-battery"}))]
pub struct ChangeEmailIn {
    /// A valid address as email-validator takes it, of at most 254 characters, nobody's yet
    /// (ignoring case).
    #[schema(format = Email, max_length = 254)]
    pub new_email: String,
    /// The password now; a wrong one counts against the username's login backoff.
    #[schema(format = Password)]
    pub password: String,
    /// With two-factor authentication on: a TOTP code (6 digits) or an unused recovery code
    /// (a wrong one counts against the username's login backoff). Ignored otherwise.
    #[schema(nullable = false, example = "123456")]
    pub code: Option<String>,
}

/// The body of `delete-account`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"password": "correct-horse-battery"}))]
pub struct PasswordIn {
    /// The password now; a wrong one counts against the username's login backoff.
    #[schema(format = Password)]
    pub password: String,
    /// With two-factor authentication on: a TOTP code (6 digits) or an unused recovery code
    /// (a wrong one counts against the username's login backoff). Ignored otherwise.
    #[schema(nullable = false, example = "123456")]
    pub code: Option<String>,
}

/// The body of `totp-setup`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"password": "correct-horse-battery"}))]
pub struct TotpSetupIn {
    /// The password now; a wrong one counts against the username's login backoff.
    #[schema(format = Password)]
    pub password: String,
}

/// The body of `totp-confirm`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"code": "123456"}))]
pub struct TotpConfirmIn {
    /// A code of the pending secret (6 digits; a wrong one counts against the username's login
    /// backoff).
    pub code: String,
}

/// The body of `totp-disable` and `recovery-codes`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"password": "correct-horse-battery", "code": "123456"}))]
pub struct PasswordAndCodeIn {
    /// The password now; a wrong one counts against the username's login backoff.
    #[schema(format = Password)]
    pub password: String,
    /// A TOTP code or an unused recovery code (a wrong one counts against the backoff too).
    pub code: String,
}

/// The body of `create-contact` and `update-contact`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "first_name": "Jane", "last_name": "Doe", "email": "jane@example.com",
    "phone": "+1 (555) 010-0000", "birthday": "1990-12-31", "description": "Met at RustConf"
}))]
pub struct ContactIn {
    #[schema(min_length = 1, max_length = 50)]
    pub first_name: String,
    #[schema(min_length = 1, max_length = 50)]
    pub last_name: String,
    /// Unique among the user's contacts, ignoring case.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// At most 20 characters: digits, spaces and `+()-.`.
    #[schema(max_length = 20, pattern = r"^[0-9 +()\-.]{0,20}$")]
    pub phone: Option<String>,
    /// From year 1, not in the future (UTC).
    pub birthday: Option<chrono::NaiveDate>,
    #[schema(max_length = 255)]
    pub description: Option<String>,
}

/// The body of `passkey-register`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"challenge_token": "4b0c7f1e2d3a4c5b8e9f0a1b2c3d4e5f", "credential": {"id": "...", "rawId": "...", "type": "public-key", "response": {"clientDataJSON": "...", "attestationObject": "..."}}, "name": "Laptop"}))]
pub struct PasskeyRegisterIn {
    /// From `passkey-register-options`.
    pub challenge_token: String,
    /// `navigator.credentials.create()`'s answer as RegistrationResponseJSON (base64url).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// 1–64 characters; `Passkey` when absent.
    #[schema(min_length = 1, max_length = 64, nullable = false)]
    pub name: Option<String>,
    /// With two-factor authentication on: a TOTP code or an unused recovery code.
    #[schema(nullable = false, example = "123456")]
    pub code: Option<String>,
}

/// The body of `passkey-login`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"challenge_token": "4b0c7f1e2d3a4c5b8e9f0a1b2c3d4e5f", "credential": {"id": "...", "rawId": "...", "type": "public-key", "response": {"clientDataJSON": "...", "authenticatorData": "...", "signature": "...", "userHandle": "..."}}}))]
pub struct PasskeyLoginIn {
    /// From `passkey-login-options`.
    pub challenge_token: String,
    /// `navigator.credentials.get()`'s answer as AuthenticationResponseJSON (base64url).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}
