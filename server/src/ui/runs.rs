//! The store query behind the all-runs page's filters (namespace, phase, template, label, name,
//! days) and its order (newest, name, longest first: sorted and paged in the store), with a
//! clear error for each bad filter.

use app::api::UiError;
use app::model::RunsFilter;
use chrono::{DateTime, NaiveDate, Utc};
use controller::store::{LabelSelector, Order, Scope, WorkflowQuery};
use engine::model::WorkflowPhase;

use super::RUNS_PAGE;

/// A day (`YYYY-MM-DD`) of a filter as the instant it starts, or the next day's start.
fn day(text: &str, field: &str, next: bool) -> Result<Option<DateTime<Utc>>, UiError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        UiError::Invalid(format!(
            "{field} must be a day like 2026-12-01, not {text:?}"
        ))
    })?;
    let d = if next { d.succ_opt().unwrap_or(d) } else { d };
    Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

/// The store query of the all-runs filters.
pub fn runs_query(f: &RunsFilter) -> Result<WorkflowQuery, UiError> {
    let phases = match f.phase.as_str() {
        "" => vec![],
        "Pending" => vec![WorkflowPhase::Pending, WorkflowPhase::Unknown],
        "Running" => vec![WorkflowPhase::Running],
        "Succeeded" => vec![WorkflowPhase::Succeeded],
        "Failed" => vec![WorkflowPhase::Failed],
        "Error" => vec![WorkflowPhase::Error],
        p => {
            return Err(UiError::Invalid(format!(
                "phase must be one of Pending, Running, Succeeded, Failed, Error, not {p:?}"
            )));
        }
    };
    let mut selector = f.label.trim().to_string();
    if !f.template.trim().is_empty() {
        let t = format!(
            "workflows.argoproj.io/workflow-template={}",
            f.template.trim()
        );
        selector = if selector.is_empty() {
            t
        } else {
            format!("{selector},{t}")
        };
    }
    let order = match f.sort.as_str() {
        "" | "newest" => Order::Newest,
        "name" => Order::Name,
        "duration" => Order::Longest,
        s => {
            return Err(UiError::Invalid(format!(
                "sort must be newest, name or duration, not {s:?}"
            )));
        }
    };
    let labels = LabelSelector::parse(&selector)
        .map_err(|e| UiError::Invalid(format!("label filter: {e}")))?;
    Ok(WorkflowQuery {
        scope: Scope::All,
        namespace: Some(f.namespace.trim().to_string()).filter(|n| !n.is_empty()),
        phases,
        labels,
        name_contains: Some(f.name.trim().to_string()).filter(|n| !n.is_empty()),
        created_after: day(&f.since, "from", false)?,
        created_before: day(&f.until, "to", true)?,
        limit: Some(RUNS_PAGE),
        continue_token: Some(f.page.clone()).filter(|p| !p.is_empty()),
        order,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_filters_become_a_store_query() {
        let q = runs_query(&RunsFilter {
            namespace: "ci".into(),
            phase: "Failed".into(),
            template: "build".into(),
            label: "team=web".into(),
            name: "nightly".into(),
            since: "2026-11-30".into(),
            until: "2026-11-30".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(q.namespace.as_deref(), Some("ci"));
        assert_eq!(q.phases, [WorkflowPhase::Failed]);
        assert_eq!(q.labels.requirements().len(), 2);
        assert_eq!(q.name_contains.as_deref(), Some("nightly"));
        assert_eq!(
            q.created_after.unwrap().to_rfc3339(),
            "2026-11-30T00:00:00+00:00"
        );
        assert_eq!(
            q.created_before.unwrap().to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(q.order, Order::Newest);
    }

    #[test]
    fn the_sort_becomes_the_store_order() {
        let order = |sort: &str| {
            runs_query(&RunsFilter {
                sort: sort.into(),
                ..Default::default()
            })
            .map(|q| q.order)
        };
        assert_eq!(order("name"), Ok(Order::Name));
        assert_eq!(order("duration"), Ok(Order::Longest));
        assert_eq!(order(""), Ok(Order::Newest));
        assert!(matches!(order("size"), Err(UiError::Invalid(m)) if m.contains("size")));
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let bad = |f: RunsFilter| runs_query(&f).unwrap_err().to_string();
        assert!(
            bad(RunsFilter {
                phase: "Done".into(),
                ..Default::default()
            })
            .contains("phase must be one of")
        );
        assert!(
            bad(RunsFilter {
                since: "yesterday".into(),
                ..Default::default()
            })
            .contains("from must be a day")
        );
        assert!(
            bad(RunsFilter {
                label: "=x".into(),
                ..Default::default()
            })
            .starts_with("label filter")
        );
    }
}
