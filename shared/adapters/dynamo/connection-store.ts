/**
 * Connections and subscriptions. A subscription is written twice, under the chat (so the fan-out finds a
 * chat's sockets with one Query) and under the connection (so a disconnect finds what to delete).
 * Every item carries the connection's TTL: API Gateway closes a socket after 2 h at most.
 */
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { ConnectionRecord, ConnectionStore } from '../../domain/ports.ts';
import { equalJitter, noJitter } from '../../domain/backoff.ts';
import { BusyError } from '../../domain/errors.ts';
import type { Role } from '../../domain/schemas.ts';
import { backoff, isConditionFailed, queryAll, type TableContext } from './client.ts';
import { keys } from './keys.ts';

type Key = { pk: string; sk: string };

/** BatchWriteItem calls for one subscription or watch before giving up (backoff 20 ms · 2^n in between). */
const WRITE_ATTEMPTS = 6;

export class DynamoConnectionStore implements ConnectionStore {
  constructor(private readonly table: TableContext) {}

  async put(connection: ConnectionRecord): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...keys.connection(connection.connectionId),
          entity: ENTITY.connection,
          connectionId: connection.connectionId,
          tenantId: connection.identity.tenantId,
          userId: connection.identity.userId,
          role: connection.identity.role,
          name: connection.identity.name,
          connectedAt: connection.connectedAt,
          ttl: connection.expiresAt,
        },
      }),
    );
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.connection(connectionId) }),
    );
    return item ? this.recordOf(connectionId, item) : undefined;
  }

  private recordOf(connectionId: string, item: Record<string, unknown>): ConnectionRecord {
    return {
      connectionId,
      identity: {
        tenantId: item.tenantId as string,
        userId: item.userId as string,
        role: item.role as ConnectionRecord['identity']['role'],
        ...(typeof item.name === 'string' ? { name: item.name } : {}),
      },
      connectedAt: item.connectedAt as string,
      expiresAt: item.ttl as number,
    };
  }

  async remove(
    connectionId: string,
    options: { readonly connectedBefore?: string } = {},
  ): Promise<ConnectionRecord | undefined> {
    // The connection item goes first, alone, returning what it held: of two concurrent or repeated
    // removals only one sees it (the stats counters are decremented exactly once per connection).
    // `connectedBefore` (the 410 path): a connection younger than that stays, with its subscriptions.
    const { connectedBefore } = options;
    let removed: Record<string, unknown> | undefined;
    try {
      ({ Attributes: removed } = await this.table.doc.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.connection(connectionId),
          ReturnValues: 'ALL_OLD',
          ...(connectedBefore === undefined
            ? {}
            : {
                ConditionExpression: 'attribute_not_exists(pk) OR connectedAt < :before',
                ExpressionAttributeValues: { ':before': connectedBefore },
              }),
        }),
      ));
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
    const doomed: Key[] = [];
    const items = await queryAll(this.table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.connection(connectionId).pk },
      ProjectionExpression: 'pk, sk, chatId, watchTenant',
    });
    for (const item of items) {
      doomed.push({ pk: item.pk as string, sk: item.sk as string });
      if (typeof item.chatId === 'string') doomed.push(keys.chatSubscription(item.chatId, connectionId));
      if (typeof item.watchTenant === 'string') doomed.push(keys.watcher(item.watchTenant, connectionId));
    }
    if (doomed.length > 0) await this.deleteAll(doomed);
    return removed ? this.recordOf(connectionId, removed) : undefined;
  }

  /** One watch per connection: written under the tenant (found by the fan-out) and the connection (cleanup). */
  async watch(
    connectionId: string,
    tenantId: string,
    filter: Record<string, string>,
    expiresAt: number,
  ): Promise<void> {
    await this.putAll([
      { ...keys.watcher(tenantId, connectionId), entity: ENTITY.watch, connectionId, filter, ttl: expiresAt },
      { ...keys.connectionWatch(connectionId), entity: ENTITY.watch, watchTenant: tenantId, ttl: expiresAt },
    ]);
  }

  async unwatch(connectionId: string, tenantId: string): Promise<void> {
    await this.deleteAll([keys.watcher(tenantId, connectionId), keys.connectionWatch(connectionId)]);
  }

  async watchers(tenantId: string): Promise<{ connectionId: string; filter: Record<string, string> }[]> {
    const items = await queryAll(this.table, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.watcher(tenantId, '').pk },
      ProjectionExpression: 'connectionId, #filter',
      ExpressionAttributeNames: { '#filter': 'filter' },
    });
    return items.map((item) => ({
      connectionId: item.connectionId as string,
      filter: (item.filter ?? {}) as Record<string, string>,
    }));
  }

  /** Two items per chat (under the chat for the fan-out, under the connection for cleanup), 12 chats per BatchWrite. */
  async subscribe(
    connectionId: string,
    chatIds: readonly string[],
    expiresAt: number,
    userId?: string,
    role?: Role,
    membersVersions?: ReadonlyMap<string, number>,
  ): Promise<void> {
    await this.putAll(
      chatIds.flatMap((chatId) => {
        const membersVersion = membersVersions?.get(chatId);
        const common = {
          entity: ENTITY.subscription,
          connectionId,
          chatId,
          userId,
          role,
          ...(membersVersion === undefined ? {} : { membersVersion }),
          ttl: expiresAt,
        };
        return [
          { ...keys.chatSubscription(chatId, connectionId), ...common },
          { ...keys.connectionSubscription(connectionId, chatId), ...common },
        ];
      }),
    );
  }

  async unsubscribe(connectionId: string, chatId: string): Promise<void> {
    await this.deleteAll([
      keys.chatSubscription(chatId, connectionId),
      keys.connectionSubscription(connectionId, chatId),
    ]);
  }

  async subscribers(chatId: string): Promise<string[]> {
    return (await this.querySubscriptions(chatId, 'connectionId')).map((item) => item.connectionId as string);
  }

  async subscriberUsers(
    chatId: string,
  ): Promise<{ connectionId: string; userId?: string; role?: Role; membersVersion?: number }[]> {
    const items = await this.querySubscriptions(chatId, 'connectionId, userId, #role, membersVersion');
    return items.map((item) => ({
      connectionId: item.connectionId as string,
      ...(typeof item.userId === 'string' ? { userId: item.userId } : {}),
      ...(typeof item.role === 'string' ? { role: item.role as Role } : {}),
      ...(typeof item.membersVersion === 'number' ? { membersVersion: item.membersVersion } : {}),
    }));
  }

  private querySubscriptions(chatId: string, projection: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.table, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
      ExpressionAttributeValues: { ':pk': keys.chat(chatId).pk, ':sub': keys.SUB_PREFIX },
      ProjectionExpression: projection,
      ...(projection.includes('#role') ? { ExpressionAttributeNames: { '#role': 'role' } } : {}),
    });
  }

  /**
   * Writes the items of one subscription or watch with BatchWriteItem, retrying the ones DynamoDB returns
   * unprocessed (throttling) with backoff: when it returns, every item exists; when they stay
   * unprocessed, 503 `busy` (the action's error frame), never an ack for a half-written subscription.
   */
  /** BatchWrites of at most 25 puts (DynamoDB's limit), one after the other, unprocessed ones retried. */
  private async putAll(items: Record<string, unknown>[]): Promise<void> {
    for (let start = 0; start < items.length; start += 25) {
      let pending = items.slice(start, start + 25).map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= WRITE_ATTEMPTS) throw new BusyError('the subscription could not be stored, retry');
        if (attempt > 0) await backoff(attempt - 1, { jitter: equalJitter });
        const result = await this.table.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.table.tableName] ?? []) as typeof pending;
      }
    }
  }

  private async deleteAll(doomed: Key[]): Promise<void> {
    if (doomed.length === 1 && doomed[0]) {
      await this.table.doc.send(new DeleteCommand({ TableName: this.table.tableName, Key: doomed[0] }));
      return;
    }
    for (let start = 0; start < doomed.length; start += 25) {
      let pending = doomed.slice(start, start + 25).map((key) => ({ DeleteRequest: { Key: key } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 8) throw new Error('could not delete connection items: throttled');
        const result = await this.table.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.table.tableName] ?? []) as typeof pending;
        if (pending.length > 0) await backoff(attempt, { jitter: noJitter });
      }
    }
  }
}
