//! The watches that keep the store a copy of the cluster: every applied object is written,
//! every deleted one forgotten, and after each full list (the first, and every relist after a
//! watch was lost) what the list no longer holds is forgotten too.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::DynamicObject;
use kube::runtime::{WatchStreamExt, watcher};

use super::{KubeBackend, template_resource, to_json};
use crate::k8s::Scope;
use crate::store::{LabelSelector, Store, TemplateKind};

/// The template kinds a server of this scope mirrors: ClusterWorkflowTemplates only when it is
/// not namespaced (as the controller).
fn template_kinds(scope: &Scope) -> Vec<TemplateKind> {
    let mut kinds = vec![
        TemplateKind::WorkflowTemplate,
        TemplateKind::CronWorkflow,
        TemplateKind::WorkflowEventBinding,
    ];
    if scope.namespace.is_none() {
        kinds.push(TemplateKind::ClusterWorkflowTemplate);
    }
    kinds
}

/// The most uids of deleted workflows remembered (so that a late event cannot bring one back).
const MAX_TOMBSTONES: usize = 100_000;

/// How many watches a server of this scope runs.
pub(super) fn watches(scope: &Scope) -> usize {
    1 + template_kinds(scope).len()
}

impl KubeBackend {
    /// Starts every watch.
    pub(super) fn mirror(&self) {
        let scope = &self.inner.scope;
        let api = self.api(&crate::k8s::workflows(), scope.namespace.as_deref());
        let config = watcher::Config::default().labels(&scope.selector());
        let this = self.clone();
        tokio::spawn(async move { this.mirror_workflows(watcher(api, config)).await });
        for kind in template_kinds(scope) {
            let namespace = match kind {
                TemplateKind::ClusterWorkflowTemplate => None,
                _ => scope.namespace.as_deref(),
            };
            let api = self.api(&template_resource(kind), namespace);
            let this = self.clone();
            let stream = watcher(api, watcher::Config::default());
            tokio::spawn(async move { this.mirror_templates(kind, stream).await });
        }
    }

    fn listed(&self) {
        self.inner.listed.send_modify(|n| *n += 1);
    }

    async fn mirror_workflows(
        self,
        stream: impl futures::Stream<Item = watcher::Result<watcher::Event<DynamicObject>>> + Send,
    ) {
        let stream = stream.default_backoff();
        futures::pin_mut!(stream);
        let mut listing: Vec<DynamicObject> = Vec::new();
        let mut first = true;
        // The store's version when a listing began: rows written since (by this server's own
        // writes) are newer than the listing and never forgotten for missing from it.
        let mut listed_from = 0;
        while let Some(event) = stream.next().await {
            match event {
                Err(e) => tracing::warn!(error = %e, "watching workflows"),
                Ok(watcher::Event::Init) => {
                    listing.clear();
                    listed_from = self.inner.store.version_now().await.map_or(0, |v| v + 1);
                }
                Ok(watcher::Event::InitApply(o)) => listing.push(o),
                Ok(watcher::Event::InitDone) => {
                    // Oldest first, so that workflows seen for the first time are numbered in
                    // the order they were made.
                    listing.sort_by_key(|o| o.metadata.creation_timestamp.clone().map(|t| t.0));
                    let mut seen = HashSet::new();
                    for o in listing.drain(..) {
                        seen.extend(o.metadata.uid.clone());
                        self.apply_workflow(&o).await;
                    }
                    self.forget_unseen(&seen, listed_from).await;
                    if std::mem::take(&mut first) {
                        self.listed();
                    }
                }
                Ok(watcher::Event::Apply(o)) => {
                    self.apply_workflow(&o).await;
                }
                Ok(watcher::Event::Delete(o)) => {
                    if let Some(uid) = o.metadata.uid.as_deref() {
                        self.forget(uid).await;
                    }
                }
            }
        }
    }

    /// Mirrors a workflow object; returns it as stored. One older than the copy already
    /// stored (a write's answer arriving after the watch's newer event), or of a workflow
    /// forgotten as deleted, is not stored (`None`).
    pub(super) async fn apply_workflow(
        &self,
        o: &DynamicObject,
    ) -> Option<engine::model::Workflow> {
        let uid = o.metadata.uid.clone().unwrap_or_default();
        let version = o
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok());
        if self.inner.gone.lock().is_ok_and(|g| g.contains(&uid)) {
            return None;
        }
        if let (Some(v), Ok(seen)) = (version, self.inner.versions.lock())
            && seen.get(&uid).is_some_and(|last| *last >= v)
        {
            return None;
        }
        let wf = match self.full_workflow(o).await {
            Ok(wf) => wf,
            Err(e) => {
                tracing::warn!(name = ?o.metadata.name, error = %e, "a workflow object cannot be read");
                return None;
            }
        };
        match self.inner.store.mirror_workflow(&wf).await {
            Ok(stored) => {
                if let (Some(v), Ok(mut seen)) = (version, self.inner.versions.lock()) {
                    seen.insert(uid, v);
                }
                let _ = self.inner.updates.send(Arc::new(stored.workflow.clone()));
                Some(stored.workflow)
            }
            Err(e) => {
                tracing::warn!(name = ?o.metadata.name, error = %e, "cannot store a workflow");
                None
            }
        }
    }

    /// Forgets a workflow deleted from the cluster, by uid.
    pub(super) async fn forget(&self, uid: &str) {
        if let Ok(mut gone) = self.inner.gone.lock() {
            // Bounded: uids are never reused, old tombstones only guard against late events.
            if gone.len() >= MAX_TOMBSTONES {
                gone.clear();
            }
            gone.insert(uid.to_owned());
        }
        if let Ok(mut seen) = self.inner.versions.lock() {
            seen.remove(uid);
        }
        let wf = self.inner.store.get_workflow_by_uid(uid).await;
        if let Err(e) = self.inner.store.forget_workflow(uid).await {
            tracing::warn!(uid, error = %e, "cannot forget a deleted workflow");
            return;
        }
        if let Ok(wf) = wf {
            let _ = self.inner.deletions.send(Arc::new(wf));
        }
    }

    async fn forget_unseen(&self, seen: &HashSet<String>, listed_from: i64) {
        let live = match self.inner.store.live_workflow_uids(listed_from).await {
            Ok(live) => live,
            Err(e) => return tracing::warn!(error = %e, "cannot list the stored workflows"),
        };
        for uid in live.iter().filter(|u| !seen.contains(*u)) {
            self.forget(uid).await;
        }
    }

    async fn mirror_templates(
        self,
        kind: TemplateKind,
        stream: impl futures::Stream<Item = watcher::Result<watcher::Event<DynamicObject>>> + Send,
    ) {
        let stream = stream.default_backoff();
        futures::pin_mut!(stream);
        let mut seen: HashSet<(Option<String>, String)> = HashSet::new();
        let mut first = true;
        while let Some(event) = stream.next().await {
            match event {
                Err(e) => tracing::warn!(error = %e, kind = kind.as_str(), "watching templates"),
                Ok(watcher::Event::Init) => seen.clear(),
                Ok(watcher::Event::InitApply(o)) => {
                    seen.insert((
                        o.metadata.namespace.clone(),
                        o.metadata.name.clone().unwrap_or_default(),
                    ));
                    self.apply_template(kind, &o).await;
                }
                Ok(watcher::Event::InitDone) => {
                    self.forget_unseen_templates(kind, &seen).await;
                    if std::mem::take(&mut first) {
                        self.listed();
                    }
                }
                Ok(watcher::Event::Apply(o)) => {
                    self.apply_template(kind, &o).await;
                }
                Ok(watcher::Event::Delete(o)) => {
                    let name = o.metadata.name.clone().unwrap_or_default();
                    let ns = o.metadata.namespace.as_deref();
                    if let Err(e) = self.inner.store.delete_template(kind, ns, &name).await
                        && !matches!(e, crate::store::StoreError::NotFound { .. })
                    {
                        tracing::warn!(name, error = %e, "cannot forget a deleted template");
                    }
                }
            }
        }
    }

    /// Mirrors a template object; returns it as stored.
    pub(super) async fn apply_template(
        &self,
        kind: TemplateKind,
        o: &DynamicObject,
    ) -> Option<serde_json::Value> {
        let name = o.metadata.name.clone().unwrap_or_default();
        let ns = o.metadata.namespace.as_deref();
        match self
            .inner
            .store
            .mirror_template(kind, ns, &name, &to_json(o))
            .await
        {
            Ok(t) => Some(t.body),
            Err(e) => {
                tracing::warn!(name, kind = kind.as_str(), error = %e, "cannot store a template");
                None
            }
        }
    }

    async fn forget_unseen_templates(
        &self,
        kind: TemplateKind,
        seen: &HashSet<(Option<String>, String)>,
    ) {
        let all = LabelSelector::default();
        let stored = match self.inner.store.list_templates(kind, None, &all).await {
            Ok(stored) => stored,
            Err(e) => return tracing::warn!(error = %e, "cannot list the stored templates"),
        };
        for t in stored {
            if !seen.contains(&(t.namespace.clone(), t.name.clone())) {
                let _ = self
                    .inner
                    .store
                    .delete_template(kind, t.namespace.as_deref(), &t.name)
                    .await;
            }
        }
    }
}
