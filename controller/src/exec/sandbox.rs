//! The bubblewrap sandbox a local step runs in: an empty root with the host's system directories
//! read-only, a private `/tmp` per step (`<work_dir>/tmp`, so `/tmp/out.txt` outputs survive for
//! collection and two steps never see each other's), the step's volumes, and the host's network.
//!
//! `/var` holds empty, writable copies of the host's directories under `/var` two levels deep
//! (never their files): programs installed from Debian's packages find the directories they write
//! to (`/var/log/nginx`, `/var/lib/influxdb`), as they would in their container image, without
//! seeing or touching the host's data. `/var/www`, the web content a host serves to anyone, is
//! bound read-only, so a web server step answers with the host's pages.
//!
//! `trellis exec` itself runs inside it. Stop a sandboxed step with [`super::request_stop`]
//! (SIGTERM to exec): signalling bwrap kills exec at once through `--die-with-parent`, with no result.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::spec::Sandbox;

/// Host directories bound read-only when they exist (as links when they are links, e.g. `/bin`).
const SYSTEM_DIRS: [&str; 8] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/opt",
];

/// Web content the host serves publicly: bound read-only rather than left empty.
const WEB_ROOT: &str = "/var/www";

/// Where bubblewrap is looked for.
const BWRAP_CANDIDATES: [&str; 2] = ["/usr/bin/bwrap", "/usr/local/bin/bwrap"];

/// The bubblewrap binary when it is installed and can build a sandbox here (user namespaces allowed).
pub fn sandbox_available() -> Option<PathBuf> {
    let bwrap = BWRAP_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())?;
    let works = Command::new(&bwrap)
        .args([
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--",
            "true",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(bwrap)
}

/// The command that runs `<exec_binary> exec --spec <spec_path>` inside a sandbox for the step whose
/// directory is `work_dir`. It creates `<work_dir>/tmp` (the step's `/tmp`) when missing; if that
/// fails, bwrap reports the missing directory when started.
pub fn bwrap_command(
    bwrap: &Path,
    exec_binary: &Path,
    spec_path: &Path,
    sandbox: &Sandbox,
    work_dir: &Path,
) -> Command {
    let tmp = work_dir.join("tmp");
    if let Err(e) = std::fs::create_dir_all(&tmp) {
        tracing::warn!(path = %tmp.display(), error = %e, "cannot create the step's /tmp");
    }
    let mut command = Command::new(bwrap);
    command.args(bwrap_args(
        exec_binary,
        spec_path,
        sandbox,
        work_dir,
        var_skeleton(),
        |p| {
            std::fs::symlink_metadata(p).ok().map(|m| {
                if m.file_type().is_symlink() {
                    HostPath::Link(std::fs::read_link(p).unwrap_or_default())
                } else {
                    HostPath::Dir
                }
            })
        },
    ));
    command
}

/// The host's `/var` as directories and links only, read once: what a step's `/var` holds.
fn var_skeleton() -> &'static [(PathBuf, HostPath)] {
    static SKELETON: std::sync::OnceLock<Vec<(PathBuf, HostPath)>> = std::sync::OnceLock::new();
    SKELETON.get_or_init(|| skeleton_of(Path::new("/var"), 2))
}

/// Directories (and links to recreate) below `root`, `depth` levels deep, parents first.
fn skeleton_of(root: &Path, depth: usize) -> Vec<(PathBuf, HostPath)> {
    let mut out = Vec::new();
    if depth == 0 {
        return out;
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return out;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_symlink() {
            if let Ok(target) = std::fs::read_link(&path) {
                out.push((path, HostPath::Link(target)));
            }
        } else if kind.is_dir() {
            out.push((path.clone(), HostPath::Dir));
            out.extend(skeleton_of(&path, depth - 1));
        }
    }
    out
}

/// What a system directory is on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPath {
    /// A directory (or file) to bind read-only.
    Dir,
    /// A symbolic link to recreate, with its target.
    Link(PathBuf),
}

/// bwrap's arguments; `probe` tells what each system directory is on the host (`None`: absent).
pub(crate) fn bwrap_args(
    exec_binary: &Path,
    spec_path: &Path,
    sandbox: &Sandbox,
    work_dir: &Path,
    var: &[(PathBuf, HostPath)],
    probe: impl Fn(&Path) -> Option<HostPath>,
) -> Vec<OsString> {
    let mut args = Args::default();
    args.push(["--die-with-parent", "--new-session", "--tmpfs", "/"]);
    for dir in SYSTEM_DIRS {
        match probe(Path::new(dir)) {
            Some(HostPath::Dir) => args.paths("--ro-bind", Path::new(dir), Path::new(dir)),
            Some(HostPath::Link(target)) => args.paths("--symlink", &target, Path::new(dir)),
            None => {}
        }
    }
    args.push(["--proc", "/proc", "--dev", "/dev"]);
    // Directories every container image has, so steps can write below them.
    for dir in ["/mnt", "/srv", "/home", "/run", "/var/tmp", "/workspace"] {
        args.push(["--dir", dir]);
    }
    for (path, kind) in var {
        if path == Path::new("/var/tmp") || path.starts_with("/var/tmp/") {
            continue;
        }
        match kind {
            HostPath::Dir if path.starts_with(WEB_ROOT) => {
                if path == Path::new(WEB_ROOT) {
                    args.paths("--ro-bind", path, path);
                }
            }
            HostPath::Dir => args.path("--dir", path),
            HostPath::Link(target) => args.paths("--symlink", target, path),
        }
    }
    args.paths("--bind", &work_dir.join("tmp"), Path::new("/tmp"));
    for mount in &sandbox.mounts {
        let flag = if mount.read_only {
            "--ro-bind"
        } else {
            "--bind"
        };
        args.paths(flag, &mount.host, Path::new(&mount.path));
    }
    args.paths("--bind", work_dir, work_dir);
    args.paths("--ro-bind", exec_binary, exec_binary);
    if !spec_path.starts_with(work_dir) {
        args.paths("--ro-bind", spec_path, spec_path);
    }
    args.path("--chdir", work_dir);
    args.path("--", exec_binary);
    args.push(["exec"]);
    args.path("--spec", spec_path);
    args.0
}

#[derive(Default)]
struct Args(Vec<OsString>);

impl Args {
    fn push<const N: usize>(&mut self, words: [&str; N]) {
        self.0.extend(words.iter().map(OsString::from));
    }

    fn path(&mut self, flag: &str, path: &Path) {
        self.0.push(flag.into());
        self.0.push(path.as_os_str().to_os_string());
    }

    fn paths(&mut self, flag: &str, a: &Path, b: &Path) {
        self.0.push(flag.into());
        self.0.push(a.as_os_str().to_os_string());
        self.0.push(b.as_os_str().to_os_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::spec::Mount;

    fn words(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn arguments_bind_the_system_the_step_and_its_volumes() {
        let sandbox = Sandbox {
            mounts: vec![Mount {
                host: "/data/vol".into(),
                path: "/mnt/vol".into(),
                read_only: true,
            }],
        };
        let args = bwrap_args(
            Path::new("/opt/trellis/bin/trellis"),
            Path::new("/data/steps/s1/spec.json"),
            &sandbox,
            Path::new("/data/steps/s1"),
            &[
                ("/var/log".into(), HostPath::Dir),
                ("/var/log/nginx".into(), HostPath::Dir),
                ("/var/run".into(), HostPath::Link("/run".into())),
                ("/var/tmp".into(), HostPath::Dir),
                ("/var/www".into(), HostPath::Dir),
                ("/var/www/html".into(), HostPath::Dir),
            ],
            |p| match p.to_str() {
                Some("/usr") | Some("/etc") => Some(HostPath::Dir),
                Some("/bin") => Some(HostPath::Link("usr/bin".into())),
                _ => None,
            },
        );
        let expected = "--die-with-parent --new-session --tmpfs / \
            --ro-bind /usr /usr --symlink usr/bin /bin --ro-bind /etc /etc \
            --proc /proc --dev /dev --dir /mnt --dir /srv --dir /home --dir /run \
            --dir /var/tmp --dir /workspace --dir /var/log --dir /var/log/nginx \
            --symlink /run /var/run --ro-bind /var/www /var/www --bind /data/steps/s1/tmp /tmp \
            --ro-bind /data/vol /mnt/vol --bind /data/steps/s1 /data/steps/s1 \
            --ro-bind /opt/trellis/bin/trellis /opt/trellis/bin/trellis \
            --chdir /data/steps/s1 -- /opt/trellis/bin/trellis exec --spec /data/steps/s1/spec.json";
        assert_eq!(words(&args).join(" "), expected);
    }

    #[test]
    fn a_spec_outside_the_work_dir_is_bound_too() {
        let args = bwrap_args(
            Path::new("/bin/trellis"),
            Path::new("/elsewhere/spec.json"),
            &Sandbox::default(),
            Path::new("/w"),
            &[],
            |_| None,
        );
        let joined = words(&args).join(" ");
        assert!(joined.contains("--ro-bind /elsewhere/spec.json /elsewhere/spec.json"));
    }

    #[test]
    fn the_var_skeleton_has_directories_and_links_but_no_files() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("log/nginx/deeper")).unwrap();
        std::fs::write(r.join("log/nginx/error.log"), "secret").unwrap();
        std::fs::write(r.join("top.txt"), "x").unwrap();
        std::os::unix::fs::symlink("/run", r.join("run")).unwrap();
        let got = skeleton_of(r, 2);
        assert_eq!(
            got,
            vec![
                (r.join("log"), HostPath::Dir),
                (r.join("log/nginx"), HostPath::Dir),
                (r.join("run"), HostPath::Link("/run".into())),
            ]
        );
    }
}
