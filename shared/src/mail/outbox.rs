//! The local mailer: every email becomes one RFC 5322 `.eml` file in `$UCONTACT_DATA_DIR/outbox/`,
//! readable by any mail client, and its link is logged so that a developer can click it.

use std::path::PathBuf;

use anyhow::Context;
use async_trait::async_trait;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use super::{MailError, Mailer, OutgoingEmail};

/// Writes emails to a folder.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("Failed to create the outbox {}", dir.display()))?;
        Ok(Self { dir, from })
    }

    /// The RFC 5322 text of `email`.
    pub fn render(&self, email: &OutgoingEmail) -> anyhow::Result<Vec<u8>> {
        let part = |content_type: ContentType, body: &str| {
            SinglePart::builder().header(content_type).body(body_of(body))
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse().context("Invalid recipient")?)
            .subject(&email.subject)
            .message_id(None)
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, &email.text))
                    .singlepart(part(ContentType::TEXT_HTML, &email.html)),
            )
            .context("Failed to build the email")?;
        Ok(message.formatted())
    }
}

/// 7bit when the text allows it (ASCII, lines within RFC 5322's 998), so that long links stay on
/// one line and can be grepped or clicked in the file; otherwise whatever lettre picks.
fn body_of(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    if crlf.is_ascii() && !crlf.contains('\0') && crlf.split("\r\n").all(|line| line.len() <= 998) {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        let bytes = self.render(&email).map_err(MailError)?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.dir.join(&name);
        let partial = self.dir.join(format!(".{name}.partial"));
        // Write then rename, so that a reader never sees half an email.
        let written = async {
            tokio::fs::write(&partial, &bytes).await?;
            tokio::fs::rename(&partial, &path).await
        };
        written
            .await
            .with_context(|| format!("Failed to write {}", path.display()))
            .map_err(MailError)?;
        // The links inside are credentials: the log names the file, never its content.
        tracing::info!(to = %email.to, subject = %email.subject, file = %path.display(), "email written to the outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, User, UserId, Username};

    #[test]
    fn user_data_is_escaped_in_html_and_the_link_stays_whole() {
        let user = User {
            id: UserId::new(1).unwrap(),
            username: Username::from_trusted("<b>x</b>".into()),
            email: Email::parse("x@example.com").unwrap(),
            created_at: chrono::Utc::now(),
            avatar: None,
            is_verified: false,
        };
        let link = format!(
            "http://127.0.0.1:8000/api/auth/confirmed_email/{}",
            "a".repeat(200)
        );
        let email = crate::mail::verification_email(&user, link.clone());
        assert!(email.html.contains("&lt;b&gt;x&lt;/b&gt;") && !email.html.contains("<b>x</b>"));
        let outbox = OutboxMailer::new(
            std::env::temp_dir(),
            "UContact <noreply@localhost>".parse().unwrap(),
        )
        .unwrap();
        let text = String::from_utf8(outbox.render(&email).unwrap()).unwrap();
        assert_eq!(
            text.matches(&link).count(),
            3,
            "the link stays whole in both parts: {text}"
        );
        assert!(
            text.contains("multipart/alternative")
                && text.contains("text/html")
                && text.contains("text/plain")
        );
        assert!(text.contains("To: x@example.com"));
    }
}
