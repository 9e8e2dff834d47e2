/**
 * POST /v1/dev/tokens — LOCAL CLOUD ONLY (the route is `localOnly` and never deployed by CDK): mints a
 * token of any role. Users, agents and services get a development-issuer token signed with AUTH_SECRET;
 * visitors get the same kind of token POST /v1/visitors returns.
 */
import { signHostToken } from '#shared/auth/tokens.ts';
import { NotFoundError } from '#shared/domain/errors.ts';
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
    const expiresIn = body.expiresInSeconds ?? 24 * 3600;
    const claims = { issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE, ...body };
    const token = await signHostToken(secret, claims, expiresIn);
    return json(201, { token, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() });
  },
  { body: true },
);
