-- Trellis' store on SQLite: workflows as full Argo JSON plus the columns the UI and the API
-- query, templates, step claims, the memoization cache and the append-only event log.
-- Timestamps are RFC 3339 UTC text (`2024-01-02T03:04:05Z`), which sorts chronologically.

-- Global counters; `resource_version` gives every write of a workflow or template its version.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('resource_version', 0);

-- Last run number handed out per template key ('' for workflows without a template).
CREATE TABLE run_numbers (
    template_key TEXT PRIMARY KEY,
    last_number  INTEGER NOT NULL
);

CREATE TABLE workflows (
    uid              TEXT PRIMARY KEY,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    phase            TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    template_key     TEXT,
    run_number       INTEGER NOT NULL,
    -- The resource version at creation: orders listings (newest first) and continue tokens.
    seq              INTEGER NOT NULL UNIQUE,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    UNIQUE (namespace, name)
);
CREATE INDEX workflows_namespace_seq ON workflows (namespace, seq);
CREATE INDEX workflows_template_seq ON workflows (template_key, seq);
CREATE INDEX workflows_phase_seq ON workflows (phase, seq);
CREATE INDEX workflows_created_at ON workflows (created_at);
CREATE INDEX workflows_started_at ON workflows (started_at);
CREATE INDEX workflows_finished_at ON workflows (finished_at);

CREATE TABLE workflow_labels (
    uid   TEXT NOT NULL REFERENCES workflows (uid) ON DELETE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (uid, key)
);
CREATE INDEX workflow_labels_key_value ON workflow_labels (key, value, uid);

-- WorkflowTemplates, ClusterWorkflowTemplates (namespace '') and CronWorkflows.
CREATE TABLE templates (
    kind             TEXT NOT NULL,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    uid              TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    PRIMARY KEY (kind, namespace, name)
);

-- One row per node attempt ever started: the primary key is what makes starting idempotent.
CREATE TABLE step_claims (
    workflow_uid TEXT NOT NULL REFERENCES workflows (uid) ON DELETE CASCADE,
    node_id      TEXT NOT NULL,
    attempt_key  TEXT NOT NULL,
    claimed_at   TEXT NOT NULL,
    pid          INTEGER,
    PRIMARY KEY (workflow_uid, node_id, attempt_key)
);

-- Memoization cache (Argo's `memoize`), outliving the workflows that filled it.
CREATE TABLE memo_entries (
    namespace  TEXT NOT NULL,
    cache_name TEXT NOT NULL,
    key        TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    outputs    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (namespace, cache_name, key)
);

-- Audit log: append-only, and kept when the workflow is deleted.
CREATE TABLE workflow_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_uid TEXT NOT NULL,
    kind         TEXT NOT NULL,
    at           TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX workflow_events_uid ON workflow_events (workflow_uid, id);
CREATE TRIGGER workflow_events_no_update BEFORE UPDATE ON workflow_events
BEGIN
    SELECT RAISE(ABORT, 'workflow_events is append-only');
END;
CREATE TRIGGER workflow_events_no_delete BEFORE DELETE ON workflow_events
BEGIN
    SELECT RAISE(ABORT, 'workflow_events is append-only');
END;
