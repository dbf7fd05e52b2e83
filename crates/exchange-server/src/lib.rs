//! The exchange service: cloud-auth proofs (a signed STS `GetCallerIdentity`, in Vault's or
//! Datadog's shape) and enrollment tokens in, per-agent keys out. Stateless: its state is in a
//! database (SQLite by default, Postgres for replicas), which holds only hashes of what it issues.

pub mod bindings;
pub mod keys;
pub mod proof;
pub mod store;
pub mod sts;
