/** Types for web/sdk/client.js (the public contract's shapes, as a client sees them). */

export type Role = 'visitor' | 'user' | 'agent' | 'service';
export type Status = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Message {
  messageId: string;
  chatId: string;
  tenantId: string;
  seq: number;
  clientMessageId: string;
  senderId: string;
  senderRole: Role;
  type: string;
  text?: string;
  createdAt: string;
}

export interface Chat {
  chatId: string;
  tenantId: string;
  subject?: string;
  metadata: Record<string, unknown>;
  status: 'open' | 'closed';
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
  lastSeq: number;
  participants?: { userId: string; role: Role; joinedAt: string }[];
}

export interface Envelope {
  type: string;
  id: string;
  tenantId?: string;
  chatId?: string;
  seq?: number;
  at: string;
  requestId?: string;
  data: unknown;
}

export interface RuntimeConfig {
  httpUrl: string;
  wsUrl: string;
  tenantId: string;
  devTokens?: boolean;
}

export declare class ApiError extends Error {
  constructor(status: number, code: string, message: string, details?: unknown);
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;
}

export declare const isRetryable: (error: unknown) => boolean;

export declare const requestJson: <T = unknown>(
  url: string,
  options?: { method?: string; token?: string; body?: unknown; fetch?: typeof fetch },
) => Promise<T>;

export declare const loadConfig: (url?: string) => Promise<RuntimeConfig>;

export declare const createVisitor: (
  httpUrl: string,
  tenantId: string,
  profile?: { name?: string; email?: string },
) => Promise<{ visitorId: string; token: string; expiresAt: string }>;

export declare const devToken: (
  httpUrl: string,
  claims: { tenantId: string; userId: string; role: Role; name?: string },
) => Promise<{ token: string; expiresAt: string }>;

/** The minimal WebSocket surface the client uses (browsers' and the `ws` package's both fit). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}

export interface ChatClientOptions {
  httpUrl: string;
  token: string | (() => string | Promise<string>);
  WebSocket?: new (url: string) => WebSocketLike;
  fetch?: typeof fetch;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  pingMs?: number;
}

export interface ChatClientEvents {
  message: Message;
  ready: { connectionId: string; userId: string; role: Role };
  status: Status;
  error: unknown;
  envelope: Envelope;
}

export declare class ChatClient {
  constructor(options: ChatClientOptions);
  readonly httpUrl: string;
  token: ChatClientOptions['token'];
  /** From the last `connection.ready`. */
  readonly connectionId: string | undefined;
  readonly status: Status;
  on<K extends keyof ChatClientEvents>(type: K, listener: (value: ChatClientEvents[K]) => void): () => void;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  createChat(input?: {
    subject?: string;
    metadata?: Record<string, unknown>;
    participants?: string[];
    unique?: boolean;
  }): Promise<Chat>;
  getChat(chatId: string): Promise<Chat>;
  listChats(query?: Record<string, string>): Promise<{ items: Chat[]; nextCursor?: string }>;
  connect(): Promise<void>;
  close(): void;
  subscribe(chatId: string, options?: { after?: number }): Promise<void>;
  unsubscribe(chatId: string): Promise<void>;
  lastSeq(chatId: string): number | undefined;
  send(
    chatId: string,
    text: string,
    options?: { clientMessageId?: string; attempts?: number },
  ): Promise<Message>;
}
