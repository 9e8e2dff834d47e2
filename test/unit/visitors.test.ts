import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenService } from '../../shared/auth/tokens.ts';
import type { RateLimiter, TenantStore } from '../../shared/domain/ports.ts';
import type { Tenant } from '../../shared/domain/schemas.ts';
import { VisitorService } from '../../shared/domain/visitors.ts';

const config = {
  issuer: 'https://idp.example.com/',
  audience: 'chat',
  algorithms: ['HS256'],
  clockToleranceSeconds: 0,
  roleClaim: 'role',
  tenantClaim: 'tenant',
  secret: async () => 'a-shared-secret-of-at-least-32-characters!',
  visitorIssuer: 'serverless-chat/visitors',
  visitorSecret: async () => 'the-visitor-secret-of-at-least-32-characters',
  visitorTokenTtlSeconds: 3600,
};
const tokens = new TokenService(config);

const tenant = (overrides: Partial<Tenant> = {}): Tenant => ({
  tenantId: 'acme',
  name: 'Acme',
  allowedOrigins: ['https://shop.example', 'http://localhost:*'],
  theme: { primary: '#0a6' },
  greeting: 'Hi!',
  createdAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

const setup = (limit = 100) => {
  const tenants = new Map<string, Tenant>([['acme', tenant()]]);
  const store: TenantStore = {
    get: async (id) => tenants.get(id),
    put: async (value) => void tenants.set(value.tenantId, value),
  };
  const hits: string[] = [];
  const limiter: RateLimiter = {
    hit: async (key, max) => {
      hits.push(key);
      return hits.filter((hit) => hit === key).length <= max;
    },
  };
  return { tenants, hits, service: new VisitorService(store, limiter, tokens, limit) };
};
const from = { sourceIp: '203.0.113.7' };

describe('visitors', () => {
  it('creates a visitor with a token and a refresh token that is no bearer token', async () => {
    const { service } = setup();
    const session = await service.create({ tenantId: 'acme', name: 'Vera' }, from);

    expect(session.visitorId).toMatch(/^v_/);
    await expect(tokens.verify(session.token)).resolves.toEqual({
      tenantId: 'acme',
      userId: session.visitorId,
      role: 'visitor',
      name: 'Vera',
    });
    expect(session.refreshToken).not.toBe(session.token);
    await expect(tokens.verify(session.refreshToken)).rejects.toMatchObject({ status: 401 });
  });

  it('refreshes the same visitor of the same tenant, with its name, and a new refresh token', async () => {
    const { service } = setup();
    const first = await service.create({ tenantId: 'acme', name: 'Vera' }, from);

    const renewed = await service.refresh(first.refreshToken, from);
    const again = await service.refresh(renewed.refreshToken, from);

    expect(renewed.visitorId).toBe(first.visitorId);
    expect(again.visitorId).toBe(first.visitorId);
    await expect(tokens.verify(renewed.token)).resolves.toMatchObject({
      tenantId: 'acme',
      userId: first.visitorId,
      name: 'Vera',
    });
  });

  it('refuses a visitor token, a host token or garbage as a refresh token with 401', async () => {
    const { service } = setup();
    const session = await service.create({ tenantId: 'acme' }, from);

    for (const token of [session.token, 'not-a-jwt', `${session.refreshToken.slice(0, -3)}AAA`])
      await expect(service.refresh(token, from)).rejects.toMatchObject({ status: 401 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses an expired refresh token with 401', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const shortLived = new TokenService({ ...config, visitorRefreshTtlSeconds: 60 });
    const { token } = await shortLived.signVisitorRefresh('acme', 'v_old');
    await expect(tokens.verifyVisitorRefresh(token)).resolves.toEqual({
      tenantId: 'acme',
      visitorId: 'v_old',
    });
    vi.setSystemTime(Date.now() + 61_000);
    await expect(tokens.verifyVisitorRefresh(token)).rejects.toMatchObject({
      status: 401,
      message: 'token expired',
    });
  });

  it('answers 404 when the tenant of a refresh token no longer exists', async () => {
    const { service, tenants } = setup();
    const session = await service.create({ tenantId: 'acme' }, from);
    tenants.delete('acme');

    await expect(service.refresh(session.refreshToken, from)).rejects.toMatchObject({ status: 404 });
  });

  it('rate limits refreshes per tenant and address like creation', async () => {
    const { service, hits } = setup(2);
    const session = await service.create({ tenantId: 'acme' }, from);

    await service.refresh(session.refreshToken, from);
    await service.refresh(session.refreshToken, from);
    await expect(service.refresh(session.refreshToken, from)).rejects.toMatchObject({ status: 429 });
    expect(hits).toContain(`visitor-refresh#acme#${from.sourceIp}`);
  });

  it("checks a browser's origin against the tenant's patterns on creation and refresh", async () => {
    const { service } = setup();
    const ok = await service.create({ tenantId: 'acme' }, { ...from, origin: 'http://localhost:5173' });

    await expect(
      service.create({ tenantId: 'acme' }, { ...from, origin: 'https://evil.example' }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      service.refresh(ok.refreshToken, { ...from, origin: 'https://evil.example' }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(
      service.refresh(ok.refreshToken, { ...from, origin: 'https://shop.example' }),
    ).resolves.toMatchObject({
      visitorId: ok.visitorId,
    });
  });

  it("gives a tenant's public widget settings, 404 for an unknown tenant", async () => {
    const { service } = setup();

    await expect(service.widgetSettings('acme')).resolves.toEqual({
      tenantId: 'acme',
      name: 'Acme',
      theme: { primary: '#0a6' },
      greeting: 'Hi!',
    });
    await expect(service.widgetSettings('nope')).rejects.toMatchObject({ status: 404 });
  });
});
