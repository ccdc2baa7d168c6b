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
    /// How many releases so far: a waiter compares it with what it saw when its try failed.
    generation: Arc<std::sync::atomic::AtomicU64>,
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
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.released.notify_waiters();
    }

    /// The number of releases so far; read it before a try, and pass it to [`Self::changed`].
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until some lock is released after `seen` (at once if one already was).
    pub async fn changed(&self, seen: u64) {
        let next = self.released.notified();
        tokio::pin!(next);
        next.as_mut().enable();
        if self.generation() != seen {
            return;
        }
        next.await;
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

    #[tokio::test]
    async fn a_release_between_a_try_and_the_wait_is_not_missed() {
        let l = Locks::default();
        let m = [Lock {
            key: "ns/mutex/a".into(),
            limit: 1,
        }];
        assert!(l.try_acquire("x", &m));
        let seen = l.generation();
        assert!(!l.try_acquire("y", &m));
        l.release("x");
        tokio::time::timeout(std::time::Duration::from_secs(1), l.changed(seen))
            .await
            .expect("the release already happened");
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
