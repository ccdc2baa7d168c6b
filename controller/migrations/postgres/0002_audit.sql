-- The audit trail: who did what to which workflow (submit, approve, reject, resume, suspend,
-- stop, terminate, retry, resubmit, delete, set), append-only and kept when the workflow goes.
-- The same columns as on SQLite (see migrations/sqlite/0004_audit.sql).
CREATE TABLE audit (
    id                BIGSERIAL PRIMARY KEY,
    at                TEXT COLLATE "C" NOT NULL,
    actor             TEXT COLLATE "C" NOT NULL,
    actor_groups      TEXT COLLATE "C" NOT NULL,
    action            TEXT COLLATE "C" NOT NULL,
    namespace         TEXT COLLATE "C" NOT NULL,
    workflow_name     TEXT COLLATE "C" NOT NULL,
    workflow_uid      TEXT COLLATE "C" NOT NULL,
    template_key      TEXT COLLATE "C",
    node_id           TEXT COLLATE "C",
    node_display_name TEXT COLLATE "C",
    values_json       TEXT COLLATE "C" NOT NULL,
    comment           TEXT COLLATE "C"
);
CREATE INDEX audit_workflow ON audit (workflow_uid, id);
CREATE INDEX audit_namespace ON audit (namespace, id);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit is append-only';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
