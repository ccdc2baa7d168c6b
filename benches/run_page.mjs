// The run page bench (see run_page.sh): seeds a DAG workflow of N tasks, each depending on one
// to three of the six before it (as benches/layout/graphs.mjs shapes them) and skipped by `when`
// so it finishes at once, then opens its run page in Chromium five times.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { finished, launchBrowser, siteDir, startServer, submit } from '../end2end/harness.mjs';

const nodes = Number(process.argv[2] ?? 5000);
const RUNS = 5;

/** A seeded pseudo-random generator (mulberry32). */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function template(n) {
  const next = random(42);
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set();
    if (i > 0) {
      const count = 1 + Math.floor(next() * 3);
      for (let k = 0; k < count; k++) deps.add(`t${Math.max(0, i - 1 - Math.floor(next() * 6))}`);
    }
    const d = deps.size ? `, dependencies: [${[...deps].join(', ')}]` : '';
    tasks.push(`          - {name: t${i}, template: step, when: "false"${d}}`);
  }
  return `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: big-dag
  namespace: bench
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
${tasks.join('\n')}
    - name: step
      container: {image: alpine, command: ["true"]}
`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'trellis-run-page-'));
writeFileSync(join(dir, 'big-dag.yaml'), template(nodes));
const server = await startServer([dir], { healthTimeoutMs: 300_000 });
const browser = await launchBrowser();
let failed = false;
try {
  const name = await submit(server.url, 'bench', 'big-dag');
  const wf = await finished(server.url, 'bench', name, 300_000);
  const count = Object.keys(wf.status.nodes).length;
  const url = `${server.url}/runs/bench/${name}`;
  const html = await (await fetch(url)).text();
  const interactive = [];
  const hydrated = [];
  let drawn = 0;
  for (let i = 0; i < RUNS; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const start = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 60_000 });
    hydrated.push(Date.now() - start);
    // A node inside the visible part of the canvas (the DOM also holds a margin around it).
    const inside = await page.evaluate(() => {
      const view = document.querySelector('[data-testid="graph-svg"]').getBoundingClientRect();
      const nodes = [...document.querySelectorAll('[data-testid="graph-node"]')];
      return nodes.findIndex((n, i) => {
        const r = n.getBoundingClientRect();
        return i > 0 && r.left >= view.left && r.right <= view.right && r.top >= view.top && r.bottom <= view.bottom;
      });
    });
    await page.locator('[data-testid="graph-node"]').nth(inside).click();
    await page.waitForSelector('[data-testid="node-panel"] [data-testid="node-title"]', { timeout: 60_000 });
    interactive.push(Date.now() - start);
    drawn = await page.locator('[data-testid="graph-node"]').count();
    await page.close();
  }
  const wasm = readdirSync(join(siteDir, 'pkg')).find((f) => f.endsWith('.wasm'));
  const bytes = readFileSync(join(siteDir, 'pkg', wasm));
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const ms = median(interactive);
  console.log(`workflow nodes:              ${count}`);
  console.log(`run page HTML:               ${(html.length / 1024).toFixed(0)} KB (uncompressed)`);
  console.log(`graph nodes in the DOM:      ${drawn} (the rest are outside the view)`);
  console.log(`hydrated (median of ${RUNS}):     ${median(hydrated)} ms`);
  console.log(`interactive (median of ${RUNS}):  ${ms} ms (hydrated, a node clicked, its panel shown)`);
  console.log(`release wasm:                ${(bytes.length / 1024).toFixed(0)} KB raw, ${(brotli / 1024).toFixed(0)} KB brotli`);
  const ok1 = ms <= 1500;
  const ok2 = brotli <= 400 * 1024;
  console.log(`${ok1 ? 'met   ' : 'MISSED'}  interactive in <= 1.5 s: ${ms} ms`);
  console.log(`${ok2 ? 'met   ' : 'MISSED'}  wasm <= 400 KB brotli: ${(brotli / 1024).toFixed(0)} KB`);
  failed = !(ok1 && ok2);
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
