//! The "proper" layered graph: every edge spanning more than one layer is split into a chain of
//! dummy nodes, one per layer crossed, so that all edges join neighbouring layers.

use crate::csr::Csr;

/// A layered graph whose edges all join neighbouring layers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Proper {
    /// How many real nodes there are: nodes `0..real` are the input's, the rest are dummies.
    pub real: usize,
    /// The layer of each node, real or dummy.
    pub rank: Vec<usize>,
    /// How many layers there are.
    pub layers: usize,
    /// Each DAG edge's dummy nodes, from the top down (empty for an edge between neighbouring
    /// layers).
    pub chains: Vec<Vec<usize>>,
    /// Each node's neighbours in the layer above.
    pub up: Csr,
    /// Each node's neighbours in the layer below.
    pub down: Csr,
}

impl Proper {
    /// Splits the DAG `edges` over the layers `rank` of its real nodes.
    pub fn new(rank: &[usize], edges: &[(usize, usize)]) -> Self {
        let real = rank.len();
        let mut ranks = rank.to_vec();
        let mut links = Vec::with_capacity(edges.len());
        let mut chains = Vec::with_capacity(edges.len());
        for &(u, v) in edges {
            let mut chain = Vec::new();
            let mut last = u;
            for r in rank[u] + 1..rank[v] {
                let dummy = ranks.len();
                ranks.push(r);
                chain.push(dummy);
                links.push((last, dummy));
                last = dummy;
            }
            links.push((last, v));
            chains.push(chain);
        }
        let total = ranks.len();
        Proper {
            real,
            layers: ranks.iter().max().map_or(0, |&r| r + 1),
            rank: ranks,
            chains,
            up: Csr::new(total, &links, true),
            down: Csr::new(total, &links, false),
        }
    }

    /// How many nodes there are, real and dummy.
    pub fn len(&self) -> usize {
        self.rank.len()
    }

    /// Whether `v` is a dummy node.
    pub fn is_dummy(&self, v: usize) -> bool {
        v >= self.real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_edges_get_one_dummy_per_layer_crossed() {
        let p = Proper::new(&[0, 1, 3], &[(0, 1), (0, 2), (1, 2)]);
        assert_eq!(p.layers, 4);
        assert_eq!(p.chains, vec![vec![], vec![3, 4], vec![5]]);
        assert_eq!(&p.rank[3..], &[1, 2, 2]);
        assert_eq!(p.down.of(0), &[1, 3]);
        assert_eq!(p.up.of(2), &[4, 5]);
        assert!(p.is_dummy(3) && !p.is_dummy(2));
    }
}
