//! View models of what people do to runs: the recovery actions (stop, terminate, suspend,
//! resume, delete, retry, resubmit) with what each will do, the comparison of two runs, and
//! approvals of suspend steps with their audit trail.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::form::FormField;
use crate::model::{Phase, RunRow, TemplateId};

/// An action on one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunAction {
    /// Stop it: running steps are stopped, exit handlers still run, the run fails.
    Stop,
    /// Terminate it: running steps are stopped, exit handlers do not run.
    Terminate,
    /// Suspend it: no new step starts until it is resumed.
    Suspend,
    /// Resume it: a suspended run goes on and its waiting suspend steps are released.
    Resume,
    /// Delete it (a running run is terminated first).
    Delete,
    /// Run it again from where it failed.
    Retry(RetryChoice),
    /// Run it again from the start as a new run.
    Resubmit {
        /// Parameters changed for the new run.
        parameters: Vec<(String, String)>,
        /// Carry over the steps that succeeded instead of running them again.
        memoized: bool,
    },
}

impl RunAction {
    /// Its name, as in the audit trail and the buttons' test ids.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Terminate => "terminate",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Delete => "delete",
            Self::Retry(_) => "retry",
            Self::Resubmit { .. } => "resubmit",
        }
    }

    /// What it will do, in words, for the confirmation.
    pub fn consequence(&self) -> &'static str {
        match self {
            Self::Stop => {
                "Running steps are stopped and no new step starts; the exit handler still runs. \
                 The run ends as Failed."
            }
            Self::Terminate => {
                "Running steps are stopped at once and the exit handler does not run. The run \
                 ends as Failed."
            }
            Self::Suspend => {
                "Running steps finish, but no new step starts until the run is resumed."
            }
            Self::Resume => {
                "The run goes on; suspend steps waiting on it are released as if approved, \
                 where their approval rule allows you."
            }
            Self::Delete => {
                "The run, its status and its logs are removed from the list (a finished run \
                 stays in the archive). A running run is terminated first. This cannot be undone."
            }
            Self::Retry(_) => "The steps listed below run again; the others keep their results.",
            Self::Resubmit { .. } => {
                "A new run of the same spec starts from the beginning; this run stays as it is."
            }
        }
    }
}

/// How to retry a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryChoice {
    /// Run again from this node too (one that succeeded; its successors follow), besides the
    /// failed ones.
    pub node: Option<String>,
    /// Parameters changed for the retry.
    pub parameters: Vec<(String, String)>,
}

/// One step in a retry's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Its node id.
    pub id: String,
    /// Its name in the run.
    pub name: String,
    /// How it ended last time (`Pending` for a step that never ran).
    pub phase: Phase,
}

/// Exactly what a retry will run again, before confirming it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPlan {
    /// Steps that ran and will run again.
    pub again: Vec<PlannedStep>,
    /// Steps that never ran and may run now.
    pub first_time: Vec<PlannedStep>,
    /// How many steps keep their results.
    pub kept: usize,
    /// The steps that succeeded, which can be chosen to run again from.
    pub restartable: Vec<PlannedStep>,
    /// The run's parameters, to edit.
    pub parameters: Vec<(String, String)>,
    /// Why it cannot be done as chosen (e.g. a run that succeeded, with no step chosen).
    pub blocked: Option<String>,
}

/// What an action led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActOutcome {
    /// The run changed; stay on it.
    Changed,
    /// A new run was made (resubmit): go there.
    NewRun {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// The run is gone: go here.
    Gone(String),
}

/// One parameter of two compared runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterDiff {
    /// Its name.
    pub name: String,
    /// Its value in the first run.
    pub a: Option<String>,
    /// Its value in the second run.
    pub b: Option<String>,
}

impl ParameterDiff {
    /// Whether the two values differ.
    pub fn differs(&self) -> bool {
        self.a != self.b
    }
}

/// One step of a run, in a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRun {
    /// Its node id (its log is at the run page with `?node=`).
    pub node_id: String,
    /// Its phase.
    pub phase: Phase,
    /// How long it ran, in seconds.
    pub duration_seconds: Option<i64>,
}

/// One step of two compared runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDiff {
    /// The step's path in the run (`[1].deploy`).
    pub step: String,
    /// It in the first run.
    pub a: Option<StepRun>,
    /// It in the second run.
    pub b: Option<StepRun>,
}

impl StepDiff {
    /// How many seconds longer it took in the second run than in the first.
    pub fn delta_seconds(&self) -> Option<i64> {
        Some(self.b.as_ref()?.duration_seconds? - self.a.as_ref()?.duration_seconds?)
    }
}

/// Two runs side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The first run.
    pub a: RunRow,
    /// The second run.
    pub b: RunRow,
    /// Their parameters, in order of the first then the second.
    pub parameters: Vec<ParameterDiff>,
    /// Their steps, in the order they run.
    pub steps: Vec<StepDiff>,
    /// Other recent runs of the same template, to compare with instead.
    pub others: Vec<RunRow>,
}

/// A suspend step waiting for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The run's namespace.
    pub namespace: String,
    /// The run's name.
    pub workflow: String,
    /// `#N` or the run's name.
    pub run_title: String,
    /// The template it is a run of.
    pub template: Option<TemplateId>,
    /// The suspend node's id.
    pub node_id: String,
    /// Its name in the run.
    pub step: String,
    /// Since when it waits (RFC 3339).
    pub since: Option<String>,
    /// What it says to the reviewer.
    pub message: Option<String>,
    /// Its input parameters.
    pub inputs: Vec<(String, String)>,
    /// The values the reviewer supplies.
    pub fields: Vec<FormField>,
    /// Who may approve (`group:release`, `user:alice`); empty: anyone.
    pub approvers: Vec<String>,
    /// Whether the run's submitter may not approve it.
    pub no_self: bool,
    /// For a suspend with a `duration`: when it resumes by itself (RFC 3339).
    pub until: Option<String>,
    /// Whether the current user may approve it.
    pub may_approve: bool,
    /// Why not, when not.
    pub why_not: Option<String>,
}

impl PendingApproval {
    /// The run page's path with this step selected.
    pub fn href(&self) -> String {
        format!(
            "/runs/{}/{}?node={}",
            self.namespace, self.workflow, self.node_id
        )
    }
}

/// A reviewer's decision on a suspend step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Approve (else reject).
    pub approve: bool,
    /// The supplied values (approve only).
    pub values: BTreeMap<String, String>,
    /// The comment: optional to approve, required to reject.
    pub comment: String,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    /// Its id (entries are numbered in the order they were written).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What: `approve`, `reject`, `retry`…
    pub action: String,
    /// The run's namespace.
    pub namespace: String,
    /// The run's name.
    pub workflow: String,
    /// The step it was about.
    pub step: Option<String>,
    /// The node's id.
    pub node_id: Option<String>,
    /// The values given.
    pub values: Vec<(String, String)>,
    /// The comment given.
    pub comment: Option<String>,
}

/// Filters of the global audit trail, as in its URL's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only this namespace.
    pub namespace: String,
    /// Only this user.
    pub actor: String,
    /// Only this action.
    pub action: String,
    /// The page token.
    pub page: String,
}

/// One page of the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// The entries, newest first.
    pub entries: Vec<AuditView>,
    /// The token of the next (older) page.
    pub next: Option<String>,
}

/// The approvals and audit of one run, for its page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunApprovals {
    /// Its steps waiting for approval.
    pub pending: Vec<PendingApproval>,
    /// Its audit trail, newest first.
    pub audit: Vec<AuditView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_deltas_need_both_durations() {
        let run = |d| {
            Some(StepRun {
                node_id: "n".into(),
                phase: Phase::Succeeded,
                duration_seconds: d,
            })
        };
        let diff = |a, b| StepDiff {
            step: "s".into(),
            a,
            b,
        };
        assert_eq!(diff(run(Some(10)), run(Some(25))).delta_seconds(), Some(15));
        assert_eq!(diff(run(Some(10)), run(None)).delta_seconds(), None);
        assert_eq!(diff(None, run(Some(3))).delta_seconds(), None);
        let p = ParameterDiff {
            name: "x".into(),
            a: Some("1".into()),
            b: None,
        };
        assert!(p.differs());
    }

    #[test]
    fn actions_say_what_they_do() {
        for a in [
            RunAction::Stop,
            RunAction::Terminate,
            RunAction::Delete,
            RunAction::Retry(RetryChoice::default()),
        ] {
            assert!(!a.consequence().is_empty());
        }
        assert_eq!(RunAction::Delete.name(), "delete");
        assert!(RunAction::Terminate.consequence().contains("does not run"));
    }
}

/// Who is looking at the UI, and how they may sign in or out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The signed-in user (or the server's own user when it needs no sign-in); `None` when no
    /// one is signed in.
    pub user: Option<UserView>,
    /// Whether the server offers single sign-on (`/auth/login`).
    pub sso: bool,
    /// Whether the server accepts API tokens, which the sign-in page takes (`/auth/token`).
    pub tokens: bool,
}

/// A user as the top bar shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Their subject (`token:NAME` for an API token).
    pub subject: String,
    /// Their display name, if known.
    pub name: Option<String>,
    /// Their email, if known.
    pub email: Option<String>,
    /// Their groups.
    pub groups: Vec<String>,
    /// Whether they signed in with a session (so they can sign out).
    pub session: bool,
}

impl UserView {
    /// The name to show: display name, else email, else subject.
    pub fn shown(&self) -> &str {
        self.name
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or(&self.subject)
    }
}

/// Whether the current user may do one action on a run, and the policy's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// The policy's action: `stop`, `retry`, `resubmit`, `delete`, `submit`, `approve`.
    pub action: String,
    /// Whether it is allowed.
    pub allowed: bool,
    /// Which binding allowed it, or why none did.
    pub why: String,
}

/// What the current user may do to a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPermissions {
    /// One entry per action.
    pub actions: Vec<Permission>,
}

impl RunPermissions {
    /// Whether `action` is allowed (unknown actions are: the server checks again anyway).
    pub fn allows(&self, action: &str) -> bool {
        self.actions
            .iter()
            .find(|p| p.action == action)
            .is_none_or(|p| p.allowed)
    }

    /// The refused actions.
    pub fn denied(&self) -> impl Iterator<Item = &Permission> {
        self.actions.iter().filter(|p| !p.allowed)
    }
}
