/**
 * Host and visitor token hardening: algorithms pinned to the kind of key, a minimum secret length, a
 * maximum token age, the `typ` header when configured, and the visitor id namespace reserved.
 */
import { fc, test } from '@fast-check/vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  hostAlgorithms,
  TokenConfigError,
  type TokenConfig,
  TokenService,
} from '../../shared/auth/tokens.ts';
import { isVisitorId, newVisitorId } from '../../shared/domain/identity.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const encoder = new TextEncoder();
const base: TokenConfig = {
  issuer: 'https://idp.example.com/',
  audience: 'chat',
  clockToleranceSeconds: 5,
  roleClaim: 'role',
  tenantClaim: 'tenant',
  visitorIssuer: 'serverless-chat/visitors',
  visitorSecret: async () => 'the-visitor-secret-of-at-least-32-characters',
  visitorTokenTtlSeconds: 3600,
};
const now = () => Math.floor(Date.now() / 1000);

/** A host token signed with `secret`; `iat` omitted when `issuedAt` is null. */
const hostToken = (
  options: { secret?: string; issuedAt?: number | null; typ?: string; subject?: string; exp?: number } = {},
) => {
  const jwt = new SignJWT({ tenant: 'acme', role: 'agent' })
    .setProtectedHeader({ alg: 'HS256', ...(options.typ ? { typ: options.typ } : {}) })
    .setIssuer(base.issuer)
    .setAudience(base.audience)
    .setSubject(options.subject ?? 'alice')
    .setExpirationTime(options.exp ?? now() + 3600);
  if (options.issuedAt !== null) jwt.setIssuedAt(options.issuedAt ?? now());
  return jwt.sign(encoder.encode(options.secret ?? SECRET));
};

describe('host token algorithms follow the kind of key', () => {
  it('refuses HS256 next to a JWKS, and a JWKS next to a shared secret', () => {
    // Act + Assess
    expect(
      () =>
        new TokenService({
          ...base,
          algorithms: ['RS256', 'ES256', 'HS256'],
          jwksUrl: 'https://idp.example.com/jwks.json',
        }),
    ).toThrow(TokenConfigError);
    expect(
      () =>
        new TokenService({
          ...base,
          jwksUrl: 'https://idp.example.com/jwks.json',
          secret: async () => SECRET,
        }),
    ).toThrow(/not both/);
    expect(() => new TokenService({ ...base, algorithms: ['RS256'], secret: async () => SECRET })).toThrow(
      TokenConfigError,
    );
  });

  it('defaults to RS256 and ES256 with a JWKS and HS256 with a secret', () => {
    expect(hostAlgorithms('jwks')).toEqual(['RS256', 'ES256']);
    expect(hostAlgorithms('secret')).toEqual(['HS256']);
    expect(hostAlgorithms('jwks', ['PS256', 'EdDSA'])).toEqual(['PS256', 'EdDSA']);
  });

  it('refuses an HS256 token made with the JWKS public key as its secret', async () => {
    // Prepare: a JWKS endpoint is not needed: the algorithm is refused before any key is fetched
    const pair = await generateKeyPair('RS256', { extractable: true });
    const publicJwk = JSON.stringify(await exportJWK(pair.publicKey));
    const service = new TokenService({ ...base, jwksUrl: 'http://127.0.0.1:9/jwks.json' });
    const forged = await hostToken({ secret: publicJwk });

    // Act + Assess
    await expect(service.verify(forged)).rejects.toMatchObject({ status: 401 });
  });
});

describe('shared secrets have a minimum length', () => {
  it('never accepts a token checked with a host secret shorter than 32 bytes', async () => {
    // Prepare: a 20-byte secret, as a Secrets Manager value might hold
    const short = 'twenty-bytes-secret!';
    const service = new TokenService({ ...base, secret: async () => short });

    // Act + Assess: the request fails closed (not a 401 that hides the misconfiguration)
    await expect(service.verify(await hostToken({ secret: short }))).rejects.toThrow(TokenConfigError);
    await expect(service.verify(await hostToken({ secret: short }))).rejects.toThrow(/20 bytes.*at least 32/);
  });

  it('never signs or checks visitor tokens with a visitor secret shorter than 32 bytes', async () => {
    const service = new TokenService({
      ...base,
      secret: async () => SECRET,
      visitorSecret: async () => 'short-visitor-secret',
    });

    await expect(service.signVisitor('acme', newVisitorId())).rejects.toThrow(TokenConfigError);
  });

  it('asks HS512 for a 64-byte secret', async () => {
    const service = new TokenService({ ...base, algorithms: ['HS512'], secret: async () => SECRET });

    await expect(service.verify(await hostToken())).rejects.toThrow(/at least 64/);
  });
});

describe('host tokens have a maximum age', () => {
  const service = new TokenService({ ...base, secret: async () => SECRET });

  it('refuses a token issued more than 24 h ago even though it has not expired', async () => {
    const old = await hostToken({ issuedAt: now() - 25 * 3600, exp: now() + 3600 });
    const recent = await hostToken({ issuedAt: now() - 23 * 3600, exp: now() + 3600 });

    await expect(service.verify(old)).rejects.toMatchObject({ status: 401 });
    await expect(service.verify(recent)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('refuses a token without iat', async () => {
    await expect(service.verify(await hostToken({ issuedAt: null }))).rejects.toMatchObject({ status: 401 });
  });

  it('applies a configured maximum age', async () => {
    const strict = new TokenService({ ...base, secret: async () => SECRET, maxTokenAgeSeconds: 600 });

    await expect(strict.verify(await hostToken({ issuedAt: now() - 660 }))).rejects.toMatchObject({
      status: 401,
    });
    await expect(strict.verify(await hostToken({ issuedAt: now() - 540 }))).resolves.toMatchObject({
      userId: 'alice',
    });
  });

  it('refuses a visitor token older than the visitor token life', async () => {
    // Prepare: a visitor token signed 2 h ago with a far expiry (life is 1 h)
    const forgedLongLife = await new SignJWT({ tenant: 'acme', role: 'visitor', token_use: 'visitor' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(base.visitorIssuer)
      .setAudience(base.audience)
      .setSubject(newVisitorId())
      .setIssuedAt(now() - 7200)
      .setExpirationTime(now() + 3600)
      .sign(encoder.encode('the-visitor-secret-of-at-least-32-characters'));

    await expect(service.verify(forgedLongLife)).rejects.toMatchObject({ status: 401 });
  });
});

describe('the typ header', () => {
  const service = new TokenService({ ...base, secret: async () => SECRET, tokenType: 'at+jwt' });

  it('is required to be the configured type when one is configured', async () => {
    await expect(service.verify(await hostToken({ typ: 'at+jwt' }))).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(service.verify(await hostToken({ typ: 'application/at+jwt' }))).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(service.verify(await hostToken({ typ: 'JWT' }))).rejects.toMatchObject({ status: 401 });
    await expect(service.verify(await hostToken())).rejects.toMatchObject({ status: 401 });
  });

  it('is not checked when no type is configured', async () => {
    const lax = new TokenService({ ...base, secret: async () => SECRET });

    await expect(lax.verify(await hostToken())).resolves.toMatchObject({ userId: 'alice' });
  });
});

describe('visitor ids are a namespace of their own', () => {
  const service = new TokenService({ ...base, secret: async () => SECRET });

  test.prop([fc.constant(null)], { numRuns: 200 })('every minted visitor id has the reserved form', () => {
    expect(isVisitorId(newVisitorId())).toBe(true);
  });

  it('refuses a host token whose subject has the form of a visitor id', async () => {
    const visitorId = newVisitorId();

    await expect(service.verify(await hostToken({ subject: visitorId }))).rejects.toMatchObject({
      status: 401,
    });
    // Ids that merely start like one stay host ids.
    await expect(service.verify(await hostToken({ subject: 'v_alice' }))).resolves.toMatchObject({
      userId: 'v_alice',
    });
  });

  it('still accepts visitor tokens for minted visitor ids', async () => {
    const visitorId = newVisitorId();
    const { token } = await service.signVisitor('acme', visitorId);

    await expect(service.verify(token)).resolves.toEqual({
      tenantId: 'acme',
      userId: visitorId,
      role: 'visitor',
    });
  });
});
