//! Properties of whole layouts: no overlaps, edges downwards and attached to their nodes, no
//! panics on bad input, determinism, and few crossings.

#[path = "../benches/workflows/mod.rs"]
mod workflows;

use layout::{Graph, Layout, Options, Point, Size, crossings, layout};

const EPS: f64 = 1e-6;

fn boxes(n: usize) -> Vec<Size> {
    vec![workflows::TASK; n]
}

fn graph(n: usize, edges: &[(usize, usize)]) -> Graph {
    Graph {
        nodes: boxes(n),
        edges: edges.to_vec(),
    }
}

/// The generated workflow graphs, small enough for a debug build.
fn samples() -> Vec<(String, Graph)> {
    let mut all = workflows::all(&[60, 300]);
    let mut mixed = graph(7, &[(0, 1), (0, 2), (1, 3), (2, 3), (4, 5)]);
    mixed.nodes[3] = Size {
        width: 300.0,
        height: 90.0,
    };
    mixed.nodes[6] = workflows::JOIN;
    all.push(("mixed".into(), mixed));
    all
}

fn assert_no_overlap(g: &Graph, l: &Layout, options: &Options) {
    let mut by_row: Vec<usize> = (0..g.nodes.len()).collect();
    by_row.sort_by(|&a, &b| {
        let (p, q) = (l.nodes[a], l.nodes[b]);
        p.y.total_cmp(&q.y).then(p.x.total_cmp(&q.x))
    });
    for w in by_row.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (p, q) = (l.nodes[a], l.nodes[b]);
        let same_row = (p.y - q.y).abs() < EPS;
        let room = (g.nodes[a].width + g.nodes[b].width) / 2.0 + options.node_sep;
        assert!(
            !same_row || q.x - p.x >= room - EPS,
            "nodes {a} and {b} overlap: {p:?} {q:?}"
        );
    }
}

fn assert_inside(g: &Graph, l: &Layout) {
    for (v, p) in l.nodes.iter().enumerate() {
        let s = g.nodes[v];
        assert!(
            p.x - s.width / 2.0 >= -EPS && p.y - s.height / 2.0 >= -EPS,
            "node {v} at {p:?}"
        );
        assert!(
            p.x + s.width / 2.0 <= l.width + EPS,
            "node {v} past the width"
        );
        assert!(
            p.y + s.height / 2.0 <= l.height + EPS,
            "node {v} past the height"
        );
    }
    for p in l.edges.iter().flatten() {
        assert!(p.x >= -EPS && p.y >= -EPS && p.x <= l.width + EPS && p.y <= l.height + EPS);
    }
}

fn close(p: Point, q: Point) -> bool {
    (p.x - q.x).abs() < EPS && (p.y - q.y).abs() < EPS
}

fn bottom(l: &Layout, g: &Graph, v: usize) -> Point {
    let c = l.nodes[v];
    Point {
        x: c.x,
        y: c.y + g.nodes[v].height / 2.0,
    }
}

fn top(l: &Layout, g: &Graph, v: usize) -> Point {
    let c = l.nodes[v];
    Point {
        x: c.x,
        y: c.y - g.nodes[v].height / 2.0,
    }
}

#[test]
fn nodes_of_a_layer_never_overlap() {
    for options in [
        Options::default(),
        Options {
            node_sep: 0.0,
            rank_sep: 10.0,
        },
    ] {
        for (name, g) in samples() {
            let l = layout(&g, &options);
            assert_eq!(l.nodes.len(), g.nodes.len(), "{name}");
            assert_no_overlap(&g, &l, &options);
        }
    }
}

#[test]
fn everything_fits_in_the_drawing_from_the_origin() {
    for (_, g) in samples() {
        assert_inside(&g, &layout(&g, &Options::default()));
    }
}

#[test]
fn every_edge_of_a_dag_goes_down() {
    for (name, g) in samples() {
        let l = layout(&g, &Options::default());
        for &(u, v) in &g.edges {
            assert!(l.nodes[v].y > l.nodes[u].y, "{name}: {u} -> {v}");
        }
    }
}

#[test]
fn polylines_leave_the_source_bottom_and_enter_the_target_top() {
    for (name, g) in samples() {
        let l = layout(&g, &Options::default());
        assert_eq!(l.edges.len(), g.edges.len());
        for (line, &(u, v)) in l.edges.iter().zip(&g.edges) {
            assert!(line.len() >= 2, "{name}: {u} -> {v}");
            assert!(
                close(line[0], bottom(&l, &g, u)),
                "{name}: {u} -> {v} starts at {:?}",
                line[0]
            );
            assert!(
                close(line[line.len() - 1], top(&l, &g, v)),
                "{name}: {u} -> {v} ends wrong"
            );
            assert!(
                line.windows(2).all(|w| w[1].y >= w[0].y),
                "{name}: {u} -> {v} goes up"
            );
        }
    }
}

#[test]
fn long_edges_bend_only_between_layers() {
    // 0 -> 2 skips a layer: it passes 1's layer as a vertical piece.
    let g = graph(3, &[(0, 1), (1, 2), (0, 2)]);
    let l = layout(&g, &Options::default());
    let line = &l.edges[2];
    assert_eq!(line.len(), 4);
    assert_eq!(line[1].x, line[2].x);
    assert!(close(
        line[1],
        Point {
            x: line[1].x,
            y: l.nodes[1].y - 22.0
        }
    ));
    assert!(close(
        line[2],
        Point {
            x: line[1].x,
            y: l.nodes[1].y + 22.0
        }
    ));
}

#[test]
fn cycles_loops_duplicates_and_bad_indexes_do_not_panic() {
    let g = graph(
        4,
        &[
            (0, 1),
            (1, 2),
            (2, 0),
            (3, 3),
            (1, 9),
            (9, 9),
            (0, 1),
            (2, 1),
            (1, 0),
        ],
    );
    let l = layout(&g, &Options::default());
    assert_eq!(l.edges.len(), g.edges.len());
    assert!(
        l.edges[4].is_empty() && l.edges[5].is_empty(),
        "out-of-range edges are empty"
    );
    assert_eq!(l.edges[0], l.edges[6], "duplicates share a polyline");
    // The self-loop leaves 3's bottom and comes back into its top.
    let lp = &l.edges[3];
    assert!(close(lp[0], bottom(&l, &g, 3)) && close(lp[lp.len() - 1], top(&l, &g, 3)));
    assert!(lp.iter().any(|p| p.x > l.nodes[3].x + 90.0) && lp.iter().all(|p| p.x <= l.width));
    // 2 -> 0 closes the cycle: it runs upwards, from 2's top to 0's bottom.
    let back = &l.edges[2];
    assert!(l.nodes[2].y > l.nodes[0].y);
    assert!(close(back[0], top(&l, &g, 2)) && close(back[back.len() - 1], bottom(&l, &g, 0)));
    assert_no_overlap(&g, &l, &Options::default());
    assert_inside(&g, &l);
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let empty = layout(&Graph::default(), &Options::default());
    assert_eq!(
        (empty.width, empty.height, empty.nodes.len()),
        (0.0, 0.0, 0)
    );
    let dangling = layout(
        &Graph {
            nodes: vec![],
            edges: vec![(0, 1)],
        },
        &Options::default(),
    );
    assert_eq!(dangling.edges, vec![Vec::<Point>::new()]);
    let weird = Graph {
        nodes: vec![
            Size {
                width: f64::NAN,
                height: -3.0,
            },
            Size {
                width: f64::INFINITY,
                height: 5.0,
            },
        ],
        edges: vec![(0, 1), (1, 0), (usize::MAX, 0)],
    };
    let l = layout(
        &weird,
        &Options {
            node_sep: f64::NAN,
            rank_sep: -1.0,
        },
    );
    assert!(l.nodes.iter().all(|p| p.x.is_finite() && p.y.is_finite()));
    assert!(l.width.is_finite() && l.height.is_finite());
}

#[test]
fn disconnected_components_and_isolated_nodes_are_all_placed() {
    let g = graph(7, &[(0, 1), (2, 3), (3, 4)]);
    let l = layout(&g, &Options::default());
    assert_no_overlap(&g, &l, &Options::default());
    assert_inside(&g, &l);
    assert_eq!(crossings(&g, &l), 0);
}

#[test]
fn layouts_are_deterministic() {
    for (name, g) in samples() {
        let first = layout(&g, &Options::default());
        for _ in 0..3 {
            assert_eq!(layout(&g, &Options::default()), first, "{name}");
        }
    }
}

#[test]
fn planar_shapes_are_drawn_without_crossings() {
    let parallel = graph(6, &[(0, 2), (2, 4), (1, 3), (3, 5)]);
    let diamond = graph(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
    // Listed so that the index order would cross: 0 -> 3, 1 -> 2.
    let untangle = graph(6, &[(0, 3), (1, 2), (3, 5), (2, 4)]);
    for g in [parallel, diamond, untangle] {
        assert_eq!(crossings(&g, &layout(&g, &Options::default())), 0, "{g:?}");
    }
    for (name, g) in workflows::all(&[60, 300])
        .into_iter()
        .filter(|(n, _)| !n.starts_with("dag"))
    {
        assert_eq!(crossings(&g, &layout(&g, &Options::default())), 0, "{name}");
    }
}

#[test]
fn a_complete_bipartite_k22_crosses_at_most_once() {
    let g = graph(4, &[(0, 2), (0, 3), (1, 2), (1, 3)]);
    let l = layout(&g, &Options::default());
    // All four edges share endpoints pairwise except 0 -> 3 with 1 -> 2 and 0 -> 2 with 1 -> 3.
    assert!(crossings(&g, &l) <= 1);
    let k33 = graph(
        6,
        &[
            (0, 3),
            (0, 4),
            (0, 5),
            (1, 3),
            (1, 4),
            (1, 5),
            (2, 3),
            (2, 4),
            (2, 5),
        ],
    );
    assert!(crossings(&k33, &layout(&k33, &Options::default())) <= 9);
}

#[test]
fn the_json_format_is_the_benchmarks() {
    let g: Graph = serde_json::from_str(
        r#"{"nodes":[{"width":180,"height":44},{"width":24,"height":24}],"edges":[[0,1]]}"#,
    )
    .unwrap();
    assert_eq!(
        g,
        Graph {
            nodes: vec![workflows::TASK, workflows::JOIN],
            edges: vec![(0, 1)]
        }
    );
    let text = serde_json::to_string(&layout(&g, &Options::default())).unwrap();
    assert!(text.starts_with(r#"{"nodes":[{"x":"#) && text.contains(r#""edges":[[{"x":"#));
}

#[test]
fn large_inputs_do_not_overflow_the_stack() {
    let n = 20_000;
    let chain: Vec<(usize, usize)> = (1..n).map(|i| (i - 1, i)).collect();
    let mut cycle = chain.clone();
    cycle.push((n - 1, 0));
    for edges in [chain, cycle] {
        let g = graph(n, &edges);
        let l = layout(&g, &Options::default());
        assert_eq!(l.nodes.len(), n);
        assert!(l.nodes[n - 1].y > l.nodes[0].y);
    }
}
