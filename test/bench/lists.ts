/**
 * Live chat lists: how long after a chat change a watching socket (watchChats) and a long-polling
 * client (GET /v1/chats/changes) see it, through the local cloud, and whether both saw exactly the same
 * envelopes. Run: `npm run bench:lists -- [--changes 40] [--gap-ms 250] [--out file.json]`.
 *
 * Each round closes or reopens one of a few chats, alternating, so every change enters or leaves the
 * watched filter (`status=open`): half the envelopes carry `leftFilter: true`. Latency is measured from
 * the PATCH's response to the envelope's arrival on each path.
 */
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { api, connect, type Envelope } from '../support/clients.ts';
import { percentile } from './stats.ts';

process.env.AWS_REGION ??= 'us-east-1';
const { startLocalCloud } = await import('../../infra/local/cloud.ts');

const { values } = parseArgs({
  options: {
    changes: { type: 'string', default: '40' },
    'gap-ms': { type: 'string', default: '250' },
    out: { type: 'string' },
  },
});
const changes = Number(values.changes);
const gapMs = Number(values['gap-ms']);
if (!Number.isInteger(changes) || changes < 1 || !Number.isFinite(gapMs) || gapMs < 0) {
  console.error('usage: --changes N (≥ 1) --gap-ms MS (≥ 0)');
  process.exit(2);
}

const summary = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const ms = (value: number) => Math.round(value * 10) / 10;
  return {
    p50: ms(percentile(sorted, 50)),
    p95: ms(percentile(sorted, 95)),
    max: ms(sorted.at(-1) ?? Number.NaN),
  };
};

const cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
try {
  const client = api(cloud.urls.http);
  const agent = await client.token('demo', 'bench-lists', 'agent');
  const filter = { status: 'open', metadata__department: 'bench-lists' };
  const chatIds = await Promise.all(
    Array.from({ length: 4 }, () => client.createChat(agent, { metadata: { department: 'bench-lists' } })),
  );
  await cloud.idle();

  const socket = await connect(client, agent);
  await socket.request({ action: 'watchChats', filter });
  const socketAt = new Map<string, number>();
  const pushed = new Map<string, Envelope>();
  socket.ws.on('message', (raw) => {
    const envelope = JSON.parse(String(raw)) as Envelope;
    if (!envelope.type.startsWith('chat.')) return;
    socketAt.set(envelope.id, performance.now());
    pushed.set(envelope.id, envelope);
  });

  const polled: Envelope[] = [];
  const pollAt = new Map<string, number>();
  let since = (await client.call('GET', `/v1/chats/changes?${new URLSearchParams(filter)}`, agent)).body
    .nextSince as string;
  let polling = true;
  let polls = 0;
  const poller = (async () => {
    while (polling) {
      const query = new URLSearchParams({ ...filter, since, waitSeconds: '5' });
      const response = await client.call('GET', `/v1/chats/changes?${query}`, agent);
      polls++;
      if (response.status !== 200)
        throw new Error(`poll: ${response.status} ${JSON.stringify(response.body)}`);
      const now = performance.now();
      for (const envelope of response.body.items as Envelope[]) {
        polled.push(envelope);
        pollAt.set(envelope.id, now);
      }
      since = response.body.nextSince as string;
    }
  })();

  const doneAt = new Map<string, number>();
  for (let round = 0; round < changes; round++) {
    const chatId = chatIds[round % chatIds.length] as string;
    const status = Math.floor(round / chatIds.length) % 2 === 0 ? 'closed' : 'open';
    const response = await client.call('PATCH', `/v1/chats/${chatId}`, agent, { status });
    if (response.status !== 200) throw new Error(`PATCH: ${response.status}`);
    doneAt.set(`${chatId}:event:${response.body.lastEventSeq as number}`, performance.now());
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  const deadline = Date.now() + 15_000;
  while ((socketAt.size < changes || pollAt.size < changes) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  polling = false;
  await poller;
  await socket.close();

  const ids = [...doneAt.keys()];
  const latency = (seen: Map<string, number>) =>
    ids.flatMap((id) => (seen.has(id) ? [(seen.get(id) as number) - (doneAt.get(id) as number)] : []));
  const result = {
    at: new Date().toISOString(),
    changes,
    gapMs,
    socket: { received: socketAt.size, latencyMs: summary(latency(socketAt)) },
    poll: {
      received: pollAt.size,
      duplicates: polled.length - pollAt.size,
      requests: polls,
      latencyMs: summary(latency(pollAt)),
    },
    /** Every polled envelope deep-equals the pushed one with its id, and none is missing. */
    sameEnvelopes:
      polled.length === pushed.size &&
      polled.every((envelope) => isDeepStrictEqual(envelope, pushed.get(envelope.id))),
    leftFilter: polled.filter((envelope) => envelope.leftFilter).length,
  };
  console.log(JSON.stringify(result, null, 2));
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  if (!result.sameEnvelopes || result.socket.received !== changes || result.poll.received !== changes)
    process.exitCode = 1;
} finally {
  await cloud.stop();
}
