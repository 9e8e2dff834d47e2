/**
 * The polling mode's delivery verdicts, pure: every message a counterpart sent reaches its chat's poller
 * exactly once, in seq order, with no seq skipped; and how long after its commit each one arrived.
 * Times are epoch milliseconds of this process's clock (the handlers stamp `createdAt` with the same one).
 */
import { type Stats, stats } from './stats.ts';

export interface SentMessage {
  readonly chatId: string;
  readonly clientMessageId: string;
  /** False for warm-up messages: checked, not timed. */
  readonly measured: boolean;
  readonly sentAt: number;
  /** When the sender had its answer, and what it said; `failure` when there was none or an error. */
  ackAt?: number;
  seq?: number;
  failure?: string;
}

/** A `message.created` envelope one poll returned. */
export interface ReceivedMessage {
  readonly chatId: string;
  readonly seq: number;
  /** Absent on messages the bench did not send (a void placeholder, a greeting). */
  readonly clientMessageId?: string;
  /** The message's `createdAt` (set when its seq was reserved, before the append's writes). */
  readonly createdAt?: number;
  /** When the poll's answer was read. */
  readonly at: number;
}

export interface DeliveryCheck {
  readonly sent: number;
  readonly measured: number;
  readonly failedSends: number;
  /** Sent messages received once or more. */
  readonly delivered: number;
  /** Acked messages never received. */
  readonly lost: number;
  /** Receptions of a seq the poller already had. */
  readonly duplicates: number;
  /** Receptions of a seq below one the poller already had (not a duplicate). */
  readonly outOfOrder: number;
  /** Seqs missing from 1..the highest received, per chat, summed. */
  readonly gaps: number;
  /** Receptions of a bench clientMessageId under another seq than its ack named, or in another chat. */
  readonly mismatched: number;
  /** Receptions of messages the bench did not send (voids, greetings): counted, not failures. */
  readonly others: number;
  /** Measured messages: createdAt → the poller had it. */
  readonly deliveryMs: Stats;
  /** Measured messages: send → the sender's answer. */
  readonly ackMs: Stats;
  readonly ok: boolean;
}

export const checkDeliveries = (
  sent: readonly SentMessage[],
  received: readonly ReceivedMessage[],
): DeliveryCheck => {
  const byId = new Map(sent.map((message) => [message.clientMessageId, message]));
  const seenSeqs = new Map<string, Set<number>>();
  const highest = new Map<string, number>();
  const deliveredIds = new Set<string>();
  const latencies: number[] = [];
  let duplicates = 0;
  let outOfOrder = 0;
  let mismatched = 0;
  let others = 0;
  for (const message of received) {
    const seqs = seenSeqs.get(message.chatId) ?? new Set<number>();
    seenSeqs.set(message.chatId, seqs);
    if (seqs.has(message.seq)) {
      duplicates++;
      continue;
    }
    seqs.add(message.seq);
    if (message.seq < (highest.get(message.chatId) ?? 0)) outOfOrder++;
    highest.set(message.chatId, Math.max(message.seq, highest.get(message.chatId) ?? 0));
    const own = message.clientMessageId === undefined ? undefined : byId.get(message.clientMessageId);
    if (!own) {
      others++;
      continue;
    }
    if (own.chatId !== message.chatId || (own.seq !== undefined && own.seq !== message.seq)) {
      mismatched++;
      continue;
    }
    deliveredIds.add(own.clientMessageId);
    if (own.measured && message.createdAt !== undefined) latencies.push(message.at - message.createdAt);
  }
  let gaps = 0;
  for (const [chatId, seqs] of seenSeqs) {
    for (let seq = 1; seq <= (highest.get(chatId) ?? 0); seq++) if (!seqs.has(seq)) gaps++;
  }
  const failedSends = sent.filter((message) => message.failure !== undefined).length;
  const lost = sent.filter(
    (message) => message.seq !== undefined && !deliveredIds.has(message.clientMessageId),
  ).length;
  const acks = sent.flatMap((message) =>
    message.measured && message.ackAt !== undefined && message.failure === undefined
      ? [message.ackAt - message.sentAt]
      : [],
  );
  return {
    sent: sent.length,
    measured: sent.filter((message) => message.measured).length,
    failedSends,
    delivered: deliveredIds.size,
    lost,
    duplicates,
    outOfOrder,
    gaps,
    mismatched,
    others,
    deliveryMs: stats(latencies),
    ackMs: stats(acks),
    ok:
      lost === 0 &&
      duplicates === 0 &&
      outOfOrder === 0 &&
      gaps === 0 &&
      mismatched === 0 &&
      failedSends === 0,
  };
};

/** The messages a poller still waits for: sent to its chat, acked, not received yet. */
export const awaited = (sent: readonly SentMessage[], received: readonly ReceivedMessage[]): number => {
  const have = new Set(received.map((message) => message.clientMessageId));
  return sent.filter((message) => message.seq !== undefined && !have.has(message.clientMessageId)).length;
};
