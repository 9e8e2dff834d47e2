/**
 * GET /v1/attachments/{attachmentId} — a short-lived download URL for participants. The file is served
 * as `attachment` (inline only for allow-listed image types whose bytes were checked on upload).
 */
import { attachmentPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { attachments } from '#shared/runtime/attachments.ts';

export const handler = httpHandler(async (event) => {
  const { attachmentId } = parse(attachmentPathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  return json(200, await attachments.download(identity, attachmentId));
});
