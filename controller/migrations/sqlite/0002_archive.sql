-- no-transaction
-- The archive: a finished workflow is marked `archived` (unless labelled
-- workflows.argoproj.io/archive-strategy=false) and stays when its live object is deleted (by a
-- user or its ttlStrategy), as `live = 0`; names are unique among live workflows only, so a
-- deleted workflow's name can be used again. `expires_at` is when the ttlStrategy deletes it.
-- SQLite cannot drop a table constraint, so the table is rebuilt (its documented procedure,
-- with foreign keys off so the labels and claims that reference it stay). Processes opening
-- the database migrate one at a time (a lock file, see `SqliteStore::open`), so the rebuild
-- never runs twice.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE workflows_new (
    uid              TEXT PRIMARY KEY,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    phase            TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    template_key     TEXT,
    run_number       INTEGER NOT NULL,
    seq              INTEGER NOT NULL UNIQUE,
    resource_version INTEGER NOT NULL,
    body             TEXT NOT NULL,
    live             INTEGER NOT NULL DEFAULT 1,
    archived         INTEGER NOT NULL DEFAULT 0,
    expires_at       TEXT
);
INSERT INTO workflows_new (uid, namespace, name, phase, created_at, started_at, finished_at,
                           template_key, run_number, seq, resource_version, body, archived)
SELECT uid, namespace, name, phase, created_at, started_at, finished_at, template_key,
       run_number, seq, resource_version, body,
       CASE WHEN phase IN ('Succeeded', 'Failed', 'Error')
                 AND coalesce(json_extract(body,
                     '$.metadata.labels."workflows.argoproj.io/archive-strategy"'), '') <> 'false'
            THEN 1 ELSE 0 END
FROM workflows;
DROP TABLE workflows;
ALTER TABLE workflows_new RENAME TO workflows;
CREATE UNIQUE INDEX workflows_live_name ON workflows (namespace, name) WHERE live = 1;
CREATE INDEX workflows_namespace_seq ON workflows (namespace, seq);
CREATE INDEX workflows_template_seq ON workflows (template_key, seq);
CREATE INDEX workflows_phase_seq ON workflows (phase, seq);
CREATE INDEX workflows_created_at ON workflows (created_at);
CREATE INDEX workflows_started_at ON workflows (started_at);
CREATE INDEX workflows_finished_at ON workflows (finished_at);
CREATE INDEX workflows_archived_seq ON workflows (archived, seq);
CREATE INDEX workflows_expiring ON workflows (expires_at) WHERE live = 1 AND expires_at IS NOT NULL;
COMMIT;
PRAGMA foreign_keys = ON;
