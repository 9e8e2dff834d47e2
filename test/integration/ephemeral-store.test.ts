/**
 * Typing state and presence transitions against DynamoDB Local: the records pollers read, their keys,
 * TTL and stream invisibility, racing tabs, and what one poll costs in capacity units.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { matchesAnyFilter } from '../../infra/local/event-filter.ts';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import type { TableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoMessageStore } from '../../shared/adapters/dynamo/message-store.ts';
import { DynamoPresenceStore } from '../../shared/adapters/dynamo/presence-store.ts';
import { DynamoTypingStateStore } from '../../shared/adapters/dynamo/typing-state-store.ts';
import { streamConsumers } from '../../shared/config/routes.ts';
import { ChatService } from '../../shared/domain/chats.ts';
import { EphemeralFeed, presenceEnvelope } from '../../shared/domain/ephemeral.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import type { AttachmentStore, PresenceTransition } from '../../shared/domain/ports.ts';
import { typingEnvelope } from '../../shared/domain/typing.ts';
import { dynamoForFile, measuredTable } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
/** The current minute: presence counts are live only until their connection's expiry, read against the real clock. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000;
const bob: Identity = { tenantId: 'acme', userId: 'bob', role: 'user' };
const carol: Identity = { tenantId: 'acme', userId: 'carol', role: 'agent' };
const typed = (who: Identity, atMs: number, isTyping = true, chat = chatId) =>
  typingEnvelope(who, { chatId: chat, tenantId: 'acme' }, isTyping, new Date(atMs));

const tr0 = (userId: string): PresenceTransition => ({
  userId,
  role: 'user',
  online: true,
  at: new Date(T0).toISOString(),
  id: 'p_cost',
});

/** The raw item, as a stream record's NewImage would carry it. */
const rawItem = async (table: TableContext, pk: string, sk: string) =>
  (
    await dynamo.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: pk }, sk: { S: sk } } }),
    )
  ).Item;

describe('DynamoTypingStateStore', () => {
  it('records one envelope per user and state, refusing the same state within the interval', async () => {
    // Prepare
    const store = new DynamoTypingStateStore(await dynamo.table());
    const first = typed(bob, T0);
    const tooSoon = typed(bob, T0 + 999);
    const stopped = typed(bob, T0 + 10, false);
    const later = typed(bob, T0 + 1000);
    const other = typed(carol, T0 + 20);
    const elsewhere = typed(bob, T0, true, 'ch_bbbbbbbbbbbbbbbbbbbb');

    // Act
    const outcomes = [];
    for (const envelope of [first, tooSoon, stopped, other, elsewhere]) {
      outcomes.push(await store.record(envelope, 1000));
    }
    const whileRefused = await store.current('acme', chatId);
    outcomes.push(await store.record(later, 1000));
    const current = await store.current('acme', chatId);

    // Assess
    expect(outcomes).toEqual([true, false, true, true, true, true]);
    expect(whileRefused.map((e) => e.id).sort()).toEqual([first.id, stopped.id, other.id].sort());
    const byKey = (envelopes: typeof current) =>
      envelopes.map((e) => JSON.stringify(e)).sort((a, b) => a.localeCompare(b));
    expect(byKey(current)).toEqual(byKey([later, stopped, other]));
    expect(await store.current('acme', 'ch_bbbbbbbbbbbbbbbbbbbb')).toEqual([elsewhere]);
    expect(await store.current('other', chatId)).toEqual([]);
  });

  it('keys the record by chat, user and state, with a TTL, and no stream consumer selects it', async () => {
    // Prepare
    const table = await dynamo.table();
    const store = new DynamoTypingStateStore(table);
    const envelope = typed(bob, T0 + 250);

    // Act
    await store.record(envelope, 1000);
    const item = await rawItem(table, `TYPING#acme#${chatId}`, 'bob#on');

    // Assess
    expect(item).toBeDefined();
    const plain = unmarshall(item ?? {});
    expect(plain).toEqual({
      pk: `TYPING#acme#${chatId}`,
      sk: 'bob#on',
      entity: 'typing',
      until: T0 + 1250,
      envelope: JSON.stringify(envelope),
      ttl: Math.ceil((T0 + 250 + 5000) / 1000) + 60,
    });
    for (const eventName of ['INSERT', 'MODIFY']) {
      const record = { eventName, dynamodb: { Keys: { pk: item?.pk, sk: item?.sk }, NewImage: item } };
      for (const consumer of streamConsumers) {
        expect(matchesAnyFilter(consumer.filters, record), `${consumer.name} ${eventName}`).toBe(false);
      }
    }
  });
});

describe('DynamoPresenceStore transitions', () => {
  const expiresAt = Math.floor(T0 / 1000) + 8100;
  let n = 0;
  const tr = (userId: string, online: boolean, atMs = T0): PresenceTransition => ({
    userId,
    role: 'user',
    online,
    at: new Date(atMs).toISOString(),
    id: `p_${++n}`,
  });

  it('stores the transition with the count move that makes it (tabs count as one)', async () => {
    // Prepare
    const store = new DynamoPresenceStore(await dynamo.table());
    const [firstTab, secondTab] = [tr('bob', true), tr('bob', true)];
    const [oneClosed, lastClosed] = [tr('bob', false), tr('bob', false)];

    // Act
    const opened = [
      await store.open('acme', firstTab, expiresAt, 'conn-1'),
      await store.open('acme', secondTab, expiresAt, 'conn-2'),
    ];
    const whileOnline = await store.transitions('acme', ['bob', 'nobody']);
    const onlineThen = await store.online('acme', ['bob']);
    const socketsThen = await store.sockets('acme', ['bob', 'nobody']);
    const closed = [
      await store.close('acme', oneClosed, 'conn-1'),
      await store.close('acme', lastClosed, 'conn-2'),
    ];
    const afterwards = await store.transitions('acme', ['bob']);
    const extraClose = await store.close('acme', tr('bob', false), 'conn-3');

    // Assess
    expect(opened).toEqual([true, false]);
    expect(whileOnline).toEqual([firstTab]);
    expect(onlineThen).toEqual(new Set(['bob']));
    expect(new Set(socketsThen.get('bob'))).toEqual(new Set(['conn-1', 'conn-2']));
    expect(socketsThen.has('nobody')).toBe(false);
    expect(closed).toEqual([false, true]);
    expect(afterwards).toEqual([lastClosed]);
    expect(extraClose).toBe(false);
    expect(await store.transitions('acme', ['bob'])).toEqual([lastClosed]);
    expect(await store.online('acme', ['bob'])).toEqual(new Set());
    expect(await store.sockets('acme', ['bob'])).toEqual(new Map());
  });

  it('with tabs opening and closing at once, exactly one call makes each transition and the stored one matches the count', async () => {
    // Prepare
    const store = new DynamoPresenceStore(await dynamo.table());
    const opens = Array.from({ length: 8 }, () => tr('ann', true));
    const closes = Array.from({ length: 8 }, () => tr('ann', false));

    // Act
    const opened = await Promise.all(opens.map((t, i) => store.open('acme', t, expiresAt, `tab-${i}`)));
    const afterOpen = await store.transitions('acme', ['ann']);
    const socketsOpen = await store.sockets('acme', ['ann']);
    const closed = await Promise.all(closes.map((t, i) => store.close('acme', t, `tab-${i}`)));
    const afterClose = await store.transitions('acme', ['ann']);
    // three tabs stay open while three others open and two close: never a transition
    const reopened = tr('ann', true);
    await store.open('acme', reopened, expiresAt, 'again-0');
    await store.open('acme', tr('ann', true), expiresAt, 'again-1');
    await store.open('acme', tr('ann', true), expiresAt, 'again-2');
    const churn = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        i % 2 === 0
          ? store.open('acme', tr('ann', true), expiresAt, `churn-${i}`)
          : store.close('acme', tr('ann', false), `again-${i}`),
      ),
    );
    const afterChurn = await store.transitions('acme', ['ann']);

    // Assess
    expect(opened.filter(Boolean)).toHaveLength(1);
    expect(afterOpen).toEqual([opens[opened.indexOf(true)]]);
    expect(socketsOpen.get('ann')).toHaveLength(8);
    expect(closed.filter(Boolean)).toHaveLength(1);
    expect(afterClose).toEqual([closes[closed.indexOf(true)]]);
    expect(churn.filter(Boolean)).toEqual([]);
    expect(afterChurn).toEqual([reopened]);
    expect(await store.online('acme', ['ann'])).toEqual(new Set(['ann']));
  });

  it('when the last tab closes while another opens, the stored transition is the last one made and matches online', async () => {
    // Prepare: one tab open; then tabs close and open at once, several rounds
    const store = new DynamoPresenceStore(await dynamo.table());
    let previous = tr('max', true);
    await store.open('acme', previous, expiresAt, 'max-0');

    for (let round = 0; round < 5; round++) {
      // Act
      const calls = Array.from({ length: 6 }, (_, i) => ({
        open: i % 2 === 1,
        transition: tr('max', i % 2 === 1),
      }));
      const made = await Promise.all(
        calls.map(({ open, transition }, i) =>
          open
            ? store.open('acme', transition, expiresAt, `max-${round}-${i}`)
            : store.close('acme', transition, `max-${round}-${i}`),
        ),
      );
      const [stored] = await store.transitions('acme', ['max']);
      const online = await store.online('acme', ['max']);

      // Assess: the stored transition was made by one of these calls (or is the one before them),
      // and it says what the count says
      const transitions = calls.filter((_, i) => made[i]).map(({ transition }) => transition.id);
      expect(transitions.length > 0 ? transitions : [previous.id]).toContain(stored?.id);
      expect(stored?.online).toBe(online.has('max'));
      previous = stored ?? previous;
    }
  });

  it('counts a connect after an expired count (a lost $disconnect) as a new transition', async () => {
    // Prepare: a count whose connection expired at T0 + 10 s
    const store = new DynamoPresenceStore(await dynamo.table());
    await store.open('acme', tr('lee', true), Math.floor(T0 / 1000) + 10, 'lee-1');
    const reconnect = tr('lee', true, T0 + 60_000);

    // Act
    const first = await store.open('acme', reconnect, Math.floor(T0 / 1000) + 8100, 'lee-2');

    // Assess
    expect(first).toBe(true);
    expect(await store.transitions('acme', ['lee'])).toEqual([reconnect]);
  });
});

const measured = (table: TableContext) => measuredTable(table, dynamo.endpoint);

describe('one poll with typing and presence', () => {
  const count = (calls: readonly string[]) =>
    calls.reduce<Record<string, number>>(
      (counts, call) => ({ ...counts, [call]: (counts[call] ?? 0) + 1 }),
      {},
    );

  it('returns the stored envelopes; presence is read once per request, typing once per iteration', async () => {
    // Prepare: a chat of alice, bob and carol; bob and carol are online, bob is typing
    const table = await dynamo.table();
    const alice: Identity = { tenantId: 'acme', userId: 'alice', role: 'user' };
    const setup = new ChatService(
      new DynamoChatStore(table),
      new DynamoMessageStore(table),
      {} as AttachmentStore,
      { now: () => new Date() },
    );
    const { chat } = await setup.create(alice, { participants: ['bob', 'carol'] });
    const now = Date.now();
    const typing = typed(bob, now - 100, true, chat.chatId);
    await new DynamoTypingStateStore(table).record(typing, 1000);
    const bobOnline: PresenceTransition = { ...tr0('bob'), at: new Date(now - 300).toISOString() };
    const carolOnline: PresenceTransition = { ...tr0('carol'), at: new Date(now - 200).toISOString() };
    for (const transition of [bobOnline, carolOnline]) {
      await new DynamoPresenceStore(table).open(
        'acme',
        transition,
        Math.floor(now / 1000) + 8100,
        `conn-${transition.userId}`,
      );
    }
    const { context, measure } = measured(table);
    const chats = new DynamoChatStore(context);
    const presence = new DynamoPresenceStore(context);
    const typingState = new DynamoTypingStateStore(context);
    const service = new ChatService(
      chats,
      new DynamoMessageStore(context),
      {} as AttachmentStore,
      { now: () => new Date() },
      undefined,
      presence,
      new EphemeralFeed({
        typing: (tenantId, id) => typingState.current(tenantId, id),
        participants: async (id) => (await chats.participants(id)).map((p) => p.userId),
        transitions: (tenantId, userIds) => presence.transitions(tenantId, userIds),
        clock: { now: () => new Date() },
      }),
    );
    const query = { after: 0, afterEvent: 0, waitSeconds: 0, limit: 100 };

    // Act
    const poll = await measure(() => service.events(alice, chat.chatId, query, 500));
    const longPoll = await measure(() =>
      service.events(alice, chat.chatId, { ...query, waitSeconds: 2, since: poll.result.nextSince }, 500),
    );
    const typingQuery = await measure(() => typingState.current('acme', chat.chatId));
    const presenceBatchGet = await measure(() => presence.transitions('acme', ['bob', 'carol']));

    // Assess
    expect(poll.result.items).toEqual([
      presenceEnvelope(chat.chatId, 'acme', bobOnline),
      presenceEnvelope(chat.chatId, 'acme', carolOnline),
      typing,
    ]);
    expect(longPoll.result.items).toEqual([]);
    // authorize: 1 BatchGet (chat and participant items); typing, participants: 2 Queries (the chat
    // item shows no message or event past the positions, so the first round skips those two Queries);
    // presence: 1 BatchGet
    expect(count(poll.calls)).toEqual({ QueryCommand: 2, BatchGetItemCommand: 2 });
    const longCalls = count(longPoll.calls);
    // participants once, typing every round, messages and events every round after the first
    const iterations = ((longCalls.QueryCommand ?? 0) + 1) / 3;
    expect(iterations).toBeGreaterThanOrEqual(3);
    expect(longCalls).toEqual({
      QueryCommand: 3 * iterations - 1,
      BatchGetItemCommand: 2,
    });
    console.info('read units (DynamoDB Local)', {
      poll: poll.units,
      longPoll: longPoll.units,
      iterations,
      typingQuery: typingQuery.units,
      presenceBatchGet: presenceBatchGet.units,
    });
    // DynamoDB Local reports 0 for a Query that finds nothing (DynamoDB bills 0.5 RCU: docs/data-model.md)
    expect(typingQuery.units).toBe(0.5);
    expect(presenceBatchGet.units).toBe(1);
    // authorize's two GetItems are consistent reads (docs/reliability.md): 1 RCU each
    expect(poll.units).toBe(2 + 0.5 + 0.5 + 1);
    expect(longPoll.units).toBe(2 + 0.5 + 1 + 0.5 * iterations);
  });
});
