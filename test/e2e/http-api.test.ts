/** The HTTP API through the local cloud's gateway and the real handlers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api } from '../support/clients.ts';
import { nextPollWait } from '../support/poll-waits.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let carol: string;
let agent: string;
let outsider: string;

beforeAll(async () => {
  cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    env: { VISITOR_RATE_PER_MINUTE: '5' },
  });
  client = api(cloud.urls.http);
  [alice, bob, carol, agent, outsider] = await Promise.all([
    client.token('demo', 'alice', 'user'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'carol', 'user'),
    client.token('demo', 'agent-1', 'agent'),
    client.token('other', 'alice', 'user'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

const createChat = (token: string, body: unknown = { participants: ['bob'] }) =>
  client.createChat(token, body);
const send = (token: string, chatId: string, clientMessageId: string, text = 'hello') =>
  client.call('POST', `/v1/chats/${chatId}/messages`, token, { clientMessageId, type: 'text', text });

describe('authentication', () => {
  it('refuses requests without a token, with a malformed one, or with a tampered signature', async () => {
    const [none, garbage, tampered] = await Promise.all([
      client.call('GET', '/v1/chats'),
      client.call('GET', '/v1/chats', 'not-a-jwt'),
      client.call('GET', '/v1/chats', `${alice.slice(0, -4)}AAAA`),
    ]);

    for (const response of [none, garbage, tampered]) {
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'unauthorized' });
    }
  });

  it('gives a visitor of a known tenant a working token and refuses an unknown tenant with 404', async () => {
    const visitor = await client.call('POST', '/v1/visitors', undefined, { tenantId: 'demo', name: 'Vera' });
    const unknown = await client.call('POST', '/v1/visitors', undefined, { tenantId: 'no-such-tenant' });
    const token = visitor.body.token as unknown as string;
    const chat = await client.call('POST', '/v1/chats', token, { subject: 'Help' });

    expect(visitor.status).toBe(201);
    expect(visitor.body.visitorId).toMatch(/^v_/);
    expect(unknown.status).toBe(404);
    expect(chat.status).toBe(201);
    expect(chat.body.participants).toEqual([
      expect.objectContaining({ role: 'visitor', userId: visitor.body.visitorId }),
    ]);
  });

  it('refuses a visitor from a browser origin the tenant does not allow', async () => {
    const response = await fetch(`${cloud.urls.http}/v1/visitors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ tenantId: 'demo' }),
    });
    const allowed = await fetch(`${cloud.urls.http}/v1/visitors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: cloud.urls.web },
      body: JSON.stringify({ tenantId: 'demo' }),
    });

    expect(response.status).toBe(403);
    expect(allowed.status).toBe(201);
  });

  it('rate limits visitor creation per address and tenant with 429', async () => {
    const responses = [];
    for (let i = 0; i < 7; i++)
      responses.push(await client.call('POST', '/v1/visitors', undefined, { tenantId: 'demo' }));

    expect(responses.map((r) => r.status)).toContain(429);
    expect(responses.find((r) => r.status === 429)?.body.error).toMatchObject({ code: 'rate_limited' });
  });
});

describe('authorization', () => {
  it('lets participants and agents of the tenant read a chat, refuses others', async () => {
    const chatId = await createChat(alice);

    const statuses = await Promise.all(
      [alice, bob, agent, carol, outsider].map(
        async (token) => (await client.call('GET', `/v1/chats/${chatId}`, token)).status,
      ),
    );

    expect(statuses).toEqual([200, 200, 200, 403, 404]);
  });

  it('refuses to store a message from a non-participant or another tenant', async () => {
    const chatId = await createChat(alice);

    const fromCarol = await send(carol, chatId, 'c1');
    const fromOutsider = await send(outsider, chatId, 'o1');
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, alice);

    expect(fromCarol.status).toBe(403);
    expect(fromOutsider.status).toBe(404);
    expect(history.body.items).toEqual([]);
  });

  it('does not let a visitor add participants', async () => {
    const visitor = await client.token('demo', 'v_visitor1', 'visitor');

    const response = await client.call('POST', '/v1/chats', visitor, { participants: ['alice'] });

    expect(response.status).toBe(403);
  });

  it('lists only the caller’s chats for users and every tenant chat for agents', async () => {
    const mine = await createChat(alice, { participants: [] });
    const theirs = await createChat(bob, { participants: ['carol'] });

    const forAlice = await client.call('GET', '/v1/chats?limit=100', alice);
    const forAgent = await client.call('GET', '/v1/chats?limit=100', agent);
    const forOutsider = await client.call('GET', '/v1/chats?limit=100', outsider);

    const ids = (page: { body: Record<string, unknown> }) =>
      (page.body.items as { chatId: string }[]).map((c) => c.chatId);
    expect(ids(forAlice)).toContain(mine);
    expect(ids(forAlice)).not.toContain(theirs);
    expect(ids(forAgent)).toEqual(expect.arrayContaining([mine, theirs]));
    expect(ids(forOutsider)).toEqual([]);
  });
});

describe('messages', () => {
  it('returns the original message for a retried clientMessageId: 201 then 200, one stored', async () => {
    const chatId = await createChat(alice);

    const first = await send(alice, chatId, 'same-id', 'first');
    const retry = await send(alice, chatId, 'same-id', 'first');
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, alice);

    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(history.body.items).toHaveLength(1);
  });

  it('refuses bad input with a 400 naming the problem and stores nothing', async () => {
    const chatId = await createChat(alice);

    const cases = await Promise.all([
      client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
        clientMessageId: 'a',
        type: 'text',
        text: '',
      }),
      client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
        clientMessageId: 'a',
        type: 'video',
        text: 'x',
      }),
      client.call('POST', `/v1/chats/${chatId}/messages`, alice, { type: 'text', text: 'x' }),
      client.call('POST', `/v1/chats/${chatId}/messages`, alice, '{"clientMessageId":'),
      client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
        clientMessageId: 'a',
        type: 'text',
        text: 'x'.repeat(8001),
      }),
      client.call('POST', '/v1/chats/not-a-chat/messages', alice, {
        clientMessageId: 'a',
        type: 'text',
        text: 'x',
      }),
      client.call('GET', `/v1/chats/${chatId}/messages?after=1&before=3`, alice),
      client.call('GET', `/v1/chats/${chatId}/messages?limit=1000`, alice),
    ]);
    const chat = await client.call('GET', `/v1/chats/${chatId}`, alice);

    for (const response of cases) {
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_request' });
      expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(chat.body.lastSeq).toBe(0);
  });

  it("reserves the user id 'system' (the sender of system messages): 400 wherever a caller names a user", async () => {
    // Prepare
    const chatId = await createChat(alice);

    // Act
    const cases = await Promise.all([
      client.call('POST', '/v1/dev/tokens', undefined, { tenantId: 'demo', userId: 'system', role: 'user' }),
      client.call('POST', '/v1/chats', alice, { participants: ['system'] }),
      client.call('POST', `/v1/chats/${chatId}/participants`, alice, { userId: 'system' }),
      client.call('POST', `/v1/chats/${chatId}/assign`, agent, { agentId: 'system' }),
      client.call('POST', '/v1/blocks', alice, { userId: 'system' }),
    ]);
    const chat = await client.call('GET', `/v1/chats/${chatId}`, alice);

    // Assess
    expect(cases.map((response) => response.status)).toEqual([400, 400, 400, 400, 400]);
    for (const response of cases)
      expect(JSON.stringify(response.body)).toContain('reserved for system messages');
    expect((chat.body.participants as { userId: string }[]).map((p) => p.userId).sort()).toEqual([
      'alice',
      'bob',
    ]);
    expect(chat.body.assignee).toBeUndefined();
  });

  it('pages history forwards with after= and backwards with before=, ascending seq', async () => {
    const chatId = await createChat(alice);
    for (let i = 1; i <= 7; i++) await send(alice, chatId, `p${i}`, `${i}`);

    const forward = await client.call('GET', `/v1/chats/${chatId}/messages?after=2&limit=3`, alice);
    const backward = await client.call('GET', `/v1/chats/${chatId}/messages?before=7&limit=3`, bob);

    const seqs = (page: { body: Record<string, unknown> }) =>
      (page.body.items as { seq: number }[]).map((m) => m.seq);
    expect(seqs(forward)).toEqual([3, 4, 5]);
    expect(forward.body.nextCursor).toBe('5');
    expect(seqs(backward)).toEqual([4, 5, 6]);
    expect(backward.body.nextCursor).toBe('4');
  });

  it('lists a chat with a new message before a newer but quieter chat', async () => {
    const dave = await client.token('demo', 'dave', 'user');
    const older = await createChat(dave, { participants: [] });
    const newer = await createChat(dave, { participants: [] });

    await send(dave, older, 'bump');
    await cloud.idle();
    const list = await client.call('GET', '/v1/chats?limit=2', dave);
    const firstPage = await client.call('GET', '/v1/chats?limit=1', dave);

    expect((list.body.items as { chatId: string }[]).map((chat) => chat.chatId)).toEqual([older, newer]);
    expect(firstPage.body.nextCursor).toEqual(expect.any(String));
  });
});

describe('polling fallback', () => {
  it('returns the same message.created envelopes a socket gets, after a seq', async () => {
    const chatId = await createChat(alice);
    await send(alice, chatId, 'e1', 'one');
    await send(alice, chatId, 'e2', 'two');

    const response = await client.call('GET', `/v1/chats/${chatId}/events?after=1`, bob);

    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([
      expect.objectContaining({ type: 'message.created', chatId, seq: 2, id: `${chatId}:2:created` }),
    ]);
    expect(response.body.nextAfter).toBe(2);
  });

  it('long-polls until a message arrives when waitSeconds is given', async () => {
    const chatId = await createChat(alice);
    const started = Date.now();

    const waiting = nextPollWait();
    let answered = false;
    const poll = client.call('GET', `/v1/chats/${chatId}/events?after=0&waitSeconds=10`, bob);
    void poll.then(() => (answered = true));
    await waiting;
    const answeredBeforeTheSend = answered;
    await send(alice, chatId, 'late', 'finally');
    const response = await poll;

    expect(answeredBeforeTheSend).toBe(false);
    expect((response.body.items as { seq: number }[]).map((e) => e.seq)).toEqual([1]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses waitSeconds above 20', async () => {
    const chatId = await createChat(alice);

    const response = await client.call('GET', `/v1/chats/${chatId}/events?waitSeconds=21`, alice);

    expect(response.status).toBe(400);
  });
});

describe('unique chats', () => {
  it('returns the existing chat for the same participant set with unique: true', async () => {
    const first = await client.call('POST', '/v1/chats', alice, { participants: ['carol'], unique: true });
    const again = await client.call('POST', '/v1/chats', carol, { participants: ['alice'], unique: true });

    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.chatId).toBe(first.body.chatId);
  });
});
