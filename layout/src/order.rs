//! Crossing reduction: an initial order from a depth-first search, then a bounded number of
//! barycenter sweeps, alternately down and up, each followed by a bounded adjacent-exchange
//! ("transpose") pass. The order with the fewest crossings seen wins.

use crate::crossings::layered;
use crate::csr::Csr;
use crate::proper::Proper;

/// How many sweeps to make at most.
const MAX_SWEEPS: usize = 32;
/// How many sweeps in a row may fail to improve on the best order before giving up.
const PATIENCE: usize = 4;
/// How many exchange passes over one layer to make at most, per sweep.
const TRANSPOSE_PASSES: usize = 4;

/// The order of each layer's nodes, left to right, with few crossings.
pub(crate) fn order(graph: &Proper) -> Vec<Vec<usize>> {
    let mut state = State::initial(graph);
    let mut best = state.layers.clone();
    let mut fewest = state.crossings(graph);
    let mut stale = 0;
    for sweep in 0..MAX_SWEEPS {
        if fewest == 0 || stale == PATIENCE {
            break;
        }
        state.sweep(graph, sweep % 2 == 0, sweep % 4 >= 2);
        state.transpose(graph);
        let count = state.crossings(graph);
        if count < fewest {
            best.clone_from(&state.layers);
            fewest = count;
            stale = 0;
        } else {
            stale += 1;
        }
    }
    best
}

/// The initial order, before any sweep, as produced by [`order`]'s first step.
#[cfg(test)]
pub(crate) fn initial(graph: &Proper) -> Vec<Vec<usize>> {
    State::initial(graph).layers
}

/// Position of every node of `layers` within its layer.
pub(crate) fn positions(graph: &Proper, layers: &[Vec<usize>]) -> Vec<usize> {
    let mut pos = vec![0; graph.len()];
    for layer in layers {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    }
    pos
}

/// An order being improved.
struct State {
    layers: Vec<Vec<usize>>,
    pos: Vec<usize>,
}

impl State {
    /// Nodes in the order an iterative depth-first search down the layers reaches them,
    /// starting from each node in order of rank, then index.
    fn initial(graph: &Proper) -> Self {
        let mut starts: Vec<usize> = (0..graph.len()).collect();
        starts.sort_by_key(|&v| graph.rank[v]);
        let mut layers = vec![Vec::new(); graph.layers];
        let mut seen = vec![false; graph.len()];
        let mut stack = Vec::new();
        for start in starts {
            stack.push(start);
            while let Some(v) = stack.pop() {
                if seen[v] {
                    continue;
                }
                seen[v] = true;
                layers[graph.rank[v]].push(v);
                stack.extend(graph.down.of(v).iter().rev().filter(|&&s| !seen[s]));
            }
        }
        let pos = positions(graph, &layers);
        State { layers, pos }
    }

    fn crossings(&self, graph: &Proper) -> u64 {
        layered(graph, &self.layers, &self.pos)
    }

    /// Reorders each layer by the barycenter of its neighbours in the layer before it: going
    /// down, the layer above; going up, the layer below. `right` breaks ties the other way.
    fn sweep(&mut self, graph: &Proper, down: bool, right: bool) {
        let count = self.layers.len();
        let mut scratch = Vec::new();
        for step in 1..count {
            let (r, side) = if down {
                (step, &graph.up)
            } else {
                (count - 1 - step, &graph.down)
            };
            reorder(
                &mut self.layers[r],
                &mut self.pos,
                side,
                right,
                &mut scratch,
            );
        }
    }

    /// Swaps neighbouring nodes of a layer while that removes crossings, layer by layer.
    fn transpose(&mut self, graph: &Proper) {
        let mut lists = Lists::default();
        for r in 0..self.layers.len() {
            lists.fill(&self.layers[r], &self.pos, graph);
            let layer = &mut self.layers[r];
            for _ in 0..TRANSPOSE_PASSES {
                if !lists.exchange(layer) {
                    break;
                }
            }
            for (i, &v) in layer.iter().enumerate() {
                self.pos[v] = i;
            }
        }
    }
}

/// Sorts the nodes of `layer` that have neighbours in `side` by their barycenter; the others
/// keep their places.
fn reorder(
    layer: &mut [usize],
    pos: &mut [usize],
    side: &Csr,
    right: bool,
    movable: &mut Vec<(f64, usize, usize)>,
) {
    movable.clear();
    for (i, &v) in layer.iter().enumerate() {
        let around = side.of(v);
        if !around.is_empty() {
            let sum: usize = around.iter().map(|&u| pos[u]).sum();
            movable.push((sum as f64 / around.len() as f64, i, v));
        }
    }
    movable.sort_by(|a, b| {
        let tie = if right { b.1.cmp(&a.1) } else { a.1.cmp(&b.1) };
        a.0.total_cmp(&b.0).then(tie)
    });
    let mut next = movable.iter();
    for (i, slot) in layer.iter_mut().enumerate() {
        if !side.of(*slot).is_empty()
            && let Some(&(_, _, v)) = next.next()
        {
            *slot = v;
        }
        pos[*slot] = i;
    }
}

/// For the nodes of one layer, the sorted positions of their neighbours above and below, kept
/// in flat arrays: node `slot`'s are `up[up_at[slot]..up_at[slot + 1]]`, likewise below.
#[derive(Default)]
struct Lists {
    up: Vec<usize>,
    up_at: Vec<usize>,
    down: Vec<usize>,
    down_at: Vec<usize>,
    /// The node in each slot.
    node: Vec<usize>,
    /// The slot at each index of the layer.
    slot: Vec<usize>,
}

impl Lists {
    fn fill(&mut self, layer: &[usize], pos: &[usize], graph: &Proper) {
        fill_side(&mut self.up, &mut self.up_at, layer, pos, &graph.up);
        fill_side(&mut self.down, &mut self.down_at, layer, pos, &graph.down);
        self.node.clear();
        self.node.extend_from_slice(layer);
        self.slot.clear();
        self.slot.extend(0..layer.len());
    }

    fn up_of(&self, slot: usize) -> &[usize] {
        &self.up[self.up_at[slot]..self.up_at[slot + 1]]
    }

    fn down_of(&self, slot: usize) -> &[usize] {
        &self.down[self.down_at[slot]..self.down_at[slot + 1]]
    }

    /// One pass of exchanges over the layer, written back into `layer`. Returns whether any
    /// pair was swapped.
    fn exchange(&mut self, layer: &mut [usize]) -> bool {
        let mut swapped = false;
        for i in 1..self.slot.len() {
            let (a, b) = (self.slot[i - 1], self.slot[i]);
            let (up_ab, up_ba) = pair(self.up_of(a), self.up_of(b));
            let (down_ab, down_ba) = pair(self.down_of(a), self.down_of(b));
            if up_ba + down_ba < up_ab + down_ab {
                self.slot.swap(i - 1, i);
                swapped = true;
            }
        }
        for (i, &s) in self.slot.iter().enumerate() {
            layer[i] = self.node[s];
        }
        swapped
    }
}

/// Fills the flat, sorted neighbour positions of `layer`'s nodes on one side.
fn fill_side(
    values: &mut Vec<usize>,
    at: &mut Vec<usize>,
    layer: &[usize],
    pos: &[usize],
    side: &Csr,
) {
    values.clear();
    at.clear();
    at.push(0);
    for &v in layer {
        let from = values.len();
        values.extend(side.of(v).iter().map(|&u| pos[u]));
        values[from..].sort_unstable();
        at.push(values.len());
    }
}

/// The crossings between the edges of two neighbouring nodes to one side, given their
/// neighbours' sorted positions `a` and `b`: with `a`'s node on the left, then on the right.
fn pair(a: &[usize], b: &[usize]) -> (u64, u64) {
    let (mut below, mut at_most) = (0usize, 0usize);
    let (mut left, mut right) = (0u64, 0u64);
    for &x in a {
        while below < b.len() && b[below] < x {
            below += 1;
        }
        while at_most < b.len() && b[at_most] <= x {
            at_most += 1;
        }
        left += below as u64;
        right += (b.len() - at_most) as u64;
    }
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_counts_both_ways() {
        assert_eq!(pair(&[2], &[0]), (1, 0));
        assert_eq!(pair(&[0, 2], &[1]), (1, 1));
        assert_eq!(pair(&[1], &[1]), (0, 0));
    }

    /// A random layered DAG: each node depends on up to three of the twelve before it.
    fn tangled(n: usize, mut seed: u64) -> Proper {
        let mut next = |k: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % k
        };
        let mut edges = Vec::new();
        for v in 1..n {
            for _ in 0..1 + next(3) {
                let u = v - 1 - next(v.min(12));
                if !edges.contains(&(u, v)) {
                    edges.push((u, v));
                }
            }
        }
        Proper::new(&crate::rank::ranks(n, &edges), &edges)
    }

    #[test]
    fn sweeps_remove_most_crossings_of_the_initial_order() {
        let graph = tangled(400, 7);
        let start = initial(&graph);
        let before = layered(&graph, &start, &positions(&graph, &start));
        let layers = order(&graph);
        let after = layered(&graph, &layers, &positions(&graph, &layers));
        assert!(before > 100, "the test graph is tangled: {before}");
        assert!(after * 2 < before, "{before} crossings became {after}");
        // Every node is still there, once, in its own layer.
        let mut seen: Vec<usize> = layers.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..graph.len()).collect::<Vec<_>>());
        assert!(
            layers
                .iter()
                .enumerate()
                .all(|(r, l)| l.iter().all(|&v| graph.rank[v] == r))
        );
    }

    #[test]
    fn an_avoidable_crossing_is_removed() {
        // 0 -> 3 and 1 -> 2 cross in the initial order unless one layer flips.
        let graph = Proper::new(&[0, 0, 1, 1], &[(0, 3), (1, 2)]);
        let layers = order(&graph);
        assert_eq!(layered(&graph, &layers, &positions(&graph, &layers)), 0);
    }
}
