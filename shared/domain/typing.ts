/**
 * Typing indicators: ephemeral, never part of the chat's history (no message, no event-log entry, no seq,
 * nothing through the stream). The sender's handler pushes one `typing` envelope straight to the chat's
 * subscribed sockets, except every socket of the sender's own user (other tabs included). The one write
 * of a typing event is its record in the chat's typing state: it is the rate limit (refused when the
 * same state was recorded less than a second ago) and holds the envelope pushed, so pollers
 * (shared/domain/ephemeral.ts) return the very same envelope. Clients drop the indicator `expiresInMs`
 * after the last refresh.
 */
import type { TypingEnvelope } from './ephemeral.ts';
import { RateLimitedError } from './errors.ts';
import type { Identity } from './identity.ts';
import { newId } from './ids.ts';
import type { Clock, TypingStateStore } from './ports.ts';
import { mapLimit } from './realtime.ts';
import { type Envelope, TYPING_EXPIRES_IN_MS } from './schemas.ts';

export interface TypingPorts {
  /** Throws unless the caller may send to the chat (participant, or staff of its tenant). */
  readonly authorize: (identity: Identity, chatId: string) => Promise<{ chatId: string; tenantId: string }>;
  /** The chat's subscribed connections with their user (see ConnectionStore.subscriberUsers). */
  readonly subscribers: (chatId: string) => Promise<{ connectionId: string; userId?: string }[]>;
  /** The user of a connection, for subscriptions stored without one (before userId was kept). */
  readonly userOf: (connectionId: string) => Promise<string | undefined>;
  /** Posts to a socket; a gone socket is removed (RealtimeService.push). */
  readonly push: (connectionId: string, envelope: Envelope) => Promise<'delivered' | 'gone'>;
  /** The chat's typing state (its conditional write is the rate limit). */
  readonly state: Pick<TypingStateStore, 'record'>;
  readonly clock: Clock;
  readonly onPushError?: (connectionId: string, error: unknown) => void;
}

export interface TypingConfig {
  /** Minimum time between two accepted events of one user, chat and state (isTyping true/false). */
  readonly intervalMs: number;
  readonly concurrency: number;
}

export interface TypingResult {
  readonly isTyping: boolean;
  readonly expiresInMs: number;
  /** Sockets the envelope reached (not returned to callers: it would reveal who is online). */
  readonly delivered: number;
}

export const typingEnvelope = (
  identity: Identity,
  chat: { chatId: string; tenantId: string },
  isTyping: boolean,
  at: Date,
): TypingEnvelope => ({
  type: 'typing',
  id: `${chat.chatId}:typing:${identity.userId}:${newId('t', 10)}`,
  tenantId: chat.tenantId,
  chatId: chat.chatId,
  at: at.toISOString(),
  data: { userId: identity.userId, isTyping, expiresInMs: TYPING_EXPIRES_IN_MS },
});

/** Every subscription that belongs to another user; subscriptions without a userId are looked up. */
export const targetsOf = async (
  subscriptions: readonly { connectionId: string; userId?: string }[],
  senderId: string,
  userOf: (connectionId: string) => Promise<string | undefined>,
): Promise<string[]> => {
  const resolved = await Promise.all(
    subscriptions.map(async ({ connectionId, userId }) => ({
      connectionId,
      userId: userId ?? (await userOf(connectionId)),
    })),
  );
  return resolved
    .filter(({ userId }) => userId !== undefined && userId !== senderId)
    .map(({ connectionId }) => connectionId);
};

export class TypingService {
  constructor(
    private readonly ports: TypingPorts,
    private readonly config: TypingConfig,
  ) {}

  /**
   * Authorizes like a send, records the envelope in the chat's typing state (429 when the same state was
   * recorded less than `intervalMs` ago; "stopped" is never held back by "typing") and pushes that
   * envelope to the other users' sockets. Pushes are best effort: a failure is reported and skipped, a
   * gone socket removed.
   */
  async send(identity: Identity, chatId: string, isTyping: boolean): Promise<TypingResult> {
    const chat = await this.ports.authorize(identity, chatId);
    const envelope = typingEnvelope(identity, chat, isTyping, this.ports.clock.now());
    if (!(await this.ports.state.record(envelope, this.config.intervalMs))) {
      throw new RateLimitedError(
        `at most one typing event per ${this.config.intervalMs} ms per chat, refresh before it expires`,
      );
    }
    const targets = await targetsOf(
      await this.ports.subscribers(chat.chatId),
      identity.userId,
      this.ports.userOf,
    );
    const outcomes = await mapLimit(targets, this.config.concurrency, (connectionId) =>
      this.ports.push(connectionId, envelope).catch((error: unknown) => {
        this.ports.onPushError?.(connectionId, error);
        return 'failed' as const;
      }),
    );
    return {
      isTyping,
      expiresInMs: TYPING_EXPIRES_IN_MS,
      delivered: outcomes.filter((outcome) => outcome === 'delivered').length,
    };
  }
}
