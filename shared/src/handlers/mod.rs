//! One module per route, named as its Lambda function: parse the request, call the use case,
//! shape the response. Each has `pub async fn handle(&App, Request) -> Result<Response, ApiError>`.

pub mod authorize;
pub mod change_email;
pub mod change_password;
pub mod confirm_email;
pub mod confirm_email_change;
pub mod create_contact;
pub mod delete_account;
pub mod delete_contact;
pub mod delete_passkey;
pub mod docs;
pub mod docs_asset;
pub mod end_session;
pub mod fallback;
pub mod forgot_password;
pub mod forgot_password_page;
pub mod get_contact;
pub mod health;
pub mod hosted;
pub mod jwks;
pub mod list_contacts;
pub mod list_passkeys;
pub mod list_sessions;
pub mod login;
pub mod logout;
pub mod logout_all;
pub mod me;
pub mod mfa_status;
pub mod openapi;
pub mod openid_configuration;
pub mod passkey_login;
pub mod passkey_login_options;
pub mod passkey_register;
pub mod passkey_register_options;
pub mod recovery_codes;
pub mod refresh_token;
pub mod register;
pub mod request_email;
pub mod reset_password;
pub mod reset_password_form;
pub mod revoke_session;
pub mod set_password;
pub mod signin;
pub mod signin_page_asset;
pub mod signup;
pub mod signup_page;
pub mod token;
pub mod totp_confirm;
pub mod totp_disable;
pub mod totp_setup;
pub mod upcoming_birthdays;
pub mod update_contact;
pub mod userinfo;

use chrono::{NaiveDate, SecondsFormat};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;
use crate::auth::TokenPair;
use crate::contacts::ContactError;
use crate::domain::{
    Contact, ContactId, ContactInput, Description, Email, PersonName, Phone, User, UserId, parse_birthday,
};
use crate::http::{self, ApiError, JsonBody, Request, present};

/// A file compiled into the binary, found by the path parameter `file` among `files` (name,
/// content type, contents); any other name is a 404. The docs' and the sign-in pages' assets.
pub(crate) fn compiled_file(
    request: &Request,
    files: &'static [(&'static str, &'static str, &'static str)],
) -> Result<crate::http::Response, ApiError> {
    let name = http::path_param(request, "file")?;
    let (_, content_type, contents) = files
        .iter()
        .find(|(file, _, _)| *file == name)
        .ok_or(ApiError::NotFound)?;
    Ok(http::asset(content_type, contents))
}

/// The `User` JSON of the contract.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User, example = json!({
    "id": 1, "username": "johndoe", "email": "john@example.com",
    "created_at": "2025-04-16T12:00:00Z", "avatar": null, "is_verified": false
}))]
pub struct UserOut<'a> {
    /// Allocated once per user, never reused.
    #[schema(value_type = i64, minimum = 1)]
    pub id: UserId,
    pub username: &'a str,
    #[schema(format = Email)]
    pub email: &'a str,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The URL of the user's picture, if any.
    pub avatar: Option<&'a str>,
    pub is_verified: bool,
}

impl<'a> From<&'a User> for UserOut<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            id: user.id,
            username: user.username.as_str(),
            email: user.email.as_str(),
            created_at: user.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            avatar: user.avatar.as_deref(),
            is_verified: user.is_verified,
        }
    }
}

/// The token JSON of login and refresh.
#[derive(Serialize, ToSchema)]
#[schema(as = Token, example = json!({
    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGc...", "refresh_token": "eyJ0eXAiOiJKV1QiLCJhbGc...",
    "token_type": "bearer"
}))]
pub struct TokensOut {
    /// The Bearer token of the guarded routes (default lifetime 15 minutes).
    pub access_token: String,
    /// Exchanged at `/api/auth/refresh-token` for a new pair; each works once.
    pub refresh_token: String,
    /// Always `bearer`.
    #[schema(pattern = "^bearer$")]
    pub token_type: &'static str,
}

impl From<TokenPair> for TokensOut {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "bearer",
        }
    }
}

/// Recovery codes, shown once.
#[derive(Serialize, ToSchema)]
#[schema(as = RecoveryCodes, example = json!({"recovery_codes": [
    "k3vq-7hxm-2pza", "w9rt-c4ne-y6db", "..."
]}))]
pub struct RecoveryCodesOut {
    /// Ten codes; each works once in place of a TOTP code.
    pub recovery_codes: Vec<String>,
}

impl From<Vec<String>> for RecoveryCodesOut {
    fn from(recovery_codes: Vec<String>) -> Self {
        Self { recovery_codes }
    }
}

/// The `{password, code}` body of the routes that change second factors. A `code` is required
/// (an empty one is the 400 "code required" of the use case, not a 422).
pub fn password_and_code(request: &Request) -> Result<(String, Option<String>), ApiError> {
    let body = JsonBody::parse(request)?;
    let mut fields = body.fields();
    let password = fields.string("password");
    let code = fields.optional("code", |s| Ok(s.to_owned()));
    fields.finish()?;
    Ok((present(password)?, present(code)?))
}

/// A passkey ceremony's options.
#[derive(Serialize, ToSchema)]
#[schema(as = PasskeyOptions, example = json!({
    "publicKey": {"challenge": "x0Ft2Xf4f0tTdbpXt7mGfQ", "rpId": "localhost", "allowCredentials": [], "userVerification": "required", "timeout": 300000},
    "challenge_token": "4b0c7f1e2d3a4c5b8e9f0a1b2c3d4e5f"
}))]
pub struct PasskeyOptionsOut {
    /// For `navigator.credentials.create()` or `.get()`: WebAuthn Level 3 JSON, base64url.
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
    /// Names the ceremony's state; its answer must come within 300 s, once.
    pub challenge_token: String,
}

impl From<crate::passkeys::Options> for PasskeyOptionsOut {
    fn from(options: crate::passkeys::Options) -> Self {
        Self {
            public_key: options.public_key,
            challenge_token: options.challenge_token,
        }
    }
}

/// A passkey in the user's list.
#[derive(Serialize, ToSchema)]
#[schema(as = Passkey, example = json!({
    "id": "9f1c2e4b7a8d4c0e8b6a5d3f2e1c0b9a", "name": "Laptop",
    "created_at": "2025-04-16T12:00:00Z", "last_used_at": null
}))]
pub struct PasskeyOut {
    /// The id `delete-passkey` takes.
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Its last login; `null` until one.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

impl From<&crate::passkeys::PasskeyView> for PasskeyOut {
    fn from(passkey: &crate::passkeys::PasskeyView) -> Self {
        Self {
            id: passkey.id.clone(),
            name: passkey.name.clone(),
            created_at: passkey.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            last_used_at: passkey
                .last_used_at
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }
    }
}

/// The proof of a `{password, code}` body.
pub fn proof<'a>(password: &'a str, code: &'a Option<String>) -> crate::account::Proof<'a> {
    crate::account::Proof {
        password,
        code: code.as_deref(),
    }
}

/// The `Contact` JSON of the contract.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Contact, example = json!({
    "id": 1, "first_name": "Jane", "last_name": "Doe", "email": "jane@example.com",
    "phone": "+1 (555) 010-0000", "birthday": "1990-12-31", "description": "Met at RustConf",
    "created_at": "2025-04-16T12:00:00Z", "updated_at": "2025-04-16T12:00:00Z"
}))]
pub struct ContactOut<'a> {
    #[schema(value_type = i64, minimum = 1)]
    pub id: ContactId,
    pub first_name: &'a str,
    pub last_name: &'a str,
    #[schema(format = Email)]
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub birthday: Option<NaiveDate>,
    pub description: Option<&'a str>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl<'a> From<&'a Contact> for ContactOut<'a> {
    fn from(contact: &'a Contact) -> Self {
        let fields = &contact.fields;
        Self {
            id: contact.id,
            first_name: fields.first_name.as_str(),
            last_name: fields.last_name.as_str(),
            email: fields.email.as_str(),
            phone: fields.phone.as_ref().map(Phone::as_str),
            birthday: fields.birthday,
            description: fields.description.as_ref().map(Description::as_str),
            created_at: contact.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            updated_at: contact.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        }
    }
}

/// A list of contacts as JSON.
pub fn contacts_json(contacts: &[Contact]) -> http::Response {
    let body: Vec<ContactOut<'_>> = contacts.iter().map(ContactOut::from).collect();
    http::json(::http::StatusCode::OK, &body)
}

/// The `ContactIn` body of create and update, validated (birthdays against today in UTC).
pub fn contact_input(app: &App, request: &Request) -> Result<ContactInput, ApiError> {
    let body = JsonBody::parse(request)?;
    let mut fields = body.fields();
    let first_name = fields.required("first_name", PersonName::parse);
    let last_name = fields.required("last_name", PersonName::parse);
    let email = fields.required("email", Email::parse);
    let phone = fields.optional("phone", Phone::parse);
    let today = app.clock.today();
    let birthday = fields.optional("birthday", |value| parse_birthday(value, today));
    let description = fields.optional("description", Description::parse);
    fields.finish()?;
    Ok(ContactInput {
        first_name: present(first_name)?,
        last_name: present(last_name)?,
        email: present(email)?,
        phone: present(phone)?,
        birthday: present(birthday)?,
        description: present(description)?,
    })
}

/// The `{contact_id}` of the path; an id that cannot exist is a 404 like a missing one.
pub fn contact_id(request: &Request) -> Result<ContactId, ApiError> {
    http::path_id(request, "contact_id")?
        .and_then(ContactId::new)
        .ok_or_else(|| ContactError::NotFound.into())
}
