/**
 * The SDK's types. Resources and envelopes are the server's zod schemas (`z.infer`), imported as types
 * only: nothing of zod or of the server reaches the browser bundle.
 */
import type { Chat, Envelope, Message, ReactionChange, Role } from '#shared/domain/schemas.ts';

export type {
  AttachmentRef,
  Block,
  Chat,
  CreateChatInput,
  Envelope,
  EnvelopeType,
  Message,
  Participant,
  PatchChatInput,
  ReactionChange,
  ReactionCount,
  ReplyQuote,
  Role,
  Unread,
} from '#shared/domain/schemas.ts';

/** `/config.json` of the web apps. */
export interface RuntimeConfig {
  httpUrl: string;
  wsUrl: string;
  tenantId: string;
  devTokens?: boolean;
}

/** `POST /v1/visitors` and `POST /v1/visitors/refresh`. */
export interface VisitorSession {
  visitorId: string;
  token: string;
  expiresAt: string;
  refreshToken: string;
}

/** `GET /v1/tenants/{tenantId}/widget`. */
export interface WidgetSettings {
  tenantId: string;
  name: string;
  theme: Record<string, string>;
  greeting?: string;
  awayMessage?: string;
}

export type Status = 'idle' | 'connecting' | 'live' | 'polling' | 'offline' | 'closed';
export type Transport = 'auto' | 'socket' | 'polling';

/**
 * What send() sends: text, a file (with an optional caption), either one as a reply to a messageId,
 * mentioning participants (user ids, at most 20: each gets a `mention` event).
 */
export interface MessageContent {
  text?: string;
  attachmentId?: string;
  replyTo?: string;
  mentions?: readonly string[];
}

/** A message not yet acknowledged by the server (persisted, so a reload keeps it). */
export interface OutboxEntry {
  clientMessageId: string;
  chatId: string;
  text?: string;
  attachmentId?: string;
  /** A reply: the messageId it answers (kept, so a retried send is still a reply). */
  replyTo?: string;
  /** The user ids it mentions (kept, so a retried send still mentions them). */
  mentions?: string[];
  createdAt: string;
}

/** The WebSocket surface the SDK uses (browsers' and the `ws` package's both fit). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface Timing {
  /** Every HTTP call is aborted after this (long polls: plus their wait). */
  requestTimeoutMs: number;
  /** Application ping period; must stay under the 10-minute idle limit. A missing pong reconnects. */
  pingMs: number;
  /** Planned reconnect before API Gateway's 2-hour connection cap. */
  maxConnectionMs: number;
  /** A socket that has not opened and answered its first frames by then counts as failed. */
  openTimeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Consecutive failed opens before 'auto' switches to polling. */
  failuresBeforePolling: number;
  /** While polling, the socket is probed again about this often (jittered). */
  probeMs: number;
  /** 0 (default): short polls paced by the server's `nextPollMs`; above 0: long polls of this length. */
  pollWaitSeconds: number;
  /** Tab election without Web Locks: the leader's heartbeat period (a leader is lost after 3). */
  heartbeatMs: number;
}

export interface ChatClientOptions {
  httpUrl: string;
  /** A bearer token, or a function read before every request. */
  token: string | (() => string | Promise<string>);
  /** Called once on a 401 saying the token expired; the request is retried with its result. */
  renewToken?: () => Promise<string>;
  WebSocket?: WebSocketFactory;
  fetch?: typeof fetch;
  /** Outbox persistence; default localStorage when there is one. */
  storage?: StorageLike;
  /** Namespace of the outbox and of the tab election, e.g. `chat:${tenantId}:${userId}`. */
  storageKey?: string;
  /** Share one realtime connection across same-origin tabs with the same storageKey. */
  tabs?: boolean;
  transport?: Transport;
  timing?: Partial<Timing>;
  /** Tests: the tab channel and the locks (default: the browser's BroadcastChannel and navigator.locks). */
  BroadcastChannel?: new (name: string) => BroadcastChannelLike;
  locks?: LocksLike | null;
}

export interface BroadcastChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
export interface LocksLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<unknown>,
  ): Promise<unknown>;
}

export type ChatChangeType = 'chat.created' | 'chat.updated' | 'chat.assigned' | 'chat.closed';

export interface ChatEvents {
  /** Each message once, per chat in seq order (history and live). */
  message: Message;
  /** message.updated / message.deleted (deleted: `deletedAt` set, text gone). */
  messageUpdated: Message;
  /** Someone's reaction to a message changed (theirs or this user's, from any device): see applyReaction. */
  reaction: ReactionChange & { chatId: string };
  /**
   * A message mentions this user, in any chat (subscribed or not, from any transport, once per message):
   * notify even when the chat is muted. The message itself still comes as `message` to subscribers.
   */
  mention: Message & { chatId: string };
  typing: { chatId: string; userId: string; isTyping: boolean; expiresInMs: number };
  receipt: { chatId: string; userId: string; seq: number };
  presence: { chatId?: string; userId: string; role: Role; online: boolean };
  /** Changes of subscribed chats. */
  chat: { type: Exclude<ChatChangeType, 'chat.created'>; chat: Chat };
  /** Live lists (watchChats). */
  chats: { type: ChatChangeType; chat: Chat; leftFilter: boolean };
  status: Status;
  outbox: OutboxEntry[];
  ready: { connectionId?: string; userId: string; role: Role };
  error: unknown;
}

export type ChatDetail = Chat;

/** Envelopes as they arrive (typed loosely: the server is trusted, not parsed, in the browser). */
export type AnyEnvelope = Envelope | { type: string; id?: string; chatId?: string; data?: unknown };
