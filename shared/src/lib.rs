//! UContact's domain crate, shared by every Lambda function and by the local server.
//!
//! A request flows: transport (API Gateway event or local HTTP) → [`routes`] → a handler in
//! [`handlers`] → a use case in [`auth`], [`account`], [`mfa`] or [`contacts`] → the [`store`] and [`mail`] ports → an adapter.
//! Only [`http`], [`handlers`], [`routes`] and [`lambda`] know about HTTP; the use cases and ports
//! speak in domain types ([`domain`]).

pub mod account;
pub mod app;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod domain;
pub mod handlers;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod lambda;
pub mod mail;
pub mod mfa;
pub mod oidc;
pub mod openapi;
pub mod passkeys;
pub mod password;
pub mod password_policy;
pub mod routes;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod tokens;

pub use app::App;
pub use config::Config;
