/**
 * Browser SDK outbox: a send is persisted before it leaves, retried with the same clientMessageId until
 * acknowledged (over the socket or HTTP), survives a reload (a new client on the same storage), and
 * is dropped with an error when the API refuses it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient, OutboxEntry } from '../../web/sdk/index.ts';
import { CHAT, FakeBackend, makeClient, memoryStorage, until } from './sdk-fakes.ts';

const posts = (backend: FakeBackend) =>
  backend.requests.filter((r) => r.startsWith('POST') && r.endsWith('/messages'));

describe('browser SDK outbox', () => {
  const clients: ChatClient[] = [];
  const setup = (backend: FakeBackend, options: Parameters<typeof makeClient>[1] = {}) => {
    const made = makeClient(backend, options);
    clients.push(made.client);
    return made;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it('retries a failed send with the same clientMessageId and stores the message once', async () => {
    // Prepare: not connected (HTTP); the first two attempts answer 503.
    const backend = new FakeBackend();
    backend.failNextSends = 2;
    const { client } = setup(backend);
    const outbox: OutboxEntry[][] = [];
    client.on('outbox', (entries) => outbox.push(entries));

    // Act
    const sent = await client.send(CHAT, 'hello', { clientMessageId: 'cm-1' });

    // Assess
    expect(posts(backend)).toHaveLength(3);
    expect(sent).toMatchObject({ clientMessageId: 'cm-1', seq: 1, text: 'hello' });
    expect(backend.stored()).toHaveLength(1);
    expect(outbox.map((entries) => entries.map((e) => e.clientMessageId))).toEqual([['cm-1'], []]);
    expect(client.pending()).toEqual([]);
  });

  it('does not retry a send the API refused, and reports it', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { client } = setup(backend);
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));

    // Act
    const sending = client.send('ch_someoneelsesxxxxxx', 'hello');

    // Assess
    await expect(sending).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(posts(backend)).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(client.pending()).toEqual([]);
  });

  it('sends over the live socket and delivers the sent message once, in order', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { client, seen } = setup(backend);
    await client.connect();
    await client.subscribe(CHAT);

    // Act
    const [a, b] = await Promise.all([client.send(CHAT, 'one'), client.send(CHAT, 'two')]);

    // Assess
    expect([a.text, b.text]).toEqual(['one', 'two']);
    expect(backend.stored().map((m) => m.text)).toEqual(['one', 'two']);
    expect(backend.requests.filter((r) => r.startsWith('WS sendMessage'))).toHaveLength(2);
    expect(posts(backend)).toEqual([]);
    await until(() => seen.length === 2, 'both messages');
    expect(seen).toEqual([1, 2]);
  });

  it('keeps an unsent message across a reload and sends it once with the same clientMessageId', async () => {
    // Prepare: the API is busy; a message waits in the persisted outbox.
    const backend = new FakeBackend();
    backend.failNextSends = Number.MAX_SAFE_INTEGER;
    const storage = memoryStorage();
    const options = { storage, storageKey: 'chat:demo:v_1', timing: { minBackoffMs: 50, maxBackoffMs: 50 } };
    const first = setup(backend, options).client;
    void first.send(CHAT, 'survives', { clientMessageId: 'cm-reload' }).catch(() => {});
    await until(() => posts(backend).length >= 1, 'a first attempt');

    // Act: "reload": the page's client goes away, a new one starts on the same storage.
    first.close();
    backend.failNextSends = 0;
    const second = setup(backend, options);
    expect(second.client.pending(CHAT)).toMatchObject([{ clientMessageId: 'cm-reload', text: 'survives' }]);
    await second.client.connect();
    await second.client.subscribe(CHAT);
    await until(() => second.client.pending().length === 0, 'the outbox to empty');

    // Assess
    expect(backend.stored().map((m) => [m.clientMessageId, m.text])).toEqual([['cm-reload', 'survives']]);
    expect(second.seen).toEqual([1]);
    expect(storage.data.get('chat:demo:v_1:outbox')).toBeUndefined();
  });

  it('delivers a message sent while the connection is down once it is back', async () => {
    // Prepare: tickets and the first send fail.
    const backend = new FakeBackend();
    backend.failTickets = true;
    backend.failNextSends = 1;
    const { client } = setup(backend, { transport: 'socket' });
    void client.connect().catch(() => {});
    const sending = client.send(CHAT, 'later');
    await until(() => posts(backend).length === 1, 'the failed attempt');

    // Act: the socket can be reached again.
    backend.failTickets = false;
    const message = await sending;

    // Assess
    expect(message.text).toBe('later');
    expect(backend.stored()).toHaveLength(1);
    await until(() => client.status === 'live', 'live');
  });
});
