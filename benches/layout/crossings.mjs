// The one edge-crossing counter of the layout benchmark, applied alike to Trellis' and dagre's
// layouts: the points where the polylines of two edges that share no endpoint node properly
// cross (touching or overlapping pieces do not count; two edges crossing twice count twice).
// The pieces are swept top to bottom and each is compared only with those whose vertical
// extent it meets, which keeps layered drawings of thousands of nodes quick.
// It mirrors `layout::crossings` in layout/src/crossings.rs.
//
// Usage: node benches/layout/crossings.mjs GRAPH.json LAYOUT.json
import { readFileSync } from "node:fs";

/** The crossings of `layout` ({edges: [[{x, y}...]]}) of `graph` ({edges: [[from, to]]}). */
export function crossings(graph, layout) {
  const segments = [];
  layout.edges.slice(0, graph.edges.length).forEach((line, edge) => {
    for (let i = 1; i < line.length; i++) {
      const a = line[i - 1];
      const b = line[i];
      segments.push({ a, b, edge, top: Math.min(a.y, b.y), bottom: Math.max(a.y, b.y) });
    }
  });
  segments.sort((s, t) => s.top - t.top);
  const shares = (i, j) => {
    const [a, b] = [graph.edges[i], graph.edges[j]];
    return a[0] === b[0] || a[0] === b[1] || a[1] === b[0] || a[1] === b[1];
  };
  let active = [];
  let count = 0;
  for (const s of segments) {
    let kept = 0;
    for (const t of active) {
      if (t.bottom < s.top) continue;
      active[kept++] = t;
      if (t.edge !== s.edge && cross(s, t) && !shares(s.edge, t.edge)) count++;
    }
    active.length = kept;
    active.push(s);
  }
  return count;
}

/** Whether two segments cross at a point inside both. */
function cross(s, t) {
  if (Math.max(t.a.x, t.b.x) < Math.min(s.a.x, s.b.x)) return false;
  if (Math.min(t.a.x, t.b.x) > Math.max(s.a.x, s.b.x)) return false;
  const opposite = (p, q) => (p > 0 && q < 0) || (p < 0 && q > 0);
  return (
    opposite(side(s.a, s.b, t.a), side(s.a, s.b, t.b)) &&
    opposite(side(t.a, t.b, s.a), side(t.a, t.b, s.b))
  );
}

/** Which side of the line through `a` and `b` the point `p` is on. */
function side(a, b, p) {
  return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [graphFile, layoutFile] = process.argv.slice(2);
  if (!graphFile || !layoutFile) {
    console.error("usage: node benches/layout/crossings.mjs GRAPH.json LAYOUT.json");
    process.exit(2);
  }
  const read = (f) => JSON.parse(readFileSync(f, "utf8"));
  console.log(crossings(read(graphFile), read(layoutFile)));
}
