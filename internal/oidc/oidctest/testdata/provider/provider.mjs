// A certified OpenID Connect provider (oidc-provider) for parley's tests,
// on loopback. Environment: REDIRECT_URIS (space separated), USERS (JSON:
// account id -> claims). It prints one JSON line when it listens:
// {"issuer": ..., "other_issuer": ...}. other_issuer is a second provider
// with the same signing keys and another issuer (a token from it must be
// refused for its issuer alone). POST /__rotate adds a new signing key
// in front of the old ones (key rotation, as an operator deploys it) and
// answers {"kid": the new key's id}. Logins use the provider's own
// development interactions: a login form (any password) and a consent form.
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const redirectURIs = process.env.REDIRECT_URIS.split(' ');
const users = JSON.parse(process.env.USERS);

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

function provider(issuer, keys) {
  const client = (id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    redirect_uris: redirectURIs,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  });
  const p = new Provider(issuer, {
    clients: [client('parley'), client('other')],
    jwks: { keys },
    findAccount: (ctx, id) => (users[id] ? { accountId: id, claims: () => ({ sub: id, ...users[id] }) } : undefined),
    claims: { openid: ['sub'], profile: ['preferred_username', 'email', 'groups'] },
    // The profile claims go into the ID token, not only to userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['parley-test-cookie-key'] },
  });
  p.on('server_error', (ctx, err) => console.error('server_error', err));
  return p;
}

let keys = [newKey()];
let base;
let main;
let other;

const server = http.createServer((req, res) => {
  if (req.url === '/__rotate' && req.method === 'POST') {
    keys = [newKey(), ...keys];
    main = provider(base, keys).callback();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ kid: keys[0].kid }));
    return;
  }
  if (req.url === '/other' || req.url.startsWith('/other/') || req.url.startsWith('/other?')) {
    // Mounted under /other, as express would do it (oidc-provider finds
    // its mount path from originalUrl).
    req.originalUrl = req.url;
    req.url = req.url.slice('/other'.length) || '/';
    other(req, res);
    return;
  }
  main(req, res);
});

server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  main = provider(base, keys).callback();
  other = provider(`${base}/other`, keys).callback();
  console.log(JSON.stringify({ issuer: base, other_issuer: `${base}/other` }));
});

// The test closes stdin when it is done: stop with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
