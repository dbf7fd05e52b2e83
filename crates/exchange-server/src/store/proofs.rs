//! Replay protection: each proof signature is accepted once, on every replica.

use std::sync::atomic::Ordering;

use super::{Store, StoreError};
use crate::keys;

/// How often a replica deletes expired rows: a proof's replay window is 15 minutes, so the table
/// holds about 16 minutes of logins.
const PRUNE_INTERVAL_MS: i64 = 60_000;

impl Store {
    /// Remembers a proof's signature until `until_ms` (its `X-Amz-Date` + 15 min); true if this is
    /// its first use, false if it was seen before (a replay: refuse the proof).
    ///
    /// One insert that a primary key makes fail on a duplicate, so two replicas given the same
    /// proof at the same instant cannot both see it as fresh. Only the signature's hash is kept.
    /// At most once a minute (`now_ms`), this also deletes expired rows ([`Store::prune_expired`]).
    pub async fn remember_proof(
        &self,
        signature: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        if self.prune_due(now_ms) {
            self.prune_expired(now_ms).await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO proof_signatures (signature_hash, until_ms) VALUES ($1, $2) \
             ON CONFLICT (signature_hash) DO NOTHING",
        )
        .bind(keys::hash(signature))
        .bind(until_ms)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Whether this call should prune: the first at or after the due time wins the swap.
    fn prune_due(&self, now_ms: i64) -> bool {
        let due = self.next_prune_at.load(Ordering::Relaxed);
        now_ms >= due
            && self
                .next_prune_at
                .compare_exchange(
                    due,
                    now_ms.saturating_add(PRUNE_INTERVAL_MS),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}
