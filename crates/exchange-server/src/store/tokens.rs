//! Enrollment tokens: created by an admin for an organization, shared by many agents, limited in
//! time and in uses, revocable. Only their hashes are stored.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{EnrollRefusal, Store, StoreError};

/// An enrollment token to create: its secret was issued by [`crate::keys::enrollment_token`] and
/// shown once to the admin; only its hash comes here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnrollmentToken {
    /// A public id, to list and revoke it by ([`crate::keys::public_id`]).
    pub id: String,
    /// The admin's name for it.
    pub name: String,
    /// The organization the agents enrolled with it join.
    pub organization: String,
    /// [`crate::keys::hash`] of the token.
    pub token_hash: String,
    /// Unusable from this time on; `None`: never expires.
    pub expires_at: Option<i64>,
    /// How many enrollments it allows; `None`: unlimited.
    pub use_limit: Option<i64>,
}

/// An enrollment token as an admin sees it (without its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentToken {
    /// Its public id.
    pub id: String,
    /// The admin's name for it.
    pub name: String,
    /// The organization the agents enrolled with it join.
    pub organization: String,
    /// When it was created.
    pub created_at: i64,
    /// When it expires, if it does.
    pub expires_at: Option<i64>,
    /// How many enrollments it allows, if limited.
    pub use_limit: Option<i64>,
    /// How many times it was used.
    pub uses: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// A counted use of an enrollment token: what an enrollment needs from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    /// The token's public id (recorded with the agent).
    pub token_id: String,
    /// The organization the agent joins.
    pub organization: String,
}

impl Store {
    /// Records a new enrollment token.
    pub async fn create_enrollment_token(
        &self,
        token: &NewEnrollmentToken,
        now: i64,
    ) -> Result<EnrollmentToken, StoreError> {
        sqlx::query(
            "INSERT INTO enrollment_tokens \
             (id, token_hash, name, organization, created_at, expires_at, use_limit) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.id)
        .bind(&token.token_hash)
        .bind(&token.name)
        .bind(&token.organization)
        .bind(now)
        .bind(token.expires_at)
        .bind(token.use_limit)
        .execute(&self.pool)
        .await?;
        Ok(EnrollmentToken {
            id: token.id.clone(),
            name: token.name.clone(),
            organization: token.organization.clone(),
            created_at: now,
            expires_at: token.expires_at,
            use_limit: token.use_limit,
            uses: 0,
            revoked_at: None,
        })
    }

    /// Every enrollment token, oldest first (revoked and expired ones too).
    pub async fn list_enrollment_tokens(&self) -> Result<Vec<EnrollmentToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, organization, created_at, expires_at, use_limit, uses, revoked_at \
             FROM enrollment_tokens ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token; false if no unrevoked token has this id.
    pub async fn revoke_enrollment_token(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let revoked = sqlx::query(
            "UPDATE enrollment_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(revoked.rows_affected() == 1)
    }

    /// Counts a use of the token with this hash, if it is usable: not revoked, not expired, uses
    /// left.
    ///
    /// The checks and the count are one `UPDATE ... WHERE ... RETURNING`: Postgres re-checks the
    /// `WHERE` of a row another transaction just updated, SQLite runs one writer at a time, so
    /// concurrent uses on any number of replicas never exceed the limit. A use is counted even if
    /// the enrollment that follows is refused.
    pub async fn use_enrollment_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Result<TokenUse, EnrollRefusal>, StoreError> {
        let used = sqlx::query(
            "UPDATE enrollment_tokens SET uses = uses + 1 \
             WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2) \
             AND (use_limit IS NULL OR uses < use_limit) \
             RETURNING id, organization",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = used {
            return Ok(Ok(TokenUse {
                token_id: row.try_get("id")?,
                organization: row.try_get("organization")?,
            }));
        }
        self.token_refusal(token_hash, now).await.map(Err)
    }

    /// Why a token was not usable (read after the refused update: for the caller's message only).
    async fn token_refusal(&self, token_hash: &str, now: i64) -> Result<EnrollRefusal, StoreError> {
        let row = sqlx::query(
            "SELECT revoked_at, expires_at FROM enrollment_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(EnrollRefusal::UnknownToken);
        };
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        let expires_at: Option<i64> = row.try_get("expires_at")?;
        Ok(if revoked_at.is_some() {
            EnrollRefusal::TokenRevoked
        } else if expires_at.is_some_and(|expires_at| expires_at <= now) {
            EnrollRefusal::TokenExpired
        } else {
            EnrollRefusal::TokenExhausted
        })
    }
}

fn token_from_row(row: &AnyRow) -> Result<EnrollmentToken, StoreError> {
    Ok(EnrollmentToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        organization: row.try_get("organization")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        use_limit: row.try_get("use_limit")?,
        uses: row.try_get("uses")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}
