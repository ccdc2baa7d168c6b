//! Approval rules of suspend steps: who may release a step waiting for a person, read from its
//! template's `metadata.annotations`, and the values a reviewer supplies.
//!
//! ```yaml
//! - name: approve
//!   metadata:
//!     annotations:
//!       trellis.dev/approvers: "group:release, user:alice"   # a bare name is a user
//!       trellis.dev/approval-no-self: "true"                 # the submitter may not approve
//!   suspend: {}
//! ```
//!
//! Without `trellis.dev/approvers` anyone may approve (roles come with RBAC). The run's submitter
//! is its `workflows.argoproj.io/creator` label, which the server sets from the identity that
//! created it ([`label_value`] of its subject), as Argo does.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::model::{NodeStatus, Parameter, Template};

/// Annotation listing who may approve a suspend step: `user:NAME` / `group:NAME`, comma-separated.
pub const ANNOTATION_APPROVERS: &str = "trellis.dev/approvers";
/// Annotation forbidding a run's submitter from approving it (`"true"` / `"false"`).
pub const ANNOTATION_NO_SELF: &str = "trellis.dev/approval-no-self";
/// Label Argo puts on a workflow naming who created it (a label value).
pub const LABEL_CREATOR: &str = "workflows.argoproj.io/creator";
/// Label Argo puts on a workflow with its creator's email (`@` written `.at.`).
pub const LABEL_CREATOR_EMAIL: &str = "workflows.argoproj.io/creator-email";
/// Label Argo puts on a workflow with its creator's preferred user name.
pub const LABEL_CREATOR_PREFERRED_USERNAME: &str =
    "workflows.argoproj.io/creator-preferred-username";

/// One entry of `trellis.dev/approvers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Approver {
    /// A user, by subject.
    User(String),
    /// Every member of a group.
    Group(String),
}

impl fmt::Display for Approver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Approver::User(n) => write!(f, "user:{n}"),
            Approver::Group(n) => write!(f, "group:{n}"),
        }
    }
}

/// Who may approve a suspend step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRule {
    /// Who may approve; empty: anyone.
    pub approvers: Vec<Approver>,
    /// Whether the run's submitter may not approve it.
    pub no_self: bool,
}

/// Why an approval annotation does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// `trellis.dev/approvers` is there but names no one.
    #[error(
        "`{ANNOTATION_APPROVERS}` names no one: list `user:NAME` or `group:NAME` entries, or \
         remove it to let anyone approve"
    )]
    NoApprovers,
    /// An entry between two commas is empty.
    #[error("entry {position} of `{ANNOTATION_APPROVERS}` is empty (a stray comma?)")]
    EmptyEntry {
        /// Its position, from 1.
        position: usize,
    },
    /// An entry is `KIND:NAME` with a kind other than `user` or `group`.
    #[error(
        "`{entry}` in `{ANNOTATION_APPROVERS}` is neither `user:NAME` nor `group:NAME` \
         (unknown kind `{kind}`)"
    )]
    UnknownKind {
        /// The entry as written.
        entry: String,
        /// Its kind.
        kind: String,
    },
    /// An entry is `user:` or `group:` without a name.
    #[error("`{entry}` in `{ANNOTATION_APPROVERS}` has no name after the colon")]
    EmptyName {
        /// The entry as written.
        entry: String,
    },
    /// `trellis.dev/approval-no-self` is neither `true` nor `false`.
    #[error("`{ANNOTATION_NO_SELF}` must be \"true\" or \"false\", not {0:?}")]
    BadNoSelf(String),
}

/// Someone asking to approve.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// Their subject (user name).
    pub subject: &'a str,
    /// Their groups.
    pub groups: &'a [String],
}

/// The step and run an approval is for.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    /// The step's display name.
    pub step: &'a str,
    /// The run's name.
    pub run: &'a str,
    /// The run's submitter (its creator label), if known.
    pub submitter: Option<&'a str>,
}

/// Why someone may not approve a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// They are none of the approvers.
    #[error(
        "only {allowed} may approve step `{step}` of run `{run}`; you are user:{subject} ({groups})"
    )]
    NotAnApprover {
        /// The approvers, in words.
        allowed: String,
        /// The step's display name.
        step: String,
        /// The run's name.
        run: String,
        /// Who asked.
        subject: String,
        /// Their groups, in words.
        groups: String,
    },
    /// They submitted the run and the rule forbids that.
    #[error("`{ANNOTATION_NO_SELF}` forbids the run's submitter ({submitter}) from approving it")]
    Submitter {
        /// The run's submitter.
        submitter: String,
    },
}

impl ApprovalRule {
    /// The rule written in a template's `metadata.annotations`.
    pub fn of_template(t: &Template) -> Result<Self, RuleError> {
        Self::from_annotations(t.metadata.as_ref().and_then(|m| m.annotations.as_ref()))
    }

    /// The rule written in these annotations (none: anyone may approve).
    pub fn from_annotations(
        annotations: Option<&BTreeMap<String, String>>,
    ) -> Result<Self, RuleError> {
        let get = |k: &str| annotations.and_then(|a| a.get(k));
        let approvers = match get(ANNOTATION_APPROVERS) {
            None => Vec::new(),
            Some(text) => parse_approvers(text)?,
        };
        let no_self = match get(ANNOTATION_NO_SELF).map(|v| v.trim()) {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(RuleError::BadNoSelf(other.to_string())),
        };
        Ok(ApprovalRule { approvers, no_self })
    }

    /// Whether anyone may approve (no approvers listed, no submitter excluded).
    pub fn is_open(&self) -> bool {
        self.approvers.is_empty() && !self.no_self
    }

    /// The approvers as written (`group:release`, `user:alice`).
    pub fn approver_names(&self) -> Vec<String> {
        self.approvers.iter().map(ToString::to_string).collect()
    }

    /// Whether `actor` may approve `gate`; the reason when not.
    pub fn check(&self, actor: &Actor<'_>, gate: &Gate<'_>) -> Result<(), Denied> {
        let listed = self.approvers.is_empty()
            || self.approvers.iter().any(|a| match a {
                Approver::User(u) => u == actor.subject,
                Approver::Group(g) => actor.groups.iter().any(|m| m == g),
            });
        if !listed {
            return Err(Denied::NotAnApprover {
                allowed: or_list(&self.approver_names()),
                step: gate.step.to_string(),
                run: gate.run.to_string(),
                subject: actor.subject.to_string(),
                groups: match actor.groups {
                    [] => "no groups".to_string(),
                    g => format!("groups: {}", g.join(", ")),
                },
            });
        }
        if self.no_self
            && let Some(submitter) = gate.submitter.filter(|s| !s.is_empty())
            && submitter == label_value(actor.subject)
        {
            return Err(Denied::Submitter {
                submitter: submitter.to_string(),
            });
        }
        Ok(())
    }
}

fn parse_approvers(text: &str) -> Result<Vec<Approver>, RuleError> {
    if text.trim().is_empty() {
        return Err(RuleError::NoApprovers);
    }
    text.split(',')
        .enumerate()
        .map(|(i, raw)| {
            let entry = raw.trim();
            if entry.is_empty() {
                return Err(RuleError::EmptyEntry { position: i + 1 });
            }
            let (kind, name) = entry.split_once(':').unwrap_or(("user", entry));
            let name = name.trim();
            if name.is_empty() {
                return Err(RuleError::EmptyName {
                    entry: entry.to_string(),
                });
            }
            match kind.trim() {
                "user" => Ok(Approver::User(name.to_string())),
                "group" => Ok(Approver::Group(name.to_string())),
                other => Err(RuleError::UnknownKind {
                    entry: entry.to_string(),
                    kind: other.to_string(),
                }),
            }
        })
        .collect()
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A text made fit for a Kubernetes label value the way Argo writes its creator labels: every
/// character but letters, digits, `-`, `_` and `.` becomes `-`, at most the last 63 are kept, and
/// it starts and ends with a letter or digit.
pub fn label_value(text: &str) -> String {
    let replaced: Vec<char> = text
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '-',
        })
        .collect();
    let tail = &replaced[replaced.len().saturating_sub(63)..];
    let s: String = tail.iter().collect();
    s.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// A value a reviewer supplies to a suspend step: one of its template's `valueFrom.supplied`
/// output parameters, described by itself or, as Argo's UI does, by the step's input parameter
/// of the same name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuppliedField {
    /// The output parameter's name.
    pub name: String,
    /// The value proposed: the output's default, else the same-named input's value.
    pub default: Option<String>,
    /// The values allowed (empty: any).
    #[serde(rename = "enum")]
    pub enum_values: Vec<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// Why supplied values are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadValue {
    /// A value outside the parameter's `enum`.
    #[error("{value:?} is not a value step `{step}` accepts for `{name}`: use one of {allowed}")]
    NotInEnum {
        /// The step's display name.
        step: String,
        /// The parameter.
        name: String,
        /// The value given.
        value: String,
        /// The values allowed, in words.
        allowed: String,
    },
}

/// The supplied output parameters a waiting suspend node asks for.
pub fn supplied_fields(template: Option<&Template>, node: &NodeStatus) -> Vec<SuppliedField> {
    let outputs = template
        .and_then(|t| t.outputs.as_ref())
        .and_then(|o| o.parameters.as_ref());
    outputs
        .into_iter()
        .flatten()
        .filter(|p| p.value_from.as_ref().is_some_and(|v| v.supplied.is_some()))
        .map(|p| field_of(p, template, node))
        .collect()
}

/// One supplied output described: by itself, a value already set on the node, and the node's
/// and the template's input of the same name.
fn field_of(p: &Parameter, template: Option<&Template>, node: &NodeStatus) -> SuppliedField {
    let name = p.name.clone().unwrap_or_default();
    fn named<'p>(params: Option<&'p Vec<Parameter>>, name: &str) -> Option<&'p Parameter> {
        params?.iter().find(|i| i.name.as_deref() == Some(name))
    }
    let already = named(
        node.outputs.as_ref().and_then(|o| o.parameters.as_ref()),
        &name,
    );
    let inputs = [
        named(
            node.inputs.as_ref().and_then(|i| i.parameters.as_ref()),
            &name,
        ),
        named(
            template
                .and_then(|t| t.inputs.as_ref())
                .and_then(|i| i.parameters.as_ref()),
            &name,
        ),
    ];
    let text = |v: Option<&crate::model::AnyString>| v.map(|s| s.0.clone());
    let enum_of = |p: &Parameter| -> Option<Vec<String>> {
        let values: Vec<String> = p.r#enum.iter().flatten().map(|v| v.0.clone()).collect();
        (!values.is_empty()).then_some(values)
    };
    let mut inputs = inputs.into_iter().flatten();
    let input_value = inputs
        .clone()
        .find_map(|i| text(i.value.as_ref()).or_else(|| text(i.default.as_ref())));
    SuppliedField {
        default: already
            .and_then(|a| text(a.value.as_ref()))
            .or_else(|| text(p.value_from.as_ref().and_then(|v| v.default.as_ref())))
            .or_else(|| text(p.default.as_ref()))
            .or(input_value),
        enum_values: enum_of(p)
            .or_else(|| inputs.clone().find_map(enum_of))
            .unwrap_or_default(),
        description: text(p.description.as_ref())
            .or_else(|| inputs.find_map(|i| text(i.description.as_ref()))),
        name,
    }
}

/// Checks supplied values against their fields' `enum`s (names no field has are left to
/// `engine::ops::update_suspended`, which refuses them).
pub fn check_values(
    fields: &[SuppliedField],
    step: &str,
    values: &BTreeMap<String, String>,
) -> Result<(), BadValue> {
    for (name, value) in values {
        let Some(f) = fields.iter().find(|f| &f.name == name) else {
            continue;
        };
        if !f.enum_values.is_empty() && !f.enum_values.contains(value) {
            return Err(BadValue::NotInEnum {
                step: step.to_string(),
                name: name.clone(),
                value: value.clone(),
                allowed: f.enum_values.join(", "),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
