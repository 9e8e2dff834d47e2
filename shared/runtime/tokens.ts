/** Token verification and visitor-token signing (jose; Secrets Manager when the secrets are ARNs). */
import { secretFromArn } from '../adapters/secrets.ts';
import { TokenService } from '../auth/tokens.ts';
import { env } from './env.ts';

const fixed = (value: string) => async () => value;

export const tokens = new TokenService({
  issuer: env.AUTH_ISSUER,
  audience: env.AUTH_AUDIENCE,
  algorithms: env.AUTH_ALGORITHMS,
  clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
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
