//! Role-based access control: who may do what to which runs, templates, crons and tokens.
//!
//! A policy file (`apiVersion: trellis.dev/v1`, `kind: Policy`, read by [`parse_policy`]) binds
//! [`Role`]s to subjects — users by subject or email, groups, API tokens — optionally within a
//! [`Scope`] of namespaces, folders and templates. A request is allowed when some binding names its
//! subject, grants a role that allows the action, and covers the target; otherwise it is denied.
//! [`Policy::allows`] answers fast, for filtering lists; [`Policy::decide`] also says why, for
//! `trellis auth can` and the UI. The file format is documented in `docs/policy.md`.

mod decide;
mod glob;
mod parse;
mod role;
mod scope;
mod target;

#[cfg(test)]
mod tests;

pub use decide::Decision;
pub use glob::{Glob, GlobError, GlobKind};
pub use parse::{POLICY_API_VERSION, POLICY_KIND, parse_policy};
pub use role::{Action, Role, UnknownName};
pub use scope::{Member, Scope};
pub use target::{Kind, Subject, SubjectKind, Target, TargetError};

use serde::Serialize;

/// A role granted to some subjects within a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// Its `name`, or `bindings[i]` when it has none.
    pub name: String,
    /// The role it grants.
    pub role: Role,
    /// Who it grants it to (never empty).
    pub subjects: Vec<Member>,
    /// Where.
    pub scope: Scope,
}

impl Binding {
    /// Whether one of its subjects is `who`.
    pub fn names(&self, who: &Subject) -> bool {
        self.subjects.iter().any(|m| m.includes(who))
    }

    /// Whether it lets `who` do `action` on `target`.
    pub fn grants(&self, who: &Subject, action: Action, target: &Target) -> bool {
        self.role.allows(action) && self.names(who) && self.scope.covers(target)
    }
}

/// A set of bindings; what none of them allows is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    bindings: Vec<Binding>,
    #[serde(skip)]
    open: bool,
}

impl Policy {
    /// A policy of `bindings`, in order (explanations follow it).
    pub fn new(bindings: Vec<Binding>) -> Policy {
        Policy {
            bindings,
            open: false,
        }
    }

    /// The policy of a server that has none: every request is allowed.
    pub fn allow_all() -> Policy {
        Policy {
            bindings: Vec::new(),
            open: true,
        }
    }

    /// Whether this is [`Policy::allow_all`].
    pub fn is_allow_all(&self) -> bool {
        self.open
    }

    /// The bindings, in the order of the file.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// Whether `who` may do `action` on `target`. Allocates nothing: call it for every item of a list.
    pub fn allows(&self, who: &Subject, action: Action, target: &Target) -> bool {
        self.open || self.bindings.iter().any(|b| b.grants(who, action, target))
    }

    /// Whether `who` sees namespace `namespace` in lists: some binding of theirs has no `namespaces`
    /// list or one that matches it (every role can read).
    pub fn visible_namespace(&self, who: &Subject, namespace: &str) -> bool {
        self.open
            || self.bindings.iter().any(|b| {
                b.names(who)
                    && b.scope
                        .namespaces
                        .as_ref()
                        .is_none_or(|list| list.iter().any(|g| g.matches(namespace)))
            })
    }
}
