// The layout benchmark's report: for each graph, Trellis' and dagre's times (from each side's
// timings.tsv) and edge crossings (counted by crossings.mjs on both layouts), as a Markdown
// table, then whether each target is met. Exits with status 1 when one is missed.
//
// Usage: node benches/layout/report.mjs GRAPHS_DIR TRELLIS_DIR DAGRE_DIR
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crossings } from "./crossings.mjs";

/** The targets. */
const MAX_MS_AT_5000 = 200;
const MIN_SPEEDUP = 50;
const MAX_CROSSING_RATIO = 1.2;

/** name -> milliseconds, from a timings.tsv (name, nodes, edges, ms). */
function timings(dir) {
  const rows = readFileSync(join(dir, "timings.tsv"), "utf8").trim().split("\n");
  return new Map(rows.filter(Boolean).map((row) => {
    const [name, , , ms] = row.split("\t");
    return [name, Number(ms)];
  }));
}

const read = (...path) => JSON.parse(readFileSync(join(...path), "utf8"));

/** One table row's figures for the graph `name`. */
function measure(dirs, name, trellisMs, dagreMs) {
  const graph = read(dirs.graphs, `${name}.json`);
  const ours = crossings(graph, read(dirs.trellis, `${name}.json`));
  const theirs = crossings(graph, read(dirs.dagre, `${name}.json`));
  return {
    name,
    nodes: graph.nodes.length,
    edges: graph.edges.length,
    trellisMs,
    dagreMs,
    speedup: dagreMs / trellisMs,
    ours,
    theirs,
    // Both drawings free of crossings compare as equal (shown as "="), which meets the target.
    ratio: theirs === 0 ? (ours === 0 ? 0 : Infinity) : ours / theirs,
  };
}

function table(rows) {
  const head = ["graph", "nodes", "edges", "trellis ms", "dagre ms", "speed-up", "trellis crossings", "dagre crossings", "ratio"];
  const cells = rows.map((r) => [
    r.name,
    r.nodes,
    r.edges,
    r.trellisMs.toFixed(2),
    r.dagreMs.toFixed(0),
    `${r.speedup.toFixed(0)}×`,
    r.ours,
    r.theirs,
    r.theirs === 0 && r.ours === 0 ? "=" : r.ratio.toFixed(2),
  ].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(" | ")} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? "-" : "") + "-".repeat(w + 1) + (i === 0 ? "" : ":")).join("|")}|`, ...cells.map(line)].join("\n");
}

/** Each target as [description, met, details]. */
function targets(rows) {
  const names = (bad) => rows.filter(bad).map((r) => r.name).join(", ");
  const big = rows.filter((r) => r.nodes >= 5000 && r.name.startsWith("dag"));
  const slowest = big.length ? Math.max(...big.map((r) => r.trellisMs)) : NaN;
  const speed = Math.min(...rows.map((r) => r.speedup));
  const slow = (r) => r.speedup < MIN_SPEEDUP;
  const crossed = rows.filter((r) => r.theirs > 0);
  const worst = Math.max(0, ...crossed.map((r) => r.ratio));
  const tangled = (r) => r.ratio > MAX_CROSSING_RATIO;
  const clean = rows.length - crossed.length;
  return [
    [
      `5,000-node workflow DAG in ≤ ${MAX_MS_AT_5000} ms`,
      slowest <= MAX_MS_AT_5000,
      big.length ? `${slowest.toFixed(2)} ms` : "no 5,000-node DAG generated",
    ],
    [
      `≥ ${MIN_SPEEDUP}× faster than dagre on every graph`,
      speed >= MIN_SPEEDUP,
      `least ${speed.toFixed(0)}×${rows.some(slow) ? ` (${names(slow)})` : ""}`,
    ],
    [
      `≤ ${MAX_CROSSING_RATIO}× dagre's crossings on every graph`,
      !rows.some(tangled),
      `worst ratio ${worst.toFixed(2)} over the ${crossed.length} graphs dagre draws with crossings; ` +
        `${clean} graphs dagre draws without` +
        (rows.some(tangled) ? `; missed on ${names(tangled)}` : ", and so does Trellis"),
    ],
  ];
}

const [graphs, trellis, dagre] = process.argv.slice(2);
if (!graphs || !trellis || !dagre) {
  console.error("usage: node benches/layout/report.mjs GRAPHS_DIR TRELLIS_DIR DAGRE_DIR");
  process.exit(2);
}
const ours = timings(trellis);
const theirs = timings(dagre);
const rows = [...ours.keys()]
  .filter((name) => theirs.has(name))
  .map((name) => measure({ graphs, trellis, dagre }, name, ours.get(name), theirs.get(name)))
  .sort((a, b) => a.name.split("-")[0].localeCompare(b.name.split("-")[0]) || a.nodes - b.nodes);
console.log(table(rows));
console.log();
let missed = false;
for (const [what, met, details] of targets(rows)) {
  console.log(`${met ? "met   " : "MISSED"}  ${what}: ${details}`);
  missed ||= !met;
}
process.exitCode = missed ? 1 : 0;
