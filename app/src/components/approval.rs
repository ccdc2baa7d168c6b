//! The approval panel of a suspend step: its message, its inputs, a form of the values the
//! reviewer supplies (enum → select, defaults pre-filled, descriptions inline), a comment
//! (optional to approve, required to reject), who may approve, and why the current user may not
//! when they may not.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::act::decide;
use crate::ops::{Decision, PendingApproval};

const INPUT: &str = "w-full rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-950 px-2 py-1 text-sm";

/// One waiting step's approval form.
#[component]
pub fn ApprovalPanel(
    /// The waiting step.
    pending: PendingApproval,
    /// Called once it was approved or rejected.
    on_done: Callback<()>,
) -> impl IntoView {
    let values = RwSignal::new(
        pending
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect::<BTreeMap<_, _>>(),
    );
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let may = pending.may_approve;
    let send = {
        let (ns, wf, node) = (
            pending.namespace.clone(),
            pending.workflow.clone(),
            pending.node_id.clone(),
        );
        move |approve: bool| {
            let text = comment.get_untracked();
            if !approve && text.trim().is_empty() {
                error.set(Some(
                    "A comment is required to reject: say why, for whoever runs it next.".into(),
                ));
                return;
            }
            let decision = Decision {
                approve,
                values: if approve {
                    values.get_untracked()
                } else {
                    BTreeMap::new()
                },
                comment: text,
            };
            let (ns, wf, node) = (ns.clone(), wf.clone(), node.clone());
            busy.set(true);
            spawn_local(async move {
                let answer = decide(ns, wf, node, decision).await;
                busy.set(false);
                match answer {
                    Ok(()) => on_done.run(()),
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let (approve, reject) = (send.clone(), send);
    let who = if pending.approvers.is_empty() {
        "Anyone may approve.".to_string()
    } else {
        format!("May approve: {}.", pending.approvers.join(", "))
    };
    let no_self = pending.no_self.then_some(" The run's submitter may not.");
    view! {
        <section class="mb-4 rounded-lg border border-violet-300 bg-violet-50 dark:bg-violet-950 p-4" data-testid="approval" data-node=pending.node_id.clone()>
            <div class="flex flex-wrap items-center gap-2">
                <span class="rounded-full bg-white dark:bg-slate-900 px-2 py-0.5 text-xs font-medium text-violet-800 ring-1 ring-inset ring-violet-200">{if pending.until.is_some() { "‖ Paused" } else { "‖ Waiting for approval" }}</span>
                <h2 class="font-semibold">{pending.step.clone()}</h2>
                <span class="text-xs text-slate-600 dark:text-slate-400">{who}{no_self}</span>
            </div>
            {pending.message.clone().map(|m| view! { <p class="mt-2 text-sm" data-testid="approval-message">{m}</p> })}
            {pending.until.clone().map(|u| view! {
                <p class="mt-2 text-sm text-slate-700 dark:text-slate-300" data-testid="approval-until">
                    "Resumes by itself at "{crate::format::time(Some(&u))}" — approve to go on now."
                </p>
            })}
            {(!pending.inputs.is_empty()).then(|| view! {
                <ul class="mt-2 flex flex-wrap gap-1.5">
                    {pending.inputs.iter().map(|(k, v)| view! {
                        <li class="rounded bg-white dark:bg-slate-900 px-1.5 py-0.5 font-mono text-xs">{k.clone()}"="{v.clone()}</li>
                    }).collect_view()}
                </ul>
            })}
            <div class="mt-3 grid gap-3 sm:grid-cols-2">
                {pending.fields.iter().map(|f| {
                    let name = f.name.clone();
                    let n = name.clone();
                    let value = move || values.with(|m| m.get(&n).cloned().unwrap_or_default());
                    let set = {
                        let name = name.clone();
                        move |v: String| values.update(|m| { m.insert(name.clone(), v); })
                    };
                    let input = match &f.kind {
                        crate::form::FieldKind::Select(options) | crate::form::FieldKind::Radio(options) => view! {
                            <select class=INPUT data-testid=format!("approval-{name}") disabled=!may
                                prop:value=value on:change=move |ev| set(event_target_value(&ev))>
                                {options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                            </select>
                        }.into_any(),
                        _ => view! {
                            <input class=INPUT data-testid=format!("approval-{name}") disabled=!may
                                prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
                        }.into_any(),
                    };
                    view! {
                        <label class="block">
                            <span class="font-mono text-sm">{name.clone()}</span>
                            {input}
                            {f.description.clone().map(|d| view! { <span class="mt-0.5 block text-xs text-slate-600 dark:text-slate-400">{d}</span> })}
                        </label>
                    }
                }).collect_view()}
            </div>
            <label class="mt-3 block">
                <span class="text-sm">"Comment"<span class="text-xs text-slate-500">" (optional to approve, required to reject)"</span></span>
                <textarea class=INPUT rows="2" data-testid="approval-comment" disabled=!may
                    prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
            </label>
            {pending.why_not.clone().map(|w| view! { <p class="mt-2 text-sm text-slate-700 dark:text-slate-300" data-testid="approval-why-not">{w}</p> })}
            {move || error.get().map(|e| view! { <p class="mt-2 text-sm text-red-700 dark:text-red-300" role="alert" data-testid="approval-error">{e}</p> })}
            <div class="mt-3 flex gap-2">
                <button class="rounded bg-emerald-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 disabled:opacity-50" data-testid="approve"
                    disabled=move || busy.get() || !may on:click=move |_| approve(true)>"Approve"</button>
                <button class="rounded bg-red-700 px-4 py-1.5 text-sm font-medium text-white hover:bg-red-800 disabled:opacity-50" data-testid="reject"
                    disabled=move || busy.get() || !may on:click=move |_| reject(false)>"Reject"</button>
            </div>
        </section>
    }
}

/// A run's waiting steps and its audit trail, read again whenever the run changes.
#[component]
pub fn RunApprovalsSection(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// The run's revision: the section is read again when it changes.
    revision: Signal<String>,
    /// Called once a step was approved or rejected.
    on_done: Callback<()>,
    /// Whether to show the audit trail (else only the waiting steps).
    audit: bool,
) -> impl IntoView {
    let data = crate::codec::resource(
        move || revision.get(),
        move |_| crate::act::load_run_approvals(namespace.clone(), name.clone()),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(a) if audit => view! {
                        <section class="mt-8" data-testid="run-audit">
                            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Audit trail"</h2>
                            <crate::pages::approvals::AuditTable entries=a.audit />
                        </section>
                    }.into_any(),
                    Ok(a) => a.pending.into_iter().map(|p| view! { <ApprovalPanel pending=p on_done /> }).collect_view().into_any(),
                    Err(e) => view! { <crate::components::empty_state::ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}
