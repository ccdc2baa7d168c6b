//! Workflow templates, cluster workflow templates and cron workflows in SQL: stored as JSON
//! with their metadata filled in, created, replaced (optimistically or not), listed and deleted.

use std::collections::BTreeMap;

use super::db::{Row, Sql, Tx};
use super::{SqlStore, conflict, next_resource_version};
use crate::store::error::{Result, StoreError};
use crate::store::identity::{TemplateKind, format_time, new_uid, parse_time, whole_seconds};
use crate::store::selector::LabelSelector;
use crate::store::types::StoredTemplate;
use chrono::{DateTime, Utc};
use engine::model::API_VERSION;
use serde_json::{Map, Value};

/// A template's identity; the namespace is empty for cluster-scoped kinds.
pub(super) struct TemplateId<'a> {
    kind: TemplateKind,
    namespace: &'a str,
    name: &'a str,
}

impl<'a> TemplateId<'a> {
    /// Checks that the namespace is given exactly for namespaced kinds and the name is not empty.
    pub(super) fn new(
        kind: TemplateKind,
        namespace: Option<&'a str>,
        name: &'a str,
    ) -> Result<Self> {
        let namespace = check_scope(kind, namespace)?.unwrap_or_default();
        if name.is_empty() {
            return Err(StoreError::invalid(kind.as_str(), "the name is required"));
        }
        Ok(TemplateId {
            kind,
            namespace,
            name,
        })
    }

    fn not_found(&self) -> StoreError {
        StoreError::not_found(self.kind.as_str(), self.namespace, self.name)
    }
}

/// The namespace, if the kind has one: required for namespaced kinds, refused for cluster ones.
fn check_scope(kind: TemplateKind, namespace: Option<&str>) -> Result<Option<&str>> {
    match (kind.namespaced(), namespace.filter(|n| !n.is_empty())) {
        (true, None) => Err(StoreError::invalid(
            kind.as_str(),
            "a namespace is required",
        )),
        (false, Some(ns)) => Err(StoreError::invalid(
            kind.as_str(),
            format!("cluster-scoped, it cannot be in namespace {ns:?}"),
        )),
        (_, ns) => Ok(ns),
    }
}

/// What a write expects to find.
pub(super) enum WriteMode<'a> {
    /// Create or replace, whatever is stored.
    Put,
    /// Create; fail if it exists.
    Create,
    /// Replace the version given; fail if it is gone or changed.
    Update(&'a str),
    /// Create or replace, keeping the document's own uid, resourceVersion and
    /// creationTimestamp: a copy of what another system holds (the Kubernetes API).
    Mirror,
}

/// The stored fields a replacement keeps.
struct Current {
    uid: String,
    created_at: String,
    version: i64,
}

/// Creates or replaces a template as the mode says.
pub(super) async fn write(
    store: &SqlStore,
    id: &TemplateId<'_>,
    json: &Value,
    mode: WriteMode<'_>,
) -> Result<StoredTemplate> {
    check_document(id, json)?;
    let mut tx = store.begin_write().await?;
    let current = fetch_current(&mut tx, id).await?;
    match (&mode, &current) {
        (WriteMode::Create, Some(_)) => {
            return Err(StoreError::already_exists(
                id.kind.as_str(),
                id.namespace,
                id.name,
            ));
        }
        (WriteMode::Update(_), None) => return Err(id.not_found()),
        (WriteMode::Update(expected), Some(c)) if c.version.to_string() != *expected => {
            let kind = id.kind.as_str();
            return Err(conflict(kind, id.namespace, id.name, expected, c.version));
        }
        _ => {}
    }
    let (uid, created_at) = match (&mode, current) {
        (WriteMode::Mirror, _) => (
            own_meta(json, "uid").unwrap_or_else(new_uid),
            own_meta(json, "creationTimestamp")
                .and_then(|t| parse_time(&t).ok())
                .unwrap_or_else(|| whole_seconds(Utc::now())),
        ),
        (_, Some(c)) => (c.uid, parse_time(&c.created_at)?),
        (_, None) => (new_uid(), whole_seconds(Utc::now())),
    };
    let version = next_resource_version(&mut tx).await?;
    let (body, conflict) = match mode {
        // A copy: the cluster's identity wins (the object may have been made again).
        WriteMode::Mirror => (
            typed(id, json),
            "uid = excluded.uid, created_at = excluded.created_at, ",
        ),
        _ => (stamped(id, json, &uid, created_at, version), ""),
    };
    let sql = Sql::new(format!(
        "INSERT INTO templates (kind, namespace, name, uid, created_at, resource_version, body) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET \
         {conflict}resource_version = excluded.resource_version, body = excluded.body"
    ))
    .arg(id.kind.as_str())
    .arg(id.namespace)
    .arg(id.name)
    .arg(&uid)
    .arg(format_time(created_at))
    .arg(version)
    .arg(serde_json::to_string(&body)?);
    tx.run(sql).await?;
    tx.commit().await?;
    Ok(StoredTemplate {
        kind: id.kind,
        namespace: scope_of(id.kind, id.namespace),
        name: id.name.to_owned(),
        uid,
        resource_version: version.to_string(),
        created_at,
        body,
    })
}

/// The stored row's identity and version, if there is one.
async fn fetch_current(tx: &mut Tx, id: &TemplateId<'_>) -> Result<Option<Current>> {
    let sql = Sql::new(
        "SELECT uid, created_at, resource_version FROM templates \
         WHERE kind = ? AND namespace = ? AND name = ?",
    )
    .arg(id.kind.as_str())
    .arg(id.namespace)
    .arg(id.name);
    let row = tx.row(sql).await?;
    row.map(|r| {
        Ok(Current {
            uid: r.text("uid")?,
            created_at: r.text("created_at")?,
            version: r.int("resource_version")?,
        })
    })
    .transpose()
}

/// Refuses documents that are not objects or name another kind, name or namespace.
fn check_document(id: &TemplateId<'_>, json: &Value) -> Result<()> {
    let what = id.kind.as_str();
    let object = json
        .as_object()
        .ok_or_else(|| StoreError::invalid(what, "the document must be a JSON object"))?;
    let field = |value: Option<&Value>, path: &str, want: &str| match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == want => Ok(()),
        Some(other) => Err(StoreError::invalid(
            what,
            format!("{path} is {other}, expected {want:?}"),
        )),
    };
    field(object.get("kind"), "kind", what)?;
    let meta = match object.get("metadata") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(meta)) => meta,
        Some(_) => return Err(StoreError::invalid(what, "metadata must be an object")),
    };
    field(meta.get("name"), "metadata.name", id.name)?;
    field(meta.get("namespace"), "metadata.namespace", id.namespace)
}

/// A string of the document's `metadata`.
fn own_meta(json: &Value, field: &str) -> Option<String> {
    json.get("metadata")?
        .get(field)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The document with its `apiVersion` and `kind` filled in.
fn typed(id: &TemplateId<'_>, json: &Value) -> Value {
    let mut doc = json.as_object().cloned().unwrap_or_default();
    doc.entry("apiVersion")
        .or_insert_with(|| API_VERSION.into());
    doc.entry("kind").or_insert_with(|| id.kind.as_str().into());
    Value::Object(doc)
}

/// The document with its identity, version and creation time written into `metadata`.
fn stamped(
    id: &TemplateId<'_>,
    json: &Value,
    uid: &str,
    created: DateTime<Utc>,
    version: i64,
) -> Value {
    let mut doc = json.as_object().cloned().unwrap_or_default();
    doc.entry("apiVersion")
        .or_insert_with(|| API_VERSION.into());
    doc.entry("kind").or_insert_with(|| id.kind.as_str().into());
    let meta = doc
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("name".into(), id.name.into());
        if id.kind.namespaced() {
            meta.insert("namespace".into(), id.namespace.into());
        }
        meta.insert("uid".into(), uid.into());
        meta.insert("resourceVersion".into(), version.to_string().into());
        meta.insert("creationTimestamp".into(), format_time(created).into());
    }
    Value::Object(doc)
}

/// `Some(namespace)` for namespaced kinds.
fn scope_of(kind: TemplateKind, namespace: &str) -> Option<String> {
    kind.namespaced().then(|| namespace.to_owned())
}

/// Reads a template row (`namespace, name, uid, created_at, resource_version, body`).
fn from_row(kind: TemplateKind, row: &Row) -> Result<StoredTemplate> {
    Ok(StoredTemplate {
        kind,
        namespace: scope_of(kind, &row.text("namespace")?),
        name: row.text("name")?,
        uid: row.text("uid")?,
        resource_version: row.int("resource_version")?.to_string(),
        created_at: parse_time(&row.text("created_at")?)?,
        body: serde_json::from_str(&row.text("body")?)?,
    })
}

/// The template of that identity.
pub(super) async fn get(store: &SqlStore, id: &TemplateId<'_>) -> Result<StoredTemplate> {
    let sql = Sql::new(
        "SELECT namespace, name, uid, created_at, resource_version, body FROM templates \
         WHERE kind = ? AND namespace = ? AND name = ?",
    )
    .arg(id.kind.as_str())
    .arg(id.namespace)
    .arg(id.name);
    let row = store.reader.row(sql).await?.ok_or_else(|| id.not_found())?;
    from_row(id.kind, &row)
}

/// Templates of a kind (in a namespace, or all) whose labels match, by namespace and name.
pub(super) async fn list(
    store: &SqlStore,
    kind: TemplateKind,
    namespace: Option<&str>,
    labels: &LabelSelector,
) -> Result<Vec<StoredTemplate>> {
    let namespace = namespace.filter(|n| !n.is_empty());
    if namespace.is_some() {
        check_scope(kind, namespace)?;
    }
    let mut sql = Sql::new(
        "SELECT namespace, name, uid, created_at, resource_version, body FROM templates \
         WHERE kind = ?",
    )
    .arg(kind.as_str());
    if let Some(ns) = namespace {
        sql.push(" AND namespace = ").push_arg(ns);
    }
    sql.push(" ORDER BY namespace, name");
    let rows = store.reader.rows(sql).await?;
    let mut out = Vec::new();
    for row in &rows {
        let template = from_row(kind, row)?;
        if labels.matches(&labels_of(&template.body)) {
            out.push(template);
        }
    }
    Ok(out)
}

/// `metadata.labels` of a document (string values only).
fn labels_of(doc: &Value) -> BTreeMap<String, String> {
    doc.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes a template.
pub(super) async fn delete(store: &SqlStore, id: &TemplateId<'_>) -> Result<()> {
    let sql = Sql::new("DELETE FROM templates WHERE kind = ? AND namespace = ? AND name = ?")
        .arg(id.kind.as_str())
        .arg(id.namespace)
        .arg(id.name);
    // Under the write lock, like every write that reads first: an update must not see the
    // template, lose it to this delete, and then write it back.
    let mut tx = store.begin_write().await?;
    let deleted = tx.run(sql).await?;
    tx.commit().await?;
    match deleted {
        0 => Err(id.not_found()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_must_agree_with_their_identity() {
        let wt = TemplateId::new(TemplateKind::WorkflowTemplate, Some("ci"), "build").unwrap();
        let cwt = TemplateId::new(TemplateKind::ClusterWorkflowTemplate, None, "lib").unwrap();
        let cases = [
            (&wt, json!({}), true),
            (
                &wt,
                json!({"kind": "WorkflowTemplate", "metadata": {"name": "build"}}),
                true,
            ),
            (
                &wt,
                json!({"metadata": {"name": "build", "namespace": "ci"}}),
                true,
            ),
            (&wt, json!({"kind": "CronWorkflow"}), false),
            (&wt, json!({"metadata": {"name": "other"}}), false),
            (&wt, json!({"metadata": {"namespace": "prod"}}), false),
            (&wt, json!({"metadata": 3}), false),
            (&wt, json!([1]), false),
            (&cwt, json!({"metadata": {"name": "lib"}}), true),
            (&cwt, json!({"metadata": {"namespace": "ci"}}), false),
        ];
        for (id, doc, ok) in cases {
            assert_eq!(check_document(id, &doc).is_ok(), ok, "{doc}");
        }
    }

    #[test]
    fn scope_is_checked() {
        let cases = [
            (TemplateKind::WorkflowTemplate, Some("ci"), "a", true),
            (TemplateKind::WorkflowTemplate, None, "a", false),
            (TemplateKind::CronWorkflow, Some(""), "a", false),
            (TemplateKind::ClusterWorkflowTemplate, None, "a", true),
            (
                TemplateKind::ClusterWorkflowTemplate,
                Some("ci"),
                "a",
                false,
            ),
            (TemplateKind::WorkflowTemplate, Some("ci"), "", false),
        ];
        for (kind, ns, name, ok) in cases {
            assert_eq!(
                TemplateId::new(kind, ns, name).is_ok(),
                ok,
                "{kind:?} {ns:?} {name:?}"
            );
        }
    }

    #[test]
    fn stamping_fills_metadata_and_labels_read_back() {
        let id = TemplateId::new(TemplateKind::CronWorkflow, Some("ci"), "nightly").unwrap();
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let doc = stamped(
            &id,
            &json!({"metadata": {"labels": {"team": "a", "n": 1}}}),
            "u1",
            t,
            7,
        );
        assert_eq!(doc["kind"], "CronWorkflow");
        assert_eq!(doc["apiVersion"], API_VERSION);
        assert_eq!(doc["metadata"]["name"], "nightly");
        assert_eq!(doc["metadata"]["namespace"], "ci");
        assert_eq!(doc["metadata"]["uid"], "u1");
        assert_eq!(doc["metadata"]["resourceVersion"], "7");
        assert_eq!(doc["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
        let labels = labels_of(&doc);
        assert_eq!(labels.len(), 1, "non-string label values are ignored");
        assert_eq!(labels.get("team").map(String::as_str), Some("a"));
    }
}
