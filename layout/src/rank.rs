//! Layering in linear time: longest path from the sources, then a bounded number of greedy
//! passes that move each node, within the room its neighbours leave, to the end that shortens
//! its edges most; ranks left without a node are squeezed out.

use std::collections::VecDeque;

use crate::csr::Csr;

/// How many rounds of greedy moves to make at most.
const BALANCE_ROUNDS: usize = 8;

/// The rank (layer, from 0 at the top) of each of `nodes` nodes of the DAG `edges`: every edge
/// goes from a lower rank to a strictly higher one, and every rank in use holds a node.
pub(crate) fn ranks(nodes: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let succ = Csr::new(nodes, edges, false);
    let pred = Csr::new(nodes, edges, true);
    let topo = topological(nodes, &succ, &pred);
    let mut rank = vec![0usize; nodes];
    for &v in &topo {
        for &s in succ.of(v) {
            rank[s] = rank[s].max(rank[v] + 1);
        }
    }
    for _ in 0..BALANCE_ROUNDS {
        if !balance(&topo, &succ, &pred, &mut rank) {
            break;
        }
    }
    compact(&mut rank);
    rank
}

/// Kahn's order, sources taken in index order. Nodes on a cycle (there are none in a DAG) are
/// appended at the end so that every node appears once.
fn topological(nodes: usize, succ: &Csr, pred: &Csr) -> Vec<usize> {
    let mut indegree: Vec<usize> = (0..nodes).map(|v| pred.of(v).len()).collect();
    let mut queue: VecDeque<usize> = (0..nodes).filter(|&v| indegree[v] == 0).collect();
    let mut order = Vec::with_capacity(nodes);
    while let Some(v) = queue.pop_front() {
        order.push(v);
        for &s in succ.of(v) {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                queue.push_back(s);
            }
        }
    }
    if order.len() < nodes {
        let mut seen = vec![false; nodes];
        order.iter().for_each(|&v| seen[v] = true);
        order.extend((0..nodes).filter(|&v| !seen[v]));
    }
    order
}

/// One round of greedy moves. A node with more out-edges than in-edges moves down as far as its
/// successors allow, one with more in-edges up as far as its predecessors allow; both shorten
/// the total edge length. Returns whether anything moved.
fn balance(topo: &[usize], succ: &Csr, pred: &Csr, rank: &mut [usize]) -> bool {
    let mut moved = false;
    for &v in topo.iter().rev() {
        let (ins, outs) = (pred.of(v).len(), succ.of(v).len());
        if outs > ins {
            let lowest = succ.of(v).iter().map(|&s| rank[s]).min().unwrap_or(1);
            if lowest > rank[v] + 1 {
                rank[v] = lowest - 1;
                moved = true;
            }
        }
    }
    for &v in topo {
        let (ins, outs) = (pred.of(v).len(), succ.of(v).len());
        if ins > outs {
            let highest = pred.of(v).iter().map(|&p| rank[p]).max().unwrap_or(0);
            if highest + 1 < rank[v] {
                rank[v] = highest + 1;
                moved = true;
            }
        }
    }
    moved
}

/// Renumbers the ranks in use as 0, 1, 2, … keeping their order.
fn compact(rank: &mut [usize]) {
    let top = rank.iter().copied().max().unwrap_or(0);
    let mut used = vec![false; top + 1];
    rank.iter().for_each(|&r| used[r] = true);
    let mut renumber = vec![0usize; top + 1];
    let mut next = 0;
    for r in 0..=top {
        renumber[r] = next;
        next += usize::from(used[r]);
    }
    rank.iter_mut().for_each(|r| *r = renumber[*r]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_takes_one_rank_per_node() {
        assert_eq!(ranks(4, &[(0, 1), (1, 2), (2, 3)]), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_late_source_moves_down_to_its_target() {
        // 3 feeds only the last node of the chain: it belongs next to it, not at the top.
        let r = ranks(4, &[(0, 1), (1, 2), (3, 2)]);
        assert_eq!(r, vec![0, 1, 2, 1]);
    }

    #[test]
    fn every_edge_goes_down() {
        let edges = [(0, 2), (1, 2), (2, 3), (0, 3), (4, 3), (5, 0)];
        let r = ranks(6, &edges);
        assert!(edges.iter().all(|&(u, v)| r[u] < r[v]));
        let top = *r.iter().max().unwrap();
        assert!((0..=top).all(|k| r.contains(&k)));
    }

    #[test]
    fn isolated_nodes_sit_at_the_top() {
        assert_eq!(ranks(3, &[(1, 2)]), vec![0, 0, 1]);
    }
}
