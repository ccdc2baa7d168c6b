//! Who a binding names ([`Member`]) and where it applies ([`Scope`]).

use serde::Serialize;

use super::{Glob, Kind, Subject, SubjectKind, Target};

/// One entry of a binding's `subjects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Member {
    /// `user:` — a user by subject or email, compared case-insensitively.
    User(String),
    /// `group:` — every member of a group, compared exactly.
    Group(String),
    /// `token:` — an API token by name, compared exactly.
    Token(String),
}

impl Member {
    /// Whether this entry names `who`.
    pub fn includes(&self, who: &Subject) -> bool {
        match (self, who.kind) {
            (Member::User(u), SubjectKind::User) => {
                eq_fold(u, who.name) || who.email.is_some_and(|e| eq_fold(u, e))
            }
            (Member::Group(g), SubjectKind::User) => who.groups.iter().any(|x| x == g),
            (Member::Token(t), SubjectKind::Token) => t == who.name,
            _ => false,
        }
    }
}

/// Case-insensitive equality that does not allocate.
fn eq_fold(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
    }
}

/// Where a binding applies; a missing list covers everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Namespaces, by glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<Glob>>,
    /// `trellis.dev/folder` paths, by glob; `""` is the top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folders: Option<Vec<Glob>>,
    /// Template names, by glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<Vec<Glob>>,
}

/// Which list of a scope a target falls outside of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Namespaces,
    Folders,
    Templates,
}

impl Scope {
    /// Whether `target` is within this scope: it matches every list present (one glob of each).
    ///
    /// A missing value (a cluster-scoped template's namespace, a run's folder or template when it
    /// comes from none) is matched as `""`, which only `*`, `**` and, for folders, `""` match. A
    /// [`Kind::Namespace`] target is checked against `namespaces` only; a [`Kind::Token`] is in no
    /// namespace, folder or template, so only lists holding `*` or `**` cover it.
    pub fn covers(&self, target: &Target) -> bool {
        self.lists(target)
            .all(|(_, list, value)| list_covers(target.kind, list, value))
    }

    /// The lists that apply to `target`, with the value each is matched against.
    pub(super) fn lists<'s, 't>(
        &'s self,
        target: &'t Target,
    ) -> impl Iterator<Item = (Field, &'s [Glob], Option<&'t str>)> {
        let namespace_only = target.kind == Kind::Namespace;
        [
            (
                Field::Namespaces,
                &self.namespaces,
                target.namespace.as_deref(),
            ),
            (Field::Folders, &self.folders, target.folder.as_deref()),
            (
                Field::Templates,
                &self.templates,
                target.template.as_deref(),
            ),
        ]
        .into_iter()
        .filter(move |(field, _, _)| !namespace_only || *field == Field::Namespaces)
        .filter_map(|(field, list, value)| list.as_deref().map(|l| (field, l, value)))
    }
}

/// Whether one glob of `list` matches `value` (missing: `""`); see [`Scope::covers`].
pub(super) fn list_covers(kind: Kind, list: &[Glob], value: Option<&str>) -> bool {
    if kind == Kind::Token {
        return list.iter().any(|g| matches!(g.as_str(), "*" | "**"));
    }
    let value = value.unwrap_or("");
    list.iter().any(|g| g.matches(value))
}

#[cfg(test)]
mod tests;
