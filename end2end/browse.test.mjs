// The pipeline browser in Debian's Chromium against a real `trellis serve` with seeded runs:
// folders with each template's last runs, the template page (history, grid, trend), all runs
// (filters, live rows), the run page (live graph with pending steps, collapsed loops, node panel,
// log that grows, search and permalinks, timeline, YAML), and script-injection payloads that stay
// text everywhere. Screenshots go to end2end/screenshots/. Environment: see harness.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  api,
  finished,
  launchBrowser,
  nodeId,
  openPage,
  withPage,
  root,
  screenshot,
  startServer,
  submit,
  visit,
} from './harness.mjs';

const NS = 'e2e';
let server;
let browser;
let url;
const runs = {};

before(async () => {
  server = await startServer([join(root, 'end2end', 'fixtures', 'browse')]);
  url = server.url;
  browser = await launchBrowser();
  runs.pass = await submit(url, NS, 'flaky', ['code=0']);
  await finished(url, NS, runs.pass);
  runs.fail = await submit(url, NS, 'flaky', ['code=3']);
  runs.loop = await submit(url, NS, 'fan-out');
  runs.evil = await submit(url, NS, 'evil');
  for (const name of [runs.fail, runs.loop, runs.evil]) await finished(url, NS, name);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});


const testIds = (page, id, attr) =>
  page.locator(`[data-testid="${id}"]`).evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), attr);

test('the folder tree shows each template like a Jenkins job, and the table sorts', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/`);
    const row = page.locator('[data-testid="template-row"][data-name="flaky"]');
    await row.waitFor();
    assert.match(await row.locator('[data-testid="last-run"]').innerText(), /#2\s*✖\s*Failed/);
    assert.match(await row.innerText(), /last success #1/);
    assert.match(await row.innerText(), /last failure #2/);
    assert.equal(await row.locator('[data-testid="health"]').innerText(), '◑ 1 of the last 2 runs passed');
    assert.equal(await row.locator('[data-testid="sparkline"]').count(), 1);
    assert.match(
      await page.locator('[data-testid="template-row"][data-name="live-steps"] [data-testid="job-never"]').innerText(),
      /Never run/,
    );
    assert.deepEqual(await testIds(page, 'folder', 'data-folder'), ['e2e', 'e2e/live']);
    await screenshot(page, 'browse-folders');

    await page.locator('[data-testid="view-table"]').click();
    await page.waitForSelector('[data-testid="template-table"]');
    await page.locator('[data-testid="sort-status"]').click();
    await page.waitForURL(/sort=status/);
    const order = await page.locator('[data-testid="table-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.name));
    assert.equal(order[0], 'flaky', `failing templates sort first: ${order}`);
    assert.deepEqual(order.slice(-2).sort(), ['live-steps', 'nightly'], `never-run templates sort last: ${order}`);
    await screenshot(page, 'browse-table');
  });
});

test('the template page shows numbered history, the grid and the trend; a cell opens that step', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/templates/${NS}/flaky`);
    assert.equal(await page.locator('[data-testid="total-runs"]').innerText(), '2');
    const rows = await page.locator('[data-testid="run-row"]').evaluateAll((r) => r.map((e) => [e.dataset.name, e.dataset.phase]));
    assert.deepEqual(rows, [
      [runs.fail, 'failed'],
      [runs.pass, 'succeeded'],
    ]);
    assert.match(await page.locator('[data-testid="run-row"]').first().innerText(), /#2/);
    assert.match(await page.locator('[data-testid="parameters"]').innerText(), /The exit code of the test step/);
    assert.equal(await page.locator('[data-testid="trend"] rect').count(), 2);
    assert.equal(await page.locator('[data-testid="graph-node"][data-planned="true"]').count(), 3, 'the spec graph: main, build, test');
    const phases = await testIds(page, 'grid-cell', 'data-phase');
    assert.deepEqual(phases.sort(), ['failed', 'succeeded', 'succeeded', 'succeeded']);
    await screenshot(page, 'browse-template');

    await page.locator('[data-testid="grid-cell"][data-phase="failed"]').click();
    await page.waitForURL(new RegExp(`/runs/${NS}/${runs.fail}\\?node=`));
    await page.waitForSelector('[data-testid="node-panel"] [data-testid="node-title"]');
    assert.equal(await page.locator('[data-testid="node-title"]').innerText(), 'test');
    assert.match(await page.locator('[data-testid="node-panel"]').innerText(), /exitCode\s*3/);
  });
});

test('all runs filters by name and phase, and a running row turns green without a reload', async () => {
  const live = await submit(url, NS, 'live-steps');
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs`);
    const shown = () => page.locator('[data-testid="run-row"]').evaluateAll((r) => r.map((e) => e.dataset.name));
    assert.ok((await shown()).includes(live));
    const row = page.locator(`[data-testid="run-row"][data-name="${live}"]`);
    assert.equal(await row.getAttribute('data-phase'), 'running');
    await screenshot(page, 'browse-runs');
    await page.waitForSelector(`[data-testid="run-row"][data-name="${live}"][data-phase="succeeded"]`, { timeout: 40_000 });

    await page.locator('[data-testid="filter-name"]').fill('flaky');
    await page.locator('[data-testid="apply"]').click();
    await page.waitForURL(/name=flaky/);
    await page.waitForSelector('[data-hydrated="true"]');
    assert.deepEqual((await shown()).sort(), [runs.fail, runs.pass].sort());
    await visit(page, `${url}/runs?sort=name`);
    const byName = await shown();
    assert.deepEqual(byName, [...byName].sort(), `sorted by name in the store: ${byName}`);
    await visit(page, `${url}/runs?sort=size`);
    assert.match(await page.locator('[role="alert"], [data-testid="error"]').first().innerText(), /sort must be newest, name or duration/);
    await visit(page, `${url}/runs?name=flaky&phase=Failed`);
    assert.deepEqual(await shown(), [runs.fail]);
    await visit(page, `${url}/runs?since=yesterday`);
    assert.match(await page.locator('[role="alert"], [data-testid="error"]').first().innerText(), /from must be a day like/);
  });
});

test('a running run: pending steps are drawn, the log grows, the graph finishes live', async () => {
  const name = await submit(url, NS, 'live-steps');
  await withPage(browser, async (page) => {
    const followed = [];
    const windows = [];
    page.on('request', (r) => {
      if (r.url().includes('/follow?after=')) followed.push(r.url());
      if (r.url().includes('node_log')) windows.push(r.url());
    });
    await visit(page, `${url}/runs/${NS}/${name}`);
    await page.waitForSelector('[data-testid="run-header"][data-phase="running"]');
    const after = page.locator('[data-testid="graph-node"]', { hasText: 'after' });
    assert.equal(await after.getAttribute('data-planned'), 'true', 'the next step is drawn before it starts');
    await page.locator('[data-testid="graph-node"]', { hasText: 'count' }).click();
    await page.waitForSelector('[data-testid="log-viewer"]');
    const lines = async () => page.locator('[data-testid="log-lines"] [data-line]').count();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-lines"] [data-line]').length > 0, null, { timeout: 10_000 });
    const early = await lines();
    await screenshot(page, 'browse-run-live');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="log-lines"] [data-line]').length > n, early, { timeout: 10_000 });
    assert.equal(followed.length, 1, 'new lines are pushed over one event stream');
    assert.ok(windows.length <= 2, `the window is not fetched again and again (${windows.length})`);
    await page.waitForSelector('[data-testid="run-header"][data-phase="succeeded"]', { timeout: 40_000 });
    await page.waitForSelector('[data-testid="graph-node"][data-phase="succeeded"]:has-text("after")', { timeout: 10_000 });
    assert.equal(await page.locator('[data-testid="graph-node"][data-planned="true"]').count(), 0);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-lines"] [data-line]').length === 40, null, { timeout: 10_000 });
    assert.match(await page.locator('[data-testid="log-range"]').innerText(), /lines 1–40 of 40/);

    await page.locator('[data-testid="log-search"]').fill('line 3');
    assert.equal(await page.locator('[data-testid="log-hits"]').innerText(), '11 matches');
    await page.locator('[data-testid="log-search"]').press('Enter');
    await page.waitForSelector('[data-line="3"][data-current="true"]');
    await page.locator('[data-testid="log-search"]').press('Enter');
    await page.waitForSelector('[data-line="30"][data-current="true"]');
    await screenshot(page, 'browse-run-done');
    // A browser reconnects a closed event stream after 3 s unless it was closed for good.
    await page.waitForTimeout(3_500);
    assert.equal(followed.length, 1, 'the finished stream is not opened again');

    const wf = await api(url, 'GET', `/api/v1/workflows/${NS}/${name}`);
    await visit(page, `${url}/runs/${NS}/${name}?node=${nodeId(wf, 'count')}&line=25`);
    await page.waitForSelector('[data-line="25"][data-current="true"]');
    const text = await (await fetch(`${url}/api/v1/trellis/logs/${NS}/${name}/${nodeId(wf, 'count')}`)).text();
    assert.equal(text.split('\n')[39], 'line 40', 'the download is the whole log as text');

    await page.locator('[data-testid="tab-timeline"]').click();
    await page.waitForSelector('[data-testid="timeline"]');
    assert.equal(await page.locator('[data-testid="timeline-row"]').count(), 2);
    await page.locator('[data-testid="tab-yaml"]').click();
    assert.match(await page.locator('[data-testid="yaml"]').innerText(), /kind: Workflow/);
  });
});

test('a loop of 30 is one group until it is expanded', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${runs.loop}`);
    const group = page.locator('[data-testid="graph-node"][data-group]');
    assert.equal(await group.count(), 1);
    assert.match(await group.textContent(), /30 steps/);
    assert.ok((await page.locator('[data-testid="graph-node"]').count()) < 5);
    await group.click();
    await page.waitForURL(/expand=/);
    await page.waitForFunction(
      () => parseInt(document.querySelector('[data-testid="graph-count"]').textContent, 10) === 32,
      null,
      { timeout: 10_000 },
    );
    assert.ok((await page.locator('[data-testid="graph-node"]').count()) < 32, 'only the visible part is drawn');
    await page.locator('[data-testid="graph-svg"]').locator('xpath=..').getByTitle('Show the whole graph').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="graph-node"]').length === 31, null, { timeout: 5_000 });
    await page.locator('[data-testid="graph-search"]').fill('shard(2');
    assert.match(await page.locator('[data-testid="graph-matches"]').innerText(), /^11 found$/);
    await screenshot(page, 'browse-loop-expanded');
  });
});

test('script and javascript: payloads stay inert text on every page', async () => {
  const wf = await api(url, 'GET', `/api/v1/workflows/${NS}/${runs.evil}`);
  const node = nodeId(wf, runs.evil);
  await withPage(browser, async (page) => {
    for (const path of ['/', '/?view=table', `/templates/${NS}/evil`, '/runs', `/runs/${NS}/${runs.evil}?node=${node}`]) {
      await visit(page, url + path);
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate(() => window.__xss), undefined, `no payload ran on ${path}`);
      assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0, `no javascript: link on ${path}`);
      assert.equal(await page.locator('img[src="x"]').count(), 0, `no injected image on ${path}`);
    }
    await page.waitForSelector('[data-testid="log-lines"] [data-line="3"]');
    const log = await page.locator('[data-testid="log-lines"]').innerText();
    assert.match(log, /<script>window.__xss = 6<\/script>/);
    assert.match(log, /red/);
    assert.doesNotMatch(log, /\x1b|\[31m/, 'colour codes are rendered, not shown');
    assert.equal(await page.locator('[data-testid="log-lines"] .text-red-400').innerText(), 'red');
    await visit(page, `${url}/templates/${NS}/evil`);
    assert.equal(await page.locator('[data-testid="template-title"]').innerText(), '<script>window.__xss = 1</script>');
    assert.match(await page.locator('[data-testid="markdown"]').innerText(), /click me/);
    await screenshot(page, 'browse-inert');
  });
});

test('the cron page says in words when it runs, and lists the next runs', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/cron-workflows/${NS}/nightly`);
    assert.equal(await page.locator('[data-testid="cron-words"]').innerText(), 'every day at 02:00 Europe/Paris');
    assert.equal(await page.locator('[data-testid="cron-state"]').innerText(), 'Active');
    const next = await page.locator('[data-testid="cron-next"]').innerText();
    assert.equal(next.split('·').length, 5, next);
    assert.match(await page.locator('[data-testid="cron"]').innerText(), /concurrency: Forbid/);
    await screenshot(page, 'browse-cron');
  });
});

test('keyboard shortcuts: ? lists them, g r goes to the runs, / focuses the search', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/`);
    await page.keyboard.press('?');
    await page.waitForSelector('[data-testid="shortcuts"]');
    await screenshot(page, 'browse-shortcuts');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="shortcuts"]', { state: 'detached' });
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'template-search');
    await page.keyboard.type('g r');
    assert.equal(await page.locator('#template-search').inputValue(), 'g r', 'keys typed in a field stay there');
    await page.locator('h1').click();
    await page.keyboard.press('g');
    await page.keyboard.press('r');
    await page.waitForURL(/\/runs$/);
  });
});

test('dark mode follows the system until toggled, and the toggle is remembered', async () => {
  const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    const isDark = () => page.evaluate(() => document.documentElement.classList.contains('dark'));
    await visit(page, `${url}/runs/${NS}/${runs.fail}`);
    assert.equal(await isDark(), true, 'the system prefers dark');
    await screenshot(page, 'browse-dark');
    await page.locator('[data-testid="theme-toggle"]').click();
    assert.equal(await isDark(), false);
    await visit(page, `${url}/`);
    assert.equal(await isDark(), false, 'the choice is remembered');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the namespace switcher narrows the tree and the runs', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/`);
    const switcher = page.locator('[data-testid="namespace-switcher"]');
    assert.deepEqual(await switcher.locator('option').allInnerTexts(), ['all namespaces', 'e2e']);
    await switcher.selectOption('e2e');
    await page.waitForURL(/\/\?namespace=e2e$/);
    assert.deepEqual(await testIds(page, 'scope', 'data-scope'), ['e2e']);
    await visit(page, `${url}/runs`);
    await page.locator('[data-testid="namespace-switcher"]').selectOption('e2e');
    await page.waitForURL(/\/runs\?namespace=e2e$/);
    await page.waitForSelector('[data-testid="run-row"]');
  });
});
