/**
 * WebSocket handlers publish Powertools metrics as the HTTP ones do: the cold-start metric on a cold
 * start, and nothing per message on a warm send (the fan-out counts stored messages, in its one line
 * per batch). The stores and the chat domain are stubbed; the EMF lines are read from stdout.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const { send } = vi.hoisted(() => {
  // Before the metrics module is loaded: publish (a test setup may disable metrics), start cold as an
  // on-demand Lambda does (Powertools counts no cold start without it), and keep the logger quiet.
  Object.assign(process.env, {
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_DEV: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  return { send: vi.fn() };
});

vi.mock('../../shared/runtime/stores.ts', () => ({
  connectionStore: {
    get: async () => ({ identity: { tenantId: 'acme', userId: 'alice', role: 'user' } }),
  },
}));
vi.mock('../../shared/runtime/chats.ts', () => ({ chats: { send } }));
// Every identity is within its message quota here (quotas: test/unit/quotas.test.ts).
vi.mock('../../shared/runtime/quotas.ts', () => ({ quotas: { take: async () => undefined } }));

const { handler: ping } = await import('../../functions/ws/ping.ts');
const { handler: sendMessage } = await import('../../functions/ws/send-message.ts');

const CHAT_ID = 'ch_0123456789abcdefghij';

const contextOf = (functionName: string) =>
  ({ functionName, awsRequestId: 'req-1', getRemainingTimeInMillis: () => 3000 }) as Context;

const frameEvent = (frame: Record<string, unknown>) =>
  ({
    requestContext: { connectionId: 'conn-1', routeKey: String(frame.action) },
    body: JSON.stringify(frame),
  }) as unknown as Parameters<typeof ping>[0];

const storedMessage = {
  messageId: 'm_1',
  chatId: CHAT_ID,
  tenantId: 'acme',
  seq: 1,
  clientMessageId: 'c1',
  senderId: 'alice',
  senderRole: 'user',
  type: 'text',
  text: 'hi',
  createdAt: '2025-01-01T00:00:00.000Z',
};

/** The EMF records written to stdout, as `{ metric name: value, dimension: value }`. */
let records: Record<string, unknown>[] = [];
beforeEach(() => {
  records = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.startsWith('{"_aws"')) records.push(JSON.parse(line) as Record<string, unknown>);
    }
    return true;
  });
  send.mockReset();
});
afterEach(() => vi.restoreAllMocks());

const valuesOf = (name: string) => records.filter((record) => name in record).map((record) => record[name]);

describe('WebSocket metrics', () => {
  // First in the file: the cold start is the process's (the one metrics instance), as in a Lambda.
  it('publishes ColdStart once, on the first invocation, with the function name', async () => {
    // Act
    await ping(frameEvent({ action: 'ping', requestId: 'p1' }), contextOf('ws-ping'));
    await ping(frameEvent({ action: 'ping', requestId: 'p2' }), contextOf('ws-ping'));

    // Assess
    const coldStarts = records.filter((record) => 'ColdStart' in record);
    expect(coldStarts).toEqual([expect.objectContaining({ ColdStart: 1, function_name: 'ws-ping' })]);
  });

  it('writes no metric line for a socket send that stores a message: the fan-out counts it', async () => {
    // Prepare
    send.mockResolvedValue({ message: storedMessage, created: true });

    // Act
    const result = await sendMessage(
      frameEvent({
        action: 'sendMessage',
        requestId: 'r1',
        chatId: CHAT_ID,
        clientMessageId: 'c1',
        text: 'hi',
      }),
      contextOf('ws-send-message'),
    );

    // Assess
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({ type: 'ack', requestId: 'r1', seq: 1 });
    expect(records).toEqual([]);
  });

  it('records no MessagesSent for a repeated send that stored nothing', async () => {
    // Prepare
    send.mockResolvedValue({ message: storedMessage, created: false });

    // Act
    await sendMessage(
      frameEvent({
        action: 'sendMessage',
        requestId: 'r2',
        chatId: CHAT_ID,
        clientMessageId: 'c1',
        text: 'hi',
      }),
      contextOf('ws-send-message'),
    );

    // Assess
    expect(send).toHaveBeenCalledOnce();
    expect(valuesOf('MessagesSent')).toEqual([]);
  });
});
