//! The catalog as the home page shows it: grouped by namespace, then nested in folders, sorted,
//! and filtered by a search query. Pure functions, run on the server (server functions, SSR) and in
//! the browser (filtering as the user types) alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, DEFAULT_NAMESPACE, TemplateSummary};

/// The label of the pseudo-namespace that holds ClusterWorkflowTemplates.
pub const CLUSTER_WIDE: &str = "cluster-wide";

/// Where a group of templates lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// A Kubernetes namespace.
    Namespace(String),
    /// Cluster-scoped resources (ClusterWorkflowTemplates); sorts after every namespace.
    ClusterWide,
}

impl Scope {
    /// The scope's heading.
    pub fn label(&self) -> &str {
        match self {
            Self::Namespace(name) => name,
            Self::ClusterWide => CLUSTER_WIDE,
        }
    }

    /// The scope a template belongs to.
    fn of(template: &TemplateSummary) -> Self {
        if template.kind.is_cluster_scoped() {
            Self::ClusterWide
        } else {
            Self::Namespace(
                template
                    .namespace
                    .clone()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
            )
        }
    }
}

/// A folder: its sub-folders, then its templates, both sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The last segment of its path (empty for a scope's top level).
    pub name: String,
    /// Its full path, outermost first (empty for a scope's top level).
    pub path: Vec<String>,
    /// Nested folders.
    pub folders: Vec<Folder>,
    /// Templates directly in this folder.
    pub templates: Vec<TemplateSummary>,
}

impl Folder {
    /// How many templates this folder holds, nested ones included.
    pub fn count(&self) -> usize {
        self.templates.len() + self.folders.iter().map(Folder::count).sum::<usize>()
    }

    /// Whether this folder holds no template at all.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty() && self.folders.iter().all(Folder::is_empty)
    }

    /// A key unique within a tree: the path joined with `/`.
    pub fn key(&self) -> String {
        self.path.join("/")
    }

    fn insert(&mut self, template: TemplateSummary, depth: usize) {
        let Some(segment) = template.folder.get(depth).cloned() else {
            self.templates.push(template);
            return;
        };
        let index = match self.folders.iter().position(|f| f.name == segment) {
            Some(index) => index,
            None => {
                self.folders.push(Folder {
                    name: segment,
                    path: template.folder[..=depth].to_vec(),
                    ..Folder::default()
                });
                self.folders.len() - 1
            }
        };
        self.folders[index].insert(template, depth + 1);
    }

    fn sort(&mut self) {
        self.folders.sort_by(|a, b| a.name.cmp(&b.name));
        self.templates
            .sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
        self.folders.iter_mut().for_each(Folder::sort);
    }

    fn retain(&self, keep: &impl Fn(&TemplateSummary) -> bool) -> Folder {
        Folder {
            name: self.name.clone(),
            path: self.path.clone(),
            folders: self
                .folders
                .iter()
                .map(|folder| folder.retain(keep))
                .filter(|folder| !folder.is_empty())
                .collect(),
            templates: self.templates.iter().filter(|t| keep(t)).cloned().collect(),
        }
    }
}

/// The templates of one namespace (or of the cluster-wide pseudo-namespace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeGroup {
    /// Which namespace.
    pub scope: Scope,
    /// Its top-level folder.
    pub root: Folder,
}

/// The whole catalog as a tree: namespaces (sorted, cluster-wide last) → folders → templates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogTree {
    /// Non-empty groups, sorted.
    pub groups: Vec<ScopeGroup>,
    /// How many templates the unfiltered catalog holds.
    pub total: usize,
}

impl CatalogTree {
    /// Groups and sorts every template of `catalog`.
    pub fn build(catalog: &Catalog) -> Self {
        let mut scopes: BTreeMap<Scope, Folder> = BTreeMap::new();
        for template in &catalog.templates {
            scopes
                .entry(Scope::of(template))
                .or_default()
                .insert(template.clone(), 0);
        }
        let groups = scopes
            .into_iter()
            .map(|(scope, mut root)| {
                root.sort();
                ScopeGroup { scope, root }
            })
            .collect();
        Self {
            groups,
            total: catalog.templates.len(),
        }
    }

    /// The tree keeping only the templates that match `query` (see [`matches`]), without the
    /// folders and groups left empty. `total` is kept.
    pub fn filtered(&self, query: &str) -> Self {
        let terms = search_terms(query);
        if terms.is_empty() {
            return self.clone();
        }
        let keep = |template: &TemplateSummary| matches(template, &terms);
        Self {
            groups: self
                .groups
                .iter()
                .map(|group| ScopeGroup {
                    scope: group.scope.clone(),
                    root: group.root.retain(&keep),
                })
                .filter(|group| !group.root.is_empty())
                .collect(),
            total: self.total,
        }
    }

    /// The tree of one namespace (its label, or `cluster-wide`); all of it when `scope` is empty.
    pub fn in_scope(&self, scope: &str) -> Self {
        if scope.is_empty() {
            return self.clone();
        }
        Self {
            groups: self
                .groups
                .iter()
                .filter(|g| g.scope.label() == scope)
                .cloned()
                .collect(),
            total: self.total,
        }
    }

    /// The namespaces (and `cluster-wide`) the tree has templates in.
    pub fn scopes(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|g| g.scope.label().to_string())
            .collect()
    }

    /// Every template the (possibly filtered) tree shows, in no particular order.
    pub fn templates(&self) -> impl Iterator<Item = &TemplateSummary> {
        let mut stack: Vec<&Folder> = self.groups.iter().map(|g| &g.root).collect();
        std::iter::from_fn(move || {
            let folder = stack.pop()?;
            stack.extend(folder.folders.iter());
            Some(folder.templates.iter())
        })
        .flatten()
    }

    /// How many templates the tree shows.
    pub fn shown(&self) -> usize {
        self.groups.iter().map(|group| group.root.count()).sum()
    }
}

/// Splits a search query into lower-case terms, all of which must match.
pub fn search_terms(query: &str) -> Vec<String> {
    query.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether every term occurs, case-insensitively, in the template's name, title, description or
/// folder path (`ci/backend`).
pub fn matches(template: &TemplateSummary, terms: &[String]) -> bool {
    let fields = [
        Some(template.name.to_lowercase()),
        template.title.as_deref().map(str::to_lowercase),
        template.description.as_deref().map(str::to_lowercase),
        Some(template.folder_path().to_lowercase()),
    ];
    terms.iter().all(|term| {
        fields
            .iter()
            .flatten()
            .any(|field| field.contains(term.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{TemplateKind, parse_folder};

    fn template(
        kind: TemplateKind,
        namespace: Option<&str>,
        name: &str,
        folder: &str,
    ) -> TemplateSummary {
        TemplateSummary {
            kind,
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            folder: parse_folder(folder),
            title: None,
            description: None,
            parameters: vec![],
            schedule: None,
        }
    }

    fn wt(namespace: &str, name: &str, folder: &str) -> TemplateSummary {
        template(
            TemplateKind::WorkflowTemplate,
            Some(namespace),
            name,
            folder,
        )
    }

    fn names(folder: &Folder) -> Vec<&str> {
        folder.templates.iter().map(|t| t.name.as_str()).collect()
    }

    fn folder_names(folder: &Folder) -> Vec<&str> {
        folder.folders.iter().map(|f| f.name.as_str()).collect()
    }

    fn sample() -> Catalog {
        let mut described = wt("team-a", "deploy", "cd");
        described.title = Some("Deploy to Production".into());
        described.description = Some("Rolls out the *main* branch".into());
        Catalog {
            templates: vec![
                wt("team-a", "build-backend", "ci/backend"),
                wt("team-a", "build-frontend", "ci/frontend"),
                wt("team-a", "lint", "ci"),
                described,
                wt("team-a", "hello", ""),
                template(
                    TemplateKind::CronWorkflow,
                    Some("team-a"),
                    "nightly",
                    "ci/backend",
                ),
                template(
                    TemplateKind::ClusterWorkflowTemplate,
                    None,
                    "shared-steps",
                    "lib",
                ),
                template(TemplateKind::WorkflowTemplate, None, "orphan", ""),
                wt("analytics", "report", "a/b/c"),
            ],
        }
    }

    #[test]
    fn empty_catalog_gives_an_empty_tree() {
        let tree = CatalogTree::build(&Catalog::default());
        assert!(tree.groups.is_empty());
        assert_eq!((tree.total, tree.shown()), (0, 0));
    }

    #[test]
    fn groups_are_sorted_with_cluster_wide_last_and_default_namespace_filled_in() {
        let tree = CatalogTree::build(&sample());
        let labels: Vec<&str> = tree.groups.iter().map(|g| g.scope.label()).collect();
        assert_eq!(labels, ["analytics", "default", "team-a", CLUSTER_WIDE]);
        assert_eq!(tree.total, 9);
        assert_eq!(tree.shown(), 9);
    }

    #[test]
    fn folders_nest_and_sort_before_templates() {
        let tree = CatalogTree::build(&sample());
        let team_a = &tree.groups[2].root;
        assert_eq!(folder_names(team_a), ["cd", "ci"]);
        assert_eq!(names(team_a), ["hello"]);
        let ci = &team_a.folders[1];
        assert_eq!(ci.path, ["ci"]);
        assert_eq!(folder_names(ci), ["backend", "frontend"]);
        assert_eq!(names(ci), ["lint"]);
        let backend = &ci.folders[0];
        assert_eq!(backend.path, ["ci", "backend"]);
        assert_eq!(backend.key(), "ci/backend");
        assert_eq!(names(backend), ["build-backend", "nightly"]);
        assert_eq!(ci.count(), 4);
    }

    #[test]
    fn deep_paths_nest_fully() {
        let tree = CatalogTree::build(&sample());
        let analytics = &tree.groups[0].root;
        let a = &analytics.folders[0];
        let b = &a.folders[0];
        let c = &b.folders[0];
        assert_eq!(
            (a.name.as_str(), b.name.as_str(), c.name.as_str()),
            ("a", "b", "c")
        );
        assert_eq!(c.path, ["a", "b", "c"]);
        assert!(a.templates.is_empty() && b.templates.is_empty());
        assert_eq!(names(c), ["report"]);
    }

    #[test]
    fn same_name_of_two_kinds_sorts_by_kind() {
        let catalog = Catalog {
            templates: vec![
                template(TemplateKind::CronWorkflow, Some("ns"), "x", ""),
                template(TemplateKind::WorkflowTemplate, Some("ns"), "x", ""),
            ],
        };
        let tree = CatalogTree::build(&catalog);
        let kinds: Vec<TemplateKind> = tree.groups[0]
            .root
            .templates
            .iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(
            kinds,
            [TemplateKind::WorkflowTemplate, TemplateKind::CronWorkflow]
        );
    }

    #[test]
    fn filter_matches_name_title_description_and_folder_case_insensitively() {
        let tree = CatalogTree::build(&sample());
        let shown = |query: &str| tree.filtered(query).shown();
        assert_eq!(shown("BUILD"), 2);
        assert_eq!(shown("production"), 1, "title");
        assert_eq!(shown("*MAIN*"), 1, "description");
        assert_eq!(shown("backend"), 2, "folder segment");
        assert_eq!(shown("ci/front"), 1, "folder path");
        assert_eq!(shown("nothing-like-this"), 0);
        assert_eq!(shown(""), 9);
        assert_eq!(shown("   "), 9);
    }

    #[test]
    fn every_term_must_match() {
        let tree = CatalogTree::build(&sample());
        assert_eq!(tree.filtered("build backend").shown(), 1);
        assert_eq!(tree.filtered("build  nightly").shown(), 0);
    }

    #[test]
    fn filtering_prunes_empty_folders_and_groups_and_keeps_total() {
        let tree = CatalogTree::build(&sample());
        let filtered = tree.filtered("nightly");
        assert_eq!(filtered.total, 9);
        assert_eq!(filtered.groups.len(), 1);
        let root = &filtered.groups[0].root;
        assert_eq!(folder_names(root), ["ci"]);
        assert!(root.templates.is_empty());
        assert_eq!(folder_names(&root.folders[0]), ["backend"]);
        assert_eq!(names(&root.folders[0].folders[0]), ["nightly"]);
    }

    #[test]
    fn cluster_templates_are_found_under_cluster_wide() {
        let tree = CatalogTree::build(&sample()).filtered("shared");
        assert_eq!(tree.groups.len(), 1);
        assert_eq!(tree.groups[0].scope, Scope::ClusterWide);
        assert_eq!(tree.groups[0].scope.label(), "cluster-wide");
    }

    #[test]
    fn non_ascii_queries_are_case_insensitive() {
        let mut summary = wt("ns", "x", "");
        summary.title = Some("Übersicht".into());
        let terms = search_terms("üBER");
        assert!(matches(&summary, &terms));
    }
}
