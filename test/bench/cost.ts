/**
 * The cost model: what AWS would bill for what one measured window did, in dollars per 1M chat messages,
 * by service. Pure: it takes counted calls, item sizes, invocations, durations, frames and log bytes
 * (cost-meters.ts measures them) and the price table (cost-prices.ts); it reads nothing else.
 *
 * Billing rules applied (AWS's, as documented on the pricing pages and in the DynamoDB developer guide):
 * - API Gateway WebSocket: every message received from or sent to a client counts, in 32 KB increments;
 *   HTTP API requests in 512 KB increments. Connection minutes are per connection, not per message.
 * - Lambda: one request per invocation, plus memory (GB) × duration, each invocation's duration rounded
 *   up to the next 1 ms.
 * - DynamoDB on demand: a write costs 1 write request unit per started 1 KB of the item (the larger of
 *   its sizes before and after), 2 in a transaction, also when its condition fails; each global secondary
 *   index entry written costs 1 per started 1 KB (an index key that moves is two writes: delete and put).
 *   A read costs 1 read request unit per started 4 KB strongly consistent, half of that eventually
 *   consistent, twice transactional; a Query or Scan sums the sizes of the items it reads before rounding;
 *   a read that finds nothing still costs the minimum. Stream reads by Lambda triggers are free.
 * - CloudWatch Logs: ingestion per GB (2^30 bytes) of log data.
 */
import { dollars, PRICES, type Prices } from './cost-prices.ts';

export type ReadConsistency = 'eventual' | 'strong' | 'transactional';

/** One DynamoDB request as billed. */
export type DynamoCall =
  | {
      readonly kind: 'read';
      readonly consistency: ReadConsistency;
      /**
       * One entry per billed read: each item of a GetItem, BatchGetItem or TransactGetItems (0 for a key
       * that found nothing), the summed size of the items one Query or Scan read.
       */
      readonly itemBytes: readonly number[];
    }
  | {
      readonly kind: 'write';
      readonly transactional: boolean;
      /** Each item written: the larger of its sizes before and after (a failed condition still counts). */
      readonly itemBytes: readonly number[];
      /** Each global-secondary-index entry written (two for an index whose key changes). */
      readonly indexEntryBytes?: readonly number[];
    };

export const KB = 1024;
/** Reads are billed per started 4 KB of an item. */
export const READ_BLOCK = 4 * KB;
const WS_INCREMENT = 32 * KB;
const HTTP_INCREMENT = 512 * KB;
const GB = 2 ** 30;

/** Started blocks of `block` bytes; an empty item or result still costs one. */
const blocks = (bytes: number, block: number): number => Math.max(1, Math.ceil(bytes / block));

/** Read request units per started block, by consistency. */
export const READ_FACTOR: Record<ReadConsistency, number> = { eventual: 0.5, strong: 1, transactional: 2 };

/** Read request units of one read request. */
export const readRequestUnits = (consistency: ReadConsistency, itemBytes: readonly number[]): number =>
  itemBytes.reduce((sum, bytes) => sum + blocks(bytes, READ_BLOCK) * READ_FACTOR[consistency], 0);

/** Write request units of one write request, on the table and on its indexes. */
export const writeRequestUnits = (
  call: Extract<DynamoCall, { kind: 'write' }>,
): { readonly table: number; readonly index: number } => ({
  table: call.itemBytes.reduce((sum, bytes) => sum + blocks(bytes, KB) * (call.transactional ? 2 : 1), 0),
  index: (call.indexEntryBytes ?? []).reduce((sum, bytes) => sum + blocks(bytes, KB), 0),
});

/** Lambda's billed duration of some invocations: each rounded up to the next millisecond (at least 1). */
export const billedDurationMs = (durationsMs: readonly number[]): number =>
  durationsMs.reduce((sum, ms) => sum + Math.max(1, Math.ceil(ms)), 0);

/** Lambda GB-seconds: each invocation's duration rounded up to the next millisecond. */
export const lambdaGbSeconds = (memoryMb: number, durationsMs: readonly number[]): number =>
  billedDurationMs(durationsMs) * (memoryMb / 1024 / 1000);

/** Billed WebSocket messages of some frames (32 KB increments). */
export const webSocketMessages = (frameBytes: readonly number[]): number =>
  frameBytes.reduce((sum, bytes) => sum + blocks(bytes, WS_INCREMENT), 0);

/** Billed HTTP API requests (512 KB increments). */
export const httpApiRequests = (requestBytes: readonly number[]): number =>
  requestBytes.reduce((sum, bytes) => sum + blocks(bytes, HTTP_INCREMENT), 0);

export interface FunctionUse {
  readonly name: string;
  readonly memoryMb: number;
  /** One per invocation. */
  readonly durationsMs: readonly number[];
}

export interface CostInput {
  /** Chat messages the window's figures are divided by. */
  readonly messages: number;
  /** Frames clients sent (in) and received (out), by size in bytes. */
  readonly frames: { readonly inBytes: readonly number[]; readonly outBytes: readonly number[] };
  readonly httpRequestBytes?: readonly number[];
  readonly functions: readonly FunctionUse[];
  readonly dynamodb: readonly DynamoCall[];
  /** Bytes ingested into CloudWatch Logs, by source. */
  readonly logs: readonly { readonly source: string; readonly bytes: number }[];
}

export type Service = 'API Gateway' | 'Lambda' | 'DynamoDB' | 'CloudWatch Logs';
export const SERVICES: readonly Service[] = ['API Gateway', 'Lambda', 'DynamoDB', 'CloudWatch Logs'];

export interface CostLine {
  readonly service: Service;
  readonly item: string;
  /** Billed quantity per chat message, in `unit`. */
  readonly perMessage: number;
  readonly unit: string;
  readonly usdPerMillionMessages: number;
}

export interface Cost {
  readonly messages: number;
  readonly lines: readonly CostLine[];
  readonly byService: Readonly<Record<Service, number>>;
  readonly usdPerMillionMessages: number;
  /** The most expensive line. */
  readonly dominant?: CostLine;
}

/** What AWS would bill for the window, in dollars per 1M chat messages, by service and line. */
export const costPerMillionMessages = (input: CostInput, prices: Prices = PRICES): Cost => {
  const perMessage = (quantity: number) => quantity / Math.max(1, input.messages);
  const lines: CostLine[] = [];
  // A line with nothing on it is left out, except the log lines: a measured 0 says something.
  const add = (service: Service, item: string, quantity: number, unit: string, usd: number) => {
    if (quantity === 0 && service !== 'CloudWatch Logs') return;
    lines.push({
      service,
      item,
      perMessage: perMessage(quantity),
      unit,
      usdPerMillionMessages: perMessage(usd) * 1e6,
    });
  };

  const received = webSocketMessages(input.frames.inBytes);
  const sent = webSocketMessages(input.frames.outBytes);
  add('API Gateway', 'WebSocket messages in', received, 'msg', dollars(prices.wsMessage, received));
  add('API Gateway', 'WebSocket messages out', sent, 'msg', dollars(prices.wsMessage, sent));
  const requests = httpApiRequests(input.httpRequestBytes ?? []);
  add('API Gateway', 'HTTP API requests', requests, 'req', dollars(prices.httpRequest, requests));

  for (const use of input.functions) {
    const invocations = use.durationsMs.length;
    const gbSeconds = lambdaGbSeconds(use.memoryMb, use.durationsMs);
    add('Lambda', `${use.name} requests`, invocations, 'req', dollars(prices.lambdaRequest, invocations));
    add(
      'Lambda',
      `${use.name} duration (${use.memoryMb} MB)`,
      gbSeconds,
      'GB-s',
      dollars(prices.lambdaArmGbSecond, gbSeconds),
    );
  }

  let rru = 0;
  let wruTable = 0;
  let wruIndex = 0;
  for (const call of input.dynamodb) {
    if (call.kind === 'read') rru += readRequestUnits(call.consistency, call.itemBytes);
    else {
      const units = writeRequestUnits(call);
      wruTable += units.table;
      wruIndex += units.index;
    }
  }
  const wru = (units: number) => dollars(prices.dynamoWriteRequestUnit, units);
  add('DynamoDB', 'write request units, table', wruTable, 'WRU', wru(wruTable));
  add('DynamoDB', 'write request units, indexes', wruIndex, 'WRU', wru(wruIndex));
  add('DynamoDB', 'read request units', rru, 'RRU', dollars(prices.dynamoReadRequestUnit, rru));

  for (const { source, bytes } of input.logs) {
    add('CloudWatch Logs', `ingested: ${source}`, bytes, 'B', dollars(prices.logsIngestedGb, bytes / GB));
  }

  const byService = Object.fromEntries(
    SERVICES.map((service) => [
      service,
      lines
        .filter((line) => line.service === service)
        .reduce((sum, line) => sum + line.usdPerMillionMessages, 0),
    ]),
  ) as Record<Service, number>;
  const dominant = lines.reduce<CostLine | undefined>(
    (top, line) => (!top || line.usdPerMillionMessages > top.usdPerMillionMessages ? line : top),
    undefined,
  );
  return {
    messages: input.messages,
    lines,
    byService,
    usdPerMillionMessages: SERVICES.reduce((sum, service) => sum + byService[service], 0),
    ...(dominant ? { dominant } : {}),
  };
};
