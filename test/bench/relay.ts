/**
 * The benchmark's baseline: a bare `ws` relay with no persistence, no auth and no stream. It speaks the
 * subset of the product's socket protocol the benchmark uses, so the very same client code drives both:
 *   {action:'subscribe', chatId, requestId}                 → {type:'ack', requestId}
 *   {action:'sendMessage', chatId, clientMessageId, text, requestId}
 *       → {type:'ack', requestId, chatId, seq, data:{message}} to the sender, then
 *         {type:'message.created', chatId, seq, data:{...message}} to every other socket in the room.
 * Like the product, the sending socket gets its message in the ack only, so both sides deliver the same
 * number of envelopes. The seq is an in-memory per-room counter.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { isRecord } from './util.ts';

export interface Relay {
  /** `ws://127.0.0.1:port` */
  readonly url: string;
  close(): Promise<void>;
}

interface Room {
  seq: number;
  readonly members: Set<WebSocket>;
}

const text = (data: RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.from(data as ArrayBuffer).toString('utf8');

export const startRelay = async (port = 0, host = '127.0.0.1'): Promise<Relay> => {
  const rooms = new Map<string, Room>();
  const roomsOf = new Map<WebSocket, Set<string>>();
  const server = new WebSocketServer({ port, host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  const reply = (socket: WebSocket, envelope: Record<string, unknown>): void => {
    socket.send(JSON.stringify({ id: randomUUID(), at: new Date().toISOString(), ...envelope }));
  };

  server.on('connection', (socket) => {
    roomsOf.set(socket, new Set());
    socket.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(text(data));
      } catch {
        reply(socket, { type: 'error', data: { code: 'bad_request', message: 'frames must be JSON' } });
        return;
      }
      if (!isRecord(frame)) return;
      const requestId = typeof frame.requestId === 'string' ? frame.requestId : undefined;
      const chatId = typeof frame.chatId === 'string' ? frame.chatId : undefined;
      if (!chatId) {
        reply(socket, {
          type: 'error',
          requestId,
          data: { code: 'bad_request', message: 'chatId required' },
        });
        return;
      }
      let room = rooms.get(chatId);
      if (!room) {
        room = { seq: 0, members: new Set() };
        rooms.set(chatId, room);
      }
      if (frame.action === 'subscribe') {
        room.members.add(socket);
        roomsOf.get(socket)?.add(chatId);
        reply(socket, { type: 'ack', requestId, chatId, data: {} });
        return;
      }
      if (frame.action === 'sendMessage' && typeof frame.clientMessageId === 'string') {
        const seq = ++room.seq;
        const message = {
          messageId: randomUUID(),
          chatId,
          seq,
          clientMessageId: frame.clientMessageId,
          text: typeof frame.text === 'string' ? frame.text : '',
          createdAt: new Date().toISOString(),
        };
        reply(socket, { type: 'ack', requestId, chatId, seq, data: { message, created: true } });
        // One serialization per message, one send per member: what a fan-out does at its cheapest.
        const envelope = JSON.stringify({
          type: 'message.created',
          id: message.messageId,
          chatId,
          seq,
          at: message.createdAt,
          data: message,
        });
        for (const member of room.members) if (member !== socket) member.send(envelope);
        return;
      }
      reply(socket, { type: 'error', requestId, data: { code: 'bad_request', message: 'unknown action' } });
    });
    socket.on('close', () => {
      for (const chatId of roomsOf.get(socket) ?? []) rooms.get(chatId)?.members.delete(socket);
      roomsOf.delete(socket);
    });
  });

  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `ws://${host}:${actual}`,
    close: async () => {
      for (const socket of server.clients) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
