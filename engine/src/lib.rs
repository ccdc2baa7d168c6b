//! Trellis' engine: the Argo `argoproj.io/v1alpha1` model, strict parsing and linting,
//! expressions, and the scheduler (`plan`).
//!
//! This crate is pure: no I/O, no clock, no async runtime. It compiles to wasm too.

pub mod access;
pub mod approval;
pub mod cron;
pub mod data;
pub mod depends;
pub mod diag;
pub mod events;
pub mod expr;
pub mod history;
pub mod lifecycle;
pub mod lint;
pub mod model;
pub mod ops;
pub mod outline;
pub mod parse;
pub mod plan;
pub mod progress;
pub mod secrets;
pub mod submit;
pub mod values;
pub mod yaml;
