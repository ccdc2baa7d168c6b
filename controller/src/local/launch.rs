//! Turning the engine's `StepLaunch` into what `trellis exec` runs on this machine: the main
//! container (or each container of a `containerSet`, in order), init containers, sidecars, their
//! volumes and artifacts.

use std::path::{Path, PathBuf};

use engine::model::{Artifact, Template, TemplateType};
use engine::plan::StepLaunch;
use k8s_openapi::api::core::v1::Volume;
use k8s_openapi::api::core::v1::VolumeMount;

use crate::artifacts::{ArchiveMode, ArtifactDestination, ArtifactSource, HttpHeader};
use crate::exec::spec::{
    EnvVar, ExecSpec, InputArtifact, Mount, OutputArtifact, OutputParameter, Sandbox,
};

/// Where things live for one workflow's steps.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The data directory (`--data-dir`).
    pub data_dir: PathBuf,
    /// The workflow's namespace.
    pub namespace: String,
    /// The workflow's name.
    pub workflow: String,
    /// The workflow's uid.
    pub uid: String,
    /// Whether steps run in a bubblewrap sandbox (volumes and a private `/tmp`).
    pub sandboxed: bool,
}

impl Layout {
    /// The directory of one step (node).
    pub fn step_dir(&self, node_id: &str) -> PathBuf {
        step_dir(&self.data_dir, &self.uid, node_id)
    }

    /// The default artifact repository's root.
    pub fn artifact_root(&self) -> PathBuf {
        self.data_dir.join("artifacts")
    }
}

/// The directory of one step of a workflow (by uid) under a data directory.
pub fn step_dir(data_dir: &Path, uid: &str, node_id: &str) -> PathBuf {
    data_dir.join("work").join(uid).join(node_id)
}

/// What to run for one step.
#[derive(Debug, Clone)]
pub struct StepRun {
    /// Init containers, run one after the other before the main ones.
    pub init: Vec<ExecSpec>,
    /// The main container, or the containers of a `containerSet` in dependency order.
    pub main: Vec<ExecSpec>,
    /// Sidecars: started first, stopped when the main containers end.
    pub sidecars: Vec<ExecSpec>,
    /// For a daemon step (`daemon: true`): how to tell it is ready.
    pub daemon: Option<super::probe::Readiness>,
}

/// Why a step cannot run on this machine; becomes the node's Error message.
pub type LaunchError = String;

/// Builds the run of a step.
pub fn plan_run(
    l: &StepLaunch,
    layout: &Layout,
    wf_volumes: &[Volume],
    claim_templates: &[String],
) -> Result<StepRun, LaunchError> {
    let t = &l.template;
    match t.template_type() {
        Some(TemplateType::Resource) => {
            return Err(format!(
                "template \"{}\" is a resource template: it needs the Kubernetes backend \
                 (`trellis serve --backend kubernetes`)",
                t.name()
            ));
        }
        Some(TemplateType::Plugin) => {
            return Err(format!(
                "template \"{}\" uses an executor plugin: plugins need the Kubernetes backend",
                t.name()
            ));
        }
        _ => {}
    }
    let dir = layout.step_dir(&l.node_id);
    let volumes = Volumes::new(
        layout,
        &dir,
        wf_volumes,
        t.volumes.as_deref().unwrap_or_default(),
        claim_templates,
    );
    let ctx = Ctx {
        l,
        layout,
        dir: &dir,
        volumes: &volumes,
    };
    let mut main = Vec::new();
    if let Some(c) = &t.container {
        main.push(ctx.spec(
            "main",
            c.image.as_deref(),
            argv_for(&c.command, &c.args, c.image.as_deref()),
            None,
            &c.env,
            c.working_dir.as_deref(),
            c.volume_mounts.as_deref(),
            true,
        )?);
    } else if let Some(s) = &t.script {
        let cmd = s
            .command
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| vec!["sh".into()]);
        main.push(ctx.spec(
            "main",
            s.image.as_deref(),
            argv_for(&Some(cmd), &s.args, None),
            s.source.clone(),
            &s.env,
            s.working_dir.as_deref(),
            s.volume_mounts.as_deref(),
            true,
        )?);
    } else if let Some(set) = &t.container_set {
        let shared = set.volume_mounts.clone().unwrap_or_default();
        for c in container_set_order(set.containers.as_deref().unwrap_or_default())? {
            let mut mounts = shared.clone();
            mounts.extend(c.volume_mounts.clone().unwrap_or_default());
            let is_main = c.name.as_deref() == Some("main");
            main.push(ctx.spec(
                c.name.as_deref().unwrap_or("main"),
                c.image.as_deref(),
                argv_for(&c.command, &c.args, c.image.as_deref()),
                None,
                &c.env,
                c.working_dir.as_deref(),
                Some(&mounts),
                is_main,
            )?);
        }
        if let Some(last) = main.last_mut()
            && !main_named(set)
        {
            last.capture_result = true;
        }
    } else {
        return Err(format!("template \"{}\" has nothing to run", t.name()));
    }
    let init = ctx.helpers(t.init_containers.as_deref(), "init")?;
    let sidecars = ctx.helpers(t.sidecars.as_deref(), "sidecar")?;
    Ok(StepRun {
        init,
        main,
        sidecars,
        daemon: daemon_readiness(t)?,
    })
}

/// How a daemon template's readiness is checked (`None` when the template is no daemon).
fn daemon_readiness(t: &Template) -> Result<Option<super::probe::Readiness>, LaunchError> {
    if t.daemon != Some(true) {
        return Ok(None);
    }
    let (probe, ports) = match (&t.container, &t.script) {
        (Some(c), _) => (c.readiness_probe.as_ref(), c.ports.as_deref()),
        (None, Some(s)) => (s.readiness_probe.as_ref(), s.ports.as_deref()),
        _ => (None, None),
    };
    super::probe::readiness_of(probe, ports.unwrap_or_default())
        .map(Some)
        .map_err(|e| format!("template \"{}\": {e}", t.name()))
}

fn main_named(set: &engine::model::ContainerSetTemplate) -> bool {
    set.containers
        .iter()
        .flatten()
        .any(|c| c.name.as_deref() == Some("main"))
}

/// The containers of a set, each after the ones it depends on.
pub(crate) fn container_set_order(
    cs: &[engine::model::ContainerNode],
) -> Result<Vec<&engine::model::ContainerNode>, LaunchError> {
    let mut done: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    while out.len() < cs.len() {
        let before = out.len();
        for c in cs {
            let name = c.name.as_deref().unwrap_or_default();
            if done.contains(&name) {
                continue;
            }
            if c.dependencies
                .iter()
                .flatten()
                .all(|d| done.contains(&d.as_str()))
            {
                done.push(name);
                out.push(c);
            }
        }
        if out.len() == before {
            return Err("containerSet: the containers' dependencies form a cycle or name unknown containers".into());
        }
    }
    Ok(out)
}

/// Host directories for the volumes a step can mount.
struct Volumes {
    entries: Vec<(String, Result<PathBuf, LaunchError>)>,
}

impl Volumes {
    fn new(layout: &Layout, dir: &Path, wf: &[Volume], own: &[Volume], claims: &[String]) -> Self {
        let mut entries = Vec::new();
        for v in wf.iter().chain(own) {
            entries.push((v.name.clone(), host_dir(layout, dir, v)));
        }
        for c in claims {
            let p = layout
                .data_dir
                .join("volumes")
                .join(&layout.namespace)
                .join(&layout.uid)
                .join(c);
            entries.push((c.clone(), Ok(p)));
        }
        Self { entries }
    }

    fn mount(&self, m: &VolumeMount) -> Result<Mount, LaunchError> {
        let (_, host) = self
            .entries
            .iter()
            .rev()
            .find(|(n, _)| *n == m.name)
            .ok_or_else(|| format!("volumeMount \"{}\": no volume of that name (declare it under spec.volumes, the template's volumes or spec.volumeClaimTemplates)", m.name))?;
        let mut host = host.clone()?;
        if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            host = host.join(sub);
        }
        Ok(Mount {
            host,
            path: m.mount_path.clone(),
            read_only: m.read_only == Some(true),
        })
    }
}

fn host_dir(layout: &Layout, dir: &Path, v: &Volume) -> Result<PathBuf, LaunchError> {
    if v.empty_dir.is_some() {
        return Ok(dir.join("volumes").join(&v.name));
    }
    if let Some(pvc) = &v.persistent_volume_claim {
        return Ok(layout
            .data_dir
            .join("volumes")
            .join(&layout.namespace)
            .join("pvc")
            .join(&pvc.claim_name));
    }
    if let Some(h) = &v.host_path {
        return Ok(PathBuf::from(&h.path));
    }
    Err(format!(
        "volume \"{}\": only emptyDir, persistentVolumeClaim, hostPath and volumeClaimTemplates volumes exist on the local backend; others need the Kubernetes backend",
        v.name
    ))
}

struct Ctx<'a> {
    l: &'a StepLaunch,
    layout: &'a Layout,
    dir: &'a Path,
    volumes: &'a Volumes,
}

impl Ctx<'_> {
    /// The specs of init containers or sidecars (no inputs, outputs or result).
    fn helpers(
        &self,
        containers: Option<&[engine::model::UserContainer]>,
        default_name: &str,
    ) -> Result<Vec<ExecSpec>, LaunchError> {
        containers
            .unwrap_or_default()
            .iter()
            .map(|c| {
                self.spec(
                    c.name.as_deref().unwrap_or(default_name),
                    c.image.as_deref(),
                    argv_for(&c.command, &c.args, c.image.as_deref()),
                    None,
                    &c.env,
                    c.working_dir.as_deref(),
                    c.volume_mounts.as_deref(),
                    false,
                )
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn spec(
        &self,
        container: &str,
        image: Option<&str>,
        argv: Vec<String>,
        script: Option<String>,
        env: &Option<Vec<k8s_openapi::api::core::v1::EnvVar>>,
        working_dir: Option<&str>,
        mounts: Option<&[VolumeMount]>,
        main: bool,
    ) -> Result<ExecSpec, LaunchError> {
        let work_dir = if main && container == "main" {
            self.dir.to_path_buf()
        } else {
            self.dir.join(container)
        };
        let root = self.layout.artifact_root();
        let mut mounts_out = vec![Mount {
            path: root.display().to_string(),
            host: root,
            read_only: false,
        }];
        for m in mounts.unwrap_or_default() {
            mounts_out.push(self.volumes.mount(m)?);
        }
        if let Some(busybox) = image.filter(|i| busybox_based(i)).and_then(|_| busybox()) {
            // The image's `sh` is busybox's ash (it reads `>& file`, which Debian's dash does
            // not): give the step the same shell.
            mounts_out.push(Mount {
                host: busybox,
                path: "/usr/bin/sh".into(),
                read_only: true,
            });
        }
        let t = &self.l.template;
        Ok(ExecSpec {
            node_id: self.l.node_id.clone(),
            pod_name: self.l.pod_name.clone(),
            image: image.map(str::to_string),
            argv,
            script,
            env: env_of(env, &self.l.pod_name, container)?,
            // A container starts in `/` unless it says otherwise; without a sandbox, in its own
            // directory.
            working_dir: working_dir
                .map(str::to_string)
                .or_else(|| self.layout.sandboxed.then(|| "/".to_string())),
            work_dir,
            input_artifacts: if main { self.inputs(t)? } else { Vec::new() },
            output_parameters: if main { outputs_params(t) } else { Vec::new() },
            output_artifacts: if main {
                self.output_artifacts(t)
            } else {
                Vec::new()
            },
            capture_result: main,
            sandbox: self
                .layout
                .sandboxed
                .then_some(Sandbox { mounts: mounts_out }),
            in_pod: false,
            termination_grace_seconds: None,
        })
    }

    fn inputs(&self, t: &Template) -> Result<Vec<InputArtifact>, LaunchError> {
        let root = self.layout.artifact_root();
        input_artifacts(t, |a| Ok(source_of(a, &root)))
    }

    fn output_artifacts(&self, t: &Template) -> Vec<OutputArtifact> {
        let mut out = Vec::new();
        for a in t.outputs.iter().flat_map(|o| o.artifacts.iter().flatten()) {
            let name = a.name.clone().unwrap_or_default();
            let Some(path) = a.path.clone() else { continue };
            let archive = archive_mode(a);
            let explicit_key = a.s3.as_ref().and_then(|s| s.key.clone());
            let key = explicit_key.unwrap_or_else(|| {
                format!(
                    "{}/{}/{name}{}",
                    self.layout.workflow,
                    self.l.pod_name,
                    key_suffix(&archive)
                )
            });
            out.push(OutputArtifact {
                name,
                path,
                destination: ArtifactDestination::Local {
                    root: self.layout.artifact_root(),
                    key,
                },
                archive,
                optional: a.optional == Some(true),
            });
        }
        out
    }
}

/// How an output artifact is packed (Argo's `archive`: tar+gzip unless `none`).
pub(crate) fn archive_mode(a: &Artifact) -> ArchiveMode {
    match &a.archive {
        Some(s) if s.none.is_some() => ArchiveMode::None {},
        Some(s) => ArchiveMode::Tar {
            compression_level: s.tar.as_ref().and_then(|t| t.compression_level),
        },
        None => ArchiveMode::default(),
    }
}

/// The end of a default artifact key: `.tgz` for a tarball, nothing for a file as it is.
pub(crate) fn key_suffix(archive: &ArchiveMode) -> &'static str {
    if matches!(archive, ArchiveMode::None {}) {
        ""
    } else {
        ".tgz"
    }
}

pub(crate) fn outputs_params(t: &Template) -> Vec<OutputParameter> {
    t.outputs
        .iter()
        .flat_map(|o| o.parameters.iter().flatten())
        .filter_map(|p| {
            let from = p.value_from.as_ref()?;
            Some(OutputParameter {
                name: p.name.clone().unwrap_or_default(),
                path: from.path.clone()?,
                default: from.default.as_ref().map(|d| d.0.clone()),
            })
        })
        .collect()
}

/// The input artifacts of a template, each read from where `locate` says (`Ok(None)`: it has
/// no location, which only an optional artifact may lack; `Err`: why it cannot be read).
pub(crate) fn input_artifacts(
    t: &Template,
    mut locate: impl FnMut(&Artifact) -> Result<Option<ArtifactSource>, String>,
) -> Result<Vec<InputArtifact>, LaunchError> {
    let mut out = Vec::new();
    for a in t.inputs.iter().flat_map(|i| i.artifacts.iter().flatten()) {
        let name = a.name.clone().unwrap_or_default();
        let Some(path) = a.path.clone() else {
            return Err(format!("inputs.artifacts.{name} has no path"));
        };
        let optional = a.optional == Some(true);
        let source = match locate(a).map_err(|e| format!("inputs.artifacts.{name}: {e}"))? {
            Some(s) => s,
            None if optional => continue,
            None => {
                return Err(format!(
                    "inputs.artifacts.{name}: no location to load it from"
                ));
            }
        };
        out.push(InputArtifact {
            name,
            path,
            source,
            mode: a.mode.and_then(|m| u32::try_from(m).ok()),
            optional,
        });
    }
    Ok(out)
}

/// Where an Argo artifact (as recorded in a status or written in a template) is read from.
/// A key-only `s3` artifact lives in the default repository.
pub fn source_of(a: &Artifact, local_root: &Path) -> Option<ArtifactSource> {
    if let Some(r) = &a.raw {
        return Some(ArtifactSource::Raw {
            data: r.data.clone().unwrap_or_default(),
        });
    }
    if let Some(h) = &a.http {
        let headers = h
            .headers
            .iter()
            .flatten()
            .map(|x| HttpHeader {
                name: x.name.clone().unwrap_or_default(),
                value: x.value.clone().unwrap_or_default(),
            })
            .collect();
        return Some(ArtifactSource::Http {
            url: h.url.clone().unwrap_or_default(),
            headers,
        });
    }
    if let Some(g) = &a.git {
        return Some(ArtifactSource::Git {
            repo: g.repo.clone().unwrap_or_default(),
            revision: g.revision.clone(),
        });
    }
    if let Some(s3) = &a.s3 {
        let key = s3.key.clone()?;
        return Some(ArtifactSource::Local {
            root: local_root.to_path_buf(),
            key,
        });
    }
    None
}

/// `argoproj/argosay`, the image of many Argo examples, as a shell script: `echo [msg] [file]`,
/// `cat`, `sleep`, `exit`, `assert_contains`, `assert_equals`.
pub const ARGOSAY: &str = r#"cmd=${1:-echo}; [ $# -gt 0 ] && shift
case "$cmd" in
  echo) msg=${1:-hello argo}; if [ -n "$2" ]; then mkdir -p "$(dirname "$2")" && printf '%s\n' "$msg" > "$2"; else printf '%s\n' "$msg"; fi ;;
  cat) cat "$@" ;;
  sleep) sleep "${1%s}" ;;
  exit) exit "${1:-0}" ;;
  assert_contains) grep -q -- "$2" "$1" ;;
  assert_equals) [ "$(cat "$1")" = "$2" ] ;;
  *) echo "argosay: unknown command $cmd" >&2; exit 64 ;;
esac"#;

/// The command of a container: its `command`, or the known entrypoint of its image, then `args`.
pub(crate) fn argv_for(
    command: &Option<Vec<String>>,
    args: &Option<Vec<String>>,
    image: Option<&str>,
) -> Vec<String> {
    let args = args.clone().unwrap_or_default();
    if let Some(c) = command.as_ref().filter(|c| !c.is_empty()) {
        let mut v = c.clone();
        v.extend(args);
        return v;
    }
    let mut v: Vec<String> = match image_repo(image.unwrap_or_default()) {
        "docker/whalesay" => vec!["cowsay".into()],
        "argoproj/argosay" | "alexcollinsintuit/argosay" => {
            vec!["sh".into(), "-c".into(), ARGOSAY.into(), "argosay".into()]
        }
        // The images' own entrypoints, run from Debian's packages `nginx` and `influxdb`.
        "nginx" => vec!["nginx".into(), "-g".into(), "daemon off;".into()],
        "influxdb" => vec!["influxd".into()],
        _ => Vec::new(),
    };
    v.extend(args);
    v
}

/// Whether an image is built on Alpine or busybox, whose `/bin/sh` is busybox's ash: `alpine`,
/// `busybox`, `curlimages/curl`, `alpine/*` and the `*-alpine*` tags of official images.
fn busybox_based(image: &str) -> bool {
    let repo = image_repo(image);
    let tag = image
        .split('@')
        .next()
        .unwrap_or_default()
        .rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .map(|(_, t)| t)
        .unwrap_or_default();
    matches!(repo, "alpine" | "busybox" | "curlimages/curl")
        || repo.starts_with("alpine/")
        || tag.contains("alpine")
}

/// Debian's busybox, when installed.
fn busybox() -> Option<PathBuf> {
    ["/usr/bin/busybox", "/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// An image's repository without registry host, tag or digest; Docker Hub's official images
/// without `library/` (`docker.io/library/nginx:1.13` → `nginx`).
pub(crate) fn image_repo(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or_default();
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    let repo = match image[name_start..].find(':') {
        Some(i) => &image[..name_start + i],
        None => image,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    repo.strip_prefix("library/").unwrap_or(repo)
}

fn env_of(
    env: &Option<Vec<k8s_openapi::api::core::v1::EnvVar>>,
    pod: &str,
    container: &str,
) -> Result<Vec<EnvVar>, LaunchError> {
    let mut out = Vec::new();
    for e in env.iter().flatten() {
        let value = match (&e.value, &e.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => match from.field_ref.as_ref().map(|f| f.field_path.as_str()) {
                Some("metadata.name") => pod.to_string(),
                Some(other) => {
                    return Err(format!(
                        "env {} of container {container}: fieldRef {other} is only known on Kubernetes",
                        e.name
                    ));
                }
                None => {
                    return Err(format!(
                        "env {} of container {container}: secrets and config maps need the Kubernetes backend",
                        e.name
                    ));
                }
            },
            (None, None) => String::new(),
        };
        out.push(EnvVar {
            name: e.name.clone(),
            value,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_repositories_lose_registry_tag_and_digest() {
        for (image, repo) in [
            ("nginx:1.13", "nginx"),
            ("docker.io/library/nginx:1.13", "nginx"),
            ("influxdb", "influxdb"),
            ("argoproj/argosay:v2", "argoproj/argosay"),
            ("localhost:5000/team/tool:1", "localhost:5000/team/tool"),
            ("alpine@sha256:abc", "alpine"),
        ] {
            assert_eq!(image_repo(image), repo, "{image}");
        }
    }

    #[test]
    fn alpine_and_busybox_images_are_told_apart() {
        for (image, yes) in [
            ("alpine:3.23", true),
            ("docker.io/library/busybox", true),
            ("curlimages/curl:latest", true),
            ("alpine/git:v2.26.2", true),
            ("python:alpine3.23", true),
            ("python:3.12-alpine", true),
            ("python:3.12", false),
            ("nginx:1.13", false),
            ("localhost:5000/alpine-tools", false),
        ] {
            assert_eq!(busybox_based(image), yes, "{image}");
        }
    }

    #[test]
    fn known_images_run_their_entrypoint_and_a_command_wins() {
        assert_eq!(
            argv_for(&None, &None, Some("nginx:1.13")),
            ["nginx", "-g", "daemon off;"]
        );
        assert_eq!(
            argv_for(
                &None,
                &Some(vec!["-config".into(), "/c".into()]),
                Some("influxdb:1.2")
            ),
            ["influxd", "-config", "/c"]
        );
        assert_eq!(
            argv_for(&Some(vec!["nginx".into()]), &None, Some("nginx:1.13")),
            ["nginx"]
        );
        assert!(argv_for(&None, &None, Some("remuslazar/gnuplot")).is_empty());
    }
}
