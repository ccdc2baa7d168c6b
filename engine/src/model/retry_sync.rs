//! Retries, memoization and synchronization (semaphores and mutexes).

use k8s_openapi::api::core::v1::{ConfigMapKeySelector, LocalObjectReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

/// How a failed node is retried.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    /// Maximum number of retries (a number or an expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<IntOrString>,
    /// `Always`, `OnFailure`, `OnError` or `OnTransientError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<String>,
    /// Delays between retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<Backoff>,
    /// Where retried pods are scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<RetryAffinity>,
    /// An expression deciding whether to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Exponential backoff between retries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// First delay (a duration string, or seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Multiplier applied to the delay after each retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<IntOrString>,
    /// Give up retrying after this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<String>,
    /// Upper bound of a single delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<String>,
}

/// Scheduling constraints for retried pods.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryAffinity {
    /// Avoid the nodes on which earlier attempts ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_anti_affinity: Option<RetryNodeAntiAffinity>,
}

/// Marker: retry on another node (no fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryNodeAntiAffinity {}

/// Caching of a template's outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memoize {
    /// Cache key (usually built from inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Where the cache is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<Cache>,
    /// Entries older than this are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
}

/// Storage of a memoization cache.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cache {
    /// The config map holding the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<LocalObjectReference>,
}

/// Limits on concurrent workflows or templates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Synchronization {
    /// Legacy single semaphore (v3.5 and before; removed in Argo 4.0, use `semaphores`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semaphore: Option<SemaphoreRef>,
    /// Legacy single mutex (v3.5 and before; removed in Argo 4.0, use `mutexes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex: Option<Mutex>,
    /// Semaphores to acquire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semaphores: Option<Vec<SemaphoreRef>>,
    /// Mutexes to acquire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutexes: Option<Vec<Mutex>>,
}

/// A semaphore: its limit lives in a config map key or in the database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SemaphoreRef {
    /// Config map key holding the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<ConfigMapKeySelector>,
    /// Namespace of the config map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Database-backed semaphore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<SyncDatabaseRef>,
}

/// A database-backed semaphore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncDatabaseRef {
    /// Semaphore key in the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A mutex.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mutex {
    /// Mutex name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the mutex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Database-backed mutex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<bool>,
}
