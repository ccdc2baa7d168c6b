//! Roles and the actions they allow: the fixed table a policy's bindings grant from.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::diag::did_you_mean;
use crate::yaml::de::quote_list;

/// Something a person or a token asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// See runs, templates, crons, logs and namespaces.
    Read,
    /// Submit a run (from a template, a cron or a manifest).
    Submit,
    /// Retry a failed run.
    Retry,
    /// Resubmit a run as a new one.
    Resubmit,
    /// Stop, terminate, suspend or resume a run.
    Stop,
    /// Approve or reject a step waiting for approval.
    Approve,
    /// Create, update or delete templates and crons.
    Manage,
    /// Delete runs.
    Delete,
    /// Manage API tokens.
    Tokens,
}

impl Action {
    /// Every action, in the order of the documentation.
    pub const ALL: [Action; 9] = [
        Action::Read,
        Action::Submit,
        Action::Retry,
        Action::Resubmit,
        Action::Stop,
        Action::Approve,
        Action::Manage,
        Action::Delete,
        Action::Tokens,
    ];

    /// The lowercase name used in policies, the CLI and explanations (`submit`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Submit => "submit",
            Action::Retry => "retry",
            Action::Resubmit => "resubmit",
            Action::Stop => "stop",
            Action::Approve => "approve",
            Action::Manage => "manage",
            Action::Delete => "delete",
            Action::Tokens => "tokens",
        }
    }
}

/// A named bundle of actions that a binding grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read only.
    Viewer,
    /// Read, and submit, retry, resubmit and stop runs.
    Runner,
    /// Read, and approve or reject steps waiting for approval.
    Approver,
    /// Everything.
    Admin,
}

const VIEWER: &[Action] = &[Action::Read];
const RUNNER: &[Action] = &[
    Action::Read,
    Action::Submit,
    Action::Retry,
    Action::Resubmit,
    Action::Stop,
];
const APPROVER: &[Action] = &[Action::Read, Action::Approve];

impl Role {
    /// Every role, from the least to the most powerful.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Runner, Role::Approver, Role::Admin];

    /// The lowercase name used in policies (`runner`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Runner => "runner",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// The actions this role allows, in [`Action::ALL`] order.
    pub fn actions(self) -> &'static [Action] {
        match self {
            Role::Viewer => VIEWER,
            Role::Runner => RUNNER,
            Role::Approver => APPROVER,
            Role::Admin => &Action::ALL,
        }
    }

    /// Whether this role allows `action`.
    pub fn allows(self, action: Action) -> bool {
        self.actions().contains(&action)
    }
}

/// A name that is not one of a closed set (an action or a role), with the closest valid one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`: {}", hint(*suggestion, choices))]
pub struct UnknownName {
    /// What was being named: `action` or `role`.
    pub what: &'static str,
    /// The name as given.
    pub given: String,
    /// The closest valid name, when one is close enough to be a typo.
    pub suggestion: Option<&'static str>,
    /// Every valid name.
    pub choices: &'static [&'static str],
}

/// `did you mean `x`? (one of ...)` or `use one of ...`.
pub(crate) fn hint(suggestion: Option<&str>, choices: &[&str]) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`? (one of {})", quote_list(choices)),
        None => format!("use one of {}", quote_list(choices)),
    }
}

const ACTION_NAMES: [&str; 9] = [
    "read", "submit", "retry", "resubmit", "stop", "approve", "manage", "delete", "tokens",
];
/// The names of the roles, in [`Role::ALL`] order.
pub(crate) const ROLE_NAMES: [&str; 4] = ["viewer", "runner", "approver", "admin"];

fn lookup<T: Copy>(
    what: &'static str,
    given: &str,
    names: &'static [&'static str],
    values: &[T],
) -> Result<T, UnknownName> {
    match names.iter().position(|n| *n == given) {
        Some(i) => Ok(values[i]),
        None => Err(UnknownName {
            what,
            given: given.to_string(),
            suggestion: did_you_mean(given, names.iter().copied()),
            choices: names,
        }),
    }
}

impl FromStr for Action {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        lookup("action", s, &ACTION_NAMES, &Action::ALL)
    }
}

impl FromStr for Role {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, UnknownName> {
        lookup("role", s, &ROLE_NAMES, &Role::ALL)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
