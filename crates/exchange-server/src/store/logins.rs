//! Managed API keys of the AWS identities that log in with a proof.

use super::{Store, StoreError};

impl Store {
    /// Makes `key_hash` the current key of `arn` until `expires_at`. Its current key, if still
    /// valid, becomes the previous one and stays valid for `grace_ms` more (never past its own
    /// expiry), so an agent that has not yet picked up its new key keeps working; any older key
    /// is deleted.
    ///
    /// One transaction that starts by writing the ARN's row: concurrent logins of one ARN (on
    /// any replica) rotate one after the other, never leaving two current keys.
    pub async fn issue_login_key(
        &self,
        arn: &str,
        organization: &str,
        key_hash: &str,
        expires_at: i64,
        grace_ms: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let grace_end = now.saturating_add(grace_ms.max(0));
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO logins (arn, organization, first_login_at, last_login_at) \
             VALUES ($1, $2, $3, $3) \
             ON CONFLICT (arn) DO UPDATE \
             SET organization = excluded.organization, last_login_at = excluded.last_login_at",
        )
        .bind(arn)
        .bind(organization)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM keys WHERE arn = $1 AND (slot = 'previous' OR expires_at <= $2)")
            .bind(arn)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE keys SET slot = 'previous', \
             expires_at = CASE WHEN expires_at < $2 THEN expires_at ELSE $2 END \
             WHERE arn = $1 AND slot = 'current'",
        )
        .bind(arn)
        .bind(grace_end)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO keys (lookup, kind, agent_id, arn, organization, slot, created_at, expires_at) \
             VALUES ($1, 'bearer', NULL, $2, $3, 'current', $4, $5)",
        )
        .bind(key_hash)
        .bind(arn)
        .bind(organization)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
