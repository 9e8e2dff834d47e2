/**
 * The `broadcast` mode (`npm run bench:broadcast`, `--modes broadcast`): fan-out at scale. ONE chat with
 * S subscribed sockets (`--subscribers`): agents of the tenant, who may subscribe to any of its chats
 * (`--audience agents`), or participants of the chat (`--audience participants`: at most 50 besides the
 * sender, a chat's participant cap; docs/reliability.md). One more socket, the sender's and not subscribed, posts M messages
 * (`--broadcast-messages`) in a closed loop (the next once the previous is acked) or one every
 * `--broadcast-interval` ms. Every (message, socket) delivery goes through the Recorder of the other
 * modes; broadcast-report.ts turns what it saw into deliveries/s, latency to the last socket and the
 * integrity verdict. The cloud only. The fan-out's own knob is the handlers' variable:
 * `FANOUT_CONCURRENCY=32 npm run bench:broadcast`.
 */
import { MAX_PARTICIPANTS } from '../../shared/domain/membership.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { type BroadcastResult, broadcastFigures } from './broadcast-report.ts';
import type { CapacityMeter } from './capacity.ts';
import { capacityReport } from './capacity-report.ts';
import { BenchClient } from './client.ts';
import { cpuWindow } from './cpu.ts';
import type { Options } from './options.ts';
import { RemoteReceivers } from './receivers.ts';
import { Recorder } from './recorder.ts';
import { round } from './stats.ts';
import { devToken, type Target, ticketUrl } from './targets.ts';
import { now, progress, sleep } from './util.ts';

/** Runs one step of the set-up, saying so, and times it. */
const step = async <T>(name: string, work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const started = now();
  progress(`broadcast: ${name}…`);
  const value = await work();
  const ms = now() - started;
  progress(`broadcast: ${name}: ${(ms / 1000).toFixed(1)} s`);
  return { value, ms };
};

export const runBroadcast = async (
  target: Target,
  options: Options,
  tenantId: string,
  runTag: string,
  meter: CapacityMeter,
): Promise<BroadcastResult> => {
  const http = target.httpUrl;
  if (!http) throw new Error('the broadcast mode needs the cloud target');
  const { subscribers, audience, messages, intervalMs } = options.broadcast;
  const tag = `${runTag}-b`;
  const watchers = Array.from({ length: subscribers }, (_, index) => index + 1);
  const text = (k: number) => `broadcast ${k} `.padEnd(options.textBytes, 'x');
  const requestTimeoutMs = Math.min(30_000, options.phaseTimeoutMs);

  // Client 0 creates the chat and sends; clients 1..S watch it.
  const participants = audience === 'participants';
  if (participants && subscribers > MAX_PARTICIPANTS - 1)
    throw new Error(
      `--audience participants takes at most ${MAX_PARTICIPANTS - 1} subscribers (a chat's participant cap); use --audience agents for more`,
    );
  const chat = await step(participants ? `a chat with ${subscribers + 1} participants` : 'a chat', () =>
    target.prepare(tag, [participants ? [0, ...watchers] : [0]]),
  );
  const prepared = chat.value;
  const chatId = prepared.chatIds[0] ?? '';
  const watcherUrl = participants
    ? (index: number) => prepared.url(index)
    : async (index: number) =>
        ticketUrl(http, await devToken(http, tenantId, `bench-${tag}-agent${index}`, 'agent'));
  const recorder = new Recorder(() => subscribers);
  const sockets: BenchClient[] = [];
  // The room's sockets run on a thread of their own (receivers.ts), as browsers would on other machines.
  const room = new RemoteReceivers(recorder);
  try {
    // Everyone connects first, and the presence announcements pass while nobody is subscribed yet:
    // otherwise each join is announced to every socket already subscribed (S²/2 pushes of set-up).
    const connect = await step(`${subscribers + 1} sockets`, async () => {
      const sender = await BenchClient.open(await prepared.url(0), 0, chatId, recorder);
      sockets.push(sender);
      // Tickets live 60 s: taken and used a few dozen at a time.
      for (let from = 0; from < watchers.length; from += 50) {
        const chunk = watchers.slice(from, from + 50);
        const urls = await mapLimit(chunk, 16, async (index) => ({
          index,
          url: await watcherUrl(index),
          chatId,
        }));
        await room.open(urls, 16);
      }
      await target.settle();
      return sender;
    });
    const sender = connect.value;
    const subscribe = await step(`${subscribers} subscriptions`, async () => {
      await room.requestAll({ action: 'subscribe', chatId }, requestTimeoutMs, 16);
      await target.settle();
    });
    await step(`warm-up (${options.warmup} messages)`, async () => {
      for (let k = 0; k < options.warmup; k++) {
        await recorder.sendMessage(sender, `w${tag}-m${k}`, text(k), requestTimeoutMs);
      }
      await recorder.quiet(options.drainMs);
      await target.settle();
    });

    progress(
      `broadcast: ${messages} messages to ${subscribers} sockets, ` +
        (intervalMs > 0 ? `one every ${intervalMs} ms…` : 'closed loop…'),
    );
    const mark = meter.mark();
    const cpu = cpuWindow(target.dynamoPid);
    recorder.measuring = true;
    const deadline = now() + options.phaseTimeoutMs;
    const inFlight: Promise<void>[] = [];
    let next = now();
    for (let k = 0; k < messages && now() < deadline; k++) {
      await sleep(next - now());
      const sent = recorder.sendMessage(sender, `${tag}-m${k}`, text(k), requestTimeoutMs);
      if (intervalMs > 0) inFlight.push(sent);
      else await sent;
      next += intervalMs;
    }
    await Promise.all(inFlight);
    if (!(await recorder.quiet(options.drainMs))) {
      progress(
        `broadcast: no delivery for ${options.drainMs} ms; ${recorder.outstanding} deliveries missing`,
      );
    }
    const cpuUse = cpu.stop();
    await target.settle().catch((error: unknown) => progress(`broadcast: ${String(error)}`));
    const capacityRows = meter.since(mark);

    const figures = broadcastFigures(
      recorder,
      chatId,
      subscribers,
      intervalMs > 0 ? round(1000 / intervalMs, 1) : undefined,
    );
    return {
      subscribers,
      audience,
      fanoutConcurrency: process.env.FANOUT_CONCURRENCY ?? 'default',
      setupMs: { chat: round(chat.ms, 0), connect: round(connect.ms, 0), subscribe: round(subscribe.ms, 0) },
      ...figures,
      otherEnvelopes: Object.fromEntries(recorder.others),
      cpu: {
        ...cpuUse,
        nodeMsPerThousandDeliveries: round(
          (cpuUse.nodeMs / Math.max(1, figures.deliveries.measuredReceived)) * 1000,
          1,
        ),
      },
      capacity: capacityReport(capacityRows, figures.messages.acked),
    };
  } finally {
    await mapLimit(sockets, 32, (socket) => socket.close());
    await room.close();
    await target.settle().catch(() => {});
  }
};
