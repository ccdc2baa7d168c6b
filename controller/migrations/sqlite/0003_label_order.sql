-- Labels carry their workflow's creation order (`seq`) and template key, so a listing filtered
-- by a label walks that label's rows newest first (of one template, or of all) and stops after
-- a page, however rare the label: the table is the label index of the workflows. Both columns
-- never change after a workflow is created.
ALTER TABLE workflow_labels ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workflow_labels ADD COLUMN template_key TEXT;
UPDATE workflow_labels
SET seq = (SELECT w.seq FROM workflows w WHERE w.uid = workflow_labels.uid),
    template_key = (SELECT w.template_key FROM workflows w WHERE w.uid = workflow_labels.uid);
DROP INDEX workflow_labels_key_value;
CREATE INDEX workflow_labels_key_value_seq ON workflow_labels (key, value, seq, uid);
CREATE INDEX workflow_labels_template_seq ON workflow_labels (key, value, template_key, seq);
