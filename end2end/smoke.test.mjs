// Browser smoke test of the home page: `node --test end2end/` from the workspace root.
//
// Starts the built `trellis serve` on a free port with the example manifests, drives Debian's
// Chromium with playwright-core, and checks that the page hydrates without console errors, lists
// every example template, filters as the user types and on `?q=` from the server.
//
// Environment: see harness.mjs.
//
// Build first with `cargo xtask build`; install the browser with `apt-get install chromium` and
// playwright-core with `npm install`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, openPage as open, root, screenshot, startServer } from './harness.mjs';

const examplesDir = join(root, 'manifests', 'examples');
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

const names = yamlFiles(examplesDir).flatMap((file) => templateNames(readFileSync(file, 'utf8')));
let server;
let browser;
let baseUrl;

before(async () => {
  assert.ok(names.length > 0, `no WorkflowTemplate/ClusterWorkflowTemplate/CronWorkflow in ${examplesDir}`);
  server = await startServer([examplesDir]);
  baseUrl = server.url;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

/** A new page that records console errors and uncaught exceptions. */
function openPage() {
  return open(browser, { width: 1280, height: 900 });
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

    await screenshot(page, 'home');
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
