//! Authenticating a request: from a key to who presents it.

use sqlx::Row as _;

use super::{Store, StoreError};

/// How an agent authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An API key in a header; the database holds its hash.
    Bearer,
    /// SigV4-signed requests; the database holds the access key id, the secret is derived.
    SigV4,
}

impl KeyKind {
    /// `bearer` or `sigv4`, as the API and the database name it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Bearer => "bearer",
            KeyKind::SigV4 => "sigv4",
        }
    }

    pub(super) fn parse(text: &str) -> Result<KeyKind, StoreError> {
        match text {
            "bearer" => Ok(KeyKind::Bearer),
            "sigv4" => Ok(KeyKind::SigV4),
            _ => Err(StoreError::Corrupt { column: "kind" }),
        }
    }
}

/// Who a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An enrolled agent, by its id.
    Agent(String),
    /// An AWS identity that logged in with a proof, by its ARN.
    Arn(String),
}

/// Who presented a valid key. A replica may cache it for at most 1 s (so a revocation takes
/// effect everywhere within 2 s), and never past `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's owner.
    pub subject: Subject,
    /// The organization it acts for.
    pub organization: String,
    /// How it authenticated.
    pub kind: KeyKind,
    /// When the key stops being valid; `None`: when it is replaced or its agent revoked.
    pub expires_at: Option<i64>,
}

impl Store {
    /// The owner of the bearer key with this hash ([`crate::keys::hash`]), if the key is valid at
    /// `now`: its agent's current key (and the agent not revoked), or an ARN's current login key
    /// or its previous one within the grace period.
    ///
    /// The database finds the row by the hash: timing tells an attacker about hashes, never
    /// about a key (finding a key from its hash is SHA-256's preimage problem).
    pub async fn lookup_bearer(
        &self,
        key_hash: &str,
        now: i64,
    ) -> Result<Option<Principal>, StoreError> {
        self.lookup(key_hash, KeyKind::Bearer, now).await
    }

    /// The owner of a SigV4 access key id, if valid at `now` (as [`Store::lookup_bearer`]); the
    /// caller derives the secret ([`crate::keys::sigv4_secret`]) to verify the signature.
    pub async fn lookup_sigv4(
        &self,
        access_key_id: &str,
        now: i64,
    ) -> Result<Option<Principal>, StoreError> {
        self.lookup(access_key_id, KeyKind::SigV4, now).await
    }

    async fn lookup(
        &self,
        lookup: &str,
        kind: KeyKind,
        now: i64,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT k.agent_id, k.arn, k.organization, k.expires_at \
             FROM keys k LEFT JOIN agents a ON a.id = k.agent_id \
             WHERE k.lookup = $1 AND k.kind = $2 \
             AND (k.expires_at IS NULL OR k.expires_at > $3) \
             AND (k.agent_id IS NULL OR a.revoked_at IS NULL)",
        )
        .bind(lookup)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let agent: Option<String> = row.try_get("agent_id")?;
        let arn: Option<String> = row.try_get("arn")?;
        let subject = match (agent, arn) {
            (Some(agent), None) => Subject::Agent(agent),
            (None, Some(arn)) => Subject::Arn(arn),
            _ => return Err(StoreError::Corrupt { column: "agent_id" }),
        };
        Ok(Some(Principal {
            subject,
            organization: row.try_get("organization")?,
            kind,
            expires_at: row.try_get("expires_at")?,
        }))
    }
}
