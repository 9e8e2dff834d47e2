import type { ChatEventRecord } from './ports.ts';
import type { Chat, Envelope, Message } from './schemas.ts';

export const messageCreated = (message: Message): Envelope => ({
  type: 'message.created',
  id: `${message.chatId}:${message.seq}:created`,
  tenantId: message.tenantId,
  chatId: message.chatId,
  seq: message.seq,
  at: message.createdAt,
  data: message,
});

/** A message to one user it mentions: pushed to all its sockets, and in its polls of the chat. */
export const mentionEnvelope = (message: Message, userId: string): Envelope => ({
  type: 'mention',
  id: `${message.chatId}:${message.seq}:mention:${userId}`,
  tenantId: message.tenantId,
  chatId: message.chatId,
  seq: message.seq,
  at: message.createdAt,
  data: message,
});

/** Whom a message's `mention` envelopes go to: its mentioned users but the sender itself. */
export const mentionedBy = (message: Message): string[] =>
  (message.mentions ?? []).filter((userId) => userId !== message.senderId);

/** A chat event as subscribers and pollers receive it (message events also carry the message's seq). */
export const chatEventEnvelope = (event: ChatEventRecord): Envelope => {
  const base = {
    id: `${event.chatId}:event:${event.eventSeq}`,
    tenantId: event.tenantId,
    chatId: event.chatId,
    eventSeq: event.eventSeq,
    at: event.at,
  };
  if (event.type === 'message.updated' || event.type === 'message.deleted') {
    const message = event.data as Message;
    return { ...base, type: event.type, seq: message.seq, data: message };
  }
  if (event.type === 'receipt') {
    const receipt = event.data as { userId: string; seq: number };
    return { ...base, type: event.type, seq: receipt.seq, data: receipt };
  }
  return { ...base, type: event.type, data: event.data as Chat };
};

let counter = 0;
const replyId = (type: string): string => `${type}:${Date.now().toString(36)}:${(counter++).toString(36)}`;

export const ack = (
  data: Record<string, unknown>,
  requestId?: string,
  extra: Partial<Envelope> = {},
): Envelope =>
  ({
    type: 'ack',
    id: replyId('ack'),
    at: new Date().toISOString(),
    ...(requestId ? { requestId } : {}),
    ...extra,
    data,
  }) as Envelope;

export const errorEnvelope = (
  error: { code: string; message: string; details?: unknown },
  requestId?: string,
): Envelope => ({
  type: 'error',
  id: replyId('error'),
  at: new Date().toISOString(),
  ...(requestId ? { requestId } : {}),
  data: error,
});

export const pong = (requestId?: string): Envelope => ({
  type: 'pong',
  id: replyId('pong'),
  at: new Date().toISOString(),
  ...(requestId ? { requestId } : {}),
  data: {},
});
