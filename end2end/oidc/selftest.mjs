#!/usr/bin/env node
// Self-test of the OIDC fixtures: `node end2end/oidc/selftest.mjs`.
// (Not a *.test.mjs on purpose: `node --test end2end/` does not pick it up.)
// It runs the authorization code + PKCE flow that Trellis runs, with plain fetch
// and a small cookie jar, against the real provider (login form, token exchange
// with client_secret_basic and client_secret_post, ID token checked with jose
// against the JWKS, code replay, key rotation, RP-initiated logout). It then checks
// that every rogue mode gives the ID token defect it names.

import { createHash, randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';

import { createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';

import { startProvider, DEFAULT_USERS } from './provider.mjs';
import { startRogueProvider, ROGUE_MODES } from './rogue.mjs';

const CLIENT_ID = 'trellis';
const CLIENT_SECRET = `secret-${randomBytes(8).toString('hex')}`;
const RP = 'http://127.0.0.1:65000'; // Trellis' address; never contacted
const REDIRECT_URI = `${RP}/auth/callback`;
const POST_LOGOUT = `${RP}/`;

const ok = (msg) => process.stdout.write(`OK ${msg}\n`);
const b64 = (n = 32) => randomBytes(n).toString('base64url');

class Jar {
  #cookies = new Map();

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now())
        || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.#cookies.delete(name); else this.#cookies.set(name, value);
    }
  }

  header() { return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '); }

  has(name) { return this.#cookies.has(name); }
}

async function go(jar, url, init = {}) {
  const res = await fetch(url, {
    redirect: 'manual',
    ...init,
    headers: { ...(init.headers ?? {}), ...(jar?.header() ? { cookie: jar.header() } : {}) },
  });
  jar?.store(res);
  return res;
}

function pkce() {
  const verifier = b64(32);
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authUrl(endpoint, {
  state, nonce, challenge, redirectUri = REDIRECT_URI, extra = {},
}) {
  const u = new URL(endpoint);
  const p = {
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid profile email groups',
    state,
    nonce,
    ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}),
    ...extra,
  };
  for (const [k, v] of Object.entries(p)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function exchange(tokenEndpoint, { code, verifier, method = 'basic', secret = CLIENT_SECRET }) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
  });
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (method === 'basic') headers.authorization = basic(CLIENT_ID, secret);
  else { body.set('client_id', CLIENT_ID); body.set('client_secret', secret); }
  const res = await fetch(tokenEndpoint, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

const locationOf = (res, base) => new URL(res.headers.get('location'), base);

// Follow redirects inside the OP until we land on the RP (or on a page).
async function follow(jar, res, base) {
  let r = res;
  for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i += 1) {
    const next = locationOf(r, base);
    if (next.origin === RP) return { callback: next };
    r = await go(jar, next.href);
  }
  return { page: r, url: r.url };
}

function formOf(htmlText) {
  const action = /<form[^>]*\baction="([^"]+)"/.exec(htmlText)?.[1];
  const attr = (tag, name) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  const inputs = Object.fromEntries([...htmlText.matchAll(/<input\b[^>]*>/g)]
    .map(([tag]) => [attr(tag, 'name'), attr(tag, 'value') ?? ''])
    .filter(([name]) => name !== undefined));
  return { action: action?.replace(/&amp;/g, '&'), inputs };
}

async function verifyIdToken(idToken, { issuer, jwks, nonce }) {
  const { payload, protectedHeader } = await jwtVerify(idToken, createLocalJWKSet(jwks), {
    issuer, audience: CLIENT_ID, algorithms: ['RS256'], requiredClaims: ['exp', 'iat', 'sub'],
  });
  if (payload.nonce !== nonce) {
    const err = new Error(`nonce mismatch: sent ${nonce}, got ${payload.nonce}`);
    err.code = 'NONCE_MISMATCH';
    throw err;
  }
  return { payload, protectedHeader };
}

async function realProvider() {
  const op = await startProvider({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: [POST_LOGOUT],
    users: DEFAULT_USERS,
  });
  try {
    const disc = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(disc.issuer, op.issuer);
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(disc.end_session_endpoint, 'end_session_endpoint advertised');
    assert.deepEqual(disc.code_challenge_methods_supported, ['S256']);
    for (const m of ['client_secret_basic', 'client_secret_post']) assert.ok(disc.token_endpoint_auth_methods_supported.includes(m));
    for (const s of ['openid', 'profile', 'email', 'groups']) assert.ok(disc.scopes_supported.includes(s));
    assert.ok(disc.id_token_signing_alg_values_supported.includes('RS256'));
    ok(`real provider: discovery at ${op.issuer}`);

    const jar = new Jar();
    const getJwks = async () => (await fetch(disc.jwks_uri)).json();

    // -- authorization request, login page
    let state = b64(16); let nonce = b64(16); let p = pkce();
    let res = await go(jar, authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }));
    assert.ok([302, 303].includes(res.status), `authorize redirects to login (got ${res.status})`);
    const loginUrl = locationOf(res, op.issuer);
    assert.match(loginUrl.pathname, /^\/interaction\/[^/]+$/);
    res = await go(jar, loginUrl.href);
    assert.equal(res.status, 200);
    let text = await res.text();
    for (const sel of ['id="login-form"', 'name="login"', 'name="password"', 'id="sign-in"', 'type="submit"']) {
      assert.ok(text.includes(sel), `login page has ${sel}`);
    }
    const { action } = formOf(text);
    ok('real provider: authorize -> login page with login/password form');

    // -- wrong password
    const post = (url, form) => go(jar, new URL(url, op.issuer).href, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form),
    });
    res = await post(action, { login: 'alice', password: 'nope' });
    assert.equal(res.status, 401);
    assert.ok((await res.text()).includes('id="login-error"'));
    ok('real provider: wrong password re-renders the form with #login-error (401)');

    // -- right password, no consent screen, back to the RP with code
    res = await post(action, { login: 'alice', password: 'wonderland' });
    let { callback } = await follow(jar, res, op.issuer);
    assert.ok(callback, 'login ends at the redirect_uri (no consent screen)');
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('iss'), op.issuer);
    let code = callback.searchParams.get('code');
    assert.ok(code);
    ok('real provider: login -> 303 chain -> redirect_uri with code, state and iss');

    // -- token exchange (client_secret_basic), ID token verified against the JWKS
    let tok = await exchange(disc.token_endpoint, { code, verifier: p.verifier });
    assert.equal(tok.status, 200, JSON.stringify(tok.body));
    const firstIdToken = tok.body.id_token;
    if (process.env.OIDC_SELFTEST_VERBOSE) process.stdout.write(`${JSON.stringify(decodeProtectedHeader(firstIdToken))} ${Buffer.from(firstIdToken.split(".")[1], "base64url")}\n`);
    const { payload, protectedHeader } = await verifyIdToken(firstIdToken, { issuer: op.issuer, jwks: await getJwks(), nonce });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.email, 'alice@example.com');
    assert.equal(payload.name, 'Alice Liddell');
    assert.deepEqual(payload.groups, ['release']);
    ok(`real provider: token (client_secret_basic) -> RS256 ID token verified, claims ${JSON.stringify({
      sub: payload.sub, email: payload.email, name: payload.name, groups: payload.groups,
    })}`);

    // -- code replay
    tok = await exchange(disc.token_endpoint, { code, verifier: p.verifier });
    assert.equal(tok.status, 400);
    assert.equal(tok.body.error, 'invalid_grant');
    assert.ok(op.codes().some((c) => c.code === code && c.consumed));
    ok('real provider: replayed code -> 400 invalid_grant; codes() shows it consumed');

    // -- wrong secret
    state = b64(16); nonce = b64(16); p = pkce();
    res = await go(jar, authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }));
    ({ callback } = await follow(jar, res, op.issuer));
    assert.ok(callback, 'existing session: straight back to the RP without a login page');
    code = callback.searchParams.get('code');
    tok = await exchange(disc.token_endpoint, { code, verifier: p.verifier, secret: 'wrong' });
    assert.equal(tok.status, 401);
    assert.equal(tok.body.error, 'invalid_client');
    ok('real provider: wrong client secret -> 401 invalid_client');

    // -- second login with the session, client_secret_post, wrong verifier first
    state = b64(16); nonce = b64(16); p = pkce();
    res = await go(jar, authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }));
    ({ callback } = await follow(jar, res, op.issuer));
    code = callback.searchParams.get('code');
    tok = await exchange(disc.token_endpoint, { code, verifier: pkce().verifier, method: 'post' });
    assert.equal(tok.status, 400);
    assert.equal(tok.body.error, 'invalid_grant');
    state = b64(16); nonce = b64(16); p = pkce();
    res = await go(jar, authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }));
    ({ callback } = await follow(jar, res, op.issuer));
    tok = await exchange(disc.token_endpoint, { code: callback.searchParams.get('code'), verifier: p.verifier, method: 'post' });
    assert.equal(tok.status, 200, JSON.stringify(tok.body));
    await verifyIdToken(tok.body.id_token, { issuer: op.issuer, jwks: await getJwks(), nonce });
    ok('real provider: wrong code_verifier -> invalid_grant; client_secret_post works');

    // -- PKCE required, redirect_uri checked exactly
    res = await go(jar, authUrl(disc.authorization_endpoint, { state: 's', nonce: 'n' }));
    ({ callback } = await follow(jar, res, op.issuer));
    assert.equal(callback?.searchParams.get('error'), 'invalid_request');
    assert.match(callback.searchParams.get("error_description"), /PKCE/);
    res = await go(jar, authUrl(disc.authorization_endpoint, {
      state: 's', nonce: 'n', challenge: pkce().challenge, redirectUri: 'http://127.0.0.1:65001/auth/callback',
    }));
    assert.equal(res.status, 400);
    assert.ok((await res.text()).includes('redirect_uri did not match'));
    ok('real provider: no code_challenge -> error=invalid_request; unregistered redirect_uri (other port) -> 400 page');

    // -- key rotation
    const kid1 = decodeProtectedHeader(firstIdToken).kid;
    const { kid: kid2 } = await op.rotateKeys();
    state = b64(16); nonce = b64(16); p = pkce();
    res = await go(jar, authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }));
    ({ callback } = await follow(jar, res, op.issuer));
    assert.ok(callback, 'session survives key rotation');
    tok = await exchange(disc.token_endpoint, { code: callback.searchParams.get('code'), verifier: p.verifier });
    assert.equal(tok.status, 200, JSON.stringify(tok.body));
    const jwks2 = await getJwks();
    assert.deepEqual(jwks2.keys.map((k) => k.kid), [kid2, kid1]);
    assert.ok(jwks2.keys.every((k) => !k.d), 'JWKS publishes public keys only');
    assert.equal(decodeProtectedHeader(tok.body.id_token).kid, kid2);
    await verifyIdToken(tok.body.id_token, { issuer: op.issuer, jwks: jwks2, nonce });
    await verifyIdToken(firstIdToken, { issuer: op.issuer, jwks: jwks2, nonce: payload.nonce });
    ok(`real provider: rotateKeys() -> new tokens signed with ${kid2}, old key ${kid1} still published`);

    // -- RP-initiated logout with an id_token_hint signed by the old key
    const endUrl = new URL(disc.end_session_endpoint);
    endUrl.searchParams.set('id_token_hint', firstIdToken);
    endUrl.searchParams.set('post_logout_redirect_uri', POST_LOGOUT);
    endUrl.searchParams.set('state', 'bye');
    res = await go(jar, endUrl.href);
    assert.equal(res.status, 200);
    text = await res.text();
    assert.ok(text.includes("document.getElementById('op.logoutForm').submit()"), 'logout page auto-submits');
    const logoutForm = formOf(text);
    assert.equal(logoutForm.inputs.logout, 'yes');
    res = await post(logoutForm.action, logoutForm.inputs);
    assert.equal(res.status, 303);
    const after = locationOf(res, op.issuer);
    assert.equal(`${after.origin}${after.pathname}`, POST_LOGOUT);
    assert.equal(after.searchParams.get('state'), 'bye');
    res = await go(jar, authUrl(disc.authorization_endpoint, { state: 'x', nonce: 'y', challenge: pkce().challenge }));
    assert.match(locationOf(res, op.issuer).pathname, /^\/interaction\//, 'after logout a new login is needed');
    ok('real provider: end_session -> auto-submitted form -> 303 to post_logout_redirect_uri; session gone');

    // -- bob
    const jar2 = new Jar();
    state = b64(16); nonce = b64(16); p = pkce();
    res = await go(jar2, authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }));
    res = await go(jar2, locationOf(res, op.issuer).href);
    const bobAction = formOf(await res.text()).action;
    res = await go(jar2, new URL(bobAction, op.issuer).href, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login: 'bob', password: 'builder' }),
    });
    ({ callback } = await follow(jar2, res, op.issuer));
    tok = await exchange(disc.token_endpoint, { code: callback.searchParams.get('code'), verifier: p.verifier });
    const bob = (await verifyIdToken(tok.body.id_token, { issuer: op.issuer, jwks: await getJwks(), nonce })).payload;
    assert.equal(bob.sub, 'bob');
    assert.deepEqual(bob.groups, ['viewers']);
    ok('real provider: bob logs in, groups ["viewers"]');

    assert.deepEqual(op.serverErrors(), []);
  } finally {
    await op.close();
  }
  ok('real provider: closed');
}

async function rogueProvider() {
  const rogue = await startRogueProvider({ clientId: CLIENT_ID, mode: 'ok', clientSecret: CLIENT_SECRET });
  try {
    const disc = await (await fetch(`${rogue.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(disc.issuer, rogue.issuer);
    const jwks = await (await fetch(disc.jwks_uri)).json();

    const run = async (mode) => {
      rogue.setMode(mode);
      const state = b64(16); const nonce = b64(16); const p = pkce();
      const res = await fetch(authUrl(disc.authorization_endpoint, { state, nonce, challenge: p.challenge }), { redirect: 'manual' });
      assert.equal(res.status, 302);
      const cb = locationOf(res, rogue.issuer);
      assert.equal(cb.searchParams.get('state'), state);
      const code = cb.searchParams.get('code');
      const tok = await exchange(disc.token_endpoint, { code, verifier: p.verifier });
      assert.equal(tok.status, 200, JSON.stringify(tok.body));
      return {
        code, verifier: p.verifier, nonce, idToken: tok.body.id_token,
      };
    };

    const expectations = {
      ok: null,
      expired: (e) => e instanceof joseErrors.JWTExpired,
      'wrong-audience': (e) => e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud',
      'alg-none': (e) => e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JWSInvalid,
      'bad-signature': (e) => e instanceof joseErrors.JWSSignatureVerificationFailed,
      'wrong-nonce': (e) => e.code === 'NONCE_MISMATCH',
      'wrong-issuer': (e) => e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'iss',
    };
    assert.deepEqual(Object.keys(expectations).sort(), [...ROGUE_MODES].sort());

    for (const mode of ROGUE_MODES) {
      const r = await run(mode);
      const check = expectations[mode];
      let error;
      try {
        const { payload } = await verifyIdToken(r.idToken, { issuer: rogue.issuer, jwks, nonce: r.nonce });
        assert.equal(payload.sub, 'mallory');
        assert.deepEqual(payload.groups, ['release']);
      } catch (e) { error = e; }
      if (check === null) {
        assert.equal(error, undefined, `mode ok verifies (${error?.message})`);
        ok('rogue ok: valid ID token, right nonce, claims sub/email/name/groups');
      } else {
        assert.ok(error, `mode ${mode} must fail verification`);
        assert.ok(check(error), `mode ${mode} fails for the intended reason, got ${error.constructor.name}: ${error.message}`);
        if (mode === 'alg-none') assert.equal(decodeProtectedHeader(r.idToken).alg, 'none');
        ok(`rogue ${mode}: rejected as intended (${error.code ?? error.constructor.name}: ${error.message})`);
      }
      if (mode === 'ok') {
        const again = await exchange(disc.token_endpoint, { code: r.code, verifier: r.verifier });
        assert.equal(again.status, 400);
        assert.equal(again.body.error, 'invalid_grant');
        ok('rogue: replayed code -> 400 invalid_grant');
      }
    }

    // wrong PKCE verifier and wrong secret on the rogue too
    rogue.setMode('ok');
    const p = pkce();
    const res = await fetch(authUrl(disc.authorization_endpoint, { state: 's', nonce: 'n', challenge: p.challenge }), { redirect: 'manual' });
    const code = locationOf(res, rogue.issuer).searchParams.get('code');
    let t = await exchange(disc.token_endpoint, { code, verifier: 'x'.repeat(43), method: 'post' });
    assert.equal(t.body.error, 'invalid_grant');
    t = await exchange(disc.token_endpoint, { code: 'nope', verifier: p.verifier, secret: 'bad' });
    assert.equal(t.status, 401);
    assert.throws(() => rogue.setMode('bogus'), /unknown mode/);
    ok('rogue: bad code_verifier -> invalid_grant; bad secret -> 401; unknown mode throws');
  } finally {
    await rogue.close();
  }
}

try {
  await assert.rejects(startProvider({ clientId: 'x' }), /startProvider: clientSecret/);
  await assert.rejects(startRogueProvider({ clientId: 'x', mode: 'nah' }), /unknown mode/);
  ok('bad options rejected with clear messages');
  await realProvider();
  await rogueProvider();
  process.stdout.write('OK all OIDC fixture checks passed\n');
} catch (err) {
  process.stderr.write(`FAIL ${err.stack}\n`);
  process.exitCode = 1;
}
