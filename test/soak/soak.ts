/**
 * The soak: `sockets` sockets (two per user, as two tabs) in chats of four users, held for `minutes`
 * with application pings, a trickle of messages over the sockets, and random closes (clean or cut) with
 * reopens that subscribe and catch up as the SDK does. Then the end checks (test/soak/checks.ts) and a
 * reconnect storm (test/soak/storm.ts). Returns the figures; test/soak/report.ts judges them.
 */
import { randomBytes } from 'node:crypto';
import { backoffDelay } from '../../web/sdk/backoff.ts';
import { DEFAULT_TIMING } from '../../web/sdk/client.ts';
import {
  type Chat,
  type DeliveryResult,
  deliveryRound,
  eachLimit,
  holes,
  type Leaks,
  settledLeaks,
  waitFor,
} from './checks.ts';
import type { CloudSample, SoakCloud } from './cloud.ts';
import { http, type Http, SoakSocket } from './fleet.ts';
import { storm, type StormResult } from './storm.ts';

export interface SoakOptions {
  readonly sockets: number;
  readonly minutes: number;
  /** Each socket's application ping period (the SDK's is 4 minutes; shorter here, to make them count). */
  readonly pingMs: number;
  /** Messages per second over the sockets, across all chats. */
  readonly messagesPerSecond: number;
  /** Random closes (each followed by a reopen) per minute. */
  readonly closesPerMinute: number;
  /** The storm's promise: every socket back and caught up within this. */
  readonly stormDeadlineMs: number;
  readonly log: (line: string) => void;
}

export const defaultOptions = (sockets: number, minutes: number): SoakOptions => ({
  sockets,
  minutes,
  pingMs: 30_000,
  messagesPerSecond: Math.max(1, sockets / 200),
  closesPerMinute: Math.max(6, sockets / 10),
  stormDeadlineMs: 60_000,
  log: () => {},
});

export interface SoakFigures {
  readonly sockets: number;
  readonly users: number;
  readonly chats: number;
  readonly minutes: number;
  readonly sent: number;
  readonly acked: number;
  readonly sendFailures: number;
  readonly pings: number;
  readonly pingFailures: number;
  readonly closes: number;
  readonly reopens: number;
  readonly reopenFailures: number;
  /** Closes by the server (each socket then came back as the SDK's does: `recoveries`). */
  readonly serverCloses: number;
  readonly recoveries: number;
  readonly livePushes: number;
  /** The final round: one message per chat, to every subscribed socket. */
  readonly delivery: DeliveryResult;
  /** Seqs some socket lacks below its chats' last (live sockets hold every message). */
  readonly holes: number;
  readonly leaks: Leaks;
  readonly start?: CloudSample;
  readonly end?: CloudSample;
  readonly storm: StormResult;
  /** After the storm: a round to the reconnected sockets, and the leak scan again. */
  readonly afterStorm: {
    readonly delivery: DeliveryResult;
    readonly leaks: Leaks;
    /** Open sockets that never got their `connection.ready`. */
    readonly withoutReady: number;
  };
  readonly errors: readonly string[];
  readonly warnings: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

/** Users, chats of four users (the creator and the next three), two sockets per user. */
const populate = async (api: Http, sockets: number, prefix: string) => {
  const userCount = Math.max(2, Math.ceil(sockets / 2));
  const userIds = Array.from({ length: userCount }, (_, index) => `${prefix}u${index}`);
  const tokens: string[] = new Array(userCount);
  await eachLimit(userIds, 16, async (userId, index) => {
    tokens[index] = (
      await api.ok<{ token: string }>('POST', '/v1/dev/tokens', undefined, {
        tenantId: 'demo',
        userId,
        role: 'user',
      })
    ).token;
  });
  const chatCount = Math.max(1, Math.ceil(userCount / 2));
  const chats: Chat[] = new Array(chatCount);
  const chatsOf = userIds.map((): string[] => []);
  await eachLimit(
    Array.from({ length: chatCount }, (_, index) => index),
    8,
    async (index) => {
      const members = [...new Set([0, 1, 2, 3].map((offset) => (2 * index + offset) % userCount))];
      const creator = members[0] ?? 0;
      const { chatId } = await api.ok<{ chatId: string }>('POST', '/v1/chats', tokens[creator], {
        subject: `soak ${index}`,
        participants: members.slice(1).map((member) => userIds[member]),
      });
      chats[index] = { chatId, token: tokens[creator] ?? '' };
      for (const member of members) chatsOf[member]?.push(chatId);
    },
  );
  const fleet = Array.from(
    { length: sockets },
    (_, index) =>
      new SoakSocket(index, userIds[index >> 1] ?? '', tokens[index >> 1] ?? '', chatsOf[index >> 1] ?? []),
  );
  return { userCount, chats, fleet };
};

export const runSoak = async (cloud: SoakCloud, options: SoakOptions): Promise<SoakFigures> => {
  const { log } = options;
  const api = http(cloud.urls.http);
  const prefix = `soak${randomBytes(3).toString('hex')}`;
  const { userCount, chats, fleet } = await populate(api, options.sockets, prefix);
  log(`${fleet.length} sockets, ${userCount} users, ${chats.length} chats: opening`);
  await eachLimit(fleet, 25, async (socket) => {
    await socket.connect(api);
    await socket.subscribeAndCatchUp(api);
  });
  log('all open and subscribed');

  const counts = {
    sent: 0,
    acked: 0,
    sendFailures: 0,
    pings: 0,
    pingFailures: 0,
    closes: 0,
    reopens: 0,
    reopenFailures: 0,
    recoveries: 0,
  };
  const work = new Set<Promise<void>>();
  const run = (task: () => Promise<void>) => {
    const promise = task().finally(() => work.delete(promise));
    work.add(promise);
  };
  const idle = () => fleet.filter((socket) => socket.open && !socket.busy);
  let stopped = false;
  /** Ticket, upgrade, subscribe, catch up; a failed attempt is retried after a growing pause. */
  const reopen = async (socket: SoakSocket) => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await socket.connect(api);
        await socket.subscribeAndCatchUp(api);
        counts.reopens += 1;
        return;
      } catch (error) {
        counts.reopenFailures += 1;
        log(`reopen failed: ${String(error)}`);
        if (socket.open) await socket.close(true);
        await sleep(1_000 * 2 ** Math.min(attempt, 4));
      }
    }
  };
  // A socket the server closed (deliver or disconnect: a push it could not take) comes back as the
  // SDK's does: after its backoff, once whatever task holds it is done.
  for (const socket of fleet)
    socket.onServerClose = () =>
      run(async () => {
        while (socket.busy && !stopped) await sleep(100);
        if (socket.open || stopped) return;
        socket.busy = true;
        try {
          await sleep(backoffDelay(0, DEFAULT_TIMING.minBackoffMs, DEFAULT_TIMING.maxBackoffMs));
          await reopen(socket);
          counts.recoveries += 1;
        } finally {
          socket.busy = false;
        }
      });

  const timers: NodeJS.Timeout[] = [];
  // Pings: each socket on its own period, started at a random phase.
  for (const socket of fleet) {
    const ping = () =>
      run(async () => {
        if (!socket.open) return;
        counts.pings += 1;
        await socket.request({ action: 'ping' }).catch(() => {
          if (socket.open) counts.pingFailures += 1;
        });
      });
    timers.push(
      setTimeout(() => {
        ping();
        timers.push(setInterval(ping, options.pingMs));
      }, Math.random() * options.pingMs),
    );
  }
  // The trickle: a random socket sends to one of its chats; its ack carries the seq.
  timers.push(
    setInterval(() => {
      const socket = pick(idle());
      const chatId = socket && pick(socket.chatIds);
      if (!socket || !chatId) return;
      socket.busy = true;
      counts.sent += 1;
      run(async () => {
        // Like the SDK's outbox: a send without an ack is sent again with the same clientMessageId
        // while the socket is open (a reopened socket catches the message up instead).
        const frame = {
          action: 'sendMessage',
          chatId,
          clientMessageId: `t${counts.sent}-${socket.index}`,
          type: 'text',
          text: 'trickle',
        };
        try {
          for (let attempt = 0; socket.open && attempt < 3; attempt++) {
            try {
              const ack = await socket.request(frame);
              counts.acked += 1;
              if (typeof ack.seq === 'number') socket.held.get(chatId)?.add(ack.seq);
              return;
            } catch {
              counts.sendFailures += 1;
            }
          }
        } finally {
          socket.busy = false;
        }
      });
    }, 1000 / options.messagesPerSecond),
  );
  // Churn: a random socket closes (cleanly or cut) and reopens after a short while, subscribing and
  // catching up; a failed reopen is retried.
  timers.push(
    setInterval(() => {
      const socket = pick(idle());
      if (!socket) return;
      socket.busy = true;
      counts.closes += 1;
      run(async () => {
        try {
          await socket.close(Math.random() < 0.5);
          await sleep(500 + Math.random() * 2_500);
          await reopen(socket);
        } finally {
          socket.busy = false;
        }
      });
    }, 60_000 / options.closesPerMinute),
  );

  const runMs = options.minutes * 60_000;
  // The start figures once the first tenth has run (handlers warm, every code path loaded).
  await sleep(Math.min(30_000, runMs / 10));
  await cloud.idle();
  const start = await cloud.sample();
  log(`start: heap ${mb(start?.heapUsedBytes)}, handles ${start?.handleTotal ?? 'n/a'}`);
  await sleep(runMs - Math.min(30_000, runMs / 10));
  for (const timer of timers) clearTimeout(timer);
  await Promise.all([...work]);
  await cloud.idle();
  const end = await cloud.sample();
  log(`end: heap ${mb(end?.heapUsedBytes)}, handles ${end?.handleTotal ?? 'n/a'}; final checks`);

  const livePushes = fleet.reduce((sum, socket) => sum + socket.pushes, 0);
  const delivery = await deliveryRound(api, chats, fleet, 'final');
  const lastSeqs = delivery.seqs;
  const holeCount = holes(fleet, lastSeqs);
  const leaks = await settledLeaks(cloud, fleet, prefix);
  log(
    `delivered ${delivery.delivered}/${delivery.expected}, holes ${holeCount}, leaked ${leaks.items}; storm`,
  );

  await waitFor(() => work.size === 0, 60_000);
  const stormResult = await storm(api, fleet, chats, options.stormDeadlineMs);
  log(`storm: ${stormResult.back}/${stormResult.sockets} back, all in ${stormResult.allBackMs ?? 'n/a'} ms`);
  const afterDelivery = await deliveryRound(api, chats, fleet, 'after-storm');
  const afterLeaks = await settledLeaks(cloud, fleet, prefix);
  const withoutReady = fleet.filter((socket) => socket.open && !socket.connectionId).length;
  stopped = true;
  await waitFor(() => work.size === 0, 30_000);
  await Promise.all(fleet.map((socket) => socket.close(false)));

  return {
    sockets: fleet.length,
    users: userCount,
    chats: chats.length,
    minutes: options.minutes,
    ...counts,
    livePushes,
    serverCloses: fleet.reduce((sum, socket) => sum + socket.serverCloses, 0),
    delivery: withoutSeqs(delivery),
    holes: holeCount,
    leaks,
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    storm: stormResult,
    afterStorm: {
      delivery: withoutSeqs(afterDelivery),
      leaks: afterLeaks,
      withoutReady,
    },
    errors: [...cloud.errors],
    warnings: cloud.warnings,
  };
};

const withoutSeqs = ({ seqs: _seqs, ...result }: DeliveryResult & { seqs: unknown }): DeliveryResult =>
  result;

export const mb = (bytes: number | undefined): string =>
  bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
