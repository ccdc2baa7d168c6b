// Shared by the browser tests: start a built `trellis serve` on a free port, launch Debian's
// Chromium through playwright-core, open pages that record console errors, call the REST API.
//
// Environment:
//   TRELLIS_BIN       the `trellis` binary (default: $CARGO_TARGET_DIR/debug/trellis, else target/debug/trellis)
//   TRELLIS_SITE_DIR  the built site directory (default: $CARGO_TARGET_DIR/site, else target/site,
//                     as `cargo xtask site-dir` prints)
//   CHROMIUM          the browser (default: /usr/bin/chromium)

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
export const bin = process.env.TRELLIS_BIN ?? join(targetDir, 'debug', 'trellis');
export const siteDir = process.env.TRELLIS_SITE_DIR ?? join(targetDir, 'site');
export const screenshots = join(root, 'end2end', 'screenshots');

/** A TCP port nothing listens on. */
export function freePort() {
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

async function waitForHealth(url, child, logs, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`trellis exited with ${child.exitCode}:\n${logs.join('')}`);
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

/** Starts `trellis serve --load <each of load> <args…>` in a fresh data directory; waits up to
 * `healthTimeoutMs` for it to answer (loading lints every manifest first). */
export async function startServer(load, { healthTimeoutMs = 30_000, args: extra = [], port: fixed } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-e2e-'));
  const port = fixed ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const logs = [];
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--site-dir', siteDir, '--data-dir', dataDir];
  for (const path of load) args.push('--load', path);
  args.push(...extra);
  const child = spawn(bin, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  });
  child.on('error', (err) => logs.push(`spawn error: ${err.message}\n`));
  child.stdout.on('data', (chunk) => logs.push(chunk.toString()));
  child.stderr.on('data', (chunk) => logs.push(chunk.toString()));
  await waitForHealth(url, child, logs, healthTimeoutMs);
  return {
    url,
    logs,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({
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
}

/** A new page that records console errors, uncaught exceptions, failed requests and dialogs. */
export async function openPage(browser, viewport = { width: 1400, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`));
  page.on('dialog', (dialog) => {
    errors.push(`dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return { page, errors };
}

/** Runs `body` with a fresh page of `browser`; fails on console errors, failed requests or
 * dialogs. */
export async function withPage(browser, body) {
  const { page, errors } = await openPage(browser);
  try {
    await body(page);
    assert.deepEqual(errors, [], 'no console errors, failed requests or dialogs');
  } finally {
    await page.close();
  }
}

/** Opens `path` and waits for the page to hydrate. */
export async function visit(page, url) {
  await page.goto(url);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 30_000 });
}

/** Saves a full-page screenshot under end2end/screenshots. */
export async function screenshot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** Calls the REST API; returns the parsed JSON, failing on an error status. */
export async function api(url, method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** Submits a workflow template with parameters; returns the new workflow's name. */
export async function submit(url, namespace, template, parameters = [], token = undefined) {
  const wf = await api(
    url,
    'POST',
    `/api/v1/workflows/${namespace}/submit`,
    { resourceKind: 'WorkflowTemplate', resourceName: template, submitOptions: { parameters } },
    token,
  );
  return wf.metadata.name;
}

/** Creates an API token in a server's data directory with `trellis token create`; returns its
 * secret. */
export function createToken(server, name, args = []) {
  const out = execFileSync(bin, ['token', 'create', name, ...args, '--data-dir', server.dataDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out.trim();
}

/** Waits until the workflow has finished; returns it. */
export async function finished(url, namespace, name, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wf = await api(url, 'GET', `/api/v1/workflows/${namespace}/${name}`);
    if (wf.status?.finishedAt) return wf;
    if (Date.now() > deadline) throw new Error(`${name} did not finish: ${JSON.stringify(wf.status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until `test(wf)` holds for the workflow; returns it. */
export async function until(url, namespace, name, test, what, timeoutMs = 60_000, token = undefined) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wf = await api(url, 'GET', `/api/v1/workflows/${namespace}/${name}`, undefined, token);
    if (test(wf)) return wf;
    if (Date.now() > deadline) throw new Error(`${name}: ${what} did not happen: ${JSON.stringify(wf.status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until a node with this display name waits at its suspend step; returns the workflow. */
export function waiting(url, namespace, name, displayName, token = undefined) {
  return until(
    url,
    namespace,
    name,
    (wf) => Object.values(wf.status?.nodes ?? {}).some((n) => n.displayName === displayName && n.type === 'Suspend' && n.phase === 'Running'),
    `${displayName} waiting`,
    60_000,
    token,
  );
}

/** The id of the node of `wf` with this display name. */
export function nodeId(wf, displayName) {
  const entry = Object.entries(wf.status?.nodes ?? {}).find(([, n]) => n.displayName === displayName);
  if (!entry) throw new Error(`no node ${displayName} in ${wf.metadata.name}`);
  return entry[0];
}
