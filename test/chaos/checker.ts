/**
 * The chaos run's verdict (`npm run chaos`), from what happened: what each chat stored, what each sender
 * got acknowledged, what each client's SDK emitted (live during the run, or only at the final catch-up)
 * and what the stream consumers' failure queue holds. Pure: the unit test feeds it broken histories.
 */

/** One message as the chat stores it (GET …/messages). */
export interface StoredMessage {
  readonly seq: number;
  readonly clientMessageId: string;
  /** A placeholder filling a seq whose message will never be written. */
  readonly void: boolean;
  /**
   * When the message was committed (ms since the epoch), for liveness: its sender's acknowledgement,
   * which follows the commit within milliseconds (`createdAt` is taken before the write, whose retries
   * after throttling can take seconds).
   */
  readonly committedAt: number;
  /** The message's createdAt (ms since the epoch), for the report. */
  readonly createdAt?: number;
}

export interface ChatHistory {
  readonly chatId: string;
  readonly stored: readonly StoredMessage[];
  /** clientMessageIds whose send was acknowledged (each once, however often it was retried). */
  readonly acked: readonly string[];
  /** The chat's lastSeq, read before its messages: every seq up to it must be stored. */
  readonly lastSeq?: number;
}

/** A message as one client's SDK emitted it. */
export interface Reception {
  readonly chatId: string;
  readonly seq: number;
  readonly clientMessageId: string;
  /** When it was emitted (ms since the epoch). */
  readonly at: number;
  /** Only the final catch-up, after the run, brought it. */
  readonly final: boolean;
}

export interface ClientHistory {
  readonly clientId: string;
  /** The chats it subscribed to before the first send. */
  readonly chatIds: readonly string[];
  /** In the order the SDK emitted them. */
  readonly received: readonly Reception[];
  /**
   * When the client was connected (SDK status `live` or `polling`): [from, to) in ms since the epoch,
   * `to` undefined while still connected. Absent: connected throughout.
   */
  readonly connected?: readonly (readonly [number, number | undefined])[];
}

/**
 * The liveness deadline of a message for a client: the bound after its commit when the client was
 * connected then, else after the client was next connected (a reconnecting client catches up first).
 * Undefined: the client was never connected again.
 */
export const livenessDeadline = (
  client: Pick<ClientHistory, 'connected'>,
  committedAt: number,
  livenessMs: number,
): number | undefined => {
  if (!client.connected) return committedAt + livenessMs;
  for (const [from, to] of client.connected) {
    if (from <= committedAt && (to === undefined || committedAt < to)) return committedAt + livenessMs;
    if (from > committedAt) return from + livenessMs;
  }
  return undefined;
};

/** A stream record the consumers gave up on (the failure queue). */
export interface TerminalRecord {
  readonly consumer: string;
  /** Set for a message's record: it must still reach every client by catch-up. */
  readonly message?: { readonly chatId: string; readonly seq: number };
}

export interface ChaosHistory {
  readonly chats: readonly ChatHistory[];
  readonly clients: readonly ClientHistory[];
  readonly terminal: readonly TerminalRecord[];
  readonly sends: { readonly attempted: number; readonly retried: number; readonly failed: number };
  /** A connected client has each message within this long of its commit (default 10 s). */
  readonly livenessMs?: number;
}

export interface ChaosVerdict {
  readonly ok: boolean;
  readonly counts: {
    /** Messages the senders sent (each clientMessageId once). */
    sent: number;
    /** Send requests repeated with the same clientMessageId. */
    retried: number;
    /** Sends never acknowledged after every retry. */
    sendFailed: number;
    /** Messages stored (voids aside). */
    stored: number;
    /** Deliveries expected: every stored message to every client of its chat. */
    expected: number;
    /** Emitted during the run within the liveness bound. */
    deliveredLive: number;
    /** Of those, committed while the client was reconnecting: in time after it was connected again. */
    afterReconnect: number;
    /**
     * Deliveries whose bound ran from an earlier seq's later commit (a message is shown only after the
     * ones before it: docs/protocol.md, "Delivery").
     */
    heldForEarlierSeq: number;
    /** Emitted during the run, later than the liveness bound. */
    late: number;
    /** Emitted only by the final catch-up. */
    recoveredByCatchUp: number;
    /** Expected but never emitted, even after the final catch-up; or acked but not stored. */
    lost: number;
    /** Emitted more than once; or stored more than once (per clientMessageId or seq). */
    duplicated: number;
    /** Emitted below a seq the client had already emitted; or a hole in a chat's seqs. */
    outOfOrder: number;
    /** Failure-queue records (what the plan made terminal). */
    terminal: number;
    /** Terminal message records some client still lacks after its final catch-up. */
    terminalUnrecovered: number;
  };
  readonly latencyMs: { p50: number; p99: number; max: number };
  /** The first problems found, for the report. */
  readonly problems: readonly string[];
}

const MAX_PROBLEMS = 20;

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

export const checkChaos = (history: ChaosHistory): ChaosVerdict => {
  const livenessMs = history.livenessMs ?? 10_000;
  const problems: string[] = [];
  const problem = (text: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(text);
  };
  const counts = {
    sent: 0,
    retried: history.sends.retried,
    sendFailed: history.sends.failed,
    stored: 0,
    expected: 0,
    deliveredLive: 0,
    afterReconnect: 0,
    heldForEarlierSeq: 0,
    late: 0,
    recoveredByCatchUp: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    terminal: history.terminal.length,
    terminalUnrecovered: 0,
  };
  const latencies: number[] = [];

  // Stored: seq exactly 1..n, one message per clientMessageId, every acked send stored.
  const byChat = new Map<string, Map<number, StoredMessage>>();
  /** When each message became deliverable in seq order: its commit, or a later one of an earlier seq. */
  const deliverableAt = new Map<string, number>();
  for (const chat of history.chats) {
    counts.sent += chat.acked.length;
    const seqs = new Map<number, StoredMessage>();
    const ids = new Map<string, number>();
    for (const message of chat.stored) {
      if (seqs.has(message.seq)) {
        counts.duplicated += 1;
        problem(`${chat.chatId}: seq ${message.seq} stored twice`);
      }
      seqs.set(message.seq, message);
      if (message.void) continue;
      counts.stored += 1;
      const seen = ids.get(message.clientMessageId);
      if (seen !== undefined) {
        counts.duplicated += 1;
        problem(`${chat.chatId}: ${message.clientMessageId} stored twice (seq ${seen} and ${message.seq})`);
      }
      ids.set(message.clientMessageId, message.seq);
    }
    const top = Math.max(chat.lastSeq ?? 0, ...seqs.keys(), 0);
    for (let seq = 1; seq <= top; seq++)
      if (!seqs.has(seq)) {
        counts.outOfOrder += 1;
        problem(`${chat.chatId}: seq ${seq} missing from 1..${top}`);
      }
    for (const id of chat.acked)
      if (!ids.has(id)) {
        counts.lost += 1;
        problem(`${chat.chatId}: ${id} was acknowledged but is not stored`);
      }
    byChat.set(chat.chatId, seqs);
    // In-order delivery: a message can be shown once every earlier seq is committed too.
    let latest = 0;
    for (const seq of [...seqs.keys()].sort((a, b) => a - b)) {
      const message = seqs.get(seq) as StoredMessage;
      latest = Math.max(latest, message.committedAt);
      deliverableAt.set(`${chat.chatId}#${seq}`, latest);
    }
  }

  // Each client: every stored message of its chats exactly once, in seq order, live within the bound.
  const finals = new Map<string, Set<number>>();
  for (const client of history.clients) {
    for (const chatId of client.chatIds) {
      const stored = byChat.get(chatId) ?? new Map<number, StoredMessage>();
      const received = client.received.filter((reception) => reception.chatId === chatId);
      const first = new Map<number, Reception>();
      let highest = 0;
      for (const reception of received) {
        const message = stored.get(reception.seq);
        if (!message || message.void || message.clientMessageId !== reception.clientMessageId) {
          counts.duplicated += 1;
          problem(
            `${client.clientId} got ${chatId}#${reception.seq} (${reception.clientMessageId}), not stored so`,
          );
          continue;
        }
        if (first.has(reception.seq)) {
          counts.duplicated += 1;
          problem(`${client.clientId} got ${chatId}#${reception.seq} twice`);
          continue;
        }
        if (reception.seq < highest) {
          counts.outOfOrder += 1;
          problem(`${client.clientId} got ${chatId}#${reception.seq} after #${highest}`);
        }
        highest = Math.max(highest, reception.seq);
        first.set(reception.seq, reception);
      }
      for (const message of stored.values()) {
        if (message.void) continue;
        counts.expected += 1;
        const reception = first.get(message.seq);
        if (!reception) {
          counts.lost += 1;
          problem(`${client.clientId} never got ${chatId}#${message.seq}`);
          continue;
        }
        if (reception.final) {
          counts.recoveredByCatchUp += 1;
          problem(`${client.clientId} got ${chatId}#${message.seq} only from the final catch-up`);
          continue;
        }
        const from = deliverableAt.get(`${chatId}#${message.seq}`) ?? message.committedAt;
        if (from > message.committedAt) counts.heldForEarlierSeq += 1;
        const latency = Math.max(0, reception.at - from);
        const deadline = livenessDeadline(client, from, livenessMs);
        const connectedAtCommit = deadline === from + livenessMs;
        if (connectedAtCommit) latencies.push(latency);
        if (deadline === undefined || reception.at > deadline) {
          counts.late += 1;
          problem(
            `${client.clientId} got ${chatId}#${message.seq} ${latency} ms after its commit` +
              (from > message.committedAt ? ' (in seq order)' : '') +
              (connectedAtCommit ? '' : ' (reconnecting at the commit)') +
              (message.createdAt ? ` (${reception.at - message.createdAt} ms after createdAt)` : ''),
          );
        } else {
          counts.deliveredLive += 1;
          if (!connectedAtCommit) counts.afterReconnect += 1;
        }
      }
      finals.set(`${client.clientId}|${chatId}`, new Set(first.keys()));
    }
  }

  // The failure queue: each message record in it must have reached every client of its chat anyway.
  for (const record of history.terminal) {
    if (!record.message) continue;
    const { chatId, seq } = record.message;
    for (const client of history.clients) {
      if (!client.chatIds.includes(chatId)) continue;
      if (!finals.get(`${client.clientId}|${chatId}`)?.has(seq)) {
        counts.terminalUnrecovered += 1;
        problem(
          `terminal record ${chatId}#${seq} (${record.consumer}) is not recovered by ${client.clientId}`,
        );
      }
    }
  }

  latencies.sort((a, b) => a - b);
  const ok =
    counts.lost === 0 &&
    counts.duplicated === 0 &&
    counts.outOfOrder === 0 &&
    counts.late === 0 &&
    counts.recoveredByCatchUp === 0 &&
    counts.terminalUnrecovered === 0 &&
    counts.sendFailed === 0;
  return {
    ok,
    counts,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
    problems,
  };
};

/** The report `npm run chaos` prints. */
export const formatVerdict = (
  verdict: ChaosVerdict,
  faults: Record<string, number>,
  elapsedMs: number,
): string => {
  const c = verdict.counts;
  const lines = [
    `sent ${c.sent}   retried ${c.retried}   send failed ${c.sendFailed}   stored ${c.stored}`,
    `deliveries expected ${c.expected}: delivered live ${c.deliveredLive} (${c.afterReconnect} committed while reconnecting, ${c.heldForEarlierSeq} held for an earlier seq)   late ${c.late}   recovered by catch-up ${c.recoveredByCatchUp}`,
    `lost ${c.lost}   duplicated ${c.duplicated}   out of order ${c.outOfOrder}`,
    `failure queue ${c.terminal} record(s), ${c.terminalUnrecovered} not recovered by catch-up`,
    `latency commit → connected client: p50 ${verdict.latencyMs.p50} ms   p99 ${verdict.latencyMs.p99} ms   max ${verdict.latencyMs.max} ms`,
    `faults fired: ${
      Object.entries(faults)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, count]) => `${name} ${count}`)
        .join(', ') || 'none'
    }`,
    `elapsed ${(elapsedMs / 1000).toFixed(1)} s`,
    ...verdict.problems.map((text) => `  ! ${text}`),
    verdict.ok ? 'PASS' : 'FAIL',
  ];
  return lines.join('\n');
};
