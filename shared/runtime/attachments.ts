/** Attachments: presigned uploads and downloads (S3) over the attachment records. */
import { S3AttachmentStorage } from '../adapters/s3-attachments.ts';
import { AttachmentService } from '../domain/attachments.ts';
import { systemClock } from '../domain/ports.ts';
import { chats } from './chats.ts';
import { env } from './env.ts';
import { attachmentStore } from './stores.ts';

export const attachments = new AttachmentService(
  attachmentStore,
  new S3AttachmentStorage({
    bucket: env.ATTACHMENTS_BUCKET,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
    ...(env.ATTACHMENTS_DOWNLOAD_BASE ? { downloadBase: env.ATTACHMENTS_DOWNLOAD_BASE } : {}),
  }),
  (identity, chatId) => chats.authorize(identity, chatId),
  systemClock,
  {
    maxBytes: env.ATTACHMENT_MAX_BYTES,
    allowedTypes: env.ATTACHMENT_TYPES,
    inlineTypes: env.ATTACHMENT_INLINE_TYPES,
    uploadTtlSeconds: env.UPLOAD_URL_TTL_SECONDS,
    downloadTtlSeconds: env.DOWNLOAD_URL_TTL_SECONDS,
  },
);
