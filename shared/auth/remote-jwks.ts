/**
 * The host identity provider's key set (JWKS), fetched with node:http(s). jose's `createRemoteJWKSet`
 * builds a `Headers` and calls `fetch`, and Node.js loads its whole HTTP client (undici) on the first
 * touch of either: about 30 ms of CPU here, some 0.2 s at 256 MB, on the first host token of every
 * cold start (docs/benchmarks.md, "Cold starts"). node:https is loaded anyway by every function that
 * checks tokens (the AWS SDK's HTTP handler).
 *
 * It behaves as jose's remote key set does, with jose's selection of a key from the set
 * (`createLocalJWKSet`: by `alg` and `kid`, exactly one match):
 * - the set is fetched on first use, and again before a verification once it is older than `maxAgeMs`;
 * - a token whose key is not in the set (the provider rotated its keys) fetches the set again, unless
 *   the last fetch is younger than `cooldownMs`, and is checked once more against the new set;
 * - one fetch at a time: verifications waiting for the set share it;
 * - only a 200 answer whose body is a JSON key set counts, within `timeoutMs`; no redirect is followed
 *   (as jose asks `fetch`), and a body over MAX_JWKS_BYTES is refused. A failed fetch fails the
 *   verifications waiting for it (the caller answers 401) and the next verification fetches again.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { readText } from '../adapters/http-body.ts';

/** A key set document is a few KB; anything near this is not one. */
export const MAX_JWKS_BYTES = 512 * 1024;

export interface RemoteJwksOptions {
  /** Least time between two fetches made for a key the set lacks (jose's `cooldownDuration`). Default 30 s. */
  readonly cooldownMs?: number;
  /** Age after which the set is fetched again before use (jose's `cacheMaxAge`). Default 10 min. */
  readonly maxAgeMs?: number;
  /** Time one fetch may take, connection included (jose's `timeoutDuration`). Default 5 s. */
  readonly timeoutMs?: number;
  /** The clock, in ms (tests). */
  readonly now?: () => number;
}

/** GETs `url` and parses its body as JSON: only a 200 answer within `timeoutMs`, at most MAX_JWKS_BYTES. */
const fetchJson = (url: URL, timeoutMs: number): Promise<unknown> => {
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (!send) return Promise.reject(new Error(`the JWKS URL must be http(s), got ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`the JWKS answered ${response.statusCode ?? 'without a status'}, not 200`));
          return;
        }
        readText(response, MAX_JWKS_BYTES).then((text) => {
          try {
            resolve(JSON.parse(text));
          } catch (cause) {
            reject(new Error('the JWKS is not JSON', { cause }));
          }
        }, reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
};

/** A key resolver for `jwtVerify` over the key set at `url` (see above). */
export const remoteJwks = (url: URL, options: RemoteJwksOptions = {}): JWTVerifyGetKey => {
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<ReturnType<typeof createLocalJWKSet>> | undefined;

  const reload = () =>
    (pending ??= fetchJson(url, timeoutMs)
      .then((json) => {
        // Throws JWKSInvalid unless it is a key set.
        keys = createLocalJWKSet(json as JSONWebKeySet);
        fetchedAt = now();
        return keys;
      })
      .finally(() => {
        pending = undefined;
      }));

  return async (protectedHeader, token) => {
    const current = keys && now() - fetchedAt < maxAgeMs ? keys : await reload();
    try {
      return await current(protectedHeader, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || now() - fetchedAt < cooldownMs) throw error;
      return (await reload())(protectedHeader, token);
    }
  };
};
