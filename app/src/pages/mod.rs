//! One module per route.

pub mod approvals;
pub mod compare;
pub mod home;
pub mod login;
pub mod not_found;
pub mod run;
pub mod runs;
pub mod template;
pub mod trigger;
