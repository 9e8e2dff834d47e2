/**
 * What one run of an `open`, `light`, `closed` or `broadcast` load records: every message sent, its ack and its
 * deliveries, with the integrity counters (lost, duplicate, unmatched, out-of-order, seq gaps and
 * conflicts, createdAt going backwards).
 */
import { type BenchClient, type ClientSink, type Envelope, failureReason } from './client.ts';
import { isRecord, now, sleep } from './util.ts';

export interface SentMessage {
  readonly clientMessageId: string;
  readonly chatId: string;
  readonly sender: number;
  readonly measured: boolean;
  readonly expected: number;
  readonly receivers: Set<number>;
  sentAt: number;
  ackAt?: number;
  seq?: number;
  failure?: string;
  /** When its first and its last receiver got it. */
  firstDeliveryAt?: number;
  lastDeliveryAt?: number;
}

export class Recorder implements ClientSink {
  measuring = false;
  readonly sent = new Map<string, SentMessage>();
  readonly latencies: number[] = [];
  readonly ackLatencies: number[] = [];
  readonly others = new Map<string, number>();
  /** Deliveries still expected (of messages not failed). */
  outstanding = 0;
  received = 0;
  duplicates = 0;
  unknown = 0;
  outOfOrder = 0;
  /**
   * `message.created` pushed back to the socket that sent the message: the server does not (the ack
   * carries the message, docs/protocol.md "Delivery"), so anything here is a protocol breach, counted
   * apart from the deliveries.
   */
  echoes = 0;
  firstSendAt = Number.POSITIVE_INFINITY;
  lastSendAt = 0;
  lastAckAt = 0;
  lastDeliveryAt = 0;
  /** The last delivery of any message, warm-up included. */
  lastReceivedAt = 0;
  private readonly lastSeqSeen = new Map<string, number>();
  /** Per chat: seq → clientMessageId, from acks and deliveries. */
  readonly seqs = new Map<string, Map<number, string>>();
  /** Per chat: seq → the message's createdAt, from deliveries. */
  readonly createdAt = new Map<string, Map<number, string>>();
  seqConflicts = 0;

  /** `receiversOf(chatId)`: the sockets that should get a message sent into the chat, its sender not included. */
  constructor(private readonly receiversOf: (chatId: string) => number) {}

  other(type: string): void {
    this.others.set(type, (this.others.get(type) ?? 0) + 1);
  }

  send(client: BenchClient, clientMessageId: string): SentMessage {
    const message: SentMessage = {
      clientMessageId,
      chatId: client.chatId,
      sender: client.index,
      measured: this.measuring,
      expected: this.receiversOf(client.chatId),
      receivers: new Set(),
      sentAt: now(),
    };
    this.sent.set(clientMessageId, message);
    this.outstanding += message.expected;
    return message;
  }

  sentNow(message: SentMessage): void {
    message.sentAt = now();
    if (!message.measured) return;
    this.firstSendAt = Math.min(this.firstSendAt, message.sentAt);
    this.lastSendAt = Math.max(this.lastSendAt, message.sentAt);
  }

  ack(message: SentMessage, envelope: Envelope): void {
    message.ackAt = now();
    const stored = isRecord(envelope.data.message) ? envelope.data.message : undefined;
    const seq = typeof stored?.seq === 'number' ? stored.seq : envelope.seq;
    if (typeof seq === 'number') {
      message.seq = seq;
      this.noteSeq(message.chatId, seq, message.clientMessageId);
    }
    if (!message.measured) return;
    this.ackLatencies.push(message.ackAt - message.sentAt);
    this.lastAckAt = Math.max(this.lastAckAt, message.ackAt);
  }

  /** Sends one message from `client` into its chat over the socket, and records its send, ack or failure. */
  async sendMessage(
    client: BenchClient,
    clientMessageId: string,
    text: string,
    timeoutMs: number,
  ): Promise<void> {
    const message = this.send(client, clientMessageId);
    try {
      const envelope = await client.request(
        { action: 'sendMessage', chatId: client.chatId, clientMessageId, text },
        timeoutMs,
        () => this.sentNow(message),
      );
      this.ack(message, envelope);
    } catch (error) {
      this.fail(message, failureReason(error));
    }
  }

  fail(message: SentMessage, reason: string): void {
    message.failure = reason;
    this.outstanding -= message.expected - message.receivers.size;
    this.other(`send-failed:${reason}`);
  }

  delivery(client: { readonly index: number }, envelope: Envelope, at: number): void {
    const clientMessageId = envelope.data.clientMessageId;
    const message = typeof clientMessageId === 'string' ? this.sent.get(clientMessageId) : undefined;
    if (!message || envelope.chatId !== message.chatId) {
      this.unknown++;
      return;
    }
    this.lastReceivedAt = Math.max(this.lastReceivedAt, at);
    if (typeof envelope.seq === 'number') {
      this.noteSeq(message.chatId, envelope.seq, message.clientMessageId);
      if (typeof envelope.data.createdAt === 'string') {
        const times = this.createdAt.get(message.chatId) ?? new Map<number, string>();
        times.set(envelope.seq, envelope.data.createdAt);
        this.createdAt.set(message.chatId, times);
      }
      const orderKey = `${client.index}/${message.chatId}`;
      const last = this.lastSeqSeen.get(orderKey) ?? 0;
      if (envelope.seq < last) this.outOfOrder++;
      else this.lastSeqSeen.set(orderKey, envelope.seq);
    }
    if (client.index === message.sender) {
      this.echoes++;
      return;
    }
    if (message.receivers.has(client.index)) {
      this.duplicates++;
      return;
    }
    message.receivers.add(client.index);
    message.firstDeliveryAt ??= at;
    message.lastDeliveryAt = Math.max(message.lastDeliveryAt ?? at, at);
    this.received++;
    if (!message.failure) this.outstanding--;
    if (!message.measured) return;
    this.latencies.push(at - message.sentAt);
    this.lastDeliveryAt = Math.max(this.lastDeliveryAt, at);
  }

  private noteSeq(chatId: string, seq: number, clientMessageId: string): void {
    let bySeq = this.seqs.get(chatId);
    if (!bySeq) {
      bySeq = new Map();
      this.seqs.set(chatId, bySeq);
    }
    const known = bySeq.get(seq);
    if (known === undefined) bySeq.set(seq, clientMessageId);
    else if (known !== clientMessageId) this.seqConflicts++;
  }

  /** Pairs of consecutive seqs in a chat whose createdAt goes backwards. */
  createdAtInversions(): number {
    let inversions = 0;
    for (const times of this.createdAt.values()) {
      const ordered = [...times].sort(([a], [b]) => a - b);
      for (let index = 1; index < ordered.length; index++) {
        const [previousSeq, previous] = ordered[index - 1] ?? [0, ''];
        const [seq, current] = ordered[index] ?? [0, ''];
        if (seq === previousSeq + 1 && current < previous) inversions++;
      }
    }
    return inversions;
  }

  /** Deliveries expected and not received, of the messages whose send did not fail (warm-up included). */
  lost(): number {
    let lost = 0;
    for (const message of this.sent.values()) {
      if (!message.failure) lost += message.expected - message.receivers.size;
    }
    return lost;
  }

  async drained(deadline: number): Promise<boolean> {
    while (this.outstanding > 0 && now() < deadline) await sleep(5);
    return this.outstanding === 0;
  }

  /**
   * Waits until every expected delivery arrived, or none arrived for `quietMs` (from the call on): for a
   * backlog that takes longer to deliver than any fixed deadline, as long as it makes progress.
   */
  async quiet(quietMs: number): Promise<boolean> {
    const from = now();
    while (this.outstanding > 0 && now() - Math.max(from, this.lastReceivedAt) < quietMs) await sleep(5);
    return this.outstanding === 0;
  }
}
