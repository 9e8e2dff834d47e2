/**
 * POST /v1/dev/tokens — LOCAL CLOUD ONLY (the route is `localOnly` and never deployed by CDK): mints a
 * token of any role. Users, agents and services get a development-issuer token signed with AUTH_SECRET,
 * valid at most AUTH_MAX_TOKEN_AGE_SECONDS (the age past which any host token is refused); visitors get
 * the same kind of token POST /v1/visitors returns. A host subject may not have the form of a visitor id
 * (shared/domain/identity.ts): 400, as such a token would be refused anyway.
 */
import { signHostToken } from '#shared/auth/tokens.ts';
import { NotFoundError, ValidationError } from '#shared/domain/errors.ts';
import { isVisitorId } from '#shared/domain/identity.ts';
import { devTokenBody } from '#shared/domain/schemas.ts';
import { httpHandler, json, parse } from '#shared/http/middleware.ts';
import { env } from '#shared/runtime/env.ts';
import { tokens } from '#shared/runtime/tokens.ts';

export const handler = httpHandler(
  async (event) => {
    const body = parse(devTokenBody, event.body, 'body');
    const secret = env.AUTH_SECRET;
    if (!secret) throw new NotFoundError('route');
    if (body.role === 'visitor') {
      const { token, expiresAt } = await tokens.signVisitor(body.tenantId, body.userId, body.name);
      return json(201, { token, expiresAt: expiresAt.toISOString() });
    }
    if (isVisitorId(body.userId)) {
      throw new ValidationError(
        'userId has the form of a visitor id (v_ and 20 letters or digits), which only visitors have',
      );
    }
    const expiresIn = Math.min(body.expiresInSeconds ?? 24 * 3600, env.AUTH_MAX_TOKEN_AGE_SECONDS);
    const claims = { issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE, ...body };
    const token = await signHostToken(secret, claims, expiresIn);
    return json(201, { token, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() });
  },
  { body: true },
);
