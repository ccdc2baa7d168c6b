//! The RBAC matrix: every role × every action × in scope and out of scope (by namespace, by
//! folder, by template name), through the REST API and through the UI's server functions,
//! against a real server in `--auth-mode client` with a policy. The expected answers come from
//! the documented role table below and the scope the target is in, never from the server.

#[path = "common/server.rs"]
mod server;

use std::collections::BTreeMap;

use leptos::server_fn::ServerFn as _;
use serde_json::{Value, json};
use server::Server;

/// The role table of docs/policy.md.
fn role_allows(role: &str, action: &str) -> bool {
    let viewer = ["read"];
    let runner = ["read", "submit", "retry", "resubmit", "stop"];
    let approver = ["read", "approve"];
    match role {
        "viewer" => viewer.contains(&action),
        "runner" => runner.contains(&action),
        "approver" => approver.contains(&action),
        "admin" => true,
        _ => false,
    }
}

const ROLES: [&str; 4] = ["viewer", "runner", "approver", "admin"];
const ACTIONS: [&str; 8] = [
    "read", "submit", "retry", "resubmit", "stop", "approve", "manage", "delete",
];

/// Where a target sits relative to the bindings' scope (team-a, folders ci/**, templates job-*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    InScope,
    OtherNamespace,
    OtherFolder,
    OtherTemplate,
}

const PLACES: [Place; 4] = [
    Place::InScope,
    Place::OtherNamespace,
    Place::OtherFolder,
    Place::OtherTemplate,
];

impl Place {
    /// The namespace and template of targets in this place.
    fn target(self) -> (&'static str, &'static str) {
        match self {
            Place::InScope => ("team-a", "job-build"),
            Place::OtherNamespace => ("team-b", "job-build"),
            Place::OtherFolder => ("team-a", "job-ops"),
            Place::OtherTemplate => ("team-a", "tool"),
        }
    }
}

fn template(ns: &str, name: &str, folder: &str) -> String {
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: {name}
  namespace: {ns}
  labels:
    trellis.dev/folder: {folder}
spec:
  entrypoint: main
  arguments:
    parameters:
      - name: mode
        value: wait
  templates:
    - name: main
      steps:
        - - name: gate
            template: gate
            when: "{{{{workflow.parameters.mode}}}} == wait"
          - name: boom
            template: boom
            when: "{{{{workflow.parameters.mode}}}} == fail"
    - name: gate
      suspend: {{}}
    - name: boom
      container:
        image: alpine
        command: [sh, -c, "exit 3"]
---
"#
    )
}

fn policy() -> String {
    let mut out = String::from("apiVersion: trellis.dev/v1\nkind: Policy\nbindings:\n");
    for role in ROLES {
        out.push_str(&format!(
            "  - name: {role}s\n    role: {role}\n    subjects:\n      - token: {role}\n    scope:\n      \
             namespaces: [team-a]\n      folders: [\"ci/**\"]\n      templates: [\"job-*\"]\n"
        ));
    }
    out
}

/// The fixtures: the templates of every place, the policy, and the tokens.
struct Fixture {
    server: Server,
    root: String,
    tokens: BTreeMap<&'static str, String>,
}

async fn fixture(test: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("trellis-rbac-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut manifests = String::new();
    manifests += &template("team-a", "job-build", "ci/build");
    manifests += &template("team-b", "job-build", "ci/build");
    manifests += &template("team-a", "job-ops", "ops");
    manifests += &template("team-a", "tool", "ci/build");
    std::fs::write(dir.join("templates.yaml"), manifests).unwrap();
    std::fs::write(dir.join("policy.yaml"), policy()).unwrap();
    let load = dir.join("templates.yaml").display().to_string();
    let policy = dir.join("policy.yaml").display().to_string();
    let server = Server::start_with(
        test,
        &[
            "--load",
            &load,
            "--auth-mode",
            "client",
            "--policy",
            &policy,
        ],
    )
    .await;
    let root = server.create_token("root", &["--role", "admin"]);
    let tokens = ROLES
        .into_iter()
        .map(|r| (r, server.create_token(r, &[])))
        .collect();
    Fixture {
        server,
        root,
        tokens,
    }
}

impl Fixture {
    /// A GET as the root token.
    async fn as_root(&self, path: &str) -> Value {
        let (status, body) = self
            .server
            .call_as(Some(&self.root), "GET", path, None)
            .await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The id of the gate run `name` of `ns` waits at.
    async fn gate_of(&self, ns: &str, name: &str) -> String {
        let wf = self
            .as_root(&format!("/api/v1/workflows/{ns}/{name}"))
            .await;
        gate(&wf).expect("the run waits at its gate")
    }

    /// Starts a run of `place`'s template as root, in `mode` (`wait` at the gate or `fail`),
    /// and waits until it is there; returns its name.
    async fn run(&self, place: Place, mode: &str) -> String {
        let (ns, t) = place.target();
        let (status, wf) = self
            .server
            .call_as(
                Some(&self.root),
                "POST",
                &format!("/api/v1/workflows/{ns}/submit"),
                Some(
                    json!({"resourceKind": "WorkflowTemplate", "resourceName": t,
                    "submitOptions": {"parameters": [format!("mode={mode}")]}}),
                ),
            )
            .await;
        assert_eq!(status, 200, "{wf}");
        let name = server::name(&wf);
        for _ in 0..300 {
            let wf = self
                .as_root(&format!("/api/v1/workflows/{ns}/{name}"))
                .await;
            let there = match mode {
                "wait" => gate(&wf).is_some(),
                _ => wf["status"]["phase"] == "Failed",
            };
            if there {
                return name;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("run {name} never got to {mode}");
    }
}

/// The id of the run's gate while it waits.
fn gate(wf: &Value) -> Option<String> {
    wf["status"]["nodes"]
        .as_object()?
        .iter()
        .find_map(|(id, n)| (n["type"] == "Suspend" && n["phase"] == "Running").then(|| id.clone()))
}

/// Runs made once per place for the refused cases (a refusal changes nothing).
struct Shared {
    waiting: String,
    failed: String,
}

/// How a case reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Rest,
    ServerFn,
}

/// Sends `action` on `place` as `token`; returns whether it was allowed (`Some(true)`),
/// forbidden (`Some(false)`), or not offered on that channel (`None`). Fails the test on any
/// other answer.
async fn attempt(
    f: &Fixture,
    channel: Channel,
    token: &str,
    action: &str,
    place: Place,
    shared: &Shared,
    expected: bool,
) -> Option<bool> {
    let (ns, t) = place.target();
    // A case that is expected to succeed changes its run: give it a fresh one.
    let waiting = if expected && action != "read" {
        f.run(place, "wait").await
    } else {
        shared.waiting.clone()
    };
    let failed = if expected && matches!(action, "retry" | "delete") {
        f.run(place, "fail").await
    } else {
        shared.failed.clone()
    };
    let (method, path, body) = match (channel, action) {
        (Channel::Rest, "read") => ("GET", format!("/api/v1/workflows/{ns}/{waiting}"), None),
        (Channel::Rest, "submit") => (
            "POST",
            format!("/api/v1/workflows/{ns}/submit"),
            Some(json!({"resourceKind": "WorkflowTemplate", "resourceName": t})),
        ),
        (Channel::Rest, "retry") => (
            "PUT",
            format!("/api/v1/workflows/{ns}/{failed}/retry"),
            Some(json!({})),
        ),
        (Channel::Rest, "resubmit") => (
            "PUT",
            format!("/api/v1/workflows/{ns}/{failed}/resubmit"),
            Some(json!({})),
        ),
        (Channel::Rest, "stop") => (
            "PUT",
            format!("/api/v1/workflows/{ns}/{waiting}/stop"),
            Some(json!({})),
        ),
        (Channel::Rest, "approve") => {
            let node = f.gate_of(ns, &waiting).await;
            (
                "PUT",
                format!("/api/v1/trellis/workflows/{ns}/{waiting}/nodes/{node}/approve"),
                Some(json!({})),
            )
        }
        (Channel::Rest, "manage") => {
            let body = f
                .as_root(&format!("/api/v1/workflow-templates/{ns}/{t}"))
                .await;
            (
                "PUT",
                format!("/api/v1/workflow-templates/{ns}/{t}"),
                Some(json!({"template": body})),
            )
        }
        (Channel::Rest, "delete") => ("DELETE", format!("/api/v1/workflows/{ns}/{failed}"), None),
        (Channel::ServerFn, "read") => (
            "POST",
            app::api::LoadRun::PATH.to_string(),
            Some(json!({"namespace": ns, "name": waiting, "expand": []})),
        ),
        (Channel::ServerFn, "submit") => (
            "POST",
            app::act::Trigger::PATH.to_string(),
            Some(
                json!({"request": {"id": {"kind": "WorkflowTemplate", "namespace": ns, "name": t},
                "values": {}, "entrypoint": "", "labels": "", "namespace": ns}, "dry": false}),
            ),
        ),
        (Channel::ServerFn, "retry" | "resubmit" | "stop" | "delete") => {
            let (run, act) = match action {
                "retry" => (&failed, json!({"Retry": {"node": null, "parameters": []}})),
                "resubmit" => (
                    &failed,
                    json!({"Resubmit": {"parameters": [], "memoized": false}}),
                ),
                "stop" => (&waiting, json!("Stop")),
                _ => (&failed, json!("Delete")),
            };
            (
                "POST",
                app::act::Act::PATH.to_string(),
                Some(json!({"namespace": ns, "name": run, "action": act})),
            )
        }
        (Channel::ServerFn, "approve") => {
            let node = f.gate_of(ns, &waiting).await;
            (
                "POST",
                app::act::Decide::PATH.to_string(),
                Some(json!({"namespace": ns, "name": waiting, "node": node,
                    "decision": {"approve": true, "values": {}, "comment": ""}})),
            )
        }
        (Channel::ServerFn, _) => return None,
        (Channel::Rest, other) => panic!("no REST case for {other}"),
    };
    let (status, answer, forbidden) = match channel {
        Channel::Rest => {
            let (status, answer) = f.server.call_as(Some(token), method, &path, body).await;
            (status, answer, status == 403)
        }
        Channel::ServerFn => {
            let (status, error) = server_fn_call(f, token, &path, body.unwrap_or_default()).await;
            let forbidden = matches!(error, Some(app::api::UiError::Forbidden(_)));
            (
                status,
                json!(format!("{error:?}")),
                status != 200 && forbidden,
            )
        }
    };
    assert!(
        status == 200 || forbidden,
        "{channel:?} {action} on {place:?}: unexpected {status} {answer}"
    );
    Some(status == 200)
}

/// Posts a server function's arguments (JSON, its input encoding) as `token`; returns the
/// status and, when it failed, the error it answered (in the functions' postcard encoding).
async fn server_fn_call(
    f: &Fixture,
    token: &str,
    path: &str,
    body: Value,
) -> (u16, Option<app::api::UiError>) {
    use leptos::server_fn::error::FromServerFnError as _;
    let resp = reqwest::Client::new()
        .post(f.server.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    let error = (status != 200).then(|| app::api::UiError::de(bytes));
    (status, error)
}

async fn matrix(channel: Channel, test: &str) {
    let f = fixture(test).await;
    let mut shared = BTreeMap::new();
    for place in PLACES {
        let s = Shared {
            waiting: f.run(place, "wait").await,
            failed: f.run(place, "fail").await,
        };
        shared.insert(place as u8, s);
    }
    let mut checked = 0;
    let mut wrong = Vec::new();
    for role in ROLES {
        for action in ACTIONS {
            for place in PLACES {
                let expected = role_allows(role, action) && place == Place::InScope;
                let token = &f.tokens[role];
                let s = &shared[&(place as u8)];
                let Some(got) = attempt(&f, channel, token, action, place, s, expected).await
                else {
                    continue;
                };
                checked += 1;
                if got != expected {
                    wrong.push(format!(
                        "{role} {action} on {place:?}: expected {expected}, got {got}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong of {checked}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let min = match channel {
        Channel::Rest => ROLES.len() * ACTIONS.len() * PLACES.len(),
        // Templates are not managed through server functions.
        Channel::ServerFn => ROLES.len() * (ACTIONS.len() - 1) * PLACES.len(),
    };
    assert_eq!(checked, min, "every case ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_api_follows_the_policy() {
    matrix(Channel::Rest, "rbac-rest").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ui_server_functions_follow_the_policy() {
    matrix(Channel::ServerFn, "rbac-fn").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_hide_what_a_role_does_not_cover() {
    let f = fixture("rbac-lists").await;
    for place in PLACES {
        f.run(place, "wait").await;
    }
    let viewer = &f.tokens["viewer"];
    let (status, all) = f
        .server
        .call_as(Some(viewer), "GET", "/api/v1/workflows/", None)
        .await;
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the in-scope run: {all}");
    assert_eq!(items[0]["metadata"]["namespace"], "team-a");
    let (_, templates) = f
        .server
        .call_as(
            Some(viewer),
            "GET",
            "/api/v1/workflow-templates/team-a",
            None,
        )
        .await;
    let names: Vec<&str> = templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["job-build"], "{templates}");
    let (_, none) = f
        .server
        .call_as(
            Some(viewer),
            "GET",
            "/api/v1/workflow-templates/team-b",
            None,
        )
        .await;
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{none}");
    // A run is not in a template's scope because its creator says so.
    let spoofed = json!({"workflow": {
        "metadata": {"generateName": "spoof-", "labels": {"workflows.argoproj.io/workflow-template": "job-build"}},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "alpine", "command": ["true"]}}]}}});
    let (status, answer) = f
        .server
        .call_as(
            Some(&f.tokens["runner"]),
            "POST",
            "/api/v1/workflows/team-a",
            Some(spoofed.clone()),
        )
        .await;
    assert_eq!(
        status, 403,
        "a label does not make a run one of job-build's: {answer}"
    );
    let (status, made) = f
        .server
        .call_as(
            Some(&f.root),
            "POST",
            "/api/v1/workflows/team-a",
            Some(spoofed),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    assert!(
        made["metadata"]["labels"]
            .get("workflows.argoproj.io/workflow-template")
            .is_none(),
        "the client's origin label is dropped: {made}"
    );
    // The root token (admin over every namespace) sees everything.
    let (_, every) = f
        .server
        .call_as(Some(&f.root), "GET", "/api/v1/workflows/", None)
        .await;
    assert_eq!(every["items"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_checked_revoked_and_expire() {
    let f = fixture("rbac-tokens").await;
    let (status, body) = f.server.call("GET", "/api/v1/workflows/", None).await;
    assert_eq!(status, 401, "no token: {body}");
    assert_eq!(body["code"], 16);
    let (status, _) = f
        .server
        .call_as(Some("trellis_forged"), "GET", "/api/v1/workflows/", None)
        .await;
    assert_eq!(status, 401, "a token this server never issued");
    let scoped = f
        .server
        .create_token("ci", &["--role", "runner", "--namespace", "team-b"]);
    let submit = |ns: &str| {
        (
            format!("/api/v1/workflows/{ns}/submit"),
            json!({"resourceKind": "WorkflowTemplate", "resourceName": "job-build"}),
        )
    };
    let (path, body) = submit("team-b");
    let (status, answer) = f
        .server
        .call_as(Some(&scoped), "POST", &path, Some(body))
        .await;
    assert_eq!(status, 200, "its own role in its namespace: {answer}");
    assert_eq!(
        answer["metadata"]["labels"]["workflows.argoproj.io/creator"], "token-ci",
        "the run records the token as its creator"
    );
    let (path, body) = submit("team-a");
    let (status, answer) = f
        .server
        .call_as(Some(&scoped), "POST", &path, Some(body))
        .await;
    assert_eq!(status, 403, "outside its namespaces: {answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("team-a"),
        "the refusal explains: {answer}"
    );
    let (status, info) = f
        .server
        .call_as(Some(&scoped), "GET", "/api/v1/userinfo", None)
        .await;
    assert_eq!((status, info["subject"].as_str()), (200, Some("token:ci")));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["token", "revoke", "ci"])
        .args(f.server.store_args())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, answer) = f
        .server
        .call_as(Some(&scoped), "GET", "/api/v1/userinfo", None)
        .await;
    assert_eq!(status, 401, "revoked: {answer}");
    assert!(answer["message"].as_str().unwrap().contains("revoked"));
    let brief = f
        .server
        .create_token("brief", &["--role", "viewer", "--expires-in", "1s"]);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, answer) = f
        .server
        .call_as(Some(&brief), "GET", "/api/v1/userinfo", None)
        .await;
    assert_eq!(status, 401, "expired: {answer}");
    assert!(answer["message"].as_str().unwrap().contains("expired"));
    // Only an unscoped admin may list tokens, and the list never shows a secret.
    let (status, list) = f
        .server
        .call_as(Some(&f.root), "GET", "/api/v1/trellis/tokens", None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert!(!list.to_string().contains(&scoped), "no secret in {list}");
    let (status, _) = f
        .server
        .call_as(
            Some(&f.tokens["admin"]),
            "GET",
            "/api/v1/trellis/tokens",
            None,
        )
        .await;
    assert_eq!(
        status, 403,
        "an admin of team-a only does not manage tokens"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_signs_in_with_a_token_and_loses_access_when_it_is_revoked() {
    // Without a policy (as the manifests install it): the session must hold exactly the
    // token's role, never the server-mode "everything".
    let dir = std::env::temp_dir().join(format!("trellis-token-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("t.yaml"),
        template("team-a", "job-build", "ci/build"),
    )
    .unwrap();
    let load = dir.join("t.yaml").display().to_string();
    let server =
        Server::start_with("token-login", &["--load", &load, "--auth-mode", "client"]).await;
    let secret = server.create_token("browser", &["--role", "viewer", "--namespace", "team-a"]);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let origin = server.url("");
    // A browser without a session is sent to sign in.
    let resp = client.get(server.url("/runs")).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login?redirect=%2Fruns");
    let sign_in = |token: &str, origin: &str| {
        client
            .post(server.url("/auth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", origin.to_string())
            .body(format!(
                "token={}&redirect=%2Fruns",
                token.replace('+', "%2B")
            ))
            .send()
    };
    // A wrong token goes back to the sign-in page, which says why.
    let resp = sign_in("trellis_forged", &origin).await.unwrap();
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/login?error="), "{to}");
    // Another site cannot sign the browser in.
    let resp = sign_in(&secret, "http://evil.example").await.unwrap();
    assert_eq!(resp.status(), 403);
    // The right token: a session cookie, and back where the user was going.
    let resp = sign_in(&secret, &origin).await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/runs");
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(!cookie.contains(&secret), "the browser holds no secret");
    let who = |cookie: String| {
        client
            .get(server.url("/api/v1/userinfo"))
            .header("cookie", cookie)
            .send()
    };
    let resp = who(cookie.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let info: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(info["subject"], "token:browser");
    // The token's own role holds: a viewer cannot submit.
    let resp = client
        .post(server.url("/api/v1/workflows/team-a/submit"))
        .header("cookie", cookie.clone())
        .header("origin", origin.clone())
        .header("content-type", "application/json")
        .body(json!({"resourceKind": "WorkflowTemplate", "resourceName": "job-build"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Nor does it manage tokens, as no scoped viewer may.
    let resp = client
        .get(server.url("/api/v1/trellis/tokens"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trellis"))
        .args(["token", "revoke", "browser"])
        .args(server.store_args())
        .output()
        .unwrap();
    assert!(out.status.success());
    let resp = who(cookie).await.unwrap();
    assert_eq!(
        resp.status(),
        401,
        "a revoked token's session has no access"
    );
}
