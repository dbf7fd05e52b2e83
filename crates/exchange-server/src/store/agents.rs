//! Enrolled agents, their keys and their replace tokens.

use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};

use super::{EnrollRefusal, KeyKind, Store, StoreError, TokenUse};

/// The key an agent is issued, as the database keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// An API key: its [`crate::keys::hash`].
    Bearer {
        /// The hash.
        hash: String,
    },
    /// A SigV4 key pair: its access key id (the secret is derived, never stored).
    SigV4 {
        /// The access key id.
        access_key_id: String,
    },
}

impl KeyMaterial {
    fn lookup(&self) -> &str {
        match self {
            KeyMaterial::Bearer { hash } => hash,
            KeyMaterial::SigV4 { access_key_id } => access_key_id,
        }
    }

    fn kind(&self) -> KeyKind {
        match self {
            KeyMaterial::Bearer { .. } => KeyKind::Bearer,
            KeyMaterial::SigV4 { .. } => KeyKind::SigV4,
        }
    }
}

/// An enrolled agent, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// The id it enrolled with.
    pub id: String,
    /// The organization its enrollment token named.
    pub organization: String,
    /// What it said about itself (JSON text), as of its last enrollment.
    pub metadata_json: String,
    /// The public id of the enrollment token it first enrolled with.
    pub enrolled_with: String,
    /// When it first enrolled.
    pub enrolled_at: i64,
    /// When it last enrolled (first or again).
    pub updated_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Its current key's kind.
    pub key_kind: Option<KeyKind>,
}

impl Store {
    /// Records a new agent and its key, in the organization of the token it used. Refused with
    /// [`EnrollRefusal::AlreadyEnrolled`] if the id is taken (revoked agents included): only
    /// [`Store::reenroll_agent`], with the replace token, enrolls an id again.
    pub async fn enroll_agent(
        &self,
        id: &str,
        token: &TokenUse,
        metadata_json: &str,
        key: &KeyMaterial,
        replace_token_hash: &str,
        now: i64,
    ) -> Result<Result<(), EnrollRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The primary key decides between concurrent enrollments of one id.
        let inserted = sqlx::query(
            "INSERT INTO agents \
             (id, organization, metadata, enrolled_with, replace_token_hash, enrolled_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(&token.organization)
        .bind(metadata_json)
        .bind(&token.token_id)
        .bind(replace_token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Err(EnrollRefusal::AlreadyEnrolled));
        }
        insert_agent_key(&mut tx, id, &token.organization, key, now).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Enrolls an agent again with its replace token: its key and replace token are replaced
    /// (the old key's row is gone at once; replicas' caches forget it within a second) and its metadata updated. Answers its organization.
    ///
    /// The replace token is checked by the `UPDATE` that replaces it, so it can be used once.
    pub async fn reenroll_agent(
        &self,
        id: &str,
        replace_token_hash: &str,
        metadata_json: &str,
        key: &KeyMaterial,
        new_replace_token_hash: &str,
        now: i64,
    ) -> Result<Result<String, EnrollRefusal>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE agents SET replace_token_hash = $3, metadata = $4, updated_at = $5 \
             WHERE id = $1 AND replace_token_hash = $2 AND revoked_at IS NULL \
             RETURNING organization",
        )
        .bind(id)
        .bind(replace_token_hash)
        .bind(new_replace_token_hash)
        .bind(metadata_json)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = updated else {
            tx.rollback().await?;
            return self.reenroll_refusal(id).await.map(Err);
        };
        let organization: String = row.try_get("organization")?;
        sqlx::query("DELETE FROM keys WHERE agent_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_agent_key(&mut tx, id, &organization, key, now).await?;
        tx.commit().await?;
        Ok(Ok(organization))
    }

    /// Why a re-enrollment was refused (for the caller's message only).
    async fn reenroll_refusal(&self, id: &str) -> Result<EnrollRefusal, StoreError> {
        let row = sqlx::query("SELECT revoked_at FROM agents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(EnrollRefusal::UnknownAgent);
        };
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        Ok(if revoked_at.is_some() {
            EnrollRefusal::AgentRevoked
        } else {
            EnrollRefusal::BadReplaceToken
        })
    }

    /// Revokes an agent: its key stops working on the next lookup, on every replica; false if no
    /// unrevoked agent has this id.
    pub async fn revoke_agent(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let revoked =
            sqlx::query("UPDATE agents SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
        Ok(revoked.rows_affected() == 1)
    }

    /// Every agent, in the order they enrolled (revoked ones too).
    pub async fn list_agents(&self) -> Result<Vec<Agent>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.organization, a.metadata, a.enrolled_with, a.enrolled_at, \
             a.updated_at, a.revoked_at, k.kind \
             FROM agents a LEFT JOIN keys k ON k.agent_id = a.id AND k.slot = 'current' \
             ORDER BY a.enrolled_at, a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(agent_from_row).collect()
    }
}

async fn insert_agent_key(
    tx: &mut Transaction<'_, Any>,
    agent_id: &str,
    organization: &str,
    key: &KeyMaterial,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO keys (lookup, kind, agent_id, arn, organization, slot, created_at, expires_at) \
         VALUES ($1, $2, $3, NULL, $4, 'current', $5, NULL)",
    )
    .bind(key.lookup())
    .bind(key.kind().as_str())
    .bind(agent_id)
    .bind(organization)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn agent_from_row(row: &AnyRow) -> Result<Agent, StoreError> {
    let kind: Option<String> = row.try_get("kind")?;
    Ok(Agent {
        id: row.try_get("id")?,
        organization: row.try_get("organization")?,
        metadata_json: row.try_get("metadata")?,
        enrolled_with: row.try_get("enrolled_with")?,
        enrolled_at: row.try_get("enrolled_at")?,
        updated_at: row.try_get("updated_at")?,
        revoked_at: row.try_get("revoked_at")?,
        key_kind: kind.as_deref().map(KeyKind::parse).transpose()?,
    })
}
