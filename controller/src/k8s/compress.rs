//! `status.compressedNodes`, as Argo writes it: the node map as JSON, gzipped, base64-encoded,
//! used instead of `status.nodes` when the workflow object would exceed the size the API server
//! accepts (1 MiB by default, Argo's `maxWorkflowSize`).

use std::io::{Read, Write};

use base64::Engine as _;
use engine::model::WorkflowStatus;

/// The largest workflow object written with plain `status.nodes` (Argo's default).
pub const MAX_WORKFLOW_SIZE: usize = 1024 * 1024;

/// Why a status cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Even compressed, the workflow is too large.
    #[error(
        "the workflow's status is too large: {size} bytes with its nodes compressed, more than the {limit} bytes allowed"
    )]
    TooLarge {
        /// The compressed object's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// Replaces `compressedNodes` by `nodes` (a status read from the API); an `Err` says what is
/// wrong with the compressed data.
pub fn decompress(status: &mut WorkflowStatus) -> Result<(), String> {
    let Some(data) = status.compressed_nodes.take() else {
        return Ok(());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("status.compressedNodes is not base64: {e}"))?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut json)
        .map_err(|e| format!("status.compressedNodes is not gzip data: {e}"))?;
    let nodes = serde_json::from_slice(&json)
        .map_err(|e| format!("status.compressedNodes does not hold nodes: {e}"))?;
    status.nodes = Some(nodes);
    Ok(())
}

/// The status to write for a workflow whose object, with `status` as it is, serializes to
/// `object_size` bytes: unchanged when that fits in `limit`, else with its nodes compressed.
pub fn fit(
    mut status: WorkflowStatus,
    object_size: usize,
    limit: usize,
) -> Result<WorkflowStatus, SizeError> {
    if object_size <= limit {
        return Ok(status);
    }
    let Some(nodes) = status.nodes.take() else {
        return Err(SizeError::TooLarge {
            size: object_size,
            limit,
        });
    };
    let json = serde_json::to_vec(&nodes).unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(&json);
    let packed = gz.finish().unwrap_or_default();
    let encoded = base64::engine::general_purpose::STANDARD.encode(packed);
    let size = object_size.saturating_sub(json.len()) + encoded.len();
    if size > limit {
        return Err(SizeError::TooLarge { size, limit });
    }
    status.compressed_nodes = Some(encoded);
    Ok(status)
}

/// A workflow's nodes kept in the database instead of its object (Argo's offloading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offloaded {
    /// The version the object's `status.offloadNodeStatusVersion` names (`fnv:HASH` of the
    /// nodes, as Argo's).
    pub version: String,
    /// The nodes, as JSON.
    pub nodes: String,
}

/// [`fit`], and when even compressed the object is too large and `offload` allows it, the
/// status without nodes, naming the version the nodes are offloaded under.
pub fn place(
    status: WorkflowStatus,
    object_size: usize,
    limit: usize,
    offload: bool,
) -> Result<(WorkflowStatus, Option<Offloaded>), SizeError> {
    let mut status = match fit(status.clone(), object_size, limit) {
        Ok(s) => {
            return Ok((
                WorkflowStatus {
                    offload_node_status_version: None,
                    ..s
                },
                None,
            ));
        }
        Err(e) if !offload => return Err(e),
        Err(_) => status,
    };
    let nodes = serde_json::to_string(&status.nodes.take().unwrap_or_default())
        .unwrap_or_else(|_| "{}".into());
    let version = format!("fnv:{}", fnv1a(nodes.as_bytes()));
    status.compressed_nodes = None;
    status.offload_node_status_version = Some(version.clone());
    Ok((status, Some(Offloaded { version, nodes })))
}

/// Puts offloaded nodes (JSON) back into a status read from the API.
pub fn inline(status: &mut WorkflowStatus, nodes: &str) -> Result<(), String> {
    let nodes = serde_json::from_str(nodes)
        .map_err(|e| format!("the offloaded node status is not a node map: {e}"))?;
    status.nodes = Some(nodes);
    status.offload_node_status_version = None;
    Ok(())
}

/// The 64-bit FNV-1a hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::model::NodeStatus;

    fn status_with(n: usize) -> WorkflowStatus {
        let nodes = (0..n)
            .map(|i| {
                let id = format!("wf-{i}");
                let node = NodeStatus {
                    id: Some(id.clone()),
                    name: Some(format!("wf[{i}].step-with-a-long-name")),
                    ..NodeStatus::default()
                };
                (id, node)
            })
            .collect();
        WorkflowStatus {
            nodes: Some(nodes),
            ..WorkflowStatus::default()
        }
    }

    #[test]
    fn a_small_status_is_written_as_it_is() {
        let s = status_with(3);
        assert_eq!(fit(s.clone(), 10_000, MAX_WORKFLOW_SIZE), Ok(s));
    }

    #[test]
    fn a_large_status_is_compressed_and_reads_back_the_same() {
        let s = status_with(20_000);
        let size = serde_json::to_vec(&s).unwrap().len();
        assert!(size > MAX_WORKFLOW_SIZE, "{size}");
        let mut written = fit(s.clone(), size, MAX_WORKFLOW_SIZE).unwrap();
        assert!(written.nodes.is_none());
        let packed = written.compressed_nodes.clone().unwrap();
        assert!(packed.len() < MAX_WORKFLOW_SIZE, "{}", packed.len());
        decompress(&mut written).unwrap();
        assert_eq!(written, s);
    }

    #[test]
    fn too_large_even_compressed_is_offloaded_when_allowed() {
        let s = status_with(2_000);
        let size = serde_json::to_vec(&s).unwrap().len();
        assert!(place(s.clone(), size, 1_000, false).is_err());
        let (written, offloaded) = place(s.clone(), size, 1_000, true).unwrap();
        let offloaded = offloaded.unwrap();
        assert!(written.nodes.is_none() && written.compressed_nodes.is_none());
        assert_eq!(
            written.offload_node_status_version.as_ref(),
            Some(&offloaded.version)
        );
        assert!(
            offloaded.version.starts_with("fnv:"),
            "{}",
            offloaded.version
        );
        let mut back = written;
        inline(&mut back, &offloaded.nodes).unwrap();
        assert_eq!(back, s);
        // Other nodes, another version; the same nodes, the same one.
        let (_, other) = place(status_with(2_001), size, 1_000, true).unwrap();
        assert_ne!(other.unwrap().version, offloaded.version);
        let (_, same) = place(s.clone(), size, 1_000, true).unwrap();
        assert_eq!(same.unwrap().version, offloaded.version);
        // Small again: inline, and no version named.
        let mut small = status_with(2);
        small.offload_node_status_version = Some("fnv:1".into());
        let (written, none) = place(small, 100, 1_000, true).unwrap();
        assert_eq!((written.offload_node_status_version, none), (None, None));
    }

    #[test]
    fn too_large_even_compressed_is_an_error_and_bad_data_is_named() {
        let s = status_with(2_000);
        let size = serde_json::to_vec(&s).unwrap().len();
        assert!(matches!(
            fit(s, size, 1_000),
            Err(SizeError::TooLarge { limit: 1_000, .. })
        ));
        let mut bad = WorkflowStatus {
            compressed_nodes: Some("not base64!".into()),
            ..WorkflowStatus::default()
        };
        assert!(decompress(&mut bad).unwrap_err().contains("not base64"));
    }
}
