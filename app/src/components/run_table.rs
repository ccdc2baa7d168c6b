//! A table of runs: number, status, started, duration ("slower than usual" past the p90),
//! trigger and parameters. Every string is rendered as text.

use leptos::prelude::*;

use crate::components::status::PhaseBadge;
use crate::format;
use crate::model::RunRow;

/// The runs, newest first; `show_template` adds a column linking each run's template.
#[component]
pub fn RunTable(
    /// The rows.
    runs: Vec<RunRow>,
    /// Whether to show the template column.
    #[prop(optional)]
    show_template: bool,
) -> impl IntoView {
    let rows = runs
        .into_iter()
        .map(|run| run_row(run, show_template))
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 shadow-sm">
            <table class="min-w-full text-left text-sm" data-testid="run-table">
                <thead class="border-b border-slate-200 dark:border-slate-700 bg-slate-50 dark:bg-slate-950 text-xs uppercase tracking-wide text-slate-500">
                    <tr>
                        <th class="px-3 py-2 font-medium">"Run"</th>
                        <th class="px-3 py-2 font-medium">"Status"</th>
                        {show_template.then(|| view! { <th class="px-3 py-2 font-medium">"Template"</th> })}
                        <th class="px-3 py-2 font-medium">"Started"</th>
                        <th class="px-3 py-2 font-medium">"Duration"</th>
                        <th class="px-3 py-2 font-medium">"Trigger"</th>
                        <th class="px-3 py-2 font-medium">"Parameters"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn run_row(run: RunRow, show_template: bool) -> impl IntoView {
    let href = run.href();
    let title = run.title();
    let subtitle = run.number.is_some().then(|| run.name.clone());
    let template = show_template.then(|| {
        run.template.clone().map(|t| {
            let label = t.name.clone();
            view! { <a href=t.href() class="text-sky-700 hover:underline">{label}</a> }
        })
    });
    let parameters = run
        .parameters
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("  ");
    let slow = run.slow;
    view! {
        <tr data-testid="run-row" data-name=run.name.clone() data-phase=run.phase.slug() class="hover:bg-slate-50 dark:hover:bg-slate-800">
            <td class="px-3 py-2">
                <a href=href class="font-medium text-sky-700 hover:underline">{title}</a>
                {subtitle.map(|s| view! { <div class="font-mono text-xs text-slate-400">{s}</div> })}
            </td>
            <td class="px-3 py-2"><PhaseBadge phase=run.phase /></td>
            {template.map(|t| view! { <td class="px-3 py-2">{t}</td> })}
            <td class="whitespace-nowrap px-3 py-2 text-slate-600 dark:text-slate-400">{format::time(run.started_at.as_deref())}</td>
            <td class="whitespace-nowrap px-3 py-2 tabular-nums">
                {format::maybe_duration(run.duration_seconds)}
                {slow.then(|| view! {
                    <span data-testid="slow" class="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-800">
                        "slower than usual"
                    </span>
                })}
            </td>
            <td class="px-3 py-2 text-slate-600 dark:text-slate-400">{run.trigger.clone()}</td>
            <td class="max-w-xs truncate px-3 py-2 font-mono text-xs text-slate-500" title=parameters.clone()>
                {parameters.clone()}
            </td>
        </tr>
    }
}
