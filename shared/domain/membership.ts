/**
 * Who takes part in a chat: adding and removing participants, the cap on their number (every path that
 * adds one checks it), and closing a removed user's live subscriptions in the same request.
 */
import { authorizeChat } from './access.ts';
import { backoffDelay } from './backoff.ts';
import { BusyError, ConflictError, ForbiddenError, NotFoundError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import type { ChatStore, Clock, ConnectionStore } from './ports.ts';
import type { Chat, Participant } from './schemas.ts';

/**
 * A chat holds at most this many participants: the 50 a creation may name plus its creator. Every
 * envelope carrying the list (`chat.updated`) then stays far below the 128 KB WebSocket frame limit
 * (51 ids of 128 characters with their roles and join times: about 11 KB).
 */
export const MAX_PARTICIPANTS = 51;

/** 409 when `adding` more participants would take a chat of `current` past MAX_PARTICIPANTS. */
export const assertRoomFor = (current: number, adding: number): void => {
  if (adding > 0 && current + adding > MAX_PARTICIPANTS) {
    throw new ConflictError(`a chat has at most ${MAX_PARTICIPANTS} participants (it has ${current})`);
  }
};

/** Attempts at closing a removed user's subscriptions before the request fails (503) for a retry. */
const CLOSE_ATTEMPTS = 4;

export type Subscriptions = Pick<ConnectionStore, 'subscriberUsers' | 'unsubscribe'>;

export class Membership {
  constructor(
    private readonly chats: ChatStore,
    private readonly clock: Clock,
    /** The chats' subscriptions; absent: removal closes none (the fan-out still skips non-participants). */
    private readonly subscriptions?: Subscriptions,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Agents, services and the chat's creator add participants; `chat.updated` carries the new list. */
  async add(identity: Identity, chatId: string, userId: string): Promise<Chat> {
    const current = await authorizeChat(this.chats, identity, chatId);
    // Visitors never add participants (as at creation): an anonymous visitor must not pull users in.
    if (identity.role === 'visitor') throw new ForbiddenError('visitors cannot add participants');
    if (!isStaff(identity) && current.createdBy !== identity.userId) {
      throw new ForbiddenError('only agents, services or the chat’s creator add participants');
    }
    let unchanged: Participant[] | undefined;
    const joinedAt = this.clock.now().toISOString();
    // The list is read inside the change, which is optimistic on the chat: two concurrent adds cannot
    // both pass the cap.
    const result = await this.chats.change(chatId, identity, async () => {
      const participants = await this.chats.participants(chatId, { consistent: true });
      if (participants.some((p) => p.userId === userId)) {
        unchanged = participants;
        return undefined;
      }
      assertRoomFor(participants.length, 1);
      return {
        participants: { add: [{ userId, role: 'user', joinedAt }] },
        event: { type: 'chat.updated' },
        audit: { action: 'participant.add', after: { userId } },
      };
    });
    return result ? (result.event.data as Chat) : { ...current, participants: unchanged ?? [] };
  }

  /**
   * Agents, services and the creator remove anyone; any participant may leave (remove themselves). The
   * user's subscriptions to the chat are closed in the same request, retried with backoff; if they
   * cannot be, 503 `busy` asks for a retry, and the retry (404: no longer a participant) closes them
   * before answering. The fan-out skips non-participants meanwhile (shared/domain/delivery-scope.ts).
   */
  async remove(identity: Identity, chatId: string, userId: string): Promise<Chat> {
    const current = await authorizeChat(this.chats, identity, chatId);
    if (!isStaff(identity) && current.createdBy !== identity.userId && userId !== identity.userId) {
      throw new ForbiddenError(
        'only agents, services, the chat’s creator or the participant themselves remove a participant',
      );
    }
    const participants = await this.chats.participants(chatId, { consistent: true });
    if (!participants.some((p) => p.userId === userId)) {
      await this.closeSubscriptions(chatId, userId);
      throw new NotFoundError('participant');
    }
    const result = await this.chats.change(chatId, identity, () => ({
      participants: { remove: [userId] },
      event: { type: 'chat.updated' },
      audit: { action: 'participant.remove', before: { userId } },
    }));
    await this.closeSubscriptions(chatId, userId);
    return result?.event.data as Chat;
  }

  /** Deletes every subscription of `userId` to the chat (all its sockets): retried, then 503. */
  async closeSubscriptions(chatId: string, userId: string): Promise<void> {
    const { subscriptions } = this;
    if (!subscriptions) return;
    for (let attempt = 0; ; attempt++) {
      try {
        const subscribed = await subscriptions.subscriberUsers(chatId);
        await Promise.all(
          subscribed
            .filter((subscription) => subscription.userId === userId)
            .map((subscription) => subscriptions.unsubscribe(subscription.connectionId, chatId)),
        );
        return;
      } catch {
        if (attempt + 1 >= CLOSE_ATTEMPTS) {
          throw new BusyError(
            'the participant is removed but its live subscriptions could not all be closed; retry the request',
          );
        }
        await this.sleep(backoffDelay(attempt, 50, 1000));
      }
    }
  }
}
