-- The all-runs page sorts on the server: by name, and longest first. `duration_ms` is
-- finishedAt - startedAt of a finished workflow (NULL until it has both), kept with the row so
-- a sorted page is read through an index like the newest-first one.
ALTER TABLE workflows ADD COLUMN duration_ms INTEGER;
UPDATE workflows
   SET duration_ms = CAST(ROUND((julianday(finished_at) - julianday(started_at)) * 86400000) AS INTEGER)
 WHERE started_at IS NOT NULL AND finished_at IS NOT NULL;
CREATE INDEX workflows_duration_seq ON workflows (duration_ms, seq);
CREATE INDEX workflows_name_seq ON workflows (name, seq);
