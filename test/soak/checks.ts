/**
 * The soak's end-of-run checks that read the table or wait for deliveries: every socket still
 * delivers, no item is left for a closed socket, presence counts match the open sockets.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_REGION } from '../../infra/local/lambda-context.ts';
import { backoffDelay } from '../../web/sdk/backoff.ts';
import type { SoakCloud } from './cloud.ts';
import type { Http, SoakSocket } from './fleet.ts';

export interface Chat {
  readonly chatId: string;
  /** The creator's token: the chat's messages sent over HTTP come from it. */
  readonly token: string;
}

/** Runs `task` over `items`, at most `limit` at a time. */
export const eachLimit = async <T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index] as T, index);
      }
    }),
  );
};

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes; returns its last answer. */
export const waitFor = async (
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** One message per chat over HTTP; the seq each got. */
export const sendRound = async (
  api: Http,
  chats: readonly Chat[],
  label: string,
): Promise<Map<string, number>> => {
  const seqs = new Map<string, number>();
  // Like the SDK's outbox: a send that fails (a 429, a 5xx, no answer) goes again with the same
  // clientMessageId after a backoff, a few times.
  await eachLimit(chats, 16, async (chat, index) => {
    const body = { clientMessageId: `${label}-${index}`, type: 'text', text: `${label} ${index}` };
    for (let attempt = 0; ; attempt++) {
      try {
        const message = await api.ok<{ seq: number }>(
          'POST',
          `/v1/chats/${chat.chatId}/messages`,
          chat.token,
          body,
        );
        seqs.set(chat.chatId, message.seq);
        return;
      } catch (error) {
        if (attempt >= 8) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, 500, 10_000)));
      }
    }
  });
  return seqs;
};

export interface DeliveryResult {
  readonly expected: number;
  readonly delivered: number;
  /** Of the delivered: caught up by a socket the server had closed meanwhile and that came back. */
  readonly recovered: number;
  /** Of the missing ones: the socket was closed at the end / it was open. */
  readonly missingClosed: number;
  readonly missingOpen: number;
}

/**
 * Every socket subscribed to a chat holds the round's message of that chat within `timeoutMs`: pushed
 * live, or — when the server closed the socket meanwhile (deliver or disconnect) — caught up once it
 * came back as the SDK's does (counted as `recovered`).
 */
export const deliveryRound = async (
  api: Http,
  chats: readonly Chat[],
  sockets: readonly SoakSocket[],
  label: string,
  timeoutMs = 30_000,
): Promise<DeliveryResult & { seqs: Map<string, number> }> => {
  const seqs = await sendRound(api, chats, label);
  const closesBefore = new Map(sockets.map((socket) => [socket, socket.serverCloses]));
  const targets = sockets.flatMap((socket) =>
    socket.chatIds.map((chatId) => ({ socket, chatId, seq: seqs.get(chatId) ?? 0 })),
  );
  const count = () => targets.filter(({ socket, chatId, seq }) => socket.held.get(chatId)?.has(seq)).length;
  await waitFor(() => count() === targets.length, timeoutMs);
  const missing = targets.filter(({ socket, chatId, seq }) => !socket.held.get(chatId)?.has(seq));
  return {
    expected: targets.length,
    delivered: count(),
    recovered: targets.filter(
      ({ socket, chatId, seq }) =>
        socket.held.get(chatId)?.has(seq) && socket.serverCloses > (closesBefore.get(socket) ?? 0),
    ).length,
    missingClosed: missing.filter(({ socket }) => !socket.open).length,
    missingOpen: missing.filter(({ socket }) => socket.open).length,
    seqs,
  };
};

/** What the table still holds for connections that are not open (plus presence drift). */
export interface Leaks {
  /** Connection, subscription and watch items of a connection that is not open. */
  readonly items: number;
  /** Presence items whose socket set or count disagrees with the user's open sockets. */
  readonly presence: number;
  readonly samples: readonly string[];
}

/**
 * Scans the table (a test-only Scan) for every item tied to a connection of the soak's users: the
 * connection item and its mirrors under `CONN#<id>`, the chat-side subscription items, the watchers,
 * and the presence items' `sockets` and `connections`. Anything naming a connection that is not open
 * now is a leak.
 */
export const findLeaks = async (
  cloud: SoakCloud,
  sockets: readonly SoakSocket[],
  userPrefix: string,
): Promise<Leaks> => {
  // DynamoDB Local keeps tables per access key and region: the local cloud's own (infra/local/cloud.ts).
  const table = {
    tableName: cloud.tableName,
    doc: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: cloud.urls.dynamodb,
        region: LOCAL_REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    ),
  };
  const live = new Set(
    sockets.flatMap((socket) => (socket.open && socket.connectionId ? [socket.connectionId] : [])),
  );
  const ours = new Set(sockets.flatMap((socket) => socket.connectionIds));
  const openPerUser = new Map<string, number>();
  for (const socket of sockets)
    if (socket.open) openPerUser.set(socket.userId, (openPerUser.get(socket.userId) ?? 0) + 1);
  const samples: string[] = [];
  let items = 0;
  let presence = 0;
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const page = await table.doc.send(
        new ScanCommand({
          TableName: table.tableName,
          ConsistentRead: true,
          ProjectionExpression: 'pk, sk, entity, connectionId, userId, sockets, connections',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const pk = String(item.pk);
        const userId = typeof item.userId === 'string' ? item.userId : '';
        const connectionId = pk.startsWith('CONN#')
          ? pk.slice('CONN#'.length)
          : typeof item.connectionId === 'string'
            ? item.connectionId
            : undefined;
        if (connectionId !== undefined && (ours.has(connectionId) || userId.startsWith(userPrefix))) {
          if (!live.has(connectionId)) {
            items += 1;
            if (samples.length < 5) samples.push(`${pk} ${String(item.sk)} (${String(item.entity)})`);
          }
          continue;
        }
        const user = /^PRESENCE#[^#]+#(.+)$/.exec(pk)?.[1];
        if (user?.startsWith(userPrefix)) {
          const held = [...((item.sockets as Set<string> | undefined) ?? [])];
          const stale = held.filter((id) => !live.has(id)).length;
          const count = Number(item.connections ?? 0);
          if (stale > 0 || count !== (openPerUser.get(user) ?? 0)) {
            presence += 1;
            if (samples.length < 5)
              samples.push(
                `${pk}: connections ${count}, open ${openPerUser.get(user) ?? 0}, stale ids ${stale}`,
              );
          }
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    table.doc.destroy();
  }
  return { items, presence, samples };
};

/** Waits (up to `timeoutMs`) for $disconnect and the stream to finish their cleanup; the last scan. */
export const settledLeaks = async (
  cloud: SoakCloud,
  sockets: readonly SoakSocket[],
  userPrefix: string,
  timeoutMs = 30_000,
): Promise<Leaks> => {
  let leaks: Leaks = { items: 0, presence: 0, samples: [] };
  await waitFor(async () => {
    await cloud.idle();
    leaks = await findLeaks(cloud, sockets, userPrefix);
    return leaks.items === 0 && leaks.presence === 0;
  }, timeoutMs);
  return leaks;
};

/** The seqs, below each chat's last, that some socket lacks. */
export const holes = (sockets: readonly SoakSocket[], lastSeqs: ReadonlyMap<string, number>): number =>
  sockets.reduce(
    (sum, socket) =>
      sum +
      socket.chatIds.reduce((inner, chatId) => inner + socket.missing(chatId, lastSeqs.get(chatId) ?? 0), 0),
    0,
  );
