/**
 * The fuzz tests' world: one local cloud (the real handlers behind the emulated gateways and DynamoDB
 * Local), callers of every kind, a small fixture to aim at, and the two invariants every refused request
 * is held to — the documented error envelope, and an unchanged table (compared by a scan before and
 * after).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { fc } from '@fast-check/vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { api } from '../support/clients.ts';
import { EXTRA_KEY, EXTRA_VALUE, type Hints, oddString } from './arbitraries.ts';

/** Runs per property: FUZZ_RUNS raises it for a long run (e.g. FUZZ_RUNS=500). */
export const runs = (fallback: number): number => Number(process.env.FUZZ_RUNS ?? fallback);
/** fast-check parameters of a property: its runs, and FUZZ_SEED to replay a failure's seed. */
export const fuzzParams = (numRuns: number): { numRuns: number; seed?: number } =>
  process.env.FUZZ_SEED ? { numRuns, seed: Number(process.env.FUZZ_SEED) } : { numRuns };
/** A property's time limit: room for its runs and for shrinking a counterexample on a busy machine. */
export const propTimeout = (numRuns: number): number => Math.max(60_000, numRuns * 2_000);

export const TENANT = 'demo';
export const FOREIGN_TENANT = 'fuzz-other';

/** Who calls: the four roles of the tenant, a user of another tenant, nobody, and a bad credential. */
export const CALLERS = ['visitor', 'user', 'agent', 'service', 'foreign', 'none', 'bad'] as const;
export type Caller = (typeof CALLERS)[number];

export interface Fixture {
  readonly visitorId: string;
  /** The visitor's chat, the user's chat (with the agent), a chat of the other tenant. */
  readonly chats: { readonly visitor: string; readonly user: string; readonly foreign: string };
  readonly messages: { readonly user: string; readonly foreign: string };
  /** Bearer tokens per role of the tenant, and of the other tenant's user. */
  readonly tokens: Readonly<Record<'visitor' | 'user' | 'agent' | 'service' | 'foreign', string>>;
}

export interface FuzzWorld {
  readonly cloud: LocalCloud;
  readonly fixture: Fixture;
  readonly table: TableWatch;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Starts the local cloud and writes the fixture through the public API. */
export const startWorld = async (): Promise<FuzzWorld> => {
  // One-second tumbling windows: the fan-out's messages counter lands when a window ends, and the table
  // is compared only once every window has (a minute-long window would stall every scan).
  const cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    demoTexts: {},
    tumblingWindowSeconds: 1,
  });
  try {
    const client = api(cloud.urls.http);
    const visitor = await client.ok<{ visitorId: string; token: string }>('POST', '/v1/visitors', undefined, {
      tenantId: TENANT,
    });
    const [user, agent, service, foreign] = await Promise.all([
      client.token(TENANT, 'fz-user', 'user'),
      client.token(TENANT, 'fz-agent', 'agent'),
      client.token(TENANT, 'fz-service', 'service'),
      client.token(FOREIGN_TENANT, 'fz-user', 'user'),
    ]);
    const visitorChat = await client.createChat(visitor.token, { subject: 'visitor' });
    const userChat = await client.createChat(user, { subject: 'user', participants: ['fz-agent'] });
    const foreignChat = await client.createChat(foreign, { subject: 'foreign' });
    const send = (token: string, chatId: string) =>
      client.ok<{ messageId: string }>('POST', `/v1/chats/${chatId}/messages`, token, {
        clientMessageId: 'fixture-1',
        type: 'text',
        text: 'hello',
      });
    const [userMessage, foreignMessage] = await Promise.all([
      send(user, userChat),
      send(foreign, foreignChat),
    ]);
    await cloud.windowsClosed();
    const fixture: Fixture = {
      visitorId: visitor.visitorId,
      chats: { visitor: visitorChat, user: userChat, foreign: foreignChat },
      messages: { user: userMessage.messageId, foreign: foreignMessage.messageId },
      tokens: { visitor: visitor.token, user, agent, service, foreign },
    };
    const table = new TableWatch(createTableContext(cloud.tableName, cloud.urls.dynamodb), () =>
      cloud.windowsClosed(),
    );
    return { cloud, fixture, table };
  } catch (error) {
    await cloud.stop();
    throw error;
  }
};

/** Values the generators substitute for properties and path parameters of these names. */
export const hintsFor = (fixture: Fixture): Hints => {
  const garbage = fc.oneof(fc.constantFrom('x', 'ch_', '%', '\u0000', '🙂', 'a'.repeat(2_000)), fc.string());
  const pick = (...values: string[]) =>
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, garbage);
  const chatId = pick(
    fixture.chats.visitor,
    fixture.chats.user,
    fixture.chats.foreign,
    'ch_00000000000000000000',
  );
  const messageId = pick(fixture.messages.user, fixture.messages.foreign, 'm_000000000000_1');
  const userId = pick(fixture.visitorId, 'fz-user', 'fz-agent', 'fz-service', 'system', 'nobody');
  const cursor = fc.oneof(
    fc.constantFrom(
      b64({ pk: 'x' }),
      b64({ gsi1pk: `PCHATS#${TENANT}#fz-user`, gsi1sk: 'zzz' }),
      b64({ gsi2pk: `TCHATS#${TENANT}`, gsi2sk: { S: 'x' } }),
      b64({ pk: `CHAT#${fixture.chats.user}`, sk: 'zzz' }),
      b64({ pk: `BLOCKS#${TENANT}#fz-user`, sk: 'BLOCKED#', extra: 'x' }),
      b64([1, 2]),
      b64('x'.repeat(600)),
    ),
    fc.string({ minLength: 1, maxLength: 40 }),
  );
  return {
    chatId,
    messageId,
    replyTo: messageId,
    userId,
    agentId: userId,
    participants: fc.array(userId, { maxLength: 3 }),
    mentions: fc.array(userId, { maxLength: 3 }),
    tenantId: pick(TENANT, FOREIGN_TENANT, 'no-such-tenant'),
    emoji: pick('👍', '❤️', '🏳️‍🌈', '👍🏽', 'a'),
    attachmentId: pick('att_00000000000000000000'),
    text: fc.oneof(
      { weight: 3, arbitrary: fc.constant('hello') },
      oddString(20),
      fc.string({ maxLength: 30 }),
    ),
    cursor,
    // Long polls must not wait: only 0 or values the schema refuses.
    waitSeconds: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      fc.constantFrom('0', -1, 21, 'abc', 1.5, ''),
    ),
    // `after` and `before` together are refused: mostly only one of them.
    before: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.nat({ max: 50 })),
    userIds: fc.array(userId, { minLength: 1, maxLength: 4 }).map((ids) => ids.map(String).join(',')),
    // Metadata filters of GET /v1/chats and GET /v1/chats/changes (indexed keys and others).
    [EXTRA_KEY]: fc
      .tuple(
        fc.constantFrom('priority', 'department', 'project_id', 'tier', 'a.b', 'x..y', '__proto__'),
        fc.constantFrom(
          '',
          '__eq',
          '__ne',
          '__gt',
          '__gte',
          '__lt',
          '__between',
          '__begins_with',
          '__contains',
          '__in',
          '__exists',
          '__nope',
        ),
      )
      .map(([key, op]) => `metadata__${key}${op}`),
    [EXTRA_VALUE]: fc.oneof(
      fc.constantFrom(
        '1',
        '-0',
        '1e300',
        '5e-324',
        'NaN',
        'Infinity',
        '1,2',
        '2,1',
        'a,b',
        'true',
        '',
        ' ',
        'x'.repeat(1_024),
      ),
      fc.double().map(String),
      oddString(8),
    ),
  };
};

/** The `Authorization` header of each caller (none for `none`; a broken credential of some kind for `bad`). */
export const authorizationArb = (fixture: Fixture, caller: Caller): fc.Arbitrary<string | undefined> => {
  if (caller === 'none') return fc.constant(undefined);
  if (caller !== 'bad') return fc.constant(`Bearer ${fixture.tokens[caller]}`);
  const valid = fixture.tokens.user;
  const [header = '', payload = ''] = valid.split('.');
  const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
  const forged = `${header}.${b64({ sub: 'fz-agent', role: 'agent', tenantId: TENANT })}.${valid.split('.')[2] ?? ''}`;
  return fc.oneof(
    fc.constantFrom(
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${valid.slice(0, -4)}AAAA`,
      `Bearer ${unsigned}`,
      `Bearer ${forged}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${valid} ${valid}`,
      `Bearer a.b.c`,
      `Bearer ${'x'.repeat(4_000)}`,
    ),
    fc.string({ maxLength: 60, unit: 'grapheme-ascii' }).map((value) => `Bearer ${value}`),
  );
};

// ---- invariants ---------------------------------------------------------------------------------------

/** The codes of docs/protocol.md and the status each goes with. */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
};

/** What is wrong with an error body (the `{ error: { code, message, details? } }` envelope), or undefined. */
export const envelopeProblem = (status: number, body: unknown): string | undefined => {
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (!error || typeof error !== 'object') return 'no error object';
  if (Object.keys(body as object).length !== 1) return 'keys beside error';
  if (typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '')
    return 'code and message must be strings';
  if (ERROR_STATUS[error.code] !== status) return `code ${error.code} with status ${status}`;
  const extra = Object.keys(error).filter(
    (key) => !['code', 'message', 'details', 'retryAfter'].includes(key),
  );
  if (extra.length > 0) return `unexpected keys ${extra.join(', ')}`;
  if (/\n\s+at |\.ts:\d+/.test(JSON.stringify(body))) return 'a stack trace';
  return undefined;
};

// ---- the table, before and after ----------------------------------------------------------------------

/**
 * Items excluded from the comparison: rate-limit windows count attempts, refused ones included (a
 * limiter that did not would let a caller probe for free).
 */
const IGNORED_ENTITIES = new Set(['rateLimit']);

/** An item as text with its keys sorted (sets as sorted arrays), so equal items compare equal. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) => {
    if (inner instanceof Set) return [...(inner as Set<unknown>)].map(String).sort();
    if (inner && typeof inner === 'object' && !Array.isArray(inner))
      return Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)));
    return inner;
  });

type TableState = ReadonlyMap<string, string>;

/** Scans the (small) table; keeps the last state while only refused requests follow each other. */
export class TableWatch {
  private last: TableState | undefined;

  constructor(
    private readonly table: TableContext,
    private readonly idle: () => Promise<void>,
  ) {}

  async scan(): Promise<TableState> {
    const items = new Map<string, string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.doc.send(
        new ScanCommand({
          TableName: this.table.tableName,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (IGNORED_ENTITIES.has(String(item.entity))) continue;
        items.set(`${String(item.pk)} | ${String(item.sk)}`, canonical(item));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** The table before a request: settled (stream consumers done, windows ended) after anything was accepted. */
  async before(): Promise<void> {
    if (this.last) return;
    await this.idle();
    this.last = await this.scan();
  }

  /** After a refused request: what changed since `before()` (empty when nothing did). */
  async changesSinceBefore(): Promise<string[]> {
    const before = this.last ?? new Map<string, string>();
    const after = await this.scan();
    this.last = after;
    const changes: string[] = [];
    for (const [key, item] of after) {
      const old = before.get(key);
      if (old === undefined) changes.push(`added ${key}: ${item.slice(0, 300)}`);
      else if (old !== item) changes.push(`changed ${key}: ${old.slice(0, 300)} → ${item.slice(0, 300)}`);
    }
    for (const key of before.keys()) if (!after.has(key)) changes.push(`removed ${key}`);
    return changes;
  }

  /** A request was accepted: the next `before()` scans again. */
  accepted(): void {
    this.last = undefined;
  }
}
