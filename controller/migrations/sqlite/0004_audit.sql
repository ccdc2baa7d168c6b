-- The audit trail: who did what to which workflow (submit, approve, reject, resume, suspend,
-- stop, terminate, retry, resubmit, delete, set), append-only and kept when the workflow goes.
-- `at` is RFC 3339 UTC text; `actor_groups` a JSON array of strings; `values_json` a JSON
-- object of strings (the values supplied). Entries are listed newest first by `id`.
CREATE TABLE audit (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    at                TEXT NOT NULL,
    actor             TEXT NOT NULL,
    actor_groups      TEXT NOT NULL,
    action            TEXT NOT NULL,
    namespace         TEXT NOT NULL,
    workflow_name     TEXT NOT NULL,
    workflow_uid      TEXT NOT NULL,
    template_key      TEXT,
    node_id           TEXT,
    node_display_name TEXT,
    values_json       TEXT NOT NULL,
    comment           TEXT
);
CREATE INDEX audit_workflow ON audit (workflow_uid, id);
CREATE INDEX audit_namespace ON audit (namespace, id);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;
