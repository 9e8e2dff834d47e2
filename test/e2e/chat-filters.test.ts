/** Chat filters on GET /v1/chats through the local cloud's gateway and the real handlers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, chatIdsOf } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let agent: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  agent = await client.token('demo', 'agent-filters', 'agent');
});
afterAll(async () => {
  await cloud?.stop();
});

const createChat = (metadata: Record<string, unknown>) =>
  client.createChat(agent, { metadata, participants: ['bob'] });
const chatIds = chatIdsOf;

describe('chat filters on GET /v1/chats', () => {
  it('returns the open chats of a project, newest first, for metadata__project_id=123&status=open', async () => {
    // Prepare: two open chats of project 123, one closed, one of another project
    const first = await createChat({ project_id: '123', customer: { tier: 'gold' } });
    const closed = await createChat({ project_id: 123 });
    const second = await createChat({ project_id: 123, customer: { tier: 'silver' } });
    await createChat({ project_id: '456' });
    const close = await client.call('PATCH', `/v1/chats/${closed}`, agent, { status: 'closed' });
    expect(close.status).toBe(200);

    // Act
    const open = await client.call('GET', '/v1/chats?metadata__project_id=123&status=open', agent);
    const gold = await client.call(
      'GET',
      '/v1/chats?metadata__project_id=123&metadata__customer.tier=gold',
      agent,
    );

    // Assess
    expect(open.status).toBe(200);
    expect(chatIds(open.body)).toEqual([second, first]);
    expect(chatIds(gold.body)).toEqual([first]);
  });

  it('finds a chat by its new metadata after a PATCH', async () => {
    // Prepare
    const chatId = await createChat({ department: 'sales' });

    // Act
    const patch = await client.call('PATCH', `/v1/chats/${chatId}`, agent, {
      metadata: { department: 'support' },
    });
    const support = await client.call('GET', '/v1/chats?metadata__department=support', agent);
    const sales = await client.call('GET', '/v1/chats?metadata__department=sales', agent);

    // Assess
    expect(patch.status).toBe(200);
    expect(chatIds(support.body)).toContain(chatId);
    expect(chatIds(sales.body)).not.toContain(chatId);
  });

  it('refuses a cursor taken from another range filter with 400', async () => {
    // Prepare: a page of a range filter on priority, with a cursor
    for (const priority of [1, 2, 3, 8, 9]) await createChat({ priority });
    const page = await client.call('GET', '/v1/chats?metadata__priority__lte=3&limit=1', agent);

    // Act: the cursor (priority ≤ 3) used with a filter whose range starts at 8
    const reused = await client.call(
      'GET',
      `/v1/chats?metadata__priority__gte=8&limit=1&cursor=${encodeURIComponent(String(page.body.nextCursor))}`,
      agent,
    );

    // Assess
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect(reused.status).toBe(400);
  });

  it('refuses a filter on no indexed key with 400 naming the indexed keys, and an unknown operator', async () => {
    // Act
    const color = await client.call('GET', '/v1/chats?metadata__color=red', agent);
    const op = await client.call('GET', '/v1/chats?metadata__priority__near=3', agent);

    // Assess
    expect(color.status).toBe(400);
    expect(JSON.stringify(color.body)).toMatch(/project_id, department, priority/);
    expect(op.status).toBe(400);
    expect(JSON.stringify(op.body)).toContain('unknown operator');
  });
});
