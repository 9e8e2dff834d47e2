/**
 * What the polls cost in the shared meters, told apart from everything running at the same time (the
 * counterparts' sends, the stream consumers). Bench only, this process only, like capacity.ts and
 * cost-meters.ts: every HTTP request a server of this process receives whose method and path are a poll
 * (`GET /v1/chats/{chatId}/events`) is handled inside an AsyncLocalStorage scope, so what it causes
 * carries the scope: its handler's DynamoDB calls (seen through the capacity meter's `observe`, which
 * calls back in the caller's async context) and the log lines its handler writes (Powertools records and
 * EMF metric lines). Lambda invocations need no scope: the cost meters count them per function.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type IncomingMessage, Server } from 'node:http';
import type { CapacityMeter } from './capacity.ts';
import type { BilledCall } from './cost-dynamodb.ts';

/** A poll of a chat's events, as the gateway receives it (path and query string). */
export const isPollRequest = (method: string | undefined, url: string | undefined): boolean =>
  method === 'GET' && /^\/v1\/chats\/[^/?]+\/events(?:\?|$)/.test(url ?? '');

export interface PollScopeMark {
  readonly calls: number;
  readonly recordBytes: number;
  readonly emfBytes: number;
}

export interface PollScopeWindow {
  /** The DynamoDB calls the polls made, as billed. */
  readonly dynamodb: readonly BilledCall[];
  /** How many of them, by operation and what they touched (`GetItem CHAT`, `Query TYPING*`, …). */
  readonly callsByTarget: Readonly<Record<string, number>>;
  /** Bytes of the Powertools records and of the EMF lines the poll handler wrote. */
  readonly recordBytes: number;
  readonly emfBytes: number;
}

export interface PollScope {
  mark(): PollScopeMark;
  since(mark: PollScopeMark): PollScopeWindow;
  /** Puts `emit` and the stream writes back and stops observing the meter. */
  uninstall(): void;
}

const POLL = 'poll';

/** Installs the scope; call it before the polls start (the servers may already be listening). */
export const installPollScope = (meter: Pick<CapacityMeter, 'observe'>): PollScope => {
  const scope = new AsyncLocalStorage<string>();
  const inPoll = () => scope.getStore() === POLL;

  // Requests: http.Server inherits emit from EventEmitter; an own emit on its prototype wraps it.
  const server = Server.prototype as unknown as {
    emit: (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  };
  const hadOwn = Object.hasOwn(server, 'emit');
  const emit = server.emit;
  server.emit = function (this: Server, event, ...args) {
    const request = event === 'request' ? (args[0] as IncomingMessage | undefined) : undefined;
    if (request && isPollRequest(request.method, request.url)) {
      return scope.run(POLL, () => emit.call(this, event, ...args));
    }
    return emit.call(this, event, ...args);
  };

  // DynamoDB calls, in the caller's context.
  const calls: { readonly call: BilledCall; readonly target: string }[] = [];
  const unobserve = meter.observe((call, row) => {
    if (inPoll()) calls.push({ call, target: `${row.operation} ${row.target}` });
  });

  // Log lines: the handlers write one JSON line per record or metric (POWERTOOLS_DEV off).
  let recordBytes = 0;
  let emfBytes = 0;
  const writes: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (inPoll()) {
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
        if (text.startsWith('{')) {
          if (text.includes('"_aws"')) emfBytes += Buffer.byteLength(text);
          else recordBytes += Buffer.byteLength(text);
        }
      }
      return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
    writes.push(() => {
      stream.write = write;
    });
  }

  return {
    mark: () => ({ calls: calls.length, recordBytes, emfBytes }),
    since: (mark) => {
      const window = calls.slice(mark.calls);
      const callsByTarget: Record<string, number> = {};
      for (const { target } of window) callsByTarget[target] = (callsByTarget[target] ?? 0) + 1;
      return {
        dynamodb: window.map(({ call }) => call),
        callsByTarget,
        recordBytes: recordBytes - mark.recordBytes,
        emfBytes: emfBytes - mark.emfBytes,
      };
    },
    uninstall: () => {
      if (hadOwn) server.emit = emit;
      else delete (server as Partial<typeof server>).emit;
      unobserve();
      for (const restore of writes) restore();
    },
  };
};
