//! The mail port, the emails the service sends, and their adapters.

#[cfg(feature = "embedded")]
pub mod outbox;
#[cfg(feature = "ses")]
pub mod ses;

use async_trait::async_trait;
use html_escape::{encode_double_quoted_attribute, encode_text};

use crate::domain::{Email, User};

/// A ready-to-send email with a plain-text and an HTML body.
#[derive(Clone)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Sending failed; the cause is for the log only.
#[derive(Debug, thiserror::Error)]
#[error("sending an email failed")]
pub struct MailError(#[source] pub anyhow::Error);

/// The mail port.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError>;
}

/// The email that confirms an address after registration.
pub fn verification_email(user: &User, link: String) -> OutgoingEmail {
    let name = user.username.as_str();
    OutgoingEmail {
        to: user.email.with_ascii_domain(),
        subject: "Confirm your email".into(),
        text: format!(
            "Hello {name},\n\nConfirm your email address by opening this link:\n\n{link}\n\n\
             If you did not create a UContact account, ignore this email.\n"
        ),
        html: html_page(
            name,
            "Confirm your email address by opening this link:",
            &link,
            "Confirm email",
            "If you did not create a UContact account, ignore this email.",
        ),
    }
}

/// The email that lets a user choose a new password.
pub fn reset_email(user: &User, link: String, valid_minutes: i64) -> OutgoingEmail {
    let name = user.username.as_str();
    OutgoingEmail {
        to: user.email.with_ascii_domain(),
        subject: "Reset your password".into(),
        text: format!(
            "Hello {name},\n\nChoose a new password by opening this link within {valid_minutes} minutes:\n\n{link}\n\n\
             If you did not ask for this, ignore this email: your password stays as it is.\n"
        ),
        html: html_page(
            name,
            &format!("Choose a new password by opening this link within {valid_minutes} minutes:"),
            &link,
            "Reset password",
            "If you did not ask for this, ignore this email: your password stays as it is.",
        ),
    }
}

/// The email to a new address that moves the account's email there once followed.
pub fn email_change_email(user: &User, to: &Email, link: String) -> OutgoingEmail {
    let name = user.username.as_str();
    OutgoingEmail {
        to: to.with_ascii_domain(),
        subject: "Confirm your new email".into(),
        text: format!(
            "Hello {name},\n\nMake this your UContact email address by opening this link:\n\n{link}\n\n\
             If you did not ask for this, ignore this email: nothing changes.\n"
        ),
        html: html_page(
            name,
            "Make this your UContact email address by opening this link:",
            &link,
            "Confirm new email",
            "If you did not ask for this, ignore this email: nothing changes.",
        ),
    }
}

/// The notice to the old address after the account's email moved.
pub fn email_changed_notice(before: &User, new_email: &Email) -> OutgoingEmail {
    let intro = format!(
        "The email address of your UContact account is now {new_email}, and every session was signed out.",
        new_email = new_email.as_str()
    );
    plain_notice(before, "Your email address was changed", &intro, FOOTER)
}

/// A notice about the account's second factors.
pub fn security_notice(user: &User, notice: crate::jobs::SecurityNotice) -> OutgoingEmail {
    use crate::jobs::SecurityNotice;
    let (subject, intro) = match notice {
        SecurityNotice::TotpDisabled => (
            "Two-factor authentication was turned off",
            "Two-factor authentication was turned off for your UContact account: signing in now takes only your password.",
        ),
        SecurityNotice::PasskeyAdded => (
            "A passkey was added to your account",
            "A passkey was added to your UContact account: it can now sign in without your password or code.",
        ),
    };
    let footer = match notice {
        // A password reset leaves passkeys in place: the passkey itself has to go.
        SecurityNotice::PasskeyAdded => {
            "If you did not do this, delete the passkey (your passkeys are listed at GET /api/users/me/passkeys), then change your password and sign out every session."
        }
        SecurityNotice::TotpDisabled => FOOTER,
    };
    plain_notice(user, subject, intro, footer)
}

const FOOTER: &str = "If you did not do this, reset your password and contact support.";

/// A notice without a link, in plain text and HTML.
fn plain_notice(user: &User, subject: &str, intro: &str, footer: &str) -> OutgoingEmail {
    let name = user.username.as_str();
    OutgoingEmail {
        to: user.email.with_ascii_domain(),
        subject: subject.into(),
        text: format!("Hello {name},\n\n{intro}\n\n{footer}\n"),
        html: format!(
            "<!DOCTYPE html>\n<html><body>\n<p>Hello {name},</p>\n<p>{intro}</p>\n<p>{footer}</p>\n</body></html>\n",
            name = encode_text(name),
            intro = encode_text(intro),
            footer = encode_text(footer),
        ),
    }
}

fn html_page(name: &str, intro: &str, link: &str, action: &str, footer: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><body>\n<p>Hello {name},</p>\n<p>{intro}</p>\n\
         <p><a href=\"{href}\">{action}</a></p>\n<p>{link_text}</p>\n<p>{footer}</p>\n</body></html>\n",
        name = encode_text(name),
        intro = encode_text(intro),
        href = encode_double_quoted_attribute(link),
        action = encode_text(action),
        link_text = encode_text(link),
        footer = encode_text(footer),
    )
}
