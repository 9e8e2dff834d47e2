/**
 * Which holes the fan-out reads ahead of the stream (functions/stream/fanout-holes.ts): small and recent
 * ones only, and a message pushed ahead is skipped once when its record comes.
 */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../functions/stream/fanout.ts';
import { PushedSeqs, READ_AHEAD_MAX_GAP, READ_AHEAD_WITHIN_MS } from '../../functions/stream/fanout-holes.ts';

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
