/**
 * S3 ObjectCreated under pending/ (notification filter in the route table): confirms each upload —
 * real size, type, image dimensions — and moves it to files/. Idempotent: S3 delivers at least once.
 * A failure is thrown so Lambda's asynchronous retries run it again.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { S3Event } from 'aws-lambda';
import { attachments } from '#shared/runtime/attachments.ts';
import { logger } from '#shared/runtime/logger.ts';

/** Keys in S3 notifications are URL-encoded with `+` for spaces. */
const decodeKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

export const handler = middy<S3Event, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      const key = decodeKey(record.s3.object.key);
      const outcome = await attachments.confirm(key);
      logger.info('upload processed', { key, outcome });
    }
  });
