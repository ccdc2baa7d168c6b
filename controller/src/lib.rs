//! Trellis' controller: runs the engine's plans on a backend.
//!
//! It owns the Kubernetes CustomResourceDefinitions (`crd`), the store that persists workflows and
//! their runs (`store`), the step wrapper `trellis exec` (`exec`, with `artifacts`) and the local
//! backend that runs workflows as processes on this machine (`local`).

pub mod artifacts;
pub mod crd;
pub mod cron;
pub mod exec;
pub mod k8s;
pub mod local;
pub mod metrics;
pub mod store;
pub mod ttl;
