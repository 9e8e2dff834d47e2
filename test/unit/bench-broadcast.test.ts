/**
 * The bench's broadcast mode: its figures and integrity verdict from what the Recorder saw (a clock under
 * the test's control, fake sockets), its deliveries/s goal, and its options.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BroadcastFigures,
  broadcastFailures,
  broadcastFigures,
  broadcastGoal,
} from '../bench/broadcast-report.ts';
import type { BenchClient, Envelope } from '../bench/client.ts';
import { OptionError, parseOptions } from '../bench/options.ts';
import { Recorder, type SentMessage } from '../bench/recorder.ts';

const CHAT = 'ch_broadcastbroadcast0';
let clock = 0;
const sender = { index: 0, chatId: CHAT } as BenchClient;
const socket = (index: number) => ({ index, chatId: CHAT }) as BenchClient;
const created = (clientMessageId: string, seq: number): Envelope => ({
  type: 'message.created',
  chatId: CHAT,
  seq,
  data: { clientMessageId },
});

/** A measured message from the sender at `at`, acked with `seq` 10 ms later. */
const sendAt = (recorder: Recorder, clientMessageId: string, seq: number, at: number): SentMessage => {
  clock = at;
  const message = recorder.send(sender, clientMessageId);
  recorder.sentNow(message);
  clock = at + 10;
  recorder.ack(message, { type: 'ack', data: { message: { seq } } });
  return message;
};

beforeEach(() => {
  clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('broadcast figures', () => {
  it('reports deliveries/s over the window and each message’s latency to its last socket', () => {
    // Prepare: two subscribers; m1 sent at 0 reaches them at 100 and 300, m2 sent at 1,000 at 1,100 and 2,000
    const recorder = new Recorder(() => 2);
    recorder.measuring = true;
    sendAt(recorder, 'm1', 1, 0);
    recorder.delivery(socket(1), created('m1', 1), 100);
    recorder.delivery(socket(2), created('m1', 1), 300);
    sendAt(recorder, 'm2', 2, 1_000);
    recorder.delivery(socket(1), created('m2', 2), 1_100);
    recorder.delivery(socket(2), created('m2', 2), 2_000);

    // Act
    const figures = broadcastFigures(recorder, CHAT, 2);

    // Assess
    expect(figures.throughput).toMatchObject({
      windowMs: 2_000,
      deliveriesPerSecond: 2,
      messagesPerSecond: 1,
    });
    expect(figures.lastSocketMs).toMatchObject({ count: 2, min: 300, max: 1_000 });
    expect(figures.spreadMs).toMatchObject({ min: 200, max: 900 });
    expect(figures.deliveries).toMatchObject({ measuredExpected: 4, measuredReceived: 4, lost: 0 });
    expect(figures.seq).toEqual({ first: 1, last: 2, gaps: 0, conflicts: 0 });
    expect(broadcastFailures(figures)).toEqual([]);
  });

  it('names a lost, a duplicated and an out-of-order delivery as integrity failures', () => {
    // Prepare: socket 1 gets m2 before m1; socket 2 gets m1 twice and never m2
    const recorder = new Recorder(() => 2);
    recorder.measuring = true;
    sendAt(recorder, 'm1', 1, 0);
    sendAt(recorder, 'm2', 2, 20);
    recorder.delivery(socket(1), created('m2', 2), 100);
    recorder.delivery(socket(1), created('m1', 1), 110);
    recorder.delivery(socket(2), created('m1', 1), 120);
    recorder.delivery(socket(2), created('m1', 1), 130);

    // Act
    const failures = broadcastFailures(broadcastFigures(recorder, CHAT, 2));

    // Assess
    expect(failures).toEqual(['1 lost deliveries', '1 duplicate deliveries', '1 out-of-order deliveries']);
  });

  it('names seqs that do not start at 1 or skip one', () => {
    // Prepare: the chat's messages are seqs 2 and 4, each delivered to the one subscriber
    const recorder = new Recorder(() => 1);
    recorder.measuring = true;
    sendAt(recorder, 'm1', 2, 0);
    sendAt(recorder, 'm2', 4, 20);
    recorder.delivery(socket(1), created('m1', 2), 100);
    recorder.delivery(socket(1), created('m2', 4), 110);

    // Act
    const failures = broadcastFailures(broadcastFigures(recorder, CHAT, 1));

    // Assess
    expect(failures).toEqual(['seqs start at 2, not 1', '1 seq gaps']);
  });

  it('counts a failed send as a failure of its own, not as deliveries lost', () => {
    // Prepare: m2 times out; m1 reaches the one subscriber
    const recorder = new Recorder(() => 1);
    recorder.measuring = true;
    sendAt(recorder, 'm1', 1, 0);
    recorder.delivery(socket(1), created('m1', 1), 100);
    recorder.fail(recorder.send(sender, 'm2'), 'timeout');

    // Act
    const figures = broadcastFigures(recorder, CHAT, 1);

    // Assess
    expect(figures.messages).toEqual({ measured: 2, acked: 1, failed: 1 });
    expect(figures.deliveries.lost).toBe(0);
    expect(broadcastFailures(figures)).toEqual(['1 failed sends']);
  });
});

describe('broadcast goal', () => {
  const at = (deliveriesPerSecond: number) =>
    ({ throughput: { deliveriesPerSecond } }) as unknown as BroadcastFigures;

  it('is met at 5,000 deliveries/s and missed below', () => {
    // Act
    const [met, missed] = [broadcastGoal(at(5_000)), broadcastGoal(at(4_999.9))];

    // Assess
    expect(met).toEqual({ deliveriesPerSecond: 5_000, goal: 5_000, held: true });
    expect(missed.held).toBe(false);
  });
});

describe('broadcast options', () => {
  it('reads them from the arguments, with agents in a closed loop by default', () => {
    // Act
    const options = parseOptions([
      '--modes',
      'broadcast',
      '--subscribers',
      '10',
      '--broadcast-messages',
      '5',
    ]);

    // Assess
    expect(options.modes).toEqual(['broadcast']);
    expect(options.broadcast).toEqual({ subscribers: 10, audience: 'agents', messages: 5, intervalMs: 0 });
  });

  it('takes participants as the audience and a pace between sends', () => {
    // Act
    const options = parseOptions(['--audience', 'participants', '--broadcast-interval', '250']);

    // Assess
    expect(options.broadcast).toMatchObject({ audience: 'participants', intervalMs: 250 });
  });

  it('rejects an audience it does not know', () => {
    // Act
    const parse = () => parseOptions(['--audience', 'bots']);

    // Assess
    expect(parse).toThrow(OptionError);
  });
});
