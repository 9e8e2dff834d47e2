/**
 * Holes below a batch's messages, filled ahead of the stream. Two sends to one chat a few milliseconds
 * apart each reserve a seq, and the later one can be stored, streamed and pushed first: its batch then
 * holds seq n + 1 while seq n is stored a moment later and comes in the next batch. The fan-out
 * remembers, per chat, the highest message seq it pushed and when; a message whose seq lies a small,
 * recent gap above it (at most READ_AHEAD_MAX_GAP seqs, within READ_AHEAD_WITHIN_MS of that push) has
 * the missing seqs read from the table first (one consistent Query), and those found are pushed before
 * it. When their own records arrive, they are not pushed again. A chat's creation record (same
 * partition, so earlier in the same shard) counts as a push of seq 0: a burst of first messages is
 * read from seq 1.
 *
 * A seq not stored yet when read (its sender is between reserving it and writing its message: two
 * writes) is read again after short pauses (HOLE_REREAD_PAUSES_MS), and after more while each read finds
 * more of the hole (holePause); one still missing then stays a hole, which clients fill (hold until the
 * hole is filled).
 *
 * The memory is the container's: one shard's batches are handled one at a time (parallelizationFactor
 * 1), by a warm container as long as it lives. A new container knows nothing and pushes as before; a
 * message pushed ahead whose record then reaches another container, or one that another container
 * pushed since this one's last push, is pushed twice, which clients drop by envelope id
 * (docs/protocol.md, "Delivery").
 */
import type { Job } from './fanout.ts';

/**
 * The widest hole read: a burst of concurrent sends (50 participants posting at once leave holes of a
 * dozen seqs), read in one Query of at most this many small items.
 */
export const READ_AHEAD_MAX_GAP = 50;
/** How recent the last push must be for a hole above it to be read. */
export const READ_AHEAD_WITHIN_MS = 10_000;
/**
 * The pauses before a hole's seqs not stored yet are read again: a sender writes its message two writes
 * after reserving the seq (milliseconds on DynamoDB), so a batch waits their sum for them, only when a
 * hole is partly unwritten, and longer only while its seqs keep being written (below).
 */
export const HOLE_REREAD_PAUSES_MS: readonly number[] = [20, 60];
/**
 * Past those pauses, a hole is read again after this pause while its last read found more of its seqs:
 * their senders are still writing (a burst of concurrent sends on a slow table takes hundreds of ms to
 * store them all).
 */
export const HOLE_PROGRESS_PAUSE_MS = 100;
/**
 * Past the fixed pauses, a chat's holes of one batch are read again only while their pauses (the fixed
 * ones included) add up to less than this: the chat's pushes wait at most about this long for them.
 */
export const HOLE_WAIT_MAX_MS = 500;
/** Chats remembered (the least recently pushed are forgotten first). */
const MAX_CHATS = 10_000;
/** Seqs pushed ahead and remembered per chat until their records come. */
const MAX_AHEAD_PER_CHAT = 64;

export class PushedSeqs {
  private readonly last = new Map<string, { readonly seq: number; readonly at: number }>();
  private readonly ahead = new Map<string, Set<number>>();

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * The seq ranges (inclusive) to read before pushing `jobs` (a chat's jobs of one batch, in push
   * order): the holes of at most READ_AHEAD_MAX_GAP seqs below its messages, above the last seq pushed
   * within READ_AHEAD_WITHIN_MS, or 0 for a chat whose creation record came in the batch or within that
   * time (without either, above the batch's first message).
   */
  holes(chatId: string, jobs: readonly Job[]): Array<readonly [number, number]> {
    const last = this.last.get(chatId);
    let expected = last && this.clock() - last.at <= READ_AHEAD_WITHIN_MS ? last.seq + 1 : undefined;
    const ranges: Array<readonly [number, number]> = [];
    for (const { seq, opens } of jobs) {
      if (opens) expected ??= 1;
      if (seq === undefined) continue;
      if (expected !== undefined && seq > expected && seq - expected <= READ_AHEAD_MAX_GAP)
        ranges.push([expected, seq - 1]);
      if (expected === undefined || seq >= expected) expected = seq + 1;
    }
    return ranges;
  }

  /** A chat's creation record was handled: no message of the chat is pushed yet (unless some are remembered). */
  opened(chatId: string): void {
    if (this.last.has(chatId)) return;
    this.last.set(chatId, { seq: 0, at: this.clock() });
    if (this.last.size > MAX_CHATS) this.forget(this.last.keys().next().value as string);
  }

  /** A message was pushed: from its record, or `ahead` of it. */
  pushed(chatId: string, seq: number, ahead = false): void {
    const last = this.last.get(chatId);
    this.last.delete(chatId);
    this.last.set(chatId, { seq: Math.max(seq, last?.seq ?? seq), at: this.clock() });
    if (this.last.size > MAX_CHATS) this.forget(this.last.keys().next().value as string);
    if (!ahead) return;
    const seqs = this.ahead.get(chatId) ?? new Set<number>();
    seqs.add(seq);
    if (seqs.size > MAX_AHEAD_PER_CHAT) seqs.delete(seqs.values().next().value as number);
    this.ahead.set(chatId, seqs);
  }

  /** Whether the message of a record was pushed ahead of it: true once, then forgotten. */
  takeAhead(chatId: string, seq: number): boolean {
    const seqs = this.ahead.get(chatId);
    if (!seqs?.delete(seq)) return false;
    if (seqs.size === 0) this.ahead.delete(chatId);
    return true;
  }

  private forget(chatId: string): void {
    this.last.delete(chatId);
    this.ahead.delete(chatId);
  }
}

/** The narrowest range (inclusive) holding the seqs of `from..to` that `stored` lacks; none: every one is there. */
export const unstored = (
  from: number,
  to: number,
  stored: ReadonlySet<number>,
): readonly [number, number] | undefined => {
  let low = from;
  let high = to;
  while (low <= high && stored.has(low)) low++;
  while (high >= low && stored.has(high)) high--;
  return low <= high ? [low, high] : undefined;
};

/**
 * The pause before a hole's missing seqs are read again, or undefined to stop reading: after read number
 * `reads` of the hole, which found new seqs if `progressed`, with the chat's holes of this batch waited
 * for `waitedMs` so far. First the fixed pauses; then HOLE_PROGRESS_PAUSE_MS while each read finds more,
 * until HOLE_WAIT_MAX_MS in all. A read that finds nothing new ends it: a seq whose sender died (filled by
 * a void later, docs/data-model.md) costs the fixed pauses only.
 */
export const holePause = (reads: number, progressed: boolean, waitedMs: number): number | undefined => {
  const fixed = HOLE_REREAD_PAUSES_MS[reads - 1];
  if (fixed !== undefined) return fixed;
  if (!progressed) return undefined;
  const pause = Math.min(HOLE_PROGRESS_PAUSE_MS, HOLE_WAIT_MAX_MS - waitedMs);
  return pause > 0 ? pause : undefined;
};
