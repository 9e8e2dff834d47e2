/**
 * POST /v1/visitors/refresh — public: a visitor's refresh token buys a new token (and refresh token) for
 * the same visitor and tenant, so an expired widget session carries on in the same chats.
 */
import { refreshVisitorBody } from '#shared/domain/schemas.ts';
import { httpHandler, json, parse } from '#shared/http/middleware.ts';
import { visitors } from '#shared/runtime/visitors.ts';

export const handler = httpHandler(
  async (event) => {
    const { refreshToken } = parse(refreshVisitorBody, event.body, 'body');
    const { sourceIp } = event.requestContext.http;
    const session = await visitors.refresh(refreshToken, { sourceIp, origin: event.headers.origin });
    return json(200, session);
  },
  { body: true },
);
