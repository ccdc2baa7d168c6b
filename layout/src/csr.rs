//! Adjacency lists in compressed form, built in linear time.

/// Adjacency in compressed form: the neighbours of `u` are `to[start[u]..start[u + 1]]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Csr {
    start: Vec<usize>,
    to: Vec<usize>,
}

impl Csr {
    /// The `nodes`-node adjacency of `edges`, read forwards, or backwards when `reverse`.
    pub fn new(nodes: usize, edges: &[(usize, usize)], reverse: bool) -> Self {
        let key = |&(u, v): &(usize, usize)| if reverse { (v, u) } else { (u, v) };
        let mut start = vec![0usize; nodes + 1];
        for e in edges {
            start[key(e).0 + 1] += 1;
        }
        for i in 0..nodes {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut to = vec![0usize; edges.len()];
        for e in edges {
            let (u, v) = key(e);
            to[fill[u]] = v;
            fill[u] += 1;
        }
        Csr { start, to }
    }

    /// The neighbours of `u`.
    pub fn of(&self, u: usize) -> &[usize] {
        &self.to[self.start[u]..self.start[u + 1]]
    }
}
