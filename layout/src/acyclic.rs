//! Turns the input edges into a DAG: edges naming missing nodes are skipped, self-loops are set
//! aside, the back edges of an iterative depth-first search are reversed and duplicates merged.

use std::collections::HashMap;

/// What became of one input edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// An endpoint is out of range: the edge is left out.
    Skipped,
    /// A self-loop on this node: not layered, drawn round the node.
    Loop(usize),
    /// Laid out as DAG edge `dag`, the other way round when `reversed`.
    Kept {
        /// Index into [`Acyclic::edges`].
        dag: usize,
        /// Whether the DAG edge runs from the input's target to its source.
        reversed: bool,
    },
}

/// The acyclic, duplicate-free graph that gets laid out, and how the input maps onto it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Acyclic {
    /// Distinct DAG edges `(from, to)`, `from != to`, in order of first appearance.
    pub edges: Vec<(usize, usize)>,
    /// The fate of each input edge, in input order.
    pub fates: Vec<Fate>,
    /// Whether each node has a self-loop.
    pub loops: Vec<bool>,
}

impl Acyclic {
    /// Breaks the cycles of the graph with `nodes` nodes and `input` edges.
    pub fn new(nodes: usize, input: &[(usize, usize)]) -> Self {
        let reversed = back_edges(nodes, input);
        let mut index: HashMap<(usize, usize), usize> = HashMap::new();
        let mut out = Acyclic {
            loops: vec![false; nodes],
            ..Acyclic::default()
        };
        for (i, &(u, v)) in input.iter().enumerate() {
            let fate = if u >= nodes || v >= nodes {
                Fate::Skipped
            } else if u == v {
                out.loops[u] = true;
                Fate::Loop(u)
            } else {
                let key = if reversed[i] { (v, u) } else { (u, v) };
                let next = out.edges.len();
                let dag = *index.entry(key).or_insert(next);
                if dag == next {
                    out.edges.push(key);
                }
                Fate::Kept {
                    dag,
                    reversed: reversed[i],
                }
            };
            out.fates.push(fate);
        }
        out
    }
}

/// Marks the input edges that close a cycle in an iterative depth-first search run from each
/// node in index order, following edges in input order. Reversing them all leaves a DAG.
fn back_edges(nodes: usize, input: &[(usize, usize)]) -> Vec<bool> {
    let (start, out) = adjacency(nodes, input);
    let mut back = vec![false; input.len()];
    // 0: not seen, 1: on the current path, 2: done.
    let mut state = vec![0u8; nodes];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..nodes {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        stack.push((root, start[root]));
        while let Some(top) = stack.last_mut() {
            let (u, next) = *top;
            if next == start[u + 1] {
                state[u] = 2;
                stack.pop();
                continue;
            }
            top.1 += 1;
            let edge = out[next];
            let v = input[edge].1;
            match state[v] {
                0 => {
                    state[v] = 1;
                    stack.push((v, start[v]));
                }
                1 => back[edge] = true,
                _ => {}
            }
        }
    }
    back
}

/// Out-edges by node in compressed form: the indexes of node `u`'s valid, non-loop input edges
/// are `out[start[u]..start[u + 1]]`, in input order.
fn adjacency(nodes: usize, input: &[(usize, usize)]) -> (Vec<usize>, Vec<usize>) {
    let valid = |&(u, v): &(usize, usize)| u < nodes && v < nodes && u != v;
    let mut start = vec![0usize; nodes + 1];
    for &(u, _) in input.iter().filter(|e| valid(e)) {
        start[u + 1] += 1;
    }
    for i in 0..nodes {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut out = vec![0usize; start[nodes]];
    for (i, e) in input.iter().enumerate().filter(|(_, e)| valid(e)) {
        out[fill[e.0]] = i;
        fill[e.0] += 1;
    }
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_acyclic(nodes: usize, edges: &[(usize, usize)]) -> bool {
        !back_edges(nodes, edges).iter().any(|&b| b)
    }

    #[test]
    fn a_cycle_loses_one_edge_direction() {
        let dag = Acyclic::new(3, &[(0, 1), (1, 2), (2, 0)]);
        assert_eq!(dag.edges, vec![(0, 1), (1, 2), (0, 2)]);
        assert!(matches!(dag.fates[2], Fate::Kept { reversed: true, .. }));
        assert!(is_acyclic(3, &dag.edges));
    }

    #[test]
    fn duplicates_and_opposite_edges_merge() {
        let dag = Acyclic::new(2, &[(0, 1), (0, 1), (1, 0)]);
        assert_eq!(dag.edges, vec![(0, 1)]);
        assert!(
            dag.fates
                .iter()
                .all(|f| matches!(f, Fate::Kept { dag: 0, .. }))
        );
    }

    #[test]
    fn loops_and_bad_indexes_are_set_aside() {
        let dag = Acyclic::new(2, &[(1, 1), (0, 7), (9, 0), (0, 1)]);
        assert_eq!(dag.fates[0], Fate::Loop(1));
        assert_eq!(dag.fates[1], Fate::Skipped);
        assert_eq!(dag.fates[2], Fate::Skipped);
        assert_eq!(dag.edges, vec![(0, 1)]);
        assert_eq!(dag.loops, vec![false, true]);
    }

    #[test]
    fn a_long_cycle_does_not_overflow_the_stack() {
        let n = 200_000;
        let edges: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        let dag = Acyclic::new(n, &edges);
        assert!(is_acyclic(n, &dag.edges));
    }
}
