/**
 * Who owns a chat's metadata keys. A top-level key that an agent or a service writes (at creation or by
 * PATCH) is owned by staff from then on: routing keys such as the indexed ones (project_id, department,
 * priority) cannot be re-pointed by the visitor or user who created the chat. A visitor's or user's write
 * that would set, change or remove a staff-owned key is refused whole (403 naming the keys, nothing
 * changed); keys they set themselves, and staff-owned keys they send back unchanged, are fine. A key
 * staff remove stops being owned.
 */
import { DomainError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import type { Chat } from './schemas.ts';

type Metadata = Chat['metadata'];

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The top-level keys a write from `before` to `after` sets, changes or removes. */
const changedKeys = (before: Metadata, after: Metadata): string[] =>
  [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (key) => !same(before[key], after[key]),
  );

/** 403 (`forbidden`, details `{ keys }`) when a visitor or user would change a staff-owned key. */
export const assertMayWriteMetadata = (
  identity: Identity,
  staffKeys: readonly string[],
  before: Metadata,
  after: Metadata,
): void => {
  if (isStaff(identity) || staffKeys.length === 0) return;
  const owned = new Set(staffKeys);
  const keys = changedKeys(before, after).filter((key) => owned.has(key));
  if (keys.length > 0) {
    throw new DomainError(
      403,
      'forbidden',
      `metadata keys set by agents or services can only be changed by them: ${keys.join(', ')}`,
      { keys },
    );
  }
};

/** The staff-owned keys after a write of `after` (over `before`, `{}` at creation) by `identity`. */
export const staffKeysAfter = (
  identity: Identity,
  staffKeys: readonly string[],
  before: Metadata,
  after: Metadata,
): string[] => {
  const present = (key: string) => Object.hasOwn(after, key);
  const owned = new Set(staffKeys.filter(present));
  if (isStaff(identity)) for (const key of changedKeys(before, after).filter(present)) owned.add(key);
  return [...owned].sort();
};
