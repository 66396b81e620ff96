// A real OpenID Connect provider on loopback for the single sign-on tests (tests/api/test_auth_oidc.py).
// Usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Its development login form takes any password; the login name picks one of ACCOUNTS.
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);

const ACCOUNTS = {
  ada: {
    email: 'ada@example.org', email_verified: true, name: 'Ada Admin', booking_role: 'admin',
  },
  lea: {
    email: 'lea@example.org', email_verified: true, name: 'Lea Leitung',
    booking_role: ['location_admin', 'something_else'], booking_locations: ['mitte', 'atlantis'],
  },
  nora: { email: 'nora@example.org', email_verified: true, name: 'Nora Nobody' },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  scopes: ['openid', 'email', 'profile', 'booking'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    booking: ['booking_role', 'booking_locations'],
  },
  pkce: { required: () => true },
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    return account && { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});

createServer(provider.callback()).listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
