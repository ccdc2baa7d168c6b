//! WorkflowTemplates and ClusterWorkflowTemplates from watch caches, for `templateRef` and
//! `workflowTemplateRef`.

use std::sync::Arc;

use engine::model::{ClusterWorkflowTemplate, WorkflowTemplate};
use engine::plan::TemplateSource;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::reflector::{Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

use super::{Scope, argo_resource};

/// The caches (filled by background watches).
#[derive(Clone)]
pub(super) struct Templates {
    namespaced: Store<DynamicObject>,
    cluster: Option<Store<DynamicObject>>,
}

/// Keeps `writer`'s cache filled from a watch of `api` (objects matching `config`), in the
/// background; `what` names them in warnings.
pub(super) fn watch_into(
    api: Api<DynamicObject>,
    config: watcher::Config,
    writer: Writer<DynamicObject>,
    what: &'static str,
) {
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            if let Err(e) = event {
                tracing::warn!(error = %e, "watching {what}");
            }
        }
    });
}

impl Templates {
    /// Starts watching: WorkflowTemplates in scope, and ClusterWorkflowTemplates unless the
    /// controller is namespaced (as Argo does).
    pub(super) fn watch(client: &Client, scope: &Scope) -> Self {
        let ar = argo_resource("WorkflowTemplate", "workflowtemplates");
        let writer = Writer::new(ar.clone());
        let namespaced = writer.as_reader();
        watch_into(
            scope.dynamic(client, &ar),
            watcher::Config::default(),
            writer,
            "workflow templates",
        );
        let cluster = scope.namespace.is_none().then(|| {
            let ar = argo_resource("ClusterWorkflowTemplate", "clusterworkflowtemplates");
            let writer = Writer::new(ar.clone());
            let reader = writer.as_reader();
            watch_into(
                Api::all_with(client.clone(), &ar),
                watcher::Config::default(),
                writer,
                "cluster workflow templates",
            );
            reader
        });
        Self {
            namespaced,
            cluster,
        }
    }

    /// Caches holding exactly these WorkflowTemplates (and no ClusterWorkflowTemplates).
    pub(super) fn fixed(namespaced: Vec<DynamicObject>) -> Self {
        Self {
            namespaced: super::fixed_store(
                argo_resource("WorkflowTemplate", "workflowtemplates"),
                namespaced,
            ),
            cluster: None,
        }
    }

    /// Waits until every cache has its first full list.
    pub(super) async fn ready(&self) {
        let _ = self.namespaced.wait_until_ready().await;
        if let Some(c) = &self.cluster {
            let _ = c.wait_until_ready().await;
        }
    }

    /// The templates a workflow of `namespace` may refer to, as they are now.
    pub(super) fn snapshot(&self, namespace: &str) -> Snapshot {
        Snapshot {
            namespaced: self
                .namespaced
                .state_filter(|t| t.namespace().as_deref() == Some(namespace)),
            cluster: self.cluster.as_ref().map(Store::state).unwrap_or_default(),
        }
    }
}

/// A point-in-time copy of the caches.
pub struct Snapshot {
    namespaced: Vec<Arc<DynamicObject>>,
    cluster: Vec<Arc<DynamicObject>>,
}

fn typed<T: serde::de::DeserializeOwned>(objects: &[Arc<DynamicObject>], name: &str) -> Option<T> {
    let o = objects.iter().find(|o| o.name_any() == name)?;
    serde_json::from_value(serde_json::to_value(o.as_ref()).ok()?).ok()
}

impl TemplateSource for Snapshot {
    fn workflow_template(&self, _namespace: &str, name: &str) -> Option<WorkflowTemplate> {
        typed(&self.namespaced, name)
    }

    fn cluster_workflow_template(&self, name: &str) -> Option<ClusterWorkflowTemplate> {
        typed(&self.cluster, name)
    }
}
