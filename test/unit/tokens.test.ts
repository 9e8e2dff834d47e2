import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHostToken, TokenService } from '../../shared/auth/tokens.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const VISITOR_SECRET = 'the-visitor-secret-of-at-least-32-characters';
const base = {
  issuer: 'https://idp.example.com/',
  audience: 'chat',
  algorithms: ['HS256'],
  clockToleranceSeconds: 5,
  roleClaim: 'role',
  tenantClaim: 'tenant',
  visitorIssuer: 'serverless-chat/visitors',
  visitorSecret: async () => VISITOR_SECRET,
  visitorTokenTtlSeconds: 3600,
};
const withSecret = new TokenService({ ...base, secret: async () => SECRET });
const host = (
  claims: Partial<{ issuer: string; audience: string; role: string; tenantId: string; userId: string }> = {},
  ttl = 60,
) =>
  signHostToken(
    SECRET,
    {
      issuer: base.issuer,
      audience: base.audience,
      tenantId: 'acme',
      userId: 'alice',
      role: 'agent',
      ...claims,
    },
    ttl,
  );

describe('TokenService with a shared secret', () => {
  it('accepts a valid host token and returns tenant, user and role', async () => {
    await expect(withSecret.verify(await host())).resolves.toEqual({
      tenantId: 'acme',
      userId: 'alice',
      role: 'agent',
    });
  });

  it.each([
    ['wrong issuer', { issuer: 'https://evil.example.com/' }],
    ['wrong audience', { audience: 'someone-else' }],
    ['a visitor role from the identity provider', { role: 'visitor' }],
    ['an unknown role', { role: 'admin' }],
    ['a malformed tenant', { tenantId: 'NOT A TENANT' }],
    // The sender of system messages: a caller with that id could edit or pre-empt them.
    ["the reserved subject 'system'", { userId: 'system' }],
  ])('refuses a token with %s', async (_what, claims) => {
    await expect(withSecret.verify(await host(claims))).rejects.toMatchObject({ status: 401 });
  });

  it('refuses an expired token beyond the clock tolerance but accepts one within it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (exp: number) =>
      new SignJWT({ tenant: 'acme', role: 'user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(base.issuer)
        .setAudience(base.audience)
        .setSubject('alice')
        .setIssuedAt(now - 600)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(SECRET));

    await expect(withSecret.verify(await sign(now - 30))).rejects.toMatchObject({
      status: 401,
      message: 'token expired',
    });
    await expect(withSecret.verify(await sign(now - 2))).resolves.toMatchObject({ userId: 'alice' });
  });

  it('refuses an unsigned (alg none) token and one signed with an algorithm not on the list', async () => {
    const unsigned = new UnsecuredJWT({ tenant: 'acme', role: 'agent' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setSubject('alice')
      .setExpirationTime('1h')
      .encode();
    const hs512 = await new SignJWT({ tenant: 'acme' })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));

    await expect(withSecret.verify(unsigned)).rejects.toMatchObject({ status: 401 });
    await expect(withSecret.verify(hs512)).rejects.toMatchObject({ status: 401 });
  });

  it('verifies its own visitor tokens, which carry the visitor role', async () => {
    const { token } = await withSecret.signVisitor('acme', 'v_1', 'Vera');

    await expect(withSecret.verify(token)).resolves.toEqual({
      tenantId: 'acme',
      userId: 'v_1',
      role: 'visitor',
      name: 'Vera',
    });
  });

  it('refuses a visitor-issuer token signed with the host secret (no cross-kind acceptance)', async () => {
    const forged = await signHostToken(SECRET, {
      issuer: base.visitorIssuer,
      audience: base.audience,
      tenantId: 'acme',
      userId: 'v_1',
      role: 'visitor',
    });

    await expect(withSecret.verify(forged)).rejects.toMatchObject({ status: 401 });
  });
});

describe('TokenService with a JWKS URL', () => {
  let server: Server;
  let service: TokenService;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    service = new TokenService({
      ...base,
      algorithms: ['RS256'],
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts an RS256 token whose key is in the JWKS and refuses an HS256 one', async () => {
    const good = await new SignJWT({ tenant: 'acme', role: 'service' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setSubject('payments')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

    await expect(service.verify(good)).resolves.toEqual({
      tenantId: 'acme',
      userId: 'payments',
      role: 'service',
    });
    await expect(service.verify(await host())).rejects.toMatchObject({ status: 401 });
  });
});

describe('visitor refresh tokens', () => {
  const service = new TokenService({ ...base, secret: async () => SECRET });

  it('verify only as refresh tokens: never as bearer tokens, and bearer tokens never as them', async () => {
    const refresh = await service.signVisitorRefresh('acme', 'v_1', 'Vera');
    const visitor = await service.signVisitor('acme', 'v_1');

    await expect(service.verifyVisitorRefresh(refresh.token)).resolves.toEqual({
      tenantId: 'acme',
      visitorId: 'v_1',
      name: 'Vera',
    });
    await expect(service.verify(refresh.token)).rejects.toMatchObject({ status: 401 });
    await expect(service.verifyVisitorRefresh(visitor.token)).rejects.toMatchObject({ status: 401 });
    await expect(service.verifyVisitorRefresh(await host())).rejects.toMatchObject({ status: 401 });
  });

  it('live 30 days by default, and as configured', async () => {
    const now = Date.now();
    const { expiresAt } = await service.signVisitorRefresh('acme', 'v_1');
    const short = await new TokenService({
      ...base,
      secret: async () => SECRET,
      visitorRefreshTtlSeconds: 120,
    }).signVisitorRefresh('acme', 'v_1');

    expect(expiresAt.getTime() - now).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000 - 1000);
    expect(expiresAt.getTime() - now).toBeLessThanOrEqual(30 * 24 * 3600 * 1000 + 1000);
    expect(short.expiresAt.getTime() - now).toBeLessThanOrEqual(121_000);
  });

  it('refuses a refresh-use token from the host identity provider', async () => {
    const forged = await new SignJWT({ tenant: 'acme', role: 'visitor', token_use: 'visitor_refresh' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(base.issuer)
      .setAudience(base.audience)
      .setSubject('v_1')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));

    await expect(service.verify(forged)).rejects.toMatchObject({ status: 401 });
  });
});
