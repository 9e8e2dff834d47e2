/**
 * Index attributes of the metadata GSIs on the chat item (docs/data-model.md, "Metadata filters").
 * Pure: computed from (tenantId, chatId, metadata, lastActivityAt) at creation and on every metadata
 * change; touchActivity moves the equality sort keys with the activity like `gsi2sk`.
 */
import { type MetadataSlot, metadataSlots } from '../../config/metadata-index.ts';
import { ENTITY } from '../../config/table.ts';
import { asNumber, MAX_FILTER_VALUE_LENGTH, metadataValue, scalarKey } from '../../domain/chat-filter.ts';
import type { ChatRecord } from '../../domain/schemas.ts';
import { keys } from './keys.ts';

/** Order-preserving text of a double: 16 hex digits of its IEEE 754 bits, sign-adjusted. */
export const encodeNumber = (value: number): string => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value === 0 ? 0 : value);
  if ((bytes[0] ?? 0) & 0x80) for (let i = 0; i < 8; i++) bytes[i] = ~(bytes[i] ?? 0) & 0xff;
  else bytes[0] = (bytes[0] ?? 0) | 0x80;
  return Buffer.from(bytes).toString('hex');
};

export const metadataKeys = {
  /** Equality GSI partition: one per (tenant, key, canonical value). */
  eqPartition: (tenantId: string, key: string, canonical: string) => `MD#${tenantId}#${key}#${canonical}`,
  /** Range GSI partition: one per (tenant, key); the sort key is the value. */
  rangePartition: (tenantId: string, key: string) => `MDR#${tenantId}#${key}`,
  numberSort: (value: number) => `N#${encodeNumber(value)}#`,
  textSort: (value: string) => `S#${value}#`,
  NUMBER_PREFIX: 'N#',
  TEXT_PREFIX: 'S#',
  /** Sorts after every chat id (`ch_` + [a-z0-9]) and every hex digit. */
  HIGH: '~',
} as const;

export const slotAttributes = (slots: readonly MetadataSlot[] = metadataSlots()): string[] =>
  slots.flatMap((slot) => [slot.eqPk, slot.eqSk, slot.rangePk, slot.rangeSk]);

/**
 * The GSI attributes for the indexed keys the metadata holds as a scalar (text up to
 * MAX_FILTER_VALUE_LENGTH characters, number, boolean); other values are not indexed.
 */
export const metadataIndexAttributes = (
  tenantId: string,
  chatId: string,
  metadata: unknown,
  lastActivityAt: string,
  slots: readonly MetadataSlot[] = metadataSlots(),
): Record<string, string> => {
  const attributes: Record<string, string> = {};
  for (const slot of slots) {
    const value = metadataValue(metadata, slot.key);
    const canonical = scalarKey(value);
    if (canonical === undefined || canonical.length > MAX_FILTER_VALUE_LENGTH) continue;
    const number = asNumber(value);
    attributes[slot.eqPk] = metadataKeys.eqPartition(tenantId, slot.key, canonical);
    attributes[slot.eqSk] = keys.activitySort(lastActivityAt, chatId);
    attributes[slot.rangePk] = metadataKeys.rangePartition(tenantId, slot.key);
    attributes[slot.rangeSk] =
      (number === undefined ? metadataKeys.textSort(canonical) : metadataKeys.numberSort(number)) + chatId;
  }
  return attributes;
};

/** The whole chat item as the store writes it (also used by tests that bulk-load chats). */
export const chatItem = (
  chat: ChatRecord,
  slots: readonly MetadataSlot[] = metadataSlots(),
): Record<string, unknown> => ({
  ...keys.chat(chat.chatId),
  entity: ENTITY.chat,
  ...chat,
  gsi2pk: keys.tenantIndex(chat.tenantId),
  gsi2sk: keys.activitySort(chat.lastActivityAt, chat.chatId),
  ...metadataIndexAttributes(chat.tenantId, chat.chatId, chat.metadata, chat.lastActivityAt, slots),
});
