import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { Identity } from '../../domain/identity.ts';
import type { TicketStore } from '../../domain/ports.ts';
import { isConditionFailed, type TableContext } from './client.ts';
import { keys } from './keys.ts';

export class DynamoTicketStore implements TicketStore {
  constructor(private readonly table: TableContext) {}

  async put(ticketHash: string, identity: Identity, expiresAt: number): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.ticket(ticketHash), entity: ENTITY.ticket, ...identity, expiresAt, ttl: expiresAt },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** A conditional delete: of two sockets presenting the same ticket, exactly one gets its identity. */
  async consume(ticketHash: string, nowEpochSeconds: number): Promise<Identity | undefined> {
    try {
      const { Attributes: item } = await this.table.doc.send(
        new DeleteCommand({
          TableName: this.table.tableName,
          Key: keys.ticket(ticketHash),
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
          ExpressionAttributeValues: { ':now': nowEpochSeconds },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (!item) return undefined;
      return {
        tenantId: item.tenantId as string,
        userId: item.userId as string,
        role: item.role as Identity['role'],
        ...(typeof item.name === 'string' ? { name: item.name } : {}),
      };
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
