-- Node status of workflows too large for the Kubernetes API even compressed (Argo's node status
-- offloading): the controller writes each version of a workflow's nodes here and the workflow's
-- `status.offloadNodeStatusVersion` names the one it holds; readers (the controller, the server)
-- load it from here.
CREATE TABLE offloaded_nodes (
    uid TEXT NOT NULL,
    version TEXT NOT NULL,
    nodes TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (uid, version)
);
