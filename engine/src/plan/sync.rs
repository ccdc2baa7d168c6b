//! `synchronization`: the mutexes and semaphores a step or a whole workflow holds while it runs.
//! A semaphore's limit is the value of its ConfigMap key, read when the workflow is resolved.

use std::collections::HashMap;

use crate::model::{SemaphoreRef, Synchronization};

use super::{Lock, ResolvedWorkflow};

/// A semaphore's lock key and where its limit lives: (key, namespace, ConfigMap, ConfigMap key).
pub(crate) fn semaphore_ref(ns: &str, sem: &SemaphoreRef) -> (String, String, String, String) {
    let r = sem.config_map_key_ref.as_ref();
    let cm_ns = sem.namespace.clone().unwrap_or_else(|| ns.to_string());
    let name = r.map(|r| r.name.clone()).unwrap_or_default();
    let key = r.map(|r| r.key.clone()).unwrap_or_default();
    (format!("{cm_ns}/semaphore/{name}/{key}"), cm_ns, name, key)
}

/// Every semaphore a synchronization block names.
pub(crate) fn semaphores(s: &Synchronization) -> impl Iterator<Item = &SemaphoreRef> {
    s.semaphore.iter().chain(s.semaphores.iter().flatten())
}

/// A semaphore's limit from its ConfigMap value.
pub(crate) fn limit_of(value: Option<&str>, cm: &str, key: &str) -> Result<u32, String> {
    let v = value.ok_or_else(|| {
        format!(
            "semaphore: ConfigMap \"{cm}\" has no key \"{key}\": create it with the limit as \
             its value (e.g. `{key}: \"2\"`)"
        )
    })?;
    v.trim().parse::<u32>().map_err(|_| {
        format!(
            "semaphore: ConfigMap \"{cm}\" key \"{key}\" is \"{v}\", not a limit: give a whole \
             number"
        )
    })
}

/// The locks a synchronization block asks for, with each semaphore's limit.
pub(crate) fn locks(
    s: Option<&Synchronization>,
    ns: &str,
    limits: &HashMap<String, Result<u32, String>>,
) -> Result<Vec<Lock>, String> {
    let Some(s) = s else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for m in s.mutex.iter().chain(s.mutexes.iter().flatten()) {
        let mns = m.namespace.as_deref().unwrap_or(ns);
        out.push(Lock {
            key: format!("{mns}/mutex/{}", m.name.as_deref().unwrap_or_default()),
            limit: 1,
        });
    }
    for sem in semaphores(s) {
        if sem.database.is_some() {
            return Err(
                "semaphore: database semaphores are not supported here; use a ConfigMap \
                 (`configMapKeyRef`)"
                    .into(),
            );
        }
        let (key, ..) = semaphore_ref(ns, sem);
        let limit = limits
            .get(&key)
            .cloned()
            .unwrap_or_else(|| Err(format!("semaphore {key}: its limit was not read")))?;
        out.push(Lock { key, limit });
    }
    Ok(out)
}

/// The locks the whole workflow holds from its start to its end (`spec.synchronization`).
pub fn workflow_locks(wf: &ResolvedWorkflow) -> Result<Vec<Lock>, String> {
    locks(
        wf.spec.synchronization.as_ref(),
        &wf.namespace,
        &wf.semaphore_limits,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_whole_numbers_from_the_config_map() {
        assert_eq!(limit_of(Some(" 3 "), "cm", "k"), Ok(3));
        let missing = limit_of(None, "cm", "template").unwrap_err();
        assert!(
            missing.contains("ConfigMap \"cm\" has no key \"template\""),
            "{missing}"
        );
        let bad = limit_of(Some("two"), "cm", "k").unwrap_err();
        assert!(bad.contains("\"two\", not a limit"), "{bad}");
    }
}
