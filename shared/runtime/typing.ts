/**
 * Typing indicators: pushed straight from the handler to the other users' sockets; the one write is the
 * chat's typing state (rate limit, and what pollers read). Never history, never the stream. Only sockets
 * still entitled to the chat get it (shared/domain/delivery-scope.ts).
 */
import { systemClock } from '../domain/ports.ts';
import { TypingService } from '../domain/typing.ts';
import { chats } from './chats.ts';
import { env } from './env.ts';
import { logger } from './logger.ts';
import { realtime } from './realtime.ts';
import { connectionStore, typingStateStore } from './stores.ts';

export const typing = new TypingService(
  {
    authorize: (identity, chatId) => chats.authorize(identity, chatId),
    // A visitor's or user's leftover subscription to a chat they were removed from gets nothing (as in the fan-out).
    subscribers: (chatId) => realtime.entitledSubscribers(chatId),
    userOf: async (connectionId) => (await connectionStore.get(connectionId))?.identity.userId,
    push: (connectionId, envelope) => realtime.push(connectionId, envelope),
    state: typingStateStore,
    clock: systemClock,
    onPushError: (connectionId, error) => logger.warn('typing push failed', { connectionId, error }),
  },
  { intervalMs: 1000, concurrency: env.FANOUT_CONCURRENCY },
);
