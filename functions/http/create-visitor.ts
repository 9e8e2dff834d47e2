/** POST /v1/visitors — public: an anonymous widget visitor of a tenant gets a short-lived token. */

import { createVisitorBody } from '#shared/domain/schemas.ts';
import { httpHandler, json, parse } from '#shared/http/middleware.ts';
import { visitors } from '#shared/runtime/visitors.ts';

export const handler = httpHandler(
  async (event) => {
    const body = parse(createVisitorBody, event.body, 'body');
    const { sourceIp } = event.requestContext.http;
    const visitor = await visitors.create(body, { sourceIp, origin: event.headers.origin });
    return json(201, visitor);
  },
  { body: true },
);
