//! The OpenAPI 3.1 document of the route table (`GET /openapi.json`), generated from the code by
//! utoipa: each handler's `#[utoipa::path]` (its method, path, parameters, body, every status it
//! answers), the response types' `ToSchema` derives, the request and error schemas of
//! [`schemas`], the shared error answers of [`responses`], and the two security schemes. A test
//! (tests/deployment) keeps the document's operations and the route table equal both ways.

pub mod responses;
pub mod schemas;

use std::sync::OnceLock;

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi};

use crate::handlers;

/// The security scheme names guarded operations refer to (FastAPI's names for the same schemes).
pub const OAUTH2: &str = "OAuth2PasswordBearer";
pub const BEARER: &str = "HTTPBearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "UContact",
        description = "Authentication and contacts API. Log in through the OAuth2 password flow \
            (`POST /api/auth/login`), then send the access token as `Authorization: Bearer <token>`. \
            Every error body is `{\"detail\": \"<message>\"}`; validation errors are 422 with \
            FastAPI's list shape.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        handlers::register::handle,
        handlers::login::handle,
        handlers::refresh_token::handle,
        handlers::confirm_email::handle,
        handlers::request_email::handle,
        handlers::reset_password::handle,
        handlers::reset_password_form::handle,
        handlers::set_password::handle,
        handlers::logout::handle,
        handlers::logout_all::handle,
        handlers::me::handle,
        handlers::change_password::handle,
        handlers::change_email::handle,
        handlers::confirm_email_change::handle,
        handlers::delete_account::handle,
        handlers::list_sessions::handle,
        handlers::revoke_session::handle,
        handlers::mfa_status::handle,
        handlers::totp_setup::handle,
        handlers::totp_confirm::handle,
        handlers::totp_disable::handle,
        handlers::recovery_codes::handle,
        handlers::passkey_register_options::handle,
        handlers::passkey_register::handle,
        handlers::list_passkeys::handle,
        handlers::delete_passkey::handle,
        handlers::passkey_login_options::handle,
        handlers::passkey_login::handle,
        handlers::health::handle,
        handlers::list_contacts::handle,
        handlers::create_contact::handle,
        handlers::get_contact::handle,
        handlers::update_contact::handle,
        handlers::delete_contact::handle,
        handlers::upcoming_birthdays::handle,
        handlers::openapi::handle,
        handlers::docs::handle,
        handlers::docs_asset::handle,
        handlers::authorize::handle,
        handlers::signin::handle,
        handlers::token::handle,
        handlers::userinfo::handle,
        handlers::end_session::handle,
        handlers::signin_page_asset::handle,
        handlers::signup_page::handle,
        handlers::signup::handle,
        handlers::forgot_password_page::handle,
        handlers::forgot_password::handle,
        handlers::jwks::handle,
        handlers::openid_configuration::handle,
    ),
    components(schemas(
        schemas::ErrorDetail,
        schemas::HttpValidationError,
        schemas::ValidationError,
        schemas::Location,
        schemas::Message,
        handlers::jwks::JwkSet,
        handlers::jwks::Jwk,
        handlers::openid_configuration::OpenidConfiguration,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Registration, login, tokens, email verification, password reset"),
        (name = "users", description = "The signed-in user: profile, password, email, sessions, deletion"),
        (name = "mfa", description = "Second factors: two-factor authentication (TOTP), recovery codes and passkeys"),
        (name = "oidc", description = "Sign in with UContact: the OpenID Connect provider (authorization code flow with PKCE) and its hosted pages"),
        (name = "contacts", description = "The signed-in user's contacts"),
        (name = "service", description = "Health, the public keys that verify access tokens, and OpenID Connect discovery"),
        (name = "docs", description = "This document and the interactive docs"),
    )
)]
struct ApiDoc;

/// The two ways to send an access token: the OAuth2 password flow (what Swagger UI's Authorize
/// button and OAuth2 clients use) and a plain Bearer header.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let password = Password::new(crate::routes::Endpoint::Login.path(), Scopes::new());
        components.add_security_scheme(
            OAUTH2,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(password)],
                "Log in with a username (or email) and password; the access token is the Bearer token",
            )),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from login or refresh"))
                    .build(),
            ),
        );
    }
}

/// The document, built once per process.
fn base_document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// The document as JSON, with `server` (where this deployment answers) as its one server.
pub fn document(server: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut document = base_document().clone();
    document.servers = Some(vec![Server::new(server)]);
    serde_json::to_vec(&document)
}
