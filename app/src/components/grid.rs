//! The Airflow-style grid: one column per run (newest left), one row per step, a coloured cell
//! per step of each run that links to that step of that run.

use leptos::prelude::*;

use crate::components::status::solid_class;
use crate::format;
use crate::model::GridView;

/// Runs × steps.
#[component]
pub fn RunsGrid(
    /// The grid.
    grid: GridView,
    /// The namespace of the runs (for links).
    namespace: String,
) -> impl IntoView {
    if grid.runs.is_empty() {
        return view! { <p class="text-sm text-slate-500">"The grid fills in as the template runs."</p> }
            .into_any();
    }
    let GridView { runs, rows } = grid;
    let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
    let head = runs
        .iter()
        .map(|r| {
            let label = r.number.map_or_else(|| r.name.clone(), |n| format!("#{n}"));
            let href = format!("/runs/{namespace}/{}", r.name);
            view! {
                <th class="px-1 py-1 text-center font-normal">
                    <a href=href class="text-xs text-slate-500 hover:text-sky-700" title=r.phase.label()>{label}</a>
                </th>
            }
        })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|row| {
            let cells = row
                .cells
                .into_iter()
                .zip(&names)
                .map(|(cell, run)| match cell {
                    Some(c) => {
                        let href = format!("/runs/{namespace}/{run}?node={}", c.node_id);
                        let title = format!(
                            "{} · {} · {}",
                            row.step,
                            c.phase.label(),
                            format::maybe_duration(c.duration_seconds)
                        );
                        let class = format!("block h-4 w-4 rounded-sm {}", solid_class(c.phase));
                        view! {
                            <td class="px-1 py-0.5">
                                <a href=href title=title class=class data-testid="grid-cell" data-phase=c.phase.slug()></a>
                            </td>
                        }
                        .into_any()
                    }
                    None => view! { <td class="px-1 py-0.5"><span class="block h-4 w-4 rounded-sm bg-slate-50 dark:bg-slate-950"></span></td> }.into_any(),
                })
                .collect_view();
            view! {
                <tr>
                    <th class="max-w-[16rem] truncate pr-3 text-left font-mono text-xs font-normal text-slate-600 dark:text-slate-400" title=row.step.clone()>
                        {row.step.clone()}
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto">
            <table data-testid="grid" class="border-separate border-spacing-0">
                <thead><tr><th></th>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}
