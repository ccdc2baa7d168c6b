//! What people do to a running workflow's nodes, as pure functions over its status: Argo's
//! `resume`, `stop` and `set` with a node field selector (the approval path), and `resume`
//! without one. The backends apply them to the workflow they hold and then plan again.
//!
//! A node field selector is Argo's (`docs/node-field-selector.md`): `FIELD=VALUE` or
//! `FIELD!=VALUE` (`==` is `=`), several joined by commas and all required. The fields are
//! `displayName`, `name`, `id`, `templateName`, `phase`, `templateRef.name`,
//! `templateRef.template` and `inputs.parameters.<NAME>.value`; a backslash escapes `,`, `=`, `!`
//! and `\` in a value.
//!
//! `retry` re-runs a finished workflow from its failed steps (Argo's `retry`).

mod retry;
mod selector;
mod suspend;

pub use retry::{Retried, RetryOptions, executes, retry};
pub use selector::NodeSelector;
pub use suspend::{
    NodeUpdate, is_waiting_suspend, node_template, resume_all, resume_checked, update_suspended,
};

/// Why an operation on nodes cannot be applied. Nothing has changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The node field selector does not parse.
    #[error("invalid node field selector \"{selector}\": {reason}")]
    BadSelector {
        /// The selector as given.
        selector: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No waiting suspend node matches the selector.
    #[error(
        "currently, set only targets suspend nodes: no suspend nodes matching nodeFieldSelector: {0}"
    )]
    NoSuspendedNode(String),
    /// Output parameters were given for a node whose template supplies none.
    #[error(
        "cannot set output parameters because node \"{0}\" is not expecting any raw parameters"
    )]
    NoSuppliedOutputs(String),
    /// An output parameter the node's template does not declare.
    #[error("node \"{node}\" is not expecting output parameter '{name}'")]
    UnknownOutput {
        /// The node's display name.
        node: String,
        /// The parameter given.
        name: String,
    },
    /// An output parameter that is not `valueFrom.supplied`.
    #[error(
        "cannot set output parameter '{0}' because it does not use valueFrom.supplied or it was already set"
    )]
    NotSupplied(String),
    /// A resumed node's supplied output has neither a value nor a default.
    #[error(
        "output parameter '{0}' has not been set and does not have a default value: set it first \
         (the `set` operation with outputParameters, `trellis node set --output-parameter {0}=VALUE`)"
    )]
    NoDefault(String),
    /// Suspend nodes started waiting after their approval rules were checked: nothing was
    /// resumed.
    #[error(
        "{0} started waiting for approval after the approval rules were checked: nothing was \
         resumed; look at the run again and resume"
    )]
    Unchecked(String),
    /// The workflow cannot be retried as it is.
    #[error("{0}")]
    NotRetryable(String),
}
