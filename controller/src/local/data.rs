//! Data templates (`data:`) on the local backend, run by Trellis itself like HTTP templates: the
//! keys below `source.artifactPaths` are listed (in the default repository or S3) and passed
//! through the template's `transformation` expressions; the result is `outputs.result`.

use std::path::Path;

use engine::model::{NodePhase, Outputs, Template};
use engine::plan::StepObservation;

/// Runs a data template; the observation is Succeeded with the result, or Error with why not.
pub async fn run(t: &Template, artifact_root: &Path) -> StepObservation {
    let started = engine::plan::format_time(chrono::Utc::now());
    let outcome = result(t, artifact_root).await;
    let finished = engine::plan::format_time(chrono::Utc::now());
    let (phase, message, outputs) = match outcome {
        Ok(text) => (
            NodePhase::Succeeded,
            None,
            Some(Outputs {
                result: Some(text),
                ..Default::default()
            }),
        ),
        Err(e) => (NodePhase::Error, Some(e), None),
    };
    StepObservation {
        phase,
        message,
        started_at: Some(started),
        finished_at: Some(finished),
        outputs,
        ..Default::default()
    }
}

async fn result(t: &Template, artifact_root: &Path) -> Result<String, String> {
    let data = t.data.as_ref().ok_or("the template has no `data`")?;
    let artifact = data
        .source
        .as_ref()
        .and_then(|s| s.artifact_paths.as_ref())
        .ok_or("data.source needs `artifactPaths`: the artifact whose keys are listed")?;
    let source = match super::launch::source_of(artifact, artifact_root) {
        Some(s) => s,
        // `s3:` without a key: the whole repository.
        None if artifact.s3.is_some() => crate::artifacts::ArtifactSource::Local {
            root: artifact_root.to_path_buf(),
            key: String::new(),
        },
        None => {
            return Err(
                "data.source.artifactPaths: give a repository location (`s3:`) to list".into(),
            );
        }
    };
    let keys = crate::artifacts::list_artifact_keys(&source)
        .await
        .map_err(|e| format!("listing data.source.artifactPaths: {e}"))?;
    let steps = data.transformation.as_deref().unwrap_or_default();
    let value = engine::data::transform(serde_json::json!(keys), steps)?;
    Ok(engine::data::result_text(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(yaml: serde_json::Value) -> Template {
        serde_json::from_value(yaml).expect("a template")
    }

    #[tokio::test]
    async fn lists_the_repository_and_transforms_the_keys() {
        let root = tempfile::tempdir().unwrap();
        for key in [
            "logs/a/main.log",
            "logs/a/init.log",
            "logs/b/main.log",
            "other/main.log",
        ] {
            let file = root.path().join(key);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, "x").unwrap();
        }
        let t = template(serde_json::json!({
            "name": "list",
            "data": {
                "source": {"artifactPaths": {"name": "logs", "s3": {"key": "logs"}}},
                "transformation": [{"expression": "filter(data, {# endsWith \"main.log\"})"}]
            }
        }));
        let o = run(&t, root.path()).await;
        assert_eq!(o.phase, NodePhase::Succeeded, "{:?}", o.message);
        assert_eq!(
            o.outputs.unwrap().result.as_deref(),
            Some(r#"["logs/a/main.log","logs/b/main.log"]"#)
        );
    }

    #[tokio::test]
    async fn a_bad_expression_errors_the_step_with_its_message() {
        let root = tempfile::tempdir().unwrap();
        let t = template(serde_json::json!({
            "name": "list",
            "data": {
                "source": {"artifactPaths": {"name": "all", "s3": {"bucket": "my-bucket"}}},
                "transformation": [{"expression": "filter(data"}]
            }
        }));
        let o = run(&t, root.path()).await;
        assert_eq!(o.phase, NodePhase::Error);
        let m = o.message.unwrap();
        assert!(m.starts_with("data transformation 0"), "{m}");
    }
}
