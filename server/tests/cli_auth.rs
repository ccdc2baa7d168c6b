//! `trellis auth can` explains policy decisions with its exit code, and `trellis serve` refuses
//! settings that would be unsafe or cannot work, saying what to change.

use std::process::{Command, Output};

fn trellis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("trellis runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trellis-cli-auth-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const POLICY: &str = "apiVersion: trellis.dev/v1
kind: Policy
bindings:
  - name: release-team
    role: runner
    subjects:
      - group: release
    scope:
      namespaces: [ci]
      folders: [\"deploy/**\"]
";

#[test]
fn auth_can_explains_with_its_exit_code() {
    let dir = scratch("can");
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let p = policy.to_str().unwrap();
    let base = ["auth", "can", "--policy", p, "--user", "alice@example.com"];
    let allowed = trellis(
        &[
            &base[..],
            &[
                "--group",
                "release",
                "--folder",
                "deploy/web",
                "submit",
                "workflowtemplate/ci/deploy",
            ],
        ]
        .concat(),
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed));
    assert!(
        text(&allowed).contains("release-team"),
        "{}",
        text(&allowed)
    );

    let denied = trellis(
        &[
            &base[..],
            &[
                "--group",
                "release",
                "--folder",
                "deploy/web",
                "approve",
                "workflowtemplate/ci/deploy",
            ],
        ]
        .concat(),
    );
    assert_eq!(denied.status.code(), Some(1), "{}", text(&denied));
    assert!(
        text(&denied).contains("does not allow approve"),
        "{}",
        text(&denied)
    );

    let elsewhere = trellis(
        &[
            &base[..],
            &[
                "--group",
                "release",
                "--folder",
                "deploy/web",
                "submit",
                "workflowtemplate/prod/deploy",
            ],
        ]
        .concat(),
    );
    assert_eq!(elsewhere.status.code(), Some(1));
    assert!(text(&elsewhere).contains("prod"), "{}", text(&elsewhere));

    let stranger = trellis(&[&base[..], &["read", "workflowtemplate/ci/deploy"]].concat());
    assert_eq!(stranger.status.code(), Some(1));
    assert!(
        text(&stranger).contains("deny by default"),
        "{}",
        text(&stranger)
    );

    let typo = trellis(&[&base[..], &["submti", "workflowtemplate/ci/deploy"]].concat());
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        text(&typo).contains("submit"),
        "a suggestion: {}",
        text(&typo)
    );
}

#[test]
fn a_bad_policy_is_shown_like_lint_findings() {
    let dir = scratch("bad");
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY.replace("role: runner", "rol: runner")).unwrap();
    let out = trellis(&[
        "auth",
        "can",
        "--policy",
        policy.to_str().unwrap(),
        "--user",
        "a",
        "read",
        "namespace/ci",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("policy.yaml:5"), "a position: {t}");
    assert!(t.contains("`role`"), "a suggestion: {t}");
}

#[test]
fn serve_refuses_unsafe_or_incomplete_settings() {
    let dir = scratch("serve");
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let exposed = trellis(&["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", d]);
    assert!(!exposed.status.success());
    let t = text(&exposed);
    assert!(
        t.contains("--insecure-no-auth") && t.contains("--auth-mode sso"),
        "{t}"
    );

    let no_policy = trellis(&[
        "serve",
        "--auth-mode",
        "sso",
        "--port",
        "0",
        "--data-dir",
        d,
    ]);
    assert!(!no_policy.status.success());
    assert!(
        text(&no_policy).contains("--policy"),
        "{}",
        text(&no_policy)
    );

    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let no_issuer = trellis(&[
        "serve",
        "--auth-mode",
        "sso",
        "--policy",
        policy.to_str().unwrap(),
        "--port",
        "0",
        "--data-dir",
        d,
    ]);
    assert!(!no_issuer.status.success());
    let t = text(&no_issuer);
    assert!(
        t.contains("--sso-issuer") && t.contains("--sso-client-id"),
        "{t}"
    );
}

#[test]
fn tokens_are_listed_without_their_secrets() {
    let dir = scratch("tokens");
    let data = dir.join("data");
    // The database exists once a server has opened it.
    let d = data.to_str().unwrap();
    let missing = trellis(&["token", "list", "--data-dir", d]);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("--data-dir"), "{}", text(&missing));
    std::fs::create_dir_all(&data).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(controller::store::SqlStore::open_sqlite(
        &data.join("trellis.db"),
    ))
    .unwrap();
    let made = trellis(&["token", "create", "ci", "--role", "runner", "--data-dir", d]);
    assert!(made.status.success(), "{}", text(&made));
    let secret = String::from_utf8_lossy(&made.stdout).trim().to_string();
    assert!(secret.starts_with("trellis_"), "{secret}");
    let bad = trellis(&["token", "create", "x", "--role", "boss", "--data-dir", d]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("viewer"),
        "the roles are listed: {}",
        text(&bad)
    );
    let twice = trellis(&["token", "create", "ci", "--role", "viewer", "--data-dir", d]);
    assert!(!twice.status.success());
    assert!(text(&twice).contains("already exists"), "{}", text(&twice));
    let list = trellis(&["token", "list", "--data-dir", d]);
    let t = text(&list);
    assert!(
        t.contains("ci") && t.contains("runner") && t.contains("active"),
        "{t}"
    );
    assert!(!t.contains(&secret), "never the secret: {t}");
    assert!(
        trellis(&["token", "revoke", "ci", "--data-dir", d])
            .status
            .success()
    );
    assert!(text(&trellis(&["token", "list", "--data-dir", d])).contains("revoked"));
}
