//! What a request is about (a [`Target`]) and who makes it (a [`Subject`]).

use std::fmt;

use serde::Serialize;

use crate::diag::did_you_mean;

/// The kind of object a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A run.
    Workflow,
    /// A namespaced template.
    WorkflowTemplate,
    /// A cluster-scoped template: it has no namespace.
    ClusterWorkflowTemplate,
    /// A cron.
    CronWorkflow,
    /// Anything in a namespace (its name is the namespace): seeing it in lists.
    Namespace,
    /// An API token.
    Token,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 6] = [
        Kind::Workflow,
        Kind::WorkflowTemplate,
        Kind::ClusterWorkflowTemplate,
        Kind::CronWorkflow,
        Kind::Namespace,
        Kind::Token,
    ];

    /// The lowercase name of the CLI form and of explanations (`workflowtemplate`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::WorkflowTemplate => "workflowtemplate",
            Kind::ClusterWorkflowTemplate => "clusterworkflowtemplate",
            Kind::CronWorkflow => "cronworkflow",
            Kind::Namespace => "namespace",
            Kind::Token => "token",
        }
    }

    /// The short name the CLI accepts too (`wftmpl`), as Argo's CLI does.
    pub fn short_name(self) -> &'static str {
        match self {
            Kind::Workflow => "wf",
            Kind::WorkflowTemplate => "wftmpl",
            Kind::ClusterWorkflowTemplate => "cwftmpl",
            Kind::CronWorkflow => "cwf",
            Kind::Namespace => "ns",
            Kind::Token => "token",
        }
    }

    /// Whether objects of this kind live in a namespace (written `KIND/NAMESPACE/NAME`).
    pub fn is_namespaced(self) -> bool {
        matches!(
            self,
            Kind::Workflow | Kind::WorkflowTemplate | Kind::CronWorkflow
        )
    }

    fn usage(self) -> String {
        if self.is_namespaced() {
            format!("{}/NAMESPACE/NAME", self.name())
        } else {
            format!("{}/NAME", self.name())
        }
    }
}

/// The object of a request, with what a policy's scope looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// What kind of object.
    pub kind: Kind,
    /// Its namespace; `None` for cluster-scoped objects and tokens.
    pub namespace: Option<String>,
    /// Its name; `None` for a run not created yet.
    pub name: Option<String>,
    /// The template it is or comes from: the name itself for templates and crons, the template a
    /// run was submitted from; `None` for a run from no template.
    pub template: Option<String>,
    /// The `trellis.dev/folder` of that template (`ci/backend`); `None` or `""`: the top level.
    pub folder: Option<String>,
}

/// Why a `KIND/NAMESPACE/NAME` target does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Nothing was given.
    #[error("no target: write KIND/NAMESPACE/NAME, e.g. workflowtemplate/team-a/deploy")]
    Empty,
    /// The kind is not one Trellis knows.
    #[error("unknown kind `{given}` in `{target}`: {}", kind_hint(*suggestion))]
    UnknownKind {
        /// The target as given.
        target: String,
        /// The kind as given.
        given: String,
        /// The closest kind, when one is close enough to be a typo.
        suggestion: Option<&'static str>,
    },
    /// The wrong number of parts, or an empty one.
    #[error("`{target}` is not a {}: write {usage}", kind.name())]
    Shape {
        /// The target as given.
        target: String,
        /// The kind it names.
        kind: Kind,
        /// How that kind is written.
        usage: String,
    },
}

fn kind_hint(suggestion: Option<&str>) -> String {
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .map(|k| {
            if k.short_name() == k.name() {
                k.name().to_string()
            } else {
                format!("{} ({})", k.name(), k.short_name())
            }
        })
        .collect();
    let kinds = kinds.join(", ");
    match suggestion {
        Some(s) => format!("did you mean `{s}`? (kinds: {kinds})"),
        None => format!("kinds are {kinds}"),
    }
}

fn kind_of(word: &str) -> Option<Kind> {
    let lower = word.to_ascii_lowercase();
    Kind::ALL
        .into_iter()
        .find(|k| k.name() == lower || k.short_name() == lower)
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

impl Target {
    /// A run in `namespace` (`name` is `None` before it is created); say where it comes from with
    /// [`Target::from_template`].
    pub fn workflow(namespace: &str, name: Option<&str>) -> Target {
        Target {
            kind: Kind::Workflow,
            namespace: some(namespace),
            name: name.map(str::to_string),
            template: None,
            folder: None,
        }
    }

    /// The same target, as coming from `template` in `folder`.
    pub fn from_template(mut self, template: &str, folder: Option<&str>) -> Target {
        self.template = some(template);
        self.folder = folder.map(str::to_string);
        self
    }

    /// A WorkflowTemplate, in its `trellis.dev/folder` when it has one.
    pub fn workflow_template(namespace: &str, name: &str, folder: Option<&str>) -> Target {
        Target::named(Kind::WorkflowTemplate, Some(namespace), name, folder)
    }

    /// A ClusterWorkflowTemplate, in its `trellis.dev/folder` when it has one.
    pub fn cluster_workflow_template(name: &str, folder: Option<&str>) -> Target {
        Target::named(Kind::ClusterWorkflowTemplate, None, name, folder)
    }

    /// A CronWorkflow, in its `trellis.dev/folder` when it has one.
    pub fn cron_workflow(namespace: &str, name: &str, folder: Option<&str>) -> Target {
        Target::named(Kind::CronWorkflow, Some(namespace), name, folder)
    }

    /// Everything in `namespace`, for deciding whether it is listed.
    pub fn namespace(namespace: &str) -> Target {
        Target {
            kind: Kind::Namespace,
            namespace: some(namespace),
            name: some(namespace),
            template: None,
            folder: None,
        }
    }

    /// An API token by name.
    pub fn token(name: &str) -> Target {
        Target {
            kind: Kind::Token,
            namespace: None,
            name: some(name),
            template: None,
            folder: None,
        }
    }

    fn named(kind: Kind, namespace: Option<&str>, name: &str, folder: Option<&str>) -> Target {
        Target {
            kind,
            namespace: namespace.map(str::to_string),
            name: some(name),
            template: some(name),
            folder: folder.map(str::to_string),
        }
    }

    /// Parses the CLI form: `workflow/NS/NAME` (or `workflow/NS` for a new run),
    /// `workflowtemplate/NS/NAME`, `clusterworkflowtemplate/NAME`, `cronworkflow/NS/NAME`,
    /// `namespace/NAME` or `token/NAME`, kinds also by their short names (`wf`, `wftmpl`, `cwftmpl`,
    /// `cwf`, `ns`). The folder is not part of it: set it from the template.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TargetError::Empty);
        }
        let mut parts = text.split('/');
        let word = parts.next().unwrap_or_default();
        let Some(kind) = kind_of(word) else {
            let names = Kind::ALL.iter().flat_map(|k| [k.name(), k.short_name()]);
            return Err(TargetError::UnknownKind {
                target: text.to_string(),
                given: word.to_string(),
                suggestion: did_you_mean(word, names),
            });
        };
        let rest: Vec<&str> = parts.collect();
        let shape = || TargetError::Shape {
            target: text.to_string(),
            kind,
            usage: kind.usage(),
        };
        if rest.iter().any(|p| p.is_empty()) {
            return Err(shape());
        }
        let target = match (kind, rest.as_slice()) {
            (Kind::Workflow, [ns]) => Target::workflow(ns, None),
            (Kind::Workflow, [ns, name]) => Target::workflow(ns, Some(name)),
            (Kind::WorkflowTemplate, [ns, name]) => Target::workflow_template(ns, name, None),
            (Kind::CronWorkflow, [ns, name]) => Target::cron_workflow(ns, name, None),
            (Kind::ClusterWorkflowTemplate, [name]) => {
                Target::cluster_workflow_template(name, None)
            }
            (Kind::Namespace, [name]) => Target::namespace(name),
            (Kind::Token, [name]) => Target::token(name),
            _ => return Err(shape()),
        };
        Ok(target)
    }
}

impl fmt::Display for Target {
    /// The CLI form: `workflowtemplate/team-a/deploy`, `clusterworkflowtemplate/build`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        if let Some(ns) = self
            .namespace
            .as_ref()
            .filter(|_| self.kind.is_namespaced())
        {
            write!(f, "/{ns}")?;
        }
        match &self.name {
            Some(name) => write!(f, "/{name}"),
            None => Ok(()),
        }
    }
}

/// Whether a subject is a person or an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// A person signed in through the identity provider (or a client certificate).
    User,
    /// An API token, known by its name.
    Token,
}

/// Who makes a request, borrowed from the server's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    /// A user or a token.
    pub kind: SubjectKind,
    /// The user's subject, or the token's name.
    pub name: &'a str,
    /// The user's email, when known.
    pub email: Option<&'a str>,
    /// The user's groups (a token has none).
    pub groups: &'a [String],
}

impl<'a> Subject<'a> {
    /// A user.
    pub fn user(name: &'a str, email: Option<&'a str>, groups: &'a [String]) -> Subject<'a> {
        Subject {
            kind: SubjectKind::User,
            name,
            email,
            groups,
        }
    }

    /// An API token.
    pub fn token(name: &'a str) -> Subject<'a> {
        Subject {
            kind: SubjectKind::Token,
            name,
            email: None,
            groups: &[],
        }
    }
}

impl fmt::Display for Subject<'_> {
    /// `user alice (alice@example.com), groups [a, b]` or `token ci-bot`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SubjectKind::Token => write!(f, "token {}", self.name),
            SubjectKind::User => {
                write!(f, "user {}", self.name)?;
                if let Some(email) = self.email.filter(|e| !e.eq_ignore_ascii_case(self.name)) {
                    write!(f, " ({email})")?;
                }
                write!(f, ", groups [{}]", self.groups.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests;
