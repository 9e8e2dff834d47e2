/**
 * Every input crossing an edge is parsed by one of these schemas (safeParse at the edge); the domain's
 * types are inferred from them. docs/openapi.json is generated from this file (npm run docs:api).
 * zod/mini (shared/zod.ts): checks go in `.check(...)`, wrappers are functions (`z.optional(x)`).
 */
import * as z from '../zod.ts';
import { numbersStorable, valueDepth } from './json-bounds.ts';
import { originPatternProblem } from './origins.ts';

export const roleSchema = z.enum(['visitor', 'user', 'agent', 'service']);
export type Role = z.infer<typeof roleSchema>;

export const tenantIdSchema = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, 2 to 63 characters'));
export const userIdSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9_.:@|-]{0,127}$/,
      'letters, digits and _ . : @ | -, at most 128 characters',
    ),
  );
/** The sender of system messages (greeting, away, "agent joined", services' events): never a caller. */
export const SYSTEM_SENDER = 'system';
/**
 * A user id a caller may have or name (token subjects, participants, assignees, blocks): any user id
 * but the reserved SYSTEM_SENDER, so nobody can pose as, edit or pre-empt system messages.
 */
export const callerIdSchema = userIdSchema.check(
  z.refine((id) => id !== SYSTEM_SENDER, { message: `'${SYSTEM_SENDER}' is reserved for system messages` }),
);
export const chatIdSchema = z
  .string()
  .check(z.regex(/^ch_[a-z0-9]{20}$/, 'a chat id such as ch_0123456789abcdefghij'));
export const clientMessageIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _ . : -, 1 to 128 characters'));
export const requestIdSchema = z.string().check(z.minLength(1), z.maxLength(128));

const METADATA_MAX_BYTES = 8 * 1024;
/**
 * Metadata nests at most this deep (the metadata object is level 1): stored chats, their events and
 * system messages wrap it in a few more levels, and DynamoDB refuses items nested deeper than 32.
 */
export const METADATA_MAX_DEPTH = 16;
export const metadataSchema = z.record(z.string().check(z.minLength(1), z.maxLength(64)), z.json()).check(
  z.refine((value) => valueDepth(value, METADATA_MAX_DEPTH) <= METADATA_MAX_DEPTH, {
    message: `metadata must not be nested more than ${METADATA_MAX_DEPTH} levels deep`,
    abort: true,
  }),
  z.refine((value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES, {
    message: `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON`,
  }),
  z.refine(numbersStorable, {
    message: 'metadata numbers must be 0 or between 1e-130 and 9007199254740991 in magnitude',
  }),
);

const seqSchema = z.coerce.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
/** Query `limit`: an integer from 1 to 100, `fallback` when absent. */
const limitSchema = (fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), fallback);
/** Long-poll `waitSeconds`: an integer from 0 to 20, 0 when absent. */
const waitSecondsSchema = z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(20)), 0);

// ---- HTTP request bodies and queries ----

export const createVisitorBody = z.strictObject({
  tenantId: tenantIdSchema,
  name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))),
  email: z.optional(z.email().check(z.maxLength(254))),
});

/** `POST /v1/visitors/refresh`: a refresh token from POST /v1/visitors (or from an earlier refresh). */
export const refreshVisitorBody = z.strictObject({
  refreshToken: z.string().check(z.minLength(1), z.maxLength(4096)),
});
/** The answer of POST /v1/visitors and POST /v1/visitors/refresh. */
export const visitorSessionSchema = z.object({
  visitorId: z.string(),
  token: z.string(),
  expiresAt: z.iso.datetime(),
  refreshToken: z.string(),
});
export type VisitorSession = z.infer<typeof visitorSessionSchema>;

export const createTicketBody = z.optional(z.strictObject({}));

export const createChatBody = z.strictObject({
  subject: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
  metadata: z.optional(metadataSchema),
  participants: z.optional(z.array(callerIdSchema).check(z.maxLength(50))),
  unique: z.optional(z.boolean()),
});
export type CreateChatInput = z.infer<typeof createChatBody>;

export const attachmentIdSchema = z
  .string()
  .check(z.regex(/^att_[a-z0-9]{20}$/, 'an attachment id such as att_0123456789abcdefghij'));
const messageTypeSchema = z.enum(['text', 'file'], { error: 'type must be "text" or "file"' });
/** At most this many users mentioned by one message. */
export const MENTIONS_MAX = 20;

/** A text message needs text; a file message needs a ready attachment and may carry a caption. */
export const messageIdSchema = z
  .string()
  .check(z.regex(/^m_[a-z0-9]{12}_\d{1,15}$/, 'a message id such as m_0123456789ab_42'));

const messageContent = {
  clientMessageId: clientMessageIdSchema,
  text: z.optional(z.string().check(z.trim(), z.maxLength(8000))),
  attachmentId: z.optional(attachmentIdSchema),
  /** A reply: the message (of the same chat) it answers. */
  replyTo: z.optional(messageIdSchema),
  /** Participants this message mentions (each gets a `mention` envelope on all its sockets). */
  mentions: z.optional(z.array(callerIdSchema).check(z.maxLength(MENTIONS_MAX))),
};
const contentRules = (
  value: { type: 'text' | 'file'; text?: string | undefined; attachmentId?: string | undefined },
  ctx: z.core.$RefinementCtx,
) => {
  if (value.type === 'text' && !value.text)
    ctx.addIssue({ code: 'custom', path: ['text'], message: 'text must not be empty' });
  if (value.type === 'text' && value.attachmentId)
    ctx.addIssue({ code: 'custom', path: ['attachmentId'], message: 'attachmentId goes with type "file"' });
  if (value.type === 'file' && !value.attachmentId)
    ctx.addIssue({ code: 'custom', path: ['attachmentId'], message: 'a file message needs an attachmentId' });
};

export const sendMessageBody = z
  .strictObject({ ...messageContent, type: messageTypeSchema })
  .check(z.superRefine(contentRules));
export type SendMessageInput = z.infer<typeof sendMessageBody>;

export const createAttachmentBody = z.strictObject({
  fileName: z.string().check(
    z.trim(),
    z.minLength(1),
    z.maxLength(255),
    z.refine(
      (name) => ![...name].some((ch) => ch < ' ' || ch === '\u007f' || ch === '/' || ch === '\\'),
      'fileName must not contain control characters or slashes',
    ),
  ),
  contentType: z
    .string()
    .check(
      z.trim(),
      z.toLowerCase(),
      z.regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'a MIME type such as image/png'),
    ),
  size: z.number().check(z.int(), z.minimum(1, 'size must be at least 1 byte')),
});
export type CreateAttachmentInput = z.infer<typeof createAttachmentBody>;
export const attachmentPathParams = z.strictObject({ attachmentId: attachmentIdSchema });

export const chatPathParams = z.strictObject({ chatId: chatIdSchema });

/**
 * `GET /v1/chats`: paging, the standard filter fields and any number of `metadata__<key>[__<op>]`
 * parameters (parsed further by shared/domain/chat-filter.ts; other names are refused there).
 */
export const listChatsQuery = z.catchall(
  z.object({
    limit: limitSchema(20),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
    status: z.optional(z.enum(['open', 'closed'])),
    assignee: z.optional(userIdSchema),
    participant: z.optional(userIdSchema),
    updatedAfter: z.optional(z.iso.datetime({ offset: true })),
  }),
  z.string().check(z.maxLength(1024)),
);

export const listMessagesQuery = z
  .strictObject({
    after: z.optional(seqSchema),
    before: z.optional(seqSchema.check(z.minimum(1))),
    limit: limitSchema(50),
  })
  .check(
    z.refine((query) => query.after === undefined || query.before === undefined, {
      message: 'use either after or before, not both',
      path: ['before'],
    }),
  );

export const pollEventsQuery = z.strictObject({
  after: z._default(seqSchema, 0),
  /** Chat events (chat.updated, chat.closed, …) after this event seq; pass back `nextAfterEvent`. */
  afterEvent: z._default(seqSchema, 0),
  waitSeconds: waitSecondsSchema,
  limit: limitSchema(100),
  /**
   * Typing and presence (not history) newer than this cursor: pass back `nextSince` as is. Without it,
   * the poll returns what is current (the last 5 s).
   */
  since: z.optional(
    z
      .string()
      .check(z.regex(/^\d{1,15}(\.[A-Za-z0-9_-]{8}){0,100}$/, 'a nextSince value from a previous poll')),
  ),
});

/**
 * `GET /v1/chats/changes`: the filter of a live chat list (the conditions of GET /v1/chats except
 * participant, limit and cursor: checked by shared/domain/chat-list-feed.ts) plus the poll's cursor.
 */
export const pollChatChangesQuery = z.catchall(
  z.object({
    /** Changes after this cursor: pass back `nextSince` as is. Without it, the changes of the last 5 s. */
    since: z.optional(
      z.string().check(z.regex(/^[A-Za-z0-9_-]{1,2048}$/, 'a nextSince value from a previous poll')),
    ),
    waitSeconds: waitSecondsSchema,
  }),
  z.string().check(z.maxLength(1024)),
);

export const patchChatBody = z
  .strictObject({
    subject: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200))),
    metadata: z.optional(metadataSchema),
    status: z.optional(z.enum(['open', 'closed'])),
    rating: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(5))),
    feedback: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(2000))),
  })
  .check(
    z.refine((patch) => Object.keys(patch).length > 0, { message: 'nothing to change' }),
    z.refine(
      (patch) => (patch.rating === undefined && patch.feedback === undefined) || patch.status === 'closed',
      {
        message: 'rating and feedback go with status "closed"',
        path: ['rating'],
      },
    ),
  );
export type PatchChatInput = z.infer<typeof patchChatBody>;

export const messagePathParams = z.strictObject({ chatId: chatIdSchema, messageId: messageIdSchema });

/** At most this many distinct emoji per message. */
export const REACTIONS_MAX_DISTINCT = 20;
/** One emoji sequence of Unicode's RGI set (modifiers, ZWJ sequences, flags, keycaps), flag `v`. */
const EMOJI_SOURCE = '^\\p{RGI_Emoji}$';
let emojiPattern: RegExp | undefined;
/**
 * Whether `value` is one emoji (EMOJI_SOURCE). The expression is compiled on first use: building its
 * automaton takes V8 over 10 ms, which every function importing these schemas would otherwise pay at
 * its cold start, and only reactions need it.
 */
const isOneEmoji = (value: string): boolean => (emojiPattern ??= new RegExp(EMOJI_SOURCE, 'v')).test(value);
/** One emoji sequence (isOneEmoji), at most 32 bytes; the API reference shows the expression. */
export const emojiSchema = z
  .string()
  .check(
    z.refine((value) => new TextEncoder().encode(value).length <= 32, 'an emoji is at most 32 bytes'),
    z.refine(isOneEmoji, 'one emoji, such as 👍'),
  )
  .register(z.globalRegistry, { pattern: EMOJI_SOURCE });
export const reactionPathParams = z.strictObject({
  chatId: chatIdSchema,
  messageId: messageIdSchema,
  emoji: emojiSchema,
});
/** `GET /v1/chats/{chatId}/messages/{messageId}/replies`: a thread, ascending seq. */
export const listRepliesQuery = z.strictObject({
  after: z.optional(seqSchema),
  limit: limitSchema(50),
});
export const editMessageBody = z.strictObject({
  text: z.string().check(z.trim(), z.minLength(1, 'text must not be empty'), z.maxLength(8000)),
});

export const addParticipantBody = z.strictObject({ userId: callerIdSchema });
export const assignBody = z.strictObject({ agentId: callerIdSchema });
export const markReadBody = z.strictObject({ seq: z.number().check(z.int(), z.minimum(0)) });
export const systemEventBody = z.strictObject({
  kind: z.string().check(z.regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'a kind such as payment.initiated')),
  text: z.string().check(z.trim(), z.minLength(1), z.maxLength(2000)),
  data: z.optional(metadataSchema),
  /** Makes a retried call return the first message instead of posting twice. */
  clientMessageId: z.optional(clientMessageIdSchema),
});
export type SystemEventInput = z.infer<typeof systemEventBody>;
export const participantPathParams = z.strictObject({ chatId: chatIdSchema, userId: userIdSchema });
export const preferencesBody = z.strictObject({ muted: z.boolean() });

export const auditQuery = z.strictObject({
  limit: limitSchema(50),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});

/** Typing indicator (POST /v1/chats/{chatId}/typing and the `typing` frame); never stored. */
export const typingBody = z.strictObject({ isTyping: z.boolean() });
/** Typing indicators expire on the client this long after the last refresh. */
export const TYPING_EXPIRES_IN_MS = 5000;

/** GET /v1/presence?userIds=a,b — comma-separated (user ids never hold a comma), 1 to 100 distinct. */
export const PRESENCE_MAX_USERS = 100;
export const presenceQuery = z.strictObject({
  userIds: z.pipe(
    z.pipe(
      z.string(),
      z.transform((value) => [...new Set(value.split(','))]),
    ),
    z.array(userIdSchema).check(z.minLength(1), z.maxLength(PRESENCE_MAX_USERS)),
  ),
});
export const presenceSchema = z.object({
  items: z.array(z.object({ userId: userIdSchema, online: z.boolean() })),
});
export type PresenceRead = z.infer<typeof presenceSchema>;

export const blockBody = z.strictObject({ userId: callerIdSchema });
export const blockPathParams = z.strictObject({ userId: userIdSchema });
export const listBlocksQuery = z.strictObject({
  limit: limitSchema(50),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});
export const blockSchema = z.object({ userId: userIdSchema, blockedAt: z.iso.datetime() });
export type Block = z.infer<typeof blockSchema>;

export const devTokenBody = z.strictObject({
  tenantId: tenantIdSchema,
  userId: callerIdSchema,
  role: roleSchema,
  name: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(100))),
  expiresInSeconds: z.optional(z.number().check(z.int(), z.minimum(60), z.maximum(7 * 24 * 3600))),
});

// ---- WebSocket client frames ----

/** At most this many chats in one subscribe frame's `chats`. */
export const SUBSCRIBE_MAX_CHATS = 25;

const afterSchema = z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)));

/** A subscribe frame names its chats one way: `chatId` (with `after`), or `chats`, each chat once. */
const subscribeRules = (
  value: {
    chatId?: string | undefined;
    after?: number | undefined;
    chats?: { chatId: string }[] | undefined;
  },
  ctx: z.core.$RefinementCtx,
) => {
  if (value.chats === undefined) {
    if (value.chatId === undefined)
      ctx.addIssue({ code: 'custom', path: ['chatId'], message: 'subscribe needs chatId or chats' });
    return;
  }
  if (value.chatId !== undefined || value.after !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: [value.chatId !== undefined ? 'chatId' : 'after'],
      message: 'give either chatId (and after) or chats, not both',
    });
  const seen = new Set<string>();
  for (const [index, { chatId }] of value.chats.entries()) {
    if (seen.has(chatId))
      ctx.addIssue({ code: 'custom', path: ['chats', index, 'chatId'], message: `${chatId} is named twice` });
    seen.add(chatId);
  }
};

const frame = <A extends string, S extends z.core.$ZodShape>(action: A, shape: S) =>
  z.strictObject({ action: z.literal(action), requestId: z.optional(requestIdSchema), ...shape });

export const clientFrame = z.discriminatedUnion('action', [
  frame('sendMessage', {
    chatId: chatIdSchema,
    ...messageContent,
    type: z._default(messageTypeSchema, 'text'),
  }).check(z.superRefine(contentRules)),
  /**
   * One chat (`chatId`, `after`) or several at once (`chats`: up to SUBSCRIBE_MAX_CHATS, each with its
   * own `after`). `after`: the last seq the client holds; the ack then carries the messages after it
   * (bounded: see `hasMore`), so a reconnect needs no separate catch-up request.
   */
  frame('subscribe', {
    chatId: z.optional(chatIdSchema),
    after: afterSchema,
    chats: z.optional(
      z
        .array(z.strictObject({ chatId: chatIdSchema, after: afterSchema }))
        .check(z.minLength(1), z.maxLength(SUBSCRIBE_MAX_CHATS)),
    ),
  }).check(z.superRefine(subscribeRules)),
  frame('markRead', { chatId: chatIdSchema, seq: z.number().check(z.int(), z.minimum(0)) }),
  /** Live chat list: `filter` takes the query parameters of GET /v1/chats (agents and services). */
  frame('watchChats', {
    filter: z._default(z.record(z.string().check(z.maxLength(128)), z.string().check(z.maxLength(512))), {}),
  }),
  frame('unwatchChats', {}),
  frame('unsubscribe', { chatId: chatIdSchema }),
  frame('typing', { chatId: chatIdSchema, isTyping: z.boolean() }),
  /** Adds (or with `remove: true` takes back) the caller's reaction. */
  frame('react', {
    chatId: chatIdSchema,
    messageId: messageIdSchema,
    emoji: emojiSchema,
    remove: z._default(z.boolean(), false),
  }),
  frame('ping', {}),
]);
export type ClientFrame = z.infer<typeof clientFrame>;
export type FrameOf<A extends ClientFrame['action']> = Extract<ClientFrame, { action: A }>;

// ---- Resources ----

export const participantSchema = z.object({
  userId: userIdSchema,
  role: roleSchema,
  joinedAt: z.iso.datetime(),
  /** In GET /v1/chats/{chatId}: the participant has at least one open socket. */
  online: z.optional(z.boolean()),
});
/** The caller's own settings for a chat (returned with the chat). */
export const preferencesSchema = z.object({ muted: z.boolean() });
export type Participant = z.infer<typeof participantSchema>;

export const chatSchema = z.object({
  chatId: chatIdSchema,
  tenantId: tenantIdSchema,
  subject: z.optional(z.string()),
  metadata: z.record(z.string(), z.json()),
  status: z.enum(['open', 'closed']),
  createdBy: userIdSchema,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  lastActivityAt: z.iso.datetime(),
  lastSeq: z.number().check(z.int(), z.minimum(0)),
  /** Last chat event (see docs/protocol.md, polling `afterEvent`). */
  lastEventSeq: z.optional(z.number().check(z.int(), z.minimum(0))),
  assignee: z.optional(userIdSchema),
  assignedAt: z.optional(z.iso.datetime()),
  rating: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(5))),
  feedback: z.optional(z.string()),
  closedAt: z.optional(z.iso.datetime()),
  participants: z.optional(z.array(participantSchema)),
  preferences: z.optional(preferencesSchema),
  /** For a participant: messages after the caller's last read seq. */
  unread: z.optional(z.number().check(z.int(), z.minimum(0))),
  lastReadSeq: z.optional(z.number().check(z.int(), z.minimum(0))),
});
export type Chat = z.infer<typeof chatSchema>;
/** A chat as stored: without its participants (they are items of their own). */
export type ChatRecord = Omit<Chat, 'participants'>;

/** A message's file (the attachment as the message carries it). */
export const attachmentRefSchema = z.object({
  attachmentId: attachmentIdSchema,
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().check(z.int(), z.minimum(1)),
  kind: z.enum(['file', 'image', 'audio']),
  width: z.optional(z.number().check(z.int(), z.positive())),
  height: z.optional(z.number().check(z.int(), z.positive())),
  /** Audio (voice messages): the duration its container states, when it states one. */
  durationMs: z.optional(z.number().check(z.int(), z.positive())),
});

/** A reply's quote of the message it answers, as it was sent (no text once that message is deleted). */
export const replyQuoteSchema = z.object({
  messageId: messageIdSchema,
  seq: z.number().check(z.int(), z.minimum(1)),
  senderId: userIdSchema,
  senderName: z.optional(z.string()),
  /** The first 200 characters of its text (or its file's name). */
  text: z.optional(z.string()),
  deleted: z.optional(z.boolean()),
});
export type ReplyQuote = z.infer<typeof replyQuoteSchema>;

/** Reactions of a message: count per emoji (first reacted first) and whether the caller is among them. */
export const reactionCountSchema = z.object({
  emoji: z.string(),
  count: z.number().check(z.int(), z.positive()),
  mine: z.optional(z.boolean()),
});
export type ReactionCount = z.infer<typeof reactionCountSchema>;

export const messageSchema = z.object({
  messageId: z.string(),
  chatId: chatIdSchema,
  tenantId: tenantIdSchema,
  seq: z.number().check(z.int(), z.minimum(1)),
  clientMessageId: clientMessageIdSchema,
  senderId: userIdSchema,
  senderRole: roleSchema,
  /** Display name of a service posting as a named bot, or of the system. */
  senderName: z.optional(z.string()),
  type: z.enum(['text', 'file', 'system']),
  /** The text, or a file's caption ('' when none). */
  text: z.string(),
  attachment: z.optional(attachmentRefSchema),
  createdAt: z.iso.datetime(),
  /** System messages (services' events such as payment.initiated, agent.joined). */
  system: z.optional(z.object({ kind: z.string(), data: z.optional(z.record(z.string(), z.json())) })),
  editedAt: z.optional(z.iso.datetime()),
  /** Soft delete: the text and attachment are removed, the seq stays. */
  deletedAt: z.optional(z.iso.datetime()),
  deletedBy: z.optional(userIdSchema),
  replyTo: z.optional(replyQuoteSchema),
  /** The participants it mentions (user ids, as sent): render `@name` from this list, never from the text. */
  mentions: z.optional(z.array(userIdSchema)),
  /** Replies to this message (its thread) and the time of the last one. */
  replyCount: z.optional(z.number().check(z.int(), z.positive())),
  lastReplyAt: z.optional(z.iso.datetime()),
  reactions: z.optional(z.array(reactionCountSchema)),
});
export type Message = z.infer<typeof messageSchema>;

/** What a reaction change returns and every subscriber and poller receives (`reaction` envelope). */
export const reactionChangeSchema = z.object({
  messageId: messageIdSchema,
  seq: z.number().check(z.int(), z.minimum(1)),
  /** The change: who added or took back which emoji. */
  userId: userIdSchema,
  emoji: z.string(),
  reacted: z.boolean(),
  /** Counts after the change; `version` grows with each change of this message's reactions. */
  reactions: z.array(reactionCountSchema),
  version: z.number().check(z.int(), z.minimum(0)),
});
export type ReactionChange = z.infer<typeof reactionChangeSchema>;
export type AttachmentRef = NonNullable<Message['attachment']>;

/** `GET /v1/unread`: unread messages (and, of them, those mentioning the caller) per chat and in total. */
export const unreadSchema = z.object({
  total: z.number().check(z.int(), z.minimum(0)),
  mentions: z.number().check(z.int(), z.minimum(0)),
  chats: z.array(
    z.object({
      chatId: chatIdSchema,
      unread: z.number().check(z.int(), z.minimum(0)),
      mentions: z.number().check(z.int(), z.minimum(0)),
    }),
  ),
});
export type Unread = z.infer<typeof unreadSchema>;

export const tenantSchema = z.object({
  tenantId: tenantIdSchema,
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  allowedOrigins: z._default(z.array(z.string()), []),
  theme: z._default(z.record(z.string(), z.string()), {}),
  greeting: z.optional(z.string().check(z.maxLength(2000))),
  awayMessage: z.optional(z.string().check(z.maxLength(2000))),
  createdAt: z.iso.datetime(),
});
export type Tenant = z.infer<typeof tenantSchema>;

/** An allowed widget origin pattern (shared/domain/origins.ts): `*`, an origin, or `scheme://host:*`. */
export const originPatternSchema = z.string().check(
  z.superRefine((pattern: string, ctx) => {
    const problem = originPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);
/** A tenant as an operator writes it (npm run tenant): stricter than what the table may hold. */
export const tenantInputSchema = z.extend(tenantSchema, {
  allowedOrigins: z._default(z.array(originPatternSchema), []),
});

export const tenantPathParams = z.strictObject({ tenantId: tenantIdSchema });
/** `GET /v1/tenants/{tenantId}/widget`: what a widget shows before anyone signs in. Public. */
export const widgetSettingsSchema = z.object({
  tenantId: tenantIdSchema,
  name: z.string(),
  theme: z.record(z.string(), z.string()),
  greeting: z.optional(z.string()),
  awayMessage: z.optional(z.string()),
});
export type WidgetSettings = z.infer<typeof widgetSettingsSchema>;

// ---- Server envelopes (identical over the socket and the polling endpoint) ----

const envelopeBase = {
  /** Unique per event: clients drop envelopes whose id they have seen. */
  id: z.string(),
  tenantId: z.optional(tenantIdSchema),
  chatId: z.optional(chatIdSchema),
  seq: z.optional(z.number().check(z.int())),
  /** Chat events (not messages) carry their own per-chat sequence. */
  eventSeq: z.optional(z.number().check(z.int())),
  /** watchChats: the chat no longer matches the watcher's filter after this change. */
  leftFilter: z.optional(z.boolean()),
  at: z.iso.datetime(),
  requestId: z.optional(requestIdSchema),
};

export const envelopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message.created'), ...envelopeBase, data: messageSchema }),
  z.object({
    type: z.literal('connection.ready'),
    ...envelopeBase,
    data: z.object({ connectionId: z.string(), userId: userIdSchema, role: roleSchema }),
  }),
  z.object({ type: z.literal('ack'), ...envelopeBase, data: z.record(z.string(), z.unknown()) }),
  z.object({
    type: z.literal('error'),
    ...envelopeBase,
    data: z.object({
      code: z.string(),
      message: z.string(),
      details: z.optional(z.unknown()),
      /** `rate_limited`: seconds until a retry can succeed (HTTP: also the Retry-After header). */
      retryAfter: z.optional(z.number().check(z.int(), z.positive())),
    }),
  }),
  z.object({ type: z.literal('pong'), ...envelopeBase, data: z.object({}) }),
  z.object({ type: z.literal('chat.updated'), ...envelopeBase, data: chatSchema }),
  z.object({ type: z.literal('chat.closed'), ...envelopeBase, data: chatSchema }),
  z.object({ type: z.literal('chat.assigned'), ...envelopeBase, data: chatSchema }),
  z.object({ type: z.literal('chat.created'), ...envelopeBase, data: chatSchema }),
  z.object({
    type: z.literal('presence'),
    ...envelopeBase,
    data: z.object({ userId: userIdSchema, role: roleSchema, online: z.boolean() }),
  }),
  z.object({
    type: z.literal('receipt'),
    ...envelopeBase,
    data: z.object({ userId: userIdSchema, seq: z.number().check(z.int()) }),
  }),
  z.object({
    type: z.literal('typing'),
    ...envelopeBase,
    data: z.object({
      userId: userIdSchema,
      isTyping: z.boolean(),
      expiresInMs: z.number().check(z.int(), z.positive()),
    }),
  }),
  z.object({ type: z.literal('message.updated'), ...envelopeBase, data: messageSchema }),
  z.object({ type: z.literal('message.deleted'), ...envelopeBase, data: messageSchema }),
  z.object({ type: z.literal('reaction'), ...envelopeBase, data: reactionChangeSchema }),
  /** To every socket of a mentioned user (and its polls of the chat): the message that mentions it. */
  z.object({ type: z.literal('mention'), ...envelopeBase, data: messageSchema }),
]);
/** Envelope types stored in a chat's event log (delivered by the fan-out and the polling endpoint). */
export const chatEventTypes = [
  'chat.updated',
  'chat.closed',
  'chat.assigned',
  'message.updated',
  'message.deleted',
  'receipt',
] as const;
export type ChatEventType = (typeof chatEventTypes)[number];
export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeType = Envelope['type'];

/** Turns a zod failure into the `details` of a 400: where and what, nothing else. */
export const issuesOf = (error: z.core.$ZodError): { path: string; message: string }[] =>
  error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
