/**
 * `npm run bench:reconnect [-- --users N]`: what one reconnect costs the backend, counted call by call.
 * N users (default 40) in chats of four, each user in two chats with two sockets (the soak's shape); every
 * socket subscribed and caught up. Then every socket closes and comes back as the SDK does (ticket,
 * upgrade, one `subscribe` frame naming each chat with its `after`), and each DynamoDB and @connections call the local cloud's
 * handlers make meanwhile — on the request path and in the stream consumers — is counted by operation
 * and item kind, per reconnect. A reconnect storm's cost is this times the sockets.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseArgs } from 'node:util';
import { startLocalCloud } from '../../infra/local/cloud.ts';
import { ApiGatewayPusher } from '../../shared/adapters/pusher.ts';
import { api, connect, type TestSocket } from '../support/clients.ts';
import { cpuWindow, dynamoPidOn } from './cpu.ts';

const { values } = parseArgs({ options: { users: { type: 'string', default: '40' } } });
const users = Math.max(4, Math.floor(Number(values.users) / 4) * 4);

/** Every DynamoDB client's send goes through here; @connections calls through the pusher's methods (below). */
const counts = new Map<string, number>();
let counting = false;
const clientPrototype = Object.getPrototypeOf(DynamoDBDocumentClient.prototype) as {
  send: (this: unknown, command: { input?: Record<string, unknown> }, ...rest: unknown[]) => unknown;
};
const send = clientPrototype.send;
/** The kind of item a call is about: its key's prefix (`CHAT`, `CONN`, …) or the index it queries. */
const kindOf = (input: Record<string, unknown>): string => {
  const text = JSON.stringify(input);
  const key = /"pk":(?:\{"S":)?"([A-Z]+)#/.exec(text)?.[1] ?? /":pk":(?:\{"S":)?"([A-Z]+)#/.exec(text)?.[1];
  return key ?? (typeof input.IndexName === 'string' ? `index ${input.IndexName}` : '');
};
clientPrototype.send = function (command, ...rest) {
  if (counting) {
    const input = command.input ?? {};
    const name = `${command.constructor.name.replace(/Command$/, '')} ${kindOf(input)}`.trim();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return send.call(this, command, ...rest);
};

// The @connections client (shared/adapters/pusher.ts) signs its own requests: its two calls are counted here.
const count = (name: string): void => {
  if (counting) counts.set(name, (counts.get(name) ?? 0) + 1);
};
const { post, disconnect } = ApiGatewayPusher.prototype;
ApiGatewayPusher.prototype.post = function (connectionId, payload) {
  count('PostToConnection');
  return post.call(this, connectionId, payload);
};
ApiGatewayPusher.prototype.disconnect = function (connectionId) {
  count('DeleteConnection');
  return disconnect.call(this, connectionId);
};

const cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
try {
  const client = api(cloud.urls.http);
  const tokens = await Promise.all(
    Array.from({ length: users }, (_, i) => client.token('demo', `bench-u${i}`, 'user')),
  );
  // Two rings of chats of four: user i is in chat i/4 of the first and chat ((i+2) mod n)/4 of the second.
  const chatsOf: string[][] = Array.from({ length: users }, () => []);
  for (const shift of [0, 2]) {
    for (let first = 0; first < users; first += 4) {
      const members = [0, 1, 2, 3].map((k) => (first + k + shift) % users);
      const owner = members[0] ?? 0;
      const chatId = await client.createChat(tokens[owner] ?? '', {
        participants: members.slice(1).map((m) => `bench-u${m}`),
      });
      for (const member of members) chatsOf[member]?.push(chatId);
      await client.ok('POST', `/v1/chats/${chatId}/messages`, tokens[owner], {
        clientMessageId: `m-${chatId}`,
        type: 'text',
        text: 'hello',
      });
    }
  }
  const held = new Map<TestSocket, Map<string, number>>();
  const open = async (user: number, after?: Map<string, number>): Promise<TestSocket> => {
    const socket = await connect(client, tokens[user] ?? '');
    const seqs = new Map<string, number>();
    const chats = (chatsOf[user] ?? []).map((chatId) => ({ chatId, after: after?.get(chatId) ?? 0 }));
    const ack = await socket.request({ action: 'subscribe', chats }, 60_000);
    for (const { chatId, messages = [] } of ack.data.chats as {
      chatId: string;
      messages?: { seq: number }[];
    }[])
      seqs.set(chatId, Math.max(after?.get(chatId) ?? 0, messages.at(-1)?.seq ?? 0));
    held.set(socket, seqs);
    return socket;
  };
  const sockets = await Promise.all(Array.from({ length: 2 * users }, (_, k) => open(k % users)));
  await cloud.idle();

  counting = true;
  const cpu = cpuWindow(dynamoPidOn(new URL(cloud.urls.dynamodb).port));
  const positions = sockets.map((socket) => held.get(socket));
  await Promise.all(sockets.map((socket) => socket.close()));
  await cloud.idle();
  const onClose = new Map(counts);
  const again = await Promise.all(sockets.map((_, k) => open(k % users, positions[k])));
  await cloud.idle();
  counting = false;
  const used = cpu.stop();

  const per = (n: number): string => (n / sockets.length).toFixed(2);
  let total = 0;
  console.log(`${sockets.length} sockets of ${users} users, 2 chats each: calls per reconnect`);
  console.log('  total  close  call');
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    total += n;
    console.log(`${per(n).padStart(7)} ${per(onClose.get(name) ?? 0).padStart(6)}  ${name}`);
  }
  console.log(`${per(total).padStart(7)}         all calls (DynamoDB and @connections)`);
  console.log(
    `CPU per reconnect: ${per(used.nodeMs)} ms in the local cloud's process (its sockets' side included), ` +
      `${used.dynamoDbLocalMs === undefined ? 'n/a' : per(used.dynamoDbLocalMs)} ms in DynamoDB Local; ` +
      `${used.wallMs} ms wall for the whole close and reopen`,
  );
  await Promise.all(again.map((socket) => socket.close()));
} finally {
  await cloud.stop();
}
