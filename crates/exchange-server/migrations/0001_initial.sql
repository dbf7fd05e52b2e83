-- One schema for SQLite and Postgres: TEXT and BIGINT only (times are unix milliseconds, flags
-- are nullable times such as revoked_at), no sequences, no backend-specific types.
-- The database holds hashes and public ids only: never a key, token or secret that authenticates.

-- Replay protection: the SHA-256 of each proof's signature, until the proof expires
-- (its X-Amz-Date + 15 min). The primary key makes "first use" one atomic insert on every replica.
CREATE TABLE proof_signatures (
    signature_hash TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL
);
CREATE INDEX proof_signatures_until ON proof_signatures (until_ms);

-- Enrollment tokens: created by an admin for one organization, shared by many agents.
-- use_limit NULL: unlimited; expires_at NULL: never.
CREATE TABLE enrollment_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    organization TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    use_limit BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT
);

-- Enrolled agents. replace_token_hash: the hash of the token that lets this id enroll again.
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    metadata TEXT NOT NULL,
    enrolled_with TEXT NOT NULL,
    replace_token_hash TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Identities that logged in with a proof: one row per ARN, locked while its key rotates.
CREATE TABLE logins (
    arn TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    first_login_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL
);

-- Every key that authenticates a request, found by one primary-key read:
-- lookup is the hex SHA-256 of a bearer key, or a SigV4 access key id (public, as in AWS; its
-- secret is derived from the server's master key). A key belongs to an agent or to an ARN.
-- slot: 'current', or 'previous' (a login key replaced less than a grace period ago).
-- expires_at NULL: valid until replaced, or until its agent is revoked.
CREATE TABLE keys (
    lookup TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('bearer', 'sigv4')),
    agent_id TEXT REFERENCES agents (id),
    arn TEXT REFERENCES logins (arn),
    organization TEXT NOT NULL,
    slot TEXT NOT NULL CHECK (slot IN ('current', 'previous')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    CHECK ((agent_id IS NULL) <> (arn IS NULL))
);
-- At most one current and one previous key per subject (NULLs are distinct in both backends).
CREATE UNIQUE INDEX keys_agent_slot ON keys (agent_id, slot);
CREATE UNIQUE INDEX keys_arn_slot ON keys (arn, slot);
CREATE INDEX keys_expires ON keys (expires_at);
