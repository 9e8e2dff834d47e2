import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { AttachmentRecord, AttachmentStore, ReadyDetails } from '../../domain/ports.ts';
import { isConditionFailed, type TableContext } from './client.ts';
import { keys } from './keys.ts';

const FIELDS = [
  'attachmentId',
  'tenantId',
  'chatId',
  'uploaderId',
  'fileName',
  'contentType',
  'declaredSize',
  'status',
  'createdAt',
  'size',
  'kind',
  'width',
  'height',
  'durationMs',
  'rejectedReason',
] as const;

export class DynamoAttachmentStore implements AttachmentStore {
  constructor(private readonly table: TableContext) {}

  async put(record: AttachmentRecord, expiresAt: number): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...keys.attachment(record.attachmentId),
          entity: ENTITY.attachment,
          ...record,
          ttl: expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(attachmentId: string): Promise<AttachmentRecord | undefined> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.attachment(attachmentId),
        ConsistentRead: true,
      }),
    );
    if (!item) return undefined;
    const record: Record<string, unknown> = {};
    for (const field of FIELDS) if (item[field] !== undefined) record[field] = item[field];
    return record as unknown as AttachmentRecord;
  }

  markReady(attachmentId: string, details: ReadyDetails): Promise<boolean> {
    const dimensions = details.width && details.height ? ', width = :width, height = :height' : '';
    const duration = details.durationMs ? ', durationMs = :duration' : '';
    return this.transition(
      attachmentId,
      `SET #status = :ready, size = :size, kind = :kind, readyAt = :at${dimensions}${duration} REMOVE #ttl`,
      {
        ':ready': 'ready',
        ':size': details.size,
        ':kind': details.kind,
        ':at': details.readyAt,
        ...(dimensions ? { ':width': details.width, ':height': details.height } : {}),
        ...(duration ? { ':duration': details.durationMs } : {}),
      },
    );
  }

  markRejected(attachmentId: string, reason: string): Promise<boolean> {
    return this.transition(attachmentId, 'SET #status = :rejected, rejectedReason = :reason', {
      ':rejected': 'rejected',
      ':reason': reason,
    });
  }

  /** Only a pending attachment changes state; a repeated notification finds it done and changes nothing. */
  async remove(attachmentId: string): Promise<void> {
    await this.table.doc.send(
      new DeleteCommand({ TableName: this.table.tableName, Key: keys.attachment(attachmentId) }),
    );
  }

  /** One conditional write: a ready attachment, unclaimed or claimed by the same message. */
  async claim(attachmentId: string, claimant: string): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.attachment(attachmentId),
          UpdateExpression: 'SET claimedBy = :claimant',
          ConditionExpression:
            '#status = :ready AND (attribute_not_exists(claimedBy) OR claimedBy = :claimant)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':ready': 'ready', ':claimant': claimant },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private async transition(
    attachmentId: string,
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.attachment(attachmentId),
          UpdateExpression: update,
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...(update.includes('#ttl') ? { '#ttl': 'ttl' } : {}),
          },
          ExpressionAttributeValues: { ...values, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
