//! Small SVG charts: a sparkline of recent durations and a duration trend with its p90 line.

use leptos::prelude::*;

use crate::format;
use crate::model::{Phase, TrendPoint};

/// The points of a sparkline of `values` in a `width` × `height` box, oldest left.
pub fn sparkline_points(values: &[i64], width: f64, height: f64) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = i as f64 * step;
            let y = height - (*v as f64 / max) * (height - 2.0) - 1.0;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sparkline of recent durations (nothing when there are fewer than two).
#[component]
pub fn Sparkline(
    /// Durations in seconds, oldest first.
    durations: Vec<i64>,
) -> impl IntoView {
    (durations.len() >= 2).then(|| {
        let title = format!(
            "Recent durations: {}",
            durations.iter().map(|d| format::duration(*d)).collect::<Vec<_>>().join(", ")
        );
        let points = sparkline_points(&durations, 64.0, 20.0);
        view! {
            <svg viewBox="0 0 64 20" class="h-5 w-16 overflow-visible" data-testid="sparkline" role="img">
                <title>{title}</title>
                <polyline points=points fill="none" stroke-width="1.5" class="stroke-sky-500" />
            </svg>
        }
    })
}

/// The bar colour of a trend point.
fn bar_class(phase: Phase) -> &'static str {
    match phase {
        Phase::Succeeded => "fill-emerald-400",
        Phase::Failed => "fill-red-400",
        Phase::Error => "fill-orange-400",
        _ => "fill-slate-300",
    }
}

/// Bars of the recent durations, coloured by outcome, with the p90 as a dashed line.
#[component]
pub fn TrendChart(
    /// The runs, oldest first.
    points: Vec<TrendPoint>,
    /// The recent p90, in seconds.
    p90: Option<i64>,
) -> impl IntoView {
    if points.is_empty() {
        return view! { <p class="text-sm text-slate-500">"No finished runs yet."</p> }.into_any();
    }
    let (w, h) = (600.0_f64, 120.0_f64);
    let max = points
        .iter()
        .map(|p| p.duration_seconds)
        .chain(p90)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    // Slots for at least 20 runs, so that a few runs do not make wide bars.
    let slot = w / points.len().max(20) as f64;
    let bars = points
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let bh = (p.duration_seconds as f64 / max * (h - 8.0)).max(2.0);
            let title = format!(
                "{} · {} · {}",
                p.number.map_or(p.name.clone(), |n| format!("#{n}")),
                p.phase.label(),
                format::duration(p.duration_seconds)
            );
            view! {
                <rect
                    x=format!("{:.1}", i as f64 * slot + slot * 0.15)
                    y=format!("{:.1}", h - bh)
                    width=format!("{:.1}", slot * 0.7)
                    height=format!("{bh:.1}")
                    rx="2"
                    class=bar_class(p.phase)
                >
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let line = p90.map(|p| {
        let y = format!("{:.1}", h - p as f64 / max * (h - 8.0));
        view! {
            <line x1="0" x2=w y1=y.clone() y2=y stroke-dasharray="4 3" class="stroke-amber-500" stroke-width="1">
                <title>{format!("p90 {}", format::duration(p))}</title>
            </line>
        }
    });
    view! {
        <svg
            viewBox=format!("0 0 {w} {h}")
            preserveAspectRatio="none"
            class="h-32 w-full"
            data-testid="trend"
            role="img"
            aria-label="Duration of recent runs"
        >
            {bars}
            {line}
        </svg>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_span_the_box_and_scale_to_the_longest() {
        assert_eq!(sparkline_points(&[10, 20], 64.0, 20.0), "0.0,10.0 64.0,1.0");
        assert_eq!(
            sparkline_points(&[0, 0, 0], 10.0, 10.0),
            "0.0,9.0 5.0,9.0 10.0,9.0"
        );
        assert_eq!(sparkline_points(&[], 10.0, 10.0), "");
    }
}
