/**
 * The receiving sockets of the `broadcast` mode, on a thread of their own (test/bench/receivers.ts
 * starts it): they stand for browsers on other machines, so the local cloud's thread does not also
 * parse their frames. Opens the sockets it is given, sends one frame from each on request, and reports
 * what they receive in batches: deliveries with their times (ms since the epoch, comparable across
 * threads), other frames by type.
 */
import { parentPort } from 'node:worker_threads';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { BenchClient, type ClientSink, type Envelope, failureReason } from './client.ts';
import type { FromReceivers, ToReceivers } from './receivers.ts';

const port = parentPort;
if (!port) throw new Error('receivers-worker.ts runs as a worker thread');

const FLUSH_MS = 20;
const FLUSH_AT = 500;
let deliveries: { index: number; envelope: Envelope; at: number }[] = [];
let others = new Map<string, number>();
let timer: NodeJS.Timeout | undefined;

const send = (message: FromReceivers): void => port.postMessage(message);
const flush = (): void => {
  timer = undefined;
  if (deliveries.length > 0) send({ type: 'deliveries', items: deliveries });
  if (others.size > 0) send({ type: 'others', counts: [...others] });
  deliveries = [];
  others = new Map();
};
const later = (): void => {
  if (deliveries.length >= FLUSH_AT) flush();
  else timer ??= setTimeout(flush, FLUSH_MS);
};

const sink: ClientSink = {
  delivery: (client, envelope, at) => {
    // Only what the recorder reads: the message's id and createdAt, its chat and seq.
    const { clientMessageId, createdAt } = envelope.data;
    deliveries.push({
      index: client.index,
      envelope: {
        type: envelope.type,
        chatId: envelope.chatId,
        seq: envelope.seq,
        data: { clientMessageId, createdAt },
      },
      at: performance.timeOrigin + at,
    });
    later();
  },
  other: (type) => {
    others.set(type, (others.get(type) ?? 0) + 1);
    later();
  },
};

const clients: BenchClient[] = [];

port.on('message', (message: ToReceivers) => {
  void (async () => {
    if (message.type === 'open') {
      const failures: string[] = [];
      await mapLimit(message.sockets, message.concurrency, async ({ index, url, chatId }) => {
        try {
          clients.push(await BenchClient.open(url, index, chatId, sink));
        } catch (error) {
          failures.push(`client ${index}: ${String(error)}`);
        }
      });
      send({ type: 'opened', failures });
    } else if (message.type === 'request') {
      const failures = new Map<string, number>();
      await mapLimit(clients, message.concurrency, async (client) => {
        try {
          await client.request(message.frame, message.timeoutMs);
        } catch (error) {
          const reason = failureReason(error);
          failures.set(reason, (failures.get(reason) ?? 0) + 1);
        }
      });
      send({ type: 'requested', failures: [...failures] });
    } else {
      flush();
      await mapLimit(clients.splice(0), 32, (client) => client.close());
      flush();
      send({ type: 'closed' });
    }
  })();
});
