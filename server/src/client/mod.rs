//! The `trellis` commands that drive a running server over its REST API, like the `argo` CLI:
//! `submit`, `list`, `get`, `logs`, `watch`, `delete`, `suspend`, `resume`, `stop`, `terminate`,
//! `retry`, `resubmit`, `template …` and `cron …`. They work against Argo Server too.

mod args;
mod http;
mod table;

pub use args::Command;
use args::{Conn, GetArgs, ListArgs, LogsArgs, NodeCmd, Output, Stored, StoredCmd, SubmitArgs};

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::term::{Screen, render};
use crate::{lint_cmd, manifests};
use http::{Api, ClientError, query_value};

/// Exit code for input the server (or the local lint) refused.
const EXIT_BAD_INPUT: u8 = 2;

/// Runs a client command; returns the exit code.
pub fn run(cmd: Command) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(dispatch(cmd)) {
        Ok(code) => Ok(code),
        Err(e) => match e.downcast_ref::<ClientError>() {
            Some(c) => {
                eprintln!("error: {c}");
                Ok(if c.is_bad_input() { EXIT_BAD_INPUT } else { 1 })
            }
            None => Err(e),
        },
    }
}

async fn dispatch(cmd: Command) -> anyhow::Result<u8> {
    match cmd {
        Command::Submit(a) => submit(a).await,
        Command::List(a) => list(a).await,
        Command::Get(a) => get(a).await,
        Command::Watch(a) => {
            let api = Api::new(&a.conn.server, a.conn.token.as_deref());
            watch(&api, &a.conn.namespace, &a.name).await
        }
        Command::Logs(a) => logs(a).await,
        Command::Delete(a) => {
            each(&a.conn, &a.names, "deleted", |api, path| async move {
                api.delete(&path).await
            })
            .await
        }
        Command::Suspend(a) => op(&a.conn, &a.names, "suspend", json!({}), "suspended").await,
        Command::Terminate(a) => op(&a.conn, &a.names, "terminate", json!({}), "terminated").await,
        Command::Resume(a) => {
            let body = json!({"nodeFieldSelector": a.node_field_selector.unwrap_or_default()});
            op(&a.conn, &a.names, "resume", body, "resumed").await
        }
        Command::Stop(a) => {
            let body = json!({
                "nodeFieldSelector": a.node_field_selector.unwrap_or_default(),
                "message": a.message.unwrap_or_default(),
            });
            op(&a.conn, &a.names, "stop", body, "stopped").await
        }
        Command::Retry(a) => {
            let body = json!({
                "restartSuccessful": a.restart_successful,
                "nodeFieldSelector": a.node_field_selector.unwrap_or_default(),
                "parameters": a.parameters,
            });
            op(&a.conn, &a.names, "retry", body, "retried").await
        }
        Command::Resubmit(a) => {
            let api = Api::new(&a.conn.server, a.conn.token.as_deref());
            for n in &a.names {
                let path = format!("/api/v1/workflows/{}/{n}/resubmit", a.conn.namespace);
                let wf = api.put(&path, &json!({"parameters": a.parameters})).await?;
                println!("{}", table::name_of(&wf));
            }
            Ok(0)
        }
        Command::Node {
            cmd:
                NodeCmd::Set {
                    conn,
                    name,
                    node_field_selector,
                    output_parameters,
                    phase,
                    message,
                },
        } => {
            let mut values = serde_json::Map::new();
            for p in &output_parameters {
                let (k, v) = engine::submit::parse_parameter(p).map_err(anyhow::Error::msg)?;
                values.insert(k, Value::String(v));
            }
            let body = json!({
                "nodeFieldSelector": node_field_selector,
                "outputParameters": if values.is_empty() { String::new() } else { Value::Object(values).to_string() },
                "phase": phase.unwrap_or_default(),
                "message": message.unwrap_or_default(),
            });
            op(&conn, std::slice::from_ref(&name), "set", body, "updated").await
        }
        Command::Template { cmd } => stored(Stored::Template, cmd).await,
        Command::Cron { cmd } => stored(Stored::Cron, cmd).await,
    }
}

/// Calls the server once per name with `call(api, path)`, printing `<name> <verb>`.
async fn each<F, Fut>(conn: &Conn, names: &[String], verb: &str, call: F) -> anyhow::Result<u8>
where
    F: Fn(Api, String) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ClientError>>,
{
    let api = Api::new(&conn.server, conn.token.as_deref());
    for n in names {
        call(
            api.clone(),
            format!("/api/v1/workflows/{}/{n}", conn.namespace),
        )
        .await?;
        println!("workflow {n} {verb}");
    }
    Ok(0)
}

/// `PUT …/{name}/{what}` for every name.
async fn op(
    conn: &Conn,
    names: &[String],
    what: &str,
    body: Value,
    verb: &str,
) -> anyhow::Result<u8> {
    each(conn, names, verb, |api, path| {
        let body = body.clone();
        async move { api.put(&format!("{path}/{what}"), &body).await }
    })
    .await
}

async fn submit(a: SubmitArgs) -> anyhow::Result<u8> {
    let api = Api::new(&a.conn.server, a.conn.token.as_deref());
    let ns = &a.conn.namespace;
    let mut created = Vec::new();
    match (&a.from, a.files.is_empty()) {
        (Some(_), false) => anyhow::bail!("give either manifest files or --from, not both"),
        (None, true) => anyhow::bail!("nothing to submit: give workflow files or --from KIND/NAME"),
        (Some(from), true) => {
            let (kind, name) = from
                .split_once('/')
                .filter(|(k, n)| !k.is_empty() && !n.is_empty())
                .with_context(|| {
                    format!("--from {from:?} must be KIND/NAME, e.g. workflowtemplate/build")
                })?;
            let body = json!({
                "resourceKind": kind,
                "resourceName": name,
                "submitOptions": {
                    "parameters": a.parameters,
                    "entryPoint": a.entrypoint,
                    "labels": a.labels,
                },
            });
            created.push(
                api.post(&format!("/api/v1/workflows/{ns}/submit"), &body)
                    .await?,
            );
        }
        (None, false) => {
            let Some(docs) = linted(&a.files)? else {
                return Ok(EXIT_BAD_INPUT);
            };
            let opts = engine::submit::SubmitOptions {
                parameters: a
                    .parameters
                    .iter()
                    .map(|p| engine::submit::parse_parameter(p))
                    .collect::<Result<_, _>>()
                    .map_err(anyhow::Error::msg)?,
                entrypoint: a.entrypoint.clone(),
            };
            for doc in docs {
                let engine::model::Manifest::Workflow(wf) = doc else {
                    continue;
                };
                let mut wf =
                    engine::submit::from_workflow(wf, &opts).map_err(anyhow::Error::msg)?;
                add_labels(&mut wf, a.labels.as_deref())?;
                let body = json!({"workflow": wf});
                created.push(api.post(&format!("/api/v1/workflows/{ns}"), &body).await?);
            }
            if created.is_empty() {
                anyhow::bail!("the files hold no Workflow (use --from to run a template)");
            }
        }
    }
    for wf in &created {
        match a.output {
            Output::Json => println!("{}", serde_json::to_string_pretty(wf)?),
            Output::Name => println!("{}", table::name_of(wf)),
            Output::Text if !a.watch => print!("{}", render(&typed(wf)?, false)),
            Output::Text => {}
        }
    }
    if !a.watch {
        return Ok(0);
    }
    let mut code = 0;
    for wf in &created {
        code = code.max(watch(&api, ns, &table::name_of(wf)).await?);
    }
    Ok(code)
}

/// Lints files here (printing the findings); `None` when there are errors.
fn linted(files: &[PathBuf]) -> anyhow::Result<Option<Vec<engine::model::Manifest>>> {
    let read = manifests::read(&manifests::collect(files)?)?;
    let checked = manifests::lint(&read);
    let report = lint_cmd::report(&checked);
    if report.errors > 0 {
        eprint!(
            "{}",
            lint_cmd::text(&read, &checked, &report, std::io::stderr().is_terminal())
        );
        return Ok(None);
    }
    Ok(Some(manifests::Library::of(&checked).manifests))
}

fn add_labels(wf: &mut engine::model::Workflow, labels: Option<&str>) -> anyhow::Result<()> {
    for pair in labels
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("label {pair:?} must be key=value"))?;
        wf.metadata
            .get_or_insert_with(Default::default)
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(())
}

fn typed(wf: &Value) -> anyhow::Result<engine::model::Workflow> {
    serde_json::from_value(wf.clone()).context("the server sent a workflow Trellis cannot read")
}

/// Follows a workflow until it ends, redrawing its tree on a terminal; 0 when it Succeeded.
async fn watch(api: &Api, ns: &str, name: &str) -> anyhow::Result<u8> {
    let live = std::io::stdout().is_terminal();
    let color = live && std::env::var_os("NO_COLOR").is_none();
    let mut screen = Screen::default();
    let mut last: Option<engine::model::Workflow> = None;
    let selector = query_value(&format!("metadata.name={name}"));
    let path = format!("/api/v1/workflow-events/{ns}?listOptions.fieldSelector={selector}");
    let mut draw_error = None;
    api.stream(&path, |event| {
        if event["type"] == "DELETED" {
            return false;
        }
        let Ok(wf) = serde_json::from_value::<engine::model::Workflow>(event["object"].clone())
        else {
            return true;
        };
        if live && let Err(e) = screen.draw(&render(&wf, color)) {
            draw_error = Some(e);
            return false;
        }
        let done = wf
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .is_some_and(|p| p.completed());
        last = Some(wf);
        !done
    })
    .await?;
    if let Some(e) = draw_error {
        return Err(e.into());
    }
    let Some(wf) = last else {
        anyhow::bail!("workflow {ns}/{name} not found, or deleted while watched");
    };
    if !live {
        print!("{}", render(&wf, false));
    }
    let phase = wf.status.as_ref().and_then(|s| s.phase);
    Ok(if phase == Some(engine::model::WorkflowPhase::Succeeded) {
        0
    } else {
        1
    })
}

async fn list(a: ListArgs) -> anyhow::Result<u8> {
    let api = Api::new(&a.conn.server, a.conn.token.as_deref());
    let ns = if a.all_namespaces {
        ""
    } else {
        a.conn.namespace.as_str()
    };
    let mut path = format!(
        "/api/v1/workflows/{ns}?listOptions.limit={}&fields=metadata,items.metadata,items.status.phase,items.status.startedAt,items.status.finishedAt,items.status.progress,items.status.message",
        a.limit
    );
    if let Some(s) = &a.selector {
        path.push_str(&format!("&listOptions.labelSelector={}", query_value(s)));
    }
    if let Some(p) = &a.prefix {
        path.push_str(&format!(
            "&listOptions.fieldSelector={}&nameFilter=Prefix",
            query_value(&format!("metadata.name={p}"))
        ));
    }
    let page = api.get(&path).await?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    match a.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&items)?),
        Output::Name => items.iter().for_each(|w| println!("{}", table::name_of(w))),
        Output::Text => print!(
            "{}",
            table::workflows(&items, chrono::Utc::now(), a.all_namespaces)
        ),
    }
    Ok(0)
}

async fn get(a: GetArgs) -> anyhow::Result<u8> {
    let api = Api::new(&a.conn.server, a.conn.token.as_deref());
    let wf = api
        .get(&format!(
            "/api/v1/workflows/{}/{}",
            a.conn.namespace, a.name
        ))
        .await?;
    match a.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&wf)?),
        Output::Name => println!("{}", table::name_of(&wf)),
        Output::Text => print!(
            "{}",
            render(
                &typed(&wf)?,
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            )
        ),
    }
    Ok(0)
}

async fn logs(a: LogsArgs) -> anyhow::Result<u8> {
    let api = Api::new(&a.conn.server, a.conn.token.as_deref());
    let mut path = format!(
        "/api/v1/workflows/{}/{}/log?logOptions.container=main&logOptions.follow={}&logOptions.timestamps={}",
        a.conn.namespace, a.name, a.follow, a.timestamps
    );
    if let Some(p) = &a.pod {
        path.push_str(&format!("&podName={}", query_value(p)));
    }
    if let Some(g) = &a.grep {
        path.push_str(&format!("&grep={}", query_value(g)));
    }
    if let Some(n) = a.tail {
        path.push_str(&format!("&logOptions.tailLines={n}"));
    }
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    api.stream(&path, |entry| {
        use std::io::Write;
        let content = entry["content"].as_str().unwrap_or_default();
        let line = if a.no_prefix {
            format!("{content}\n")
        } else {
            format!(
                "{}: {content}\n",
                entry["podName"].as_str().unwrap_or_default()
            )
        };
        match out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    })
    .await?;
    match failed {
        // A closed pipe (`| head`) is a normal end.
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

fn stored_path(kind: Stored, ns: &str) -> String {
    match kind {
        Stored::Template => format!("/api/v1/workflow-templates/{ns}"),
        Stored::Cron => format!("/api/v1/cron-workflows/{ns}"),
    }
}

async fn stored(kind: Stored, c: StoredCmd) -> anyhow::Result<u8> {
    match c {
        StoredCmd::Create { conn, files } => {
            let api = Api::new(&conn.server, conn.token.as_deref());
            let Some(docs) = linted(&files)? else {
                return Ok(EXIT_BAD_INPUT);
            };
            let mut made = 0;
            for doc in docs {
                use engine::model::Manifest;
                let (path, body) = match (&doc, kind) {
                    (Manifest::WorkflowTemplate(t), Stored::Template) => {
                        (stored_path(kind, &conn.namespace), json!({"template": t}))
                    }
                    (Manifest::ClusterWorkflowTemplate(t), Stored::Template) => (
                        "/api/v1/cluster-workflow-templates".to_string(),
                        json!({"template": t}),
                    ),
                    (Manifest::CronWorkflow(c), Stored::Cron) => (
                        stored_path(kind, &conn.namespace),
                        json!({"cronWorkflow": c}),
                    ),
                    _ => continue,
                };
                let made_one = api.post(&path, &body).await?;
                println!("{} created", table::name_of(&made_one));
                made += 1;
            }
            if made == 0 {
                anyhow::bail!(
                    "the files hold nothing to create here ({})",
                    match kind {
                        Stored::Template => "WorkflowTemplates or ClusterWorkflowTemplates",
                        Stored::Cron => "CronWorkflows",
                    }
                );
            }
            Ok(0)
        }
        StoredCmd::List { conn, output } => {
            let api = Api::new(&conn.server, conn.token.as_deref());
            let mut items = api.get(&stored_path(kind, &conn.namespace)).await?["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if kind == Stored::Template {
                let cluster = api.get("/api/v1/cluster-workflow-templates").await?;
                items.extend(cluster["items"].as_array().cloned().unwrap_or_default());
            }
            match output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&items)?),
                Output::Name => items.iter().for_each(|t| println!("{}", table::name_of(t))),
                Output::Text => print!("{}", table::stored(&items)),
            }
            Ok(0)
        }
        StoredCmd::Get { conn, name } => {
            let api = Api::new(&conn.server, conn.token.as_deref());
            let path = format!("{}/{name}", stored_path(kind, &conn.namespace));
            let found = match api.get(&path).await {
                Err(ClientError::Server { status: 404, .. }) if kind == Stored::Template => {
                    api.get(&format!("/api/v1/cluster-workflow-templates/{name}"))
                        .await?
                }
                other => other?,
            };
            println!("{}", serde_json::to_string_pretty(&found)?);
            Ok(0)
        }
        StoredCmd::Delete { conn, names } => {
            let api = Api::new(&conn.server, conn.token.as_deref());
            for n in names {
                api.delete(&format!("{}/{n}", stored_path(kind, &conn.namespace)))
                    .await?;
                println!("{n} deleted");
            }
            Ok(0)
        }
        StoredCmd::Suspend { conn, names } | StoredCmd::Resume { conn, names }
            if kind == Stored::Template =>
        {
            let _ = (conn, names);
            anyhow::bail!("only cron workflows can be suspended and resumed: use `trellis cron`")
        }
        StoredCmd::Suspend { conn, names } => cron_toggle(&conn, &names, "suspend").await,
        StoredCmd::Resume { conn, names } => cron_toggle(&conn, &names, "resume").await,
    }
}

async fn cron_toggle(conn: &Conn, names: &[String], what: &str) -> anyhow::Result<u8> {
    let api = Api::new(&conn.server, conn.token.as_deref());
    for n in names {
        api.put(
            &format!("/api/v1/cron-workflows/{}/{n}/{what}", conn.namespace),
            &json!({}),
        )
        .await?;
        println!("cron workflow {n} {what}d");
    }
    Ok(0)
}
