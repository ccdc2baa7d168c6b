//! Fire times (against robfig/cron's documented behaviour), catch-up, decisions and history.

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn cron(yaml: serde_json::Value) -> CronWorkflow {
    serde_json::from_value(yaml).unwrap()
}

#[test]
fn next_fire_times_follow_robfig() {
    let cases: &[(&str, Option<&str>, &str, Option<&str>)] = &[
        (
            "*/15 * * * *",
            None,
            "2026-01-01T10:07:30Z",
            Some("2026-01-01T10:15:00Z"),
        ),
        (
            "0 2 * * *",
            None,
            "2026-01-01T02:00:00Z",
            Some("2026-01-02T02:00:00Z"),
        ),
        (
            "0 9 * * MON-FRI",
            None,
            "2026-01-02T10:00:00Z",
            Some("2026-01-05T09:00:00Z"),
        ),
        // Day of month OR day of week when neither is `*`; AND when one is.
        (
            "0 0 13 * FRI",
            None,
            "2026-02-01T00:00:00Z",
            Some("2026-02-06T00:00:00Z"),
        ),
        (
            "0 0 13 * *",
            None,
            "2026-02-01T00:00:00Z",
            Some("2026-02-13T00:00:00Z"),
        ),
        (
            "@hourly",
            None,
            "2026-01-01T10:30:00Z",
            Some("2026-01-01T11:00:00Z"),
        ),
        (
            "@every 90s",
            None,
            "2026-01-01T10:00:00.5Z",
            Some("2026-01-01T10:01:30Z"),
        ),
        (
            "@every 100ms",
            None,
            "2026-01-01T10:00:00Z",
            Some("2026-01-01T10:00:01Z"),
        ),
        (
            "0 2 * * *",
            Some("Europe/Paris"),
            "2026-01-01T00:00:00Z",
            Some("2026-01-01T01:00:00Z"),
        ),
        (
            "CRON_TZ=America/New_York 0 9 * * *",
            Some("Europe/Paris"),
            "2026-01-01T00:00:00Z",
            Some("2026-01-01T14:00:00Z"),
        ),
        // Spring forward in Paris (2026-03-29, 02:00 → 03:00): 02:30 does not exist that day.
        (
            "30 2 * * *",
            Some("Europe/Paris"),
            "2026-03-28T12:00:00Z",
            Some("2026-03-30T00:30:00Z"),
        ),
        // Fall back (2026-10-25, 03:00 → 02:00): 02:30 happens twice, and fires twice.
        (
            "30 2 * * *",
            Some("Europe/Paris"),
            "2026-10-24T12:00:00Z",
            Some("2026-10-25T00:30:00Z"),
        ),
        (
            "30 2 * * *",
            Some("Europe/Paris"),
            "2026-10-25T00:30:00Z",
            Some("2026-10-25T01:30:00Z"),
        ),
        (
            "0 0 1 1 *",
            None,
            "2026-06-01T00:00:00Z",
            Some("2027-01-01T00:00:00Z"),
        ),
        ("0 0 30 2 *", None, "2026-01-01T00:00:00Z", None),
    ];
    for (text, zone, after, want) in cases {
        let s = Schedule::parse(text, *zone).unwrap();
        let got = s.next(at(after));
        assert_eq!(got, want.map(at), "{text} in {zone:?} after {after}");
    }
    assert!(Schedule::parse("0 2 * * *", Some("Mars/Olympus")).is_err());
    assert!(Schedule::parse("0 25 * * *", None).is_err());
}

#[test]
fn a_tick_owes_the_latest_fire_time_and_a_restart_catches_up_within_the_deadline() {
    let s = vec![Schedule::parse("*/10 * * * *", None).unwrap()];
    assert_eq!(
        latest_due(&s, at("2026-01-01T10:00:00Z"), at("2026-01-01T10:35:00Z")),
        Some(at("2026-01-01T10:30:00Z"))
    );
    assert_eq!(
        latest_due(&s, at("2026-01-01T10:30:00Z"), at("2026-01-01T10:35:00Z")),
        None
    );
    assert_eq!(
        latest_due(&s, at("2026-01-01T10:29:59Z"), at("2026-01-01T10:30:00Z")),
        Some(at("2026-01-01T10:30:00Z")),
        "the end is included"
    );
    let with = |deadline: Option<i64>, last: &str| {
        cron(serde_json::json!({
            "metadata": {"name": "c"},
            "spec": {"schedule": "*/10 * * * *", "startingDeadlineSeconds": deadline, "workflowSpec": {}},
            "status": {"lastScheduledTime": last}
        }))
    };
    let now = at("2026-01-01T10:35:00Z");
    assert_eq!(
        missed_run(&with(Some(600), "2026-01-01T10:00:00Z"), &s, now),
        Some(at("2026-01-01T10:30:00Z"))
    );
    assert_eq!(
        missed_run(&with(Some(60), "2026-01-01T10:00:00Z"), &s, now),
        None,
        "past the deadline"
    );
    assert_eq!(
        missed_run(&with(None, "2026-01-01T10:00:00Z"), &s, now),
        None,
        "no deadline, no catch-up"
    );
    assert_eq!(
        missed_run(&with(Some(600), "2026-01-01T10:30:00Z"), &s, now),
        None,
        "already run"
    );
    assert_eq!(
        run_name("nightly", at("2026-01-01T10:30:00Z")),
        "nightly-1767263400"
    );
}

#[test]
fn decisions_follow_suspend_stop_strategy_when_and_concurrency() {
    let base = |extra: serde_json::Value| {
        let mut v = serde_json::json!({"metadata": {"name": "c"}, "spec": {"schedule": "* * * * *", "workflowSpec": {}},
                                        "status": {"failed": 2, "succeeded": 5}});
        for (k, val) in extra.as_object().unwrap() {
            v["spec"][k] = val.clone();
        }
        cron(v)
    };
    let run = Verdict::Run { replace: vec![] };
    let active = vec!["c-1".to_string()];
    let cases: Vec<(serde_json::Value, Vec<String>, Verdict, bool)> = vec![
        (serde_json::json!({}), active.clone(), run.clone(), false),
        (
            serde_json::json!({"suspend": true}),
            vec![],
            Verdict::Skip("the CronWorkflow is suspended".into()),
            false,
        ),
        (
            serde_json::json!({"concurrencyPolicy": "Forbid"}),
            vec![],
            run.clone(),
            false,
        ),
        (
            serde_json::json!({"concurrencyPolicy": "Forbid"}),
            active.clone(),
            Verdict::Skip("concurrencyPolicy Forbid and c-1 still running".into()),
            false,
        ),
        (
            serde_json::json!({"concurrencyPolicy": "Replace"}),
            active.clone(),
            Verdict::Run {
                replace: active.clone(),
            },
            false,
        ),
        (
            serde_json::json!({"when": "cronworkflow.succeeded > 3"}),
            vec![],
            run.clone(),
            false,
        ),
        (
            serde_json::json!({"when": "{{= cronworkflow.failed == 0 }}"}),
            vec![],
            Verdict::Skip("`when` is false".into()),
            false,
        ),
        (
            serde_json::json!({"when": "{{cronworkflow.name}} == 'c'"}),
            vec![],
            Verdict::Skip("`when` is false".into()),
            false,
        ),
        (
            serde_json::json!({"when": "'{{cronworkflow.name}}' == 'c'"}),
            vec![],
            run.clone(),
            false,
        ),
        (
            serde_json::json!({"stopStrategy": {"expression": "cronworkflow.failed >= 2"}}),
            vec![],
            Verdict::Skip("the CronWorkflow met its stop strategy".into()),
            true,
        ),
        (
            serde_json::json!({"stopStrategy": {"expression": "cronworkflow.failed >= 3"}}),
            vec![],
            run.clone(),
            false,
        ),
    ];
    for (spec, active, want, stop) in cases {
        let d = decide(&base(spec.clone()), &active).unwrap();
        assert_eq!((d.verdict, d.stop), (want, stop), "{spec}");
    }
    let err = decide(
        &base(serde_json::json!({"concurrencyPolicy": "Sometimes"})),
        &[],
    )
    .unwrap_err();
    assert!(
        err.contains("invalid concurrencyPolicy \"Sometimes\""),
        "{err}"
    );
    let err = decide(&base(serde_json::json!({"when": "1 +"})), &[]).unwrap_err();
    assert!(err.starts_with("when \"1 +\""), "{err}");
}

#[test]
fn history_limits_keep_the_newest_runs() {
    let run = |n: &str, phase: WorkflowPhase, t: &str| FinishedRun {
        name: n.into(),
        phase,
        finished_at: t.into(),
    };
    let runs = vec![
        run("s1", WorkflowPhase::Succeeded, "2026-01-01T01:00:00Z"),
        run("s2", WorkflowPhase::Succeeded, "2026-01-01T02:00:00Z"),
        run("f1", WorkflowPhase::Failed, "2026-01-01T03:00:00Z"),
        run("s3", WorkflowPhase::Succeeded, "2026-01-01T04:00:00Z"),
        run("e1", WorkflowPhase::Error, "2026-01-01T05:00:00Z"),
        run("s4", WorkflowPhase::Succeeded, "2026-01-01T06:00:00Z"),
    ];
    let c = |s: Option<i32>, f: Option<i32>| {
        cron(
            serde_json::json!({"metadata": {"name": "c"}, "spec": {"schedule": "@daily",
            "successfulJobsHistoryLimit": s, "failedJobsHistoryLimit": f}}),
        )
    };
    assert_eq!(beyond_history(&c(None, None), &runs), ["s1", "f1"]);
    assert_eq!(
        beyond_history(&c(Some(0), Some(5)), &runs),
        ["s4", "s3", "s2", "s1"]
    );
    assert!(beyond_history(&c(Some(10), Some(10)), &runs).is_empty());
}
