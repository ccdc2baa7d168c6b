//! Mutexes and semaphores (`synchronization`) shared by every workflow of this process.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use engine::plan::Lock;
use tokio::sync::Notify;

/// The holders of each lock; waiters are woken whenever a lock is released.
#[derive(Debug, Default, Clone)]
pub struct Locks {
    inner: Arc<Mutex<HashMap<String, BTreeSet<String>>>>,
    released: Arc<Notify>,
}

impl Locks {
    /// Takes every lock for `holder`, or none of them. Taking locks one already holds succeeds.
    pub fn try_acquire(&self, holder: &str, locks: &[Lock]) -> bool {
        let Ok(mut map) = self.inner.lock() else {
            return false;
        };
        let free = locks.iter().all(|l| {
            let h = map.get(&l.key);
            h.is_none_or(|h| h.contains(holder) || h.len() < l.limit.max(1) as usize)
        });
        if free {
            for l in locks {
                map.entry(l.key.clone())
                    .or_default()
                    .insert(holder.to_string());
            }
        }
        free
    }

    /// Gives back every lock `holder` has.
    pub fn release(&self, holder: &str) {
        if let Ok(mut map) = self.inner.lock() {
            for holders in map.values_mut() {
                holders.remove(holder);
            }
            map.retain(|_, h| !h.is_empty());
        }
        self.released.notify_waiters();
    }

    /// Waits until some lock is released.
    pub async fn changed(&self) {
        self.released.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutex_has_one_holder_and_is_reentrant() {
        let l = Locks::default();
        let m = [Lock {
            key: "ns/mutex/a".into(),
            limit: 1,
        }];
        assert!(l.try_acquire("x", &m));
        assert!(l.try_acquire("x", &m));
        assert!(!l.try_acquire("y", &m));
        l.release("x");
        assert!(l.try_acquire("y", &m));
    }

    #[test]
    fn all_or_nothing() {
        let l = Locks::default();
        let a = Lock {
            key: "a".into(),
            limit: 1,
        };
        let b = Lock {
            key: "b".into(),
            limit: 2,
        };
        assert!(l.try_acquire("x", std::slice::from_ref(&a)));
        assert!(!l.try_acquire("y", &[b.clone(), a]));
        assert!(l.try_acquire("y", std::slice::from_ref(&b)));
        assert!(l.try_acquire("z", &[b]));
    }
}
