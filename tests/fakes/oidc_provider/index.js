// A real OpenID provider (npm `oidc-provider`) for VM-X's SSO tests.
//
// Configuration comes from the environment:
//   PORT            port to listen on (127.0.0.1)
//   CLIENT_ID       the relying party's client id
//   CLIENT_SECRET   its secret; empty = a public client (PKCE only)
//   REDIRECT_URI    the relying party's callback
// devInteractions is on: any login name is accepted at the login form (the password is ignored), and
// the account's email is the login name, so a test chooses who signs in.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const secret = process.env.CLIENT_SECRET || '';

const client = {
  client_id: process.env.CLIENT_ID,
  redirect_uris: [process.env.REDIRECT_URI],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  ...(secret ? { client_secret: secret } : { token_endpoint_auth_method: 'none' }),
};

const provider = new Provider(issuer, {
  clients: [client],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        const name = sub.split('@')[0];
        return { sub, email: sub, email_verified: true, name: `SSO ${name}` };
      },
    };
  },
});

provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
