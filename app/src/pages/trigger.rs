//! "Run with parameters": a form generated from a template's parameters (selects, radios,
//! checkboxes, textareas, numbers, password fields, with each description under its field),
//! checked as it is typed and again by the server with the lint engine before anything is
//! created, a preview of the graph that will run, then the new run's page. `?from=RUN` pre-fills
//! the values of a past run ("Rebuild").

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::act::{load_trigger_form, trigger};
use crate::catalog::TemplateKind;
use crate::components::empty_state::ErrorNotice;
use crate::components::graph::{GraphCanvas, Viewport};
use crate::form::{
    FieldKind, FormField, FormProblems, TriggerForm, TriggerOutcome, TriggerRequest,
};
use crate::model::TemplateId;

/// The form of the route's template of `kind`.
#[component]
pub fn TriggerPage(
    /// Which kind of template the route is for.
    kind: TemplateKind,
) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let form = crate::codec::resource(
        move || {
            let id = params.with(|p| TemplateId {
                kind,
                namespace: p.get("namespace").unwrap_or_default(),
                name: p.get("name").unwrap_or_default(),
            });
            (id, query.with(|q| q.get("from").unwrap_or_default()))
        },
        |(id, from)| load_trigger_form(id, from),
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the form…"</p> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(f) => view! { <FormView form=f /> }.into_any(),
                    Err(e) => view! { <Title text="Run" /><ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

const INPUT: &str = "w-full rounded border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-950 px-2 py-1.5 text-sm focus:border-sky-500 focus:outline-none";

#[component]
fn FormView(form: TriggerForm) -> impl IntoView {
    let navigate = use_navigate();
    let TriggerForm {
        id,
        title,
        fields,
        entrypoints,
        entrypoint,
        graph,
        rebuilt_from,
        labels,
        namespace,
    } = form;
    let cluster = id.kind.is_cluster_scoped();
    let namespace = RwSignal::new(namespace);
    let values = RwSignal::new(
        fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect::<BTreeMap<_, _>>(),
    );
    let entry = RwSignal::new(entrypoint);
    let labels = RwSignal::new(labels);
    let problems = RwSignal::new(FormProblems::default());
    let busy = RwSignal::new(false);
    let preview = RwSignal::new(graph.clone());
    let viewport = RwSignal::new(Viewport::opening(&graph));
    let request = {
        let id = id.clone();
        move || TriggerRequest {
            id: Some(id.clone()),
            values: values.get_untracked(),
            entrypoint: entry.get_untracked(),
            labels: labels.get_untracked(),
            namespace: namespace.get_untracked(),
        }
    };
    let send = {
        let request = request.clone();
        move |dry: bool| {
            let navigate = navigate.clone();
            let req = request();
            busy.set(true);
            spawn_local(async move {
                let answer = trigger(req, dry).await;
                busy.set(false);
                match answer {
                    Ok(TriggerOutcome::Submitted {
                        namespace, name, ..
                    }) => {
                        navigate(&format!("/runs/{namespace}/{name}"), Default::default());
                    }
                    Ok(TriggerOutcome::Preview(g)) => {
                        problems.set(FormProblems::default());
                        viewport.set(Viewport::opening(&g));
                        preview.set(g);
                    }
                    Ok(TriggerOutcome::Rejected(p)) => problems.set(p),
                    Err(e) => problems.set(FormProblems {
                        general: vec![e.to_string()],
                        ..Default::default()
                    }),
                }
            });
        }
    };
    let (run, check) = (send.clone(), send);
    let back = id.href();
    let field_views = fields
        .into_iter()
        .map(|f| view! { <Field field=f values problems /> })
        .collect_view();
    view! {
        <Title text=format!("Run {title}") />
        <nav class="mb-2 text-sm text-slate-500" aria-label="Breadcrumb">
            <a href="/" class="hover:underline">"Templates"</a>" / "
            <a href=back.clone() class="hover:underline">{title.clone()}</a>" / run"
        </nav>
        <h1 class="mb-1 text-2xl font-semibold tracking-tight" data-testid="trigger-title">"Run "{title}</h1>
        {rebuilt_from.map(|r| view! {
            <p class="mb-4 text-sm text-slate-600 dark:text-slate-400" data-testid="rebuilt-from">
                "Parameters of run "{r}" — change what you need. Secret values are not copied: type them again."
            </p>
        })}
        <form
            class="grid gap-6 lg:grid-cols-5"
            data-testid="trigger-form"
            on:submit=move |ev| { ev.prevent_default(); run(false); }
        >
            <div class="space-y-4 lg:col-span-2">
                {move || {
                    let general = problems.with(|p| p.general.clone());
                    (!general.is_empty()).then(|| view! {
                        <ul class="rounded border border-red-300 bg-red-50 dark:bg-red-950 p-3 text-sm text-red-800 dark:text-red-200" data-testid="form-problems" role="alert">
                            {general.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}
                        </ul>
                    })
                }}
                {field_views}
                {(!entrypoints.is_empty()).then(|| view! {
                    <label class="block">
                        <span class="font-mono text-sm">"entrypoint"</span>
                        <select class=INPUT data-testid="entrypoint"
                            on:change=move |ev| entry.set(event_target_value(&ev))
                            prop:value=move || entry.get()>
                            {entrypoints.iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_view()}
                        </select>
                        <span class="mt-0.5 block text-xs text-slate-500">"The template the run starts from."</span>
                    </label>
                })}
                {cluster.then(|| view! {
                    <label class="block">
                        <span class="font-mono text-sm">"namespace"</span>
                        <input class=INPUT data-testid="namespace"
                            prop:value=move || namespace.get()
                            on:input=move |ev| namespace.set(event_target_value(&ev)) />
                        <span class="mt-0.5 block text-xs text-slate-500">"Where the run goes: a cluster-wide template runs in any namespace."</span>
                        <FieldProblem name="namespace".to_string() problems />
                    </label>
                })}
                <label class="block">
                    <span class="font-mono text-sm">"labels"</span>
                    <input class=INPUT data-testid="labels" placeholder="team=web, env=staging"
                        prop:value=move || labels.get()
                        on:input=move |ev| labels.set(event_target_value(&ev)) />
                    <span class="mt-0.5 block text-xs text-slate-500">"Extra labels of the run, key=value separated by commas."</span>
                    <FieldProblem name="labels".to_string() problems />
                </label>
                <div class="flex gap-2 pt-2">
                    <button type="submit" class="rounded bg-sky-700 px-4 py-2 text-sm font-medium text-white hover:bg-sky-800 disabled:opacity-50" data-testid="run-submit" disabled=move || busy.get()>"Run"</button>
                    <button type="button" class="rounded border border-slate-300 dark:border-slate-600 px-4 py-2 text-sm hover:bg-slate-100 dark:hover:bg-slate-800 disabled:opacity-50" data-testid="run-preview" disabled=move || busy.get() on:click=move |_| check(true)>"Check and preview"</button>
                    <a href=back class="px-2 py-2 text-sm text-slate-500 hover:underline">"Cancel"</a>
                </div>
            </div>
            <section class="lg:col-span-3">
                <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"What will run"</h2>
                <div data-testid="trigger-preview">
                    <GraphCanvas
                        graph=Signal::derive(move || preview.get())
                        viewport
                        selected=Signal::derive(|| None::<String>)
                        on_select=Callback::new(|_| {})
                        on_expand=Callback::new(|_| {})
                    />
                </div>
            </section>
        </form>
    }
}

/// The problem of one field, under it.
#[component]
fn FieldProblem(name: String, problems: RwSignal<FormProblems>) -> impl IntoView {
    let test_id = format!("problem-{name}");
    move || {
        problems.with(|p| p.fields.get(&name).cloned()).map(|m| {
            view! { <span class="mt-0.5 block text-sm text-red-700 dark:text-red-300" data-testid=test_id.clone() role="alert">{m}</span> }
        })
    }
}

/// One parameter's input, its description and its problem.
#[component]
fn Field(
    field: FormField,
    values: RwSignal<BTreeMap<String, String>>,
    problems: RwSignal<FormProblems>,
) -> impl IntoView {
    let name = field.name.clone();
    let set = {
        let field = field.clone();
        move |v: String| {
            let problem = crate::form::check_value(&field, &v);
            problems.update(|p| match problem {
                Some(m) => {
                    p.fields.insert(field.name.clone(), m);
                }
                None => {
                    p.fields.remove(&field.name);
                }
            });
            values.update(|m| {
                m.insert(field.name.clone(), v);
            });
        }
    };
    let n = name.clone();
    let value = move || values.with(|m| m.get(&n).cloned().unwrap_or_default());
    let test_id = format!("field-{name}");
    let input = match field.kind.clone() {
        FieldKind::Textarea => view! {
            <textarea class=format!("{INPUT} font-mono") rows="4" name=name.clone() data-testid=test_id
                prop:value=value on:input=move |ev| set(event_target_value(&ev))></textarea>
        }.into_any(),
        FieldKind::Boolean => view! {
            <input type="checkbox" class="h-4 w-4" name=name.clone() data-testid=test_id
                prop:checked=move || value() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string()) />
        }.into_any(),
        FieldKind::Secret => view! {
            <input type="password" autocomplete="off" class=INPUT name=name.clone() data-testid=test_id
                prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
        }.into_any(),
        FieldKind::Number { integer } => view! {
            <input type="text" inputmode=if integer { "numeric" } else { "decimal" } class=INPUT name=name.clone() data-testid=test_id
                prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
        }.into_any(),
        FieldKind::Radio(options) => {
            let group = name.clone();
            view! {
                <div class="flex flex-wrap gap-3" role="radiogroup" data-testid=test_id>
                    {options.into_iter().map(|o| {
                        let (set, value, o2, o3) = (set.clone(), value.clone(), o.clone(), o.clone());
                        view! {
                            <label class="flex items-center gap-1 text-sm">
                                <input type="radio" name=group.clone() value=o.clone()
                                    prop:checked=move || value() == o2
                                    on:change=move |_| set(o3.clone()) />
                                {o}
                            </label>
                        }
                    }).collect_view()}
                </div>
            }.into_any()
        }
        FieldKind::Select(options) => view! {
            <select class=INPUT name=name.clone() data-testid=test_id
                prop:value=value on:change=move |ev| set(event_target_value(&ev))>
                {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        }.into_any(),
        FieldKind::Text => view! {
            <input type="text" class=INPUT name=name.clone() data-testid=test_id
                prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
        }.into_any(),
    };
    let boolean = matches!(field.kind, FieldKind::Boolean);
    view! {
        <div class=if boolean { "flex flex-wrap items-center gap-x-2" } else { "block" }>
            <span class="font-mono text-sm">
                {name.clone()}
                {field.required.then(|| view! { <span class="text-red-700" title="required">" *"</span> })}
            </span>
            {input}
            {field.description.clone().map(|d| view! {
                <span class="mt-0.5 block w-full text-xs text-slate-600 dark:text-slate-400" data-testid=format!("description-{name}")>{d}</span>
            })}
            <FieldProblem name=name.clone() problems />
        </div>
    }
}
