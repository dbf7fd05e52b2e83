//! What can go wrong: the database (a [`StoreError`]), or the request (an [`EnrollRefusal`]).
//!
//! Methods that can refuse return `Result<Result<T, EnrollRefusal>, StoreError>`: the outer error
//! is the service's fault (answer 5xx), the inner one the caller's (answer 4xx).

use std::fmt;

/// The database failed or holds what the schema forbids. Carries no secret: the store is only
/// ever given hashes and public ids.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres:` (not echoed: it may hold a password).
    UnsupportedUrl,
    /// A query or a connection failed.
    Database(sqlx::Error),
    /// The schema could not be brought up to date.
    Migrate(sqlx::migrate::MigrateError),
    /// A row holds a value the schema does not allow (its column named).
    Corrupt {
        /// The column.
        column: &'static str,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::UnsupportedUrl => {
                f.write_str("database URL: expected sqlite://PATH or postgres://...")
            }
            StoreError::Database(e) => write!(f, "database: {e}"),
            StoreError::Migrate(e) => write!(f, "database migration: {e}"),
            StoreError::Corrupt { column } => write!(f, "database: unexpected value in {column}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Database(e) => Some(e),
            StoreError::Migrate(e) => Some(e),
            StoreError::UnsupportedUrl | StoreError::Corrupt { .. } => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

/// Why an enrollment token, an enrollment or a re-enrollment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrollRefusal {
    /// No enrollment token has this hash.
    UnknownToken,
    /// The enrollment token was revoked.
    TokenRevoked,
    /// The enrollment token is past its expiry.
    TokenExpired,
    /// The enrollment token was used as many times as its limit allows.
    TokenExhausted,
    /// An agent with this id is enrolled: only its replace token can enroll it again.
    AlreadyEnrolled,
    /// No agent has this id (re-enrollment).
    UnknownAgent,
    /// The agent was revoked: it cannot enroll again.
    AgentRevoked,
    /// The replace token is not the agent's current one.
    BadReplaceToken,
}

impl fmt::Display for EnrollRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnrollRefusal::UnknownToken => "unknown enrollment token",
            EnrollRefusal::TokenRevoked => "the enrollment token was revoked",
            EnrollRefusal::TokenExpired => "the enrollment token has expired",
            EnrollRefusal::TokenExhausted => "the enrollment token has no uses left",
            EnrollRefusal::AlreadyEnrolled => "the agent is enrolled: present its replace token",
            EnrollRefusal::UnknownAgent => "unknown agent",
            EnrollRefusal::AgentRevoked => "the agent was revoked",
            EnrollRefusal::BadReplaceToken => "wrong replace token",
        })
    }
}

impl std::error::Error for EnrollRefusal {}
