/**
 * A chat's position in the lists ordered by activity (docs/data-model.md): the positions of a
 * lastActivityAt, and ChatActivity, which moves a chat up the tenant's and its participants' lists at
 * most once per ACTIVITY_RESOLUTION_MS and remembers per process how far each chat has moved.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MetadataSlot } from '../../config/metadata-index.ts';
import { isConditionFailed, type TableContext } from './client.ts';
import { participantItems } from './chat-membership.ts';
import { keys } from './keys.ts';

/** Precision of the activity order of chat lists (see ChatActivity.touch). */
export const ACTIVITY_RESOLUTION_MS = 10_000;

/**
 * A chat's list position for its lastActivityAt, and the oldest position that still counts as current
 * (ACTIVITY_RESOLUTION_MS behind): touchActivity (ChatActivity.touch) moves positions older than
 * `stale` to `activity`, and the metadata backfill (metadata-backfill.ts) judges the equality indexes'
 * sort keys the same way.
 */
export const activityPositions = (
  lastActivityAt: string,
  chatId: string,
): { activity: string; stale: string } => ({
  activity: keys.activitySort(lastActivityAt, chatId),
  stale: keys.activitySort(
    new Date(Date.parse(lastActivityAt) - ACTIVITY_RESOLUTION_MS).toISOString(),
    chatId,
  ),
});

/**
 * Participants' list positions move at a resolution that grows with the chat: ACTIVITY_RESOLUTION_MS for
 * up to PARTICIPANTS_PER_STEP participants, once more per started step beyond (50 participants: 50 s),
 * at most MAX_PARTICIPANT_RESOLUTION_MS. Each move writes the participant item and its byParticipant
 * entry (3 WRU), so a busy chat of n participants costs 3 n WRU per window: at 10 s, 150 WRU per 10 s for
 * 50 participants, more than its messages. The tenant list keeps ACTIVITY_RESOLUTION_MS.
 */
export const PARTICIPANTS_PER_STEP = 10;
export const MAX_PARTICIPANT_RESOLUTION_MS = 300_000;
export const participantResolutionMs = (participants: number): number =>
  Math.min(
    MAX_PARTICIPANT_RESOLUTION_MS,
    ACTIVITY_RESOLUTION_MS * Math.max(1, Math.ceil(participants / PARTICIPANTS_PER_STEP)),
  );

/** Chats whose list positions a process remembers (touch); the least recently touched go first. */
const LISTED_AT_MAX = 10_000;

export class ChatActivity {
  /**
   * Per chat, the lowest list position (ms) this process knows every one of its list items to have
   * reached (touch). A later activity less than ACTIVITY_RESOLUTION_MS past it has nothing to move, so
   * the fan-out skips the reads: a busy chat costs one check per window per container.
   */
  private readonly listedAt = new Map<string, number>();

  constructor(
    private readonly table: TableContext,
    private readonly slots: readonly MetadataSlot[],
  ) {}

  /**
   * Moves the chat up the lists that order by activity: the tenant's (byTenant, on the chat item) and
   * each participant's (byParticipant, on the participant items). An item is rewritten only when its
   * position is more than ACTIVITY_RESOLUTION_MS behind (participantResolutionMs for participant items),
   * so a busy chat costs one list write per item per window instead of one per message. The chat's exact lastActivityAt is set by every send.
   * The metadata equality indexes (byMetaN, on the chat item too) move with `gsi2sk` in the same update.
   */
  async touch(chatId: string, lastActivityAt: string): Promise<void> {
    const activityMs = Date.parse(lastActivityAt);
    const known = this.listedAt.get(chatId);
    if (known !== undefined && activityMs - ACTIVITY_RESOLUTION_MS < known) return;
    const { activity, stale } = activityPositions(lastActivityAt, chatId);
    const [chat, participants] = await Promise.all([
      this.table.doc.send(
        new GetCommand({
          TableName: this.table.tableName,
          Key: keys.chat(chatId),
          ProjectionExpression: ['gsi2sk', ...this.slots.map((slot) => slot.eqPk)].join(', '),
        }),
      ),
      participantItems(this.table, chatId),
    ]);
    const chatItemNow = chat.Item;
    // A participant position counts as current `slack` longer than the tenant list's.
    const slack = participantResolutionMs(participants.length) - ACTIVITY_RESOLUTION_MS;
    const participantStale = keys.activitySort(
      new Date(activityMs - ACTIVITY_RESOLUTION_MS - slack).toISOString(),
      chatId,
    );
    const behind = [
      ...(chatItemNow && String(chatItemNow.gsi2sk ?? '') < stale
        ? [
            {
              key: keys.chat(chatId),
              attribute: 'gsi2sk',
              also: this.slots
                .filter((slot) => chatItemNow[slot.eqPk] !== undefined)
                .map((slot) => slot.eqSk),
            },
          ]
        : []),
      ...participants
        .filter((item) => String(item.gsi1sk ?? '') < participantStale)
        .map((item) => ({
          key: keys.participant(chatId, item.userId as string),
          attribute: 'gsi1sk',
          also: [] as string[],
        })),
    ];
    await Promise.all(
      behind.map(({ key, attribute, also }) =>
        this.table.doc
          .send(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: key,
              UpdateExpression: `SET ${[attribute, ...also].map((name) => `${name} = :activity`).join(', ')}`,
              // Never move a chat back in a list when records are replayed or raced.
              ConditionExpression: `attribute_exists(pk) AND ${attribute} < :activity`,
              ExpressionAttributeValues: { ':activity': activity },
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailed(error)) throw error;
          }),
      ),
    );
    // Moved items (or items a racing touch moved further) now sit at `activity` or later; the others
    // stay where they were read.
    // (A participant's position counts `slack` later: it is current that much longer.)
    const at = (position: string) => Date.parse(position.split('#')[0] ?? '');
    const positions = [
      ...(chatItemNow ? [String(chatItemNow.gsi2sk ?? '')] : []).map((position) =>
        position < stale ? activityMs : at(position),
      ),
      ...participants
        .map((item) => String(item.gsi1sk ?? ''))
        .map((position) => (position < participantStale ? activityMs : at(position) + slack)),
    ];
    const floor = Math.min(activityMs, ...positions);
    if (!Number.isNaN(floor)) {
      this.listedAt.delete(chatId);
      this.listedAt.set(chatId, floor);
      if (this.listedAt.size > LISTED_AT_MAX) {
        const oldest = this.listedAt.keys().next().value;
        if (oldest !== undefined) this.listedAt.delete(oldest);
      }
    }
  }
}
