//! Seeded, workflow-shaped graphs: the same generators, drawing the same random numbers, as
//! `benches/layout/graphs.mjs`, so that the benchmark run alone lays out the same graphs.

use layout::{Graph, Size};

/// A task box, as the UI draws it.
pub const TASK: Size = Size {
    width: 180.0,
    height: 44.0,
};
/// A step group's or a loop's join point: a small circle in the UI.
pub const JOIN: Size = Size {
    width: 24.0,
    height: 24.0,
};
/// How far back a DAG task may look for its dependencies.
const WINDOW: usize = 6;

/// mulberry32: a small seeded generator of floats in [0, 1).
pub struct Rng(u32);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u32) -> Self {
        Rng(seed)
    }

    /// The next float in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let a = self.0;
        let mut t = (a ^ (a >> 15)).wrapping_mul(1 | a);
        t = t.wrapping_add((t ^ (t >> 7)).wrapping_mul(61 | t)) ^ t;
        f64::from(t ^ (t >> 14)) / 4_294_967_296.0
    }

    /// An integer in [0, k).
    pub fn below(&mut self, k: usize) -> usize {
        (self.next() * k as f64).floor() as usize
    }
}

/// A DAG template: each task depends on 1-3 distinct tasks among the `WINDOW` before it.
pub fn dag(n: usize, seed: u32) -> Graph {
    let mut random = Rng::new(seed);
    let mut edges = Vec::new();
    for i in 1..n {
        let deps = 1 + random.below(3);
        let window = i.min(WINDOW);
        let mut chosen = Vec::new();
        for _ in 0..deps {
            let d = i - 1 - random.below(window);
            if !chosen.contains(&d) {
                chosen.push(d);
                edges.push((d, i));
            }
        }
    }
    Graph {
        nodes: vec![TASK; n],
        edges,
    }
}

/// Sequential stages of parallel branches, each stage closed by a join node.
fn stages(
    n: usize,
    seed: u32,
    width: impl Fn(&mut Rng) -> usize,
    length: impl Fn(&mut Rng) -> usize,
) -> Graph {
    let mut random = Rng::new(seed);
    let mut nodes = vec![JOIN];
    let mut edges = Vec::new();
    let mut previous = 0;
    while nodes.len() < n {
        let branches = width(&mut random);
        let mut ends = Vec::new();
        let mut b = 0;
        while b < branches && nodes.len() + 2 <= n {
            let mut last = previous;
            let steps = length(&mut random);
            let mut s = 0;
            while s < steps && nodes.len() + 2 <= n {
                nodes.push(TASK);
                edges.push((last, nodes.len() - 1));
                last = nodes.len() - 1;
                s += 1;
            }
            ends.push(last);
            b += 1;
        }
        nodes.push(JOIN);
        let join = nodes.len() - 1;
        if ends.is_empty() {
            ends.push(previous);
        }
        edges.extend(ends.into_iter().map(|end| (end, join)));
        previous = join;
    }
    Graph { nodes, edges }
}

/// A steps template: groups of 1-6 parallel steps, some of them nested 2-4 steps deep.
pub fn steps(n: usize, seed: u32) -> Graph {
    stages(
        n,
        seed,
        |r| 1 + r.below(6),
        |r| if r.next() < 0.3 { 2 + r.below(3) } else { 1 },
    )
}

/// A wide loop: stages of n/8 to n/3 parallel iterations of one or two steps each.
pub fn loops(n: usize, seed: u32) -> Graph {
    let low = (n / 8).max(2);
    let high = (n / 3).max(low + 1);
    stages(n, seed, |r| low + r.below(high - low), |r| 1 + r.below(2))
}

/// A generator of `n`-node graphs from a seed.
type Generator = fn(usize, u32) -> Graph;

/// Every benchmark graph, named, for the given sizes.
pub fn all(sizes: &[usize]) -> Vec<(String, Graph)> {
    let kinds: [(&str, Generator); 3] = [("dag", dag), ("steps", steps), ("loops", loops)];
    let mut out = Vec::new();
    for (k, (kind, make)) in kinds.into_iter().enumerate() {
        for &n in sizes {
            out.push((format!("{kind}-{n}"), make(n, (n * 31 + k) as u32)));
        }
    }
    out
}
