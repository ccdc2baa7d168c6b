// Browser smoke test of the home page: `node --test end2end/` from the workspace root.
//
// Starts the built `trellis serve` on a free port with the example manifests, drives Debian's
// Chromium with playwright-core, and checks that the page hydrates without console errors, lists
// every example template, filters as the user types and on `?q=` from the server.
//
// Environment:
//   TRELLIS_BIN       the `trellis` binary (default: $CARGO_TARGET_DIR/debug/trellis, else target/debug/trellis)
//   TRELLIS_SITE_DIR  the built site directory (default: $CARGO_TARGET_DIR/site, else target/site,
//                     as `cargo xtask site-dir` prints)
//   CHROMIUM          the browser (default: /usr/bin/chromium)
//
// Build first with `cargo xtask build`; install the browser with `apt-get install chromium` and
// playwright-core with `npm install`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
const bin = process.env.TRELLIS_BIN ?? join(targetDir, 'debug', 'trellis');
const siteDir = process.env.TRELLIS_SITE_DIR ?? join(targetDir, 'site');
const examplesDir = join(root, 'manifests', 'examples');
const screenshots = join(root, 'end2end', 'screenshots');
const CATALOG_KINDS = new Set(['WorkflowTemplate', 'ClusterWorkflowTemplate', 'CronWorkflow']);

/** Every YAML file under `dir`. */
function yamlFiles(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

/** `metadata.name` of each catalog resource (by kind) in a YAML stream, with a line-based read. */
export function templateNames(yaml) {
  const names = [];
  for (const doc of yaml.split(/^---.*$/m)) {
    const kind = /^kind:\s*["']?(\w+)/m.exec(doc)?.[1];
    if (!CATALOG_KINDS.has(kind)) continue;
    const lines = doc.split('\n');
    const start = lines.findIndex((line) => /^metadata:\s*$/.test(line));
    if (start < 0) continue;
    let indent = null;
    for (const line of lines.slice(start + 1)) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const lineIndent = line.length - line.trimStart().length;
      if (lineIndent === 0) break;
      indent ??= lineIndent;
      if (lineIndent !== indent) continue;
      const name = /^\s*name:\s*["']?([^"'\s#]+)/.exec(line)?.[1];
      if (name) {
        names.push(name);
        break;
      }
    }
  }
  return names;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForHealth(url, serverProcess, logs, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (serverProcess.exitCode !== null) {
      throw new Error(`trellis exited with ${serverProcess.exitCode}:\n${logs.join('')}`);
    }
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok && (await response.text()) === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`trellis did not become healthy within ${timeoutMs} ms:\n${logs.join('')}`);
}

const names = yamlFiles(examplesDir).flatMap((file) => templateNames(readFileSync(file, 'utf8')));
let server;
let serverLogs = [];
let dataDir;
let browser;
let baseUrl;

before(async () => {
  assert.ok(names.length > 0, `no WorkflowTemplate/ClusterWorkflowTemplate/CronWorkflow in ${examplesDir}`);
  dataDir = mkdtempSync(join(tmpdir(), 'trellis-e2e-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(
    bin,
    ['serve', '--host', '127.0.0.1', '--port', String(port), '--site-dir', siteDir, '--load', examplesDir, '--data-dir', dataDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' } },
  );
  server.on('error', (err) => serverLogs.push(`spawn error: ${err.message}\n`));
  server.stdout.on('data', (chunk) => serverLogs.push(chunk.toString()));
  server.stderr.on('data', (chunk) => serverLogs.push(chunk.toString()));
  await waitForHealth(baseUrl, server, serverLogs);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A new page that records console errors and uncaught exceptions. */
async function openPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`));
  return { page, errors };
}

async function shownNames(page) {
  return page.locator('[data-testid="template-row"]').evaluateAll((rows) => rows.map((row) => row.dataset.name));
}

test('the home page hydrates, lists every example template and filters as you type', async () => {
  const { page, errors } = await openPage();
  try {
    await page.goto(baseUrl + '/');
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 30_000 });
    assert.equal(await page.title(), 'Templates · Trellis');
    assert.match(await page.locator('header').innerText(), /Trellis/);

    assert.deepEqual((await shownNames(page)).sort(), [...names].sort(), 'every example template is listed once');

    // Filter by one template's full name: it alone (or the few sharing the name) remain.
    const target = names[0];
    const expected = names.filter((name) => name.includes(target));
    await page.locator('#template-search').fill(target);
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid="template-row"]').length === count,
      expected.length,
      { timeout: 5_000 },
    );
    assert.deepEqual((await shownNames(page)).sort(), expected.sort());
    assert.equal(new URL(page.url()).searchParams.get('q'), target, 'the address bar follows the search');

    // A search that matches nothing says so; clearing it brings everything back.
    await page.locator('#template-search').fill('zz-no-such-template-zz');
    await page.waitForSelector('[data-testid="no-matches"]', { timeout: 5_000 });
    assert.equal((await shownNames(page)).length, 0);
    await page.locator('#template-search').fill('');
    await page.waitForFunction(
      (count) => document.querySelectorAll('[data-testid="template-row"]').length === count,
      names.length,
      { timeout: 5_000 },
    );

    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: join(screenshots, 'home.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await page.close();
  }
});

test('?q= is filtered by the server before any script runs', async () => {
  const target = names[names.length - 1];
  const expected = names.filter((name) => name.includes(target));

  // The server's HTML alone, as a browser without JavaScript would see it.
  const html = await (await fetch(`${baseUrl}/?q=${encodeURIComponent(target)}`)).text();
  const rendered = [...html.matchAll(/data-testid="template-row" data-name="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(rendered.sort(), [...expected].sort());

  // And the hydrated page agrees, with the query in the box.
  const { page, errors } = await openPage();
  try {
    await page.goto(`${baseUrl}/?q=${encodeURIComponent(target)}`);
    await page.waitForSelector('[data-hydrated="true"]', { timeout: 30_000 });
    assert.deepEqual((await shownNames(page)).sort(), [...expected].sort());
    assert.equal(await page.locator('#template-search').inputValue(), target);
    assert.deepEqual(errors, [], 'no console errors');
  } finally {
    await page.close();
  }
});
