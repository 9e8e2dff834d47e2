/**
 * A void: the placeholder that fills a seq whose message will never be written (its writer failed, or
 * lost the race for its clientMessageId after reserving the seq), so a chat's seqs stay gap-free. It is
 * a deleted system message of kind `void` with no text (shared/adapters/dynamo/message-store.ts writes
 * it). Clients skip it — the browser SDK imports this module and never shows one — and the stats do not
 * count it. Type-only imports: this module ships in the browser SDK too.
 */
import type { Message } from './schemas.ts';

export const VOID_KIND = 'void';

export const isVoid = (message: Pick<Message, 'system'>): boolean => message.system?.kind === VOID_KIND;
