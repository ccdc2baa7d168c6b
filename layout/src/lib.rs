//! A layered (Sugiyama-style) layout of directed graphs, drawn top to bottom, built to stay fast
//! at thousands of nodes: linear-time layering, a bounded number of crossing-reduction sweeps and
//! coordinates assigned in a bounded number of linear passes.
//!
//! The stages, one module each:
//! 1. [`acyclic`]: drops bad indexes and self-loops, reverses the back edges of an iterative
//!    depth-first search and merges duplicate edges, leaving a DAG;
//! 2. [`rank`]: longest-path layering, then greedy moves that shorten edges;
//! 3. [`proper`]: splits edges spanning several layers with dummy nodes;
//! 4. [`order`]: barycenter sweeps, down and up, with adjacent exchanges, keeping the best order;
//! 5. [`position`]: per-layer placement at the weighted mean of the neighbours, solved exactly
//!    under the no-overlap constraints;
//! 6. [`route`]: edge polylines through the dummy nodes.
//!
//! Pure: no I/O, no clock; the same input always gives the same output.

mod acyclic;
mod crossings;
mod csr;
mod order;
mod position;
mod proper;
mod rank;
mod route;

use serde::{Deserialize, Serialize};

pub use crossings::crossings;

/// A graph to lay out: node sizes and directed edges between node indexes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// The nodes' sizes, by index.
    pub nodes: Vec<Size>,
    /// Directed edges `(from, to)` between node indexes.
    pub edges: Vec<(usize, usize)>,
}

/// The size of a node's box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Size {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// A point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal, growing to the right.
    pub x: f64,
    /// Vertical, growing downwards.
    pub y: f64,
}

/// Spacing of a layout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Horizontal gap between neighbouring nodes of one layer.
    pub node_sep: f64,
    /// Vertical gap between layers.
    pub rank_sep: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            node_sep: 24.0,
            rank_sep: 48.0,
        }
    }
}

/// Where everything goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// Each node's centre, by index.
    pub nodes: Vec<Point>,
    /// Each edge's polyline, in the input's edge order, from the source's bottom to the target's top.
    ///
    /// An edge that had to be reversed to break a cycle runs upwards instead, from the source's
    /// top to the target's bottom; a self-loop goes round the right side of its node, from its
    /// bottom centre to its top centre; an edge with an index out of range has an empty polyline.
    pub edges: Vec<Vec<Point>>,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
}

/// Lays `graph` out with `options`.
///
/// Never panics: cycles, self-loops, duplicate edges and edges naming missing nodes are all
/// accepted (see [`Layout::edges`]). Sizes and spacings that are negative or not finite count
/// as zero.
pub fn layout(graph: &Graph, options: &Options) -> Layout {
    if graph.nodes.is_empty() {
        return Layout {
            edges: vec![Vec::new(); graph.edges.len()],
            ..Layout::default()
        };
    }
    let sizes: Vec<Size> = graph.nodes.iter().map(|s| sanitize_size(*s)).collect();
    let spacing = Options {
        node_sep: sanitize(options.node_sep),
        rank_sep: sanitize(options.rank_sep),
    };
    let dag = acyclic::Acyclic::new(sizes.len(), &graph.edges);
    let ranks = rank::ranks(sizes.len(), &dag.edges);
    let proper = proper::Proper::new(&ranks, &dag.edges);
    let layers = order::order(&proper);
    let coords = position::Coords::new(&proper, &layers, &sizes, &dag.loops, &spacing);
    let edges = route::polylines(&dag, &proper, &coords, &sizes);
    Layout {
        nodes: (0..sizes.len()).map(|v| coords.centre(v)).collect(),
        edges,
        width: coords.width,
        height: coords.height,
    }
}

/// A finite, non-negative number: anything else is zero.
fn sanitize(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    }
}

fn sanitize_size(size: Size) -> Size {
    Size {
        width: sanitize(size.width),
        height: sanitize(size.height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stages of 1-6 nodes, each node depending on 1-3 nodes of the stage before.
    fn staged(stages: usize, mut seed: u64) -> Graph {
        let mut next = |k: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % k
        };
        let (mut edges, mut previous, mut count) = (Vec::new(), 0..0, 0);
        for _ in 0..stages {
            let stage = count..count + 1 + next(6);
            for v in stage.clone() {
                for _ in 0..(if previous.is_empty() { 0 } else { 1 + next(3) }) {
                    let u = previous.start + next(previous.len());
                    if !edges.contains(&(u, v)) {
                        edges.push((u, v));
                    }
                }
            }
            count = stage.end;
            previous = stage;
        }
        let box_ = Size {
            width: 100.0,
            height: 30.0,
        };
        Graph {
            nodes: vec![box_; count],
            edges,
        }
    }

    #[test]
    fn the_drawing_crosses_exactly_where_the_order_does() {
        let graph = staged(40, 3);
        let dag = acyclic::Acyclic::new(graph.nodes.len(), &graph.edges);
        let ranks = rank::ranks(graph.nodes.len(), &dag.edges);
        assert!(graph.edges.iter().all(|&(u, v)| ranks[v] == ranks[u] + 1));
        let proper = proper::Proper::new(&ranks, &dag.edges);
        let layers = order::order(&proper);
        let expected = crossings::layered(&proper, &layers, &order::positions(&proper, &layers));
        let drawn = layout(&graph, &Options::default());
        assert!(expected > 0, "the test graph has unavoidable crossings");
        assert_eq!(crossings(&graph, &drawn) as u64, expected);
    }
}
