/**
 * Token verification and visitor-token signing (jose; Secrets Manager when the secrets are ARNs). A
 * configuration that cannot be used safely (HS256 next to a JWKS, an environment secret too short for
 * its algorithm) throws here, at the cold start, with the reason; a too-short secret from Secrets
 * Manager fails each request that needs it (500, logged) and is never used.
 */
import { secretFromArn } from '../adapters/secrets.ts';
import { hostAlgorithms, secretKey, TokenService } from '../auth/tokens.ts';
import { env } from './env.ts';

const fixed = (value: string) => async () => value;

// Secrets given in the environment are checked now: a too-short one fails the cold start, not a request.
if (env.AUTH_SECRET) secretKey(env.AUTH_SECRET, hostAlgorithms('secret', env.AUTH_ALGORITHMS), 'AUTH_SECRET');
if (env.VISITOR_SECRET) secretKey(env.VISITOR_SECRET, ['HS256'], 'VISITOR_SECRET');

export const tokens = new TokenService({
  issuer: env.AUTH_ISSUER,
  audience: env.AUTH_AUDIENCE,
  ...(env.AUTH_ALGORITHMS ? { algorithms: env.AUTH_ALGORITHMS } : {}),
  clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
  maxTokenAgeSeconds: env.AUTH_MAX_TOKEN_AGE_SECONDS,
  ...(env.AUTH_TOKEN_TYPE ? { tokenType: env.AUTH_TOKEN_TYPE } : {}),
  roleClaim: env.AUTH_ROLE_CLAIM,
  tenantClaim: env.AUTH_TENANT_CLAIM,
  ...(env.AUTH_JWKS_URL ? { jwksUrl: env.AUTH_JWKS_URL } : {}),
  ...(env.AUTH_SECRET
    ? { secret: fixed(env.AUTH_SECRET) }
    : env.AUTH_SECRET_ARN
      ? { secret: secretFromArn(env.AUTH_SECRET_ARN) }
      : {}),
  visitorIssuer: env.VISITOR_ISSUER,
  visitorSecret: env.VISITOR_SECRET ? fixed(env.VISITOR_SECRET) : secretFromArn(env.VISITOR_SECRET_ARN ?? ''),
  visitorTokenTtlSeconds: env.VISITOR_TOKEN_TTL_SECONDS,
  visitorRefreshTtlSeconds: env.VISITOR_REFRESH_TTL_SECONDS,
});
