//! Memoization on the local backend: a fresh cache entry stands in for a step, and the outputs
//! of a memoized step that succeeded are stored for the next run.

use chrono::{DateTime, Utc};
use engine::model::NodePhase;
use engine::plan::StepObservation;

use super::Driver;
use crate::store::Store;

impl Driver {
    /// The cached outputs of a memoized step, as a Succeeded observation, when the cache has a
    /// fresh entry. A store error is logged and the step runs.
    pub(super) async fn memo_hit(&self, m: &engine::plan::Memo) -> Option<StepObservation> {
        let entry = match self
            .inner
            .store
            .memo_get(&self.layout.namespace, &m.cache, &m.key)
            .await
        {
            Ok(e) => e?,
            Err(e) => {
                tracing::warn!(cache = %m.cache, key = %m.key, error = %e, "reading the memoization cache failed; the step runs");
                return None;
            }
        };
        let now = Utc::now();
        if !memo_fresh(entry.created_at, m.max_age_seconds, now) {
            return None;
        }
        let outputs = serde_json::from_value(entry.outputs).ok()?;
        let at = engine::plan::format_time(now);
        Some(StepObservation {
            phase: NodePhase::Succeeded,
            started_at: Some(at.clone()),
            finished_at: Some(at),
            outputs: Some(outputs),
            memo_hit: true,
            ..Default::default()
        })
    }

    /// Stores the outputs of memoized steps that succeeded (kept for the next try on failure).
    pub(super) async fn save_memos(&mut self) {
        let ns = self.layout.namespace.clone();
        let mut failed = Vec::new();
        for (m, node_id, outputs) in std::mem::take(&mut self.memo_saves) {
            if let Err(e) = self
                .inner
                .store
                .memo_put(&ns, &m.cache, &m.key, &node_id, &outputs)
                .await
            {
                tracing::warn!(cache = %m.cache, key = %m.key, error = %e, "storing memoized outputs failed");
                failed.push((m, node_id, outputs));
            }
        }
        self.memo_saves = failed;
    }
}

/// Whether a cache entry made at `created` may still be used under `maxAge` (in seconds).
fn memo_fresh(created: DateTime<Utc>, max_age_seconds: Option<i64>, now: DateTime<Utc>) -> bool {
    max_age_seconds.is_none_or(|s| now - created <= chrono::Duration::seconds(s))
}

#[cfg(test)]
mod tests {
    use super::memo_fresh;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn entries_older_than_max_age_are_stale() {
        let made = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(memo_fresh(made, None, made + Duration::days(400)));
        assert!(memo_fresh(made, Some(60), made + Duration::seconds(60)));
        assert!(!memo_fresh(made, Some(60), made + Duration::seconds(61)));
        assert!(!memo_fresh(made, Some(0), made + Duration::seconds(1)));
    }
}
