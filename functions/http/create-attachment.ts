/**
 * POST /v1/chats/{chatId}/attachments — a presigned POST for uploading one file straight to S3. The
 * policy pins the server-generated key, the exact content type and the declared size; the attachment
 * stays pending until S3 reports the upload (functions/s3/attachment-uploaded.ts).
 */
import { chatPathParams, createAttachmentBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { attachments } from '#shared/runtime/attachments.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const body = parse(createAttachmentBody, event.body, 'body');
    const identity = await authenticate(event);
    await quotas.take('uploads', identity);
    return json(201, await attachments.requestUpload(identity, chatId, body));
  },
  { body: true },
);
