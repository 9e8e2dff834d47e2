/**
 * Who of a chat's subscribers may still receive it: the fan-out's check, so that a subscription left
 * behind by a removal (its cleanup failed, or raced with a subscribe) never delivers. A subscription of
 * an agent or a service delivers (they may read every chat of their tenant); one of a visitor or a user
 * delivers only while that user is a participant; one written before subscriptions kept their user and
 * role delivers as before (it expires with its socket, within 2 h).
 */
import type { Role } from './schemas.ts';

export interface Subscriber {
  readonly connectionId: string;
  readonly userId?: string;
  readonly role?: Role;
}

/** Whether a subscriber's right to the chat depends on being a participant. */
const needsMembership = (subscriber: Subscriber): boolean =>
  subscriber.userId !== undefined && (subscriber.role === 'visitor' || subscriber.role === 'user');

/**
 * The `subscribers` that may receive the chat's envelopes. `participantIds` (one consistent read of the
 * chat's participants) is called only when some subscriber needs it, at most once.
 */
export const entitledSubscribers = async <S extends Subscriber>(
  subscribers: readonly S[],
  participantIds: () => Promise<readonly string[]>,
): Promise<S[]> => {
  if (!subscribers.some(needsMembership)) return [...subscribers];
  const members = new Set(await participantIds());
  return subscribers.filter(
    (subscriber) => !needsMembership(subscriber) || members.has(subscriber.userId ?? ''),
  );
};
