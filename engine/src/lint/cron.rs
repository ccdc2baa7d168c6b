//! Rules for CronWorkflows: schedules, time zone, concurrency policy, and the workflow they start.

use super::spec::{lint_spec, one_of};
use super::{Lint, join};
use crate::diag::Diagnostic;
use crate::model::CronWorkflow;
use crate::values::{is_time_zone, parse_cron};
use crate::yaml::Seg;

/// Lints a CronWorkflow.
pub fn lint_cron(cx: &mut Lint<'_>, c: &CronWorkflow) {
    let base: Vec<Seg> = vec!["spec".into()];
    let Some(spec) = &c.spec else {
        cx.push(Diagnostic::error(
            "missing-spec",
            &[],
            "the CronWorkflow has no `spec`",
        ));
        return;
    };
    let mut schedules: Vec<(Vec<Seg>, &str)> = spec
        .schedules
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, s)| (join(&base, &["schedules".into(), i.into()]), s.as_str()))
        .collect();
    if let Some(s) = &spec.schedule {
        let path = join(&base, &["schedule".into()]);
        cx.push(
            Diagnostic::warning("deprecated", &path, "`schedule` is deprecated")
                .with_help(format!("write `schedules: [\"{s}\"]` instead")),
        );
        schedules.push((path, s.as_str()));
    }
    if schedules.is_empty() {
        cx.push(
            Diagnostic::error(
                "missing-schedule",
                &base,
                "the CronWorkflow has no `schedules`",
            )
            .with_help(
                "add `schedules: [\"0 2 * * *\"]` (minute hour day-of-month month day-of-week)",
            ),
        );
    }
    for (path, schedule) in &schedules {
        match parse_cron(schedule) {
            Err(e) => cx.push(
                Diagnostic::error(
                    "invalid-schedule",
                    path,
                    format!("invalid cron schedule `{schedule}`: {e}"),
                )
                .with_help(
                    "use five fields (e.g. `*/15 9-17 * * MON-FRI`), `@daily`, or `@every 1h`",
                ),
            ),
            Ok((_, Some(zone))) if !is_time_zone(zone) => cx.push(unknown_zone(path, zone)),
            Ok(_) => {}
        }
    }
    if let Some(zone) = spec
        .timezone
        .as_deref()
        .filter(|z| !z.is_empty() && !is_time_zone(z))
    {
        cx.push(unknown_zone(&join(&base, &["timezone".into()]), zone));
    }
    const POLICIES: [&str; 3] = ["Allow", "Forbid", "Replace"];
    if let Some(p) = spec
        .concurrency_policy
        .as_deref()
        .filter(|p| !p.is_empty() && !POLICIES.contains(p))
    {
        cx.push(one_of(
            &join(&base, &["concurrencyPolicy".into()]),
            p,
            "concurrency policy",
            &POLICIES,
        ));
    }
    if spec.starting_deadline_seconds.is_some_and(|s| s < 0) {
        cx.push(Diagnostic::error(
            "invalid-value",
            &join(&base, &["startingDeadlineSeconds".into()]),
            "startingDeadlineSeconds must be 0 or more",
        ));
    }
    match &spec.workflow_spec {
        Some(ws) => lint_spec(cx, ws, &join(&base, &["workflowSpec".into()]), true),
        None => cx.push(
            Diagnostic::error("missing-spec", &base, "the CronWorkflow has no `workflowSpec`")
                .with_help("add `workflowSpec:` with the `entrypoint` and `templates` of the workflow to start"),
        ),
    }
}

fn unknown_zone(path: &[Seg], zone: &str) -> Diagnostic {
    Diagnostic::error(
        "unknown-time-zone",
        path,
        format!("`{zone}` is not a time zone"),
    )
    .with_help("use an IANA time zone name such as `Europe/Berlin`, `America/New_York` or `UTC`")
}
