//! The SES v2 mailer: a simple email with a text and an HTML part, from `MAIL_FROM`.

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use lettre::message::Mailbox;

use super::{MailError, Mailer, OutgoingEmail};

/// Sends through Amazon SES v2.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: Mailbox,
}

fn content(text: &str) -> anyhow::Result<Content> {
    Ok(Content::builder().data(text).charset("UTF-8").build()?)
}

impl SesMailer {
    pub fn new(client: Client, from: Mailbox) -> Self {
        Self { client, from }
    }

    /// Creates the sender's identity if it does not exist (used only against a local emulator,
    /// when `AWS_ENDPOINT_URL` is set; real identities are verified out of band).
    pub async fn ensure_identity(&self) -> anyhow::Result<()> {
        let address = self.from.email.to_string();
        if self
            .client
            .get_email_identity()
            .email_identity(&address)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        self.client
            .create_email_identity()
            .email_identity(&address)
            .send()
            .await
            .with_context(|| format!("Failed to create the SES identity {address}"))?;
        tracing::info!(identity = %address, "created the SES identity");
        Ok(())
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), MailError> {
        let build = || -> anyhow::Result<EmailContent> {
            let message = Message::builder()
                .subject(content(&email.subject)?)
                .body(
                    Body::builder()
                        .text(content(&email.text)?)
                        .html(content(&email.html)?)
                        .build(),
                )
                .build();
            Ok(EmailContent::builder().simple(message).build())
        };
        let content = build().map_err(MailError)?;
        self.client
            .send_email()
            .from_email_address(self.from.to_string())
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(content)
            .send()
            .await
            .map_err(|e| MailError(anyhow!(e).context("SES SendEmail failed")))?;
        tracing::info!(to = %email.to, subject = %email.subject, "email sent through SES");
        Ok(())
    }
}
