//! Browser sessions kept in the server's own database (SQLite or PostgreSQL), as
//! `tower-sessions` asks of a store. (`tower-sessions-sqlx-store` lags sqlx 0.9, and the table
//! is small: a session id, its JSON and its expiry.) Expired sessions are never loaded and are
//! purged now and then.

use std::time::Duration;

use controller::store::{SqlStore, StoredSession};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "trellis_session";

/// How often expired sessions are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Sessions in the server's database.
#[derive(Debug, Clone)]
pub struct SqlSessions {
    store: SqlStore,
}

impl SqlSessions {
    /// Sessions kept in `store`.
    pub fn new(store: SqlStore) -> Self {
        SqlSessions { store }
    }

    /// Deletes expired sessions every ten minutes, forever (spawn it).
    pub async fn purge_forever(self) {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
            match self.store.purge_sessions(now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "expired sessions deleted"),
                Err(err) => tracing::warn!(error = %err, "cannot delete expired sessions"),
            }
        }
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn backend(e: controller::store::StoreError) -> Error {
    Error::Backend(e.to_string())
}

fn stored(record: &Record) -> Result<StoredSession> {
    Ok(StoredSession {
        data: serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?,
        expires_at: record.expiry_date.unix_timestamp(),
    })
}

#[async_trait::async_trait]
impl SessionStore for SqlSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let session = stored(record)?;
        // A fresh id until one is free (a collision of 128 random bits is not expected).
        while !self
            .store
            .create_session(&record.id.to_string(), &session)
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.store
            .save_session(&record.id.to_string(), &stored(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(s) = self
            .store
            .load_session(&id.to_string(), now())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&s.data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(s.expires_at)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_round_trip_and_expire() {
        let sessions = SqlSessions::new(SqlStore::open_in_memory().await.unwrap());
        let mut record = Record {
            id: Id::default(),
            data: [("user".to_string(), serde_json::json!({"sub": "alice"}))].into(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        };
        sessions.create(&mut record).await.unwrap();
        let loaded = sessions.load(&record.id).await.unwrap().unwrap();
        assert_eq!(loaded.data, record.data);
        assert_eq!(
            loaded.expiry_date.unix_timestamp(),
            record.expiry_date.unix_timestamp()
        );
        record.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        sessions.save(&record).await.unwrap();
        assert!(
            sessions.load(&record.id).await.unwrap().is_none(),
            "expired"
        );
        sessions.delete(&record.id).await.unwrap();
        assert!(sessions.load(&Id::default()).await.unwrap().is_none());
    }
}
