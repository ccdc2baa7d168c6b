//! The WorkflowTemplates and ClusterWorkflowTemplates among the linted files, for `templateRef`s.

use std::collections::HashMap;

use crate::model::{Manifest, Template, WorkflowSpec};

/// The templates that references can resolve to.
#[derive(Debug, Default)]
pub struct Index<'a> {
    namespaced: HashMap<&'a str, Vec<(Option<&'a str>, &'a WorkflowSpec)>>,
    cluster: HashMap<&'a str, &'a WorkflowSpec>,
}

impl<'a> Index<'a> {
    /// Indexes every WorkflowTemplate and ClusterWorkflowTemplate among `manifests`.
    pub fn new(manifests: impl IntoIterator<Item = &'a Manifest>) -> Self {
        let mut index = Index::default();
        for manifest in manifests {
            let meta = manifest.metadata();
            let Some(name) = meta.and_then(|m| m.name.as_deref()) else {
                continue;
            };
            match manifest {
                Manifest::WorkflowTemplate(t) => {
                    if let Some(spec) = &t.spec {
                        let ns = meta.and_then(|m| m.namespace.as_deref());
                        index.namespaced.entry(name).or_default().push((ns, spec));
                    }
                }
                Manifest::ClusterWorkflowTemplate(t) => {
                    if let Some(spec) = &t.spec {
                        index.cluster.insert(name, spec);
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// The spec of the WorkflowTemplate (or, with `cluster`, ClusterWorkflowTemplate) called `name`.
    /// A namespaced template matches when either side leaves the namespace unset.
    pub fn spec(
        &self,
        name: &str,
        cluster: bool,
        namespace: Option<&str>,
    ) -> Option<&'a WorkflowSpec> {
        if cluster {
            return self.cluster.get(name).copied();
        }
        self.namespaced.get(name).and_then(|candidates| {
            candidates
                .iter()
                .find(|(ns, _)| ns.is_none() || namespace.is_none() || *ns == namespace)
                .map(|(_, spec)| *spec)
        })
    }

    /// A template inside a referenced WorkflowTemplate.
    pub fn template(
        &self,
        name: &str,
        template: &str,
        cluster: bool,
        namespace: Option<&str>,
    ) -> Option<&'a Template> {
        self.spec(name, cluster, namespace)?
            .templates
            .as_ref()?
            .iter()
            .find(|t| t.name.as_deref() == Some(template))
    }
}
