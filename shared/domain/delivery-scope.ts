/**
 * Who of a chat's subscribers may still receive it: the fan-out's check, so that a subscription left
 * behind by a removal (its cleanup failed, or raced with a subscribe) never delivers. A subscription of
 * an agent or a service delivers (they may read every chat of their tenant); one of a visitor or a user
 * delivers only while that user is a participant; one written before subscriptions kept their user and
 * role delivers as before (it expires with its socket, within 2 h).
 *
 * Whether a visitor or user is still a participant needs no read while nobody has been removed since
 * the subscription was authorized: the chat item counts its removals (`membersVersion`, moved in the
 * removal's own transaction), a subscription records a version at which its access check found the
 * subscriber taking part (shared/adapters/dynamo/chat-membership.ts `chatsAccess` with `vouch`), and a
 * message carries the version of the moment its seq was reserved. Equal
 * versions: no removal between the check and the message, so the subscriber took part when the message
 * was sent. Otherwise (a removal since, a record without a version: chat events, reactions, typing,
 * presence) the chat's participants are read, consistently, once.
 */
import type { Role } from './schemas.ts';

export interface Subscriber {
  readonly connectionId: string;
  readonly userId?: string;
  readonly role?: Role;
  /** The chat's membersVersion the subscription was authorized at. */
  readonly membersVersion?: number;
}

/** Whether a subscriber's right to the chat depends on being a participant. */
const needsMembership = (subscriber: Subscriber): boolean =>
  subscriber.userId !== undefined && (subscriber.role === 'visitor' || subscriber.role === 'user');

/** Whether a subscriber's membership must be read: it needs one, and `version` does not vouch for it. */
const needsRead = (subscriber: Subscriber, version: number | undefined): boolean =>
  needsMembership(subscriber) && (version === undefined || subscriber.membersVersion !== version);

/**
 * The `subscribers` that may receive an envelope of the chat. `version`: the membersVersion the
 * envelope's record carries (a message's), if any. `participantIds` (one consistent read of the chat's
 * participants) is called only when some subscriber needs it, at most once.
 */
export const entitledSubscribers = async <S extends Subscriber>(
  subscribers: readonly S[],
  participantIds: () => Promise<readonly string[]>,
  version?: number,
): Promise<S[]> => {
  if (!subscribers.some((subscriber) => needsRead(subscriber, version))) return [...subscribers];
  const members = new Set(await participantIds());
  return subscribers.filter(
    (subscriber) => !needsRead(subscriber, version) || members.has(subscriber.userId ?? ''),
  );
};

/**
 * A chat's audience for the records of one stream batch: its subscriptions read once, its participants
 * read at most once (only for a record whose version does not vouch for every subscriber), connections
 * found gone left out of the later records.
 */
export class ChatAudience {
  private subscriptions?: Promise<readonly Subscriber[]>;
  private members?: Promise<readonly string[]>;
  private readonly gone = new Set<string>();

  constructor(
    private readonly reads: {
      readonly subscriptions: () => Promise<readonly Subscriber[]>;
      readonly participantIds: () => Promise<readonly string[]>;
    },
  ) {}

  /** The connection ids that may receive a record carrying `version` (none: every subscriber checked). */
  async connectionIds(version?: number): Promise<string[]> {
    const subscriptions = await (this.subscriptions ??= this.reads.subscriptions());
    const live = subscriptions.filter((subscriber) => !this.gone.has(subscriber.connectionId));
    const entitled = await entitledSubscribers(
      live,
      () => (this.members ??= this.reads.participantIds()),
      version,
    );
    return entitled.map((subscriber) => subscriber.connectionId);
  }

  /** Leaves connections answered 410 out of the later records. */
  drop(connectionIds: readonly string[]): void {
    for (const connectionId of connectionIds) this.gone.add(connectionId);
  }
}
