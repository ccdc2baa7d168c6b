//! A template's page: title and description, parameters, the graph drawn from its spec, and its
//! numbered run history with a duration trend and the runs × steps grid. The history is paged
//! on the server (`?page=` carries the store's token), so a template with a million runs opens as
//! fast as one with ten.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::load_template;
use crate::catalog::TemplateKind;
use crate::components::charts::TrendChart;
use crate::components::empty_state::ErrorNotice;
use crate::components::graph::{GraphCanvas, Viewport};
use crate::components::grid::RunsGrid;
use crate::components::kind_badge::KindBadge;
use crate::components::markdown::Markdown;
use crate::components::run_table::RunTable;
use crate::format;
use crate::model::TemplatePage as Page;

/// The page of a template of `kind`, named by the route's `:namespace` and `:name`.
#[component]
pub fn TemplatePage(
    /// Which kind of template the route is for.
    kind: TemplateKind,
) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let page = crate::codec::resource(
        move || {
            let (ns, name) = params.with(|p| {
                (
                    p.get("namespace").unwrap_or_default(),
                    p.get("name").unwrap_or_default(),
                )
            });
            (ns, name, query.with(|q| q.get("page").unwrap_or_default()))
        },
        move |(ns, name, token)| load_template(kind.as_str().to_string(), ns, name, token),
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the template…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <TemplateView page=p /> }.into_any(),
                    Err(e) => view! { <Title text="Template" /><ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TemplateView(page: Page) -> impl IntoView {
    let Page {
        id,
        summary,
        graph,
        runs,
        next,
        stats,
        trend,
        grid,
        total_runs,
        cron,
    } = page;
    let title = summary.display_title().to_string();
    let scope = if id.namespace.is_empty() {
        "cluster-wide".to_string()
    } else {
        id.namespace.clone()
    };
    let folder = summary.folder_path();
    let viewport = RwSignal::new(Viewport::opening(&graph));
    let graph_signal = Signal::derive({
        let g = graph.clone();
        move || g.clone()
    });
    let has_graph = !graph.nodes.is_empty();
    let newest_href = id.href();
    let older = next.map(|t| format!("{}?page={t}", id.href()));
    let stats_text = match (stats.median_seconds, stats.p90_seconds) {
        (Some(m), Some(p)) => format!(
            "median {} · p90 {}",
            format::duration(m),
            format::duration(p)
        ),
        _ => String::new(),
    };
    let params = summary.parameters.clone();
    view! {
        <Title text=title.clone() />
        <nav class="mb-2 text-sm text-slate-500" aria-label="Breadcrumb">
            <a href="/" class="hover:underline">"Templates"</a>" / "{scope}
            {(!folder.is_empty()).then(|| format!(" / {folder}"))}
        </nav>
        <header class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div>
                <div class="flex items-center gap-2">
                    <h1 class="text-2xl font-semibold tracking-tight" data-testid="template-title">{title}</h1>
                    <KindBadge kind=id.kind />
                </div>
                <p class="mt-1 font-mono text-xs text-slate-500">{id.name.clone()}</p>
                {summary.schedule.clone().map(|s| view! { <p class="mt-1 text-sm text-amber-800">"Runs on schedule "<code>{s}</code></p> })}
            </div>
            <div class="flex items-center gap-6">
                <a href=format!("{}/run", id.href()) class="rounded bg-sky-700 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-sky-800" data-testid="run-template-button">
                    "▶ Run with parameters"
                </a>
                <div class="text-right text-sm text-slate-500">
                    <div class="text-2xl font-semibold text-slate-900 dark:text-slate-100" data-testid="total-runs">{total_runs}</div>
                    "runs"
                </div>
            </div>
        </header>
        {summary.description.clone().map(|d| view! { <section class="mb-6 max-w-3xl"><Markdown text=d /></section> })}
        {cron.map(|c| view! { <CronSection cron=c /> })}
        <div class="mb-8 grid gap-6 lg:grid-cols-3">
            <section class="lg:col-span-1">
                <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Parameters"</h2>
                {if params.is_empty() {
                    view! { <p class="text-sm text-slate-500">"This template takes no parameters."</p> }.into_any()
                } else {
                    view! {
                        <dl class="space-y-3 rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 shadow-sm" data-testid="parameters">
                            {params.into_iter().map(|p| view! {
                                <div>
                                    <dt class="font-mono text-sm text-slate-900 dark:text-slate-100">
                                        {p.name}
                                        {p.default.map(|d| view! { <span class="text-slate-400">" = "{d}</span> })}
                                    </dt>
                                    {p.description.map(|d| view! { <dd class="text-sm text-slate-600 dark:text-slate-400">{d}</dd> })}
                                    {(!p.enum_values.is_empty()).then(|| view! {
                                        <dd class="text-xs text-slate-500">"One of: "{p.enum_values.join(", ")}</dd>
                                    })}
                                </div>
                            }).collect_view()}
                        </dl>
                    }.into_any()
                }}
            </section>
            <section class="lg:col-span-2">
                <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Graph"</h2>
                {if has_graph {
                    view! {
                        <GraphCanvas
                            graph=graph_signal
                            viewport
                            selected=Signal::derive(|| None::<String>)
                            on_select=Callback::new(|_| {})
                            on_expand=Callback::new(|_| {})
                        />
                    }.into_any()
                } else {
                    view! { <p class="text-sm text-slate-500">"No steps to draw."</p> }.into_any()
                }}
            </section>
        </div>
        <section class="mb-8">
            <div class="mb-2 flex items-baseline justify-between">
                <h2 class="text-sm font-semibold uppercase tracking-wide text-slate-500">"Duration of recent runs"</h2>
                <span class="text-xs text-slate-500" data-testid="stats">{stats_text}</span>
            </div>
            <div class="rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 shadow-sm">
                <TrendChart points=trend p90=stats.p90_seconds />
            </div>
        </section>
        <section class="mb-8">
            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Runs × steps"</h2>
            <div class="rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 shadow-sm">
                <RunsGrid grid namespace=id.namespace.clone() />
            </div>
        </section>
        <section>
            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"History"</h2>
            {if runs.is_empty() {
                view! {
                    <p class="rounded-lg border border-dashed border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 p-6 text-sm text-slate-600 dark:text-slate-400" data-testid="no-runs">
                        "No runs yet. Press “Run with parameters”, or submit one with "
                        <code class="font-mono">{submit_hint(&id)}</code>
                        " or through the API."
                    </p>
                }.into_any()
            } else {
                view! { <RunTable runs /> }.into_any()
            }}
            <div class="mt-3 flex gap-3 text-sm">
                <a href=newest_href class="text-sky-700 hover:underline">"Newest"</a>
                {older.map(|href| view! { <a href=href class="text-sky-700 hover:underline" data-testid="older">"Older runs →"</a> })}
            </div>
        </section>
    }
    .into_any()
}

/// The command that runs a template from a terminal.
fn submit_hint(id: &crate::model::TemplateId) -> String {
    let from = format!("{}/{}", id.kind.as_str().to_lowercase(), id.name);
    if id.namespace.is_empty() {
        format!("trellis submit --from {from}")
    } else {
        format!("trellis submit -n {} --from {from}", id.namespace)
    }
}

/// When a CronWorkflow runs, in words, with its next runs and state.
#[component]
fn CronSection(cron: crate::model::CronView) -> impl IntoView {
    let state = if cron.suspended {
        view! { <span class="rounded-full bg-slate-200 px-2 py-0.5 text-xs font-medium text-slate-700 dark:text-slate-300" data-testid="cron-state">"Suspended"</span> }.into_any()
    } else {
        view! { <span class="rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800" data-testid="cron-state">"Active"</span> }.into_any()
    };
    view! {
        <section class="mb-6 rounded-lg border border-amber-200 bg-amber-50 p-4" data-testid="cron">
            <div class="flex flex-wrap items-center gap-2">
                <h2 class="text-sm font-semibold uppercase tracking-wide text-amber-900">"Schedule"</h2>
                {state}
                <span class="text-xs text-amber-900">"concurrency: "{cron.concurrency_policy.clone()}</span>
            </div>
            <ul class="mt-2 space-y-1">
                {cron.schedules.iter().map(|(text, words)| view! {
                    <li class="text-base text-slate-900 dark:text-slate-100">
                        <span data-testid="cron-words">{words.clone()}</span>
                        <code class="ml-2 rounded bg-white dark:bg-slate-900 px-1.5 py-0.5 font-mono text-xs text-slate-600 dark:text-slate-400">{text.clone()}</code>
                    </li>
                }).collect_view()}
            </ul>
            {cron.error.clone().map(|e| view! { <p class="mt-2 text-sm text-red-700">{e}</p> })}
            {(!cron.next_runs.is_empty()).then(|| view! {
                <p class="mt-2 text-sm text-slate-700 dark:text-slate-300" data-testid="cron-next">
                    "Next runs (UTC): "{cron.next_runs.iter().map(|t| format::time(Some(t))).collect::<Vec<_>>().join(" · ")}
                </p>
            })}
            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">"Last started: "{format::time(cron.last_scheduled.as_deref())}</p>
        </section>
    }
}
