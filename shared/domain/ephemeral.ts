/**
 * Typing, presence and reaction changes for pollers. None is part of a chat's history (no message, no
 * event-log entry, no seq): GET /v1/chats/{chatId}/events reads their *current state* — the chat's
 * typing records (shared/domain/typing.ts), the last change of each recently reacted message
 * (shared/domain/reactions.ts) and the participants' last presence transitions — and returns the
 * envelopes the caller has not seen yet, exactly as they were pushed to sockets.
 *
 * What "not seen yet" means travels in the `since` cursor the server issues as `nextSince`: a time floor
 * plus short keys of the envelopes already returned after it. The floor trails the read by
 * `overlapMs`, so an envelope stamped just before a read but not yet visible to it (a write in flight,
 * a replica behind, another container's clock) is still returned by the next poll; the keys stop an
 * envelope already returned from being returned again (a long poll never busy-returns it).
 */
import type { Identity } from './identity.ts';
import { sha256 } from './ids.ts';
import type { Clock, PresenceTransition } from './ports.ts';
import { type Envelope, TYPING_EXPIRES_IN_MS } from './schemas.ts';

export type TypingEnvelope = Extract<Envelope, { type: 'typing' }>;
export type PresenceEnvelope = Extract<Envelope, { type: 'presence' }>;

/** The `presence` envelope of a transition in one chat: the same for the socket push and the poll. */
export const presenceEnvelope = (
  chatId: string,
  tenantId: string,
  transition: PresenceTransition,
): PresenceEnvelope => ({
  type: 'presence',
  id: `${chatId}:presence:${transition.userId}:${transition.id}`,
  tenantId,
  chatId,
  at: transition.at,
  data: { userId: transition.userId, role: transition.role, online: transition.online },
});

/** `since`: keys of envelopes already returned after `floor` (epoch ms). */
export interface SinceCursor {
  readonly floor: number;
  readonly seen: readonly string[];
}

/** At most this many keys in a cursor (schemas.ts `sinceSchema` accepts as many). */
export const SEEN_MAX = 100;

/** 8 characters of the id's SHA-256 (48 bits): envelope ids are long, a cursor travels in a URL. */
export const seenKey = (envelopeId: string): string => sha256(envelopeId).slice(0, 8);

export const formatSince = (cursor: SinceCursor): string => [String(cursor.floor), ...cursor.seen].join('.');

/** Reads a cursor already validated by `sinceSchema` (digits, then `.`-separated keys). */
export const parseSince = (value: string): SinceCursor => {
  const [floor = '0', ...seen] = value.split('.');
  return { floor: Number(floor), seen };
};

/** The envelopes of one read: typing records, or presence transitions. */
export interface EphemeralSource {
  /** The reader's clock when the read started (epoch ms). */
  readonly readAt: number;
  /** With a cursor, nothing older than this is returned (typing older than 5 s has expired anyway). */
  readonly maxAgeMs: number;
  readonly envelopes: readonly Envelope[];
}

export interface SelectConfig {
  /** Without a cursor: what is current, i.e. envelopes of the last `windowMs`. */
  readonly windowMs: number;
  /** How far the next cursor's floor trails the oldest read. */
  readonly overlapMs: number;
}

/** Whose typing or presence an envelope is (a reaction change goes to everyone, its author too). */
const authorOf = (envelope: Envelope): unknown =>
  envelope.type === 'reaction' ? undefined : (envelope.data as { userId?: unknown }).userId;

/**
 * What a poller gets from these reads, oldest first, and the cursor of its next poll. Never the viewer's
 * own typing or presence (sockets never receive their own either).
 */
export const selectEphemeral = (
  sources: readonly EphemeralSource[],
  since: SinceCursor | undefined,
  viewerId: string,
  config: SelectConfig,
): { items: Envelope[]; next: SinceCursor } => {
  const seen = new Set(since?.seen);
  const candidates: { envelope: Envelope; at: number; key: string }[] = [];
  for (const source of sources) {
    const lower = since
      ? Math.max(Math.min(since.floor, source.readAt), source.readAt - source.maxAgeMs)
      : source.readAt - config.windowMs;
    for (const envelope of source.envelopes) {
      const at = Date.parse(envelope.at);
      if (!(at > lower) || authorOf(envelope) === viewerId) continue;
      candidates.push({ envelope, at, key: seenKey(envelope.id) });
    }
  }
  candidates.sort((a, b) => a.at - b.at || a.envelope.id.localeCompare(b.envelope.id));
  const items = candidates.filter(({ key }) => !seen.has(key)).map(({ envelope }) => envelope);
  // Everything at or below the floor is excluded next time, everything above it is remembered.
  let floor = Math.min(...sources.map((source) => source.readAt)) - config.overlapMs;
  let kept = candidates.filter(({ at }) => at > floor);
  const boundary = kept[kept.length - SEEN_MAX - 1];
  if (boundary) {
    floor = boundary.at;
    kept = kept.filter(({ at }) => at > floor);
  }
  return { items, next: { floor, seen: [...new Set(kept.map(({ key }) => key))] } };
};

export interface EphemeralPorts {
  /**
   * The chat's typing records (the last envelope of each user and state, expired ones included) and
   * the last reaction change of each recently reacted message.
   */
  readonly typing: (tenantId: string, chatId: string) => Promise<Envelope[]>;
  /** The user ids of the chat's participants. */
  readonly participants: (chatId: string) => Promise<string[]>;
  readonly transitions: (tenantId: string, userIds: readonly string[]) => Promise<PresenceTransition[]>;
  readonly clock: Clock;
}

export interface EphemeralConfig extends SelectConfig {
  /** A long poll re-reads presence this often (typing: every iteration). */
  readonly presenceRefreshMs: number;
  /** With a cursor, presence transitions up to this old are still returned. */
  readonly presenceMaxAgeMs: number;
  /** Presence is read for at most this many participants (one BatchGet). */
  readonly maxParticipants: number;
  /** With a cursor, reaction changes up to this old are still returned. */
  readonly reactionMaxAgeMs: number;
}

export const EPHEMERAL_DEFAULTS: EphemeralConfig = {
  windowMs: TYPING_EXPIRES_IN_MS,
  overlapMs: 2_000,
  presenceRefreshMs: 5_000,
  presenceMaxAgeMs: 60_000,
  maxParticipants: 100,
  reactionMaxAgeMs: 10 * 60_000,
};

/**
 * One poll request's view of a chat's typing and presence. `read()` is called once per long-poll
 * iteration: typing is one Query each time; presence (the participant Query once per request, a
 * BatchGet of their presence items) on the first call and then every `presenceRefreshMs`.
 */
export class EphemeralReader {
  private presence?: EphemeralSource;
  private members?: string[];
  private readonly since: SinceCursor | undefined;

  constructor(
    private readonly ports: EphemeralPorts,
    private readonly config: EphemeralConfig,
    private readonly viewer: Identity,
    private readonly chatId: string,
    since: string | undefined,
  ) {
    this.since = since === undefined ? undefined : parseSince(since);
  }

  async read(): Promise<{ items: Envelope[]; nextSince: string }> {
    const now = this.ports.clock.now().getTime();
    const cached = this.presence;
    const [live, presence] = await Promise.all([
      this.ports.typing(this.viewer.tenantId, this.chatId),
      cached && now - cached.readAt < this.config.presenceRefreshMs ? cached : this.readPresence(now),
    ]);
    this.presence = presence;
    const { items, next } = selectEphemeral(
      [
        {
          readAt: now,
          maxAgeMs: this.config.windowMs,
          envelopes: live.filter((envelope) => envelope.type !== 'reaction'),
        },
        {
          readAt: now,
          maxAgeMs: this.config.reactionMaxAgeMs,
          envelopes: live.filter((envelope) => envelope.type === 'reaction'),
        },
        presence,
      ],
      this.since,
      this.viewer.userId,
      this.config,
    );
    return { items, nextSince: formatSince(next) };
  }

  private async readPresence(readAt: number): Promise<EphemeralSource> {
    this.members ??= (await this.ports.participants(this.chatId))
      .filter((userId) => userId !== this.viewer.userId)
      .slice(0, this.config.maxParticipants);
    const transitions = this.members.length
      ? await this.ports.transitions(this.viewer.tenantId, this.members)
      : [];
    return {
      readAt,
      maxAgeMs: this.config.presenceMaxAgeMs,
      envelopes: transitions.map((transition) =>
        presenceEnvelope(this.chatId, this.viewer.tenantId, transition),
      ),
    };
  }
}

export class EphemeralFeed {
  constructor(
    private readonly ports: EphemeralPorts,
    private readonly config: EphemeralConfig = EPHEMERAL_DEFAULTS,
  ) {}

  /** A reader for one poll request; `since` is a previous response's `nextSince` (validated). */
  reader(viewer: Identity, chatId: string, since?: string): EphemeralReader {
    return new EphemeralReader(this.ports, this.config, viewer, chatId, since);
  }
}
