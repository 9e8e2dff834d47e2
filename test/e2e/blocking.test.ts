/** Blocking end to end through the local cloud: block, refused sends (nothing stored), list, unblock. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  const people = [
    ['xavier', 'user'],
    ['yannick', 'user'],
    ['zoe', 'user'],
    ['agent-1', 'agent'],
    ['billing', 'service'],
  ] as const;
  for (const [userId, role] of people) tokens[userId] = await client.token('demo', userId, role);
});
afterAll(async () => {
  await cloud?.stop();
});

const token = (userId: string): string => tokens[userId] ?? '';
const newChat = async (creator: string, participants: string[]): Promise<string> => {
  const { status, body } = await client.call('POST', '/v1/chats', token(creator), { participants });
  expect(status).toBe(201);
  return body.chatId as unknown as string;
};
const send = (userId: string, chatId: string, clientMessageId: string) =>
  client.call('POST', `/v1/chats/${chatId}/messages`, token(userId), {
    clientMessageId,
    type: 'text',
    text: `hello from ${userId}`,
  });
const lastSeq = async (chatId: string) =>
  (await client.call('GET', `/v1/chats/${chatId}`, token('xavier'))).body.lastSeq;

describe('blocking over the local cloud', () => {
  it('refuses the blocked user’s messages with 403 and stores nothing, then accepts them after unblock', async () => {
    // Prepare
    const chatId = await newChat('xavier', ['yannick']);
    expect((await send('yannick', chatId, 'before')).status).toBe(201);
    const y = await connect(client, token('yannick'));

    // Act
    const blocked = await client.call('POST', '/v1/blocks', token('xavier'), { userId: 'yannick' });
    const overHttp = await send('yannick', chatId, 'while-blocked');
    const overSocket = await y.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'socket-while-blocked',
      text: 'hi',
    });
    const seqWhileBlocked = await lastSeq(chatId);
    const unblocked = await client.call('DELETE', '/v1/blocks/yannick', token('xavier'));
    const after = await send('yannick', chatId, 'after');

    // Assess
    expect(blocked.status).toBe(201);
    expect(blocked.body).toMatchObject({ userId: 'yannick' });
    expect(overHttp.status).toBe(403);
    expect(overHttp.body.error).toMatchObject({ code: 'forbidden' });
    expect(overSocket.type).toBe('error');
    expect(overSocket.data.code).toBe('forbidden');
    expect(seqWhileBlocked).toBe(1);
    expect(unblocked.status).toBe(204);
    expect(after.status).toBe(201);
    expect(await lastSeq(chatId)).toBe(2);
    await y.close();
  });

  it('applies to every chat the blocker takes part in, and only those', async () => {
    // Prepare
    const group = await newChat('xavier', ['yannick', 'zoe']);
    const withoutBlocker = await newChat('zoe', ['yannick']);
    await client.call('POST', '/v1/blocks', token('xavier'), { userId: 'yannick' });

    // Act
    const inGroup = await send('yannick', group, 'g1');
    const elsewhere = await send('yannick', withoutBlocker, 'e1');
    const blockerStillTalks = await send('xavier', group, 'x1');

    // Assess
    expect(inGroup.status).toBe(403);
    expect(elsewhere.status).toBe(201);
    expect(blockerStillTalks.status).toBe(201);
    await client.call('DELETE', '/v1/blocks/yannick', token('xavier'));
  });

  it('lists the caller’s blocks, keeps the first blockedAt on a repeat and unblocks idempotently', async () => {
    // Prepare
    const first = await client.call('POST', '/v1/blocks', token('zoe'), { userId: 'xavier' });

    // Act
    const repeat = await client.call('POST', '/v1/blocks', token('zoe'), { userId: 'xavier' });
    const listed = await client.call('GET', '/v1/blocks', token('zoe'));
    const othersList = await client.call('GET', '/v1/blocks', token('yannick'));
    const unblock1 = await client.call('DELETE', '/v1/blocks/xavier', token('zoe'));
    const unblock2 = await client.call('DELETE', '/v1/blocks/xavier', token('zoe'));
    const afterUnblock = await client.call('GET', '/v1/blocks', token('zoe'));

    // Assess
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([{ userId: 'xavier', blockedAt: first.body.blockedAt }]);
    expect(othersList.body.items).toEqual([]);
    expect([unblock1.status, unblock2.status]).toEqual([204, 204]);
    expect(afterUnblock.body.items).toEqual([]);
  });

  it('audits a block and an unblock in the chats the two users share, and only those', async () => {
    // Prepare
    const shared = await newChat('xavier', ['zoe']);
    const apart = await newChat('xavier', ['yannick']);

    // Act
    await client.call('POST', '/v1/blocks', token('zoe'), { userId: 'xavier' });
    await client.call('DELETE', '/v1/blocks/xavier', token('zoe'));
    const audit = async (chatId: string) =>
      (
        (await client.call('GET', `/v1/chats/${chatId}/audit`, token('agent-1'))).body.items as {
          action: string;
        }[]
      ).map((record) => record.action);

    // Assess
    const trail = (await client.call('GET', `/v1/chats/${shared}/audit`, token('agent-1'))).body
      .items as Record<string, unknown>[];
    expect(trail.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'user.unblock', actorId: 'zoe', before: { blocked: 'xavier' } }),
      expect.objectContaining({ action: 'user.block', actorId: 'zoe', after: { blocked: 'xavier' } }),
    ]);
    expect(await audit(apart)).toEqual(['chat.create']);
  });

  it('never refuses agents: a blocked agent’s messages still arrive', async () => {
    // Prepare
    const chatId = await newChat('xavier', ['agent-1']);
    await client.call('POST', '/v1/blocks', token('xavier'), { userId: 'agent-1' });

    // Act
    const fromAgent = await send('agent-1', chatId, 'a1');

    // Assess
    expect(fromAgent.status).toBe(201);
    await client.call('DELETE', '/v1/blocks/agent-1', token('xavier'));
  });

  it('refuses bad input with 400, services with 403 and anonymous callers with 401', async () => {
    // Prepare
    const xavier = token('xavier');

    // Act
    const self = await client.call('POST', '/v1/blocks', xavier, { userId: 'xavier' });
    const malformed = await client.call('POST', '/v1/blocks', xavier, { userId: 'bad id!' });
    const extraField = await client.call('POST', '/v1/blocks', xavier, { userId: 'zoe', reason: 'x' });
    const badPath = await client.call('DELETE', '/v1/blocks/bad%20id!', xavier);
    const badLimit = await client.call('GET', '/v1/blocks?limit=0', xavier);
    const byService = await client.call('POST', '/v1/blocks', token('billing'), { userId: 'zoe' });
    const anonymous = await client.call('GET', '/v1/blocks');
    const listed = await client.call('GET', '/v1/blocks', xavier);

    // Assess
    for (const response of [self, malformed, extraField, badPath, badLimit]) {
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_request' });
    }
    expect(byService.status).toBe(403);
    expect(anonymous.status).toBe(401);
    expect(listed.body.items).toEqual([]);
  });
});
