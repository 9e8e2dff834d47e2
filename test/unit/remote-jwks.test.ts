/**
 * The host identity provider's key set over node:http (shared/auth/remote-jwks.ts): jose's remote key
 * set behaviour (fetch on first use, again when stale or for a rotated key after a cooldown, one fetch at
 * a time, only a 200 JSON key set), and no `fetch` anywhere, so Node.js never loads undici for it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JWKS_BYTES, remoteJwks } from '../../shared/auth/remote-jwks.ts';
import { bundleSource } from '../support/lambda-bundles.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A JWKS endpoint whose answer the test sets, counting the requests it gets. */
const endpoint = async () => {
  let handle: Handler = (_request, response) => response.end('{}');
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    requests,
    answer: (next: Handler) => {
      handle = next;
    },
    serve: (keys: JWK[]) => {
      handle = (_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys }));
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

const signer = async (kid: string) => {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const sign = () =>
    new SignJWT({ tenant: 'acme' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer('https://idp.example.com/')
      .setAudience('serverless-chat')
      .setSubject('agent-1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  return { jwk, sign };
};

const OPTIONS = { issuer: 'https://idp.example.com/', audience: 'serverless-chat', algorithms: ['RS256'] };

describe('remote JWKS over node:http', () => {
  let idp: Awaited<ReturnType<typeof endpoint>>;
  let first: Awaited<ReturnType<typeof signer>>;
  let second: Awaited<ReturnType<typeof signer>>;

  beforeAll(async () => {
    first = await signer('k1');
    second = await signer('k2');
  });
  afterEach(async () => {
    await idp.close();
  });

  it('fetches the set once on first use and verifies tokens of its keys from it', async () => {
    // Prepare
    idp = await endpoint();
    idp.serve([first.jwk]);
    const keys = remoteJwks(idp.url);

    // Act
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await jwtVerify(await first.sign(), keys, OPTIONS));

    // Assess
    expect(results.map((result) => result.payload.sub)).toEqual(['agent-1', 'agent-1', 'agent-1']);
    expect(idp.requests).toHaveLength(1);
    expect(idp.requests[0]?.method).toBe('GET');
    expect(idp.requests[0]?.headers.accept).toBe('application/json, application/jwk-set+json');
  });

  it('makes one fetch for the verifications that wait for the set at the same time', async () => {
    // Prepare
    idp = await endpoint();
    idp.serve([first.jwk]);
    const keys = remoteJwks(idp.url);
    const tokens = await Promise.all(Array.from({ length: 5 }, () => first.sign()));

    // Act
    const results = await Promise.all(tokens.map((token) => jwtVerify(token, keys, OPTIONS)));

    // Assess
    expect(results).toHaveLength(5);
    expect(idp.requests).toHaveLength(1);
  });

  it('fetches again for a key the set lacks once the cooldown has passed, not before', async () => {
    // Prepare: the provider rotates from k1 to k2 after the first fetch
    idp = await endpoint();
    idp.serve([first.jwk]);
    let clock = 1_000_000;
    const keys = remoteJwks(idp.url, { cooldownMs: 30_000, now: () => clock });
    await jwtVerify(await first.sign(), keys, OPTIONS);
    idp.serve([second.jwk]);

    // Act
    clock += 10_000;
    const early = jwtVerify(await second.sign(), keys, OPTIONS);
    await expect(early).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    const fetchesWithinCooldown = idp.requests.length;
    clock += 25_000;
    const late = await jwtVerify(await second.sign(), keys, OPTIONS);

    // Assess
    expect(fetchesWithinCooldown).toBe(1);
    expect(late.payload.sub).toBe('agent-1');
    expect(idp.requests).toHaveLength(2);
  });

  it('fetches the set again before use once it is older than its maximum age', async () => {
    // Prepare
    idp = await endpoint();
    idp.serve([first.jwk]);
    let clock = 1_000_000;
    const keys = remoteJwks(idp.url, { maxAgeMs: 600_000, now: () => clock });
    await jwtVerify(await first.sign(), keys, OPTIONS);

    // Act
    clock += 599_000;
    await jwtVerify(await first.sign(), keys, OPTIONS);
    const fetchesWhileFresh = idp.requests.length;
    clock += 2_000;
    await jwtVerify(await first.sign(), keys, OPTIONS);

    // Assess
    expect(fetchesWhileFresh).toBe(1);
    expect(idp.requests).toHaveLength(2);
  });

  it.each([
    [
      'a redirect (not followed)',
      ((_request, response) => {
        response.statusCode = 302;
        response.setHeader('location', '/elsewhere.json');
        response.end();
      }) satisfies Handler,
      /answered 302/,
    ],
    [
      'a 500',
      ((_request, response) => {
        response.statusCode = 500;
        response.end('{"keys":[]}');
      }) satisfies Handler,
      /answered 500/,
    ],
    [
      'a body that is not JSON',
      ((_request, response) => response.end('<html>')) satisfies Handler,
      /not JSON/,
    ],
    [
      'JSON that is not a key set',
      ((_request, response) => response.end('{"issuer":"x"}')) satisfies Handler,
      /JSON Web Key Set/,
    ],
    [
      'a body over the size cap',
      ((_request, response) =>
        response.end(`{"keys":[],"pad":"${'x'.repeat(MAX_JWKS_BYTES)}"}`)) satisfies Handler,
      /larger than/,
    ],
  ])('fails the verification on %s, and fetches again on the next one', async (_case, handler, reason) => {
    // Prepare
    idp = await endpoint();
    idp.answer(handler);
    const keys = remoteJwks(idp.url);

    // Act
    const failed = jwtVerify(await first.sign(), keys, OPTIONS);
    await expect(failed).rejects.toThrow(reason);
    idp.serve([first.jwk]);
    const next = await jwtVerify(await first.sign(), keys, OPTIONS);

    // Assess
    expect(next.payload.sub).toBe('agent-1');
    expect(idp.requests).toHaveLength(2);
  });

  it('fails the verification when the provider does not answer in time', async () => {
    // Prepare
    idp = await endpoint();
    idp.answer(() => undefined);
    const keys = remoteJwks(idp.url, { timeoutMs: 200 });

    // Act
    const failed = jwtVerify(await first.sign(), keys, OPTIONS);

    // Assess
    await expect(failed).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('a bundled token service checking a host token in a fresh process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-remote-jwks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never loads undici, Node.js’s fetch client', async () => {
    // Prepare: an identity provider and the token service in one bundle, made the stack's way
    const entry = `
      import { createServer } from 'node:http';
      import { exportJWK, generateKeyPair, SignJWT } from 'jose';
      import { TokenService } from './shared/auth/tokens.ts';
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
      const server = createServer((_request, response) => response.end(JSON.stringify({ keys: [jwk] })));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const service = new TokenService({
        issuer: 'https://idp.example.com/', audience: 'serverless-chat', algorithms: ['RS256'],
        jwksUrl: 'http://127.0.0.1:' + server.address().port + '/jwks.json',
        visitorSecret: async () => 'v'.repeat(32), visitorIssuer: 'serverless-chat/visitors',
        visitorTokenTtlSeconds: 3600, clockToleranceSeconds: 30, tenantClaim: 'tenant', roleClaim: 'role',
      });
      const token = await new SignJWT({ tenant: 'acme', role: 'agent' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://idp.example.com/')
        .setAudience('serverless-chat').setSubject('agent-1').setIssuedAt().setExpirationTime('5m')
        .sign(privateKey);
      const identity = await service.verify(token);
      server.close();
      process.stdout.write(JSON.stringify({
        identity,
        undici: process.moduleLoadList.filter((name) => name.includes('undici')),
      }));`;
    const file = join(dir, 'index.mjs');
    await bundleSource(entry, file);

    // Act
    const output = JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' })) as {
      identity: unknown;
      undici: string[];
    };

    // Assess
    expect(output.identity).toEqual({ tenantId: 'acme', userId: 'agent-1', role: 'agent' });
    expect(output.undici).toEqual([]);
  }, 60_000);
});
