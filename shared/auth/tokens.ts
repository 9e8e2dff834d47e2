/**
 * Token verification (jose). Two kinds of bearer token are accepted on HTTP:
 *  - visitor tokens, signed by this project (HS256, our own issuer, `token_use: "visitor"`);
 *    with each comes a long-lived visitor *refresh* token (`token_use: "visitor_refresh"`, its own
 *    audience) that is only good for POST /v1/visitors/refresh and refused as a bearer token everywhere;
 *  - host tokens (users, agents, services) from the host app's identity provider, verified against a
 *    JWKS URL or a shared secret, with pinned algorithms, `iss`, `aud`, `exp` and a small clock tolerance.
 * WebSocket tickets are not JWTs at all (shared/domain/realtime.ts), so neither kind can stand in for the
 * other.
 */
import {
  createRemoteJWKSet,
  decodeJwt,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { UnauthorizedError } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import { callerIdSchema, roleSchema, tenantIdSchema } from '../domain/schemas.ts';

export type SecretSource = () => Promise<string>;

export interface TokenConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
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

/** Who a valid refresh token renews: the same visitor of the same tenant. */
export interface VisitorRefreshClaims {
  readonly tenantId: string;
  readonly visitorId: string;
  readonly name?: string;
}
const encoder = new TextEncoder();

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

  constructor(private readonly config: TokenConfig) {
    const { jwksUrl, secret } = config;
    if (jwksUrl) {
      // Made on first use: a remote key set touches `fetch`, and Node.js loads its HTTP client (undici)
      // on that first touch, which costs about 25 ms of every cold start of a function that only ever
      // sees visitor tokens (docs/benchmarks.md, "Cold starts").
      const url = new URL(jwksUrl);
      this.hostKey = memo(async () =>
        createRemoteJWKSet(url, { cooldownDuration: 30_000, cacheMaxAge: 600_000 }),
      );
    } else if (secret) {
      this.hostKey = memo(async () => encoder.encode(await secret()));
    } else {
      throw new Error('TokenService needs a jwksUrl or a secret');
    }
    this.visitorKey = memo(async () => encoder.encode(await config.visitorSecret()));
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
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
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
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
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
    const payload = await this.check(
      token,
      await this.visitorKey(),
      this.config.visitorIssuer,
      ['HS256'],
      this.refreshAudience(),
    );
    if (payload.token_use !== REFRESH_USE || payload.role !== 'visitor')
      throw new UnauthorizedError('not a visitor refresh token');
    const { tenantId, userId, name } = this.identityOf(payload, 'tenant', 'role');
    return { tenantId, visitorId: userId, ...(name ? { name } : {}) };
  }

  private refreshAudience(): string {
    return `${this.config.audience}#visitor-refresh`;
  }

  private async verifyVisitor(token: string): Promise<Identity> {
    const payload = await this.check(token, await this.visitorKey(), this.config.visitorIssuer, ['HS256']);
    if (payload.token_use !== VISITOR_USE || payload.role !== 'visitor')
      throw new UnauthorizedError('not a visitor token');
    return this.identityOf(payload, 'tenant', 'role');
  }

  private async verifyHost(token: string): Promise<Identity> {
    const key = await this.hostKey();
    const payload = await this.check(token, key, this.config.issuer, this.config.algorithms);
    if (payload.token_use === VISITOR_USE || payload.token_use === REFRESH_USE)
      throw new UnauthorizedError('visitor tokens come from POST /v1/visitors only');
    const identity = this.identityOf(payload, this.config.tenantClaim, this.config.roleClaim);
    if (identity.role === 'visitor')
      throw new UnauthorizedError('the identity provider cannot issue visitor tokens');
    return identity;
  }

  private async check(
    token: string,
    key: JWTVerifyGetKey | Uint8Array,
    issuer: string,
    algorithms: readonly string[],
    audience: string = this.config.audience,
  ): Promise<JWTPayload> {
    try {
      const options = {
        issuer,
        audience,
        algorithms: [...algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
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
