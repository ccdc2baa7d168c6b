//! Tables the client commands print, as pure functions of the server's JSON.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// `metadata.name`.
pub fn name_of(v: &Value) -> String {
    v["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.to_utc())
}

/// Aligns rows into columns separated by two spaces.
fn columns(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `argo list`'s table: NAME, STATUS, AGE, DURATION, plus the run number and template.
pub fn workflows(items: &[Value], now: DateTime<Utc>, namespaces: bool) -> String {
    if items.is_empty() {
        return "No workflows found.\n".into();
    }
    let mut rows = vec![
        [
            namespaces.then_some("NAMESPACE"),
            Some("NAME"),
            Some("STATUS"),
            Some("AGE"),
            Some("DURATION"),
            Some("RUN"),
            Some("TEMPLATE"),
        ]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect::<Vec<_>>(),
    ];
    for w in items {
        let meta = &w["metadata"];
        let status = &w["status"];
        let phase = status["phase"]
            .as_str()
            .filter(|p| !p.is_empty())
            .unwrap_or("Pending");
        let age = time(&meta["creationTimestamp"])
            .map(|t| engine::progress::human_duration(now - t))
            .unwrap_or_default();
        let duration = time(&status["startedAt"])
            .map(|s| {
                let end = time(&status["finishedAt"]).unwrap_or(now);
                engine::progress::human_duration(end - s)
            })
            .unwrap_or_default();
        let labels = &meta["labels"];
        let template = [
            "workflows.argoproj.io/workflow-template",
            "workflows.argoproj.io/cluster-workflow-template",
            "workflows.argoproj.io/cron-workflow",
        ]
        .iter()
        .find_map(|l| labels[*l].as_str())
        .unwrap_or_default();
        let run = labels["trellis.dev/run-number"]
            .as_str()
            .filter(|_| !template.is_empty())
            .map(|n| format!("#{n}"))
            .unwrap_or_default();
        let mut row = Vec::new();
        if namespaces {
            row.push(meta["namespace"].as_str().unwrap_or_default().to_string());
        }
        row.extend([
            name_of(w),
            phase.to_string(),
            age,
            duration,
            run,
            template.to_string(),
        ]);
        rows.push(row);
    }
    columns(&rows)
}

/// Templates and cron workflows: NAME, KIND, and a cron's schedule and whether it is suspended.
pub fn stored(items: &[Value]) -> String {
    if items.is_empty() {
        return "None found.\n".into();
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "KIND".into(),
        "SCHEDULE".into(),
        "SUSPENDED".into(),
    ]];
    for t in items {
        let spec = &t["spec"];
        let schedule = spec["schedule"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                spec["schedules"].as_array().map(|s| {
                    s.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
            })
            .unwrap_or_default();
        let kind = t["kind"].as_str().unwrap_or_default().to_string();
        let suspended = if kind == "CronWorkflow" {
            spec["suspend"].as_bool().unwrap_or(false).to_string()
        } else {
            String::new()
        };
        rows.push(vec![name_of(t), kind, schedule, suspended]);
    }
    columns(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workflow_rows_show_phase_age_duration_and_run() {
        let now: DateTime<Utc> = "2026-01-01T01:00:00Z".parse().unwrap();
        let items = [
            json!({"metadata": {"name": "build-x", "namespace": "ci", "creationTimestamp": "2026-01-01T00:00:00Z",
                   "labels": {"workflows.argoproj.io/workflow-template": "build", "trellis.dev/run-number": "12"}},
                   "status": {"phase": "Succeeded", "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:01:30Z"}}),
            json!({"metadata": {"name": "adhoc", "namespace": "ci", "creationTimestamp": "2026-01-01T00:59:00Z",
                   "labels": {"trellis.dev/run-number": "3"}}}),
        ];
        let got = workflows(&items, now, false);
        let cells = |line: &str| -> Vec<String> {
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        };
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(
            cells(lines[0]),
            ["NAME", "STATUS", "AGE", "DURATION", "RUN", "TEMPLATE"]
        );
        assert_eq!(
            cells(lines[1]),
            ["build-x", "Succeeded", "1h 0m", "1m 30s", "#12", "build"]
        );
        assert_eq!(cells(lines[2]), ["adhoc", "Pending", "1m 0s"]);
        assert_eq!(
            lines[1].find("Succeeded"),
            lines[0].find("STATUS"),
            "aligned"
        );
        assert!(workflows(&items, now, true).starts_with("NAMESPACE  NAME"));
        assert_eq!(workflows(&[], now, false), "No workflows found.\n");
    }

    #[test]
    fn stored_rows_show_cron_schedules() {
        let items = [
            json!({"kind": "WorkflowTemplate", "metadata": {"name": "build"}, "spec": {}}),
            json!({"kind": "CronWorkflow", "metadata": {"name": "nightly"}, "spec": {"schedules": ["0 2 * * *", "@hourly"], "suspend": true}}),
        ];
        let got = stored(&items);
        assert!(got.contains("build    WorkflowTemplate\n"), "{got}");
        assert!(
            got.contains("nightly  CronWorkflow      0 2 * * *, @hourly  true"),
            "{got}"
        );
    }
}
