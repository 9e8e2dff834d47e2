/**
 * The `hot` mode: C closed-loop senders (`--senders`) all posting into ONE chat, against the same C senders
 * spread over C chats (one each), each shape for `--duration` ms (or `--hot-messages` per sender), over
 * WebSockets (`sendMessage`) or HTTP (`POST /v1/chats/{chatId}/messages`, `--via http`). A sender sends its
 * next message once the previous one is answered, or once `--ack-timeout` passed without an answer (a
 * client time-out; the answer is still awaited, up to 35 s, to learn whether it was stored). Senders do not
 * subscribe: the shapes differ only in how many senders append to one chat. Afterwards every chat is read
 * back (integrity.ts). The cloud only: the relay stores nothing to read back.
 */
import { loadavg } from 'node:os';
import { mapLimit } from '../../shared/domain/realtime.ts';
import type { CapacityMeter } from './capacity.ts';
import { type CapacityReport, capacityReport } from './capacity-report.ts';
import { BenchClient, type ClientSink, failureReason } from './client.ts';
import { type HandlerLog, watchHandlerLog } from './handler-log.ts';
import { callJson } from './http.ts';
import { type ChatIntegrity, checkChat, readBack } from './integrity.ts';
import type { Options, Via } from './options.ts';
import { num } from './report.ts';
import { round, type Stats, stats } from './stats.ts';
import type { Prepared, Target } from './targets.ts';
import { isRecord, now, progress, sleep } from './util.ts';

export type Shape = 'spread' | 'hot';

export interface ShapeResult {
  readonly shape: Shape;
  readonly via: Via;
  readonly senders: number;
  readonly chats: number;
  readonly setupMs: number;
  /** Measured sends; of them answered with an ack within the ack time-out. */
  readonly sent: number;
  readonly acked: number;
  /** Error replies within the ack time-out, by code (`http <status> <code>` over HTTP). */
  readonly errors: Record<string, number>;
  readonly errorCount: number;
  /** Sends with no answer within the ack time-out; of them acked later; of them stored (read back). */
  readonly clientTimeouts: number;
  readonly lateAcks: number;
  readonly timeoutsStored: number;
  /** Invocations that timed out or failed, from the handlers' and gateways' log (handler-log.ts). */
  readonly handlerLog: HandlerLog;
  /** Whether the local cloud's stream consumers were idle before the chats were read back (≤ 30 s). */
  readonly settled: boolean;
  /** Measured messages found in the table. */
  readonly stored: number;
  /** First measured send → the last sender's last answer or time-out. */
  readonly windowMs: number;
  readonly storedPerSecond: number;
  readonly ackedPerSecond: number;
  /** Acks within the ack time-out. */
  readonly ackMs: Stats;
  /** The same with every client time-out counted as the ack time-out (a lower bound of its latency). */
  readonly ackOrTimeoutMs: Stats;
  /** Acks saying the clientMessageId was already stored (`created: false`); the bench never resends. */
  readonly replays: number;
  readonly integrity: { readonly ok: boolean; readonly chats: readonly ChatIntegrity[] };
  /** Reads of a chat repeated because its check failed (a hole a running writer may still fill). */
  readonly rereads: number;
  readonly otherFrames: Record<string, number>;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
  readonly capacity?: CapacityReport;
}

/** An answer: an ack (its seq, and whether it created the message) or an error code; undefined: none. */
type Answer = { readonly seq: number; readonly created: boolean } | { readonly error: string } | undefined;

/** How long an answer is awaited after a client time-out: past both gateways' integration time-outs. */
const LATE_MS = 35_000;
/** How long a chat that fails its check is read again (a hole older than 30 s is voided by the reader). */
const REREAD_FOR_MS = 40_000;

/** A timer to race an answer against; cancel it when the answer came first. */
const timer = (ms: number) => {
  let handle: NodeJS.Timeout | undefined;
  const fired = new Promise<'timeout'>((done) => {
    handle = setTimeout(() => done('timeout'), ms);
  });
  return { fired, cancel: () => clearTimeout(handle) };
};

const ackOf = (data: Record<string, unknown>, fallbackSeq?: number): Answer => {
  const message = isRecord(data.message) ? data.message : data;
  const seq = typeof message.seq === 'number' ? message.seq : fallbackSeq;
  return seq === undefined ? { error: 'ack-without-seq' } : { seq, created: data.created !== false };
};

/** One send of one sender, over the socket or over HTTP; resolves with the answer, never rejects. */
type Send = (sender: number, clientMessageId: string, text: string, onSent: () => void) => Promise<Answer>;

const wsSend =
  (sockets: ReadonlyMap<number, BenchClient>): Send =>
  async (sender, clientMessageId, text, onSent) => {
    const socket = sockets.get(sender);
    if (!socket) return { error: 'no-socket' };
    try {
      const envelope = await socket.request(
        { action: 'sendMessage', chatId: socket.chatId, clientMessageId, text },
        LATE_MS,
        onSent,
      );
      return ackOf(envelope.data, envelope.seq);
    } catch (error) {
      const reason = failureReason(error);
      return reason === 'timeout' ? undefined : { error: reason };
    }
  };

const httpSend =
  (http: string, prepared: Prepared, chatOf: (sender: number) => string): Send =>
  async (sender, clientMessageId, text, onSent) => {
    onSent();
    try {
      const { status, body } = await callJson('POST', `${http}/v1/chats/${chatOf(sender)}/messages`, {
        body: { clientMessageId, type: 'text', text },
        token: prepared.token?.(sender),
        timeoutMs: LATE_MS,
      });
      if (status === 200 || status === 201) {
        const answer = isRecord(body) ? ackOf(body) : { error: 'bad-body' };
        return answer && 'seq' in answer ? { seq: answer.seq, created: status === 201 } : answer;
      }
      const code = isRecord(body) && isRecord(body.error) ? String(body.error.code) : '';
      return { error: `http ${status}${code ? ` ${code}` : ''}` };
    } catch (error) {
      return error instanceof Error && error.name === 'TimeoutError' ? undefined : { error: 'network' };
    }
  };

export const runShape = async (
  target: Target,
  shape: Shape,
  options: Options,
  runTag: string,
  meter: CapacityMeter,
): Promise<ShapeResult> => {
  const { senders, via, ackTimeoutMs, durationMs, messages } = options.hot;
  const http = target.httpUrl;
  if (!http) throw new Error('the hot mode needs the cloud target (it reads every chat back over HTTP)');
  const tag = `${runTag}-${shape === 'hot' ? 'h' : 's'}`;
  const everyone = Array.from({ length: senders }, (_, sender) => sender);
  const members = shape === 'hot' ? [everyone] : everyone.map((sender) => [sender]);
  const setupStarted = now();
  const prepared = await target.prepare(tag, members);
  const chatOf = (sender: number) => prepared.chatIds[shape === 'hot' ? 0 : sender] ?? '';
  const others = new Map<string, number>();
  const sink: ClientSink = {
    delivery: () => others.set('message.created', (others.get('message.created') ?? 0) + 1),
    other: (type) => others.set(type, (others.get(type) ?? 0) + 1),
  };
  const sockets = new Map<number, BenchClient>();
  const text = (sender: number, k: number) => `bench ${sender}/${k} `.padEnd(options.textBytes, 'x');
  /** Per chat: clientMessageId → the seq its ack named (undefined: no ack). */
  const sentTo = new Map(prepared.chatIds.map((chatId) => [chatId, new Map<string, number | undefined>()]));
  let log: ReturnType<typeof watchHandlerLog> | undefined;
  try {
    if (via === 'ws') {
      await mapLimit(everyone, 8, async (sender) => {
        sockets.set(sender, await BenchClient.open(await prepared.url(sender), sender, chatOf(sender), sink));
      });
    }
    const send = via === 'ws' ? wsSend(sockets) : httpSend(http, prepared, chatOf);
    const record = (sender: number, clientMessageId: string, answer: Answer) => {
      sentTo.get(chatOf(sender))?.set(clientMessageId, answer && 'seq' in answer ? answer.seq : undefined);
    };
    // Warm-up: unmeasured, every sender at once, answers awaited.
    for (let k = 0; k < options.warmup; k++) {
      await Promise.all(
        everyone.map(async (sender) => {
          const clientMessageId = `w${tag}-s${sender}-m${k}`;
          record(sender, clientMessageId, undefined);
          record(sender, clientMessageId, await send(sender, clientMessageId, text(sender, k), () => {}));
        }),
      );
    }
    await target.settle().catch((error: unknown) => progress(`${shape} warm-up: ${String(error)}`));
    const setupMs = now() - setupStarted;

    // Measured: closed loop per sender until the deadline (or K messages each).
    log = watchHandlerLog();
    const mark = meter.mark();
    const loadBefore = loadavg()[0] ?? 0;
    const acks: number[] = [];
    const errors = new Map<string, number>();
    const late: Promise<void>[] = [];
    const timedOut = new Set<string>();
    const measuredIds = new Set<string>();
    let lateAcks = 0;
    let replays = 0;
    let lastAnswerAt = 0;
    const started = now();
    const deadline =
      started + (messages > 0 ? options.phaseTimeoutMs : Math.min(durationMs, options.phaseTimeoutMs));
    const noteAck = (answer: Answer) => {
      if (answer && 'seq' in answer && !answer.created) replays++;
    };
    await Promise.all(
      everyone.map(async (sender) => {
        for (let k = 0; (messages === 0 || k < messages) && now() < deadline; k++) {
          const clientMessageId = `${tag}-s${sender}-m${k}`;
          record(sender, clientMessageId, undefined);
          measuredIds.add(clientMessageId);
          let sentAt = now();
          let answeredAt = 0;
          const answer = send(sender, clientMessageId, text(sender, k), () => {
            sentAt = now();
          }).then((reply) => {
            answeredAt = now();
            return reply;
          });
          const clock = timer(ackTimeoutMs);
          const first = await Promise.race([answer, clock.fired]);
          clock.cancel();
          lastAnswerAt = Math.max(lastAnswerAt, now());
          if (first === 'timeout') {
            timedOut.add(clientMessageId);
            late.push(
              answer.then((later) => {
                record(sender, clientMessageId, later);
                noteAck(later);
                if (later && 'seq' in later) lateAcks++;
              }),
            );
            continue;
          }
          record(sender, clientMessageId, first);
          noteAck(first);
          if (first && 'seq' in first) acks.push(answeredAt - sentAt);
          else if (first) errors.set(first.error, (errors.get(first.error) ?? 0) + 1);
        }
      }),
    );
    const windowMs = lastAnswerAt - started;
    if (late.length > 0) progress(`${shape}: waiting for the answers of ${late.length} timed-out sends…`);
    await Promise.all(late);
    const settled = await target.settle().then(
      () => true,
      (error: unknown) => {
        progress(`${shape}: ${String(error)}; reading the chats back anyway`);
        return false;
      },
    );
    const capacityRows = meter.since(mark);
    const handlerLog = log.stop();
    const loadAfter = loadavg()[0] ?? 0;

    // Read every chat back. A writer still running may hold a seq it has not filled yet: a chat that fails
    // its check is read again every 5 s, for up to 40 s (past the 30 s after which a hole is voided).
    let rereads = 0;
    const chats = await mapLimit([...sentTo], 4, async ([chatId, sentHere]) => {
      const token = prepared.token?.(members[prepared.chatIds.indexOf(chatId)]?.[0] ?? 0);
      let stored = await readBack(http, chatId, token);
      let check = checkChat(chatId, stored, sentHere);
      for (const until = now() + REREAD_FOR_MS; !check.ok && now() < until; rereads++) {
        await sleep(5_000);
        stored = await readBack(http, chatId, token);
        check = checkChat(chatId, stored, sentHere);
      }
      return { stored, check };
    });
    const storedIds = new Set(chats.flatMap(({ stored }) => stored.messages.map((m) => m.clientMessageId)));
    const stored = [...measuredIds].filter((clientMessageId) => storedIds.has(clientMessageId)).length;
    const integrity = chats.map(({ check }) => check);
    const perSecond = (count: number) => (windowMs > 0 ? round((count / windowMs) * 1000, 1) : 0);
    const errorCount = [...errors.values()].reduce((sum, count) => sum + count, 0);
    return {
      shape,
      via,
      senders,
      chats: prepared.chatIds.length,
      setupMs: round(setupMs, 0),
      sent: measuredIds.size,
      acked: acks.length,
      errors: Object.fromEntries(errors),
      errorCount,
      clientTimeouts: timedOut.size,
      lateAcks,
      timeoutsStored: [...timedOut].filter((clientMessageId) => storedIds.has(clientMessageId)).length,
      handlerLog,
      settled,
      stored,
      windowMs: round(windowMs, 1),
      storedPerSecond: perSecond(stored),
      ackedPerSecond: perSecond(acks.length),
      ackMs: stats(acks),
      ackOrTimeoutMs: stats([...acks, ...Array.from(timedOut, () => ackTimeoutMs)]),
      replays,
      integrity: { ok: integrity.every((chat) => chat.ok), chats: integrity },
      rereads,
      otherFrames: Object.fromEntries(others),
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
      capacity: capacityReport(capacityRows, stored),
    };
  } finally {
    log?.stop();
    await Promise.all([...sockets.values()].map((socket) => socket.close()));
    await target.settle().catch(() => {});
  }
};

export interface HotShapes {
  readonly spread: ShapeResult;
  readonly hot: ShapeResult;
}

/** The spread shape first, so stragglers of the hot one (handlers still retrying) cannot slow it. */
export const runHot = async (
  target: Target,
  options: Options,
  runTag: string,
  meter: CapacityMeter,
): Promise<HotShapes> => {
  const shapes: ShapeResult[] = [];
  for (const shape of ['spread', 'hot'] as const) {
    progress(`cloud / hot mode: ${shape} (${options.hot.senders} senders over ${options.hot.via})…`);
    const result = await runShape(target, shape, options, runTag, meter);
    progress(
      `cloud / hot mode: ${shape}: ${result.stored} stored, ${num(result.storedPerSecond)} msg/s, ` +
        `${result.clientTimeouts} client time-outs, ${result.errorCount} errors, ` +
        `integrity ${result.integrity.ok ? 'ok' : 'FAILED'}`,
    );
    shapes.push(result);
  }
  const [spread, hot] = shapes as [ShapeResult, ShapeResult];
  return { spread, hot };
};
