/**
 * Benchmark-only meters for the cost model (cost.ts), next to the DynamoDB meter (capacity.ts). Like it,
 * they patch things in THIS process only, and change no behaviour:
 *
 * - frames: `send` of the `ws` package's WebSocket, so every frame a bench client sends (in) and every
 *   frame the local WebSocket gateway sends to a client (out: route responses such as `ack`, and the
 *   @connections pushes) is counted with its size and, out, its envelope type;
 * - handler logs: the writes to stdout and stderr, so the bytes of every Powertools record (the logger's
 *   JSON lines and the metrics' EMF lines) are counted; EMF lines and records below WARN are counted and
 *   not printed (they would bury the report), WARN and ERROR records pass through;
 * - invocations: every handler of the route table is a middy instance: one more middleware on each records
 *   when an invocation ends, and the Powertools logger's `addContext` (called by `injectLambdaContext`,
 *   the first middleware of every handler) when it began, keyed by the invocation's Lambda context.
 *   Installed once the local cloud runs, so the handler modules are the ones it loaded.
 *
 * What the local cloud cannot show is modelled, and named so in the report: Lambda's START / END /
 * REPORT lines per invocation and API Gateway's access-log line per frame received.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { CapacityRow } from './capacity.ts';
import type { CostInput, FunctionUse } from './cost.ts';
import { isRecord } from './util.ts';
import { DEFAULT_SYSTEM_LOG_LEVEL } from '../../infra/constructs/config.ts';

const byteLength = (data: unknown): number => {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (Buffer.isBuffer(data) || ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (Array.isArray(data)) return data.reduce((sum: number, part) => sum + byteLength(part), 0);
  return 0;
};

const TYPE = /"type"\s*:\s*"([^"]{1,60})"/;

export interface FrameWindow {
  readonly inBytes: readonly number[];
  readonly outBytes: readonly number[];
  /** Frames sent to clients, by envelope type. */
  readonly outByType: Readonly<Record<string, number>>;
}

export interface LogWindow {
  /** Bytes of the Powertools logger's records, and how many of each level. */
  readonly recordBytes: number;
  readonly recordsByLevel: Readonly<Record<string, number>>;
  /** Bytes of the metrics' EMF lines, and how many. */
  readonly emfBytes: number;
  readonly emfLines: number;
}

export interface CostWindow {
  readonly frames: FrameWindow;
  readonly logs: LogWindow;
  /** Empty when the invocation meter is not installed (the relay). */
  readonly functions: readonly FunctionUse[];
}

export interface CostMark {
  readonly frames: { readonly in: number; readonly out: number };
  readonly logs: LogTotals;
  readonly invocations: ReadonlyMap<string, number>;
}

interface LogTotals {
  recordBytes: number;
  emfBytes: number;
  emfLines: number;
  readonly recordsByLevel: Record<string, number>;
}

/**
 * The CloudWatch Logs lines of a window: the handlers' records and EMF lines (measured), Lambda's
 * system log lines (modelled per invocation) and the API's access log (modelled by the caller).
 */
export const logLines = (
  logs: Pick<LogTotals, 'recordBytes' | 'emfBytes'>,
  invocations: number,
  accessLog: { readonly source: string; readonly bytes: number },
): { readonly source: string; readonly bytes: number }[] => [
  { source: 'handler log records (measured)', bytes: logs.recordBytes },
  { source: 'EMF metric lines (measured)', bytes: logs.emfBytes },
  {
    source: `Lambda system log lines at ${DEFAULT_SYSTEM_LOG_LEVEL} (modelled)`,
    bytes: invocations * LAMBDA_PLATFORM_BYTES_PER_INVOCATION,
  },
  accessLog,
];

export interface CostMeters {
  mark(): CostMark;
  since(mark: CostMark): CostWindow;
  /** Adds the invocation meter (after the local cloud has loaded its handlers). */
  meterInvocations(projectRoot: string): Promise<void>;
}

let installed: CostMeters | undefined;

/** Installs the frame and log meters once per process (idempotent); `meterInvocations` adds the third. */
export const installCostMeters = (): CostMeters => {
  if (installed) return installed;

  // Frames: the bench clients' sends (in) and the gateway's sends (out).
  const inBytes: number[] = [];
  const outBytes: number[] = [];
  const outTypes: string[] = [];
  const socket = WebSocket.prototype as unknown as {
    send: (this: WebSocket, data: unknown, ...rest: unknown[]) => void;
  };
  const send = socket.send;
  socket.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    const bytes = byteLength(data);
    if ((this as unknown as { _isServer?: boolean })._isServer) {
      outBytes.push(bytes);
      const text =
        typeof data === 'string'
          ? data.slice(0, 300)
          : (Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)).toString('utf8', 0, 300);
      outTypes.push(TYPE.exec(text)?.[1] ?? '?');
    } else {
      inBytes.push(bytes);
    }
    return send.call(this, data, ...rest);
  };

  // Handler logs: Powertools records (one JSON line per write outside POWERTOOLS_DEV).
  const logs: LogTotals = { recordBytes: 0, emfBytes: 0, emfLines: 0, recordsByLevel: {} };
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
      if (text.startsWith('{')) {
        const bytes = Buffer.byteLength(text);
        if (text.includes('"_aws"')) {
          logs.emfBytes += bytes;
          logs.emfLines++;
          return true;
        }
        const level = /"level"\s*:\s*"([A-Z]+)"/.exec(text)?.[1];
        if (level) {
          logs.recordBytes += bytes;
          logs.recordsByLevel[level] = (logs.recordsByLevel[level] ?? 0) + 1;
          if (level !== 'WARN' && level !== 'ERROR' && level !== 'CRITICAL') return true;
        }
      }
      return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  }

  // Invocations: per function, each invocation's duration (ms); filled by meterInvocations.
  const durations = new Map<string, { readonly memoryMb: number; readonly ms: number[] }>();

  const meters: CostMeters = {
    mark: () => ({
      frames: { in: inBytes.length, out: outBytes.length },
      logs: { ...logs, recordsByLevel: { ...logs.recordsByLevel } },
      invocations: new Map([...durations].map(([name, { ms }]) => [name, ms.length])),
    }),
    since: (mark) => {
      const outByType: Record<string, number> = {};
      for (const type of outTypes.slice(mark.frames.out)) outByType[type] = (outByType[type] ?? 0) + 1;
      const recordsByLevel: Record<string, number> = {};
      for (const [level, count] of Object.entries(logs.recordsByLevel)) {
        const delta = count - (mark.logs.recordsByLevel[level] ?? 0);
        if (delta > 0) recordsByLevel[level] = delta;
      }
      return {
        frames: {
          inBytes: inBytes.slice(mark.frames.in),
          outBytes: outBytes.slice(mark.frames.out),
          outByType,
        },
        logs: {
          recordBytes: logs.recordBytes - mark.logs.recordBytes,
          recordsByLevel,
          emfBytes: logs.emfBytes - mark.logs.emfBytes,
          emfLines: logs.emfLines - mark.logs.emfLines,
        },
        functions: [...durations]
          .map(([name, { memoryMb, ms }]) => ({
            name,
            memoryMb,
            durationsMs: ms.slice(mark.invocations.get(name) ?? 0),
          }))
          .filter((use) => use.durationsMs.length > 0),
      };
    },
    meterInvocations: async (projectRoot) => {
      if (durations.size > 0) return;
      // Imported now, not at start: the handlers (and the logger they share) read their configuration
      // from the environment the local cloud sets, when first imported.
      const [{ logger }, routes, { DEFAULT_MEMORY_MB }] = await Promise.all([
        import('../../shared/runtime/logger.ts'),
        import('../../shared/config/routes.ts'),
        import('../../infra/constructs/functions.ts'),
      ]);
      const started = new WeakMap<object, number>();
      const addContext = logger.addContext.bind(logger);
      logger.addContext = (context) => {
        started.set(context, performance.now());
        addContext(context);
      };
      for (const route of routes.deployedRoutes()) {
        const module = (await import(pathToFileURL(join(projectRoot, route.handler)).href)) as {
          handler?: unknown;
        };
        const handler = module.handler as { use?: (middleware: object) => unknown } | undefined;
        if (typeof handler?.use !== 'function') continue; // not a middy handler: not metered
        const ms: number[] = [];
        durations.set(routes.functionId(route), { memoryMb: route.memoryMb ?? DEFAULT_MEMORY_MB, ms });
        const ended = (request: { context?: unknown }) => {
          const context = isRecord(request.context) ? request.context : undefined;
          const at = context ? started.get(context) : undefined;
          if (at !== undefined) ms.push(performance.now() - at);
        };
        handler.use({ after: ended, onError: ended });
      }
    },
  };
  installed = meters;
  return meters;
};

/**
 * Lambda's own lines per invocation at the system log level INFO: START, END and REPORT, with a request
 * id of 36 characters (their Text-format sizes; the JSON records are of the same order).
 */
const REQUEST_ID = '00000000-0000-0000-0000-000000000000';
const LAMBDA_PLATFORM_BYTES_AT_INFO = [
  `START RequestId: ${REQUEST_ID} Version: $LATEST`,
  `END RequestId: ${REQUEST_ID}`,
  `REPORT RequestId: ${REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 96 MB\t`,
].reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);

/**
 * Lambda's own lines per invocation as the stack deploys them (`systemLogLevel`, infra/constructs/config.ts):
 * none at WARN, the default (an invocation that succeeds writes no line at WARN); the lines above at INFO
 * or DEBUG. Modelled: the local cloud writes none.
 */
export const LAMBDA_PLATFORM_BYTES_PER_INVOCATION =
  DEFAULT_SYSTEM_LOG_LEVEL === 'WARN' ? 0 : LAMBDA_PLATFORM_BYTES_AT_INFO;

/**
 * One WebSocket access-log record (the JSON format of WEBSOCKET_ACCESS_LOG in infra/constructs/apis.ts)
 * filled with values of the usual lengths; API Gateway writes one per frame it routes. Modelled.
 */
export const WS_ACCESS_LOG_BYTES_PER_FRAME = Buffer.byteLength(
  JSON.stringify({
    requestId: 'Xk3mJF1aoAMEb_Q=',
    requestTime: '03/Dec/2026:15:48:06 +0000',
    sourceIp: '203.0.113.10',
    eventType: 'MESSAGE',
    routeKey: 'sendMessage',
    connectionId: 'Xk3mJcWzIAMCIbQ=',
    status: '200',
    integrationStatus: '200',
    integrationLatency: '45',
    error: '-',
    integrationError: '-',
  }),
);

/**
 * One HTTP API access-log record (the JSON format of HTTP_ACCESS_LOG in infra/constructs/apis.ts) filled
 * with values of the usual lengths for a poll; API Gateway writes one per request. Modelled.
 */
export const HTTP_ACCESS_LOG_BYTES_PER_REQUEST = Buffer.byteLength(
  JSON.stringify({
    requestId: 'Xk3mJF1aoAMEb_Q=',
    requestTime: '03/Dec/2026:15:48:06 +0000',
    sourceIp: '203.0.113.10',
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    method: 'GET',
    path: '/v1/chats/ch_0123456789abcdefghij/events',
    routeKey: 'GET /v1/chats/{chatId}/events',
    protocol: 'HTTP/1.1',
    status: '200',
    responseLength: '187',
    responseLatency: '23',
    integrationStatus: '200',
    integrationLatency: '21',
    integrationError: '-',
    error: '-',
  }),
);

/** The cost model's input for one measured window of the cloud. */
export const costInputOf = (
  window: CostWindow,
  capacityRows: readonly CapacityRow[],
  messages: number,
): CostInput => {
  const invocations = window.functions.reduce((sum, use) => sum + use.durationsMs.length, 0);
  return {
    messages,
    frames: { inBytes: window.frames.inBytes, outBytes: window.frames.outBytes },
    functions: window.functions,
    dynamodb: capacityRows.flatMap((row) => row.billed),
    logs: logLines(window.logs, invocations, {
      source: 'API Gateway access log (modelled)',
      bytes: window.frames.inBytes.length * WS_ACCESS_LOG_BYTES_PER_FRAME,
    }),
  };
};
