//! Decisions that say why: which binding allowed a request, or why each one did not.

use serde::Serialize;

use super::scope::{Field, list_covers};
use super::{Action, Binding, Glob, Kind, Policy, Subject, Target};

/// The answer to "may this subject do this action on this target?", with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// What was asked.
    pub action: Action,
    /// On what.
    pub target: Target,
    /// The binding that allowed it (`None` when denied, or allowed by [`Policy::allow_all`]).
    pub binding: Option<String>,
    /// Why: the allowing binding, or per binding why it did not apply.
    pub reasons: Vec<String>,
}

impl Decision {
    /// The decision in words: one line when allowed, the reasons as a list when denied.
    pub fn explain(&self) -> String {
        if self.allowed {
            return self.reasons.join("\n");
        }
        let head = format!("denied: {} on {}", self.action, self.target);
        match self.reasons.as_slice() {
            [] => head,
            [one] => format!("{head}: {one}"),
            many => {
                let lines: Vec<String> = many.iter().map(|r| format!("  - {r}")).collect();
                format!("{head}:\n{}", lines.join("\n"))
            }
        }
    }
}

impl Policy {
    /// Decides like [`Policy::allows`] and explains: the first binding that allows the request, or
    /// why no binding did — deny by default.
    pub fn decide(&self, who: &Subject, action: Action, target: &Target) -> Decision {
        let decision = |allowed, binding, reasons| Decision {
            allowed,
            action,
            target: target.clone(),
            binding,
            reasons,
        };
        if self.open {
            let reason = "no policy: the server allows every request".to_string();
            return decision(true, None, vec![reason]);
        }
        let mut reasons = Vec::new();
        let mut named = false;
        for b in &self.bindings {
            let head = format!("binding \"{}\" ({})", b.name, b.role);
            if !b.names(who) {
                reasons.push(format!("{head}: its subjects do not include you ({who})"));
                continue;
            }
            named = true;
            if !b.role.allows(action) {
                reasons.push(format!(
                    "{head}: grants {}, which does not allow {action}",
                    b.role
                ));
                continue;
            }
            match scope_misses(b, target) {
                None => {
                    let reason = format!(
                        "allowed by binding \"{}\": role {} allows {action} on {target}",
                        b.name, b.role
                    );
                    return decision(true, Some(b.name.clone()), vec![reason]);
                }
                Some(why) => reasons.push(format!("{head}: {why}")),
            }
        }
        if !named {
            reasons = vec![format!("no binding names you ({who}): deny by default")];
        }
        decision(false, None, reasons)
    }
}

/// Why `target` is outside the binding's scope, every failing list said, or `None` when inside.
fn scope_misses(b: &Binding, target: &Target) -> Option<String> {
    let misses: Vec<String> = b
        .scope
        .lists(target)
        .filter(|(_, list, value)| !list_covers(target.kind, list, *value))
        .map(|(field, list, value)| miss(field, list, value, target))
        .collect();
    (!misses.is_empty()).then(|| misses.join(" and "))
}

/// One list the target falls outside of, in words: `covers folders [ci/**], not "ops"`.
fn miss(field: Field, list: &[Glob], value: Option<&str>, target: &Target) -> String {
    let globs: Vec<String> = list.iter().map(Glob::to_string).collect();
    let (what, not) = match field {
        Field::Namespaces => ("namespaces", "no namespace"),
        Field::Folders => ("folders", "the top level (no folder)"),
        Field::Templates => ("templates", "no template"),
    };
    let outside = match value {
        _ if target.kind == Kind::Token => {
            format!("and {target} is in no {}", &what[..what.len() - 1])
        }
        Some(v) if !v.is_empty() => format!("not \"{v}\""),
        _ if field == Field::Folders => format!("not {not}"),
        _ => format!("and {target} has {not}"),
    };
    format!("covers {what} [{}], {outside}", globs.join(", "))
}
