//! History rows, duration statistics and the runs × steps grid.

use super::*;

fn wf(v: serde_json::Value) -> Workflow {
    serde_json::from_value(v).unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-01-01T12:00:00Z".parse().unwrap()
}

fn run(
    name: &str,
    number: &str,
    phase: &str,
    started: &str,
    finished: Option<&str>,
    steps: &[(&str, &str, &str)],
) -> Workflow {
    let nodes: serde_json::Map<String, serde_json::Value> = steps
        .iter()
        .map(|(step, phase, start)| {
            (
                format!("{name}-{step}"),
                serde_json::json!({"id": format!("{name}-{step}"), "name": format!("{name}{step}"),
                    "type": "Pod", "phase": phase, "startedAt": start}),
            )
        })
        .collect();
    wf(serde_json::json!({
        "metadata": {"name": name, "namespace": "ci", "labels": {"trellis.dev/run-number": number}},
        "spec": {"arguments": {"parameters": [{"name": "rev", "value": "v1"}, {"name": "env", "default": "dev"}]}},
        "status": {"phase": phase, "startedAt": started, "finishedAt": finished, "nodes": nodes}
    }))
}

#[test]
fn rows_carry_number_duration_trigger_and_parameters() {
    let r = summarize(
        &run(
            "b-1",
            "7",
            "Succeeded",
            "2026-01-01T10:00:00Z",
            Some("2026-01-01T10:01:30Z"),
            &[],
        ),
        now(),
    );
    assert_eq!(r.number, Some(7));
    assert_eq!(r.duration_seconds, Some(90));
    assert_eq!(r.phase, "Succeeded");
    assert_eq!(r.trigger, Trigger::Manual { by: None });
    assert_eq!(
        r.parameters,
        [
            ("rev".to_string(), "v1".to_string()),
            ("env".into(), "dev".into())
        ]
    );
    let running = summarize(
        &run("b-2", "8", "Running", "2026-01-01T11:59:00Z", None, &[]),
        now(),
    );
    assert_eq!(
        running.duration_seconds,
        Some(60),
        "a running run is measured up to now"
    );
    let cron = summarize(
        &wf(
            serde_json::json!({"metadata": {"name": "n-1", "labels": {"workflows.argoproj.io/cron-workflow": "nightly"},
            "annotations": {"workflows.argoproj.io/scheduled-time": "2026-01-01T02:00:00Z"}}}),
        ),
        now(),
    );
    assert_eq!(
        cron.trigger,
        Trigger::Cron {
            name: "nightly".into(),
            scheduled: Some("2026-01-01T02:00:00Z".into())
        }
    );
    assert_eq!(cron.phase, "Pending");
    let json = serde_json::to_value(&cron.trigger).unwrap();
    assert_eq!(json["kind"], "cron");
}

#[test]
fn stats_are_median_and_nearest_rank_p90_of_finished_runs() {
    let rows: Vec<RunSummary> = (1..=10)
        .map(|i| {
            let mut r = summarize(
                &run(
                    "x",
                    "1",
                    "Succeeded",
                    "2026-01-01T10:00:00Z",
                    Some("2026-01-01T10:00:00Z"),
                    &[],
                ),
                now(),
            );
            r.duration_seconds = Some(i * 10);
            r
        })
        .collect();
    let s = duration_stats(&rows);
    assert_eq!(
        (s.runs, s.median_seconds, s.p90_seconds),
        (10, Some(55), Some(90))
    );
    assert!(s.is_slow(91) && !s.is_slow(90));
    let few = duration_stats(&rows[..3]);
    assert_eq!((few.median_seconds, few.p90_seconds), (Some(20), Some(30)));
    assert!(!few.is_slow(1000), "too few runs to call one slow");
    assert_eq!(duration_stats(&[]).median_seconds, None);
}

#[test]
fn the_grid_has_a_column_per_run_and_a_row_per_step_in_run_order() {
    let newer = run(
        "b-2",
        "2",
        "Failed",
        "2026-01-01T11:00:00Z",
        Some("2026-01-01T11:05:00Z"),
        &[
            ("[0].build", "Succeeded", "2026-01-01T11:00:00Z"),
            ("[1].test", "Failed", "2026-01-01T11:01:00Z"),
        ],
    );
    let older = run(
        "b-1",
        "1",
        "Succeeded",
        "2026-01-01T10:00:00Z",
        Some("2026-01-01T10:05:00Z"),
        &[
            ("[0].build", "Succeeded", "2026-01-01T10:00:00Z"),
            ("[1].test", "Succeeded", "2026-01-01T10:01:00Z"),
            ("[2].deploy", "Succeeded", "2026-01-01T10:03:00Z"),
        ],
    );
    let g = grid(&[newer, older], now());
    assert_eq!(
        g.runs.iter().map(|r| r.number).collect::<Vec<_>>(),
        [Some(2), Some(1)]
    );
    let steps: Vec<&str> = g.rows.iter().map(|r| r.step.as_str()).collect();
    assert_eq!(steps, ["[0].build", "[1].test", "[2].deploy"]);
    let phases = |row: &GridRow| {
        row.cells
            .iter()
            .map(|c| c.as_ref().map(|c| c.phase.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        phases(&g.rows[1]),
        [Some("Failed".to_string()), Some("Succeeded".to_string())]
    );
    assert_eq!(
        phases(&g.rows[2]),
        [None, Some("Succeeded".to_string())],
        "deploy did not run in #2"
    );
    assert_eq!(g.rows[1].cells[0].as_ref().unwrap().node_id, "b-2-[1].test");
}

#[test]
fn template_rows_say_their_health_in_words() {
    let row = |phase: &str, secs: i64| {
        let mut r = summarize(
            &run(
                "x",
                "1",
                phase,
                "2026-01-01T10:00:00Z",
                Some("2026-01-01T10:00:00Z"),
                &[],
            ),
            now(),
        );
        r.duration_seconds = Some(secs);
        r
    };
    let recent = vec![
        row("Succeeded", 30),
        row("Failed", 20),
        row("Succeeded", 10),
        row("Succeeded", 12),
        row("Succeeded", 11),
        row("Failed", 99),
    ];
    let t = template_runs(&recent, Some(recent[0].clone()), Some(recent[1].clone()));
    let h = t.health.unwrap();
    assert_eq!(
        (h.passed, h.of, h.text.as_str()),
        (4, 5, "4 of the last 5 runs passed")
    );
    assert_eq!(t.durations, [99, 11, 12, 10, 20, 30], "oldest first");
    for (phases, want) in [
        (vec!["Succeeded"], "the last run passed"),
        (vec!["Error"], "the last run failed"),
        (
            vec!["Succeeded", "Succeeded"],
            "all of the last 2 runs passed",
        ),
        (
            vec!["Failed", "Error", "Failed"],
            "none of the last 3 runs passed",
        ),
    ] {
        let rows: Vec<RunSummary> = phases.iter().map(|p| row(p, 1)).collect();
        assert_eq!(template_runs(&rows, None, None).health.unwrap().text, want);
    }
    assert!(template_runs(&[], None, None).health.is_none());
}
