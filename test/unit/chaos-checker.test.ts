/** The chaos run's checker (test/chaos/checker.ts) fails every broken history it is given. */
import { describe, expect, it } from 'vitest';
import {
  type ChaosHistory,
  checkChaos,
  type ClientHistory,
  livenessDeadline,
  type Reception,
} from '../chaos/checker.ts';

const T0 = 1_000_000;
const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
const stored = [1, 2, 3].map((seq) => ({
  seq,
  clientMessageId: `m${seq}`,
  void: false,
  committedAt: T0 + seq * 1000,
}));
const live = (seq: number, delayMs = 200): Reception => ({
  chatId,
  seq,
  clientMessageId: `m${seq}`,
  at: T0 + seq * 1000 + delayMs,
  final: false,
});
const history = (received: Reception[], overrides: Partial<ChaosHistory> = {}): ChaosHistory => ({
  chats: [{ chatId, stored, acked: ['m1', 'm2', 'm3'], lastSeq: 3 }],
  clients: [{ clientId: 'r0', chatIds: [chatId], received }],
  terminal: [],
  sends: { attempted: 3, retried: 1, failed: 0 },
  ...overrides,
});

describe('checkChaos', () => {
  it('passes a history where every client got every message once, in order, in time', () => {
    const verdict = checkChaos(history([live(1), live(2), live(3)]));

    expect(verdict.ok).toBe(true);
    expect(verdict.counts).toMatchObject({ sent: 3, retried: 1, stored: 3, expected: 3, deliveredLive: 3 });
    expect(verdict.latencyMs.p50).toBe(200);
  });

  it('fails a lost message: never emitted, not even by the final catch-up', () => {
    const verdict = checkChaos(history([live(1), live(3)]));

    expect(verdict.ok).toBe(false);
    expect(verdict.counts.lost).toBe(1);
  });

  it('fails a message emitted twice', () => {
    const verdict = checkChaos(history([live(1), live(2), live(2), live(3)]));

    expect(verdict.ok).toBe(false);
    expect(verdict.counts.duplicated).toBe(1);
  });

  it('fails messages emitted out of seq order', () => {
    const verdict = checkChaos(history([live(2), live(1), live(3)]));

    expect(verdict.ok).toBe(false);
    expect(verdict.counts.outOfOrder).toBe(1);
  });

  it('fails a message that only the final catch-up brought (liveness), though nothing is lost', () => {
    const verdict = checkChaos(history([live(1), live(2), { ...live(3, 60_000), final: true }]));

    expect(verdict.ok).toBe(false);
    expect(verdict.counts).toMatchObject({ lost: 0, recoveredByCatchUp: 1 });
  });

  it('fails a message a connected client got more than 10 s after its commit', () => {
    const verdict = checkChaos(history([live(1), live(2, 10_001), live(3)]));

    expect(verdict.ok).toBe(false);
    expect(verdict.counts.late).toBe(1);
  });

  it('gives a client that was reconnecting at the commit the bound from when it was connected again', () => {
    // Prepare: disconnected from T0+1500 to T0+9000; message 2 (committed at T0+2000) got at T0+15000
    const connected: ClientHistory['connected'] = [
      [T0, T0 + 1_500],
      [T0 + 9_000, undefined],
    ];
    const received = [live(1), live(2, 13_000), live(3)];

    // Act
    const verdict = checkChaos(
      history([], { clients: [{ clientId: 'r0', chatIds: [chatId], received, connected }] }),
    );

    // Assess
    expect(verdict.ok).toBe(true);
    expect(verdict.counts.afterReconnect).toBe(2); // messages 2 and 3
    expect(livenessDeadline({ connected }, T0 + 2_000, 10_000)).toBe(T0 + 19_000);
  });

  it('runs the bound of a message held behind an earlier seq from that seq’s later commit', () => {
    // Prepare: seq 1 committed 8 s after seq 2; seq 2 is shown right after seq 1
    const chats = [
      {
        chatId,
        stored: [
          { ...stored[0]!, committedAt: T0 + 10_000 },
          { ...stored[1]!, committedAt: T0 + 2_000 },
        ],
        acked: ['m1', 'm2'],
      },
    ];
    const inTime = [live(1, 9_000), { ...live(2), at: T0 + 15_000 }]; // 13 s after its own commit
    const tooLate = [live(1, 9_000), { ...live(2), at: T0 + 20_001 }];

    // Act
    const held = checkChaos(
      history([], { chats, clients: [{ clientId: 'r0', chatIds: [chatId], received: inTime }] }),
    );
    const late = checkChaos(
      history([], { chats, clients: [{ clientId: 'r0', chatIds: [chatId], received: tooLate }] }),
    );

    // Assess
    expect(held.ok).toBe(true);
    expect(held.counts.heldForEarlierSeq).toBe(1);
    expect(late.ok).toBe(false);
    expect(late.counts.late).toBe(1);
  });

  it('fails a chat whose stored seqs have a hole or a clientMessageId stored twice', () => {
    const holed = checkChaos(
      history([live(1), live(3)], {
        chats: [{ chatId, stored: stored.filter((m) => m.seq !== 2), acked: ['m1', 'm3'], lastSeq: 3 }],
      }),
    );
    const twice = checkChaos(
      history([live(1), live(2), live(3)], {
        chats: [{ chatId, stored: [...stored, { ...stored[0]!, seq: 4 }], acked: ['m1', 'm2', 'm3'] }],
      }),
    );

    expect(holed.ok).toBe(false);
    expect(holed.counts.outOfOrder).toBe(1);
    expect(twice.ok).toBe(false);
    expect(twice.counts.duplicated).toBeGreaterThan(0);
  });

  it('fails an acknowledged send that is not stored', () => {
    const verdict = checkChaos(
      history([live(1), live(2), live(3)], {
        chats: [{ chatId, stored, acked: ['m1', 'm2', 'm3', 'm4'] }],
      }),
    );

    expect(verdict.ok).toBe(false);
    expect(verdict.counts.lost).toBe(1);
  });

  it('fails a failure-queue record that some client never got, and accepts one every client has', () => {
    const terminal = [{ consumer: 'fanout', message: { chatId, seq: 2 } }];

    const recovered = checkChaos(history([live(1), live(2), live(3)], { terminal }));
    const unrecovered = checkChaos(history([live(1), live(3)], { terminal }));

    expect(recovered.ok).toBe(true);
    expect(recovered.counts.terminal).toBe(1);
    expect(unrecovered.ok).toBe(false);
    expect(unrecovered.counts.terminalUnrecovered).toBe(1);
  });
});
