//! Trellis' controller: runs the engine's plans on a backend.
//!
//! For now it owns the Kubernetes CustomResourceDefinitions (`crd`); the local and Kubernetes backends
//! join it as the engine learns to plan.

pub mod crd;
