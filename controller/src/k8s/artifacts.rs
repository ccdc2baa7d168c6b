//! Artifacts of step Pods: outputs stored in, inputs read from, an S3-compatible bucket — the
//! artifact's own `s3` location, filled in from the workflow's artifact repository (Argo's: the
//! `artifact-repositories` ConfigMap of its namespace, the entry `spec.artifactRepositoryRef`
//! names, else the one its `workflows.argoproj.io/default-artifact-repository` annotation
//! names). Credentials never pass through the controller: the Pod's environment takes them
//! from the Secrets the repository names, and `trellis exec` reads them there.

use std::collections::BTreeMap;

use engine::model::{
    Artifact, ArtifactRepository, ArtifactRepositoryRef, S3ArtifactRepository, Template,
};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, SecretKeySelector};
use serde_json::Value;

use crate::artifacts::{ArtifactDestination, ArtifactSource, S3Location};
use crate::exec::{InputArtifact, OutputArtifact};
use crate::local::launch::{archive_mode, input_artifacts, key_suffix, source_of};

/// The ConfigMap of artifact repositories a workflow uses unless it names another.
pub const REPOSITORIES: &str = "artifact-repositories";
/// The annotation of that ConfigMap naming its default entry.
pub const DEFAULT_ANNOTATION: &str = "workflows.argoproj.io/default-artifact-repository";

/// The ConfigMap a workflow's repository is read from.
pub fn config_map_name(reference: Option<&ArtifactRepositoryRef>) -> String {
    reference
        .and_then(|r| r.config_map.clone())
        .unwrap_or_else(|| REPOSITORIES.into())
}

/// The S3 repository of a workflow, from its ConfigMap (`None`: there is none) as the API
/// returns it: the entry the reference names, else the default one (the annotation's, or the
/// only entry). A repository of another kind than S3 is an error, as is a named entry missing.
pub fn repository(
    config_map: Option<&Value>,
    reference: Option<&ArtifactRepositoryRef>,
) -> Result<Option<S3ArtifactRepository>, String> {
    let name = config_map_name(reference);
    let named = reference.is_some_and(|r| r.config_map.is_some() || r.key.is_some());
    let Some(cm) = config_map else {
        return match named {
            true => Err(format!(
                "the artifact repository ConfigMap {name:?} does not exist"
            )),
            false => Ok(None),
        };
    };
    let data: BTreeMap<String, String> =
        serde_json::from_value(cm["data"].clone()).unwrap_or_default();
    let key = match reference.and_then(|r| r.key.clone()) {
        Some(k) => k,
        None => match cm["metadata"]["annotations"][DEFAULT_ANNOTATION].as_str() {
            Some(k) => k.to_owned(),
            None if data.len() == 1 => data.keys().next().cloned().unwrap_or_default(),
            None => {
                return Err(format!(
                    "ConfigMap {name:?} holds {} artifact repositories and its annotation \
                     {DEFAULT_ANNOTATION} names none: name one (spec.artifactRepositoryRef.key)",
                    data.len()
                ));
            }
        },
    };
    let text = data
        .get(&key)
        .ok_or_else(|| format!("ConfigMap {name:?} has no artifact repository {key:?}"))?;
    let repo: ArtifactRepository = engine::yaml::parse_stream(text)
        .ok()
        .and_then(|docs| docs.first().map(engine::yaml::to_json))
        .and_then(|json| serde_json::from_value(json).ok())
        .ok_or_else(|| format!("ConfigMap {name:?}, key {key:?}: not an artifact repository"))?;
    repo.s3.map(Some).ok_or_else(|| {
        format!(
            "ConfigMap {name:?}, key {key:?}: only S3 (or S3-compatible) artifact repositories \
             are supported on the Kubernetes backend"
        )
    })
}

/// The environment variables that carry a Pod's S3 credentials from their Secrets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credentials {
    vars: Vec<(SecretKeySelector, String)>,
}

impl Credentials {
    /// The variable that holds this Secret key (one per distinct key).
    fn var(&mut self, s: &SecretKeySelector) -> String {
        if let Some((_, v)) = self.vars.iter().find(|(k, _)| k == s) {
            return v.clone();
        }
        let v = format!("TRELLIS_S3_CREDENTIAL_{}", self.vars.len());
        self.vars.push((s.clone(), v.clone()));
        v
    }

    /// The variables, for the container that runs `trellis exec`.
    pub fn env(&self) -> Vec<EnvVar> {
        self.vars
            .iter()
            .map(|(s, name)| EnvVar {
                name: name.clone(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(s.clone()),
                    ..EnvVarSource::default()
                }),
            })
            .collect()
    }
}

/// A bucket's settings: the artifact's own, else the repository's.
struct Bucket {
    endpoint: Option<String>,
    bucket: Option<String>,
    region: Option<String>,
    insecure: Option<bool>,
    access: Option<SecretKeySelector>,
    secret: Option<SecretKeySelector>,
    addressing: Option<String>,
}

/// The repository as the pod builder has it: `Err` says why the workflow's cannot be used.
pub type Repo<'a> = Result<Option<&'a S3ArtifactRepository>, &'a str>;

fn bucket(a: Option<&Artifact>, repo: Option<&S3ArtifactRepository>) -> Bucket {
    let own = a.and_then(|a| a.s3.as_ref());
    macro_rules! pick {
        ($f:ident) => {
            own.and_then(|s| s.$f.clone())
                .or_else(|| repo.and_then(|r| r.$f.clone()))
        };
    }
    Bucket {
        endpoint: pick!(endpoint),
        bucket: pick!(bucket),
        region: pick!(region),
        insecure: pick!(insecure),
        access: pick!(access_key_secret),
        secret: pick!(secret_key_secret),
        addressing: pick!(addressing_style),
    }
}

/// The S3 location of `key` in the artifact's bucket or the repository's, its credentials
/// named by variable.
fn location(
    a: &Artifact,
    repo: Repo<'_>,
    key: String,
    creds: &mut Credentials,
) -> Result<S3Location, String> {
    let own_bucket = a.s3.as_ref().and_then(|s| s.bucket.clone()).is_some();
    let b = match repo {
        Ok(r) => bucket(Some(a), r),
        Err(why) if !own_bucket => return Err(why.to_owned()),
        Err(_) => bucket(Some(a), None),
    };
    let bucket = b.bucket.filter(|x| !x.is_empty()).ok_or_else(|| {
        "no bucket: configure an artifact repository (ConfigMap artifact-repositories in the \
         workflow's namespace, see the README) or give the artifact's s3.bucket"
            .to_string()
    })?;
    let endpoint = b.endpoint.unwrap_or_default();
    let aws = endpoint.is_empty() || endpoint.contains("amazonaws.com");
    Ok(S3Location {
        path_style: b
            .addressing
            .map_or(!aws, |s| !s.eq_ignore_ascii_case("virtual")),
        endpoint,
        bucket,
        key,
        region: b.region.unwrap_or_default(),
        insecure: b.insecure.unwrap_or(false),
        access_key_env: b.access.as_ref().map(|s| creds.var(s)),
        secret_key_env: b.secret.as_ref().map(|s| creds.var(s)),
        ..S3Location::default()
    })
}

/// Where a template's output artifacts go: their own key, else the repository's `keyFormat`
/// (its `{{workflow.name}}`, `{{workflow.namespace}}` and `{{pod.name}}` filled in), else
/// Argo's default `WORKFLOW/POD`, then `/NAME.tgz` (no `.tgz` unarchived).
pub fn outputs(
    t: &Template,
    repo: Repo<'_>,
    (workflow, namespace, pod): (&str, &str, &str),
    creds: &mut Credentials,
) -> Result<Vec<OutputArtifact>, String> {
    let mut out = Vec::new();
    for a in t.outputs.iter().flat_map(|o| o.artifacts.iter().flatten()) {
        let name = a.name.clone().unwrap_or_default();
        let Some(path) = a.path.clone() else { continue };
        let archive = archive_mode(a);
        let key = match a.s3.as_ref().and_then(|s| s.key.clone()) {
            Some(k) => k,
            None => {
                let prefix = repo
                    .ok()
                    .flatten()
                    .and_then(|r| r.key_format.clone().or_else(|| r.key_prefix.clone()))
                    .map(|f| {
                        f.replace("{{workflow.name}}", workflow)
                            .replace("{{workflow.namespace}}", namespace)
                            .replace("{{pod.name}}", pod)
                    })
                    .unwrap_or_else(|| format!("{workflow}/{pod}"));
                format!(
                    "{}/{name}{}",
                    prefix.trim_end_matches('/'),
                    key_suffix(&archive)
                )
            }
        };
        let s3 =
            location(a, repo, key, creds).map_err(|e| format!("outputs.artifacts.{name}: {e}"))?;
        out.push(OutputArtifact {
            name,
            path,
            destination: ArtifactDestination::S3(s3),
            archive,
            optional: a.optional == Some(true),
        });
    }
    Ok(out)
}

/// Where a template's input artifacts are read from: an `s3` one (its key from the step that
/// made it, or given) in its bucket or the repository's; raw, HTTP and Git ones as they say.
pub fn inputs(
    t: &Template,
    repo: Repo<'_>,
    creds: &mut Credentials,
) -> Result<Vec<InputArtifact>, String> {
    input_artifacts(t, |a| match &a.s3 {
        Some(s3) => match s3.key.clone() {
            Some(key) => Ok(Some(ArtifactSource::S3(location(a, repo, key, creds)?))),
            None if a.optional == Some(true) => Ok(None),
            None => Err("s3 has no key".into()),
        },
        None => Ok(source_of(a, std::path::Path::new("/"))),
    })
}

/// Whether a workflow object uses artifacts at all (then its repository is read).
pub fn uses_artifacts(object: &Value) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| k == "artifacts" || walk(v)),
            Value::Array(a) => a.iter().any(walk),
            _ => false,
        }
    }
    walk(&object["spec"])
        || object["status"]["storedWorkflowTemplateSpec"].is_object()
        || object["spec"]["workflowTemplateRef"].is_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config_map(annotation: Option<&str>, data: Value) -> Value {
        let mut cm = json!({"metadata": {"name": REPOSITORIES}, "data": data});
        if let Some(a) = annotation {
            cm["metadata"]["annotations"] = json!({DEFAULT_ANNOTATION: a});
        }
        cm
    }

    #[test]
    fn the_repository_is_the_named_entry_else_the_default_one() {
        let data = json!({
            "a": "s3:\n  bucket: one\n  endpoint: minio:9000\n",
            "b": "s3:\n  bucket: two\n",
            "g": "gcs:\n  bucket: three\n"
        });
        let cm = config_map(Some("b"), data.clone());
        let default = repository(Some(&cm), None).unwrap().unwrap();
        assert_eq!(default.bucket.as_deref(), Some("two"));
        let named = ArtifactRepositoryRef {
            config_map: None,
            key: Some("a".into()),
        };
        let a = repository(Some(&cm), Some(&named)).unwrap().unwrap();
        assert_eq!(
            (a.bucket.as_deref(), a.endpoint.as_deref()),
            (Some("one"), Some("minio:9000"))
        );
        let gcs = ArtifactRepositoryRef {
            config_map: None,
            key: Some("g".into()),
        };
        let err = repository(Some(&cm), Some(&gcs)).unwrap_err();
        assert!(err.contains("only S3"), "{err}");
        let missing = ArtifactRepositoryRef {
            config_map: None,
            key: Some("zz".into()),
        };
        assert!(
            repository(Some(&cm), Some(&missing))
                .unwrap_err()
                .contains("\"zz\"")
        );
        // No annotation: the only entry, or an error naming what to do.
        let only = config_map(None, json!({"a": "s3:\n  bucket: one\n"}));
        assert!(repository(Some(&only), None).unwrap().is_some());
        let err = repository(Some(&config_map(None, data)), None).unwrap_err();
        assert!(err.contains("artifactRepositoryRef.key"), "{err}");
    }

    #[test]
    fn a_missing_config_map_is_no_repository_unless_one_is_named() {
        assert_eq!(repository(None, None), Ok(None));
        let named = ArtifactRepositoryRef {
            config_map: Some("mine".into()),
            key: None,
        };
        assert!(
            repository(None, Some(&named))
                .unwrap_err()
                .contains("\"mine\"")
        );
        assert_eq!(config_map_name(Some(&named)), "mine");
    }

    #[test]
    fn only_workflows_with_artifacts_or_templates_need_the_repository() {
        assert!(!uses_artifacts(
            &json!({"spec": {"templates": [{"name": "a"}]}})
        ));
        assert!(uses_artifacts(
            &json!({"spec": {"templates": [{"outputs": {"artifacts": []}}]}})
        ));
        assert!(uses_artifacts(
            &json!({"spec": {"workflowTemplateRef": {"name": "t"}}})
        ));
    }
}
