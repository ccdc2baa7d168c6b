//! Picking a workflow up after a restart: steps that finished while Trellis was down are read
//! from their result files, steps still running are adopted, vanished ones become Error.

use std::path::Path;
use std::time::Duration;

use engine::model::{NodePhase, NodeType};

use crate::store::Store;

use super::process::{observation, read_result};
use super::{Driver, Event, error_obs};

const POLL: Duration = Duration::from_millis(200);

impl Driver {
    /// Builds the observations of the steps a previous process had started.
    pub(super) async fn recover(&mut self) {
        let claims = match self.inner.store.step_claims(&self.uid).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "reading step claims failed");
                return;
            }
        };
        let claimed: std::collections::HashSet<String> =
            claims.into_iter().map(|c| c.node_id).collect();
        let open: Vec<String> = self
            .wf
            .status
            .iter()
            .flat_map(|s| s.nodes.iter().flat_map(|n| n.values()))
            .filter(|n| {
                matches!(n.r#type, Some(NodeType::Pod | NodeType::Http))
                    && !n.phase.is_some_and(NodePhase::fulfilled)
            })
            .filter_map(|n| n.id.clone())
            .filter(|id| claimed.contains(id))
            .collect();
        for id in open {
            let dir = self.layout.step_dir(&id);
            if let Ok(r) = read_result(&dir).await {
                self.obs.steps.insert(id, observation(&r));
            } else if exec_alive(&dir) {
                self.adopt(id, dir);
            } else {
                self.obs.steps.insert(
                    id,
                    error_obs("the step's process vanished while Trellis was not running (it was not restarted, to never run a step twice)".into()),
                );
            }
        }
    }

    /// Watches a step process started by a previous Trellis until it writes its result.
    fn adopt(&mut self, id: String, dir: std::path::PathBuf) {
        self.running.insert(id.clone());
        let tx = self.tx.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(r) = read_result(&dir).await {
                    let _ = tx.send(Event::Step(id, Box::new(observation(&r))));
                    return;
                }
                if !exec_alive(&dir) {
                    tokio::time::sleep(POLL).await;
                    let o = match read_result(&dir).await {
                        Ok(r) => observation(&r),
                        Err(_) => error_obs(
                            "the step's process vanished before writing its result".into(),
                        ),
                    };
                    let _ = tx.send(Event::Step(id, Box::new(o)));
                    return;
                }
                tokio::time::sleep(POLL).await;
            }
        });
    }
}

/// Whether the `trellis exec` of a step directory is still alive.
fn exec_alive(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("exec.pid")) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return false;
    };
    pid > 1 && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}
