// A real, certified OpenID provider (the npm package oidc-provider) on loopback, for the tests of tfe's
// OIDC sign-in. Never a mock: discovery, JWKS, PKCE, the token endpoint, userinfo and RP-initiated logout
// are oidc-provider's own. Only the sign-in screen is ours: the tests pick the test account by URL.
//
// Configured from the environment (tests/web/oidc_fixture.py starts it):
//   OIDC_PORT            port on 127.0.0.1 (required)
//   OIDC_CLIENT_ID       the one client's id (default tfe)
//   OIDC_CLIENT_SECRET   its secret (default tfe-test-secret)
//   OIDC_REDIRECT_URIS   comma-separated redirect URIs of the client
//   OIDC_LOGOUT_URIS     comma-separated post_logout_redirect_uris of the client
//   OIDC_TOKEN_AUTH      client_secret_basic (default) or client_secret_post
//
// Sign-in: the provider redirects the browser to /interaction/<uid>; GET
// /interaction/<uid>/login?account=<id> signs that test account in (consent is implied: the grant is made
// for every scope asked). Prints "ready <issuer>" on stdout once listening.
import * as crypto from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number.parseInt(process.env.OIDC_PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0) {
  console.error('OIDC_PORT is required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

// The test accounts, with ProConnect's claim names.
const ACCOUNTS = {
  marie: {
    email: 'marie.dupont@cci-alpha.fr',
    email_verified: true,
    given_name: 'Marie',
    usual_name: 'Dupont',
    siret: '13002526500013',
    organizational_unit: 'CCI Alpha',
  },
  paul: {
    email: 'paul.martin@banque-beta.fr',
    email_verified: true,
    given_name: 'Paul',
    usual_name: 'Martin',
    siret: '55555555500011',
    organizational_unit: 'Direction export',
  },
  lea: {
    email: 'lea.bernard@inconnue.example',
    email_verified: true,
    given_name: 'Léa',
    usual_name: 'Bernard',
    siret: '99999999900019',
    organizational_unit: 'Cabinet inconnu',
  },
  alice: {
    email: 'alice@alpha.fr',
    email_verified: true,
    given_name: 'Alice',
    usual_name: 'Martin',
    siret: '13002526500013',
    organizational_unit: 'CCI Alpha',
  },
  mallory: {
    email: 'carol@alpha.fr',
    email_verified: false,
    given_name: 'Mallory',
    usual_name: 'Imposteur',
    siret: '13002526500013',
    organizational_unit: 'CCI Alpha',
  },
};

const SCOPES = ['openid', 'email', 'given_name', 'usual_name', 'siret', 'organizational_unit'];

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'tfe',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'tfe-test-secret',
      redirect_uris: list(process.env.OIDC_REDIRECT_URIS),
      post_logout_redirect_uris: list(process.env.OIDC_LOGOUT_URIS),
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: process.env.OIDC_TOKEN_AUTH || 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    siret: ['siret'],
    organizational_unit: ['organizational_unit'],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  // Consent is implied for the one first-party client: a grant for every scope and claim it asked.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPES.join(' '));
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);

// The sign-in screen: a list of the test accounts, each a link that signs it in.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match || ctx.method !== 'GET') return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (match[2]) {
    const account = String(ctx.query.account ?? '');
    if (!ACCOUNTS[account]) {
      ctx.status = 400;
      ctx.body = `unknown test account ${JSON.stringify(account)}`;
      return undefined;
    }
    ctx.respond = false;
    return provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: account } },
      { mergeWithLastSubmission: false },
    );
  }
  ctx.type = 'html';
  ctx.body = `<!doctype html><title>Test provider</title><h1>Sign in (${details.prompt.name})</h1><ul>${
    Object.keys(ACCOUNTS).map((a) => `<li><a href="/interaction/${details.uid}/login?account=${a}">${a}</a></li>`).join('')
  }</ul>`;
  return undefined;
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
