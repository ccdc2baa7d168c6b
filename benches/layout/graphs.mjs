// Seeded, workflow-shaped graphs for the layout benchmark, written as JSON
// ({nodes: [{width, height}], edges: [[from, to]]}), one file per graph.
// The same generators, with the same random numbers, live in layout/benches/workflows/mod.rs,
// so `cargo bench -p layout` on its own lays out exactly these graphs.
//
// Usage: node benches/layout/graphs.mjs OUT_DIR [SIZE...]   (sizes default to 500 1000 2000 5000)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A task box, as the UI draws it. */
export const TASK = { width: 180, height: 44 };
/** A step group's or a loop's join point: a small circle in the UI. */
export const JOIN = { width: 24, height: 24 };
/** How far back a DAG task may look for its dependencies. */
const WINDOW = 6;

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function rng(seed) {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, k). */
const below = (random, k) => Math.floor(random() * k);

/** A DAG template: each task depends on 1-3 distinct tasks among the WINDOW before it. */
export function dag(n, seed) {
  const random = rng(seed);
  const nodes = Array.from({ length: n }, () => ({ ...TASK }));
  const edges = [];
  for (let i = 1; i < n; i++) {
    const deps = 1 + below(random, 3);
    const window = Math.min(i, WINDOW);
    const chosen = [];
    for (let k = 0; k < deps; k++) {
      const d = i - 1 - below(random, window);
      if (!chosen.includes(d)) {
        chosen.push(d);
        edges.push([d, i]);
      }
    }
  }
  return { nodes, edges };
}

/** Builds graphs of sequential stages of parallel branches, each stage closed by a join node. */
function stages(n, seed, width, branchLength) {
  const random = rng(seed);
  const nodes = [{ ...JOIN }];
  const edges = [];
  let previous = 0;
  while (nodes.length < n) {
    const branches = width(random);
    const ends = [];
    for (let b = 0; b < branches && nodes.length + 2 <= n; b++) {
      let last = previous;
      const length = branchLength(random);
      for (let s = 0; s < length && nodes.length + 2 <= n; s++) {
        nodes.push({ ...TASK });
        edges.push([last, nodes.length - 1]);
        last = nodes.length - 1;
      }
      ends.push(last);
    }
    nodes.push({ ...JOIN });
    const join = nodes.length - 1;
    for (const end of ends.length ? ends : [previous]) edges.push([end, join]);
    previous = join;
  }
  return { nodes, edges };
}

/** A steps template: groups of 1-6 parallel steps, some of them nested 2-4 steps deep. */
export function steps(n, seed) {
  return stages(
    n,
    seed,
    (random) => 1 + below(random, 6),
    (random) => (random() < 0.3 ? 2 + below(random, 3) : 1),
  );
}

/** A wide loop: stages of n/8 to n/3 parallel iterations of one or two steps each. */
export function loops(n, seed) {
  const low = Math.max(2, Math.floor(n / 8));
  const high = Math.max(low + 1, Math.floor(n / 3));
  return stages(
    n,
    seed,
    (random) => low + below(random, high - low),
    (random) => 1 + below(random, 2),
  );
}

/** Every benchmark graph: name and graph, for the given sizes. */
export function all(sizes = [500, 1000, 2000, 5000]) {
  const kinds = { dag, steps, loops };
  const out = [];
  Object.entries(kinds).forEach(([kind, make], k) => {
    for (const n of sizes) out.push({ name: `${kind}-${n}`, graph: make(n, n * 31 + k) });
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, ...sizes] = process.argv.slice(2);
  if (!dir) {
    console.error("usage: node benches/layout/graphs.mjs OUT_DIR [SIZE...]");
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  for (const { name, graph } of all(sizes.length ? sizes.map(Number) : undefined)) {
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(graph));
  }
}
