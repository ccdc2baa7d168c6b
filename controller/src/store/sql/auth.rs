//! API tokens and browser sessions in SQL. A token is stored as the SHA-256 of its secret, so
//! the database never holds a usable secret; a revoked token keeps its row, so its name is never
//! handed out again. Sessions are opaque JSON with an expiry, purged once expired.

use chrono::{DateTime, Utc};

use super::db::{Row, Sql};
use super::{SqlStore, is_unique_violation};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{format_time, parse_time};

const TOKEN_COLUMNS: &str = "name, role, namespaces, created_by, created_at, expires_at, \
     revoked_at, last_used_at";

/// A token to create: its secret is given only as a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Its unique name, which policy bindings (`token: NAME`) and the audit trail use.
    pub name: String,
    /// The SHA-256 of its secret, in lowercase hex.
    pub secret_hash: String,
    /// The role it holds (`viewer`, `runner`, `approver`, `admin`).
    pub role: String,
    /// The namespace globs its role covers; empty for every namespace.
    pub namespaces: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    /// Its unique name.
    pub name: String,
    /// The role it holds.
    pub role: String,
    /// The namespace globs its role covers; empty for every namespace.
    pub namespaces: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last accepted, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token is accepted at `now`: neither revoked nor expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A stored session: its JSON and when it expires (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session's data, as the session layer wrote it.
    pub data: String,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl SqlStore {
    /// Stores a new token; fails with `AlreadyExists` when the name is taken (also by a
    /// revoked token).
    pub async fn create_api_token(&self, t: &NewApiToken) -> Result<ApiToken> {
        let sql = Sql::new(format!(
            "INSERT INTO api_tokens (name, secret_hash, role, namespaces, created_by, created_at, \
             expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {TOKEN_COLUMNS}"
        ))
        .arg(&t.name)
        .arg(&t.secret_hash)
        .arg(&t.role)
        .arg(serde_json::to_string(&t.namespaces)?)
        .arg(&t.created_by)
        .arg(format_time(Utc::now()))
        .arg(&t.expires_at.map(format_time));
        match self.writer.rows(sql).await {
            Ok(rows) => decode_token(
                rows.first()
                    .ok_or_else(|| StoreError::invalid("API token", "nothing was stored"))?,
            ),
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                Err(StoreError::AlreadyExists {
                    kind: "API token".into(),
                    namespace: String::new(),
                    name: t.name.clone(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Every token, oldest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let sql = Sql::new(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, name"
        ));
        self.reader
            .rows(sql)
            .await?
            .iter()
            .map(decode_token)
            .collect()
    }

    /// The token whose secret hashes to `secret_hash`, active or not.
    pub async fn api_token_by_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>> {
        let sql = Sql::new(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?"
        ))
        .arg(secret_hash);
        self.reader
            .row(sql)
            .await?
            .as_ref()
            .map(decode_token)
            .transpose()
    }

    /// Revokes a token; `NotFound` when no token has that name. Revoking twice keeps the
    /// first time.
    pub async fn revoke_api_token(&self, name: &str) -> Result<ApiToken> {
        let sql =
            Sql::new("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ?")
                .arg(format_time(Utc::now()))
                .arg(name);
        if self.writer.run(sql).await? == 0 {
            return Err(StoreError::NotFound {
                kind: "API token".into(),
                namespace: String::new(),
                name: name.into(),
            });
        }
        let sql = Sql::new(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE name = ?"
        ))
        .arg(name);
        decode_token(
            &self
                .writer
                .row(sql)
                .await?
                .ok_or_else(|| StoreError::invalid("API token", "vanished while revoked"))?,
        )
    }

    /// Records that a token was just accepted.
    pub async fn touch_api_token(&self, name: &str) -> Result<()> {
        let sql = Sql::new("UPDATE api_tokens SET last_used_at = ? WHERE name = ?")
            .arg(format_time(Utc::now()))
            .arg(name);
        self.writer.run(sql).await.map(drop)
    }

    /// The session of that id, unless it expired before `now` (Unix seconds).
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<StoredSession>> {
        let sql = Sql::new("SELECT data, expires_at FROM sessions WHERE id = ? AND expires_at > ?")
            .arg(id)
            .arg(now);
        self.reader
            .row(sql)
            .await?
            .map(|r| {
                Ok(StoredSession {
                    data: r.text("data")?,
                    expires_at: r.int("expires_at")?,
                })
            })
            .transpose()
    }

    /// Stores a new session; `false` (and nothing written) when the id is taken.
    pub async fn create_session(&self, id: &str, s: &StoredSession) -> Result<bool> {
        let sql = Sql::new("INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)")
            .arg(id)
            .arg(&s.data)
            .arg(s.expires_at);
        match self.writer.run_raw(sql).await {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates or replaces a session.
    pub async fn save_session(&self, id: &str, s: &StoredSession) -> Result<()> {
        let sql = Sql::new(
            "INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .arg(id)
        .arg(&s.data)
        .arg(s.expires_at);
        self.writer.run(sql).await.map(drop)
    }

    /// Forgets a session (signing out); forgetting an unknown one is not an error.
    pub async fn delete_session(&self, id: &str) -> Result<()> {
        let sql = Sql::new("DELETE FROM sessions WHERE id = ?").arg(id);
        self.writer.run(sql).await.map(drop)
    }

    /// Deletes the sessions that expired before `now` (Unix seconds); returns how many.
    pub async fn purge_sessions(&self, now: i64) -> Result<u64> {
        let sql = Sql::new("DELETE FROM sessions WHERE expires_at <= ?").arg(now);
        self.writer.run(sql).await
    }
}

fn decode_token(row: &Row) -> Result<ApiToken> {
    let time = |col: &str| row.opt_text(col)?.map(|t| parse_time(&t)).transpose();
    Ok(ApiToken {
        name: row.text("name")?,
        role: row.text("role")?,
        namespaces: serde_json::from_str(&row.text("namespaces")?)?,
        created_by: row.text("created_by")?,
        created_at: parse_time(&row.text("created_at")?)?,
        expires_at: time("expires_at")?,
        revoked_at: time("revoked_at")?,
        last_used_at: time("last_used_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, hash: &str) -> NewApiToken {
        NewApiToken {
            name: name.into(),
            secret_hash: hash.into(),
            role: "runner".into(),
            namespaces: vec!["team-*".into()],
            created_by: "admin".into(),
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn tokens_are_found_by_hash_and_revoked_for_good() {
        let store = SqlStore::open_in_memory().await.unwrap();
        let created = store.create_api_token(&token("ci", "aa")).await.unwrap();
        assert_eq!(created.namespaces, vec!["team-*".to_string()]);
        assert!(created.is_active(Utc::now()));
        let found = store.api_token_by_hash("aa").await.unwrap().unwrap();
        assert_eq!(found.name, "ci");
        assert!(store.api_token_by_hash("ab").await.unwrap().is_none());
        let again = store.create_api_token(&token("ci", "bb")).await;
        assert!(
            matches!(again, Err(StoreError::AlreadyExists { .. })),
            "{again:?}"
        );
        let revoked = store.revoke_api_token("ci").await.unwrap();
        assert!(!revoked.is_active(Utc::now()));
        let first = revoked.revoked_at;
        assert_eq!(
            store.revoke_api_token("ci").await.unwrap().revoked_at,
            first
        );
        assert!(matches!(
            store.revoke_api_token("nope").await,
            Err(StoreError::NotFound { .. })
        ));
        store.touch_api_token("ci").await.unwrap();
        assert!(store.api_tokens().await.unwrap()[0].last_used_at.is_some());
    }

    #[test]
    fn an_expired_token_is_not_active() {
        let now = Utc::now();
        let t = ApiToken {
            name: "t".into(),
            role: "viewer".into(),
            namespaces: vec![],
            created_by: "a".into(),
            created_at: now,
            expires_at: Some(now - chrono::Duration::seconds(1)),
            revoked_at: None,
            last_used_at: None,
        };
        assert!(!t.is_active(now));
        assert!(
            ApiToken {
                expires_at: Some(now + chrono::Duration::seconds(60)),
                ..t
            }
            .is_active(now)
        );
    }

    #[tokio::test]
    async fn sessions_expire_and_ids_are_unique() {
        let store = SqlStore::open_in_memory().await.unwrap();
        let s = StoredSession {
            data: "{}".into(),
            expires_at: 100,
        };
        assert!(store.create_session("a", &s).await.unwrap());
        assert!(!store.create_session("a", &s).await.unwrap());
        assert_eq!(store.load_session("a", 50).await.unwrap(), Some(s.clone()));
        assert_eq!(store.load_session("a", 100).await.unwrap(), None);
        let later = StoredSession {
            data: r#"{"k":1}"#.into(),
            expires_at: 200,
        };
        store.save_session("a", &later).await.unwrap();
        assert_eq!(store.load_session("a", 150).await.unwrap(), Some(later));
        store.save_session("b", &s).await.unwrap();
        assert_eq!(store.purge_sessions(150).await.unwrap(), 1);
        store.delete_session("a").await.unwrap();
        assert_eq!(store.load_session("a", 0).await.unwrap(), None);
    }
}
