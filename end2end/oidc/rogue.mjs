// A tiny hand-written OpenID Provider (node:http + jose) that behaves
// normally except for one chosen defect in the ID token. It lets Trellis' SSO tests
// check that the relying party refuses bad tokens.
//
//   import { startRogueProvider, ROGUE_MODES } from './oidc/rogue.mjs';
//   const rogue = await startRogueProvider({ clientId: 'trellis', mode: 'expired' });
//   rogue.issuer            // 'http://127.0.0.1:PORT'
//   rogue.setMode('ok');    // takes effect for the next token request
//   await rogue.close();
//
// Endpoints (all under the issuer):
//   /.well-known/openid-configuration  discovery (always lists the right issuer)
//   /jwks        the one published RS256 key
//   /authorize   no login page: answers 302 at once to redirect_uri with ?code=..&state=..&iss=..
//                It checks client_id, response_type=code and redirect_uri (an absolute
//                http(s) URL), and it remembers nonce, redirect_uri and code_challenge per code.
//   /token       authorization_code grant. Client auth: client_secret_basic or
//                client_secret_post (the secret is checked only if clientSecret was given).
//                PKCE S256 is checked when /authorize got a code_challenge. redirect_uri must
//                match. A code works once: a second use gives 400 {"error":"invalid_grant"}.
//   /userinfo    Bearer access token -> the user's claims
//   /logout      end_session_endpoint: 302 to post_logout_redirect_uri (with state), else 200
//
// Modes (how the ID token is made):
//   ok              valid RS256 token, right iss/aud/nonce, exp in 10 minutes
//   expired         exp (and iat) in the past: exp = now - 1h
//   wrong-audience  aud = 'some-other-client' (azp likewise)
//   alg-none        unsigned: header {"alg":"none"}, empty signature part
//   bad-signature   RS256, kid of the published key, signed by another key not in the JWKS
//   wrong-nonce     nonce differs from the one sent to /authorize
//   wrong-issuer    iss = 'http://evil.invalid'
// Claims: sub, email, email_verified, name, groups (array), plus iss, aud, azp, iat, exp,
// auth_time, nonce.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

import {
  exportJWK, generateKeyPair, SignJWT, UnsecuredJWT,
} from 'jose';

export const ROGUE_MODES = [
  'ok', 'expired', 'wrong-audience', 'alg-none', 'bad-signature', 'wrong-nonce', 'wrong-issuer',
];

export const ROGUE_USER = {
  sub: 'mallory',
  email: 'mallory@example.com',
  name: 'Mallory Rogue',
  groups: ['release'],
};

const checkMode = (mode) => {
  if (!ROGUE_MODES.includes(mode)) {
    throw new Error(`startRogueProvider: unknown mode ${JSON.stringify(mode)}; expected one of ${ROGUE_MODES.join(', ')}`);
  }
  return mode;
};

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) { reject(new Error('body too large')); req.destroy(); } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, {
    'content-type': 'application/json', 'cache-control': 'no-store', ...headers,
  });
  res.end(JSON.stringify(body));
}

const oauthError = (res, status, error, description, headers) => json(res, status, {
  error, error_description: description,
}, headers);

/**
 * @param {object} opts
 * @param {string} opts.clientId
 * @param {string} [opts.mode='ok']  one of ROGUE_MODES
 * @param {string} [opts.clientSecret]  if given, the token endpoint checks it
 * @param {object} [opts.user=ROGUE_USER]  {sub, email, name, groups}
 * @returns {Promise<{issuer:string, port:number, close():Promise<void>, setMode(mode:string):void,
 *   mode():string, jwks():{keys:object[]}, requests():Array<{path:string, params:object}>}>}
 */
export async function startRogueProvider({
  clientId, mode = 'ok', clientSecret, user = ROGUE_USER,
} = {}) {
  if (typeof clientId !== 'string' || !clientId) {
    throw new Error('startRogueProvider: clientId must be a non-empty string');
  }
  let current = checkMode(mode);

  const kid = `rogue-${randomBytes(4).toString('hex')}`;
  const good = await generateKeyPair('RS256', { extractable: true });
  const evil = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(good.publicKey)), kid, alg: 'RS256', use: 'sig' };

  const codes = new Map(); // code -> { nonce, redirectUri, codeChallenge, scope, used }
  const accessTokens = new Map();
  const log = [];

  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const discovery = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    userinfo_endpoint: `${issuer}/userinfo`,
    end_session_endpoint: `${issuer}/logout`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'profile', 'email', 'groups'],
    claims_supported: ['sub', 'email', 'email_verified', 'name', 'groups'],
    authorization_response_iss_parameter_supported: true,
  };

  async function idToken(entry) {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: user.sub,
      email: user.email,
      email_verified: true,
      name: user.name,
      groups: user.groups ?? [],
      azp: clientId,
      auth_time: now,
    };
    if (entry.nonce !== undefined) claims.nonce = entry.nonce;
    let iss = issuer;
    let aud = clientId;
    let iat = now;
    let exp = now + 600;
    switch (current) {
      case 'expired': iat = now - 7200; exp = now - 3600; claims.auth_time = iat; break;
      case 'wrong-audience': aud = 'some-other-client'; claims.azp = aud; break;
      case 'wrong-nonce': claims.nonce = `not-${entry.nonce ?? 'sent'}-${randomBytes(4).toString('hex')}`; break;
      case 'wrong-issuer': iss = 'http://evil.invalid'; break;
      default:
    }
    if (current === 'alg-none') {
      return new UnsecuredJWT(claims).setIssuer(iss).setAudience(aud).setIssuedAt(iat)
        .setExpirationTime(exp)
        .encode();
    }
    const key = current === 'bad-signature' ? evil.privateKey : good.privateKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key);
  }

  function authorize(req, res, url) {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri');
    if (!redirectUri || !URL.canParse(redirectUri) || !/^https?:$/.test(new URL(redirectUri).protocol)) {
      oauthError(res, 400, 'invalid_request', 'redirect_uri missing or not an absolute http(s) URL');
      return;
    }
    if (q.get('client_id') !== clientId) {
      oauthError(res, 400, 'invalid_client', `unknown client_id ${q.get('client_id')}`);
      return;
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    back.searchParams.set('iss', issuer);
    if (q.get('response_type') !== 'code') {
      back.searchParams.set('error', 'unsupported_response_type');
    } else if (q.get('code_challenge') !== null && (q.get('code_challenge_method') ?? 'plain') !== 'S256') {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', 'only S256 code_challenge_method is supported');
    } else {
      const code = b64url(randomBytes(24));
      codes.set(code, {
        nonce: q.get('nonce') ?? undefined,
        redirectUri,
        codeChallenge: q.get('code_challenge') ?? undefined,
        scope: q.get('scope') ?? 'openid',
        used: false,
      });
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { location: back.href, 'cache-control': 'no-store' });
    res.end();
  }

  async function token(req, res) {
    if (req.method !== 'POST') { oauthError(res, 405, 'invalid_request', 'POST only'); return; }
    const params = new URLSearchParams(await readBody(req));
    log.push({ path: '/token', params: Object.fromEntries(params) });

    // Client authentication: basic or post.
    let id; let secret;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const [scheme, value] = auth.split(' ');
      const decoded = scheme?.toLowerCase() === 'basic' ? Buffer.from(value ?? '', 'base64').toString('utf8') : '';
      const i = decoded.indexOf(':');
      if (i < 0) { oauthError(res, 401, 'invalid_client', 'malformed Authorization header', { 'www-authenticate': 'Basic' }); return; }
      const unform = (s) => decodeURIComponent(s.replace(/\+/g, '%20'));
      id = unform(decoded.slice(0, i));
      secret = unform(decoded.slice(i + 1));
    } else {
      id = params.get('client_id');
      secret = params.get('client_secret');
    }
    if (id !== clientId || (clientSecret !== undefined && !safeEqual(secret ?? '', clientSecret))) {
      oauthError(res, 401, 'invalid_client', 'client authentication failed', { 'www-authenticate': 'Basic' });
      return;
    }
    if (params.get('grant_type') !== 'authorization_code') {
      oauthError(res, 400, 'unsupported_grant_type', 'only authorization_code');
      return;
    }
    const code = params.get('code');
    const entry = code ? codes.get(code) : undefined;
    if (!entry) { oauthError(res, 400, 'invalid_grant', 'unknown authorization code'); return; }
    if (entry.used) { oauthError(res, 400, 'invalid_grant', 'authorization code already used'); return; }
    entry.used = true;
    if (params.get('redirect_uri') !== entry.redirectUri) {
      oauthError(res, 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
      return;
    }
    if (entry.codeChallenge !== undefined) {
      const verifier = params.get('code_verifier');
      if (!verifier) { oauthError(res, 400, 'invalid_grant', 'code_verifier missing'); return; }
      const computed = createHash('sha256').update(verifier).digest('base64url');
      if (!safeEqual(computed, entry.codeChallenge)) {
        oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
        return;
      }
    }
    const accessToken = b64url(randomBytes(24));
    accessTokens.set(accessToken, true);
    json(res, 200, {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 600,
      scope: entry.scope,
      id_token: await idToken(entry),
    });
  }

  function userinfo(req, res) {
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !accessTokens.has(m[1])) {
      oauthError(res, 401, 'invalid_token', 'bad access token', { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    json(res, 200, {
      sub: user.sub, email: user.email, email_verified: true, name: user.name, groups: user.groups ?? [],
    });
  }

  function logout(req, res, url) {
    const target = url.searchParams.get('post_logout_redirect_uri');
    if (target && URL.canParse(target)) {
      const back = new URL(target);
      const state = url.searchParams.get('state');
      if (state !== null) back.searchParams.set('state', state);
      res.writeHead(302, { location: back.href });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><title>Signed out</title><h1 id="signed-out">Signed out</h1>');
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname !== '/token') log.push({ path: url.pathname, params: Object.fromEntries(url.searchParams) });
    const done = (p) => Promise.resolve(p).catch((err) => {
      process.stderr.write(`rogue oidc fixture: ${req.method} ${url.pathname}: ${err.stack}\n`);
      if (!res.headersSent) oauthError(res, 500, 'server_error', err.message);
      else res.end();
    });
    switch (url.pathname) {
      case '/.well-known/openid-configuration': json(res, 200, discovery, { 'cache-control': 'no-cache' }); break;
      case '/jwks': json(res, 200, { keys: [publicJwk] }, { 'cache-control': 'no-cache' }); break;
      case '/authorize': authorize(req, res, url); break;
      case '/token': done(token(req, res)); break;
      case '/userinfo': userinfo(req, res); break;
      case '/logout': logout(req, res, url); break;
      default: json(res, 404, { error: 'not_found' });
    }
  });

  return {
    issuer,
    port,
    setMode(next) { current = checkMode(next); },
    mode: () => current,
    jwks: () => ({ keys: [publicJwk] }),
    /** Requests seen so far (path and query/body parameters), oldest first. */
    requests: () => log.map((r) => ({ ...r })),
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
