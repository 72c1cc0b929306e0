//! The `amr` claim (RFC 8176): how a session signed in.

/// How a session was signed in: the `amr` claim (RFC 8176) of its tokens, shown in its user's
/// session list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Amr {
    /// A password.
    #[default]
    Password,
    /// A password and a TOTP or recovery code.
    PasswordOtp,
    /// A user-verifying passkey.
    Passkey,
}

impl Amr {
    /// The claim's values.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Amr::Password => &["pwd"],
            Amr::PasswordOtp => &["pwd", "otp"],
            Amr::Passkey => &["hwk", "user"],
        }
    }

    /// The methods joined by spaces: how the stores keep it.
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Password => "pwd",
            Amr::PasswordOtp => "pwd otp",
            Amr::Passkey => "hwk user",
        }
    }

    /// The inverse of [`Amr::as_str`] (and of the claim's values joined by spaces).
    pub fn parse(text: &str) -> Option<Self> {
        [Amr::Password, Amr::PasswordOtp, Amr::Passkey]
            .into_iter()
            .find(|amr| amr.as_str() == text)
    }
}
