// A real OpenID Provider for Trellis' end-to-end SSO tests, built on
// `oidc-provider` (a certified OP implementation), listening on plain http on
// loopback: issuer `http://127.0.0.1:PORT`.
//
//   import { startProvider } from './oidc/provider.mjs';
//   const op = await startProvider({
//     clientId: 'trellis', clientSecret: 's3cret',
//     redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
//     postLogoutRedirectUris: [`http://127.0.0.1:${port}/`],
//     users: DEFAULT_USERS,            // optional, this is the default
//   });
//   op.issuer   // 'http://127.0.0.1:PORT' (discovery at op.issuer + '/.well-known/openid-configuration')
//   await op.rotateKeys();   // new RS256 key signs new tokens; old one stays in the JWKS
//   op.codes()  // authorization codes issued so far: [{ code, consumed, clientId, accountId }]
//   await op.close();
//
// Browser contract (Playwright):
//   Login page (GET /interaction/:uid, title "Sign in"):
//     form#login-form (method POST)
//       input[name="login"]     (#login)
//       input[name="password"]  (#password, type=password)
//       button[type="submit"]   (#sign-in, text "Sign in")
//     A wrong login/password re-renders the same form with status 401 and
//     p#login-error ("Invalid login or password.").
//   There is no consent screen: a Grant for every scope the client asks for
//   (openid profile email groups) is created just in time after login.
//   Logout (GET /session/end?id_token_hint=...&post_logout_redirect_uri=...):
//     no click needed. The page auto-submits its confirmation form with an
//     inline script (form#op\.logoutForm, logout=yes), and the provider answers
//     303 to post_logout_redirect_uri (with `state` if one was sent). Without
//     JavaScript, button#logout-confirm ("Yes, sign me out") does the same.
//   Errors render as an HTML page with h1#op-error (the OAuth error code) and
//   p#op-error-description.
//
// ID token (RS256, kid of the newest key): sub, name, email, email_verified, groups,
// nonce, at_hash, aud, iss, iat, exp (10 min). No sid/auth_time unless asked for.
// Expired id_token_hints are still accepted at logout (oidc-provider ignores their exp).
// Logout without id_token_hint or client_id drops post_logout_redirect_uri and ends on
// the provider's h1#signed-out page.
//
// Checked by end2end/oidc/selftest.mjs (fetch) and end2end/oidc/browsercheck.mjs
// (Chromium): `npm run check:oidc`.
//
// Choices worth knowing:
//   - oidc-provider 8.8.1, not 9.x: every 9.x release declares Node 22 as its
//     minimum and prints "Unsupported runtime" on Node 20. 8.x supports Node 18+.
//   - The client is `application_type: 'web'`. oidc-provider v8 accepts http
//     redirect_uris for web clients that use only the code flow (it refuses
//     them only with implicit), and web clients have their redirect_uri
//     matched exactly, port included. A `native` client would also accept
//     http loopback, but would ignore the port when matching.
//   - Cookies are SameSite=Lax everywhere. The default SameSite=None "long" cookie
//     (the session) needs Secure, which a browser refuses on plain http.
//     The cookie names are op_session / op_interaction / op_resume. Browsers
//     share cookies between ports of the same host, so these names must not
//     clash with Trellis' own cookies on 127.0.0.1.
//   - `conformIdTokenClaims: false` puts the scope-requested claims (email,
//     name, groups) into the ID token itself, not only into /me (userinfo).
//   - PKCE (S256 only) is required for every authorization request.
//   - The client accepts client_secret_basic and client_secret_post: in
//     oidc-provider these two are interchangeable for a client registered with
//     either one.
//   - The storage adapter is an in-memory Map that belongs to this instance (the
//     library's own memory adapter is process-global and warns on start).

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export const SCOPES = ['openid', 'profile', 'email', 'groups'];

export const DEFAULT_USERS = [
  {
    login: 'alice',
    password: 'wonderland',
    sub: 'alice',
    email: 'alice@example.com',
    name: 'Alice Liddell',
    groups: ['release'],
  },
  {
    login: 'bob',
    password: 'builder',
    sub: 'bob',
    email: 'bob@example.com',
    name: 'Bob Builder',
    groups: ['viewers'],
  },
];

const html = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
})[c]);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${html(title)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}.error{color:#b00}</style>
</head>
<body>
${body}
</body>
</html>`;
}

function loginPage({ uid, clientId, login = '', error }) {
  return page('Sign in', `  <h1>Sign in</h1>
  <p>to continue to <strong id="client-id">${html(clientId)}</strong></p>
  ${error ? `<p class="error" id="login-error">${html(error)}</p>` : ''}
  <form id="login-form" method="post" action="/interaction/${html(uid)}/login" autocomplete="off">
    <label for="login">Login</label>
    <input id="login" name="login" type="text" value="${html(login)}" required autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" required>
    <button id="sign-in" type="submit">Sign in</button>
  </form>`);
}

function validateOptions(opts) {
  const fail = (msg) => { throw new Error(`startProvider: ${msg}`); };
  if (!opts || typeof opts !== 'object') fail('expected an options object');
  const {
    clientId, clientSecret, redirectUris, postLogoutRedirectUris = [], users = DEFAULT_USERS,
  } = opts;
  if (typeof clientId !== 'string' || !clientId) fail('clientId must be a non-empty string');
  if (typeof clientSecret !== 'string' || !clientSecret) fail('clientSecret must be a non-empty string');
  if (!Array.isArray(redirectUris) || !redirectUris.length) fail('redirectUris must be a non-empty array of URLs');
  if (!Array.isArray(postLogoutRedirectUris)) fail('postLogoutRedirectUris must be an array of URLs');
  for (const uri of [...redirectUris, ...postLogoutRedirectUris]) {
    if (!URL.canParse(uri)) fail(`not a valid URL: ${JSON.stringify(uri)}`);
  }
  if (!Array.isArray(users) || !users.length) fail('users must be a non-empty array');
  const seen = new Set();
  for (const u of users) {
    for (const k of ['login', 'password', 'sub']) {
      if (typeof u?.[k] !== 'string' || !u[k]) fail(`every user needs a string ${k}: ${JSON.stringify(u)}`);
    }
    if (u.groups !== undefined && (!Array.isArray(u.groups) || !u.groups.every((g) => typeof g === 'string'))) {
      fail(`groups of user ${u.login} must be an array of strings`);
    }
    if (seen.has(u.login) || seen.has(`sub:${u.sub}`)) fail(`duplicate user login or sub: ${u.login}`);
    seen.add(u.login); seen.add(`sub:${u.sub}`);
  }
  return {
    clientId, clientSecret, redirectUris, postLogoutRedirectUris, users,
  };
}

async function newSigningKey() {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

// Per-instance in-memory storage with the oidc-provider adapter interface.
function memoryAdapterFactory(store, issuedCodes) {
  const grantIndex = new Map(); // grantId -> Set(storage keys)
  const uidIndex = new Map(); // session uid -> session id
  const userCodeIndex = new Map();
  const now = () => Math.floor(Date.now() / 1000);

  return class MemoryAdapter {
    constructor(model) { this.model = model; }

    key(id) { return `${this.model}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      store.set(key, { payload, exp: expiresIn ? now() + expiresIn : undefined });
      if (this.model === 'Session' && payload.uid) uidIndex.set(payload.uid, id);
      if (payload.userCode) userCodeIndex.set(payload.userCode, id);
      if (payload.grantId) {
        if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
        grantIndex.get(payload.grantId).add(key);
      }
      if (this.model === 'AuthorizationCode' && !issuedCodes.has(id)) {
        issuedCodes.set(id, {
          code: id, clientId: payload.clientId, accountId: payload.accountId, consumed: false,
        });
      }
    }

    async find(id) {
      const entry = store.get(this.key(id));
      if (!entry) return undefined;
      if (entry.exp !== undefined && entry.exp <= now()) {
        store.delete(this.key(id));
        return undefined;
      }
      return entry.payload;
    }

    async findByUid(uid) {
      const id = uidIndex.get(uid);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = userCodeIndex.get(userCode);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const entry = store.get(this.key(id));
      if (entry) entry.payload.consumed = now();
      if (this.model === 'AuthorizationCode' && issuedCodes.has(id)) issuedCodes.get(id).consumed = true;
    }

    async destroy(id) { store.delete(this.key(id)); }

    async revokeByGrantId(grantId) {
      const keys = grantIndex.get(grantId);
      if (!keys) return;
      for (const k of keys) store.delete(k);
      grantIndex.delete(grantId);
    }
  };
}

function readForm(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/**
 * Start a real OpenID Provider on 127.0.0.1 with one confidential client.
 *
 * @param {object} opts
 * @param {string} opts.clientId
 * @param {string} opts.clientSecret
 * @param {string[]} opts.redirectUris           e.g. [`http://127.0.0.1:${trellisPort}/auth/callback`]
 * @param {string[]} [opts.postLogoutRedirectUris] e.g. [`http://127.0.0.1:${trellisPort}/`]
 * @param {Array<{login:string,password:string,sub:string,email?:string,name?:string,groups?:string[]}>} [opts.users]
 * @returns {Promise<{issuer:string, port:number, close():Promise<void>,
 *   codes():Array<{code:string,clientId:string,accountId:string,consumed:boolean}>,
 *   rotateKeys():Promise<{kid:string}>, jwks():{keys:object[]}, serverErrors():Error[]}>}
 */
export async function startProvider(opts) {
  const {
    clientId, clientSecret, redirectUris, postLogoutRedirectUris, users,
  } = validateOptions(opts);

  const byLogin = new Map(users.map((u) => [u.login, u]));
  const bySub = new Map(users.map((u) => [u.sub, u]));
  const store = new Map();
  const issuedCodes = new Map();
  const Adapter = memoryAdapterFactory(store, issuedCodes);
  const cookieKeys = [randomBytes(32).toString('hex')];
  const serverErrors = [];
  let signingKeys = [await newSigningKey()];

  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const configuration = () => ({
    adapter: Adapter,
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      application_type: 'web',
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      scope: SCOPES.join(' '),
    }],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    jwks: { keys: signingKeys },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    cookies: {
      keys: cookieKeys,
      names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          // Pre-answer "yes, sign me out of the OP too" and submit at once.
          const autoForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/>'
            + '<noscript><button id="logout-confirm" type="submit">Yes, sign me out</button></noscript></form>');
          ctx.type = 'html';
          ctx.body = page('Signing out', `  <h1>Signing out…</h1>
  ${autoForm}
  <script>document.getElementById('op.logoutForm').submit();</script>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '  <h1 id="signed-out">Signed out</h1>');
        },
      },
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Skip the consent prompt: grant the client everything it asks for.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
    async findAccount(ctx, sub) {
      const user = bySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims() {
          return {
            sub: user.sub,
            ...(user.email !== undefined ? { email: user.email, email_verified: true } : {}),
            ...(user.name !== undefined ? { name: user.name } : {}),
            groups: user.groups ?? [],
          };
        },
      };
    },
    clientBasedCORS: () => false,
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `  <h1 id="op-error">${html(out.error)}</h1>
  <p id="op-error-description">${html(out.error_description ?? '')}</p>`);
    },
    ttl: {
      Session: 3600,
      Interaction: 600,
      Grant: 3600,
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: 600,
    },
  });

  const makeProvider = () => {
    const p = new Provider(issuer, configuration());
    p.on('server_error', (ctx, err) => {
      serverErrors.push(err);
      process.stderr.write(`oidc fixture: server_error on ${ctx?.method} ${ctx?.path}: ${err?.stack ?? err}\n`);
    });
    return p;
  };

  let provider = makeProvider();
  let handler = provider.callback();

  async function interaction(req, res, uid, action) {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Error', `  <h1 id="op-error">invalid_request</h1>
  <p id="op-error-description">${html(err.error_description ?? err.message)}</p>`));
      return;
    }
    if (details.uid !== uid) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('interaction mismatch');
      return;
    }
    const { prompt, params } = details;

    if (prompt.name === 'consent') {
      // Not expected (loadExistingGrant grants everything), but finish it rather than show a screen.
      let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      grant ??= new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      for (const [indicator, scope] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scope.join(' '));
      }
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, {
        mergeWithLastSubmission: true,
      });
      return;
    }
    if (prompt.name !== 'login') {
      res.writeHead(501, { 'content-type': 'text/plain' });
      res.end(`unsupported prompt ${prompt.name}`);
      return;
    }

    const noStore = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
    if (action === undefined && req.method === 'GET') {
      res.writeHead(200, noStore);
      res.end(loginPage({ uid, clientId: params.client_id }));
      return;
    }
    if (action === 'login' && req.method === 'POST') {
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const user = byLogin.get(login);
      if (!user || user.password !== (form.get('password') ?? '')) {
        res.writeHead(401, noStore);
        res.end(loginPage({
          uid, clientId: params.client_id, login, error: 'Invalid login or password.',
        }));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
        mergeWithLastSubmission: false,
      });
      return;
    }
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('method not allowed');
  }

  server.on('request', (req, res) => {
    const m = /^\/interaction\/([^/?]+)(?:\/([a-z]+))?\/?(?:\?.*)?$/.exec(req.url);
    if (m) {
      interaction(req, res, decodeURIComponent(m[1]), m[2]).catch((err) => {
        serverErrors.push(err);
        process.stderr.write(`oidc fixture: interaction error: ${err.stack}\n`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('interaction failed');
      });
      return;
    }
    handler(req, res);
  });

  const publicJwks = () => ({
    keys: signingKeys.map(({
      kty, n, e, kid, alg, use,
    }) => ({
      kty, n, e, kid, alg, use,
    })),
  });

  return {
    issuer,
    port,
    /** The public JWKS currently published at jwks_uri (newest key first). */
    jwks: publicJwks,
    /** Authorization codes issued so far, oldest first. */
    codes() {
      return [...issuedCodes.values()].map((c) => ({ ...c }));
    },
    /**
     * Add a new RS256 signing key. New ID tokens are signed with it; the old keys stay
     * published in the JWKS (and still verify id_token_hint). Sessions, grants and codes
     * survive (they live in this instance's storage, which the new keystore shares).
     */
    async rotateKeys() {
      const key = await newSigningKey();
      signingKeys = [key, ...signingKeys];
      provider = makeProvider();
      handler = provider.callback();
      return { kid: key.kid };
    },
    /** Errors the provider hit while serving (should stay empty). */
    serverErrors: () => [...serverErrors],
    async close() {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
