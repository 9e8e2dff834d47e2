/**
 * Token verification (jose). Two kinds of bearer token are accepted on HTTP:
 *  - visitor tokens, signed by this project (HS256, our own issuer, `token_use: "visitor"`);
 *    with each comes a long-lived visitor *refresh* token (`token_use: "visitor_refresh"`, its own
 *    audience) that is only good for POST /v1/visitors/refresh and refused as a bearer token everywhere;
 *  - host tokens (users, agents, services) from the host app's identity provider, verified against a
 *    JWKS URL (asymmetric algorithms only) or a shared secret (HS256/384/512 only, never next to a JWKS),
 *    with pinned algorithms, `iss`, `aud`, `exp`, a required `iat` no older than a maximum token age, the
 *    `typ` header when one is configured, and a small clock tolerance.
 * Shared secrets shorter than their algorithm's hash (32 bytes for HS256) are refused: a service built
 * with one throws, a secret read from Secrets Manager fails every request that needs it (500, logged),
 * and no token is ever checked or signed with it.
 * A host subject never has the form of a visitor id (shared/domain/identity.ts): the two kinds of caller
 * cannot share an id, so a host token can never act as a visitor.
 * WebSocket tickets are not JWTs at all (shared/domain/realtime.ts), so neither kind can stand in for the
 * other.
 */
import { decodeJwt, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { UnauthorizedError } from '../domain/errors.ts';
import { remoteJwks } from './remote-jwks.ts';
import { type Identity, isVisitorId } from '../domain/identity.ts';
import { callerIdSchema, roleSchema, tenantIdSchema } from '../domain/schemas.ts';

export type SecretSource = () => Promise<string>;

const encoder = new TextEncoder();

export interface TokenConfig {
  readonly issuer: string;
  readonly audience: string;
  /**
   * Accepted `alg` values of host tokens. Default: RS256 and ES256 with a JWKS, HS256 with a secret. With
   * a JWKS only asymmetric algorithms, with a secret only HMAC ones: anything else is a configuration
   * error.
   */
  readonly algorithms?: readonly string[];
  readonly clockToleranceSeconds: number;
  /** Host tokens must carry `iat` and be at most this old (default 24 h), whatever their `exp` says. */
  readonly maxTokenAgeSeconds?: number;
  /** The `typ` header host tokens must carry (e.g. `at+jwt`, RFC 9068); unchecked when unset. */
  readonly tokenType?: string;
  readonly roleClaim: string;
  readonly tenantClaim: string;
  /** Host identity provider key: a JWKS URL or a shared secret. */
  readonly jwksUrl?: string;
  readonly secret?: SecretSource;
  readonly visitorIssuer: string;
  readonly visitorSecret: SecretSource;
  readonly visitorTokenTtlSeconds: number;
  /** Life of visitor refresh tokens (default 30 days). */
  readonly visitorRefreshTtlSeconds?: number;
}

const VISITOR_USE = 'visitor';
const REFRESH_USE = 'visitor_refresh';
const DEFAULT_REFRESH_TTL_SECONDS = 30 * 24 * 3600;
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 24 * 3600;
/** The `typ` header of the tokens this project signs (visitor and refresh tokens). */
const OWN_TYPE = 'JWT';

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
/** RFC 7518 §3.2: an HMAC key at least as long as the hash output. */
const MIN_KEY_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** A token configuration that cannot be used safely; thrown when the service is built or a key loaded. */
export class TokenConfigError extends Error {
  constructor(message: string) {
    super(`token configuration: ${message}`);
    this.name = 'TokenConfigError';
  }
}

/**
 * The host tokens' algorithms for the kind of key configured: asymmetric ones with a JWKS (HS256 next to
 * a JWKS would let anyone holding the public key's bytes forge tokens in a library that confused them),
 * HMAC ones with a secret.
 */
export const hostAlgorithms = (kind: 'jwks' | 'secret', configured?: readonly string[]): string[] => {
  const allowed: readonly string[] = kind === 'jwks' ? ASYMMETRIC_ALGORITHMS : HMAC_ALGORITHMS;
  const list = configured?.length ? [...configured] : kind === 'jwks' ? ['RS256', 'ES256'] : ['HS256'];
  const wrong = list.filter((alg) => !allowed.includes(alg));
  if (wrong.length > 0) {
    throw new TokenConfigError(
      kind === 'jwks'
        ? `${wrong.join(', ')} cannot be used with a JWKS URL: only asymmetric algorithms (${ASYMMETRIC_ALGORITHMS.join(', ')})`
        : `${wrong.join(', ')} cannot be used with a shared secret: only ${HMAC_ALGORITHMS.join(', ')}`,
    );
  }
  return list;
};

/** The key bytes of a shared secret, refused when shorter than every listed HMAC algorithm needs. */
export const secretKey = (secret: string, algorithms: readonly string[], what: string): Uint8Array => {
  const key = encoder.encode(secret);
  const needed = Math.max(32, ...algorithms.map((alg) => MIN_KEY_BYTES[alg] ?? 0));
  if (key.length < needed) {
    throw new TokenConfigError(
      `${what} is ${key.length} bytes; ${algorithms.join(', ')} needs at least ${needed} (generate one with \`openssl rand -base64 48\`)`,
    );
  }
  return key;
};

/** Who a valid refresh token renews: the same visitor of the same tenant. */
export interface VisitorRefreshClaims {
  readonly tenantId: string;
  readonly visitorId: string;
  readonly name?: string;
}

const memo = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= load().catch((error: unknown) => {
      promise = undefined;
      throw error;
    });
    return promise;
  };
};

export class TokenService {
  private readonly hostKey: () => Promise<JWTVerifyGetKey | Uint8Array>;
  private readonly visitorKey: () => Promise<Uint8Array>;
  private readonly hostAlgorithms: readonly string[];

  constructor(private readonly config: TokenConfig) {
    const { jwksUrl, secret } = config;
    if (jwksUrl && secret) {
      throw new TokenConfigError('configure a JWKS URL or a shared secret for host tokens, not both');
    }
    this.hostAlgorithms = hostAlgorithms(jwksUrl ? 'jwks' : 'secret', config.algorithms);
    const maxAge = config.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS;
    if (!Number.isInteger(maxAge) || maxAge < 1) {
      throw new TokenConfigError(`the maximum token age must be a positive number of seconds, got ${maxAge}`);
    }
    if (jwksUrl) {
      // Fetched on first use, over node:https rather than `fetch` (./remote-jwks.ts says why).
      const keys = remoteJwks(new URL(jwksUrl), { cooldownMs: 30_000, maxAgeMs: 600_000 });
      this.hostKey = async () => keys;
    } else if (secret) {
      const algorithms = this.hostAlgorithms;
      this.hostKey = memo(async () => secretKey(await secret(), algorithms, 'the host token secret'));
    } else {
      throw new TokenConfigError('host tokens need a JWKS URL or a shared secret');
    }
    this.visitorKey = memo(async () =>
      secretKey(await config.visitorSecret(), ['HS256'], 'the visitor token secret'),
    );
  }

  /** Verifies a bearer token of either kind and returns the caller's identity, or throws 401. */
  async verify(token: string): Promise<Identity> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new UnauthorizedError('malformed token');
    }
    return unverified.iss === this.config.visitorIssuer ? this.verifyVisitor(token) : this.verifyHost(token);
  }

  async signVisitor(
    tenantId: string,
    visitorId: string,
    name?: string,
  ): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + this.config.visitorTokenTtlSeconds * 1000);
    const token = await new SignJWT({
      tenant: tenantId,
      role: 'visitor',
      token_use: VISITOR_USE,
      ...(name ? { name } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', typ: OWN_TYPE })
      .setIssuer(this.config.visitorIssuer)
      .setAudience(this.config.audience)
      .setSubject(visitorId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.visitorKey());
    return { token, expiresAt };
  }

  /** A refresh token for the visitor: signed with the visitor key, for the refresh audience only. */
  async signVisitorRefresh(
    tenantId: string,
    visitorId: string,
    name?: string,
  ): Promise<{ token: string; expiresAt: Date }> {
    const ttl = this.config.visitorRefreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const token = await new SignJWT({
      tenant: tenantId,
      role: 'visitor',
      token_use: REFRESH_USE,
      ...(name ? { name } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', typ: OWN_TYPE })
      .setIssuer(this.config.visitorIssuer)
      .setAudience(this.refreshAudience())
      .setSubject(visitorId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.visitorKey());
    return { token, expiresAt };
  }

  /** Verifies a visitor refresh token (and nothing else); 401 when it is invalid or expired. */
  async verifyVisitorRefresh(token: string): Promise<VisitorRefreshClaims> {
    const payload = await this.check(token, await this.visitorKey(), {
      issuer: this.config.visitorIssuer,
      algorithms: ['HS256'],
      audience: this.refreshAudience(),
      maxTokenAge: this.config.visitorRefreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS,
      typ: OWN_TYPE,
    });
    if (payload.token_use !== REFRESH_USE || payload.role !== 'visitor')
      throw new UnauthorizedError('not a visitor refresh token');
    const { tenantId, userId, name } = this.identityOf(payload, 'tenant', 'role');
    return { tenantId, visitorId: userId, ...(name ? { name } : {}) };
  }

  private refreshAudience(): string {
    return `${this.config.audience}#visitor-refresh`;
  }

  private async verifyVisitor(token: string): Promise<Identity> {
    const payload = await this.check(token, await this.visitorKey(), {
      issuer: this.config.visitorIssuer,
      algorithms: ['HS256'],
      audience: this.config.audience,
      maxTokenAge: this.config.visitorTokenTtlSeconds,
      typ: OWN_TYPE,
    });
    if (payload.token_use !== VISITOR_USE || payload.role !== 'visitor')
      throw new UnauthorizedError('not a visitor token');
    return this.identityOf(payload, 'tenant', 'role');
  }

  private async verifyHost(token: string): Promise<Identity> {
    const key = await this.hostKey();
    const payload = await this.check(token, key, {
      issuer: this.config.issuer,
      algorithms: this.hostAlgorithms,
      audience: this.config.audience,
      maxTokenAge: this.config.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS,
      ...(this.config.tokenType ? { typ: this.config.tokenType } : {}),
    });
    if (payload.token_use === VISITOR_USE || payload.token_use === REFRESH_USE)
      throw new UnauthorizedError('visitor tokens come from POST /v1/visitors only');
    const identity = this.identityOf(payload, this.config.tenantClaim, this.config.roleClaim);
    if (identity.role === 'visitor')
      throw new UnauthorizedError('the identity provider cannot issue visitor tokens');
    if (isVisitorId(identity.userId))
      throw new UnauthorizedError('the subject has the form of a visitor id, which only visitors have');
    return identity;
  }

  /** Signature, `alg`, `iss`, `aud`, `exp`, `sub`, `iat` (no older than `maxTokenAge`) and `typ` if given. */
  private async check(
    token: string,
    key: JWTVerifyGetKey | Uint8Array,
    expected: {
      issuer: string;
      algorithms: readonly string[];
      audience: string;
      maxTokenAge: number;
      typ?: string;
    },
  ): Promise<JWTPayload> {
    try {
      const options = {
        issuer: expected.issuer,
        audience: expected.audience,
        algorithms: [...expected.algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        maxTokenAge: expected.maxTokenAge,
        requiredClaims: ['exp', 'sub', 'iat'],
        ...(expected.typ ? { typ: expected.typ } : {}),
      };
      const { payload } =
        key instanceof Uint8Array
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options);
      return payload;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UnauthorizedError(code === 'ERR_JWT_EXPIRED' ? 'token expired' : 'invalid token');
    }
  }

  private identityOf(payload: JWTPayload, tenantClaim: string, roleClaim: string): Identity {
    const tenant = tenantIdSchema.safeParse(payload[tenantClaim]);
    const user = callerIdSchema.safeParse(payload.sub);
    const role = roleSchema.safeParse(payload[roleClaim] ?? 'user');
    if (!tenant.success || !user.success || !role.success)
      throw new UnauthorizedError('token lacks tenant, subject or role');
    const name = typeof payload.name === 'string' ? payload.name.slice(0, 100) : undefined;
    return { tenantId: tenant.data, userId: user.data, role: role.data, ...(name ? { name } : {}) };
  }
}

/** Mints a host-style token; used by the local cloud's development issuer and by tests. */
export const signHostToken = async (
  secret: string,
  claims: { issuer: string; audience: string; tenantId: string; userId: string; role: string; name?: string },
  expiresInSeconds = 3600,
): Promise<string> =>
  new SignJWT({ tenant: claims.tenantId, role: claims.role, ...(claims.name ? { name: claims.name } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(`${expiresInSeconds}s`)
    .sign(encoder.encode(secret));
