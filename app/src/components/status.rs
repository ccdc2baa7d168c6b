//! How a phase looks: the same colours and icons on every page (a suspended step has its own).

use leptos::prelude::*;

use crate::model::Phase;

/// Background, text and border classes of a phase's pill.
pub fn pill_classes(phase: Phase) -> &'static str {
    match phase {
        Phase::Succeeded => "bg-emerald-50 text-emerald-800 ring-emerald-200",
        Phase::Failed => "bg-red-50 text-red-800 ring-red-200",
        Phase::Error => "bg-orange-50 text-orange-800 ring-orange-200",
        Phase::Running => "bg-sky-50 text-sky-800 ring-sky-200",
        Phase::Waiting => "bg-violet-50 text-violet-800 ring-violet-200",
        Phase::Pending => {
            "bg-slate-100 dark:bg-slate-800 text-slate-600 dark:text-slate-400 ring-slate-200"
        }
        Phase::Skipped | Phase::Omitted => {
            "bg-slate-50 dark:bg-slate-950 text-slate-500 ring-slate-200"
        }
    }
}

/// The solid colour of a phase (grid cells, dots, bars).
pub fn solid_class(phase: Phase) -> &'static str {
    match phase {
        Phase::Succeeded => "bg-emerald-500",
        Phase::Failed => "bg-red-500",
        Phase::Error => "bg-orange-500",
        Phase::Running => "bg-sky-500 animate-pulse",
        Phase::Waiting => "bg-violet-500",
        Phase::Pending => "bg-slate-300",
        Phase::Skipped | Phase::Omitted => "bg-slate-200",
    }
}

/// The SVG fill and stroke of a graph node of a phase.
pub fn node_classes(phase: Phase) -> &'static str {
    match phase {
        Phase::Succeeded => "fill-emerald-50 dark:fill-emerald-950 stroke-emerald-500",
        Phase::Failed => "fill-red-50 dark:fill-red-950 stroke-red-500",
        Phase::Error => "fill-orange-50 dark:fill-orange-950 stroke-orange-500",
        Phase::Running => "fill-sky-50 dark:fill-sky-950 stroke-sky-500",
        Phase::Waiting => "fill-violet-50 dark:fill-violet-950 stroke-violet-500",
        Phase::Pending => "fill-white dark:fill-slate-900 stroke-slate-300 dark:stroke-slate-600",
        Phase::Skipped | Phase::Omitted => {
            "fill-slate-50 dark:fill-slate-800 stroke-slate-300 dark:stroke-slate-600"
        }
    }
}

/// The SVG fill of a phase's icon or connector.
pub fn icon_fill(phase: Phase) -> &'static str {
    match phase {
        Phase::Succeeded => "fill-emerald-500",
        Phase::Failed => "fill-red-500",
        Phase::Error => "fill-orange-500",
        Phase::Running => "fill-sky-500",
        Phase::Waiting => "fill-violet-500",
        Phase::Pending => "fill-slate-400",
        Phase::Skipped | Phase::Omitted => "fill-slate-300",
    }
}

/// A pill with the phase's icon and name.
#[component]
pub fn PhaseBadge(
    /// The phase to show.
    phase: Phase,
) -> impl IntoView {
    let class = format!(
        "inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}",
        pill_classes(phase)
    );
    view! {
        <span class=class data-phase=phase.slug() data-testid="phase">
            <span aria-hidden="true">{phase.icon()}</span>
            {phase.label()}
        </span>
    }
}
