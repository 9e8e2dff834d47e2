/**
 * Size bounds on what reaches a client.
 *
 * - A socket frame: API Gateway refuses an @connections post over 128 KB ("Message payload size",
 *   WebSocket API quotas). An envelope whose JSON is larger is pushed as a small notice instead: the
 *   same type, id, chat and positions, with `data: { tooLarge: true, bytes, fetch }`, `fetch` being the
 *   path whose GET returns what the envelope carried (a one-message page, or the chat). Clients fetch it (web/sdk/delivery.ts); the stream record is never stuck on a
 *   post that cannot succeed.
 * - A polling response: a Lambda response is at most 6 MB, so the events poll stops adding envelopes at
 *   `POLL_MAX_BYTES` and says `hasMore`, its cursors moved only past what it returns.
 */
import type { Envelope } from './schemas.ts';

/** API Gateway's WebSocket message payload quota: 128 KB. */
export const FRAME_MAX_BYTES = 128 * 1024;
/** Under the 6 MB Lambda response payload limit, with room for the response's own fields. */
export const POLL_MAX_BYTES = 5 * 1024 * 1024;

export interface TooLargeData {
  readonly tooLarge: true;
  /** The envelope's size in bytes of JSON. */
  readonly bytes: number;
  /** GET this path (relative to the HTTP API) for what the envelope carried. */
  readonly fetch: string;
}

/** UTF-8 bytes of a JSON text; a cheap bound first (3 bytes per UTF-16 unit at most). */
const bytesOver = (text: string, maxBytes: number): number | undefined => {
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes > maxBytes ? bytes : undefined;
};

const chatPath = (chatId: string): string => `/v1/chats/${encodeURIComponent(chatId)}`;

const MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'message.created',
  'message.updated',
  'message.deleted',
  'mention',
]);

/**
 * Where a client reads what an envelope too large to push carried: its message (a one-item page of
 * GET …/messages) or its chat (GET /v1/chats/{chatId}, which `chat.*` envelopes carry).
 */
export const fetchPathOf = (envelope: Envelope): string => {
  const path = chatPath(envelope.chatId ?? '');
  return MESSAGE_TYPES.has(envelope.type) && envelope.seq !== undefined
    ? `${path}/messages?after=${Math.max(0, envelope.seq - 1)}&limit=1`
    : path;
};

/** The frame to post for an envelope: its JSON, or a "fetch it" notice when that is over `maxBytes`. */
export const frameOf = (envelope: Envelope, maxBytes: number = FRAME_MAX_BYTES): string => {
  const payload = JSON.stringify(envelope);
  const bytes = bytesOver(payload, maxBytes);
  if (bytes === undefined) return payload;
  const { data: _data, ...head } = envelope;
  const data: TooLargeData = { tooLarge: true, bytes, fetch: fetchPathOf(envelope) };
  return JSON.stringify({ ...head, data });
};

/** What the events poll answers (shared/domain/chats.ts `events`). */
export interface EventsPage {
  readonly items: Envelope[];
  readonly nextAfter: number;
  readonly nextAfterEvent: number;
  readonly hasMore: boolean;
}

const isMessageEnvelope = (envelope: Envelope): boolean =>
  envelope.type === 'message.created' || envelope.type === 'mention';

/**
 * The page cut to `maxBytes` of JSON (at least one envelope): past the first envelope that does not
 * fit, no message at or above its lowest seq and no event at or above its lowest eventSeq is returned,
 * the cursors stop below them, and `hasMore` says to poll again at once. Typing and presence that
 * fit are kept.
 */
export const boundPage = <P extends EventsPage>(page: P, maxBytes: number = POLL_MAX_BYTES): P => {
  let used = 0;
  const cut = page.items.findIndex((envelope, index) => {
    used += Buffer.byteLength(JSON.stringify(envelope)) + 1;
    return index > 0 && used > maxBytes;
  });
  if (cut < 0) return page;
  const dropped = page.items.slice(cut);
  const firstSeq = Math.min(...dropped.filter(isMessageEnvelope).map((e) => e.seq ?? Infinity));
  const firstEvent = Math.min(...dropped.map((e) => e.eventSeq ?? Infinity));
  const items = page.items
    .slice(0, cut)
    .filter((e) =>
      e.eventSeq !== undefined ? e.eventSeq < firstEvent : !isMessageEnvelope(e) || (e.seq ?? 0) < firstSeq,
    );
  return {
    ...page,
    items,
    nextAfter: Number.isFinite(firstSeq) ? Math.min(page.nextAfter, firstSeq - 1) : page.nextAfter,
    nextAfterEvent: Number.isFinite(firstEvent)
      ? Math.min(page.nextAfterEvent, firstEvent - 1)
      : page.nextAfterEvent,
    hasMore: true,
  };
};

/**
 * Room for the messages a subscribe ack carries: the ack's own fields and the gateway's framing stay
 * well inside the 128 KB frame.
 */
export const ACK_MESSAGES_MAX_BYTES = 96 * 1024;

/** What an item adds to a JSON array: its bytes and a separator. */
export const jsonBytes = (item: unknown): number => Buffer.byteLength(JSON.stringify(item)) + 1;

/** The longest prefix of `items` whose JSON totals at most `maxBytes` (possibly none). */
export const leadingWithin = <T>(items: readonly T[], maxBytes: number): T[] => {
  let used = 0;
  const cut = items.findIndex((item) => {
    used += jsonBytes(item);
    return used > maxBytes;
  });
  return cut < 0 ? [...items] : items.slice(0, cut);
};
