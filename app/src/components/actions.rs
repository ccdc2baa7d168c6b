//! The actions of a run page: stop, terminate, suspend, resume, delete, retry, resubmit, rebuild
//! and compare. Each asks for confirmation in a dialog that says what will happen; a retry's
//! dialog lists exactly which steps will run again, updated as its options change.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::act::{act, load_permissions, plan_resubmit, plan_retry};
use crate::components::status::PhaseBadge;
use crate::model::RunRow;
use crate::ops::{ActOutcome, PlannedStep, RetryChoice, RetryPlan, RunAction, RunPermissions};

const BUTTON: &str = "rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-900 px-3 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800 disabled:cursor-not-allowed disabled:opacity-50";
const DANGER: &str = "rounded border border-red-300 bg-white dark:bg-slate-900 px-3 py-1 text-sm text-red-700 hover:bg-red-50 dark:hover:bg-red-950 disabled:cursor-not-allowed disabled:opacity-50";

/// Which dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialog {
    Stop,
    Terminate,
    Suspend,
    Resume,
    Delete,
    Retry,
    Resubmit,
}

/// The buttons of a run's actions and their dialogs.
#[component]
pub fn RunActions(
    /// The run.
    run: RunRow,
    /// Whether the whole run is suspended.
    suspended: bool,
    /// The run to compare with (the previous of its template).
    previous: Option<String>,
    /// Called after an action changed the run.
    on_done: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(None::<Dialog>);
    let live = run.phase.is_live();
    let permissions = RwSignal::new(RunPermissions::default());
    {
        let (ns, name) = (run.namespace.clone(), run.name.clone());
        // Read in the browser only: the buttons are usable at once and the server checks anyway.
        Effect::new(move |_| {
            let (ns, name) = (ns.clone(), name.clone());
            spawn_local(async move {
                if let Ok(p) = load_permissions(ns, name).await {
                    permissions.set(p);
                }
            });
        });
    }
    let button = move |label: &'static str, id: &'static str, d: Dialog, class: &'static str| {
        let needs = policy_action(d);
        view! {
            <button
                class=class
                data-testid=format!("action-{id}")
                disabled=move || !permissions.with(|p| p.allows(needs))
                title=move || permissions.with(|p| p.actions.iter().find(|a| a.action == needs && !a.allowed).map(|a| a.why.clone()))
                on:click=move |_| open.set(Some(d))
            >{label}</button>
        }
    };
    let rebuild = run.template.clone().map(|t| {
        let href = format!("{}/run?from={}/{}", t.href(), run.namespace, run.name);
        view! { <a href=href class=BUTTON data-testid="action-rebuild" title="Run the template again with these parameters, changed as you wish">"Rebuild"</a> }
    });
    let compare = previous.map(|p| {
        let href = format!("/compare/{}/{p}/{}", run.namespace, run.name);
        view! { <a href=href class=BUTTON data-testid="action-compare">"Compare with previous"</a> }
    });
    let (ns, name) = (run.namespace.clone(), run.name.clone());
    let params = run.parameters.clone();
    view! {
        <div class="mt-3 flex flex-wrap gap-2" data-testid="run-actions">
            {live.then(|| view! {
                {if suspended {
                    button("Resume", "resume", Dialog::Resume, BUTTON).into_any()
                } else {
                    button("Suspend", "suspend", Dialog::Suspend, BUTTON).into_any()
                }}
                {button("Stop", "stop", Dialog::Stop, DANGER)}
                {button("Terminate", "terminate", Dialog::Terminate, DANGER)}
            })}
            {(!live).then(|| view! {
                {button("Retry…", "retry", Dialog::Retry, BUTTON)}
                {button("Resubmit…", "resubmit", Dialog::Resubmit, BUTTON)}
            })}
            {rebuild}
            {compare}
            {button("Delete", "delete", Dialog::Delete, DANGER)}
        </div>
        <details
            class="mt-2 text-sm text-slate-600 dark:text-slate-400"
            data-testid="why-not"
            hidden=move || permissions.with(|p| p.denied().next().is_none())
        >
            <summary class="cursor-pointer">
                {move || {
                    let names: Vec<String> = permissions.with(|p| p.denied().map(|d| d.action.clone()).collect());
                    format!("Why can't I {}?", names.join(", "))
                }}
            </summary>
            <ul class="mt-1 space-y-1">
                <For
                    each=move || permissions.with(|p| p.denied().cloned().collect::<Vec<_>>())
                    key=|p| p.action.clone()
                    children=|p| view! {
                        <li><span class="font-semibold">{p.action.clone()}</span>": "<span class="whitespace-pre-wrap">{p.why.clone()}</span></li>
                    }
                />
            </ul>
        </details>
        {move || open.get().map(|d| {
            let close = Callback::new(move |()| open.set(None));
            view! { <ActionDialog dialog=d namespace=ns.clone() name=name.clone() parameters=params.clone() close on_done /> }
        })}
    }
}

/// The policy's action a dialog needs.
fn policy_action(d: Dialog) -> &'static str {
    match d {
        Dialog::Stop | Dialog::Terminate | Dialog::Suspend | Dialog::Resume => "stop",
        Dialog::Delete => "delete",
        Dialog::Retry => "retry",
        Dialog::Resubmit => "resubmit",
    }
}

/// A confirmation dialog.
#[component]
fn ActionDialog(
    dialog: Dialog,
    namespace: String,
    name: String,
    parameters: Vec<(String, String)>,
    close: Callback<()>,
    on_done: Callback<()>,
) -> impl IntoView {
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let from = RwSignal::new(String::new());
    let values = RwSignal::new(parameters.clone());
    let plan = RwSignal::new(None::<Result<RetryPlan, String>>);
    let memoized = RwSignal::new(false);
    let choice = move || RetryChoice {
        node: Some(from.get()).filter(|n| !n.is_empty()),
        parameters: values.get(),
    };
    // Each change asks for a new plan; only the answer to the latest question is shown.
    let asked = StoredValue::new(0_u64);
    let answer = move |n: u64, p: Result<RetryPlan, crate::api::UiError>| {
        if asked.get_value() == n {
            plan.set(Some(p.map_err(|e| e.to_string())));
        }
    };
    if dialog == Dialog::Retry {
        let (ns, wf) = (namespace.clone(), name.clone());
        Effect::new(move |_| {
            let c = choice();
            let (ns, wf) = (ns.clone(), wf.clone());
            let n = asked.get_value() + 1;
            asked.set_value(n);
            spawn_local(async move { answer(n, plan_retry(ns, wf, c).await) });
        });
    }
    if dialog == Dialog::Resubmit {
        let (ns, wf) = (namespace.clone(), name.clone());
        Effect::new(move |_| {
            let m = memoized.get();
            let (ns, wf) = (ns.clone(), wf.clone());
            let n = asked.get_value() + 1;
            asked.set_value(n);
            spawn_local(async move { answer(n, plan_resubmit(ns, wf, m).await) });
        });
    }
    let action = move || match dialog {
        Dialog::Stop => RunAction::Stop,
        Dialog::Terminate => RunAction::Terminate,
        Dialog::Suspend => RunAction::Suspend,
        Dialog::Resume => RunAction::Resume,
        Dialog::Delete => RunAction::Delete,
        Dialog::Retry => RunAction::Retry(choice()),
        Dialog::Resubmit => RunAction::Resubmit {
            parameters: values.get(),
            memoized: memoized.get(),
        },
    };
    let title = untrack(action).name();
    let verb = format!("{}{}", title[..1].to_uppercase(), &title[1..]);
    let heading = format!("{verb} this run?");
    let consequence = untrack(action).consequence();
    let confirm = move |_| {
        let a = action();
        let (ns, wf, navigate) = (namespace.clone(), name.clone(), navigate.clone());
        busy.set(true);
        spawn_local(async move {
            let answer = act(ns, wf, a).await;
            busy.set(false);
            match answer {
                Ok(ActOutcome::Changed) => {
                    close.run(());
                    on_done.run(());
                }
                Ok(ActOutcome::NewRun { namespace, name }) => {
                    close.run(());
                    navigate(&format!("/runs/{namespace}/{name}"), Default::default());
                }
                Ok(ActOutcome::Gone(to)) => navigate(&to, Default::default()),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let edits_parameters = !parameters.is_empty() && dialog != Dialog::Stop;
    let editable = matches!(dialog, Dialog::Retry | Dialog::Resubmit) && edits_parameters;
    view! {
        <div class="fixed inset-0 z-40 flex items-start justify-center bg-slate-900/40 p-4 pt-24" role="dialog" aria-modal="true" data-testid="action-dialog">
            <div class="w-full max-w-lg rounded-lg bg-white dark:bg-slate-900 p-5 shadow-xl">
                <h2 class="text-lg font-semibold">{heading}</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="action-consequence">{consequence}</p>
                {(dialog == Dialog::Retry).then(|| view! { <RetryOptions plan from /> })}
                {(dialog == Dialog::Resubmit).then(|| view! {
                    <label class="mt-3 flex items-center gap-2 text-sm">
                        <input type="checkbox" data-testid="resubmit-memoized"
                            prop:checked=move || memoized.get()
                            on:change=move |ev| memoized.set(event_target_checked(&ev)) />
                        "Memoized: keep the results of the steps that succeeded instead of running them again"
                    </label>
                    <PlanLists plan />
                })}
                {editable.then(|| view! { <ParameterEdits values /> })}
                {move || error.get().map(|e| view! { <p class="mt-3 rounded bg-red-50 dark:bg-red-950 p-2 text-sm text-red-800 dark:text-red-200" role="alert" data-testid="action-error">{e}</p> })}
                <div class="mt-4 flex justify-end gap-2">
                    <button class=BUTTON on:click=move |_| close.run(()) data-testid="action-cancel">"Cancel"</button>
                    <button
                        class="rounded bg-sky-700 px-3 py-1 text-sm font-medium text-white hover:bg-sky-800 disabled:opacity-50"
                        data-testid="action-confirm"
                        disabled=move || busy.get() || plan.with(|p| matches!(p, Some(Err(_)) | Some(Ok(RetryPlan { blocked: Some(_), .. }))))
                        on:click=confirm
                    >{verb}</button>
                </div>
            </div>
        </div>
    }
}

/// What a plan runs again, runs for the first time and keeps.
#[component]
fn PlanLists(plan: RwSignal<Option<Result<RetryPlan, String>>>) -> impl IntoView {
    let list = |title: &'static str, id: &'static str, steps: Vec<PlannedStep>| {
        (!steps.is_empty()).then(|| view! {
            <h3 class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3>
            <ul class="mt-1 max-h-40 space-y-1 overflow-auto" data-testid=id>
                {steps.into_iter().map(|s| view! {
                    <li class="flex items-center gap-2 text-sm" data-testid="plan-step">
                        <span class="font-mono">{s.name}</span>
                        <PhaseBadge phase=s.phase />
                    </li>
                }).collect_view()}
            </ul>
        })
    };
    move || {
        match plan.get() {
        None => view! { <p class="mt-3 text-sm text-slate-500">"Working out what will run again…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="mt-3 text-sm text-red-700" role="alert" data-testid="plan-error">{e}</p> }.into_any(),
        Some(Ok(RetryPlan { blocked: Some(why), .. })) => view! {
            <p class="mt-3 text-sm text-amber-800 dark:text-amber-200" data-testid="plan-blocked">{why}</p>
        }.into_any(),
        Some(Ok(p)) => view! {
            <div data-testid="plan">
                {list("Will run again", "plan-again", p.again.clone())}
                {list("Will run for the first time", "plan-first", p.first_time.clone())}
                <p class="mt-2 text-xs text-slate-500" data-testid="plan-kept">{match p.kept {
                    1 => "1 step keeps its result.".to_string(),
                    n => format!("{n} steps keep their results."),
                }}</p>
            </div>
        }.into_any(),
    }
    }
}

/// The retry's "run again from" choice and its plan.
#[component]
fn RetryOptions(
    plan: RwSignal<Option<Result<RetryPlan, String>>>,
    from: RwSignal<String>,
) -> impl IntoView {
    // The steps that succeeded do not change with the choice: list them once.
    let restartable = RwSignal::new(Vec::<PlannedStep>::new());
    Effect::new(move |_| {
        if let Some(Ok(p)) = plan.get()
            && restartable.with_untracked(Vec::is_empty)
            && !p.restartable.is_empty()
        {
            restartable.set(p.restartable);
        }
    });
    view! {
        <label class="mt-3 block text-sm">
            <span class="text-xs text-slate-500">"Also run again from a step that succeeded (and what follows it)"</span>
            <select class="mt-0.5 w-full rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-950 px-2 py-1" data-testid="retry-from"
                prop:value=move || from.get()
                on:change=move |ev| from.set(event_target_value(&ev))>
                <option value="">"— only the failed steps —"</option>
                {move || restartable.get().into_iter().map(|s| view! { <option value=s.id.clone()>{s.name}</option> }).collect_view()}
            </select>
        </label>
        <PlanLists plan />
    }
}

/// The run's parameters, editable for a retry or a resubmit.
#[component]
fn ParameterEdits(values: RwSignal<Vec<(String, String)>>) -> impl IntoView {
    let names: Vec<String> = values.with_untracked(|v| v.iter().map(|(k, _)| k.clone()).collect());
    view! {
        <details class="mt-3">
            <summary class="cursor-pointer text-xs font-semibold uppercase tracking-wide text-slate-500">"Parameters"</summary>
            <div class="mt-1 space-y-1">
                {names.into_iter().enumerate().map(|(i, k)| view! {
                    <label class="flex items-center gap-2 text-sm">
                        <span class="w-32 shrink-0 truncate font-mono">{k.clone()}</span>
                        <input class="flex-1 rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-950 px-2 py-1 font-mono text-xs"
                            data-testid=format!("edit-{k}")
                            prop:value=move || values.with(|v| v.get(i).map(|p| p.1.clone()).unwrap_or_default())
                            on:input=move |ev| {
                                let text = event_target_value(&ev);
                                values.update(|v| if let Some(p) = v.get_mut(i) { p.1 = text; });
                            } />
                    </label>
                }).collect_view()}
            </div>
        </details>
    }
}
