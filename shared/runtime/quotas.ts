/** Per-identity quotas and the long-poll bound (shared/domain/quotas.ts), for the handlers that count. */
import { systemClock } from '../domain/ports.ts';
import { Quotas } from '../domain/quotas.ts';
import { env } from './env.ts';
import { quotaStore } from './stores.ts';

export const quotas = new Quotas(
  quotaStore,
  systemClock,
  {
    chats: env.QUOTA_CHATS,
    messages: env.QUOTA_MESSAGES,
    sockets: env.QUOTA_SOCKETS,
    uploads: env.QUOTA_UPLOADS,
    systemEvents: env.QUOTA_SYSTEM_EVENTS,
  },
  env.LONG_POLLS_PER_IDENTITY,
);
