//! Leader election on a `coordination.k8s.io/v1` Lease, so hot-standby replicas of the
//! controller wait while one runs workflows. The leader renews the Lease every third of its
//! duration; a standby takes it over once it has not been renewed for a whole duration. Every
//! write carries the Lease's `resourceVersion`, so two replicas can never both take it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

/// What a replica does with the Lease as it finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// No Lease yet: create it, held by us.
    Create(Lease),
    /// Write this (ours now, or renewed): replace with the read `resourceVersion`.
    Write(Lease),
    /// Another replica holds it and renewed it recently: wait.
    Wait,
}

/// Decides what to do with the Lease (`None`: it does not exist) at `now`.
pub fn step(
    current: Option<&Lease>,
    name: &str,
    me: &str,
    now: DateTime<Utc>,
    duration: Duration,
) -> Step {
    let seconds = i32::try_from(duration.as_secs()).unwrap_or(i32::MAX);
    let Some(lease) = current else {
        return Step::Create(Lease {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(me.into()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(MicroTime(crate::k8s::to_k8s_time(now))),
                renew_time: Some(MicroTime(crate::k8s::to_k8s_time(now))),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        });
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    let mut next = lease.clone();
    if holder == me {
        next.spec = Some(LeaseSpec {
            renew_time: Some(MicroTime(crate::k8s::to_k8s_time(now))),
            lease_duration_seconds: Some(seconds),
            ..spec
        });
        return Step::Write(next);
    }
    let held_for = spec.lease_duration_seconds.map_or(seconds, |s| s.max(1));
    let expired = match &spec.renew_time {
        Some(t) => {
            crate::k8s::from_k8s_time(t.0) + chrono::Duration::seconds(i64::from(held_for)) <= now
        }
        None => true,
    };
    if !holder.is_empty() && !expired {
        return Step::Wait;
    }
    next.spec = Some(LeaseSpec {
        holder_identity: Some(me.into()),
        lease_duration_seconds: Some(seconds),
        acquire_time: Some(MicroTime(crate::k8s::to_k8s_time(now))),
        renew_time: Some(MicroTime(crate::k8s::to_k8s_time(now))),
        lease_transitions: Some(spec.lease_transitions.unwrap_or(0) + 1),
        ..spec
    });
    Step::Write(next)
}

/// Tries once; `Ok(true)` when we hold the Lease afterwards.
async fn try_hold(
    api: &Api<Lease>,
    name: &str,
    me: &str,
    duration: Duration,
) -> Result<bool, kube::Error> {
    let current = api.get_opt(name).await?;
    let result = match step(current.as_ref(), name, me, Utc::now(), duration) {
        Step::Wait => return Ok(false),
        Step::Create(l) => api.create(&PostParams::default(), &l).await,
        Step::Write(l) => api.replace(name, &PostParams::default(), &l).await,
    };
    match result {
        Ok(_) => Ok(true),
        // Someone else wrote first.
        Err(kube::Error::Api(s)) if s.is_conflict() || s.is_already_exists() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Waits until this replica (`me`) holds the Lease.
pub async fn acquire(api: &Api<Lease>, name: &str, me: &str, duration: Duration) {
    let mut told = false;
    loop {
        match try_hold(api, name, me, duration).await {
            Ok(true) => return,
            Ok(false) if !told => {
                tracing::info!(lease = name, "another replica leads; standing by");
                told = true;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(lease = name, error = %e, "reading the lease failed"),
        }
        tokio::time::sleep(duration / 3).await;
    }
}

/// Renews the Lease while we hold it; returns (with why) once it is lost: taken over, or not
/// renewed for two thirds of its duration.
pub async fn keep(api: &Api<Lease>, name: &str, me: &str, duration: Duration) -> String {
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(duration / 3).await;
        match try_hold(api, name, me, duration).await {
            Ok(true) => last = tokio::time::Instant::now(),
            Ok(false) => return format!("lease {name} was taken over by another replica"),
            Err(e) => {
                tracing::warn!(lease = name, error = %e, "renewing the lease failed");
                // Two thirds of the duration, so that this replica stops before a standby may
                // take over (at a whole duration after the last renewal).
                if last.elapsed() >= duration * 2 / 3 {
                    return format!("lease {name} could not be renewed for {duration:?}: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Duration = Duration::from_secs(15);

    fn held_by(who: &str, renewed: DateTime<Utc>) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some("trellis-controller".into()),
                resource_version: Some("7".into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(who.into()),
                lease_duration_seconds: Some(15),
                renew_time: Some(MicroTime(crate::k8s::to_k8s_time(renewed))),
                lease_transitions: Some(2),
                ..LeaseSpec::default()
            }),
        }
    }

    #[test]
    fn a_missing_lease_is_created_held_by_us() {
        let now = Utc::now();
        let Step::Create(l) = step(None, "trellis-controller", "a", now, D) else {
            panic!("expected Create");
        };
        let spec = l.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
    }

    #[test]
    fn a_fresh_lease_of_another_replica_is_waited_for() {
        let now = Utc::now();
        let l = held_by("b", now - chrono::Duration::seconds(5));
        assert_eq!(
            step(Some(&l), "trellis-controller", "a", now, D),
            Step::Wait
        );
    }

    #[test]
    fn an_expired_lease_is_taken_over_with_its_resource_version() {
        let now = Utc::now();
        let l = held_by("b", now - chrono::Duration::seconds(16));
        let Step::Write(next) = step(Some(&l), "trellis-controller", "a", now, D) else {
            panic!("expected Write");
        };
        assert_eq!(next.metadata.resource_version.as_deref(), Some("7"));
        let spec = next.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_transitions, Some(3));
    }

    #[test]
    fn our_own_lease_is_renewed_without_a_transition() {
        let now = Utc::now();
        let l = held_by("a", now - chrono::Duration::seconds(5));
        let Step::Write(next) = step(Some(&l), "trellis-controller", "a", now, D) else {
            panic!("expected Write");
        };
        let spec = next.spec.unwrap();
        assert_eq!(
            spec.renew_time,
            Some(MicroTime(crate::k8s::to_k8s_time(now)))
        );
        assert_eq!(spec.lease_transitions, Some(2));
    }
}
