/**
 * Property-based fuzzing of every HTTP route and WebSocket action of the route table
 * (shared/config/routes.ts), end to end over the local cloud's gateways. Requests are generated from
 * each route's zod schemas and mutated (test/fuzz/requests.ts), sent by every kind of caller — visitor,
 * user, agent, service, a user of another tenant, nobody, a broken credential — and held to three
 * invariants: never a 5xx; a refusal is the documented error envelope; a refusal changes nothing in the
 * table (a scan before and after). FUZZ_RUNS raises the runs per property (.scratch/reliability-fuzz.md).
 */
import { fc, it } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { httpRoutes, wsRoutes } from '../../shared/config/routes.ts';
import { oddString } from './arbitraries.ts';
import {
  envelopeProblem,
  ERROR_STATUS,
  fuzzParams,
  type FuzzWorld,
  propTimeout,
  runs,
  startWorld,
} from './harness.ts';
import { frameArb, type HttpCase, httpCaseArb } from './requests.ts';
import { FuzzSocket, upgradeStatus } from './sockets.ts';

let world: FuzzWorld;
const sockets = new Map<string, FuzzSocket>();
/** Outcomes per route (status or reply code), printed with FUZZ_STATS=1: how deep the generated input got. */
const outcomes = new Map<string, Map<string, number>>();
const count = (route: string, outcome: string | number): void => {
  const counts = outcomes.get(route) ?? new Map<string, number>();
  counts.set(String(outcome), (counts.get(String(outcome)) ?? 0) + 1);
  outcomes.set(route, counts);
};
const SOCKET_CALLERS = ['visitor', 'user', 'agent', 'service', 'foreign'] as const;

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  if (process.env.FUZZ_STATS)
    for (const [route, counts] of outcomes)
      console.log(`${route}: ${[...counts].map(([outcome, n]) => `${outcome}×${n}`).join(' ')}`);
  await Promise.all([...sockets.values()].map((socket) => socket.close()));
  await world?.cloud.stop();
});

/** Builds a route's arbitrary once the fixture exists (arbitraries are declared before `beforeAll`). */
const lazy = <T>(build: () => fc.Arbitrary<T>): fc.Arbitrary<T> => {
  let built: fc.Arbitrary<T> | undefined;
  return fc.constant(null).chain(() => (built ??= build()));
};

const describeCase = (request: HttpCase): string =>
  `${request.method} ${request.target.slice(0, 300)} as ${request.caller} ${JSON.stringify(request.headers).slice(0, 200)} body ${request.body?.slice(0, 300) ?? '(none)'}`;

const send = async (request: HttpCase): Promise<{ status: number; text: string }> => {
  const response = await fetch(`${world.cloud.urls.http}${request.target}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, text: await response.text() };
};

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

describe('every HTTP route, fuzzed end to end', () => {
  for (const route of httpRoutes) {
    const name = `${route.method} ${route.path}`;
    const numRuns = runs(12);
    it.prop([lazy(() => httpCaseArb(route, world.fixture))], fuzzParams(numRuns))(
      `${name}: no 5xx, refusals are error envelopes and change nothing`,
      async (request) => {
        await world.table.before();

        const { status, text } = await send(request);
        count(name, status);

        const context = `${describeCase(request)} → ${status} ${text.slice(0, 300)}`;
        expect(status, context).toBeLessThan(500);
        if (status < 400) {
          world.table.accepted();
          return;
        }
        expect(envelopeProblem(status, parsed(text)), context).toBeUndefined();
        expect(await world.table.changesSinceBefore(), context).toEqual([]);
      },
      propTimeout(numRuns),
    );
  }
});

const socketOf = async (caller: (typeof SOCKET_CALLERS)[number]): Promise<FuzzSocket> => {
  const open = sockets.get(caller);
  if (open?.open) return open;
  const socket = await FuzzSocket.open(world.cloud.urls.http, world.fixture.tokens[caller]);
  sockets.set(caller, socket);
  world.table.accepted();
  return socket;
};

describe('every WebSocket action, fuzzed end to end', () => {
  const frameRoutes = wsRoutes.filter(
    (route) => route.routeKey !== '$connect' && route.routeKey !== '$disconnect',
  );
  for (const route of frameRoutes) {
    const numRuns = runs(15);
    it.prop(
      [fc.constantFrom(...SOCKET_CALLERS), lazy(() => frameArb(route.routeKey, world.fixture))],
      fuzzParams(numRuns),
    )(
      `${route.routeKey}: no internal error, refusals are error envelopes and change nothing`,
      async (caller, frame) => {
        const socket = await socketOf(caller);
        await world.table.before();

        const reply = await socket.exchange(frame);
        count(route.routeKey, reply.type === 'error' ? String(reply.data?.code) : String(reply.type));

        const context = `${caller} sent ${frame.slice(0, 300)} → ${JSON.stringify(reply).slice(0, 300)}`;
        expect(String(reply.type), context).toMatch(/^(ack|pong|error)$/);
        expect(socket.open, context).toBe(true);
        if (reply.type !== 'error') {
          world.table.accepted();
          return;
        }
        const code = String(reply.data?.code);
        expect(ERROR_STATUS[code], context).toBeDefined();
        expect(typeof reply.data?.message, context).toBe('string');
        expect(await world.table.changesSinceBefore(), context).toEqual([]);
      },
      propTimeout(numRuns),
    );
  }

  it.prop(
    [
      fc.oneof(
        fc.constantFrom('', 'ticket=', 'ticket=x', 'ticket=%ZZ', 'ticket=a&ticket=b', 'token=x'),
        oddString(20).map((value) => `ticket=${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ''))}`),
      ),
      fc.dictionary(
        fc.constantFrom('origin', 'cookie', 'x-forwarded-for', 'sec-websocket-protocol'),
        fc.constantFrom('null', 'x', 'http://evil.example', 'a, b'),
        { maxKeys: 2 },
      ),
    ],
    fuzzParams(runs(8)),
  )(
    '$connect: a missing or bad ticket is refused with a 4xx and changes nothing',
    async (query, headers) => {
      await world.table.before();

      const status = await upgradeStatus(`${world.cloud.urls.ws}?${query}`, headers);
      count('$connect', status);

      const context = `?${query} ${JSON.stringify(headers)} → ${status}`;
      expect(status, context).toBeGreaterThanOrEqual(400);
      expect(status, context).toBeLessThan(500);
      expect(await world.table.changesSinceBefore(), context).toEqual([]);
    },
    propTimeout(runs(8)),
  );
});
