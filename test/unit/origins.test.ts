import { describe, expect, it } from 'vitest';
import { originAllowed, originMatches, originPatternProblem } from '../../shared/domain/origins.ts';
import { tenantInputSchema } from '../../shared/domain/schemas.ts';

describe('tenant origin patterns', () => {
  it.each([
    ['*', 'https://any.example', true],
    ['https://shop.example', 'https://shop.example', true],
    ['https://shop.example', 'https://shop.example:443', true],
    ['https://shop.example', 'http://shop.example', false],
    ['https://shop.example', 'https://evil.shop.example', false],
    ['https://shop.example', 'https://shop.example.evil', false],
    ['https://shop.example', 'https://shop.example:8443', false],
    ['http://localhost:8080', 'http://localhost:8080', true],
    ['http://localhost:8080', 'http://localhost:8081', false],
    ['http://localhost:*', 'http://localhost:3000', true],
    ['http://localhost:*', 'http://localhost:54321', true],
    ['http://localhost:*', 'http://localhost', true],
    ['http://localhost:*', 'https://localhost:3000', false],
    ['http://localhost:*', 'http://127.0.0.1:3000', false],
    ['http://localhost:*', 'http://localhost.evil.example:3000', false],
    ['http://localhost:*', 'http://evil-localhost:3000', false],
    ['http://127.0.0.1:*', 'http://127.0.0.1:9', true],
    ['http://localhost:*', 'null', false],
    ['http://localhost:*', 'http://localhost:*', false],
    ['http://[::1]:*', 'http://[::1]:3000', true],
  ])('%s against %s → %s', (pattern, origin, expected) => {
    expect(originMatches(pattern, origin)).toBe(expected);
  });

  it('allows any origin when the list is empty, else only a matching one', () => {
    expect(originAllowed([], 'https://any.example')).toBe(true);
    const demo = ['http://localhost:*', 'http://127.0.0.1:*'];
    expect(originAllowed(demo, 'http://127.0.0.1:4000')).toBe(true);
    expect(originAllowed(demo, 'https://evil.example')).toBe(false);
  });

  it.each(['*', 'https://shop.example', 'http://localhost:*', 'http://localhost:3000', 'http://[::1]:*'])(
    'accepts the pattern %s',
    (pattern) => {
      expect(originPatternProblem(pattern)).toBeUndefined();
    },
  );

  it.each([
    'https://shop.example/',
    'https://shop.example/path',
    'https://*.shop.example',
    'shop.example',
    'ftp://shop.example',
    'https://Shop.example',
    'http://localhost:0',
    'http://localhost:70000',
    'http://localhost:*:*',
    'http://localhost:3*',
  ])('refuses the pattern %s', (pattern) => {
    expect(originPatternProblem(pattern)).toMatch(/origin pattern|invalid port/);
  });

  it('is what the tenant command validates', () => {
    const tenant = { tenantId: 'acme', name: 'Acme', createdAt: new Date().toISOString() };
    expect(tenantInputSchema.safeParse({ ...tenant, allowedOrigins: ['http://localhost:*'] }).success).toBe(
      true,
    );
    const bad = tenantInputSchema.safeParse({ ...tenant, allowedOrigins: ['https://acme.example/'] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['allowedOrigins', 0]);
  });
});
