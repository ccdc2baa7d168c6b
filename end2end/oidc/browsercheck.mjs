#!/usr/bin/env node
// Browser check of the real OIDC provider fixture: `node end2end/oidc/browsercheck.mjs`.
// Like selftest.mjs, not a *.test.mjs. It runs Debian's Chromium (CHROMIUM, default
// /usr/bin/chromium) through a stand-in relying party on another loopback port that
// behaves the way Trellis does: /auth/login -> provider -> login form -> /auth/callback
// (code exchanged with client_secret_basic) -> /logout -> end_session -> back to /.
// It shows that the provider's SameSite=Lax cookies work on plain http and that logout needs no click.

import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { strict as assert } from 'node:assert';

import { chromium } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startProvider } from './provider.mjs';

const ok = (msg) => process.stdout.write(`OK ${msg}\n`);
const b64 = () => randomBytes(16).toString('base64url');

const rp = createServer();
await new Promise((r) => rp.listen(0, '127.0.0.1', r));
const RP = `http://127.0.0.1:${rp.address().port}`;
const secret = b64();
const op = await startProvider({
  clientId: 'trellis',
  clientSecret: secret,
  redirectUris: [`${RP}/auth/callback`],
  postLogoutRedirectUris: [`${RP}/`],
});
const disc = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
const jwks = createRemoteJWKSet(new URL(disc.jwks_uri));
const pending = new Map(); // state -> { nonce, verifier }
let idToken;

rp.on('request', async (req, res) => {
  const url = new URL(req.url, RP);
  try {
    if (url.pathname === '/auth/login') {
      const state = b64(); const nonce = b64(); const verifier = b64() + b64();
      pending.set(state, { nonce, verifier });
      const to = new URL(disc.authorization_endpoint);
      Object.entries({
        client_id: 'trellis', redirect_uri: `${RP}/auth/callback`, response_type: 'code',
        scope: 'openid profile email groups', state, nonce,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      }).forEach(([k, v]) => to.searchParams.set(k, v));
      res.writeHead(302, { location: to.href }).end();
    } else if (url.pathname === '/auth/callback') {
      const { nonce, verifier } = pending.get(url.searchParams.get('state'));
      const r = await fetch(disc.token_endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`trellis:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: url.searchParams.get('code'), redirect_uri: `${RP}/auth/callback`, code_verifier: verifier }),
      });
      const body = await r.json();
      const { payload } = await jwtVerify(body.id_token, jwks, { issuer: op.issuer, audience: 'trellis' });
      assert.equal(payload.nonce, nonce);
      idToken = body.id_token;
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<h1 id="who">${payload.name} ${payload.groups.join(',')}</h1>`);
    } else if (url.pathname === '/logout') {
      const to = new URL(disc.end_session_endpoint);
      to.searchParams.set('id_token_hint', idToken);
      to.searchParams.set('post_logout_redirect_uri', `${RP}/`);
      res.writeHead(302, { location: to.href }).end();
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1 id="home">home</h1>');
    }
  } catch (err) {
    res.writeHead(500).end(String(err.stack));
  }
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${RP}/auth/login`);
  await page.waitForSelector('#login-form');
  assert.equal(await page.title(), 'Sign in');
  await page.fill('input[name="login"]', 'alice');
  await page.fill('input[name="password"]', 'wrong');
  await page.click('#sign-in');
  await page.waitForSelector('#login-error');
  await page.fill('input[name="password"]', 'wonderland');
  await page.click('#sign-in');
  await page.waitForURL(`${RP}/auth/callback?**`);
  assert.equal(await page.textContent('#who'), 'Alice Liddell release');
  ok('browser: login form -> callback -> ID token verified (Alice Liddell, release)');

  await page.goto(`${RP}/auth/login`);
  await page.waitForURL(`${RP}/auth/callback?**`);
  ok('browser: second /auth/login reuses the provider session (no form)');

  await page.goto(`${RP}/logout`);
  await page.waitForURL(`${RP}/`);
  await page.waitForSelector('#home');
  ok('browser: logout -> end_session -> back at post_logout_redirect_uri with no click');

  await page.goto(`${RP}/auth/login`);
  await page.waitForSelector('#login-form');
  ok('browser: after logout the login form is shown again');
  assert.deepEqual(op.serverErrors(), []);
} catch (err) {
  process.stderr.write(`FAIL ${err.stack}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
  await op.close();
  rp.closeAllConnections();
  rp.close();
}
