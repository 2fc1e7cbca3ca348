// Verifies a sessdb JWT with jose (panva/jose), the way a Node API gateway
// would: the JWK Set is fetched from sessdb's HTTP face, the algorithm is
// pinned, and iss and aud are checked. Then it checks that a tampered token,
// a wrong audience and an HS256 token keyed with the public key all fail.
//
// usage: node jwt_verify.js <jwks-url> <jwt> <issuer> <audience> <sub> <sid>
// It prints "PASS jwt <alg> <kid>" and exits 0, or prints why and exits 1.
'use strict';

async function main() {
  const [jwksURL, token, issuer, audience, sub, sid] = process.argv.slice(2);
  const jose = await import('jose');
  const JWKS = jose.createRemoteJWKSet(new URL(jwksURL));
  const opts = { issuer, audience, algorithms: ['EdDSA', 'ES256'] };

  const { payload, protectedHeader } = await jose.jwtVerify(token, JWKS, opts);
  if (payload.sub !== sub || payload.sid !== sid) {
    throw new Error(`claims: got sub=${payload.sub} sid=${payload.sid}`);
  }
  if (!protectedHeader.kid) throw new Error('no kid in the header');
  if (!(payload.exp > payload.iat) || typeof payload.jti !== 'string') {
    throw new Error('exp, iat or jti missing');
  }

  const mustFail = async (what, tok, o) => {
    try {
      await jose.jwtVerify(tok, JWKS, o);
    } catch (err) {
      console.log(`refused ${what}: ${err.code}`);
      return;
    }
    throw new Error(`${what} was accepted`);
  };
  const [h, p, s] = token.split('.');
  const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
  await mustFail('tampered signature', `${h}.${p}.${flipped}`, opts);
  await mustFail('wrong audience', token, { ...opts, audience: 'someone-else' });
  const { keys } = await (await fetch(jwksURL)).json();
  const hs = await new jose.SignJWT({ sub, sid })
    .setProtectedHeader({ alg: 'HS256', kid: protectedHeader.kid })
    .setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('2m')
    .sign(new TextEncoder().encode(keys[0].x));
  await mustFail('HS256 keyed with the public key', hs, opts);

  console.log(`PASS jwt ${protectedHeader.alg} ${protectedHeader.kid}`);
}

main().catch((err) => {
  console.log(`FAIL ${err.code || ''} ${err.message}`);
  process.exit(1);
});
