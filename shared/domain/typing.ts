/**
 * Typing indicators: ephemeral, never stored in the table and never sent through the stream. The
 * sender's handler pushes one `typing` envelope straight to the chat's subscribed sockets, except every
 * socket of the sender's own user (other tabs included). Clients drop the indicator `expiresInMs` after
 * the last refresh. Polling-only clients never see them (nothing is stored to poll).
 */
import { RateLimitedError } from './errors.ts';
import type { Identity } from './identity.ts';
import { newId } from './ids.ts';
import type { Clock } from './ports.ts';
import { mapLimit } from './realtime.ts';
import { type Envelope, TYPING_EXPIRES_IN_MS } from './schemas.ts';

/** At most one hit per key per interval; false when the previous accepted hit is too recent. */
export interface Cooldown {
  take(key: string, intervalMs: number): Promise<boolean>;
}

export interface TypingPorts {
  /** Throws unless the caller may send to the chat (participant, or staff of its tenant). */
  readonly authorize: (identity: Identity, chatId: string) => Promise<{ chatId: string; tenantId: string }>;
  /** The chat's subscribed connections with their user (see ConnectionStore.subscriberUsers). */
  readonly subscribers: (chatId: string) => Promise<{ connectionId: string; userId?: string }[]>;
  /** The user of a connection, for subscriptions stored without one (before userId was kept). */
  readonly userOf: (connectionId: string) => Promise<string | undefined>;
  /** Posts to a socket; a gone socket is removed (RealtimeService.push). */
  readonly push: (connectionId: string, envelope: Envelope) => Promise<'delivered' | 'gone'>;
  readonly cooldown: Cooldown;
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

/** The rate-limit key: one per tenant, chat, user and state, so "stopped typing" is never held back by "typing". */
export const typingKey = (identity: Identity, chatId: string, isTyping: boolean): string =>
  `typing#${identity.tenantId}#${chatId}#${identity.userId}#${isTyping ? 'on' : 'off'}`;

export const typingEnvelope = (
  identity: Identity,
  chat: { chatId: string; tenantId: string },
  isTyping: boolean,
  at: Date,
): Envelope => ({
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
   * Authorizes like a send, applies the cooldown (429 when refused) and pushes the envelope to the other
   * users' sockets. Pushes are best effort: a failure is reported and skipped, a gone socket removed.
   */
  async send(identity: Identity, chatId: string, isTyping: boolean): Promise<TypingResult> {
    const chat = await this.ports.authorize(identity, chatId);
    if (!(await this.ports.cooldown.take(typingKey(identity, chatId, isTyping), this.config.intervalMs))) {
      throw new RateLimitedError(
        `at most one typing event per ${this.config.intervalMs} ms per chat, refresh before it expires`,
      );
    }
    const envelope = typingEnvelope(identity, chat, isTyping, this.ports.clock.now());
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
