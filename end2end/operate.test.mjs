// Operating pipelines in Debian's Chromium against a real `trellis serve`: the typed "Run with
// parameters" form (a validation error, a preview, the new run, a rebuild), approvals (approve
// with a value a later step uses, reject with a comment, a rule that keeps the user out, the
// inbox badge, the audit trail), retry from a failed step with its plan, stop and delete with
// their confirmations, and two runs compared. The server acts as user alice of group release.
// Screenshots go to end2end/screenshots/. Environment: see harness.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  api,
  finished,
  launchBrowser,
  openPage,
  withPage,
  root,
  screenshot,
  startServer,
  submit,
  until,
  visit,
  waiting,
} from './harness.mjs';

const NS = 'ops';
let server;
let browser;
let url;

before(async () => {
  server = await startServer([join(root, 'end2end', 'fixtures', 'operate')], {
    args: ['--user', 'alice', '--user-group', 'release'],
  });
  url = server.url;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});


const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

async function runsOf(template) {
  const list = await api(
    url,
    'GET',
    `/api/v1/workflows/${NS}?listOptions.labelSelector=workflows.argoproj.io/workflow-template=${template}`,
  );
  return list.items ?? [];
}

async function nodeLog(name, displayName) {
  const wf = await api(url, 'GET', `/api/v1/workflows/${NS}/${name}`);
  const [id] = Object.entries(wf.status.nodes).find(([, n]) => n.displayName === displayName);
  const response = await fetch(`${url}/api/v1/trellis/logs/${NS}/${name}/${id}`);
  return response.text();
}

test('the typed form: inputs per parameter, a validation error, a preview, then the new run', async () => {
  await withPage(browser, async (page) => {
    await visit(page, `${url}/templates/${NS}/release`);
    await byTestId(page, 'run-template-button').click();
    await page.waitForURL(/\/templates\/ops\/release\/run$/);
    await page.waitForSelector('[data-hydrated="true"]');
    // One input per kind of parameter, descriptions inline.
    assert.equal(await page.locator('[data-testid="field-environment"] input[type="radio"]').count(), 3);
    assert.equal(await byTestId(page, 'field-region').evaluate((e) => e.tagName), 'SELECT');
    assert.equal(await byTestId(page, 'field-dry-run').getAttribute('type'), 'checkbox');
    assert.equal(await byTestId(page, 'field-replicas').getAttribute('inputmode'), 'numeric');
    assert.equal(await byTestId(page, 'field-notes').evaluate((e) => e.tagName), 'TEXTAREA');
    assert.equal(await byTestId(page, 'field-api-token').getAttribute('type'), 'password');
    assert.match(await byTestId(page, 'description-region').textContent(), /cloud region/);
    assert.equal(await byTestId(page, 'field-region').inputValue(), 'eu-west-1', 'defaults are pre-filled');

    // A bad number is named under its field, in the browser and again by the server.
    await byTestId(page, 'field-replicas').fill('two');
    await byTestId(page, 'problem-replicas').waitFor();
    await byTestId(page, 'run-submit').click();
    await page.waitForTimeout(500);
    assert.match(await byTestId(page, 'problem-replicas').textContent(), /whole number/);
    assert.match(page.url(), /\/run$/, 'still on the form');
    assert.equal((await runsOf('release')).length, 0, 'nothing was created');
    await screenshot(page, 'operate-form-error');

    await byTestId(page, 'field-replicas').fill('3');
    await page.locator('[data-testid="field-environment"] input[value="production"]').check();
    await byTestId(page, 'field-region').selectOption('us-east-1');
    await byTestId(page, 'field-dry-run').check();
    await byTestId(page, 'field-api-token').fill('tok-9f8e7d');
    await byTestId(page, 'labels').fill('team=web');
    // The preview follows the chosen entrypoint.
    await byTestId(page, 'entrypoint').selectOption('quick');
    await byTestId(page, 'run-preview').click();
    await page.locator('[data-testid="trigger-preview"] [data-testid="graph-node"]', { hasText: 'only' }).waitFor();
    await byTestId(page, 'entrypoint').selectOption('main');
    await byTestId(page, 'run-preview').click();
    await page.locator('[data-testid="trigger-preview"] [data-testid="graph-node"]', { hasText: 'deploy' }).waitFor();
    await screenshot(page, 'operate-form');
    await byTestId(page, 'run-submit').click();
    await page.waitForURL(/\/runs\/ops\/release-/);
    await page.waitForSelector('[data-hydrated="true"]');
    assert.equal(await byTestId(page, 'run-title').textContent(), '#1');
  });
  const [run] = await runsOf('release');
  const name = run.metadata.name;
  assert.equal(run.metadata.labels.team, 'web');
  await finished(url, NS, name);
  // The secret ran, but is shown nowhere.
  const log = await nodeLog(name, 'deploy');
  assert.match(log, /deploy 3 replicas, token ••••••/);
  assert.doesNotMatch(log, /tok-9f8e7d/);
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${name}`);
    const header = await byTestId(page, 'run-header').textContent();
    assert.match(header, /environment=production/);
    assert.doesNotMatch(header, /tok-9f8e7d/);
    await visit(page, `${url}/runs/${NS}/${name}?tab=yaml`);
    await byTestId(page, 'yaml').waitFor();
    assert.doesNotMatch(await byTestId(page, 'yaml').textContent(), /tok-9f8e7d/);
    // Rebuild: the form again, with this run's values.
    await visit(page, `${url}/runs/${NS}/${name}`);
    await byTestId(page, 'action-rebuild').click();
    await page.waitForURL(/\/run\?from=/);
    await page.waitForSelector('[data-hydrated="true"]');
    await byTestId(page, 'rebuilt-from').waitFor();
    assert.equal(await byTestId(page, 'field-replicas').inputValue(), '3');
    assert.equal(await byTestId(page, 'field-region').inputValue(), 'us-east-1');
    assert.equal(await byTestId(page, 'field-api-token').inputValue(), '', 'secrets are not copied');
    assert.equal(await byTestId(page, 'labels').inputValue(), 'team=web');
  });
});

test('approve with a value: the next step uses it, the inbox empties, the audit records it', async () => {
  const name = await submit(url, NS, 'gate');
  await waiting(url, NS, name, 'approve');
  await withPage(browser, async (page) => {
    await visit(page, `${url}/templates/${NS}/gate`);
    await page.locator('[data-testid="phase"][data-phase="waiting"]').first().waitFor();
    await byTestId(page, 'inbox-count').waitFor();
    assert.equal(await byTestId(page, 'inbox-count').textContent(), '1');
    await byTestId(page, 'nav-approvals').click();
    await page.waitForURL(/\/approvals$/);
    await byTestId(page, 'inbox-item').first().waitFor();
    await screenshot(page, 'operate-inbox');
    await page.locator('[data-testid="inbox-item"] a').first().click();
    await page.waitForURL(/\/runs\/ops\/gate-/);
    await byTestId(page, 'approval').waitFor();
    assert.equal(await byTestId(page, 'approval-target').inputValue(), 'blue', 'the default is pre-filled');
    await byTestId(page, 'approval-target').selectOption('green');
    await byTestId(page, 'approval-comment').fill('ship it');
    await screenshot(page, 'operate-approval');
    await byTestId(page, 'approve').click();
    await byTestId(page, 'approval').waitFor({ state: 'detached' });
    await page.locator('[data-testid="audit-entry"][data-action="approve"]').waitFor();
    const entry = await page.locator('[data-testid="audit-entry"][data-action="approve"]').textContent();
    assert.match(entry, /alice/);
    assert.match(entry, /target=green/);
    assert.match(entry, /ship it/);
    await page.waitForFunction(() => !document.querySelector('[data-testid="inbox-count"]'), null, { timeout: 15_000 });
  });
  await finished(url, NS, name);
  assert.match(await nodeLog(name, 'use'), /deploying to green/);
});

test('reject needs a comment, then fails the step with it', async () => {
  const name = await submit(url, NS, 'gate');
  await waiting(url, NS, name, 'approve');
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${name}`);
    await byTestId(page, 'approval').waitFor();
    await byTestId(page, 'reject').click();
    assert.match(await byTestId(page, 'approval-error').textContent(), /comment is required/);
    await byTestId(page, 'approval-comment').fill('not on a Friday');
    await byTestId(page, 'reject').click();
    await page.locator('[data-testid="audit-entry"][data-action="reject"]').waitFor();
    assert.match(await page.locator('[data-testid="audit-entry"][data-action="reject"]').textContent(), /not on a Friday/);
    await visit(page, `${url}/audit?action=reject`);
    assert.equal(await byTestId(page, 'audit-entry').count(), 1);
    await screenshot(page, 'operate-audit');
  });
  const wf = await finished(url, NS, name);
  assert.equal(wf.status.phase, 'Failed');
  const node = Object.values(wf.status.nodes).find((n) => n.displayName === 'approve');
  assert.equal(node.phase, 'Failed');
  assert.match(node.message, /Rejected by alice: not on a Friday/);
});

test('a step only someone else may approve says why, and stays out of the inbox', async () => {
  const name = await submit(url, NS, 'guarded');
  await waiting(url, NS, name, 'sign-off');
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${name}`);
    await byTestId(page, 'approval').waitFor();
    assert.match(await byTestId(page, 'approval-why-not').textContent(), /user:bob/);
    assert.equal(await byTestId(page, 'approve').isDisabled(), true);
    await visit(page, `${url}/approvals`);
    assert.equal(await page.locator(`[data-testid="inbox-item"] a[href*="${name}"]`).count(), 0);
    // Stop, with a confirmation that says what happens.
    await visit(page, `${url}/runs/${NS}/${name}`);
    await byTestId(page, 'action-stop').click();
    assert.match(await byTestId(page, 'action-consequence').textContent(), /exit handler still runs/);
    await byTestId(page, 'action-confirm').click();
    await page.locator('[data-testid="run-header"][data-phase="failed"]').waitFor({ timeout: 30_000 });
    // Delete, likewise; the page goes back to the template.
    await byTestId(page, 'action-delete').click();
    assert.match(await byTestId(page, 'action-consequence').textContent(), /cannot be undone/);
    await byTestId(page, 'action-confirm').click();
    await page.waitForURL(/\/templates\/ops\/guarded$/);
  });
  const response = await fetch(`${url}/api/v1/workflows/${NS}/${name}`);
  assert.equal(response.status, 404);
});

test('a timed pause counts down; a whole run is suspended and resumed', async () => {
  const name = await submit(url, NS, 'timed');
  const wf = await waiting(url, NS, name, 'cool-down');
  const [id] = Object.entries(wf.status.nodes).find(([, n]) => n.displayName === 'cool-down');
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${name}?node=${id}`);
    await byTestId(page, 'countdown').waitFor();
    const first = await byTestId(page, 'countdown').textContent();
    assert.match(first, /Resumes by itself in (1m|2m|\d+s)/);
    await page.waitForFunction((t) => document.querySelector('[data-testid="countdown"]').textContent !== t, first);
    assert.match(await byTestId(page, 'approval-until').textContent(), /Resumes by itself at/);
    // A pause waits for no one: it is not in the inbox.
    assert.equal(await page.locator('[data-testid="inbox-count"]').count(), 0);
    await byTestId(page, 'action-suspend').click();
    assert.match(await byTestId(page, 'action-consequence').textContent(), /no new step starts/);
    await byTestId(page, 'action-confirm').click();
    await byTestId(page, 'action-resume').waitFor();
    await byTestId(page, 'action-resume').click();
    assert.match(await byTestId(page, 'action-consequence').textContent(), /released/);
    await byTestId(page, 'action-confirm').click();
    // Resuming releases the pause: the next step starts.
    await until(url, NS, name, (w) => Object.values(w.status.nodes).some((n) => n.displayName === 'after'), 'the next step started');
    await byTestId(page, 'action-suspend').waitFor();
    await byTestId(page, 'action-terminate').click();
    await byTestId(page, 'action-confirm').click();
    await page.locator('[data-testid="run-header"][data-phase="failed"]').waitFor({ timeout: 30_000 });
  });
  const audit = await api(url, 'GET', `/api/v1/trellis/audit?workflow=${wf.metadata.uid}`);
  const actions = audit.items.map((e) => e.action).reverse();
  assert.deepEqual(actions, ['submit', 'suspend', 'resume', 'terminate']);
  const after = await api(url, 'GET', `/api/v1/workflows/${NS}/${name}`);
  assert.equal(Object.values(after.status.nodes).find((n) => n.displayName === 'cool-down').phase, 'Succeeded');
});

test('retry from the failed step and resubmit memoized: each plan lists what runs again; compare runs', async () => {
  const failed = await submit(url, NS, 'pipeline');
  assert.equal((await finished(url, NS, failed)).status.phase, 'Failed');
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${failed}`);
    await byTestId(page, 'action-retry').click();
    await byTestId(page, 'plan').waitFor();
    const names = async (id) => page.locator(`[data-testid="${id}"] [data-testid="plan-step"] .font-mono`).allTextContents();
    assert.deepEqual(await names('plan-again'), ['[1].test']);
    assert.deepEqual(await names('plan-first'), ['[2].publish']);
    assert.match(await byTestId(page, 'plan-kept').textContent(), /^1 step keeps/);
    // From a step that succeeded: it and what follows run again.
    await byTestId(page, 'retry-from').selectOption({ label: '[0].compile' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="plan-again"] [data-testid="plan-step"]').length === 2);
    await byTestId(page, 'retry-from').selectOption('');
    await page.locator('details:has([data-testid="edit-fail"]) summary').click();
    await byTestId(page, 'edit-fail').fill('false');
    await screenshot(page, 'operate-retry');
    await byTestId(page, 'action-confirm').click();
    await byTestId(page, 'action-dialog').waitFor({ state: 'detached' });
  });
  await until(url, NS, failed, (wf) => wf.status?.phase === 'Succeeded', 'the retry succeeded');
  const second = await submit(url, NS, 'pipeline', ['fail=false']);
  await finished(url, NS, second);
  await withPage(browser, async (page) => {
    await visit(page, `${url}/runs/${NS}/${second}`);
    await byTestId(page, 'action-compare').click();
    await page.waitForURL(/\/compare\/ops\//);
    await byTestId(page, 'compare-parameters').waitFor();
    const differs = await page.locator('[data-testid="param-row"][data-differs="true"]').allTextContents();
    assert.equal(differs.length, 0, 'the retry ran with fail=false, as the second run');
    assert.equal(await byTestId(page, 'step-row').count(), 3);
    assert.ok((await byTestId(page, 'step-log').count()) >= 6, 'each step links to its log in both runs');
    await screenshot(page, 'operate-compare');
  });
  const first = await submit(url, NS, 'pipeline');
  await finished(url, NS, first);
  await withPage(browser, async (page) => {
    await visit(page, `${url}/compare/${NS}/${first}/${second}`);
    const differs = await page.locator('[data-testid="param-row"][data-differs="true"]').allTextContents();
    assert.equal(differs.length, 1);
    assert.match(differs[0], /fail.*true.*false/s);
    const test = page.locator('[data-testid="step-row"]', { hasText: '[1].test' });
    assert.match(await test.textContent(), /Failed.*Succeeded/s);
    // Resubmit it memoized: what succeeded is kept, the rest runs in a new run.
    await visit(page, `${url}/runs/${NS}/${first}`);
    await byTestId(page, 'action-resubmit').click();
    await byTestId(page, 'plan').waitFor();
    assert.equal(await page.locator('[data-testid="plan-again"] [data-testid="plan-step"]').count(), 2, 'without memoized every step runs');
    await byTestId(page, 'resubmit-memoized').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="plan-again"] [data-testid="plan-step"]').length === 1);
    assert.match(await byTestId(page, 'plan-kept').textContent(), /^1 step keeps/);
    await page.locator('details:has([data-testid="edit-fail"]) summary').click();
    await byTestId(page, 'edit-fail').fill('false');
    await byTestId(page, 'action-confirm').click();
    await page.waitForURL((u) => u.pathname.startsWith(`/runs/${NS}/pipeline-`) && !u.pathname.endsWith(first));
  });
  const resubmitted = (await runsOf('pipeline')).find((w) => w.metadata.labels['workflows.argoproj.io/resubmitted-from-workflow'] === first);
  const done = await finished(url, NS, resubmitted.metadata.name);
  assert.equal(done.status.phase, 'Succeeded');
  const compile = Object.values(done.status.nodes).find((n) => n.displayName === 'compile');
  assert.match(compile.message, /memoized: ran in/);
});
