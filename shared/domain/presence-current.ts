/**
 * The presence changes of a stream batch still worth announcing. A user whose last socket closed and who
 * is online again by the time the change is processed (a newer, online transition is stored: a page
 * reload, a network blip, a reconnect storm) is not announced offline: the subscribers of the user's
 * chats would see them leave and come back, and the announcement costs a read of the user's chats and a
 * push to every subscriber of each. The online transition that followed is announced as usual (clients
 * take it as a repeat of what they show).
 *
 * One read of the stored transitions per tenant with offline changes. It may be stale (eventually
 * consistent, and the user may come back just after it): the change is then announced, as it would be
 * without this check; a failed read announces everything.
 */
import type { PresenceStore, PresenceTransition } from './ports.ts';

export interface AnnouncedChange {
  readonly tenantId: string;
  readonly transition: PresenceTransition;
}

export const withoutSuperseded = async <C extends AnnouncedChange>(
  changes: readonly C[],
  store: Pick<PresenceStore, 'transitions'>,
): Promise<C[]> => {
  const offline = new Map<string, Set<string>>();
  for (const { tenantId, transition } of changes) {
    if (transition.online) continue;
    const users = offline.get(tenantId) ?? new Set<string>();
    users.add(transition.userId);
    offline.set(tenantId, users);
  }
  if (offline.size === 0) return [...changes];
  // Per tenant, the users whose stored transition is online now.
  const back = new Map<string, Map<string, string>>();
  await Promise.all(
    [...offline].map(async ([tenantId, users]) => {
      const stored = await store.transitions(tenantId, [...users]);
      back.set(tenantId, new Map(stored.filter((t) => t.online).map((t) => [t.userId, t.id])));
    }),
  );
  return changes.filter(({ tenantId, transition }) => {
    if (transition.online) return true;
    const onlineAgain = back.get(tenantId)?.get(transition.userId);
    return onlineAgain === undefined || onlineAgain === transition.id;
  });
};
