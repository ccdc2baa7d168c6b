//! A run's page: its header (status, number, template, parameters, timings), the live graph
//! (pending steps drawn before they start, large loops collapsed until expanded), a timeline and
//! the YAML, and the panel of the selected node with its log. While the run is live the page
//! reads it again every two seconds and redraws what changed; the address (`?node=`, `?tab=`,
//! `?expand=`, `?line=`) says what is shown, so any view can be shared.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::location::Url;

use crate::api::{load_node, load_run, load_run_tab};
use crate::components::actions::RunActions;
use crate::components::approval::RunApprovalsSection;
use crate::components::empty_state::ErrorNotice;
use crate::components::graph::{GraphCanvas, Viewport};
use crate::components::logs::LogViewer;
use crate::components::status::{PhaseBadge, solid_class};
use crate::format;
use crate::model::{NodeDetail, RunPage as Page, TimelineBar};

/// How often a live run is read again.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// What the address of a run page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunView {
    /// The selected node.
    pub node: Option<String>,
    /// The tab: `graph` (default), `timeline` or `yaml`.
    pub tab: String,
    /// Parents whose collapsed groups are expanded.
    pub expand: Vec<String>,
    /// The log line to open at.
    pub line: Option<u64>,
}

impl RunView {
    /// The query string of this view.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.node {
            parts.push(format!("node={}", Url::escape(n)));
        }
        if !self.tab.is_empty() && self.tab != "graph" {
            parts.push(format!("tab={}", Url::escape(&self.tab)));
        }
        if !self.expand.is_empty() {
            parts.push(format!("expand={}", Url::escape(&self.expand.join(","))));
        }
        if let Some(l) = self.line {
            parts.push(format!("line={l}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// The view of a query string's values.
    pub fn of(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            node: get("node").filter(|n| !n.is_empty()),
            tab: get("tab").unwrap_or_default(),
            expand: get("expand")
                .map(|e| {
                    e.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            line: get("line").and_then(|l| l.parse().ok()),
        }
    }
}

/// The run page of the route's `:namespace` and `:name`.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    };
    let expand = query.with_untracked(|q| RunView::of(|k| q.get(k)).expand);
    let loaded = expand.clone();
    let page = crate::codec::resource(key, move |(ns, name)| load_run(ns, name, expand.clone()));
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the run…"</p> }>
            {move || {
                let loaded = loaded.clone();
                Suspend::new(async move {
                    let (namespace, name) = untrack(key);
                    match page.await {
                        Ok(p) => view! { <RunBody initial=p loaded namespace name /> }.into_any(),
                        Err(e) => view! { <Title text="Run" /><ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn RunBody(
    initial: Page,
    /// The groups `initial` was loaded with expanded.
    loaded: Vec<String>,
    namespace: String,
    name: String,
) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let state = RwSignal::new(initial.clone());
    let graph = Signal::derive(move || state.with(|s| s.graph.clone()));
    let viewport = RwSignal::new(Viewport::opening(&initial.graph));
    let view_of = Memo::new(move |_| query.with(|q| RunView::of(|k| q.get(k))));
    let (ns, wf) = (namespace.clone(), name.clone());
    let reload = move || {
        let (ns, wf) = (ns.clone(), wf.clone());
        let expand = view_of.get_untracked().expand;
        spawn_local(async move {
            if let Ok(p) = load_run(ns, wf, expand).await
                && state.with_untracked(|s| s.revision != p.revision || s.graph != p.graph)
            {
                state.set(p);
            }
        });
    };
    // Expanding or collapsing a group reads the graph again.
    let expanded = Memo::new(move |_| view_of.get().expand);
    let shown = StoredValue::new(loaded);
    let r = reload.clone();
    Effect::new(move |_| {
        let want = expanded.get();
        if shown.with_value(|s| *s != want) {
            shown.set_value(want);
            r();
        }
    });
    let r = reload.clone();
    Effect::new(move |_| {
        let r = r.clone();
        if let Ok(h) = set_interval_with_handle(
            move || {
                if state.with_untracked(|s| s.run.phase.is_live()) {
                    r();
                }
            },
            REFRESH,
        ) {
            on_cleanup(move || h.clear());
        }
    });
    let base = format!("/runs/{namespace}/{name}");
    let go = {
        let base = base.clone();
        move |v: RunView| {
            navigate(
                &format!("{base}{}", v.query()),
                NavigateOptions {
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    let select = {
        let go = go.clone();
        Callback::new(move |id: String| {
            let mut v = view_of.get_untracked();
            v.node = Some(id);
            v.line = None;
            go(v);
        })
    };
    let expand = {
        let go = go.clone();
        Callback::new(move |parent: String| {
            let mut v = view_of.get_untracked();
            if !v.expand.contains(&parent) {
                v.expand.push(parent);
            }
            go(v);
        })
    };
    let tab_link = {
        let base = base.clone();
        move |tab: &'static str, label: &'static str| {
            let base = base.clone();
            let href = move || {
                let mut v = view_of.get();
                v.tab = tab.to_string();
                format!("{base}{}", v.query())
            };
            let active = move || {
                let t = view_of.get().tab;
                t == tab || (tab == "graph" && t.is_empty())
            };
            view! {
                <a
                    href=href
                    data-testid=format!("tab-{tab}")
                    class=move || if active() {
                        "border-b-2 border-slate-900 px-3 py-2 text-sm font-medium text-slate-900 dark:text-slate-100"
                    } else {
                        "border-b-2 border-transparent px-3 py-2 text-sm text-slate-500 hover:text-slate-900 dark:hover:text-slate-100"
                    }
                >{label}</a>
            }
        }
    };
    let collapse_all = {
        let go = go.clone();
        move |_| {
            let mut v = view_of.get_untracked();
            v.expand.clear();
            go(v);
        }
    };
    let (ns2, wf2) = (namespace.clone(), name.clone());
    let (ns3, wf3) = (namespace.clone(), name.clone());
    let revision = Signal::derive(move || state.with(|s| s.revision.clone()));
    // The approval panels are read again only when the steps that wait change, so what a
    // reviewer types survives the run's other changes.
    let waiting = Memo::new(move |_| {
        state.with(|s| {
            let ids: Vec<&str> = s
                .graph
                .nodes
                .iter()
                .filter(|n| {
                    n.kind == crate::model::NodeKind::Suspend
                        && n.phase == crate::model::Phase::Waiting
                })
                .map(|n| n.id.as_str())
                .collect();
            format!("{}|{}", ids.join(","), s.run.phase.slug())
        })
    });
    let refresh = {
        let reload = reload.clone();
        Callback::new(move |()| reload())
    };
    // The actions change with the run's state, not with each second of its duration.
    let acts = Memo::new(move |_| {
        state.with(|s| {
            let mut r = s.run.clone();
            (r.duration_seconds, r.progress, r.finished_at, r.message) = (None, None, None, None);
            (r, s.suspended, s.previous.clone())
        })
    });
    view! {
        <RunHeader state />
        {move || {
            let (run, suspended, previous) = acts.get();
            view! { <RunActions run suspended previous on_done=refresh /> }
        }}
        <div class="mt-4">
            <RunApprovalsSection namespace=namespace.clone() name=name.clone() revision=Signal::from(waiting) on_done=refresh audit=false />
        </div>
        <div class="mb-3 flex items-center border-b border-slate-200 dark:border-slate-700">
            {tab_link("graph", "Graph")}
            {tab_link("timeline", "Timeline")}
            {tab_link("yaml", "YAML")}
            <span class="ml-auto">
                {move || (!view_of.get().expand.is_empty()).then(|| view! {
                    <button class="text-xs text-sky-700 hover:underline" on:click=collapse_all.clone()>"Collapse groups"</button>
                })}
            </span>
        </div>
        <div class="grid gap-4 xl:grid-cols-5">
            <div class=move || if view_of.get().node.is_some() { "xl:col-span-3" } else { "xl:col-span-5" }>
                {move || match view_of.get().tab.as_str() {
                    tab @ ("timeline" | "yaml") => view! {
                        <OtherTab namespace=ns3.clone() name=wf3.clone() tab=tab.to_string() state on_select=select />
                    }.into_any(),
                    _ => view! {
                        <GraphCanvas
                            graph
                            viewport
                            selected=Signal::derive(move || view_of.get().node)
                            on_select=select
                            on_expand=expand
                        />
                    }.into_any(),
                }}
            </div>
            {move || view_of.get().node.map(|node| {
                let line = view_of.get_untracked().line;
                view! {
                    <aside class="xl:col-span-2">
                        <NodePanel namespace=ns2.clone() name=wf2.clone() node line state />
                    </aside>
                }
            })}
        </div>
        <RunApprovalsSection namespace=namespace.clone() name=name.clone() revision on_done=refresh audit=true />
    }
    .into_any()
}

/// Status, number, template, timings and parameters.
#[component]
fn RunHeader(state: RwSignal<Page>) -> impl IntoView {
    let run = move || state.with(|s| s.run.clone());
    view! {
        {move || {
            let r = run();
            let title = r.title();
            let full = r.number.map(|_| r.name.clone());
            let template = r.template.clone().map(|t| {
                let label = t.name.clone();
                view! { <a href=t.href() class="text-sky-700 hover:underline" data-testid="run-template">{label}</a> }
            });
            let params = r.parameters.clone();
            view! {
                <Title text=format!("{} {}", r.template.as_ref().map(|t| t.name.clone()).unwrap_or_default(), title) />
                <header class="mb-4 rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 shadow-sm" data-testid="run-header" data-phase=r.phase.slug()>
                    <div class="flex flex-wrap items-center gap-3">
                        <h1 class="text-2xl font-semibold tracking-tight" data-testid="run-title">{title}</h1>
                        <PhaseBadge phase=r.phase />
                        {full.map(|f| view! { <span class="font-mono text-xs text-slate-500">{f}</span> })}
                        <span class="text-sm text-slate-500">{template}</span>
                        <span class="ml-auto text-sm text-slate-500">{r.progress.clone().map(|p| format!("{p} steps"))}</span>
                    </div>
                    <dl class="mt-3 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
                        <div><dt class="text-xs text-slate-500">"Started"</dt><dd>{format::time(r.started_at.as_deref())}</dd></div>
                        <div><dt class="text-xs text-slate-500">"Finished"</dt><dd>{format::time(r.finished_at.as_deref())}</dd></div>
                        <div><dt class="text-xs text-slate-500">"Duration"</dt><dd class="tabular-nums" data-testid="run-duration">{format::maybe_duration(r.duration_seconds)}</dd></div>
                        <div><dt class="text-xs text-slate-500">"Trigger"</dt><dd>{r.trigger.clone()}</dd></div>
                    </dl>
                    {r.message.clone().map(|m| view! { <p class="mt-2 text-sm text-red-700" data-testid="run-message">{m}</p> })}
                    {(!params.is_empty()).then(|| view! {
                        <ul class="mt-3 flex flex-wrap gap-1.5" aria-label="Parameters">
                            {params.into_iter().map(|(k, v)| view! {
                                <li class="rounded bg-slate-100 dark:bg-slate-800 px-1.5 py-0.5 font-mono text-xs text-slate-700 dark:text-slate-300">{k}<span class="text-slate-400">"="</span>{v}</li>
                            }).collect_view()}
                        </ul>
                    })}
                </header>
            }
        }}
    }
}

/// The timeline or YAML tab, read when opened and again when the run changes.
#[component]
fn OtherTab(
    namespace: String,
    name: String,
    tab: String,
    state: RwSignal<Page>,
    on_select: Callback<String>,
) -> impl IntoView {
    let t = tab.clone();
    let data = crate::codec::resource(
        move || state.with(|s| s.revision.clone()),
        move |_| load_run_tab(namespace.clone(), name.clone(), t.clone()),
    );
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {
                let tab = tab.clone();
                move || {
                    let tab = tab.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(d) if tab == "yaml" => view! {
                                <pre class="max-h-[640px] overflow-auto rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 font-mono text-xs" data-testid="yaml">
                                    {d.yaml}
                                </pre>
                            }.into_any(),
                            Ok(d) => view! { <Timeline bars=d.timeline on_select /> }.into_any(),
                            Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                        }
                    })
                }
            }
        </Transition>
    }
}

/// The steps as bars on a shared time axis (a Gantt chart).
#[component]
fn Timeline(bars: Vec<TimelineBar>, on_select: Callback<String>) -> impl IntoView {
    if bars.is_empty() {
        return view! { <p class="text-sm text-slate-500">"No step has started yet."</p> }
            .into_any();
    }
    let end = bars
        .iter()
        .map(|b| b.start + b.duration)
        .fold(1.0_f64, f64::max);
    let rows = bars
        .into_iter()
        .map(|b| {
            let left = b.start / end * 100.0;
            let width = (b.duration / end * 100.0).max(0.4);
            let style = format!("left:{left:.2}%;width:{width:.2}%");
            let id = b.id.clone();
            let title = format!("{} · {} · {}", b.label, b.phase.label(), format::duration(b.duration.round() as i64));
            view! {
                <div class="flex items-center gap-2 py-0.5" data-testid="timeline-row">
                    <button class="w-56 truncate text-left font-mono text-xs text-slate-600 dark:text-slate-400 hover:text-sky-700" title=b.label.clone() on:click=move |_| on_select.run(id.clone())>
                        {b.label.clone()}
                    </button>
                    <div class="relative h-4 flex-1 rounded bg-slate-100 dark:bg-slate-800">
                        <div class=format!("absolute top-0 h-4 rounded {}", solid_class(b.phase)) style=style title=title></div>
                    </div>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 shadow-sm" data-testid="timeline">
            {rows}
            <div class="mt-2 text-right text-xs text-slate-400">{format!("0 – {}", format::duration(end.round() as i64))}</div>
        </div>
    }
    .into_any()
}

/// The selected node: its phase, timings, message, inputs, outputs, artifacts, template and log.
#[component]
fn NodePanel(
    namespace: String,
    name: String,
    node: String,
    line: Option<u64>,
    state: RwSignal<Page>,
) -> impl IntoView {
    let (ns, wf, id) = (namespace.clone(), name.clone(), node.clone());
    let revision = move || state.with(|s| s.revision.clone());
    let detail = crate::codec::resource(revision, move |_| {
        load_node(ns.clone(), wf.clone(), id.clone())
    });
    view! {
        <div class="rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-4 shadow-sm" data-testid="node-panel">
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading the step…"</p> }>
                {
                    let (namespace, name, node) = (namespace.clone(), name.clone(), node.clone());
                    move || {
                        let (namespace, name, node) = (namespace.clone(), name.clone(), node.clone());
                        Suspend::new(async move {
                            match detail.await {
                                Ok(d) => view! { <NodeInfo detail=d namespace name node line /> }.into_any(),
                                Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                            }
                        })
                    }
                }
            </Transition>
        </div>
    }
    .into_any()
}

fn pairs(title: &'static str, items: Vec<(String, String)>) -> impl IntoView {
    (!items.is_empty()).then(|| view! {
        <section class="mt-3">
            <h3 class="text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
            <dl class="mt-1 space-y-1">
                {items.into_iter().map(|(k, v)| view! {
                    <div class="flex gap-2 text-sm">
                        <dt class="shrink-0 font-mono text-slate-500">{k}</dt>
                        <dd class="break-all font-mono text-slate-900 dark:text-slate-100">{v}</dd>
                    </div>
                }).collect_view()}
            </dl>
        </section>
    })
}

#[component]
fn NodeInfo(
    detail: NodeDetail,
    namespace: String,
    name: String,
    node: String,
    line: Option<u64>,
) -> impl IntoView {
    let has_log = detail.has_log;
    let yaml = detail.template_yaml.clone();
    view! {
        <div class="flex items-center gap-2">
            <h2 class="truncate text-lg font-semibold" data-testid="node-title" title=detail.name.clone()>{detail.display_name.clone()}</h2>
            <PhaseBadge phase=detail.phase />
        </div>
        <p class="font-mono text-xs text-slate-400">{detail.name.clone()}</p>
        <dl class="mt-2 grid grid-cols-3 gap-2 text-sm">
            <div><dt class="text-xs text-slate-500">"Started"</dt><dd>{format::time(detail.started_at.as_deref())}</dd></div>
            <div><dt class="text-xs text-slate-500">"Finished"</dt><dd>{format::time(detail.finished_at.as_deref())}</dd></div>
            <div><dt class="text-xs text-slate-500">"Duration"</dt><dd>{format::maybe_duration(detail.duration_seconds)}</dd></div>
        </dl>
        {detail.template.clone().map(|t| view! { <p class="mt-1 text-xs text-slate-500">"template "<span class="font-mono">{t}</span></p> })}
        {detail.resume_in_seconds.map(|s| view! { <Countdown seconds=s /> })}
        {detail.message.clone().map(|m| view! { <p class="mt-2 rounded bg-slate-50 dark:bg-slate-950 p-2 text-sm text-slate-700 dark:text-slate-300" data-testid="node-message">{m}</p> })}
        {pairs("Inputs", detail.inputs.clone())}
        {pairs("Outputs", detail.outputs.clone())}
        {(!detail.artifacts.is_empty()).then(|| view! {
            <section class="mt-3">
                <h3 class="text-xs font-semibold uppercase tracking-wide text-slate-500">"Artifacts"</h3>
                <ul class="mt-1 space-y-1 text-sm">
                    {detail.artifacts.clone().into_iter().map(|a| view! {
                        <li>
                            <a href=a.href class="text-sky-700 hover:underline" data-testid="artifact" rel="external">{a.name}</a>
                            <span class="ml-1 text-xs text-slate-400">{if a.input { "input" } else { "output" }}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!yaml.is_empty()).then(|| view! {
            <details class="mt-3">
                <summary class="cursor-pointer text-xs font-semibold uppercase tracking-wide text-slate-500">"Template"</summary>
                <pre class="mt-1 max-h-64 overflow-auto rounded bg-slate-50 dark:bg-slate-950 p-2 font-mono text-xs" data-testid="node-yaml">{yaml}</pre>
            </details>
        })}
        {has_log.then(|| view! {
            <section class="mt-4">
                <h3 class="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">"Log"</h3>
                <LogViewer namespace name node line />
            </section>
        })}
    }
    .into_any()
}

/// The time left until a suspend step with a `duration` resumes by itself, ticking each second.
#[component]
fn Countdown(seconds: i64) -> impl IntoView {
    let left = RwSignal::new(seconds);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(
            move || left.update(|l| *l = (*l - 1).max(0)),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || h.clear());
        }
    });
    view! {
        <p class="mt-2 rounded bg-violet-50 dark:bg-violet-950 p-2 text-sm text-violet-900 dark:text-violet-100" data-testid="countdown">
            {move || match left.get() {
                0 => "Resuming now…".to_string(),
                l => format!("Resumes by itself in {}", format::duration(l)),
            }}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_views_round_trip_through_the_address() {
        let v = RunView {
            node: Some("wf-123".into()),
            tab: "timeline".into(),
            expand: vec!["a".into(), "b".into()],
            line: Some(40),
        };
        let q = v.query();
        assert!(
            q.starts_with("?node=wf%2D123&tab=timeline&expand=a%2Cb&line=40"),
            "{q}"
        );
        let decode = |v: &str| {
            let mut out = String::new();
            let mut rest = v;
            while let Some(i) = rest.find('%') {
                out.push_str(&rest[..i]);
                out.push(u8::from_str_radix(&rest[i + 1..i + 3], 16).unwrap() as char);
                rest = &rest[i + 3..];
            }
            out + rest
        };
        let params: Vec<(String, String)> = q[1..]
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), decode(v))
            })
            .collect();
        let back = RunView::of(|k| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone()));
        assert_eq!(back, v);
        assert_eq!(RunView::default().query(), "");
        assert_eq!(
            RunView {
                tab: "graph".into(),
                ..Default::default()
            }
            .query(),
            ""
        );
    }
}
