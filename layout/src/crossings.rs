//! Counting edge crossings: exactly on a layered order (what crossing reduction minimises), and
//! geometrically on a finished [`Layout`] (what a reader sees).

use crate::csr::Csr;
use crate::proper::Proper;
use crate::{Graph, Layout, Point};

/// The crossings of the order `layers` of `graph` (`pos[v]` is `v`'s index in its layer):
/// pairs of edges between the same two layers whose ends come in opposite orders. Takes
/// O(E log V) with one accumulator tree per pair of layers.
pub(crate) fn layered(graph: &Proper, layers: &[Vec<usize>], pos: &[usize]) -> u64 {
    let mut tree = Fenwick::default();
    layers
        .windows(2)
        .map(|pair| bilayer(&pair[0], pair[1].len(), &graph.down, pos, &mut tree))
        .sum()
}

/// The crossings between `upper` and the `lower` layer of `lower` nodes.
fn bilayer(upper: &[usize], lower: usize, down: &Csr, pos: &[usize], tree: &mut Fenwick) -> u64 {
    tree.reset(lower);
    let mut inserted = 0u64;
    let mut count = 0u64;
    for &u in upper {
        for &v in down.of(u) {
            count += inserted - tree.prefix(pos[v]);
        }
        for &v in down.of(u) {
            tree.add(pos[v]);
            inserted += 1;
        }
    }
    count
}

/// A Fenwick tree counting inserted positions.
#[derive(Debug, Default)]
struct Fenwick {
    counts: Vec<u64>,
}

impl Fenwick {
    fn reset(&mut self, len: usize) {
        self.counts.clear();
        self.counts.resize(len + 1, 0);
    }

    fn add(&mut self, at: usize) {
        let mut i = at + 1;
        while i < self.counts.len() {
            self.counts[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// How many inserted positions are `<= at`.
    fn prefix(&self, at: usize) -> u64 {
        let mut i = (at + 1).min(self.counts.len() - 1);
        let mut sum = 0;
        while i > 0 {
            sum += self.counts[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// One straight piece of an edge's polyline.
#[derive(Debug, Clone, Copy)]
struct Segment {
    a: Point,
    b: Point,
    edge: usize,
    top: f64,
    bottom: f64,
}

/// Counts the points where the polylines of `layout` cross, for two edges of `graph` that share
/// no endpoint node; a pair of edges crossing twice counts twice. Only proper crossings count
/// (not touching or overlapping pieces). Sweeps the pieces top to bottom, comparing each with
/// those whose vertical extent it meets, so it stays quick on layered drawings.
pub fn crossings(graph: &Graph, layout: &Layout) -> usize {
    let segments = segments(layout, graph.edges.len());
    let shares = |i: usize, j: usize| {
        let (a, b) = (graph.edges[i], graph.edges[j]);
        a.0 == b.0 || a.0 == b.1 || a.1 == b.0 || a.1 == b.1
    };
    let mut active: Vec<Segment> = Vec::new();
    let mut count = 0;
    for s in segments {
        active.retain(|t| t.bottom >= s.top);
        count += active
            .iter()
            .filter(|t| t.edge != s.edge && !shares(s.edge, t.edge) && cross(&s, t))
            .count();
        active.push(s);
    }
    count
}

/// The pieces of the polylines of the first `edges` edges, sorted by their top.
fn segments(layout: &Layout, edges: usize) -> Vec<Segment> {
    let mut out = Vec::new();
    for (edge, line) in layout.edges.iter().take(edges).enumerate() {
        for w in line.windows(2) {
            let (a, b) = (w[0], w[1]);
            out.push(Segment {
                a,
                b,
                edge,
                top: a.y.min(b.y),
                bottom: a.y.max(b.y),
            });
        }
    }
    out.sort_by(|s, t| s.top.total_cmp(&t.top));
    out
}

/// Whether two segments cross at a point inside both.
fn cross(s: &Segment, t: &Segment) -> bool {
    let (lo, hi) = (s.a.x.min(s.b.x), s.a.x.max(s.b.x));
    if t.a.x.max(t.b.x) < lo || t.a.x.min(t.b.x) > hi {
        return false;
    }
    let opposite = |p: f64, q: f64| (p > 0.0 && q < 0.0) || (p < 0.0 && q > 0.0);
    opposite(side(s.a, s.b, t.a), side(s.a, s.b, t.b))
        && opposite(side(t.a, t.b, s.a), side(t.a, t.b, s.b))
}

/// Which side of the line through `a` and `b` the point `p` is on (the sign of the cross product).
fn side(a: Point, b: Point, p: Point) -> f64 {
    (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64) -> Point {
        Point { x, y }
    }

    #[test]
    fn an_x_crosses_once_unless_the_edges_share_a_node() {
        let layout = Layout {
            edges: vec![
                vec![p(0.0, 0.0), p(10.0, 10.0)],
                vec![p(10.0, 0.0), p(0.0, 10.0)],
            ],
            ..Layout::default()
        };
        let apart = Graph {
            edges: vec![(0, 1), (2, 3)],
            ..Graph::default()
        };
        assert_eq!(crossings(&apart, &layout), 1);
        let sharing = Graph {
            edges: vec![(0, 1), (0, 3)],
            ..Graph::default()
        };
        assert_eq!(crossings(&sharing, &layout), 0);
    }

    #[test]
    fn parallel_and_touching_pieces_do_not_cross() {
        let layout = Layout {
            edges: vec![
                vec![p(0.0, 0.0), p(0.0, 10.0)],
                vec![p(5.0, 0.0), p(5.0, 10.0)],
                vec![p(0.0, 10.0), p(5.0, 20.0)],
            ],
            ..Layout::default()
        };
        let graph = Graph {
            edges: vec![(0, 1), (2, 3), (4, 5)],
            ..Graph::default()
        };
        assert_eq!(crossings(&graph, &layout), 0);
    }

    #[test]
    fn layered_counts_inversions_between_layers() {
        // 0, 1 above 2, 3: 0 -> 3 and 1 -> 2 cross, 0 -> 2 joins them.
        let graph = Proper::new(&[0, 0, 1, 1], &[(0, 3), (1, 2), (0, 2)]);
        let layers = vec![vec![0, 1], vec![2, 3]];
        assert_eq!(layered(&graph, &layers, &[0, 1, 0, 1]), 1);
        let swapped = vec![vec![0, 1], vec![3, 2]];
        assert_eq!(layered(&graph, &swapped, &[0, 1, 1, 0]), 0);
        let flat = vec![vec![1, 0], vec![2, 3]];
        assert_eq!(layered(&graph, &flat, &[1, 0, 0, 1]), 0);
    }
}
