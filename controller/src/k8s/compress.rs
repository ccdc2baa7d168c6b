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
    let size = object_size - json.len() + encoded.len();
    if size > limit {
        return Err(SizeError::TooLarge { size, limit });
    }
    status.compressed_nodes = Some(encoded);
    Ok(status)
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
