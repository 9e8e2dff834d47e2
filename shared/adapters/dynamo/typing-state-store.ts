import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { TypingEnvelope } from '../../domain/ephemeral.ts';
import type { TypingStateStore } from '../../domain/ports.ts';
import type { Envelope } from '../../domain/schemas.ts';
import { isConditionFailed, queryAll, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/**
 * A chat has few typers (2 items per user) and few messages reacted to in the last 15 minutes; a
 * partition bigger than this is not read further.
 */
const MAX_RECORDS = 400;

/**
 * A chat's typing state, `TYPING#<tenant>#<chat> / <userId>#on|off`: each typing event is one conditional
 * UpdateItem (1 WCU, accepted or refused) that moves `until` forward only if it has passed — the rate
 * limit — and stores the envelope pushed to sockets as JSON text (so pollers return it byte for byte).
 * The item expires by TTL a minute after the indicator itself; readers ignore what is older anyway.
 */
export class DynamoTypingStateStore implements TypingStateStore {
  constructor(private readonly table: TableContext) {}

  async record(envelope: TypingEnvelope, intervalMs: number): Promise<boolean> {
    const { tenantId, chatId, data } = envelope;
    if (!tenantId || !chatId) throw new Error('a typing envelope names its tenant and chat');
    const now = Date.parse(envelope.at);
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.typing(tenantId, chatId, data.userId, data.isTyping),
          UpdateExpression: 'SET #until = :until, entity = :entity, #envelope = :envelope, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#until) OR #until <= :now',
          ExpressionAttributeNames: {
            '#until': 'until',
            '#envelope': 'envelope',
            '#ttl': 'ttl',
          },
          ExpressionAttributeValues: {
            ':now': now,
            ':until': now + intervalMs,
            ':entity': ENTITY.typing,
            ':envelope': JSON.stringify(envelope),
            ':ttl': Math.ceil((now + Math.max(intervalMs, data.expiresInMs)) / 1000) + 60,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** Also returns the reaction changes kept in the same partition (ReactionStore.publish). */
  async current(tenantId: string, chatId: string): Promise<Envelope[]> {
    const items = await queryAll(
      this.table,
      {
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.typingChat(tenantId, chatId) },
        ProjectionExpression: '#envelope',
        ExpressionAttributeNames: { '#envelope': 'envelope' },
      },
      MAX_RECORDS,
    );
    return items.flatMap((item) =>
      typeof item.envelope === 'string' ? [JSON.parse(item.envelope) as Envelope] : [],
    );
  }
}
