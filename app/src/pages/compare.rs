//! Two runs side by side (`/compare/NS/A/B`): their parameters with the differences marked,
//! and each step's status and duration in both, slower or faster, with links to its logs.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::act::compare_runs;
use crate::components::empty_state::ErrorNotice;
use crate::components::status::PhaseBadge;
use crate::format;
use crate::ops::{Comparison, StepDiff, StepRun};

/// The route's two runs compared.
#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let data = crate::codec::resource(
        move || {
            params.with(|p| {
                (
                    p.get("namespace").unwrap_or_default(),
                    p.get("a").unwrap_or_default(),
                    p.get("b").unwrap_or_default(),
                )
            })
        },
        |(ns, a, b)| compare_runs(ns, a, b),
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the runs…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(c) => view! { <CompareView c /> }.into_any(),
                    Err(e) => view! { <Title text="Compare" /><ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Whether a step took notably longer (`1`), shorter (`-1`) or about as long (`0`): a change of
/// at least a second and of a tenth.
pub fn trend(delta: i64, before: i64) -> i8 {
    if delta.abs() < 1 || delta.abs() * 10 < before.abs() {
        0
    } else if delta > 0 {
        1
    } else {
        -1
    }
}

#[component]
fn CompareView(c: Comparison) -> impl IntoView {
    let Comparison {
        a,
        b,
        parameters,
        steps,
        others,
    } = c;
    let name = a
        .template
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let (a_title, b_title) = (a.title(), b.title());
    let (a_href, b_href) = (a.href(), b.href());
    let ns = a.namespace.clone();
    let others: Vec<_> = others
        .into_iter()
        .filter(|o| o.name != a.name && o.name != b.name)
        .collect();
    let has_others = !others.is_empty();
    let switch = others
        .into_iter()
        .map(|o| {
            let href = format!("/compare/{ns}/{}/{}", o.name, b.name);
            view! { <a href=href class="rounded bg-slate-100 dark:bg-slate-800 px-1.5 py-0.5 text-xs hover:underline">{o.title()}</a> }
        })
        .collect_view();
    let diffs = parameters.iter().filter(|p| p.differs()).count();
    view! {
        <Title text=format!("Compare {name} {a_title} and {b_title}") />
        <h1 class="mb-4 text-2xl font-semibold tracking-tight">
            {name}" · "<a href=a_href.clone() class="text-sky-700 hover:underline">{a_title.clone()}</a>
            " vs "<a href=b_href.clone() class="text-sky-700 hover:underline">{b_title.clone()}</a>
        </h1>
        <div class="mb-6 grid gap-4 sm:grid-cols-2">
            {[(a.clone(), "A"), (b.clone(), "B")].map(|(r, side)| view! {
                <div class="rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-3 shadow-sm" data-testid=format!("compare-{side}")>
                    <div class="flex items-center gap-2">
                        <span class="font-semibold">{side}": "{r.title()}</span>
                        <PhaseBadge phase=r.phase />
                        <span class="ml-auto tabular-nums text-sm">{format::maybe_duration(r.duration_seconds)}</span>
                    </div>
                    <p class="mt-1 text-xs text-slate-500">{format::time(r.started_at.as_deref())}" · "{r.trigger.clone()}</p>
                </div>
            })}
        </div>
        <section class="mb-6">
            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
                "Parameters"<span class="ml-2 normal-case text-slate-400" data-testid="param-diff-count">{format!("{diffs} differ")}</span>
            </h2>
            <table class="w-full rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 text-sm shadow-sm" data-testid="compare-parameters">
                <thead class="text-left text-xs text-slate-500"><tr><th class="px-3 py-2">"Name"</th><th class="px-3 py-2">{a_title.clone()}</th><th class="px-3 py-2">{b_title.clone()}</th></tr></thead>
                <tbody>
                    {parameters.into_iter().map(|p| {
                        let class = if p.differs() { "bg-amber-50 dark:bg-amber-950 font-medium" } else { "" };
                        view! {
                            <tr class=class data-testid="param-row" data-differs=p.differs().to_string()>
                                <td class="px-3 py-1.5 font-mono">{p.name.clone()}</td>
                                <td class="px-3 py-1.5 font-mono">{p.a.clone().unwrap_or_else(|| "—".into())}</td>
                                <td class="px-3 py-1.5 font-mono">{p.b.clone().unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="mb-6">
            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Steps"</h2>
            <table class="w-full rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 text-sm shadow-sm" data-testid="compare-steps">
                <thead class="text-left text-xs text-slate-500">
                    <tr><th class="px-3 py-2">"Step"</th><th class="px-3 py-2">{a_title}</th><th class="px-3 py-2">{b_title}</th><th class="px-3 py-2">"Change"</th></tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {steps.into_iter().map(|s| view! { <StepRow s a_href=a_href.clone() b_href=b_href.clone() /> }).collect_view()}
                </tbody>
            </table>
        </section>
        {has_others.then(|| view! {
            <p class="flex flex-wrap items-center gap-1 text-sm text-slate-500">"Compare "{b.title()}" with another run instead: "{switch}</p>
        })}
    }
}

#[component]
fn StepRow(s: StepDiff, a_href: String, b_href: String) -> impl IntoView {
    let delta = s.delta_seconds();
    let before = s.a.as_ref().and_then(|r| r.duration_seconds).unwrap_or(0);
    let change = match delta.map(|d| (d, trend(d, before))) {
        Some((d, 1)) => view! { <span class="text-red-700 dark:text-red-300" data-testid="slower">{format!("+{} slower", format::duration(d))}</span> }.into_any(),
        Some((d, -1)) => view! { <span class="text-emerald-700 dark:text-emerald-300" data-testid="faster">{format!("−{} faster", format::duration(-d))}</span> }.into_any(),
        Some(_) => view! { <span class="text-slate-400">"about the same"</span> }.into_any(),
        None => view! { <span class="text-slate-400">"—"</span> }.into_any(),
    };
    view! {
        <tr data-testid="step-row">
            <td class="px-3 py-1.5 font-mono text-xs">{s.step.clone()}</td>
            <td class="px-3 py-1.5">{cell(s.a.clone(), &a_href)}</td>
            <td class="px-3 py-1.5">{cell(s.b.clone(), &b_href)}</td>
            <td class="px-3 py-1.5 text-xs">{change}</td>
        </tr>
    }
}

fn cell(run: Option<StepRun>, base: &str) -> AnyView {
    match run {
        Some(r) => {
            let href = format!("{base}?node={}", r.node_id);
            view! {
                <span class="flex items-center gap-2">
                    <PhaseBadge phase=r.phase />
                    <span class="tabular-nums">{format::maybe_duration(r.duration_seconds)}</span>
                    <a href=href class="text-xs text-sky-700 hover:underline" data-testid="step-log">"log"</a>
                </span>
            }
            .into_any()
        }
        None => view! { <span class="text-xs text-slate-400">"did not run"</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::trend;

    #[test]
    fn small_changes_are_about_the_same() {
        assert_eq!(trend(30, 60), 1);
        assert_eq!(trend(-30, 60), -1);
        assert_eq!(trend(3, 100), 0);
        assert_eq!(trend(0, 0), 0);
        assert_eq!(trend(2, 0), 1);
    }
}
