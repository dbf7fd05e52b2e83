//! AWS credentials: the secret parts are zeroized on drop and never shown by `Debug`.

use alloc::string::String;
use core::fmt;
use zeroize::Zeroizing;

use crate::error::{Error, Field, check_text};

/// An access key id, its secret access key and, for temporary credentials, a session token.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// Validates and holds credentials.
    ///
    /// The access key id goes into the credential scope, so it must be visible ASCII without `/`;
    /// the session token travels in a header or a query parameter, so it must be visible ASCII.
    pub fn new(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> Result<Self, Error> {
        Credentials::check(access_key_id, secret_access_key, session_token)?;
        Ok(Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.map(|t| Zeroizing::new(t.into())),
        })
    }

    /// What [`Credentials::new`] checks: an access key id of visible ASCII without `/`, a
    /// secret, a token of visible ASCII.
    pub(crate) fn check(
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
    ) -> Result<(), Error> {
        check_text(access_key_id, Field::AccessKeyId, |b| {
            b.is_ascii_graphic() && b != b'/'
        })?;
        if secret_access_key.is_empty() {
            return Err(Error::Empty(Field::SecretAccessKey));
        }
        if let Some(token) = session_token {
            check_text(token, Field::SessionToken, |b| b.is_ascii_graphic())?;
        }
        Ok(())
    }

    /// The access key id (not a secret: it appears in every `Authorization` header).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::new("AKID", "SECRETMARKER", Some("TOKENMARKER")).unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("SECRETMARKER"));
        assert!(!shown.contains("TOKENMARKER"));
    }

    #[test]
    fn rejects_bad_fields_by_name() {
        assert_eq!(
            Credentials::new("", "s", None).unwrap_err(),
            Error::Empty(Field::AccessKeyId)
        );
        assert_eq!(
            Credentials::new("AK/ID", "s", None).unwrap_err().field(),
            Field::AccessKeyId
        );
        assert_eq!(
            Credentials::new("AKID", "", None).unwrap_err(),
            Error::Empty(Field::SecretAccessKey)
        );
        assert_eq!(
            Credentials::new("AKID", "s", Some("a\nb"))
                .unwrap_err()
                .field(),
            Field::SessionToken
        );
    }
}
