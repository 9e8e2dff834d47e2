/**
 * Reactions: one item per reacted message, `CHAT#<chat> / RX#<seq>`, beside the messages but never the
 * message item itself. Each emoji is a string set of user ids (`u:<emoji>`, first reacted at `f:<emoji>`)
 * and `emojis` is the set of emoji used, so a click is ONE atomic UpdateItem — adding to a set is
 * idempotent, `version` counts the changes, `last` says what changed — with no read and no race between
 * concurrent clickers. The item's stream record is what the fan-out turns into the `reaction` envelope for
 * sockets; the same envelope is kept with the chat's typing state for pollers (publish).
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { ReactionRecord, ReactionStore, ReactionTarget } from '../../domain/ports.ts';
import { reactionRecordOf } from '../../domain/reactions.ts';
import type { Envelope } from '../../domain/schemas.ts';
import { batchGetAll, isConditionFailed, queryAll, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/** A published change stays readable by pollers this long (they ignore what is older anyway). */
const LIVE_TTL_SECONDS = 15 * 60;

type Change = NonNullable<ReactionRecord['last']>;

/** The record an error's ALL_OLD image holds (marshalled), or the empty record of the target. */
const oldRecord = (target: ReactionTarget, item: Record<string, unknown> | undefined): ReactionRecord =>
  item ? reactionRecordOf(unmarshall(item as never)) : { ...target, entries: [], version: 0 };

export class DynamoReactionStore implements ReactionStore {
  constructor(private readonly table: TableContext) {}

  async change(
    target: ReactionTarget,
    change: Change,
    maxDistinct: number,
    attempt = 0,
  ): Promise<{ record: ReactionRecord; changed: boolean } | 'full'> {
    try {
      const { Attributes } = await this.table.doc.send(this.update(target, change, maxDistinct));
      return { record: reactionRecordOf(Attributes ?? {}), changed: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const before = oldRecord(target, error.Item);
      const entry = before.entries.find((candidate) => candidate.emoji === change.emoji);
      if ((entry?.users.includes(change.userId) ?? false) === change.reacted) {
        return { record: before, changed: false };
      }
      // A new emoji on a message whose set is full: emoji nobody uses any more are dropped, then retried.
      if (attempt < 3 && (await this.dropUnused(target, error.Item))) {
        return this.change(target, change, maxDistinct, attempt + 1);
      }
      return 'full';
    }
  }

  private update(target: ReactionTarget, change: Change, maxDistinct: number): UpdateCommand {
    const names = { '#users': `u:${change.emoji}`, '#first': `f:${change.emoji}`, '#last': 'last' };
    const common = {
      TableName: this.table.tableName,
      Key: keys.reactions(target.chatId, target.seq),
      ReturnValues: 'ALL_NEW' as const,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    if (!change.reacted) {
      return new UpdateCommand({
        ...common,
        UpdateExpression: 'SET #last = :last DELETE #users :user ADD version :one',
        ConditionExpression: 'contains(#users, :userId)',
        ExpressionAttributeNames: { '#users': names['#users'], '#last': names['#last'] },
        ExpressionAttributeValues: {
          ':last': change,
          ':user': new Set([change.userId]),
          ':userId': change.userId,
          ':one': 1,
        },
      });
    }
    return new UpdateCommand({
      ...common,
      UpdateExpression:
        'SET entity = :entity, chatId = :chat, tenantId = :tenant, seq = :seq, messageId = :mid, ' +
        '#last = :last, #first = if_not_exists(#first, :at) ADD #users :user, emojis :emoji, version :one',
      ConditionExpression:
        '(attribute_not_exists(#users) OR NOT contains(#users, :userId)) AND ' +
        '(attribute_exists(#users) OR attribute_not_exists(emojis) OR size(emojis) < :max)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: {
        ':entity': ENTITY.reactions,
        ':chat': target.chatId,
        ':tenant': target.tenantId,
        ':seq': target.seq,
        ':mid': target.messageId,
        ':last': change,
        ':at': change.at,
        ':user': new Set([change.userId]),
        ':userId': change.userId,
        ':emoji': new Set([change.emoji]),
        ':max': maxDistinct,
        ':one': 1,
      },
    });
  }

  /** Removes from `emojis` those whose user set is gone (the last user took it back); true if any. */
  private async dropUnused(
    target: ReactionTarget,
    image: Record<string, unknown> | undefined,
  ): Promise<boolean> {
    if (!image) return false;
    const item = unmarshall(image as never);
    const used = item.emojis instanceof Set ? [...(item.emojis as Set<string>)] : [];
    const unused = used.filter((emoji) => !(item[`u:${emoji}`] instanceof Set));
    if (unused.length === 0) return false;
    const names = Object.fromEntries(unused.map((emoji, i) => [`#f${i}`, `f:${emoji}`]));
    const userNames = Object.fromEntries(unused.map((emoji, i) => [`#u${i}`, `u:${emoji}`]));
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.reactions(target.chatId, target.seq),
          UpdateExpression: `REMOVE ${Object.keys(names).join(', ')} DELETE emojis :unused`,
          ConditionExpression: Object.keys(userNames)
            .map((name) => `attribute_not_exists(${name})`)
            .join(' AND '),
          ExpressionAttributeNames: { ...names, ...userNames },
          ExpressionAttributeValues: { ':unused': new Set(unused) },
        }),
      );
      return true;
    } catch (error) {
      // Someone reacted with one of them again meanwhile: the next attempt sees the fresh item.
      if (isConditionFailed(error)) return true;
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
