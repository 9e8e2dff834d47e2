/**
 * Which holes the fan-out reads ahead of the stream (functions/stream/fanout-holes.ts): small and recent
 * ones only (from seq 1 after a chat's creation), a message pushed ahead is skipped once when its record
 * comes, a re-read asks for the narrowest range of the seqs still missing, and the pauses between re-reads
 * go on only while they find more, within a bound.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../functions/stream/fanout.ts';
import {
  HOLE_PROGRESS_PAUSE_MS,
  HOLE_REREAD_PAUSES_MS,
  HOLE_WAIT_MAX_MS,
  holePause,
  PushedSeqs,
  READ_AHEAD_MAX_GAP,
  READ_AHEAD_WITHIN_MS,
  unstored,
} from '../../functions/stream/fanout-holes.ts';

const CHAT = 'ch_holes';
const jobs = (...seqs: Array<number | undefined>): Job[] =>
  seqs.map((seq) => ({ seq, chatId: CHAT }) as unknown as Job);

describe('PushedSeqs', () => {
  it('reads the hole between the last seq pushed and a batch’s first message, and holes between its messages', () => {
    // Prepare
    const pushed = new PushedSeqs(() => 1_000);
    pushed.pushed(CHAT, 9);

    // Act
    const holes = pushed.holes(CHAT, jobs(11, undefined, 12, 15));

    // Assess
    expect(holes).toEqual([
      [10, 10],
      [13, 14],
    ]);
  });

  it('reads no hole wider than READ_AHEAD_MAX_GAP, none below the first message without a recent push, and none below a stale one', () => {
    // Prepare
    let now = 1_000;
    const pushed = new PushedSeqs(() => now);
    pushed.pushed(CHAT, 1);

    // Act
    const wide = pushed.holes(CHAT, jobs(2 + READ_AHEAD_MAX_GAP + 1));
    const unknownChat = pushed.holes('ch_other', jobs(7, 8));
    now += READ_AHEAD_WITHIN_MS + 1;
    const stale = pushed.holes(CHAT, jobs(3));
    const redelivered = new PushedSeqs(() => now);
    redelivered.pushed(CHAT, 5);
    const older = redelivered.holes(CHAT, jobs(3, 4, 6));

    // Assess
    expect([wide, unknownChat, stale, older]).toEqual([[], [], [], []]);
  });

  it('reads a new chat’s first messages from seq 1 after its creation record, in the same batch or a recent one', () => {
    // Prepare
    let now = 1_000;
    const pushed = new PushedSeqs(() => now);
    pushed.opened(CHAT);
    const remembered = new PushedSeqs(() => now);
    remembered.pushed(CHAT, 7);
    remembered.opened(CHAT);

    // Act
    const afterCreation = pushed.holes(CHAT, jobs(4, 5));
    const sameBatch = new PushedSeqs(() => now).holes('ch_new', [
      { chatId: 'ch_new', opens: true } as unknown as Job,
      ...jobs(3),
    ]);
    const keepsPushes = remembered.holes(CHAT, jobs(9));
    now += READ_AHEAD_WITHIN_MS + 1;
    const stale = pushed.holes(CHAT, jobs(4));

    // Assess
    expect([afterCreation, sameBatch, keepsPushes, stale]).toEqual([[[1, 3]], [[1, 2]], [[8, 8]], []]);
  });

  it('says a message was pushed ahead once, for its own chat, and counts it as pushed', () => {
    // Prepare
    const pushed = new PushedSeqs(() => 1_000);
    pushed.pushed(CHAT, 10, true);

    // Act
    const first = pushed.takeAhead(CHAT, 10);
    const again = pushed.takeAhead(CHAT, 10);
    const otherChat = pushed.takeAhead('ch_other', 10);
    const next = pushed.holes(CHAT, jobs(12));

    // Assess
    expect([first, again, otherChat]).toEqual([true, false, false]);
    expect(next).toEqual([[11, 11]]);
  });
});

describe('unstored', () => {
  test.prop([
    fc.integer({ min: 1, max: 1000 }),
    fc.integer({ min: 0, max: 60 }),
    fc.array(fc.boolean(), { maxLength: 61 }),
  ])(
    'names the narrowest range holding every seq of the hole not stored, and none when all are',
    (from, width, storedFlags) => {
      // Prepare
      const to = from + width;
      const stored = new Set<number>();
      for (let seq = from; seq <= to; seq++) if (storedFlags[seq - from]) stored.add(seq);
      const missing = Array.from({ length: width + 1 }, (_, i) => from + i).filter((seq) => !stored.has(seq));

      // Act
      const range = unstored(from, to, stored);

      // Assess
      expect(range).toEqual(missing.length === 0 ? undefined : [missing[0], missing.at(-1)]);
    },
  );
});

describe('holePause', () => {
  it('waits the fixed pauses whatever the reads found, then more only while a read finds more', () => {
    // Act
    const fixed = HOLE_REREAD_PAUSES_MS.map((_, index) => holePause(index + 1, false, 0));
    const reads = HOLE_REREAD_PAUSES_MS.length + 1;
    const progressing = holePause(reads, true, 80);
    const stalled = holePause(reads, false, 80);

    // Assess
    expect(fixed).toEqual([...HOLE_REREAD_PAUSES_MS]);
    expect([progressing, stalled]).toEqual([HOLE_PROGRESS_PAUSE_MS, undefined]);
  });

  test.prop([fc.array(fc.boolean(), { minLength: 1, maxLength: 40 })])(
    'never makes a hole wait past HOLE_WAIT_MAX_MS in all (the fixed pauses included), and stops at the first read that finds nothing new after them',
    (progress) => {
      // Prepare: the reads of one hole; progress[i] says whether read i + 1 found new seqs
      const fixedTotal = HOLE_REREAD_PAUSES_MS.reduce((sum, pause) => sum + pause, 0);
      let waited = 0;
      let reads = 0;

      // Act
      for (const progressed of progress) {
        reads++;
        const pause = holePause(reads, progressed, waited);
        if (pause === undefined) break;
        waited += pause;
      }

      // Assess
      expect(waited).toBeLessThanOrEqual(Math.max(HOLE_WAIT_MAX_MS, fixedTotal));
      const stall = progress.findIndex(
        (progressed, index) => index >= HOLE_REREAD_PAUSES_MS.length && !progressed,
      );
      if (stall !== -1) expect(reads).toBeLessThanOrEqual(stall + 1);
    },
  );
});
