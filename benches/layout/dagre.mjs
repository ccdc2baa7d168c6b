// Lays the benchmark graphs out with dagre (rankdir TB, the same node sizes and separations as
// Trellis' defaults), timing one run per graph, and writes each layout in Trellis' format
// ({nodes: [{x, y}], edges: [[{x, y}...]], width, height}) plus OUT_DIR/timings.tsv
// (name, nodes, edges, milliseconds).
//
// dagre recurses as deep as the graph is long, which overflows node's default stack on long
// workflows, so the layouts run in a worker thread with a large stack.
//
// Usage: node benches/layout/dagre.mjs GRAPHS_DIR OUT_DIR [NAME...]
import { mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from "node:fs";
import { basename, join } from "node:path";
import { Worker, isMainThread, workerData } from "node:worker_threads";
import dagre from "@dagrejs/dagre";

/** The worker's stack, in megabytes. */
const STACK_MB = 512;

/** Trellis' default spacing (layout::Options::default()). */
export const NODE_SEP = 24;
export const RANK_SEP = 48;

/** Lays `graph` out with dagre; returns the layout in Trellis' format and the time taken. */
export function layOut(graph) {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: NODE_SEP, ranksep: RANK_SEP, edgesep: NODE_SEP / 2 });
  g.setDefaultEdgeLabel(() => ({}));
  graph.nodes.forEach((size, i) => g.setNode(String(i), { width: size.width, height: size.height }));
  graph.edges.forEach(([from, to], i) => g.setEdge(String(from), String(to), {}, String(i)));
  const start = process.hrtime.bigint();
  dagre.layout(g);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const nodes = graph.nodes.map((_, i) => {
    const { x, y } = g.node(String(i));
    return { x, y };
  });
  const edges = graph.edges.map(([from, to], i) => {
    const label = g.edge(String(from), String(to), String(i));
    return (label?.points ?? []).map(({ x, y }) => ({ x, y }));
  });
  const { width, height } = g.graph();
  return { layout: { nodes, edges, width, height }, ms };
}

/** Lays out the graphs of `graphsDir` named in `names` (all when empty) into `outDir`. */
function run(graphsDir, outDir, names) {
  mkdirSync(outDir, { recursive: true });
  const files = readdirSync(graphsDir)
    .filter((f) => f.endsWith(".json"))
    .filter((f) => names.length === 0 || names.includes(basename(f, ".json")))
    .sort();
  // Warm the JIT up on a small graph first, so the first real graph is not charged for it.
  layOut({ nodes: Array(20).fill({ width: 10, height: 10 }), edges: [[0, 1], [1, 2], [0, 2]] });
  const timings = join(outDir, "timings.tsv");
  writeFileSync(timings, "");
  for (const file of files) {
    const name = basename(file, ".json");
    const graph = JSON.parse(readFileSync(join(graphsDir, file), "utf8"));
    const { layout, ms } = layOut(graph);
    writeFileSync(join(outDir, file), JSON.stringify(layout));
    appendFileSync(timings, `${name}\t${graph.nodes.length}\t${graph.edges.length}\t${ms.toFixed(3)}\n`);
    const nodes = String(graph.nodes.length).padStart(6);
    console.log(`${name.padEnd(14)} ${nodes} nodes ${ms.toFixed(1).padStart(10)} ms`);
  }
}

if (!isMainThread && workerData?.dagreBench) {
  const { graphsDir, outDir, names } = workerData;
  run(graphsDir, outDir, names);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const [graphsDir, outDir, ...names] = process.argv.slice(2);
  if (!graphsDir || !outDir) {
    console.error("usage: node benches/layout/dagre.mjs GRAPHS_DIR OUT_DIR [NAME...]");
    process.exit(2);
  }
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { dagreBench: true, graphsDir, outDir, names },
    resourceLimits: { stackSizeMb: STACK_MB },
  });
  worker.on("error", (error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
