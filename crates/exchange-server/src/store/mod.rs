//! The service's state, in SQLite (a file, the default) or Postgres (shared by replicas).
//!
//! One schema and one set of migrations (`migrations/`) serve both, through sqlx's `Any`
//! driver: every statement here is portable SQL (`$1` placeholders, `ON CONFLICT`, `RETURNING`,
//! `TEXT` and `BIGINT` only), so each query is written once. Every method is one statement or one
//! transaction whose first statement writes (it takes the row or database lock before reading),
//! so it stays correct when several replicas share the database.
//!
//! Times are unix milliseconds, passed in by the caller: the store reads no clock. A time-limited
//! thing is valid while `now < expires_at`.
//!
//! The database holds hashes ([`crate::keys::hash`]) and public ids only, never a secret that
//! authenticates.

mod agents;
mod error;
mod logins;
mod lookup;
mod proofs;
mod tokens;

use std::sync::atomic::AtomicI64;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

pub use agents::{Agent, KeyMaterial};
pub use error::{EnrollRefusal, StoreError};
pub use lookup::{KeyKind, Principal, Subject};
pub use tokens::{EnrollmentToken, NewEnrollmentToken, TokenUse};

static MIGRATOR: Migrator = sqlx::migrate!();

/// The state, behind a connection pool; share one per process (`Arc<Store>`).
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    /// When this replica next deletes expired rows (see [`Store::remember_proof`]).
    next_prune_at: AtomicI64,
}

/// How many expired rows [`Store::prune_expired`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Proof signatures past their replay window.
    pub proofs: u64,
    /// Keys past their expiry (login keys, replaced login keys past their grace).
    pub keys: u64,
}

impl Store {
    /// Opens `sqlite://PATH` (created if missing, in WAL mode so readers do not wait for the
    /// writer) or `postgres://...`, and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, sqlite) = database_url(url)?;
        // sqlx's SQLite defaults apply through `Any` too: a 5 s busy timeout (concurrent writers
        // wait for each other instead of failing) and foreign keys on.
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await?;
        if sqlite {
            // Persistent in the file: set once, before the pool opens a second connection.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            next_prune_at: AtomicI64::new(i64::MIN),
        })
    }

    /// Closes every connection (waiting for those in use): for a clean shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Deletes proof signatures past their replay window and keys past their expiry.
    pub async fn prune_expired(&self, now: i64) -> Result<Pruned, StoreError> {
        let proofs = sqlx::query("DELETE FROM proof_signatures WHERE until_ms <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let keys = sqlx::query("DELETE FROM keys WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(Pruned { proofs, keys })
    }
}

/// The URL sqlx opens, and whether it is SQLite. A SQLite file is created if missing
/// (`mode=rwc`) unless the URL chooses a mode.
fn database_url(url: &str) -> Result<(String, bool), StoreError> {
    if url.starts_with("sqlite:") {
        let query = url.split_once('?').map_or("", |(_, query)| query);
        if query.split('&').any(|pair| pair.starts_with("mode=")) {
            return Ok((url.to_owned(), true));
        }
        let separator = if url.contains('?') { '&' } else { '?' };
        return Ok((format!("{url}{separator}mode=rwc"), true));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((url.to_owned(), false));
    }
    Err(StoreError::UnsupportedUrl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_created_unless_a_mode_is_chosen() {
        let url = |u| database_url(u).unwrap();
        assert_eq!(
            url("sqlite:///a/b.db"),
            ("sqlite:///a/b.db?mode=rwc".into(), true)
        );
        assert_eq!(
            url("sqlite://b.db?cache=shared"),
            ("sqlite://b.db?cache=shared&mode=rwc".into(), true)
        );
        assert_eq!(
            url("sqlite://b.db?mode=ro"),
            ("sqlite://b.db?mode=ro".into(), true)
        );
        assert_eq!(
            url("postgres://u@h/db"),
            ("postgres://u@h/db".into(), false)
        );
        assert_eq!(
            url("postgresql://u@h/db"),
            ("postgresql://u@h/db".into(), false)
        );
    }

    #[test]
    fn other_urls_are_refused_without_echoing_them() {
        let refused = database_url("mysql://user:hunter2@h/db").unwrap_err();
        assert!(matches!(refused, StoreError::UnsupportedUrl));
        assert!(!refused.to_string().contains("hunter2"));
        assert!(matches!(
            database_url("/var/lib/x.db"),
            Err(StoreError::UnsupportedUrl)
        ));
    }
}
