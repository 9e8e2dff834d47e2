/**
 * Integrity verdicts. The `open`, `light` and `closed` modes check what the clients saw (recorder.ts); the
 * `hot` mode also reads every chat back through the HTTP API and checks what was stored: seq exactly
 * 1..n (n ≥ the chat's lastSeq, read first), one message per clientMessageId, every acked message stored under the
 * seq its ack named, and nothing the bench did not send.
 */
import { callJson, okJson } from './http.ts';
import type { RunResult } from './load.ts';
import { isRecord } from './util.ts';

/** The load runs with a lost or duplicated delivery, a seq gap or conflict, or a failed send. */
export const loadIntegrityFailures = (results: readonly RunResult[]): RunResult[] =>
  results.filter(
    (result) =>
      result.deliveries.lost > 0 ||
      result.deliveries.duplicates > 0 ||
      result.deliveries.echoes > 0 ||
      result.seq.gaps > 0 ||
      result.seq.conflicts > 0 ||
      result.messages.failed > 0,
  );

export interface StoredMessage {
  readonly seq: number;
  readonly clientMessageId: string;
  /** A placeholder that fills a seq whose message will never be written (`system.kind` `void`). */
  readonly void: boolean;
}

const PAGE = 100;

/**
 * A chat's lastSeq, then every message of it in ascending seq (GET …/messages?after=, until an empty page).
 * lastSeq is read first: every seq up to it must then be stored, whatever commits during the read.
 */
export const readBack = async (
  http: string,
  chatId: string,
  token: string | undefined,
): Promise<{ messages: StoredMessage[]; lastSeq: number | undefined }> => {
  const chat = await okJson('GET', `${http}/v1/chats/${chatId}`, { token });
  const messages: StoredMessage[] = [];
  for (let after = 0; ;) {
    const { status, body } = await callJson(
      'GET',
      `${http}/v1/chats/${chatId}/messages?after=${after}&limit=${PAGE}`,
      { token, timeoutMs: 30_000 },
    );
    if (status !== 200 || !isRecord(body) || !Array.isArray(body.items)) {
      throw new Error(`GET messages of ${chatId} after ${after} → ${status} ${JSON.stringify(body)}`);
    }
    const page = body.items.filter(isRecord).map((item) => ({
      seq: Number(item.seq),
      clientMessageId: String(item.clientMessageId),
      void: isRecord(item.system) && item.system.kind === 'void',
    }));
    if (page.length === 0) break;
    messages.push(...page);
    after = page.at(-1)?.seq ?? after;
  }
  return { messages, lastSeq: typeof chat.lastSeq === 'number' ? chat.lastSeq : undefined };
};

export interface ChatIntegrity {
  readonly chatId: string;
  /** Messages stored in the chat (warm-up included). */
  readonly stored: number;
  readonly maxSeq: number;
  /** The chat's lastSeq, read before its messages. */
  readonly lastSeq: number | undefined;
  /** Seqs missing from 1..max(highest stored seq, lastSeq). */
  readonly gaps: number;
  /** Stored messages whose seq another stored message has too. */
  readonly repeatedSeqs: number;
  /** Extra stored copies of a clientMessageId (0: one message per clientMessageId). */
  readonly duplicateClientMessageIds: number;
  /** Acked messages not stored, or stored under another seq than their ack named. */
  readonly ackedNotStored: number;
  /** Stored messages whose clientMessageId the bench did not send to this chat (voids aside). */
  readonly unknown: number;
  /** Seqs filled with a void instead of a message (not a failure: the seq stays gap-free). */
  readonly voids: number;
  readonly ok: boolean;
}

/**
 * Checks one chat's stored messages against what was sent to it: `sent` maps each clientMessageId to the
 * seq its ack named (undefined: never acked, e.g. a client time-out).
 */
export const checkChat = (
  chatId: string,
  stored: { readonly messages: readonly StoredMessage[]; readonly lastSeq: number | undefined },
  sent: ReadonlyMap<string, number | undefined>,
): ChatIntegrity => {
  const seqs = new Set<number>();
  const copies = new Map<string, number[]>();
  let repeatedSeqs = 0;
  let voids = 0;
  for (const message of stored.messages) {
    if (seqs.has(message.seq)) repeatedSeqs++;
    seqs.add(message.seq);
    if (message.void) {
      voids++;
      continue;
    }
    copies.set(message.clientMessageId, [...(copies.get(message.clientMessageId) ?? []), message.seq]);
  }
  const maxSeq = Math.max(0, ...seqs);
  let gaps = 0;
  for (let seq = 1; seq <= Math.max(maxSeq, stored.lastSeq ?? 0); seq++) if (!seqs.has(seq)) gaps++;
  const duplicateClientMessageIds = [...copies.values()].reduce((sum, found) => sum + found.length - 1, 0);
  let ackedNotStored = 0;
  for (const [clientMessageId, seq] of sent) {
    if (seq !== undefined && !(copies.get(clientMessageId) ?? []).includes(seq)) ackedNotStored++;
  }
  const unknown = [...copies.keys()].filter((clientMessageId) => !sent.has(clientMessageId)).length;
  return {
    chatId,
    stored: stored.messages.length,
    maxSeq,
    lastSeq: stored.lastSeq,
    gaps,
    repeatedSeqs,
    duplicateClientMessageIds,
    ackedNotStored,
    unknown,
    voids,
    ok:
      gaps === 0 &&
      repeatedSeqs === 0 &&
      duplicateClientMessageIds === 0 &&
      ackedNotStored === 0 &&
      unknown === 0,
  };
};
