//! One template in the tree, like a Jenkins job's row: title, kind, schedule, description and
//! parameters, then its last run, last success and failure, last duration, health in words and a
//! sparkline of recent durations.

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;

use crate::catalog::{ParameterSummary, TemplateSummary};
use crate::components::charts::Sparkline;
use crate::components::icons::ClockIcon;
use crate::components::kind_badge::KindBadge;
use crate::components::status::PhaseBadge;
use crate::format;
use crate::model::{JobRow, RunRow};

/// Every template's runs by store key, provided by the page that shows the tree.
#[derive(Debug, Clone, Default)]
pub struct Jobs(pub Arc<BTreeMap<String, JobRow>>);

/// A template's row. Every string is rendered as text, never as HTML.
#[component]
pub fn TemplateRow(
    /// The template to show.
    template: TemplateSummary,
) -> impl IntoView {
    let id = template.id();
    let href = id.href();
    let job = use_context::<Jobs>()
        .and_then(|jobs| jobs.0.get(&id.key()).cloned())
        .unwrap_or_default();
    let title = template.display_title().to_owned();
    let show_name = title != template.name;
    let TemplateSummary {
        kind,
        name,
        description,
        parameters,
        schedule,
        ..
    } = template;
    let name_attr = name.clone();

    view! {
        <article
            data-testid="template-row"
            data-name=name_attr
            class="rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 px-4 py-3 shadow-sm hover:border-slate-300"
        >
            <div class="flex flex-wrap items-center gap-x-2 gap-y-1">
                <h3 class="font-medium text-slate-900 dark:text-slate-100">
                    <a href=href class="hover:text-sky-700 hover:underline" data-testid="template-link">{title}</a>
                </h3>
                <KindBadge kind />
                {show_name
                    .then(|| view! { <span class="font-mono text-xs text-slate-500">{name}</span> })}
                {schedule
                    .map(|schedule| {
                        view! {
                            <span
                                class="ml-auto inline-flex items-center gap-1 rounded bg-amber-50 px-1.5 py-0.5 font-mono text-xs text-amber-900"
                                title="Cron schedule"
                            >
                                <ClockIcon />
                                {schedule}
                            </span>
                        }
                    })}
            </div>
            {description
                .filter(|text| !text.trim().is_empty())
                .map(|text| {
                    view! { <p class="mt-1 whitespace-pre-line text-sm text-slate-600 dark:text-slate-400">{text}</p> }
                })}
            {(!parameters.is_empty())
                .then(|| {
                    view! {
                        <ul class="mt-2 flex flex-wrap gap-1.5" aria-label="Parameters">
                            {parameters.into_iter().map(parameter_chip).collect_view()}
                        </ul>
                    }
                })}
            <JobSummary job />
        </article>
    }
    // Erased, so the nested tree's view type stays small enough for the compiler.
    .into_any()
}

/// The Jenkins-style line under a template: last run, last success and failure, duration,
/// health and sparkline.
#[component]
fn JobSummary(job: JobRow) -> impl IntoView {
    let Some(last) = job.last.clone() else {
        return view! {
            <p class="mt-2 text-xs text-slate-400" data-testid="job-never">"Never run"</p>
        }
        .into_any();
    };
    let link = |label: &'static str, run: Option<RunRow>| {
        run.map(|r| {
            view! {
                <span class="text-slate-500">
                    {label}" "
                    <a href=r.href() class="text-sky-700 hover:underline">{r.title()}</a>
                </span>
            }
        })
    };
    let health = job.health.clone().map(|h| {
        let slug = format::health_slug(h.passed, h.of);
        let icon = match slug {
            "good" => "☀",
            "fair" => "◑",
            "poor" => "☁",
            _ => "☂",
        };
        view! {
            <span class="text-slate-600 dark:text-slate-400" data-testid="health" data-health=slug>
                <span aria-hidden="true">{icon}" "</span>{h.text}
            </span>
        }
    });
    let duration = job
        .last_success
        .as_ref()
        .or(job.last.as_ref())
        .and_then(|r| r.duration_seconds)
        .map(|d| view! { <span class="tabular-nums text-slate-500">"took "{format::duration(d)}</span> });
    view! {
        <div class="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-xs" data-testid="job">
            <a href=last.href() class="flex items-center gap-1.5" data-testid="last-run">
                <span class="font-medium text-slate-700 dark:text-slate-300">{last.title()}</span>
                <PhaseBadge phase=last.phase />
            </a>
            {link("last success", job.last_success.clone())}
            {link("last failure", job.last_failure.clone())}
            {duration}
            {health}
            <Sparkline durations=job.durations.clone() />
        </div>
    }
    .into_any()
}

fn parameter_chip(parameter: ParameterSummary) -> impl IntoView {
    let tooltip = parameter_tooltip(&parameter);
    let ParameterSummary { name, default, .. } = parameter;
    view! {
        <li
            class="rounded bg-slate-100 dark:bg-slate-800 px-1.5 py-0.5 font-mono text-xs text-slate-700 dark:text-slate-300"
            title=tooltip
        >
            {name}
            {default
                .map(|value| {
                    view! {
                        <span class="text-slate-400">"="</span>
                        <span class="text-slate-500">{value}</span>
                    }
                })}
        </li>
    }
}

/// The chip's tooltip: the description, then the allowed values.
fn parameter_tooltip(parameter: &ParameterSummary) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(description) = parameter.description.as_deref().filter(|d| !d.is_empty()) {
        lines.push(description.to_owned());
    }
    if !parameter.enum_values.is_empty() {
        lines.push(format!("One of: {}", parameter.enum_values.join(", ")));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tooltip_lists_description_then_values() {
        let mut parameter = ParameterSummary {
            name: "env".into(),
            default: Some("dev".into()),
            description: None,
            enum_values: vec![],
        };
        assert_eq!(parameter_tooltip(&parameter), None);
        parameter.description = Some("Target environment".into());
        parameter.enum_values = vec!["dev".into(), "prod".into()];
        assert_eq!(
            parameter_tooltip(&parameter).as_deref(),
            Some("Target environment\nOne of: dev, prod")
        );
    }
}
