//! The workflow graph: a laid-out [`GraphView`] drawn as SVG, with pan (drag), zoom (wheel and
//! buttons), search highlighting and node selection. Only the nodes and edges inside the viewport
//! are in the DOM, so a graph of thousands of nodes stays as fast as a small one.

use leptos::prelude::*;

use crate::components::status::{icon_fill, node_classes};
use crate::format;
use crate::model::{GraphNode, GraphView, NodeKind, Phase};

/// The visible part of the graph, in graph coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// The widest view a graph opens with: beyond this its labels would be too small to read.
const MAX_OPEN_WIDTH: f64 = 1_400.0;
/// The narrowest view a graph opens with: a small graph is not blown up beyond this.
const MIN_OPEN_WIDTH: f64 = 1_000.0;
/// Height of the canvas relative to its width at the opening zoom.
const ASPECT: f64 = 0.5;
/// Drawn around the visible part so panning does not show empty edges.
const MARGIN: f64 = 200.0;

impl Viewport {
    /// The view a graph opens with: all of it when it is small, else its top centre at a
    /// readable zoom.
    pub fn initial(width: f64, height: f64) -> Self {
        Self::around(width, height, MIN_OPEN_WIDTH, MAX_OPEN_WIDTH)
    }

    /// The view of the whole graph.
    pub fn fit(width: f64, height: f64) -> Self {
        Self::around(width, height, 400.0, f64::MAX)
    }

    fn around(width: f64, height: f64, min: f64, max: f64) -> Self {
        let w = (width + 40.0).max((height + 40.0) / ASPECT).clamp(min, max);
        Self {
            x: width / 2.0 - w / 2.0,
            y: -20.0,
            w,
            h: w * ASPECT,
        }
    }

    /// The view a graph opens with, centred on its first node (the root, at the top) when the
    /// graph is wider than the view.
    pub fn opening(graph: &GraphView) -> Self {
        let v = Self::initial(graph.width, graph.height);
        let root = graph
            .nodes
            .iter()
            .min_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
        match root {
            Some(r) if graph.width + 40.0 > v.w => Self {
                x: (r.x - v.w / 2.0).clamp(-20.0, graph.width + 20.0 - v.w),
                ..v
            },
            _ => v,
        }
    }

    /// The view after zooming by `factor` (> 1 zooms in) around the point at fractions
    /// (`fx`, `fy`) of the view.
    pub fn zoomed(self, factor: f64, fx: f64, fy: f64) -> Self {
        let factor = factor.clamp(0.05, 20.0);
        let w = (self.w / factor).clamp(80.0, 200_000.0);
        let h = w * self.h / self.w;
        Self {
            x: self.x + (self.w - w) * fx,
            y: self.y + (self.h - h) * fy,
            w,
            h,
        }
    }

    /// The view moved by (`dx`, `dy`) graph units.
    pub fn panned(self, dx: f64, dy: f64) -> Self {
        Self {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }

    /// The view centred on (`x`, `y`).
    pub fn centred(self, x: f64, y: f64) -> Self {
        Self {
            x: x - self.w / 2.0,
            y: y - self.h / 2.0,
            ..self
        }
    }

    /// Whether a box centred at (`x`, `y`) of size `w` × `h` is near enough to draw.
    pub fn shows(&self, x: f64, y: f64, w: f64, h: f64) -> bool {
        x + w / 2.0 >= self.x - MARGIN
            && x - w / 2.0 <= self.x + self.w + MARGIN
            && y + h / 2.0 >= self.y - MARGIN
            && y - h / 2.0 <= self.y + self.h + MARGIN
    }

    /// Whether any part of a polyline's bounding box is near enough to draw.
    pub fn shows_line(&self, points: &[(f64, f64)]) -> bool {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in points {
            x0 = x0.min(*x);
            y0 = y0.min(*y);
            x1 = x1.max(*x);
            y1 = y1.max(*y);
        }
        !points.is_empty() && self.shows((x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0)
    }

    /// The SVG `viewBox`.
    pub fn view_box(&self) -> String {
        format!("{:.1} {:.1} {:.1} {:.1}", self.x, self.y, self.w, self.h)
    }
}

/// The SVG path of a polyline.
pub fn edge_path(points: &[(f64, f64)]) -> String {
    let mut d = String::with_capacity(points.len() * 16);
    for (i, (x, y)) in points.iter().enumerate() {
        d.push_str(if i == 0 { "M" } else { " L" });
        d.push_str(&format!("{x:.1} {y:.1}"));
    }
    d
}

/// `text` cut to `max` characters with an ellipsis.
pub fn fit_label(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Whether a node matches a search (case-insensitive, on its label and id).
pub fn matches_search(node: &GraphNode, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    !q.is_empty() && (node.label.to_lowercase().contains(&q) || node.id.to_lowercase() == q)
}

/// The graph with its controls. `selected` is the id of the node the panel shows; clicking a
/// node calls `on_select`, clicking a collapsed group calls `on_expand` with its parent's id.
#[component]
pub fn GraphCanvas(
    /// The laid-out graph.
    graph: Signal<GraphView>,
    /// The visible part; owned by the page so it survives live updates.
    viewport: RwSignal<Viewport>,
    /// The selected node.
    #[prop(into)]
    selected: Signal<Option<String>>,
    /// Called with a node's id when it is clicked.
    on_select: Callback<String>,
    /// Called with a collapsed group's parent id when it is clicked.
    on_expand: Callback<String>,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let drag = StoredValue::new(None::<(f64, f64)>);
    let matches = Memo::new(move |_| {
        let q = search.get();
        graph.with(|g| g.nodes.iter().filter(|n| matches_search(n, &q)).count())
    });
    let find_next = move || {
        let q = search.get_untracked();
        let hit = graph.with_untracked(|g| {
            g.nodes
                .iter()
                .find(|n| matches_search(n, &q))
                .map(|n| (n.x, n.y))
        });
        if let Some((x, y)) = hit {
            viewport.update(|v| *v = v.centred(x, y));
        }
    };
    let visible_nodes = move || {
        let v = viewport.get();
        graph.with(|g| {
            g.nodes
                .iter()
                .filter(|n| v.shows(n.x, n.y, n.width, n.height))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let visible_edges = move || {
        let v = viewport.get();
        graph.with(|g| {
            g.edges
                .iter()
                .enumerate()
                .filter(|(_, e)| v.shows_line(e))
                .map(|(i, e)| (i, edge_path(e)))
                .collect::<Vec<_>>()
        })
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let factor = if ev.delta_y() < 0.0 { 1.2 } else { 1.0 / 1.2 };
        let el = event_target::<web_sys::Element>(&ev);
        let rect = el.get_bounding_client_rect();
        let fx = ((f64::from(ev.client_x()) - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0);
        let fy = ((f64::from(ev.client_y()) - rect.top()) / rect.height().max(1.0)).clamp(0.0, 1.0);
        viewport.update(|v| *v = v.zoomed(factor, fx, fy));
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        drag.set_value(Some((f64::from(ev.client_x()), f64::from(ev.client_y()))));
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some((x0, y0)) = drag.get_value() else {
            return;
        };
        let (x, y) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
        let el = event_target::<web_sys::Element>(&ev);
        let width = el.get_bounding_client_rect().width().max(1.0);
        viewport.update(|v| {
            let scale = v.w / width;
            *v = v.panned((x0 - x) * scale, (y0 - y) * scale);
        });
        drag.set_value(Some((x, y)));
    };
    let stop = move |_| drag.set_value(None);
    let fit = move |_| graph.with_untracked(|g| viewport.set(Viewport::fit(g.width, g.height)));
    let reset = move |_| graph.with_untracked(|g| viewport.set(Viewport::opening(g)));
    let button = "rounded border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 px-2 py-1 text-sm text-slate-700 dark:text-slate-300 shadow-sm hover:bg-slate-50 dark:hover:bg-slate-800";
    view! {
        <div class="relative rounded-lg border border-slate-200 dark:border-slate-700 bg-slate-50 dark:bg-slate-950" data-testid="graph">
            <div class="absolute left-2 top-2 z-10 flex items-center gap-1">
                <button class=button title="Zoom in" on:click=move |_| viewport.update(|v| *v = v.zoomed(1.25, 0.5, 0.5))>"+"</button>
                <button class=button title="Zoom out" on:click=move |_| viewport.update(|v| *v = v.zoomed(0.8, 0.5, 0.5))>"−"</button>
                <button class=button title="Show the whole graph" on:click=fit>"Fit"</button>
                <button class=button title="Back to the start" on:click=reset>"Reset"</button>
                <input
                    type="search"
                    placeholder="Find a step…"
                    aria-label="Find a step"
                    data-testid="graph-search"
                    class="ml-2 w-48 rounded border border-slate-200 dark:border-slate-700 px-2 py-1 text-sm shadow-sm"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                    on:keydown=move |ev| if ev.key() == "Enter" { find_next() }
                />
                <span class="text-xs text-slate-500" data-testid="graph-matches">
                    {move || (!search.get().trim().is_empty()).then(|| format!("{} found", matches.get()))}
                </span>
            </div>
            <div class="absolute bottom-2 right-2 z-10 text-xs text-slate-400" data-testid="graph-count">
                {move || graph.with(|g| format!("{} nodes", g.nodes.len()))}
            </div>
            <svg
                class="h-[560px] w-full cursor-grab touch-none select-none"
                viewBox=move || viewport.get().view_box()
                preserveAspectRatio="xMidYMin meet"
                on:wheel=on_wheel
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=stop
                on:pointerleave=stop
                data-testid="graph-svg"
            >
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="fill-slate-400" />
                    </marker>
                </defs>
                <g>
                    <For each=visible_edges key=|(i, d)| (*i, d.clone()) let:edge>
                        <path d=edge.1 fill="none" stroke-width="1.2" class="stroke-slate-300 dark:stroke-slate-600" marker-end="url(#arrow)" />
                    </For>
                </g>
                <g>
                    <For
                        each=visible_nodes
                        key=|n| (n.id.clone(), n.phase, n.x.to_bits(), n.y.to_bits(), n.label.clone(), n.duration_seconds)
                        let:node
                    >
                        <GraphNodeView node selected search on_select on_expand />
                    </For>
                </g>
            </svg>
        </div>
    }
    .into_any()
}

/// One node: a box with an icon, its name and duration, or a small connector for step groups.
#[component]
fn GraphNodeView(
    node: GraphNode,
    #[prop(into)] selected: Signal<Option<String>>,
    search: RwSignal<String>,
    on_select: Callback<String>,
    on_expand: Callback<String>,
) -> impl IntoView {
    let (x, y, w, h) = (node.x, node.y, node.width, node.height);
    let id = node.id.clone();
    let transform = format!("translate({:.1},{:.1})", x - w / 2.0, y - h / 2.0);
    let title = format!(
        "{} · {}{}",
        node.label,
        node.phase.label(),
        node.duration_seconds
            .map(|d| format!(" · {}", format::duration(d)))
            .unwrap_or_default()
    );
    if node.kind.is_connector() {
        return view! {
            <g transform=transform data-node-id=id data-phase=node.phase.slug()>
                <title>{title}</title>
                <circle cx=w / 2.0 cy=h / 2.0 r=w / 2.0 - 2.0 class=icon_fill(node.phase) />
            </g>
        }
        .into_any();
    }
    let group = node.group.clone();
    let click_id = id.clone();
    let on_click = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        match &group {
            Some(g) => on_expand.run(g.parent.clone()),
            None => on_select.run(click_id.clone()),
        }
    };
    let is_selected = {
        let id = id.clone();
        move || selected.get().as_deref() == Some(id.as_str())
    };
    let hit_node = node.clone();
    let is_hit = Memo::new(move |_| matches_search(&hit_node, &search.get()));
    let stroke = move || {
        if is_selected() {
            "4"
        } else if is_hit.get() {
            "3"
        } else {
            "1.5"
        }
    };
    let dash = node.planned.then_some("5 4");
    let label = fit_label(
        &node.label,
        if node.kind == NodeKind::Collapsed {
            26
        } else {
            24
        },
    );
    let sub = match (&node.group, node.duration_seconds) {
        (Some(g), _) => g
            .phases
            .iter()
            .map(|(p, n)| format!("{} {n}", p.icon()))
            .collect::<Vec<_>>()
            .join("  "),
        _ if matches!(node.phase, Phase::Skipped | Phase::Omitted) => {
            node.phase.label().to_string()
        }
        (None, Some(d)) => format::duration(d),
        (None, None) if node.planned => node
            .template
            .clone()
            .unwrap_or_else(|| "not started".to_string()),
        (None, None) => node.phase.label().to_string(),
    };
    let classes = node_classes(node.phase);
    view! {
        <g
            transform=transform
            class="cursor-pointer"
            data-node-id=id
            data-testid="graph-node"
            data-phase=node.phase.slug()
            data-planned=node.planned.then_some("true")
            data-group=node.group.as_ref().map(|g| g.parent.clone())
            on:click=on_click
            on:pointerdown=|ev| ev.stop_propagation()
        >
            <title>{title}</title>
            <rect
                width=w
                height=h
                rx="8"
                class=classes
                stroke-width=stroke
                stroke-dasharray=dash
                class:stroke-amber-500=move || is_hit.get()
            />
            <circle cx="16" cy=h / 2.0 r="6" class=icon_fill(node.phase) />
            <text x="30" y=h / 2.0 - 3.0 class="fill-slate-800 dark:fill-slate-100 text-[12px] font-medium">{label}</text>
            <text x="30" y=h / 2.0 + 12.0 class="fill-slate-500 text-[10px]">{sub}</text>
        </g>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_graphs_open_whole_and_big_ones_at_a_readable_zoom() {
        let small = Viewport::initial(300.0, 200.0);
        assert_eq!(small.w, MIN_OPEN_WIDTH);
        assert!(small.x <= 0.0 && small.x + small.w >= 300.0);
        let tall = Viewport::initial(200.0, 600.0);
        assert!(tall.h >= 640.0, "a tall graph fits its height: {tall:?}");
        let taller = Viewport::initial(200.0, 5_000.0);
        assert_eq!(
            (taller.w, taller.y),
            (MAX_OPEN_WIDTH, -20.0),
            "opens at its top"
        );
        let big = Viewport::initial(40_000.0, 3_000.0);
        assert_eq!(big.w, MAX_OPEN_WIDTH);
        assert!(big.x > 0.0, "opens at the centre of the top");
        let all = Viewport::fit(40_000.0, 3_000.0);
        assert!(all.x <= 0.0 && all.x + all.w >= 40_000.0 && all.h >= 3_000.0);
    }

    #[test]
    fn a_wide_graph_opens_at_its_root() {
        let node = |x: f64, y: f64| GraphNode {
            id: format!("{x}"),
            label: String::new(),
            kind: NodeKind::Pod,
            phase: Phase::Pending,
            x,
            y,
            width: 200.0,
            height: 44.0,
            duration_seconds: None,
            group: None,
            planned: false,
            template: None,
        };
        let g = GraphView {
            width: 30_000.0,
            height: 3_000.0,
            nodes: vec![node(20_000.0, 500.0), node(2_000.0, 22.0)],
            edges: vec![],
        };
        let v = Viewport::opening(&g);
        assert!(
            v.x < 2_000.0 && v.x + v.w > 2_000.0,
            "the root is in view: {v:?}"
        );
        let narrow = GraphView { width: 300.0, ..g };
        assert_eq!(
            Viewport::opening(&narrow),
            Viewport::initial(300.0, 3_000.0)
        );
    }

    #[test]
    fn zooming_keeps_the_point_under_the_cursor() {
        let v = Viewport {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 500.0,
        };
        let z = v.zoomed(2.0, 0.25, 0.5);
        assert_eq!((z.w, z.h), (500.0, 250.0));
        // The point a quarter across stays a quarter across.
        assert_eq!(v.x + v.w * 0.25, z.x + z.w * 0.25);
        assert_eq!(v.y + v.h * 0.5, z.y + z.h * 0.5);
        assert_eq!(v.panned(10.0, -5.0).x, 10.0);
        assert_eq!(v.centred(500.0, 250.0), v);
    }

    #[test]
    fn only_what_is_near_the_view_is_drawn() {
        let v = Viewport {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 500.0,
        };
        assert!(v.shows(500.0, 250.0, 200.0, 44.0));
        assert!(v.shows(-250.0, 250.0, 200.0, 44.0), "within the margin");
        assert!(!v.shows(5000.0, 250.0, 200.0, 44.0));
        assert!(
            v.shows_line(&[(-1000.0, 100.0), (2000.0, 100.0)]),
            "a line across the view"
        );
        assert!(!v.shows_line(&[(5000.0, 0.0), (6000.0, 10.0)]));
        assert!(!v.shows_line(&[]));
    }

    #[test]
    fn paths_labels_and_search() {
        assert_eq!(edge_path(&[(0.0, 1.0), (2.5, 3.0)]), "M0.0 1.0 L2.5 3.0");
        assert_eq!(fit_label("short", 10), "short");
        assert_eq!(fit_label("a-very-long-step-name", 8), "a-very-…");
        let node = GraphNode {
            id: "wf-123".into(),
            label: "Deploy-Prod".into(),
            kind: NodeKind::Pod,
            phase: Phase::Running,
            x: 0.0,
            y: 0.0,
            width: 1.0,
            height: 1.0,
            duration_seconds: None,
            group: None,
            planned: false,
            template: None,
        };
        assert!(matches_search(&node, "deploy"));
        assert!(matches_search(&node, "WF-123"));
        assert!(!matches_search(&node, "  "));
        assert!(!matches_search(&node, "build"));
    }
}
