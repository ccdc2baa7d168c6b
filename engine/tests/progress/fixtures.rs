//! Workflows with their status, as the controller records them, for the progress renderer tests.
//! Each is a YAML file beside this one.

/// A steps workflow whose second step loops over a sequence of eleven items.
pub const STEPS_LOOP: &str = include_str!("steps-loop.yaml");

/// A DAG diamond whose `B` fails: `D` is omitted, `notify` runs on the failure, `cleanup` is skipped by its `when`.
pub const DAG_DIAMOND: &str = include_str!("dag-diamond.yaml");

/// Steps with retries: `flaky` succeeds on its third attempt, `stable` on its first; `lint` comes from a template reference.
pub const RETRIES: &str = include_str!("retries.yaml");

/// A release waiting at a suspend step for approval.
pub const SUSPENDED: &str = include_str!("suspended.yaml");

/// A failed workflow whose exit handler (a steps template) ran.
pub const ON_EXIT: &str = include_str!("on-exit.yaml");

/// A running DAG: a loop of tests (a TaskGroup) and a nested steps template, at various phases.
pub const RUNNING: &str = include_str!("running.yaml");
