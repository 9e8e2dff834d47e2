/**
 * Reactions: one item per reacted message, `CHAT#<chat> / RX#<seq>`, beside the messages but never the
 * message item itself — a click is one consistent read and one conditional PutItem of this small item
 * (optimistic on `version`), plus the change's envelope kept with the chat's typing state for pollers.
 * The item's stream record is what the fan-out turns into the `reaction` envelope for sockets.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { ReactionRecord, ReactionStore } from '../../domain/ports.ts';
import { reactionRecordOf } from '../../domain/reactions.ts';
import type { Envelope } from '../../domain/schemas.ts';
import { batchGetAll, isConditionFailed, queryAll, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/** A published change stays readable by pollers this long (they ignore what is older anyway). */
const LIVE_TTL_SECONDS = 15 * 60;

export class DynamoReactionStore implements ReactionStore {
  constructor(private readonly table: TableContext) {}

  async get(chatId: string, seq: number): Promise<ReactionRecord | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.reactions(chatId, seq),
        ConsistentRead: true,
      }),
    );
    return Item ? reactionRecordOf(Item) : undefined;
  }

  async put(next: ReactionRecord): Promise<boolean> {
    const first = next.version === 1;
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.reactions(next.chatId, next.seq), entity: ENTITY.reactions, ...next },
          ConditionExpression: first ? 'attribute_not_exists(pk)' : 'version = :previous',
          ...(first ? {} : { ExpressionAttributeValues: { ':previous': next.version - 1 } }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async inRange(chatId: string, from: number, to: number): Promise<ReactionRecord[]> {
    if (to < from) return [];
    const items = await queryAll(this.table, {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': keys.chat(chatId).pk,
        ':from': keys.reactions(chatId, from).sk,
        ':to': keys.reactions(chatId, to).sk,
      },
    });
    return items.map(reactionRecordOf);
  }

  async bySeqs(chatId: string, seqs: readonly number[]): Promise<ReactionRecord[]> {
    const items = await batchGetAll(
      this.table,
      [...new Set(seqs)].map((seq) => keys.reactions(chatId, seq)),
    );
    return items.map(reactionRecordOf);
  }

  async publish(envelope: Extract<Envelope, { type: 'reaction' }>): Promise<void> {
    const { tenantId, chatId, data } = envelope;
    if (!tenantId || !chatId) throw new Error('a reaction envelope names its tenant and chat');
    await this.table.doc
      .send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: {
            ...keys.liveReaction(tenantId, chatId, data.seq),
            entity: ENTITY.typing,
            version: data.version,
            envelope: JSON.stringify(envelope),
            ttl: Math.ceil(Date.parse(envelope.at) / 1000) + LIVE_TTL_SECONDS,
          },
          // An older change (a slower writer) never replaces a newer one.
          ConditionExpression: 'attribute_not_exists(pk) OR version < :version',
          ExpressionAttributeValues: { ':version': data.version },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailed(error)) throw error;
      });
  }
}
