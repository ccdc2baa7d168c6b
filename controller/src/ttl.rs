//! Deletes finished workflows whose `ttlStrategy` has run out (Argo's TTL controller). The store
//! keeps an archived workflow in the archive, so its history stays.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::local::{BackendError, LocalBackend};
use crate::store::{Store, StoreError};

/// How often expired workflows are looked for.
pub const TICK: Duration = Duration::from_secs(2);
/// Most workflows deleted in one look.
const BATCH: u32 = 500;

/// Deletes expired workflows of a backend.
pub struct TtlReaper {
    backend: LocalBackend,
}

impl TtlReaper {
    /// A reaper for the workflows of `backend`.
    pub fn new(backend: LocalBackend) -> Self {
        Self { backend }
    }

    /// Runs forever, one [`TtlReaper::tick`] every [`TICK`].
    pub async fn run(self) {
        loop {
            if let Err(e) = self.tick(Utc::now()).await {
                tracing::error!(error = %e, "deleting expired workflows failed");
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// Deletes the workflows expired at `now`; returns how many.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let store = self.backend.store();
        let expired = store.expired_workflows(now, BATCH).await?;
        let mut n = 0;
        for (ns, name, uid) in expired {
            // Still that workflow, and still expired (it may have been retried or made anew).
            let still = match store.get_workflow(&ns, &name).await {
                Ok(wf) => {
                    wf.metadata.as_ref().and_then(|m| m.uid.as_deref()) == Some(uid.as_str())
                        && engine::lifecycle::expires_at(&wf).is_some_and(|t| t <= now)
                }
                Err(StoreError::NotFound { .. }) => false,
                Err(e) => return Err(e),
            };
            if !still {
                continue;
            }
            match self.backend.delete(&ns, &name).await {
                Ok(_) => {
                    n += 1;
                    tracing::info!(workflow.namespace = %ns, workflow.name = %name, "deleted by its ttlStrategy");
                }
                Err(BackendError::Store(StoreError::NotFound { .. })) => {}
                Err(BackendError::Store(e)) => return Err(e),
                Err(e) => {
                    tracing::warn!(workflow.name = %name, error = %e, "deleting an expired workflow failed")
                }
            }
        }
        Ok(n)
    }
}
