//! Coordinates. Layers stack top to bottom, each as tall as its tallest node and `rank_sep`
//! apart. Within a layer, nodes are first packed left to right, then a bounded number of sweeps
//! moves each layer as close as it can to where its neighbours pull it: each node wants the
//! weighted mean of its neighbours' x (edges between dummies weigh most, which straightens long
//! edges), and the layer's positions are solved exactly, in linear time, under the constraint
//! that neighbours stay at least their widths plus the node separation apart (an isotonic
//! regression by pool-adjacent-violators).

use crate::csr::Csr;
use crate::proper::Proper;
use crate::{Options, Point, Size};

/// Which neighbours a sweep pulls towards.
#[derive(Debug, Clone, Copy)]
enum Pull {
    Above,
    Below,
    Both,
}

/// The sweeps made, in order: downwards towards the layer above, upwards towards the layer
/// below, then alternately down and up towards both.
const SWEEPS: [(bool, Pull); 8] = [
    (true, Pull::Above),
    (false, Pull::Below),
    (true, Pull::Both),
    (false, Pull::Both),
    (true, Pull::Both),
    (false, Pull::Both),
    (true, Pull::Both),
    (false, Pull::Both),
];

/// How much a node with no neighbour to pull it wants to stay where it is.
const INERTIA: f64 = 1e-3;

/// Where every node, real or dummy, goes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Coords {
    /// Each node's centre x.
    pub x: Vec<f64>,
    /// The top of each layer.
    pub top: Vec<f64>,
    /// The bottom of each layer.
    pub bottom: Vec<f64>,
    /// The layer of each node.
    rank: Vec<usize>,
    /// How far right of a node with a self-loop its loop runs.
    pub loop_offset: f64,
    /// Width of the drawing.
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
}

impl Coords {
    /// Places the ordered `layers` of `graph`, whose real nodes have `sizes` and, where `loops`
    /// says so, a self-loop.
    pub fn new(
        graph: &Proper,
        layers: &[Vec<usize>],
        sizes: &[Size],
        loops: &[bool],
        options: &Options,
    ) -> Self {
        let width = |v: usize| {
            if graph.is_dummy(v) {
                0.0
            } else {
                sizes[v].width
            }
        };
        let half_sep = options.node_sep / 2.0;
        let gap = |a: usize, b: usize| {
            let both_real = !graph.is_dummy(a) && !graph.is_dummy(b);
            let looped = !graph.is_dummy(a) && loops[a];
            (width(a) + width(b)) / 2.0
                + if both_real {
                    options.node_sep
                } else {
                    half_sep
                }
                + if looped { half_sep } else { 0.0 }
        };
        let mut x = place(graph, layers, &gap);
        let left = (0..graph.len())
            .map(|v| x[v] - width(v) / 2.0)
            .fold(f64::INFINITY, f64::min);
        x.iter_mut().for_each(|x| *x -= left);
        let right = |v: usize| {
            let looped = !graph.is_dummy(v) && loops[v];
            x[v] + width(v) / 2.0 + if looped { half_sep } else { 0.0 }
        };
        let drawing_width = (0..graph.len()).map(right).fold(0.0, f64::max);
        let (top, bottom) = stack(graph, layers, sizes, options.rank_sep);
        Coords {
            height: bottom.last().copied().unwrap_or(0.0),
            width: drawing_width,
            x,
            top,
            bottom,
            rank: graph.rank.clone(),
            loop_offset: half_sep,
        }
    }

    /// The centre of node `v`.
    pub fn centre(&self, v: usize) -> Point {
        let r = self.rank[v];
        Point {
            x: self.x[v],
            y: (self.top[r] + self.bottom[r]) / 2.0,
        }
    }

    /// The layer of node `v`.
    pub fn rank(&self, v: usize) -> usize {
        self.rank[v]
    }
}

/// The top and bottom of each layer: as tall as its tallest real node, `rank_sep` apart.
fn stack(graph: &Proper, layers: &[Vec<usize>], sizes: &[Size], sep: f64) -> (Vec<f64>, Vec<f64>) {
    let mut top = Vec::with_capacity(layers.len());
    let mut bottom = Vec::with_capacity(layers.len());
    let mut y = 0.0;
    for layer in layers {
        let tallest = layer
            .iter()
            .filter(|&&v| !graph.is_dummy(v))
            .map(|&v| sizes[v].height)
            .fold(0.0, f64::max);
        top.push(y);
        bottom.push(y + tallest);
        y += tallest + sep;
    }
    (top, bottom)
}

/// The x of every node: packed, then swept.
fn place(graph: &Proper, layers: &[Vec<usize>], gap: &dyn Fn(usize, usize) -> f64) -> Vec<f64> {
    let mut x = vec![0.0; graph.len()];
    let mut layer_gaps: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
    for layer in layers {
        let gaps: Vec<f64> = layer.windows(2).map(|w| gap(w[0], w[1])).collect();
        let mut at = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                at += gaps[i - 1];
            }
            x[v] = at;
        }
        layer_gaps.push(gaps);
    }
    let mut scratch = Scratch::default();
    for (down, pull) in SWEEPS {
        for step in 0..layers.len() {
            let r = if down { step } else { layers.len() - 1 - step };
            scratch.targets(graph, &layers[r], &x, pull);
            scratch.solve(&layers[r], &layer_gaps[r], &mut x);
        }
    }
    x
}

/// The weight of an edge between `a` and `b` when pulling them into line.
fn weight(graph: &Proper, a: usize, b: usize) -> f64 {
    match (graph.is_dummy(a), graph.is_dummy(b)) {
        (true, true) => 8.0,
        (false, false) => 1.0,
        _ => 2.0,
    }
}

/// Buffers reused from layer to layer.
#[derive(Default)]
struct Scratch {
    /// Where each node of the layer wants to be, and how much.
    wants: Vec<(f64, f64)>,
    /// Pool-adjacent-violators blocks: total weight, weighted sum, node count.
    blocks: Vec<(f64, f64, usize)>,
}

impl Scratch {
    /// Fills `wants` with the weighted mean x of each node's neighbours on the `pull` side(s).
    fn targets(&mut self, graph: &Proper, layer: &[usize], x: &[f64], pull: Pull) {
        self.wants.clear();
        for &v in layer {
            let (mut total, mut sum) = (0.0, 0.0);
            let mut add = |side: &Csr| {
                for &u in side.of(v) {
                    let w = weight(graph, u, v);
                    total += w;
                    sum += w * x[u];
                }
            };
            match pull {
                Pull::Above => add(&graph.up),
                Pull::Below => add(&graph.down),
                Pull::Both => {
                    add(&graph.up);
                    add(&graph.down);
                }
            }
            self.wants.push(if total > 0.0 {
                (sum / total, total)
            } else {
                (x[v], INERTIA)
            });
        }
    }

    /// Sets the x of `layer`'s nodes to the closest fit, in the weighted least-squares sense,
    /// to `wants` that keeps node `i + 1` at least `gaps[i]` right of node `i`.
    fn solve(&mut self, layer: &[usize], gaps: &[f64], x: &mut [f64]) {
        // With `shift[i]` the sum of the gaps before node i, y[i] = x[i] - shift[i] only has to
        // be non-decreasing.
        self.blocks.clear();
        let mut shift = 0.0;
        for (i, &(want, w)) in self.wants.iter().enumerate() {
            if i > 0 {
                shift += gaps[i - 1];
            }
            self.blocks.push((w, w * (want - shift), 1));
            while let [.., a, b] = self.blocks[..] {
                if a.1 / a.0 < b.1 / b.0 {
                    break;
                }
                self.blocks.pop();
                let last = self.blocks.len() - 1;
                self.blocks[last] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
            }
        }
        let (mut i, mut shift) = (0, 0.0);
        for &(w, sum, count) in &self.blocks {
            for _ in 0..count {
                if i > 0 {
                    shift += gaps[i - 1];
                }
                x[layer[i]] = sum / w + shift;
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_keeps_the_gaps_and_meets_free_wants() {
        let mut s = Scratch {
            wants: vec![(0.0, 1.0), (0.0, 1.0), (100.0, 1.0)],
            blocks: Vec::new(),
        };
        let mut x = vec![0.0; 3];
        s.solve(&[0, 1, 2], &[10.0, 10.0], &mut x);
        assert_eq!(x, vec![-5.0, 5.0, 100.0]);
    }

    #[test]
    fn a_node_centres_over_its_children() {
        let graph = Proper::new(&[0, 1, 1], &[(0, 1), (0, 2)]);
        let layers = vec![vec![0], vec![1, 2]];
        let sizes = vec![
            Size {
                width: 10.0,
                height: 10.0
            };
            3
        ];
        let c = Coords::new(&graph, &layers, &sizes, &[false; 3], &Options::default());
        assert_eq!(c.x[0], (c.x[1] + c.x[2]) / 2.0);
        assert_eq!(c.x[2] - c.x[1], 10.0 + 24.0);
        assert_eq!(c.width, 10.0 + 24.0 + 10.0);
        assert_eq!(c.height, 10.0 + 48.0 + 10.0);
    }
}
