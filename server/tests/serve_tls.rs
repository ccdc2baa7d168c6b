//! `trellis serve --secure` answers over HTTPS with the certificate it made at start, and not
//! over plain HTTP; a bad `--tls-cert` stops the start with a message naming it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn secure_serves_https_only() {
    let data = std::env::temp_dir().join(format!("trellis-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args([
            "serve",
            "--secure",
            "--port",
            &port.to_string(),
            "--site-dir",
            "/nonexistent",
        ])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("trellis serve starts");
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/healthz");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Ok(r) = client.get(&url).send().await {
            break r.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "no HTTPS answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body, "ok");
    let strict = reqwest::Client::new();
    assert!(
        strict.get(&url).send().await.is_err(),
        "a self-signed certificate is not trusted by default"
    );
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "no plain HTTP"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_bad_certificate_stops_the_start() {
    let dir = std::env::temp_dir().join(format!("trellis-tls-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, "not a certificate").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["serve", "--port", "0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&cert)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cert.pem"), "{err}");
}
