// Signing in with OpenID Connect, in Debian's Chromium against a real `trellis serve
// --auth-mode sso` and a real OpenID provider (npm `oidc-provider`, end2end/oidc/provider.mjs):
// a visitor is sent to sign in, signs in on the provider's page, lands in Trellis with their
// name, sees only what the policy allows, approves a step (the audit records them), signs out.
// Then, without a browser, every way a sign-in can be forged is refused: tampered state, a
// replayed code, an expired ID token, a wrong audience, an unsigned token (`alg: none`), a bad
// signature, a wrong nonce or issuer (a rogue provider, end2end/oidc/rogue.mjs), a forged session
// cookie, and a cross-site POST without the browser's proof of origin.
// Environment: see harness.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  api,
  createToken,
  freePort,
  launchBrowser,
  root,
  screenshot,
  startServer,
  submit,
  visit,
  waiting,
} from './harness.mjs';
import { startProvider } from './oidc/provider.mjs';
import { startRogueProvider } from './oidc/rogue.mjs';

const USERS = [
  { login: 'alice', password: 'wonderland', sub: 'alice', email: 'alice@example.com', name: 'Alice Liddell', groups: ['release'] },
  { login: 'bob', password: 'builder', sub: 'bob', email: 'bob@example.com', name: 'Bob Builder', groups: ['viewers'] },
];
const CLIENT_ID = 'trellis';
const SECRET = 'trellis-test-secret';

let provider;
let rogue;
let server;
let rogueServer;
let browser;
let rootToken;

/** Starts Trellis in sso + client mode against `issuer`, on `port`. */
async function trellisFor(issuer, port) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-sso-'));
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  return startServer([join(root, 'end2end', 'fixtures', 'sso', 'teams.yaml')], {
    port,
    args: [
      '--auth-mode', 'sso', '--auth-mode', 'client',
      '--policy', join(root, 'end2end', 'fixtures', 'sso', 'policy.yaml'),
      '--sso-issuer', issuer,
      '--sso-client-id', CLIENT_ID,
      '--sso-client-secret-file', secretFile,
    ],
  });
}

before(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  provider = await startProvider({
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    redirectUris: [`${base}/auth/callback`],
    postLogoutRedirectUris: [`${base}/`],
    users: USERS,
  });
  server = await trellisFor(provider.issuer, port);
  rootToken = createToken(server, 'root', ['--role', 'admin']);
  const roguePort = await freePort();
  rogue = await startRogueProvider({ clientId: CLIENT_ID, mode: 'ok' });
  rogueServer = await trellisFor(rogue.issuer, roguePort);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  await rogueServer?.stop();
  await provider?.close();
  await rogue?.close();
});

const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

/** Runs `body` with a fresh page; fails on console errors, failed requests or dialogs of
 * Trellis' pages (the provider's own pages are not under test). */
async function withTrellisPage(body) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  const ours = (url) => url.startsWith(server.url);
  page.on('console', (m) => {
    if (m.type() === 'error' && ours(m.location()?.url ?? page.url())) errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => ours(page.url()) && errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => ours(r.url()) && errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  try {
    await body(page);
    assert.deepEqual(errors, [], 'no console errors, failed requests or dialogs');
  } finally {
    await page.close();
  }
}

/** The browser's cookie header for Trellis, to call it from here as that browser. */
async function browserCookie(page) {
  const cookies = await page.context().cookies(server.url);
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** Signs in through the provider's page as `login`, starting from `path`. */
async function signIn(page, login, path = '/') {
  const user = USERS.find((u) => u.login === login);
  await page.goto(server.url + path);
  await page.waitForURL(/\/login\?redirect=/);
  await page.waitForSelector('[data-hydrated="true"]');
  await byTestId(page, 'sso-login').click();
  await page.waitForURL((u) => u.href.startsWith(provider.issuer));
  await page.fill('input[name="login"]', user.login);
  await page.fill('input[name="password"]', user.password);
  await page.click('#sign-in');
  await page.waitForURL((u) => u.href.startsWith(server.url) && !u.pathname.startsWith('/auth/'));
  await page.waitForSelector('[data-hydrated="true"]');
}

test('a visitor signs in with the provider, sees only what the policy allows, approves, and signs out', async () => {
  const run = await submit(server.url, 'team-a', 'deploy', [], rootToken);
  await waiting(server.url, 'team-a', run, 'approve', rootToken);
  await withTrellisPage(async (page) => {
    await signIn(page, 'alice', `/runs/team-a/${run}`);
    assert.equal(new URL(page.url()).pathname, `/runs/team-a/${run}`, 'back where they started');
    assert.equal(await byTestId(page, 'user-name').innerText(), 'Alice Liddell');
    await page.goto(`${server.url}/`);
    await page.waitForSelector('[data-hydrated="true"]');
    assert.equal(await page.locator('[data-name="deploy"]').count(), 1, 'team-a is hers');
    assert.equal(await page.locator('[data-name="payroll"]').count(), 0, 'team-b is hidden');
    const namespaces = await byTestId(page, 'namespace-switcher').locator('option').allInnerTexts();
    assert.ok(!namespaces.includes('team-b'), `no team-b in ${namespaces}`);
    const info = await page.evaluate(async () => (await fetch('/api/v1/userinfo')).json());
    assert.equal(info.subject, 'alice');
    assert.equal(info.email, 'alice@example.com');
    assert.deepEqual(info.groups, ['release']);
    assert.equal(info.issuer, provider.issuer);
    const hidden = await page.evaluate(async () => (await fetch('/api/v1/workflows/team-b')).json());
    assert.deepEqual(hidden.items ?? [], [], 'the REST API hides team-b too');

    await visit(page, `${server.url}/runs/team-a/${run}`);
    await byTestId(page, 'approve').click();
    await page.locator('[data-testid="audit-entry"][data-action="approve"]').waitFor();
    const entry = await page.locator('[data-testid="audit-entry"][data-action="approve"]').textContent();
    assert.match(entry, /alice/, `the run's trail names her: ${entry}`);
    await screenshot(page, 'sso-approved');

    const cookie = await browserCookie(page);
    await byTestId(page, 'sign-out').click();
    await page.waitForURL((u) => u.href.startsWith(`${server.url}/login`));
    await page.waitForSelector('[data-testid="sso-login"]');
    const after = await fetch(`${server.url}/api/v1/userinfo`, { headers: { cookie } });
    assert.equal(after.status, 401, 'the session is gone');
    const now = await fetch(`${server.url}/api/v1/userinfo`, { headers: { cookie: await browserCookie(page) } });
    assert.equal(now.status, 401, 'and the browser has no other');
  });
  const trail = await api(server.url, 'GET', `/api/v1/trellis/workflows/team-a/${run}/audit`, undefined, rootToken);
  const approval = trail.items.find((e) => e.action === 'approve');
  assert.equal(approval?.actor, 'alice', 'the audit records the real user');
  assert.deepEqual(approval?.actorGroups, ['release']);
});

test('an API token pasted on the sign-in page signs the browser in, and signing out ends it', async () => {
  await withTrellisPage(async (page) => {
    await page.goto(`${server.url}/runs`);
    await page.waitForURL(/\/login\?redirect=/);
    await page.waitForSelector('[data-hydrated="true"]');
    await page.fill('[data-testid="token-login"] input[name="token"]', 'trellis_not-a-token');
    await page.click('[data-testid="token-login"] button[type="submit"]');
    await page.waitForURL(/\/login\?error=/);
    assert.match(await byTestId(page, 'login-error').innerText(), /not one this server issued/);
    await page.fill('[data-testid="token-login"] input[name="token"]', rootToken);
    await screenshot(page, 'login-token');
    await page.click('[data-testid="token-login"] button[type="submit"]');
    await page.waitForURL((u) => u.pathname === '/' || u.pathname === '/runs');
    await page.waitForSelector('[data-hydrated="true"]');
    assert.equal(await byTestId(page, 'user-name').innerText(), 'token:root');
    const cookie = await browserCookie(page);
    assert.ok(!cookie.includes(rootToken), 'the browser keeps a session, not the token');
    await byTestId(page, 'sign-out').click();
    await page.waitForURL(/\/login\?signed_out=1/);
    await page.waitForSelector('[data-hydrated="true"]');
    await byTestId(page, 'signed-out').waitFor();
    await page.goto(`${server.url}/runs`);
    await page.waitForURL(/\/login\?redirect=/, { timeout: 10_000 });
  });
});

test('a viewer sees the run but is told why they may not act on it (after the provider rotated its keys)', async () => {
  // Tokens are signed with a key Trellis has not seen yet: it must read the keys again.
  await provider.rotateKeys();
  const run = await submit(server.url, 'team-a', 'deploy', [], rootToken);
  await waiting(server.url, 'team-a', run, 'approve', rootToken);
  await withTrellisPage(async (page) => {
    await signIn(page, 'bob', `/runs/team-a/${run}`);
    assert.equal(await byTestId(page, 'user-name').innerText(), 'Bob Builder');
    await page.waitForSelector('[data-testid="why-not"]');
    await byTestId(page, 'why-not').locator('summary').click();
    const why = await byTestId(page, 'why-not').innerText();
    assert.match(why, /stop/);
    assert.match(why, /viewer/, `the explanation names the role: ${why}`);
    assert.ok(await byTestId(page, 'action-stop').isDisabled());
    const refused = await fetch(`${server.url}/api/v1/workflows/team-a/${run}/stop`, {
      method: 'PUT',
      headers: { cookie: await browserCookie(page), origin: server.url, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(refused.status, 403);
    assert.match((await refused.json()).message, /viewer/);
  });
});

// ---- Forgeries, without a browser --------------------------------------------------------

/** The `trellis_session` cookie a response sets, if any. */
function sessionCookie(response) {
  const set = response.headers.getSetCookie?.() ?? [];
  const found = set.find((c) => c.startsWith('trellis_session='));
  return found?.split(';')[0];
}

/** Starts a sign-in at the rogue server: its cookie and the provider's callback URL. */
async function startRogueLogin() {
  const start = await fetch(`${rogueServer.url}/auth/login?redirect=/`, { redirect: 'manual' });
  assert.equal(start.status, 303, 'to the provider');
  const cookie = sessionCookie(start);
  assert.ok(cookie, 'a session for the sign-in under way');
  const authorize = start.headers.get('location');
  assert.ok(authorize.startsWith(rogue.issuer), authorize);
  const back = await fetch(authorize, { redirect: 'manual' });
  const callback = back.headers.get('location');
  assert.ok(callback.includes('/auth/callback?'), callback);
  return { cookie, callback: new URL(callback, rogueServer.url) };
}

/** Finishes a sign-in: where Trellis sends the browser, and the session cookie after. */
async function finish(cookie, callback) {
  const done = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  return { location: done.headers.get('location') ?? '', cookie: sessionCookie(done) ?? cookie };
}

async function userinfo(cookie) {
  return (await fetch(`${rogueServer.url}/api/v1/userinfo`, { headers: { cookie } })).status;
}

test('a genuine sign-in at the rogue provider works (the control case)', async () => {
  rogue.setMode('ok');
  const { cookie, callback } = await startRogueLogin();
  const { location, cookie: after } = await finish(cookie, callback);
  assert.equal(location, '/');
  assert.notEqual(after, cookie, 'the session id changes at sign-in');
  assert.equal(await userinfo(after), 200);
  assert.equal(await userinfo(cookie), 401, 'the id before sign-in is worth nothing');
});

for (const mode of ['expired', 'wrong-audience', 'alg-none', 'bad-signature', 'wrong-nonce', 'wrong-issuer']) {
  test(`an ID token that is ${mode} is refused`, async () => {
    rogue.setMode(mode);
    try {
      const { cookie, callback } = await startRogueLogin();
      const { location, cookie: after } = await finish(cookie, callback);
      assert.match(location, /^\/login\?error=/, `refused: ${location}`);
      assert.equal(await userinfo(after), 401);
    } finally {
      rogue.setMode('ok');
    }
  });
}

test('a tampered state is refused', async () => {
  const { cookie, callback } = await startRogueLogin();
  callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
  const { location, cookie: after } = await finish(cookie, callback);
  assert.match(decodeURIComponent(location), /state/);
  assert.equal(await userinfo(after), 401);
});

test('a replayed code is refused', async () => {
  const first = await startRogueLogin();
  const ok = await finish(first.cookie, first.callback);
  assert.equal(await userinfo(ok.cookie), 200);
  // The same answer again, in the same browser: that sign-in is over.
  const again = await finish(ok.cookie, first.callback);
  assert.match(again.location, /^\/login\?error=/);
  // The old code with a new sign-in's state: the provider refuses the code.
  const second = await startRogueLogin();
  const replay = new URL(first.callback);
  replay.searchParams.set('state', second.callback.searchParams.get('state'));
  const refused = await finish(second.cookie, replay);
  assert.match(refused.location, /^\/login\?error=/);
  assert.equal(await userinfo(refused.cookie), 401);
});

test('a forged session cookie is refused', async () => {
  const forged = 'trellis_session=AAAAAAAAAAAAAAAAAAAAAA';
  assert.equal(await userinfo(forged), 401);
  const page = await fetch(`${rogueServer.url}/`, { redirect: 'manual', headers: { cookie: forged } });
  assert.equal(page.status, 303, 'to the sign-in page');
  assert.match(page.headers.get('location'), /^\/login\?redirect=/);
});

test('a change sent with the session cookie needs the browser’s proof of origin', async () => {
  rogue.setMode('ok');
  const { cookie, callback } = await startRogueLogin();
  const { cookie: session } = await finish(cookie, callback);
  const body = JSON.stringify({ resourceKind: 'WorkflowTemplate', resourceName: 'deploy' });
  const post = (headers) =>
    fetch(`${rogueServer.url}/api/v1/workflows/team-a/submit`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/json', ...headers },
      body,
    });
  assert.equal((await post({})).status, 403, 'no Origin, no Sec-Fetch-Site');
  assert.equal((await post({ origin: 'https://evil.example' })).status, 403, 'another site');
  assert.equal((await post({ 'sec-fetch-site': 'cross-site' })).status, 403);
  const own = await post({ origin: rogueServer.url });
  assert.equal(own.status, 200, `from its own pages: ${await own.text()}`);
});

test('pages and answers carry the security headers', async () => {
  const page = await fetch(`${server.url}/login`);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9_-]+'/);
  const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'));
  assert.ok(!scriptSrc.includes('unsafe-inline'), `no inline scripts without the nonce: ${scriptSrc}`);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'same-origin');
  assert.equal(page.headers.get('access-control-allow-origin'), null, 'no CORS');
  const nonce = csp.match(/'nonce-([^']+)'/)[1];
  const html = await page.text();
  for (const script of html.matchAll(/<script([^>]*)>/g)) {
    assert.match(script[1], new RegExp(`nonce="${nonce}"`), `every inline script bears the nonce: ${script[0]}`);
  }
  const json = await fetch(`${server.url}/api/v1/info`);
  assert.equal(json.status, 401, 'the API needs a sign-in');
  assert.match(json.headers.get('content-security-policy'), /default-src 'none'/);
});
