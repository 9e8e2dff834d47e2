/**
 * Every input crossing an edge is parsed by one of these schemas (safeParse at the edge); the domain's
 * types are inferred from them. docs/openapi.json is generated from this file (npm run docs:api).
 */
import { z } from 'zod';

export const roleSchema = z.enum(['visitor', 'user', 'agent', 'service']);
export type Role = z.infer<typeof roleSchema>;

export const tenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes, 2 to 63 characters');
export const userIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@|-]{0,127}$/, 'letters, digits and _ . : @ | -, at most 128 characters');
export const chatIdSchema = z
  .string()
  .regex(/^ch_[a-z0-9]{20}$/, 'a chat id such as ch_0123456789abcdefghij');
export const clientMessageIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _ . : -, 1 to 128 characters');
export const requestIdSchema = z.string().min(1).max(128);

const METADATA_MAX_BYTES = 8 * 1024;
export const metadataSchema = z
  .record(z.string().min(1).max(64), z.json())
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES, {
    message: `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON`,
  });

export const messageTextSchema = z.string().trim().min(1, 'text must not be empty').max(8000);
const seqSchema = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ---- HTTP request bodies and queries ----

export const createVisitorBody = z.strictObject({
  tenantId: tenantIdSchema,
  name: z.string().trim().min(1).max(100).optional(),
  email: z.email().max(254).optional(),
});

export const createTicketBody = z.strictObject({}).optional();

export const createChatBody = z.strictObject({
  subject: z.string().trim().min(1).max(200).optional(),
  metadata: metadataSchema.optional(),
  participants: z.array(userIdSchema).max(50).optional(),
  unique: z.boolean().optional(),
});
export type CreateChatInput = z.infer<typeof createChatBody>;

export const sendMessageBody = z.strictObject({
  clientMessageId: clientMessageIdSchema,
  type: z.literal('text', { error: 'type must be "text" (file messages arrive with attachments)' }),
  text: messageTextSchema,
});
export type SendMessageInput = z.infer<typeof sendMessageBody>;

export const chatPathParams = z.strictObject({ chatId: chatIdSchema });

export const listChatsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

export const listMessagesQuery = z
  .strictObject({
    after: seqSchema.optional(),
    before: seqSchema.min(1).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .refine((query) => query.after === undefined || query.before === undefined, {
    message: 'use either after or before, not both',
    path: ['before'],
  });

export const pollEventsQuery = z.strictObject({
  after: seqSchema.default(0),
  waitSeconds: z.coerce.number().int().min(0).max(20).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(100),
});

export const devTokenBody = z.strictObject({
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  role: roleSchema,
  name: z.string().trim().min(1).max(100).optional(),
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .optional(),
});

// ---- WebSocket client frames ----

const frame = <A extends string, S extends z.ZodRawShape>(action: A, shape: S) =>
  z.strictObject({ action: z.literal(action), requestId: requestIdSchema.optional(), ...shape });

export const clientFrame = z.discriminatedUnion('action', [
  frame('sendMessage', {
    chatId: chatIdSchema,
    clientMessageId: clientMessageIdSchema,
    type: z.literal('text').default('text'),
    text: messageTextSchema,
  }),
  frame('subscribe', { chatId: chatIdSchema }),
  frame('unsubscribe', { chatId: chatIdSchema }),
  frame('ping', {}),
]);
export type ClientFrame = z.infer<typeof clientFrame>;
export type FrameOf<A extends ClientFrame['action']> = Extract<ClientFrame, { action: A }>;

// ---- Resources ----

export const participantSchema = z.object({
  userId: userIdSchema,
  role: roleSchema,
  joinedAt: z.iso.datetime(),
});
export type Participant = z.infer<typeof participantSchema>;

export const chatSchema = z.object({
  chatId: chatIdSchema,
  tenantId: tenantIdSchema,
  subject: z.string().optional(),
  metadata: z.record(z.string(), z.json()),
  status: z.enum(['open', 'closed']),
  createdBy: userIdSchema,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  lastActivityAt: z.iso.datetime(),
  lastSeq: z.number().int().min(0),
  participants: z.array(participantSchema).optional(),
});
export type Chat = z.infer<typeof chatSchema>;

export const messageSchema = z.object({
  messageId: z.string(),
  chatId: chatIdSchema,
  tenantId: tenantIdSchema,
  seq: z.number().int().min(1),
  clientMessageId: clientMessageIdSchema,
  senderId: userIdSchema,
  senderRole: roleSchema,
  type: z.enum(['text']),
  text: z.string(),
  createdAt: z.iso.datetime(),
});
export type Message = z.infer<typeof messageSchema>;

export const tenantSchema = z.object({
  tenantId: tenantIdSchema,
  name: z.string().min(1).max(200),
  allowedOrigins: z.array(z.string()).default([]),
  theme: z.record(z.string(), z.string()).default({}),
  greeting: z.string().max(2000).optional(),
  awayMessage: z.string().max(2000).optional(),
  createdAt: z.iso.datetime(),
});
export type Tenant = z.infer<typeof tenantSchema>;

// ---- Server envelopes (identical over the socket and the polling endpoint) ----

const envelopeBase = {
  /** Unique per event: clients drop envelopes whose id they have seen. */
  id: z.string(),
  tenantId: tenantIdSchema.optional(),
  chatId: chatIdSchema.optional(),
  seq: z.number().int().optional(),
  at: z.iso.datetime(),
  requestId: requestIdSchema.optional(),
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
    data: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  }),
  z.object({ type: z.literal('pong'), ...envelopeBase, data: z.object({}) }),
]);
export type Envelope = z.infer<typeof envelopeSchema>;
export type EnvelopeType = Envelope['type'];

/** Turns a zod failure into the `details` of a 400: where and what, nothing else. */
export const issuesOf = (error: z.ZodError): { path: string; message: string }[] =>
  error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
