-- Trellis' store on PostgreSQL: the same tables, columns and indexes as on SQLite (see
-- migrations/sqlite), so both run the same queries. Timestamps are RFC 3339 UTC text
-- (`2024-01-02T03:04:05Z`), which sorts chronologically; flags are 0/1 integers. Text compares
-- and sorts by bytes (`COLLATE "C"`), as on SQLite, whatever the database's collation.

-- Global counters; `resource_version` gives every write of a workflow or template its version.
CREATE TABLE counters (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('resource_version', 0);

-- Last run number handed out per template key ('' for workflows without a template).
CREATE TABLE run_numbers (
    template_key TEXT COLLATE "C" PRIMARY KEY,
    last_number  BIGINT NOT NULL
);

-- Workflows as full Argo JSON plus the columns the UI and the API query. A finished workflow is
-- `archived` (unless labelled workflows.argoproj.io/archive-strategy=false) and stays, as
-- `live = 0`, when its live object is deleted; names are unique among live workflows only.
-- `expires_at` is when its ttlStrategy deletes it.
CREATE TABLE workflows (
    uid              TEXT COLLATE "C" PRIMARY KEY,
    namespace        TEXT COLLATE "C" NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    phase            TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at       TEXT COLLATE "C" NOT NULL,
    started_at       TEXT COLLATE "C",
    finished_at      TEXT COLLATE "C",
    template_key     TEXT COLLATE "C",
    run_number       BIGINT NOT NULL,
    -- The resource version at creation: orders listings (newest first) and continue tokens.
    seq              BIGINT NOT NULL UNIQUE,
    resource_version BIGINT NOT NULL,
    body             TEXT COLLATE "C" NOT NULL,
    live             BIGINT NOT NULL DEFAULT 1 CHECK (live IN (0, 1)),
    archived         BIGINT NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    expires_at       TEXT COLLATE "C"
);
CREATE UNIQUE INDEX workflows_live_name ON workflows (namespace, name) WHERE live = 1;
CREATE INDEX workflows_namespace_seq ON workflows (namespace, seq);
CREATE INDEX workflows_template_seq ON workflows (template_key, seq);
CREATE INDEX workflows_phase_seq ON workflows (phase, seq);
CREATE INDEX workflows_created_at ON workflows (created_at);
CREATE INDEX workflows_started_at ON workflows (started_at);
CREATE INDEX workflows_finished_at ON workflows (finished_at);
CREATE INDEX workflows_archived_seq ON workflows (archived, seq);
CREATE INDEX workflows_expiring ON workflows (expires_at) WHERE live = 1 AND expires_at IS NOT NULL;

-- Labels carry their workflow's creation order (`seq`) and template key, so a listing filtered
-- by a label walks that label's rows newest first (of one template, or of all) and stops after
-- a page, however rare the label. Both columns never change after a workflow is created.
CREATE TABLE workflow_labels (
    uid          TEXT COLLATE "C" NOT NULL REFERENCES workflows (uid) ON DELETE CASCADE,
    key          TEXT COLLATE "C" NOT NULL,
    value        TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    template_key TEXT COLLATE "C",
    PRIMARY KEY (uid, key)
);
CREATE INDEX workflow_labels_key_value_seq ON workflow_labels (key, value, seq, uid);
CREATE INDEX workflow_labels_template_seq ON workflow_labels (key, value, template_key, seq);

-- WorkflowTemplates, ClusterWorkflowTemplates (namespace '') and CronWorkflows.
CREATE TABLE templates (
    kind             TEXT COLLATE "C" NOT NULL,
    namespace        TEXT COLLATE "C" NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    uid              TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at       TEXT COLLATE "C" NOT NULL,
    resource_version BIGINT NOT NULL,
    body             TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, namespace, name)
);

-- One row per node attempt ever started: the primary key is what makes starting idempotent.
CREATE TABLE step_claims (
    id           BIGSERIAL UNIQUE,
    workflow_uid TEXT COLLATE "C" NOT NULL REFERENCES workflows (uid) ON DELETE CASCADE,
    node_id      TEXT COLLATE "C" NOT NULL,
    attempt_key  TEXT COLLATE "C" NOT NULL,
    claimed_at   TEXT COLLATE "C" NOT NULL,
    pid          BIGINT,
    PRIMARY KEY (workflow_uid, node_id, attempt_key)
);

-- Memoization cache (Argo's `memoize`), outliving the workflows that filled it.
CREATE TABLE memo_entries (
    namespace  TEXT COLLATE "C" NOT NULL,
    cache_name TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    node_id    TEXT COLLATE "C" NOT NULL,
    outputs    TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (namespace, cache_name, key)
);

-- Audit log: append-only, and kept when the workflow is deleted.
CREATE TABLE workflow_events (
    id           BIGSERIAL PRIMARY KEY,
    workflow_uid TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL,
    at           TEXT COLLATE "C" NOT NULL,
    body         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX workflow_events_uid ON workflow_events (workflow_uid, id);
CREATE FUNCTION workflow_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'workflow_events is append-only';
END
$$;
CREATE TRIGGER workflow_events_no_change BEFORE UPDATE OR DELETE ON workflow_events
    FOR EACH ROW EXECUTE FUNCTION workflow_events_append_only();
CREATE TRIGGER workflow_events_no_truncate BEFORE TRUNCATE ON workflow_events
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_events_append_only();
