/**
 * The `polling` mode: V visitors (`--pollers`) polling their chats exactly as the browser SDK does when it
 * has no socket — its own `pollLoop` and `pollChatOnce` (web/sdk/polling.ts) over its own authorized
 * request (web/sdk/request.ts), with its default timing: GET …/events with the after / afterEvent / since
 * cursors the server returned, then a sleep of the server's `nextPollMs` (or long polls of `--poll-wait`
 * seconds). Each visitor has its own chat and a counterpart that sends one message every
 * `--poll-send-min`..`--poll-send-max` ms over HTTP. Over a measured window of `--duration` it reports
 * what the polls cost per visitor-hour, the average concurrent poll invocations per visitor and how long
 * after its commit a message reached its poller (polling-cost.ts, polling-delivery.ts), and checks that
 * every message reached its poller exactly once, in seq order. The cloud only.
 */
import { loadavg } from 'node:os';
import { functionId } from '../../shared/config/routes.ts';
import { POLL_PACE_DEFAULTS } from '../../shared/domain/poll-pace.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { DEFAULT_TIMING } from '../../web/sdk/client.ts';
import { ApiError } from '../../web/sdk/http.ts';
import { type Cursor, type PollDeps, pollChatOnce, pollLoop } from '../../web/sdk/polling.ts';
import { authorizedRequest } from '../../web/sdk/request.ts';
import type { AnyEnvelope } from '../../web/sdk/types.ts';
import type { Goal } from './hot-report.ts';
import type { CapacityMeter } from './capacity.ts';
import { billedDurationMs } from './cost.ts';
import type { CostMeters } from './cost-meters.ts';
import { callJson } from './http.ts';
import type { Options } from './options.ts';
import {
  concurrencyPerVisitor,
  costPerVisitorHour,
  paceForGoals,
  pollingGoals,
  type VisitorHourCost,
} from './polling-cost.ts';
import {
  awaited,
  checkDeliveries,
  type DeliveryCheck,
  type ReceivedMessage,
  type SentMessage,
} from './polling-delivery.ts';
import { installPollScope } from './polling-scope.ts';
import { round, type Stats, stats } from './stats.ts';
import type { Target } from './targets.ts';
import { isRecord, progress, prng, sleep } from './util.ts';

/** The function that answers GET /v1/chats/{chatId}/events (its id in the cost meters). */
const POLL_FUNCTION = functionId({ handler: 'functions/http/poll-events.ts' });

export interface PollingResult {
  readonly pollers: number;
  readonly windowMs: number;
  readonly sendEveryMs: { readonly min: number; readonly max: number };
  readonly waitSeconds: number;
  /** The handlers' pace variables (the server's defaults when unset). */
  readonly pace: { readonly POLL_ACTIVE_MS: number; readonly POLL_IDLE_MS: number };
  readonly setupMs: number;
  readonly polls: {
    /** Poll requests answered in the window. */
    readonly count: number;
    readonly perVisitorHour: number;
    /** Answers in the window by their nextPollMs. */
    readonly nextPollMs: Readonly<Record<string, number>>;
    /** Failed polls over the whole run, by `status code`. */
    readonly failed: Readonly<Record<string, number>>;
    /** A poll's round trip as the visitor saw it. */
    readonly requestMs: Stats;
  };
  readonly invocations: {
    readonly name: string;
    readonly memoryMb: number;
    readonly count: number;
    readonly durationMs: Stats;
    readonly billedMsMean: number;
  };
  readonly concurrencyPerVisitor: number;
  /** DynamoDB calls per poll, by operation and what they touched. */
  readonly dynamodbPerPoll: Readonly<Record<string, number>>;
  readonly cost: VisitorHourCost;
  readonly delivery: DeliveryCheck;
  /** Whether every acked message reached its poller within `--drain` after the window. */
  readonly drained: boolean;
  readonly goals: readonly Goal[];
  readonly paceForGoals: ReturnType<typeof paceForGoals>;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
}

interface Poll {
  readonly endedAt: number;
  readonly ms: number;
  readonly bytes: number;
}

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** The message.created envelopes of a poll's answer, as the delivery check reads them. */
const receivedOf = (envelope: AnyEnvelope, at: number): ReceivedMessage | undefined => {
  if (envelope.type !== 'message.created' || !isRecord(envelope.data)) return undefined;
  const data = envelope.data;
  if (typeof data.seq !== 'number' || typeof data.chatId !== 'string') return undefined;
  const createdAt = typeof data.createdAt === 'string' ? Date.parse(data.createdAt) : Number.NaN;
  return {
    chatId: data.chatId,
    seq: data.seq,
    ...(typeof data.clientMessageId === 'string' ? { clientMessageId: data.clientMessageId } : {}),
    ...(Number.isFinite(createdAt) ? { createdAt } : {}),
    at,
  };
};

export const runPolling = async (
  target: Target,
  options: Options,
  runTag: string,
  meter: CapacityMeter,
  costMeters: CostMeters,
): Promise<PollingResult> => {
  const { pollers, durationMs, sendMinMs, sendMaxMs, waitSeconds } = options.polling;
  const http = target.httpUrl;
  if (!http) throw new Error('the polling mode needs the cloud target');
  const setupStarted = Date.now();
  const tag = `${runTag}-p`;
  const visitors = Array.from({ length: pollers }, (_, visitor) => visitor);
  // Client 2v is visitor v (it creates the chat), client 2v + 1 its counterpart.
  const prepared = await target.prepare(
    tag,
    visitors.map((visitor) => [2 * visitor, 2 * visitor + 1]),
  );
  const random = prng(options.seed);
  const timing = { ...DEFAULT_TIMING, pollWaitSeconds: waitSeconds };
  const scope = installPollScope(meter);
  const sent: SentMessage[] = [];
  const received: ReceivedMessage[] = [];
  const polls: Poll[] = [];
  const failed = new Map<string, number>();
  const paces: { readonly at: number; readonly nextPollMs: number }[] = [];
  // One abort per visitor's loop, as the SDK has one per polled chat.
  const controllers: AbortController[] = [];
  const stopPolling = () => {
    for (const controller of controllers) controller.abort();
  };
  const loops: Promise<void>[] = [];
  try {
    // The visitors: the SDK's loop, each poll timed and sized on its way through fetch.
    const counting: typeof fetch = async (input, init) => {
      const started = Date.now();
      const response = await fetch(input, init);
      if (/\/events\?/.test(String(input))) {
        const endedAt = Date.now();
        polls.push({
          endedAt,
          ms: endedAt - started,
          bytes: Number(response.headers.get('content-length') ?? 0),
        });
      }
      return response;
    };
    const startPoller = async (visitor: number) => {
      const chatId = prepared.chatIds[visitor] ?? '';
      const request = authorizedRequest(
        { httpUrl: http, token: prepared.token?.(2 * visitor) ?? '', fetch: counting },
        timing.requestTimeoutMs,
      );
      const deps: PollDeps = {
        request,
        timing,
        envelope: (envelope) => {
          const message = receivedOf(envelope, Date.now());
          if (message) received.push(message);
        },
        health: (ok, error) => {
          if (ok) return;
          const key = error instanceof ApiError ? `${error.status} ${error.code}` : 'error';
          failed.set(key, (failed.get(key) ?? 0) + 1);
        },
      };
      const cursor: Cursor = { after: 0 };
      // Visitors arrive at random moments, not in lock-step: each starts within one active pace.
      await sleep(random() * POLL_PACE_DEFAULTS.activeMs);
      const controller = new AbortController();
      controllers.push(controller);
      loops.push(
        pollLoop(
          async (wait, signal) => {
            const outcome = await pollChatOnce(chatId, cursor, wait, deps, signal);
            if (outcome.nextPollMs !== undefined)
              paces.push({ at: Date.now(), nextPollMs: outcome.nextPollMs });
            return outcome;
          },
          deps,
          controller.signal,
        ),
      );
    };

    // The counterparts: POST …/messages over HTTP, answers recorded for the checks.
    const send = async (visitor: number, clientMessageId: string, measured: boolean) => {
      const chatId = prepared.chatIds[visitor] ?? '';
      const message: SentMessage = { chatId, clientMessageId, measured, sentAt: Date.now() };
      sent.push(message);
      try {
        const { status, body } = await callJson('POST', `${http}/v1/chats/${chatId}/messages`, {
          body: {
            clientMessageId,
            type: 'text',
            text: `poll bench ${clientMessageId} `.padEnd(options.textBytes, 'x'),
          },
          token: prepared.token?.(2 * visitor + 1),
          timeoutMs: 30_000,
        });
        message.ackAt = Date.now();
        const stored = isRecord(body) && isRecord(body.message) ? body.message : body;
        if ((status === 200 || status === 201) && isRecord(stored) && typeof stored.seq === 'number') {
          message.seq = stored.seq;
        } else {
          message.failure = `http ${status}`;
        }
      } catch (error) {
        message.failure = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'network';
      }
    };
    const drain = async (until: number) => {
      while (awaited(sent, received) > 0 && Date.now() < until) await sleep(100);
      return awaited(sent, received) === 0;
    };

    await Promise.all(visitors.map(startPoller));
    for (let k = 0; k < options.warmup; k++) {
      await mapLimit(visitors, 8, (visitor) => send(visitor, `w${tag}-v${visitor}-m${k}`, false));
    }
    if (!(await drain(Date.now() + options.drainMs))) progress('polling: warm-up messages still not polled');
    await target.settle().catch((error: unknown) => progress(`polling warm-up: ${String(error)}`));
    const setupMs = Date.now() - setupStarted;

    // The measured window: cost marks now, a snapshot at its end; sends only inside it.
    progress(`cloud / polling: ${pollers} visitors, ${round(durationMs / 1000, 0)} s measured…`);
    const loadBefore = loadavg()[0] ?? 0;
    const scopeMark = scope.mark();
    const costMark = costMeters.mark();
    const started = Date.now();
    const ends = started + durationMs;
    const sending = visitors.map(async (visitor) => {
      const interval = () => sendMinMs + random() * (sendMaxMs - sendMinMs);
      // A random phase, so the chats do not send in step.
      for (let k = 0, next = started + random() * interval(); next < ends; k++, next += interval()) {
        await sleep(next - Date.now());
        await send(visitor, `${tag}-v${visitor}-m${k}`, true);
      }
    });
    await sleep(ends - Date.now());
    const costWindow = costMeters.since(costMark);
    const scopeWindow = scope.since(scopeMark);
    const windowMs = Date.now() - started;
    await Promise.all(sending);
    const drained = await drain(Date.now() + options.drainMs);
    stopPolling();
    await Promise.all(loops);
    const loadAfter = loadavg()[0] ?? 0;

    const inWindow = polls.filter((poll) => poll.endedAt >= started && poll.endedAt <= started + windowMs);
    const pollUse = costWindow.functions.find((use) => use.name === POLL_FUNCTION);
    const durations = pollUse?.durationsMs ?? [];
    const cost = costPerVisitorHour({
      visitors: pollers,
      windowMs,
      requestBytes: inWindow.map((poll) => poll.bytes),
      functions: pollUse ? [pollUse] : [],
      dynamodb: scopeWindow.dynamodb,
      logs: { recordBytes: scopeWindow.recordBytes, emfBytes: scopeWindow.emfBytes },
    });
    const concurrency = concurrencyPerVisitor(durations, windowMs, pollers);
    const delivery = checkDeliveries(sent, received);
    const requestMs = stats(inWindow.map((poll) => poll.ms));
    const billedMsMean = durations.length ? billedDurationMs(durations) / durations.length : 0;
    const nextPollMs: Record<string, number> = {};
    for (const { at, nextPollMs: ms } of paces) {
      if (at >= started && at <= started + windowMs) nextPollMs[ms] = (nextPollMs[ms] ?? 0) + 1;
    }
    const perPoll = (count: number) => round(count / Math.max(1, inWindow.length), 3);
    return {
      pollers,
      windowMs,
      sendEveryMs: { min: sendMinMs, max: sendMaxMs },
      waitSeconds,
      pace: {
        POLL_ACTIVE_MS: envNumber('POLL_ACTIVE_MS', POLL_PACE_DEFAULTS.activeMs),
        POLL_IDLE_MS: envNumber('POLL_IDLE_MS', POLL_PACE_DEFAULTS.idleMs),
      },
      setupMs,
      polls: {
        count: inWindow.length,
        perVisitorHour: round(cost.pollsPerVisitorHour, 0),
        nextPollMs,
        failed: Object.fromEntries(failed),
        requestMs,
      },
      invocations: {
        name: POLL_FUNCTION,
        memoryMb: pollUse?.memoryMb ?? 0,
        count: durations.length,
        durationMs: stats(durations),
        billedMsMean: round(billedMsMean, 1),
      },
      concurrencyPerVisitor: concurrency,
      dynamodbPerPoll: Object.fromEntries(
        Object.entries(scopeWindow.callsByTarget).map(([name, count]) => [name, perPoll(count)]),
      ),
      cost,
      delivery,
      drained,
      goals: pollingGoals({
        usdPerVisitorHour: cost.usdPerVisitorHour,
        concurrencyPerVisitor: concurrency,
        deliveryP50Ms: delivery.deliveryMs.p50,
        delivered: delivery.deliveryMs.count,
      }),
      paceForGoals: paceForGoals({ usd: cost.usdPerPoll, billedMs: billedMsMean, requestMs: requestMs.p50 }),
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
    };
  } finally {
    stopPolling();
    await Promise.all(loops);
    scope.uninstall();
    await target.settle().catch(() => {});
  }
};
