/**
 * The systems under test: the bare `ws` relay and the local cloud. A target prepares chats and users for a
 * run and tells a client where to connect; the cloud's can also read back what one append wrote.
 */
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '../../infra/local/cloud.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { Shed, whileShed } from '../support/clients.ts';
import { itemBytes } from './capacity.ts';
import { dynamoPidOn } from './cpu.ts';
import { callJson, postJson, stringField } from './http.ts';
import type { TargetName } from './options.ts';
import { type Relay, startRelay } from './relay.ts';
import { isRecord, randomChatId, withTimeout } from './util.ts';

export interface Prepared {
  readonly chatIds: readonly string[];
  /** The URL a client opens (for the cloud: with a fresh single-use ticket). */
  url(client: number): Promise<string>;
  /** The client's bearer token for the HTTP API (the cloud only). */
  token?(client: number): string | undefined;
}

export interface Target {
  readonly name: TargetName;
  /** `members[c]` are the clients of chat c; the first of them creates it. */
  prepare(tag: string, members: readonly (readonly number[])[]): Promise<Prepared>;
  /** Resolves once work already started has finished (the cloud's stream consumers). */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /** The DynamoDB Local java process, whose CPU time is measured too. */
  readonly dynamoPid?: number;
  /** The base URL of the HTTP API (the cloud only). */
  readonly httpUrl?: string;
  /** The sizes of the items one message append writes, read back from the table. */
  estimateAppend?(chatId: string): Promise<AppendEstimate | undefined>;
}

export interface AppendEstimate {
  readonly itemBytes: { readonly chat: number; readonly message: number; readonly idempotency: number };
  /** AWS's rule: a transactional write costs 2 WCU per started KB of each item (GSI writes not included). */
  readonly awsTableWcu: number;
}

const estimateAppend = async (
  endpoint: string,
  tableName: string,
  chatId: string,
): Promise<AppendEstimate> => {
  const client = new DynamoDBClient({ endpoint });
  try {
    const chatKey = keys.chat(chatId);
    const key = { pk: { S: chatKey.pk }, sk: { S: chatKey.sk } };
    const chat = (await client.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item;
    const first = async (prefix: string) =>
      (
        await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': key.pk, ':prefix': { S: prefix } },
            Limit: 1,
          }),
        )
      ).Items?.[0];
    const message = await first(keys.MSG_PREFIX);
    const idempotency = await first('CMID#'); // keys.idempotency(): CMID#<sender>#<clientMessageId>
    if (!chat || !message || !idempotency) throw new Error(`chat ${chatId} has no message to measure`);
    const bytes = { chat: itemBytes(chat), message: itemBytes(message), idempotency: itemBytes(idempotency) };
    const kb = (value: number) => Math.ceil(value / 1024);
    return {
      itemBytes: bytes,
      awsTableWcu: 2 * (kb(bytes.chat) + kb(bytes.message) + kb(bytes.idempotency)),
    };
  } finally {
    client.destroy();
  }
};

export const relayTarget = async (): Promise<Target> => {
  const relay: Relay = await startRelay(0);
  return {
    name: 'relay',
    prepare: async (_tag, members) => ({
      chatIds: members.map(() => randomChatId()),
      url: async () => relay.url,
    }),
    settle: async () => {},
    stop: () => relay.close(),
  };
};

/** A bearer token of the local cloud's development sign-in (POST /v1/dev/tokens). */
export const devToken = async (
  http: string,
  tenantId: string,
  userId: string,
  role: 'user' | 'agent',
): Promise<string> =>
  stringField(await postJson(`${http}/v1/dev/tokens`, { tenantId, userId, role }), 'token');

/**
 * The URL a socket opens: the WebSocket URL with a fresh single-use ticket of `token`; a ticket refused
 * with 429 (the local cloud sheds new connections while overloaded) is asked for again, as the SDK does.
 */
export const ticketUrl = (http: string, token: string | undefined): Promise<string> =>
  whileShed(async () => {
    const { status, body } = await callJson('POST', `${http}/v1/realtime/tickets`, { body: {}, token });
    if (status === 429) throw new Shed('ticket refused with 429');
    if (status !== 201 || !isRecord(body)) throw new Error(`POST /v1/realtime/tickets → ${status}`);
    return `${stringField(body, 'url')}?ticket=${encodeURIComponent(stringField(body, 'ticket'))}`;
  });

/** POST /v1/chats takes at most this many participants besides the creator; the rest are added one by one. */
const CREATE_PARTICIPANTS_MAX = 50;

export const cloudTarget = (cloud: LocalCloud, tenantId: string): Target => {
  const http = cloud.urls.http;
  const dynamoPid = dynamoPidOn(new URL(cloud.urls.dynamodb).port);
  return {
    name: 'cloud',
    prepare: async (tag, members) => {
      const userIds = new Map<number, string>();
      for (const chat of members) for (const client of chat) userIds.set(client, `bench-${tag}-u${client}`);
      const tokens = new Map<number, string>();
      await mapLimit([...userIds], 8, async ([client, userId]) => {
        tokens.set(client, await devToken(http, tenantId, userId, 'user'));
      });
      const chatIds = await mapLimit(members, 4, async (chat) => {
        const [creator, ...others] = chat;
        const token = tokens.get(creator ?? -1);
        if (!token) throw new Error('a chat without members');
        const participants = others.map((client) => userIds.get(client));
        const body = await postJson(
          `${http}/v1/chats`,
          { subject: `bench ${tag}`, participants: participants.slice(0, CREATE_PARTICIPANTS_MAX) },
          token,
        );
        const chatId = stringField(body, 'chatId');
        const more = participants.slice(CREATE_PARTICIPANTS_MAX);
        await mapLimit(more, 4, (userId) =>
          postJson(`${http}/v1/chats/${chatId}/participants`, { userId }, token),
        );
        return chatId;
      });
      return {
        chatIds,
        url: (client) => ticketUrl(http, tokens.get(client)),
        token: (client) => tokens.get(client),
      };
    },
    settle: () => withTimeout(cloud.idle(), 30_000, 'cloud idle'),
    stop: () => cloud.stop(),
    httpUrl: http,
    estimateAppend: (chatId) => estimateAppend(cloud.urls.dynamodb, cloud.tableName, chatId),
    ...(dynamoPid !== undefined ? { dynamoPid } : {}),
  };
};
