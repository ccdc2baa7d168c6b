//! The approvals inbox (every step waiting for the current user's approval, oldest first) and
//! the audit trail of every approval, rejection and action on runs, filterable and paged.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::location::Url;

use crate::act::{audit_trail, inbox};
use crate::components::empty_state::ErrorNotice;
use crate::format;
use crate::ops::{AuditFilter, AuditView, PendingApproval};

/// `/approvals`.
#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let items = crate::codec::resource(|| (), |()| inbox());
    view! {
        <Title text="Approvals" />
        <div class="mb-4 flex items-baseline justify-between">
            <h1 class="text-2xl font-semibold tracking-tight">"Waiting for your approval"</h1>
            <a href="/audit" class="text-sm text-sky-700 hover:underline">"Audit trail →"</a>
        </div>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match items.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="rounded-lg border border-dashed border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 p-6 text-sm text-slate-600 dark:text-slate-400" data-testid="inbox-empty">
                            "Nothing waits for you. Steps of type "<code class="font-mono">"suspend"</code>
                            " that you may approve appear here while their run waits on them."
                        </p>
                    }.into_any(),
                    Ok(list) => view! { <Inbox list /> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Inbox(list: Vec<PendingApproval>) -> impl IntoView {
    view! {
        <ul class="divide-y divide-slate-200 dark:divide-slate-700 rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 shadow-sm" data-testid="inbox">
            {list.into_iter().map(|p| {
                let href = p.href();
                let template = p.template.clone().map(|t| t.name).unwrap_or_else(|| p.workflow.clone());
                view! {
                    <li class="flex flex-wrap items-center gap-3 px-4 py-3" data-testid="inbox-item">
                        <span class="rounded-full bg-violet-50 px-2 py-0.5 text-xs font-medium text-violet-800 ring-1 ring-inset ring-violet-200">"‖ Waiting for approval"</span>
                        <a href=href class="font-medium text-sky-700 hover:underline">
                            {template}" "{p.run_title.clone()}" · "{p.step.clone()}
                        </a>
                        <span class="text-sm text-slate-600 dark:text-slate-400">{p.message.clone()}</span>
                        <span class="ml-auto text-xs text-slate-500">"waiting since "{format::time(p.since.as_deref())}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// `/audit?namespace=&actor=&action=&page=`.
#[component]
pub fn AuditTrailPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        query.with(|q| AuditFilter {
            namespace: q.get("namespace").unwrap_or_default(),
            actor: q.get("actor").unwrap_or_default(),
            action: q.get("action").unwrap_or_default(),
            page: q.get("page").unwrap_or_default(),
        })
    };
    let page = crate::codec::resource(filter, audit_trail);
    view! {
        <Title text="Audit trail" />
        <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Audit trail"</h1>
        <p class="mb-4 text-sm text-slate-600 dark:text-slate-400">
            "Who approved, rejected, retried, stopped or deleted which run, when, with which values. Entries are never changed or removed."
        </p>
        <form method="get" action="/audit" class="mb-4 flex flex-wrap items-end gap-3 text-sm">
            {[("namespace", "Namespace"), ("actor", "User"), ("action", "Action")].map(|(key, label)| {
                let value = move || query.with(|q| q.get(key).unwrap_or_default());
                view! {
                    <label class="flex flex-col">
                        <span class="text-xs text-slate-500">{label}</span>
                        <input name=key value=value class="rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-950 px-2 py-1" />
                    </label>
                }
            }).collect_view()}
            <button class="rounded bg-slate-800 px-3 py-1.5 text-white">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => {
                        let next = p.next.map(|t| {
                            let mut f = untrack(filter);
                            f.page = t;
                            audit_href(&f)
                        });
                        view! {
                            <AuditTable entries=p.entries />
                            {next.map(|href| view! { <a href=href class="mt-3 inline-block text-sm text-sky-700 hover:underline" data-testid="audit-older">"Older entries →"</a> })}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The address of an audit page.
fn audit_href(f: &AuditFilter) -> String {
    let parts: Vec<String> = [
        ("namespace", &f.namespace),
        ("actor", &f.actor),
        ("action", &f.action),
        ("page", &f.page),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", Url::escape(v)))
    .collect();
    format!("/audit?{}", parts.join("&"))
}

/// Entries of the audit trail as a table.
#[component]
pub fn AuditTable(
    /// The entries, newest first.
    entries: Vec<AuditView>,
) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="text-sm text-slate-500" data-testid="audit-empty">"No entries."</p> }
            .into_any();
    }
    view! {
        <table class="w-full rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 text-sm shadow-sm" data-testid="audit">
            <thead class="text-left text-xs uppercase tracking-wide text-slate-500">
                <tr><th class="px-3 py-2">"When"</th><th class="px-3 py-2">"Who"</th><th class="px-3 py-2">"What"</th><th class="px-3 py-2">"Run"</th><th class="px-3 py-2">"Values and comment"</th></tr>
            </thead>
            <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                {entries.into_iter().map(|e| {
                    let href = match &e.node_id {
                        Some(n) => format!("/runs/{}/{}?node={n}", e.namespace, e.workflow),
                        None => format!("/runs/{}/{}", e.namespace, e.workflow),
                    };
                    let run = match &e.step {
                        Some(s) => format!("{}/{} · {s}", e.namespace, e.workflow),
                        None => format!("{}/{}", e.namespace, e.workflow),
                    };
                    let tone = match e.action.as_str() {
                        "approve" => "text-emerald-700 dark:text-emerald-300",
                        "reject" | "stop" | "terminate" | "delete" => "text-red-700 dark:text-red-300",
                        _ => "text-slate-700 dark:text-slate-300",
                    };
                    view! {
                        <tr data-testid="audit-entry" data-action=e.action.clone()>
                            <td class="whitespace-nowrap px-3 py-2 text-slate-500">{format::time(Some(&e.at))}</td>
                            <td class="px-3 py-2 font-medium" data-testid="audit-actor">{e.actor.clone()}</td>
                            <td class=format!("px-3 py-2 font-medium {tone}")>{e.action.clone()}</td>
                            <td class="px-3 py-2"><a href=href class="text-sky-700 hover:underline">{run}</a></td>
                            <td class="px-3 py-2">
                                {e.values.iter().map(|(k, v)| view! {
                                    <span class="mr-1 rounded bg-slate-100 dark:bg-slate-800 px-1.5 py-0.5 font-mono text-xs">{k.clone()}"="{v.clone()}</span>
                                }).collect_view()}
                                {e.comment.clone().map(|c| view! { <span class="italic text-slate-600 dark:text-slate-400" data-testid="audit-comment">"“"{c}"”"</span> })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
