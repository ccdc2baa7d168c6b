//! The progress renderer: snapshots of realistic workflows as `trellis get` prints them,
//! the tree rules behind them, and node ids and pod names checked against values Argo
//! itself recorded (its docs and test fixtures).

#[path = "progress/fixtures.rs"]
mod fixtures;

use chrono::{DateTime, Duration, Utc};
use engine::model::Workflow;
use engine::progress::{
    PodNameVersion, ProgressError, RenderOptions, human_duration, node_id, parse_timestamp,
    pod_name, pod_name_with_version, render,
};

/// The clock of every test: 3m 20s after the fixtures' workflows started.
const NOW: &str = "2024-05-01T10:03:20Z";

fn now() -> DateTime<Utc> {
    parse_timestamp(NOW).unwrap()
}

fn workflow(yaml: &str) -> Workflow {
    let nodes = engine::yaml::parse_stream(yaml).unwrap();
    let outcome = engine::yaml::de::from_node::<Workflow>(&nodes[0]);
    assert!(outcome.unknown.is_empty(), "{:?}", outcome.unknown);
    outcome.value.unwrap()
}

fn plain() -> RenderOptions {
    RenderOptions {
        color: false,
        width: None,
        show_header: true,
    }
}

fn rendered(yaml: &str) -> String {
    render(&workflow(yaml), now(), &plain())
}

/// The table row whose STEP cell ends with `icon name`.
fn row<'a>(out: &'a str, icon_and_name: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(&format!("{icon_and_name} ")) || l.ends_with(icon_and_name))
        .unwrap_or_else(|| panic!("no row {icon_and_name:?} in\n{out}"))
}

/// `text` without its ANSI colour escapes.
fn strip_colours(text: &str) -> String {
    regex::Regex::new("\x1b\\[[0-9]+m")
        .unwrap()
        .replace_all(text, "")
        .into_owned()
}

fn position(out: &str, needle: &str) -> usize {
    out.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{out}"))
}

#[test]
fn snapshots() {
    for (name, yaml) in [
        ("steps_loop", fixtures::STEPS_LOOP),
        ("dag_diamond", fixtures::DAG_DIAMOND),
        ("retries", fixtures::RETRIES),
        ("suspended", fixtures::SUSPENDED),
        ("on_exit", fixtures::ON_EXIT),
        ("running", fixtures::RUNNING),
    ] {
        insta::assert_snapshot!(name, rendered(yaml));
    }
}

#[test]
fn loop_iterations_started_together_follow_their_index() {
    let out = rendered(fixtures::STEPS_LOOP);
    let rows: Vec<usize> = (0..11)
        .map(|i| position(&out, &format!("print({i}:{i})")))
        .collect();
    assert!(rows.windows(2).all(|w| w[0] + 1 == w[1]), "{out}");
    // Step groups are not rows: `[1]` fans out to the iterations instead.
    assert!(!out.contains("[1]"), "{out}");
    assert!(row(&out, "✔ print(0:0)").starts_with(" ├─┬─✔ print(0:0)"));
    assert!(row(&out, "✔ print(5:5)").starts_with(" │ ├─✔ print(5:5)"));
    assert!(row(&out, "✔ print(10:10)").starts_with(" │ └─✔ print(10:10)"));
    assert!(row(&out, "✔ summarize").starts_with(" └───✔ summarize"));
    assert!(out.contains("Output Parameters:"));
    assert!(out.contains("  total:             55"), "{out}");
}

#[test]
fn failed_dag_task_shows_its_message_and_omitted_tasks_are_hidden() {
    let out = rendered(fixtures::DAG_DIAMOND);
    let b = row(&out, "✖ B");
    assert!(b.ends_with("Error (exit code 1)"), "{b}");
    assert!(b.contains("dag-diamond-4fj9w-echo-"), "{b}");
    assert!(row(&out, "○ cleanup").contains("when 'false' evaluated false"));
    assert!(!out.contains(" D "), "omitted D must not be shown:\n{out}");
    assert!(out.contains("Status:              Failed\n"), "{out}");
    assert!(
        out.contains("ServiceAccount:      workflow-runner\n"),
        "{out}"
    );
    assert!(out.contains("  message:           hello\n"), "{out}");
    assert!(
        !out.contains("unset"),
        "parameters without a value are not listed"
    );
    // Siblings in the DAG follow their start times.
    assert!(position(&out, "✔ A") < position(&out, "✖ B"));
    assert!(position(&out, "✖ B") < position(&out, "✔ notify"));
}

#[test]
fn retry_nodes_show_their_attempts_unless_there_is_only_one() {
    let out = rendered(fixtures::RETRIES);
    assert!(row(&out, "✔ flaky").starts_with(" ├───✔ flaky"));
    assert!(row(&out, "✖ flaky(0)").starts_with(" │   ├─✖ flaky(0)"));
    assert!(row(&out, "✔ flaky(2)").starts_with(" │   └─✔ flaky(2)"));
    // `stable` had one attempt: the attempt takes the retry node's place. It started
    // with `lint`, so the two follow their names.
    assert!(row(&out, "✔ lint").starts_with(" └─┬─✔ lint"));
    assert!(row(&out, "✔ stable(0)").starts_with("   └─✔ stable(0)"));
    assert!(!out.contains("✔ stable "), "{out}");
    let lint = row(&out, "✔ lint");
    assert!(lint.contains("ci-library/lint"), "{lint}");
    assert!(lint.contains("retry-backoff-m2x8d-lint-"), "{lint}");
}

#[test]
fn a_running_suspend_node_reads_as_waiting() {
    let out = rendered(fixtures::SUSPENDED);
    assert!(
        out.contains("Status:              Running (Suspended)\n"),
        "{out}"
    );
    let approve = row(&out, "ǁ approve");
    assert!(approve.ends_with("waiting to be resumed"), "{approve}");
    assert!(out.contains("Duration:            3m 20s\n"), "{out}");
    assert!(!out.contains("Finished:"));
}

#[test]
fn the_exit_handler_follows_the_main_tree_after_a_blank_line() {
    let out = rendered(fixtures::ON_EXIT);
    let main = position(&out, "✖ exit-handlers-h5t2w ");
    let exit = position(&out, "✔ exit-handlers-h5t2w.onExit");
    assert_eq!(out.lines().nth(main + 1), Some(""), "{out}");
    assert_eq!(exit, main + 2, "{out}");
    // The three steps started together: they follow their names.
    assert!(
        row(&out, "○ celebrate").starts_with(" └─┬─○ celebrate"),
        "{out}"
    );
    assert!(row(&out, "✔ cry").starts_with("   ├─✔ cry"), "{out}");
    assert!(row(&out, "✔ notify").starts_with("   └─✔ notify"), "{out}");
    // The root is a pod: its pod is named after the workflow.
    let root: Vec<&str> = row(&out, "✖ exit-handlers-h5t2w")
        .split_whitespace()
        .collect();
    assert_eq!(
        root[..5],
        [
            "✖",
            "exit-handlers-h5t2w",
            "intentional-fail",
            "exit-handlers-h5t2w",
            "9s"
        ]
    );
}

#[test]
fn running_nodes_are_timed_up_to_now_and_task_groups_are_not_rows() {
    let out = rendered(fixtures::RUNNING);
    assert!(row(&out, "● upload").contains("  1m 44s"), "{out}");
    assert!(
        row(&out, "● test(1:integration)").contains("  3m 7s"),
        "{out}"
    );
    assert!(
        row(&out, "◷ test(2:e2e)").ends_with("PodInitializing"),
        "{out}"
    );
    assert!(row(&out, "✔ test(0:unit)").contains("  57s"), "{out}");
    assert!(
        !out.contains("● test "),
        "the TaskGroup is not a row:\n{out}"
    );
    assert!(out.contains("EstimatedDuration:   5m 0s\n"), "{out}");
    assert!(
        out.contains("Created:             2024-05-01T09:59:59Z\n"),
        "{out}"
    );
    // Nested steps inside the DAG: its groups fan out under the `build` row.
    assert!(row(&out, "● build").starts_with(" └─● build"), "{out}");
    assert!(
        row(&out, "✔ compile").starts_with("   ├───✔ compile"),
        "{out}"
    );
    assert!(
        row(&out, "● upload").starts_with("   └───● upload"),
        "{out}"
    );
    // Loop iterations hang from the DAG in index order, before `build` which started later.
    assert!(
        row(&out, "✔ test(0:unit)").starts_with(" ├─✔ test(0:unit)"),
        "{out}"
    );
}

#[test]
fn progress_is_summed_from_the_nodes_when_the_status_has_none() {
    for yaml in [
        fixtures::STEPS_LOOP,
        fixtures::DAG_DIAMOND,
        fixtures::RETRIES,
        fixtures::SUSPENDED,
        fixtures::ON_EXIT,
        fixtures::RUNNING,
    ] {
        let mut wf = workflow(yaml);
        let status = wf.status.as_mut().unwrap();
        let recorded = status.progress.take().unwrap();
        let out = render(&wf, now(), &plain());
        let line = format!("Progress:            {recorded}\n");
        assert!(out.contains(&line), "expected {line:?} in\n{out}");
    }
}

#[test]
fn columns_line_up() {
    let out = render(
        &workflow(fixtures::RUNNING),
        now(),
        &RenderOptions {
            show_header: false,
            ..plain()
        },
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("STEP "), "{out}");
    let column = |l: &str, text: &str| l.find(text).map(|b| l[..b].chars().count());
    let template = column(lines[0], "TEMPLATE").unwrap();
    for line in &lines[1..] {
        let cell = line.chars().nth(template - 2);
        assert_eq!(
            cell,
            Some(' '),
            "the gap before TEMPLATE is blank in {line:?}"
        );
    }
    let pod = column(lines[0], "PODNAME").unwrap();
    let upload = row(&out, "● upload");
    assert_eq!(column(upload, "ci-pipeline-q8w3n-upload-"), Some(pod));
    assert!(out.lines().all(|l| l == l.trim_end()), "no trailing spaces");
}

#[test]
fn colours_mark_icons_and_the_phase_only_when_asked() {
    let wf = workflow(fixtures::DAG_DIAMOND);
    let coloured = render(
        &wf,
        now(),
        &RenderOptions {
            color: true,
            ..plain()
        },
    );
    for painted in ["\x1b[32m✔\x1b[0m", "\x1b[31m✖\x1b[0m", "\x1b[90m○\x1b[0m"] {
        assert!(coloured.contains(painted), "{painted:?} missing");
    }
    assert!(coloured.contains("\x1b[31mFailed\x1b[0m"));
    let running = render(
        &workflow(fixtures::RUNNING),
        now(),
        &RenderOptions {
            color: true,
            ..plain()
        },
    );
    assert!(running.contains("\x1b[34m●\x1b[0m") && running.contains("\x1b[33m◷\x1b[0m"));
    assert!(!render(&wf, now(), &plain()).contains('\x1b'));
    // Colour changes no text: stripping the escapes gives the plain rendering.
    let stripped = strip_colours(&coloured);
    assert_eq!(stripped, render(&wf, now(), &plain()));
}

#[test]
fn lines_are_cut_to_the_width() {
    for width in [0, 1, 10, 40, 60] {
        let opts = RenderOptions {
            width: Some(width),
            color: true,
            ..plain()
        };
        let out = render(&workflow(fixtures::RETRIES), now(), &opts);
        let stripped = strip_colours(&out);
        for line in stripped.lines() {
            assert!(line.chars().count() <= width, "{line:?} wider than {width}");
        }
        assert_eq!(
            out.matches("\x1b[0m").count(),
            out.matches('\x1b').count() / 2
        );
        if width > 0 {
            assert!(stripped.lines().any(|l| l.ends_with('…')));
        }
    }
    let wide = render(
        &workflow(fixtures::RETRIES),
        now(),
        &RenderOptions {
            width: Some(500),
            ..plain()
        },
    );
    assert_eq!(wide, rendered(fixtures::RETRIES));
}

#[test]
fn a_workflow_without_nodes_has_only_a_header() {
    let wf = workflow("metadata:\n  name: fresh\n  namespace: argo\n");
    let out = render(&wf, now(), &plain());
    assert_eq!(
        out,
        "Name:                fresh\nNamespace:           argo\nStatus:              Unknown\nProgress:            0/0\n"
    );
    let table_only = RenderOptions {
        show_header: false,
        ..plain()
    };
    assert_eq!(render(&wf, now(), &table_only), "");
}

#[test]
fn pod_name_format_v1_names_pods_after_node_ids() {
    let mut wf = workflow(fixtures::STEPS_LOOP);
    let meta = wf.metadata.as_mut().unwrap();
    meta.annotations = Some(
        [(
            "workflows.argoproj.io/pod-name-format".to_owned(),
            "v1".to_owned(),
        )]
        .into(),
    );
    let out = render(&wf, now(), &plain());
    let id = node_id("loops-7xk2q", "loops-7xk2q[2].summarize");
    assert!(
        row(&out, "✔ summarize").contains(&format!("  {id}  ")),
        "{out}"
    );
}

#[test]
fn malformed_statuses_render_without_looping_or_panicking() {
    let yaml = r#"
metadata: {name: odd}
status:
  phase: Running
  startedAt: yesterday
  nodes:
    odd: {id: odd, name: odd, type: Steps, phase: Running, startedAt: "not a time", children: [g]}
    g: {id: g, name: "odd[0]", type: StepGroup, boundaryID: odd, children: [odd, p, q]}
    p: {id: p, name: "odd[0].p", displayName: "p\nx", type: Pod, boundaryID: odd, finishedAt: "2024-05-01T10:00:00Z"}
    q: {id: q, name: "odd[0].q", type: Retry, boundaryID: odd, children: [p]}
    lost: {id: lost, name: lost, type: Pod, boundaryID: nowhere}
    untyped: {id: untyped, name: untyped, boundaryID: odd}
"#;
    let out = render(&workflow(yaml), now(), &plain());
    assert!(out.contains("Started:             yesterday\n"), "{out}");
    assert!(!out.contains("Duration:"), "{out}");
    assert_eq!(out.matches("◷ p x").count(), 1, "{out}");
    assert!(!out.contains("lost") && !out.contains("untyped"), "{out}");
}

#[test]
fn node_ids_match_those_argo_recorded() {
    // Pairs from Argo's docs (walk-through/steps.md, with v1 pod names, which are node ids)
    // and from its controller test fixtures (`name:` beside `id:`).
    let cases = [
        ("steps-z2zdn", "steps-z2zdn", "steps-z2zdn"),
        (
            "steps-z2zdn",
            "steps-z2zdn[0].hello1",
            "steps-z2zdn-27420706",
        ),
        (
            "steps-z2zdn",
            "steps-z2zdn[1].hello2a",
            "steps-z2zdn-2006760091",
        ),
        (
            "steps-z2zdn",
            "steps-z2zdn[1].hello2b",
            "steps-z2zdn-2023537710",
        ),
        (
            "hello-world-647r7",
            "hello-world-647r7.onExit",
            "hello-world-647r7-206029318",
        ),
        (
            "exit-handlers-n7s4n",
            "exit-handlers-n7s4n.onExit",
            "exit-handlers-n7s4n-1410405845",
        ),
        (
            "test-workflow-with-retry-strategy8h899",
            "test-workflow-with-retry-strategy8h899[0].Execute.Python2Compile.onExit",
            "test-workflow-with-retry-strategy8h899-3756356520",
        ),
        (
            "many-items-z26lj",
            "many-items-z26lj[0].sleep(9:nine)",
            "many-items-z26lj-2619926859",
        ),
        (
            "many-items-z26lj",
            "many-items-z26lj[0].sleep(10:ten)",
            "many-items-z26lj-1052882686",
        ),
    ];
    for (workflow, name, id) in cases {
        assert_eq!(node_id(workflow, name), id, "{name}");
    }
}

#[test]
fn pod_names_match_those_argo_recorded() {
    // `two-artgc-8tcvt-first-802059674` is a pod name Argo's artifact GC fixture stored in
    // an artifact key (`{{workflow.name}}/{{pod.name}}`); the others reuse the hashes of
    // node ids Argo recorded, as v2 pod names end with the same hash of the node name.
    let cases = [
        (
            "two-artgc-8tcvt",
            "two-artgc-8tcvt[0].call-first",
            "first",
            "two-artgc-8tcvt-first-802059674",
        ),
        (
            "many-items-z26lj",
            "many-items-z26lj[0].sleep(9:nine)",
            "sleep",
            "many-items-z26lj-sleep-2619926859",
        ),
        (
            "steps-z2zdn",
            "steps-z2zdn[0].hello1",
            "print-message",
            "steps-z2zdn-print-message-27420706",
        ),
        (
            "steps-z2zdn",
            "steps-z2zdn[0].hello1",
            "",
            "steps-z2zdn-27420706",
        ),
        ("steps-z2zdn", "steps-z2zdn", "main", "steps-z2zdn"),
    ];
    for (workflow, node, template, pod) in cases {
        let id = node_id(workflow, node);
        assert_eq!(pod_name(workflow, node, template, &id), pod, "{node}");
        let v1 = pod_name_with_version(workflow, node, template, &id, PodNameVersion::V1);
        assert_eq!(v1, id);
    }
}

#[test]
fn long_pod_name_prefixes_are_cut_to_fit_253_characters() {
    // The names of Argo's own long-name test.
    let workflow = "alongworkflownamethatincludeslotsofdetailsandisessentiallyalargerunonsentencewithpoorstyleandnopunctuationtobehadwhatsoever";
    let template = "alongtemplatenamethatincludessliightlymoredetailsandiscertainlyalargerunonstnencewithevenworsestylisticconcernsandpreposterouslyeliminatespunctuation";
    let name = pod_name(workflow, "steps-z2zdn[0].hello1", template, "1");
    let prefix = format!("{workflow}-{template}");
    assert_eq!(name, format!("{}-27420706", &prefix[..242]));
    assert!(name.len() <= 253);
    // Multi-byte characters are never split.
    let wide = "é".repeat(200);
    let name = pod_name(&wide, "steps-z2zdn[0].hello1", "t", "1");
    assert_eq!(name, format!("{}-27420706", "é".repeat(121)));
}

#[test]
fn durations_read_in_their_two_largest_units() {
    let cases = [
        (-5, "0s"),
        (0, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "1m 0s"),
        (90, "1m 30s"),
        (3_599, "59m 59s"),
        (3_600, "1h 0m"),
        (3_720, "1h 2m"),
        (86_399, "23h 59m"),
        (86_400, "1d 0h"),
        (93_600, "1d 2h"),
    ];
    for (secs, text) in cases {
        assert_eq!(human_duration(Duration::seconds(secs)), text, "{secs}s");
    }
    assert_eq!(human_duration(Duration::milliseconds(1_999)), "1s");
}

#[test]
fn timestamps_must_be_rfc_3339() {
    let t = parse_timestamp("2024-05-01T12:00:00+02:00").unwrap();
    assert_eq!(t, parse_timestamp("2024-05-01T10:00:00Z").unwrap());
    assert_eq!(
        parse_timestamp("May 1st"),
        Err(ProgressError::InvalidTimestamp("May 1st".into()))
    );
}

#[test]
fn deeply_nested_templates_render_without_recursion() {
    let depth = 3_000;
    let mut nodes = serde_json::Map::new();
    for level in 0..depth {
        let id = if level == 0 {
            "deep".to_owned()
        } else {
            format!("deep-{level}")
        };
        let mut node = serde_json::json!({
            "id": id, "name": id, "displayName": format!("level{level}"),
            "type": "DAG", "phase": "Running", "startedAt": "2024-05-01T10:00:00Z",
        });
        if level > 0 {
            let parent = if level == 1 {
                "deep".to_owned()
            } else {
                format!("deep-{}", level - 1)
            };
            node["boundaryID"] = parent.into();
        }
        nodes.insert(id, node);
    }
    let wf: Workflow = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "deep"},
        "status": {"phase": "Running", "nodes": nodes},
    }))
    .unwrap();
    let opts = RenderOptions {
        width: Some(80),
        show_header: false,
        ..plain()
    };
    let out = render(&wf, now(), &opts);
    assert_eq!(out.lines().count(), depth + 1);
    assert!(out.lines().last().unwrap().ends_with('…'));
    assert!(
        out.lines().nth(2).unwrap().starts_with(" └─● level1"),
        "{out:.300}"
    );
}

#[test]
fn the_status_line_reads_the_phase_as_argo_does() {
    let cases = [
        (
            "spec: {shutdown: Terminate}\nstatus: {phase: Failed}",
            "Failed (Terminated)",
        ),
        ("status: {phase: Failed}", "Failed"),
        (
            "spec: {suspend: true}\nstatus: {phase: Running}",
            "Running (Suspended)",
        ),
        ("status: {phase: Running}", "Running"),
        (
            "metadata: {creationTimestamp: \"2024-05-01T10:00:00Z\"}",
            "Pending",
        ),
        ("status: {phase: Pending}", "Unknown"),
        ("status: {phase: Error}", "Error"),
    ];
    for (yaml, status) in cases {
        let out = render(&workflow(yaml), now(), &plain());
        assert!(
            out.contains(&format!("Status:              {status}\n")),
            "{yaml}:\n{out}"
        );
    }
}
