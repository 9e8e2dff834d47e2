/** Domain records for tests that write through the stores directly. */
import type { ChatRecord } from '../../shared/domain/schemas.ts';

let counter = 0;

/**
 * A chat record (not stored) with a fresh valid chat id, open, created by `alice` of tenant `acme`
 * with no metadata unless `overrides` say otherwise; `at` is its createdAt, updatedAt and lastActivityAt.
 */
export const chatRecord = (at: string | Date | number, overrides: Partial<ChatRecord> = {}): ChatRecord => {
  const iso = new Date(at).toISOString();
  return {
    chatId: `ch_${(++counter).toString().padStart(20, '0')}`,
    tenantId: 'acme',
    metadata: {},
    status: 'open',
    createdBy: 'alice',
    createdAt: iso,
    updatedAt: iso,
    lastActivityAt: iso,
    lastSeq: 0,
    ...overrides,
  };
};
