//! CronWorkflow scheduling as pure functions, with the semantics of Argo's cron controller
//! (which uses robfig/cron): when a schedule fires next, which run a tick or a restart is due,
//! whether to run it (`suspend`, the stop strategy, `when`, `concurrencyPolicy`), the run's
//! name, and which old runs the history limits drop. Time is always a parameter.
//!
//! Fire times follow robfig/cron: a five-field schedule matches minutes in the schedule's time
//! zone (`timezone`, or a `CRON_TZ=` prefix; UTC otherwise); its day-of-month and day-of-week
//! match either one unless one of them is `*`; the clock moves in absolute hours, so a time that
//! a spring-forward skips does not fire that day and one that a fall-back repeats fires twice.
//! `@every D` fires D after the time it is asked about, whole seconds, at least one second.

pub mod describe;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::model::{CronWorkflow, CronWorkflowPhase, WorkflowPhase};
use crate::values::{CronSchedule, parse_cron};

/// How far ahead a five-field schedule is searched (robfig gives up after five years too).
const YEARS_AHEAD: i32 = 5;

/// One schedule of a CronWorkflow with its time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The schedule as written.
    pub text: String,
    schedule: CronSchedule,
    zone: Tz,
}

impl Schedule {
    /// Parses a schedule; `zone` is the CronWorkflow's `timezone` (a `CRON_TZ=` prefix wins).
    pub fn parse(text: &str, zone: Option<&str>) -> Result<Self, String> {
        let (schedule, prefix) = parse_cron(text).map_err(|e| format!("schedule {text:?}: {e}"))?;
        let name = prefix.or(zone).filter(|z| !z.is_empty()).unwrap_or("UTC");
        let zone: Tz = name
            .parse()
            .map_err(|_| format!("schedule {text:?}: unknown time zone {name:?}"))?;
        Ok(Self {
            text: text.to_string(),
            schedule,
            zone,
        })
    }

    /// The first fire time strictly after `after`.
    pub fn next(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.schedule {
            CronSchedule::Every(nanos) => {
                let secs = (*nanos / 1_000_000_000).max(1);
                let whole = after.with_nanosecond(0).unwrap_or(after);
                Some(whole + Duration::seconds(i64::try_from(secs).ok()?))
            }
            fields @ CronSchedule::Fields { .. } => next_fields(fields, self.zone, after),
        }
    }
}

/// The schedules of a CronWorkflow (`schedules`, else `schedule`), in its time zone.
pub fn schedules(cron: &CronWorkflow) -> Result<Vec<Schedule>, String> {
    let spec = cron.spec.clone().unwrap_or_default();
    let texts: Vec<String> = match (&spec.schedules, &spec.schedule) {
        (Some(list), _) if !list.is_empty() => list.clone(),
        (_, Some(one)) if !one.is_empty() => vec![one.clone()],
        _ => return Err("the CronWorkflow has no schedule".into()),
    };
    texts
        .iter()
        .map(|t| Schedule::parse(t, spec.timezone.as_deref()))
        .collect()
}

/// The earliest fire time of any schedule strictly after `after`.
pub fn next_after(schedules: &[Schedule], after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedules.iter().filter_map(|s| s.next(after)).min()
}

/// The latest fire time in `(from, to]`: the one run a scheduler that last looked at `from`
/// owes at `to` (earlier ones in between are not caught up, as Argo does).
pub fn latest_due(
    schedules: &[Schedule],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut latest = None;
    for s in schedules {
        let mut t = from;
        // Bounded: a schedule fires at most once a second.
        for _ in 0..=((to - from).num_seconds().max(0) + 1) {
            match s.next(t) {
                Some(n) if n <= to => {
                    latest = Some(latest.map_or(n, |l: DateTime<Utc>| l.max(n)));
                    t = n;
                }
                _ => break,
            }
        }
    }
    latest
}

/// The run missed while nothing was scheduling (after a restart): the latest fire time after
/// `status.lastScheduledTime` and before `now`, when it is still within
/// `startingDeadlineSeconds`. Never one already run: that time is after the last scheduled one.
pub fn missed_run(
    cron: &CronWorkflow,
    schedules: &[Schedule],
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let last = cron
        .status
        .as_ref()?
        .last_scheduled_time
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())?
        .to_utc();
    let deadline = cron.spec.as_ref()?.starting_deadline_seconds?;
    let missed = latest_due(schedules, last, now - Duration::nanoseconds(1))?;
    (now < missed + Duration::seconds(deadline)).then_some(missed)
}

/// The name of the run scheduled at `t` (Argo's: the same time always gives the same name, so
/// a run is never created twice).
pub fn run_name(cron_name: &str, t: DateTime<Utc>) -> String {
    format!("{cron_name}-{}", t.timestamp())
}

/// What to do at a fire time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Create the run, after terminating these still-running ones (`concurrencyPolicy: Replace`).
    Run {
        /// Runs to terminate first.
        replace: Vec<String>,
    },
    /// Do not run now, for this reason.
    Skip(String),
}

/// The decision at a fire time, and whether the stop strategy has just been met (the
/// CronWorkflow is then Stopped for good).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Run or skip.
    pub verdict: Verdict,
    /// The stop strategy's expression holds: set phase Stopped.
    pub stop: bool,
}

/// Decides a fire time (Argo's `enforceRuntimePolicy` after `checkStopingCondition`), given the
/// CronWorkflow's runs still active. An error (a bad `when` or stop expression, an unknown
/// policy) skips the run and should be shown on the CronWorkflow.
pub fn decide(cron: &CronWorkflow, active: &[String]) -> Result<Decision, String> {
    let spec = cron.spec.clone().unwrap_or_default();
    let stop = stop_strategy_met(cron)?;
    let stopped =
        stop || cron.status.as_ref().and_then(|s| s.phase) == Some(CronWorkflowPhase::Stopped);
    let skip = |why: &str| Decision {
        verdict: Verdict::Skip(why.to_string()),
        stop,
    };
    if spec.suspend == Some(true) {
        return Ok(skip("the CronWorkflow is suspended"));
    }
    if stopped {
        return Ok(skip("the CronWorkflow met its stop strategy"));
    }
    if let Some(when) = spec.when.as_deref().filter(|w| !w.trim().is_empty())
        && !eval_bool(when, cron).map_err(|e| format!("when {when:?}: {e}"))?
    {
        return Ok(skip("`when` is false"));
    }
    let verdict = match spec.concurrency_policy.as_deref().unwrap_or("Allow") {
        "Allow" | "" => Verdict::Run { replace: vec![] },
        "Forbid" if !active.is_empty() => Verdict::Skip(format!(
            "concurrencyPolicy Forbid and {} still running",
            active.join(", ")
        )),
        "Forbid" => Verdict::Run { replace: vec![] },
        "Replace" => Verdict::Run {
            replace: active.to_vec(),
        },
        other => {
            return Err(format!(
                "invalid concurrencyPolicy {other:?}: use Allow, Forbid or Replace"
            ));
        }
    };
    Ok(Decision { verdict, stop })
}

fn stop_strategy_met(cron: &CronWorkflow) -> Result<bool, String> {
    let Some(expr) = cron
        .spec
        .as_ref()
        .and_then(|s| s.stop_strategy.as_ref())
        .and_then(|s| s.expression.as_deref())
        .filter(|e| !e.trim().is_empty())
    else {
        return Ok(false);
    };
    eval_bool(expr, cron).map_err(|e| format!("stopStrategy.expression {expr:?}: {e}"))
}

/// Evaluates an expr-lang condition over `cronworkflow.*` (name, namespace, labels,
/// annotations, failed, succeeded, lastScheduledTime); a whole `{{= … }}` tag is unwrapped and
/// `{{cronworkflow.x}}` tags are replaced by their values first.
fn eval_bool(text: &str, cron: &CronWorkflow) -> Result<bool, String> {
    let meta = cron.metadata.clone().unwrap_or_default();
    let status = cron.status.clone().unwrap_or_default();
    let vars = serde_json::json!({
        "name": meta.name,
        "namespace": meta.namespace,
        "labels": meta.labels,
        "annotations": meta.annotations,
        "failed": status.failed.unwrap_or(0),
        "succeeded": status.succeeded.unwrap_or(0),
        "lastScheduledTime": status.last_scheduled_time,
    });
    let trimmed = text.trim();
    let expr = match trimmed
        .strip_prefix("{{=")
        .and_then(|r| r.strip_suffix("}}"))
    {
        Some(inner) => inner.to_string(),
        None => substitute(trimmed, &vars),
    };
    let env = serde_json::json!({ "cronworkflow": vars });
    match crate::expr::eval(&expr, &env).map_err(|e| e.to_string())? {
        serde_json::Value::Bool(b) => Ok(b),
        other => Err(format!("gives {other}, not true or false")),
    }
}

/// Replaces `{{cronworkflow.x}}` tags by their values (strings as they are, others as JSON).
fn substitute(text: &str, vars: &serde_json::Value) -> String {
    let mut out = text.to_string();
    if let Some(map) = vars.as_object() {
        for (k, v) in map {
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out = out.replace(&format!("{{{{cronworkflow.{k}}}}}"), &value);
        }
    }
    out
}

/// One finished run of a CronWorkflow, for the history limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedRun {
    /// Its name.
    pub name: String,
    /// How it ended.
    pub phase: WorkflowPhase,
    /// When (RFC 3339; compared as text, which sorts by time).
    pub finished_at: String,
}

/// The finished runs to delete so that only the newest `successfulJobsHistoryLimit` (default
/// 3) succeeded and `failedJobsHistoryLimit` (default 1) failed or errored ones remain.
pub fn beyond_history(cron: &CronWorkflow, runs: &[FinishedRun]) -> Vec<String> {
    let spec = cron.spec.clone().unwrap_or_default();
    let keep = |limit: Option<i32>, default: usize| {
        limit
            .filter(|l| *l >= 0)
            .map_or(default, |l| usize::try_from(l).unwrap_or(default))
    };
    let mut out = Vec::new();
    for (succeeded, limit) in [
        (true, keep(spec.successful_jobs_history_limit, 3)),
        (false, keep(spec.failed_jobs_history_limit, 1)),
    ] {
        let mut these: Vec<&FinishedRun> = runs
            .iter()
            .filter(|r| (r.phase == WorkflowPhase::Succeeded) == succeeded && r.phase.completed())
            .collect();
        these.sort_by(|a, b| b.finished_at.cmp(&a.finished_at));
        out.extend(these.into_iter().skip(limit).map(|r| r.name.clone()));
    }
    out
}

/// robfig/cron's `SpecSchedule.Next` for a five-field schedule.
fn next_fields(s: &CronSchedule, zone: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let CronSchedule::Fields {
        minutes,
        hours,
        days_of_month,
        months,
        days_of_week,
        dom_any,
        dow_any,
    } = *s
    else {
        return None;
    };
    let day_matches = |t: &DateTime<Tz>| {
        let dom = days_of_month & (1 << t.day()) != 0;
        let dow = days_of_week & (1 << t.weekday().num_days_from_sunday()) != 0;
        if dom_any || dow_any {
            dom && dow
        } else {
            dom || dow
        }
    };
    // Start at the next whole second (robfig adds a second and drops the fraction).
    let start = (after + Duration::seconds(1)).with_nanosecond(0)?;
    let mut t = start.with_timezone(&zone);
    let limit = t.year() + YEARS_AHEAD;
    let mut added = false;
    'wrap: loop {
        if t.year() > limit {
            return None;
        }
        while months & (1 << t.month()) == 0 {
            if !added {
                added = true;
                t = local(zone, t.year(), t.month(), 1, 0)?;
            }
            t = add_months(zone, &t)?;
            if t.month() == 1 {
                continue 'wrap;
            }
        }
        while !day_matches(&t) {
            if !added {
                added = true;
                t = local(zone, t.year(), t.month(), t.day(), 0)?;
            }
            t = add_day(zone, &t)?;
            if t.day() == 1 {
                continue 'wrap;
            }
        }
        while hours & (1 << t.hour()) == 0 {
            if !added {
                added = true;
                t -= Duration::minutes(i64::from(t.minute()))
                    + Duration::seconds(i64::from(t.second()));
            }
            t += Duration::hours(1);
            if t.hour() == 0 {
                continue 'wrap;
            }
        }
        while minutes & (1 << t.minute()) == 0 {
            if !added {
                added = true;
                t -= Duration::seconds(i64::from(t.second()));
            }
            t += Duration::minutes(1);
            if t.minute() == 0 {
                continue 'wrap;
            }
        }
        if t.second() != 0 {
            // Five-field schedules fire at second 0: go to the next minute and look again.
            added = true;
            t += Duration::minutes(1) - Duration::seconds(i64::from(t.second()));
            continue 'wrap;
        }
        return Some(t.with_timezone(&Utc));
    }
}

/// Local midnight-ish wall time `y-m-d h:00` in `zone` (the earlier of two, or the hour after a
/// gap), as Go's `time.Date` normalises it.
fn local(zone: Tz, y: i32, m: u32, d: u32, h: u32) -> Option<DateTime<Tz>> {
    let naive = NaiveDate::from_ymd_opt(y, m, d)?.and_hms_opt(h, 0, 0)?;
    zone.from_local_datetime(&naive).earliest().or_else(|| {
        zone.from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
    })
}

/// The first day of the next month at 00:00 (from a time on the first at 00:00).
fn add_months(zone: Tz, t: &DateTime<Tz>) -> Option<DateTime<Tz>> {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    local(zone, y, m, 1, 0)
}

/// The same wall-clock time a day later, corrected back to midnight across a DST change (as
/// robfig does after `AddDate(0, 0, 1)`).
fn add_day(zone: Tz, t: &DateTime<Tz>) -> Option<DateTime<Tz>> {
    let next = t.date_naive().succ_opt()?;
    let mut n = local(zone, next.year(), next.month(), next.day(), t.hour())?;
    if n.hour() != 0 {
        if n.hour() > 12 {
            n += Duration::hours(i64::from(24 - n.hour()));
        } else {
            n -= Duration::hours(i64::from(n.hour()));
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests;
