/** Token settings as deployments give them: the CDK context `auth` and the functions' environment. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseAuth } from '../../infra/constructs/config.ts';
import { parseEnv } from '../../shared/config/env.ts';
import { HANDLER_TEST_ENV } from '../support/handler-env.ts';

const JWKS = 'https://id.example.org/.well-known/jwks.json';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-auth-AbCdEf';
const base = { issuer: 'https://id.example.org/', audience: 'chat' };

describe('the CDK context auth', () => {
  it('refuses HS256 next to a JWKS, an asymmetric algorithm next to a secret, and both keys at once', () => {
    expect(() => parseAuth({ ...base, jwksUrl: JWKS, algorithms: ['RS256', 'HS256'] })).toThrow(ConfigError);
    expect(() => parseAuth({ ...base, secretArn: SECRET_ARN, algorithms: 'RS256' })).toThrow(ConfigError);
    expect(() => parseAuth({ ...base, jwksUrl: JWKS, secretArn: SECRET_ARN })).toThrow(/not both/);
  });

  it('takes a maximum token age and a token type', () => {
    expect(
      parseAuth({ ...base, jwksUrl: JWKS, maxTokenAgeSeconds: '3600', tokenType: 'at+jwt' }),
    ).toMatchObject({ maxTokenAgeSeconds: 3600, tokenType: 'at+jwt' });
    expect(() => parseAuth({ ...base, jwksUrl: JWKS, maxTokenAgeSeconds: 10 })).toThrow(ConfigError);
    expect(() => parseAuth({ ...base, jwksUrl: JWKS, tokenType: 'at jwt' })).toThrow(ConfigError);
  });
});

describe('the functions’ environment', () => {
  it('refuses a JWKS URL next to a shared secret', () => {
    expect(() => parseEnv({ ...HANDLER_TEST_ENV, AUTH_JWKS_URL: JWKS })).toThrow(/exclude each other/);
  });

  it('defaults the maximum token age to 24 h and leaves the algorithms to the key', () => {
    const env = parseEnv({ ...HANDLER_TEST_ENV });

    expect(env.AUTH_MAX_TOKEN_AGE_SECONDS).toBe(24 * 3600);
    expect(env.AUTH_ALGORITHMS).toBeUndefined();
    expect(env.AUTH_TOKEN_TYPE).toBeUndefined();
  });
});

describe('the functions’ token service at cold start', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.resetModules();
  });

  it('fails the cold start when an environment secret is too short for its algorithm', async () => {
    // Prepare: 40 bytes is enough for HS256, not for HS512
    Object.assign(process.env, HANDLER_TEST_ENV, { AUTH_SECRET: 'k'.repeat(40), AUTH_ALGORITHMS: 'HS512' });
    vi.resetModules();

    // Act + Assess
    await expect(import('../../shared/runtime/tokens.ts')).rejects.toThrow(/AUTH_SECRET is 40 bytes/);
  });

  it('starts with secrets long enough', async () => {
    Object.assign(process.env, HANDLER_TEST_ENV);
    vi.resetModules();

    await expect(import('../../shared/runtime/tokens.ts')).resolves.toHaveProperty('tokens');
  });
});
