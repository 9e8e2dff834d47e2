/**
 * The REST resources (chats, audit, blocks, stats, unread, presence, messages, replies, reactions,
 * attachments) over one `Request`.
 * ChatClient extends it, so these are ChatClient's own methods.
 */
import { isVoid } from '#shared/domain/voids.ts';
import { chatPath, type Request } from './delivery.ts';
import { ApiError, query } from './http.ts';
import type {
  Block,
  Chat,
  CreateChatInput,
  Message,
  PatchChatInput,
  ReactionChange,
  Unread,
} from './types.ts';

const messagePath = (chatId: string, messageId: string): string =>
  `${chatPath(chatId)}/messages/${encodeURIComponent(messageId)}`;

const reactionPath = (chatId: string, messageId: string, emoji: string): string =>
  `${messagePath(chatId, messageId)}/reactions/${encodeURIComponent(emoji)}`;

export class ChatApi {
  readonly #request: Request;
  readonly #fetch: typeof fetch | undefined;

  /** `fetch` (default the global one) carries the uploads to storage. */
  constructor(request: Request, fetchImpl?: typeof fetch) {
    this.#request = request;
    this.#fetch = fetchImpl;
  }

  /** One API call; on a 401 saying the token expired, renewToken is called once and the call retried. */
  request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    return this.#request(method, path, body, options);
  }

  createChat(input: CreateChatInput = {}): Promise<Chat> {
    return this.request('POST', '/v1/chats', input);
  }

  getChat(chatId: string): Promise<Chat> {
    return this.request('GET', chatPath(chatId));
  }

  listChats(params: Record<string, string> = {}): Promise<{ items: Chat[]; nextCursor?: string }> {
    return this.request('GET', `/v1/chats${query(params)}`);
  }

  updateChat(chatId: string, patch: PatchChatInput): Promise<Chat> {
    return this.request('PATCH', chatPath(chatId), patch);
  }

  assignChat(chatId: string, agentId: string): Promise<Chat> {
    return this.request('POST', `${chatPath(chatId)}/assign`, { agentId });
  }

  listAudit(
    chatId: string,
    params: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    return this.request('GET', `${chatPath(chatId)}/audit${query(params)}`);
  }

  block(userId: string): Promise<Block> {
    return this.request('POST', '/v1/blocks', { userId });
  }

  unblock(userId: string): Promise<void> {
    return this.request('DELETE', `/v1/blocks/${encodeURIComponent(userId)}`);
  }

  getStats(): Promise<Record<string, number>> {
    return this.request('GET', '/v1/stats');
  }

  /** Unread messages per chat (after the caller's read position) and, of them, those mentioning the caller. */
  getUnread(): Promise<Unread> {
    return this.request('GET', '/v1/unread');
  }

  /** Agents and services: whether each user has a live socket (one batched read, at most 100 ids). */
  getPresence(userIds: readonly string[]): Promise<{ items: { userId: string; online: boolean }[] }> {
    return this.request('GET', `/v1/presence${query({ userIds: userIds.join(',') })}`);
  }

  /** Older messages (ascending seq), not emitted as events; voids (never shown) left out. */
  async history(chatId: string, params: { before?: number; limit?: number } = {}): Promise<Message[]> {
    const page = await this.request<{ items: Message[] }>(
      'GET',
      `${chatPath(chatId)}/messages${query(params)}`,
    );
    return page.items.filter((message) => !isVoid(message));
  }

  editMessage(chatId: string, messageId: string, text: string): Promise<Message> {
    return this.request('PATCH', messagePath(chatId, messageId), { text });
  }

  deleteMessage(chatId: string, messageId: string): Promise<Message> {
    return this.request('DELETE', messagePath(chatId, messageId));
  }

  /** A message's thread: the replies to it (ascending seq), `after` a seq; works for a deleted message too. */
  replies(
    chatId: string,
    messageId: string,
    params: { after?: number; limit?: number } = {},
  ): Promise<{ items: Message[]; nextCursor?: string }> {
    return this.request('GET', `${messagePath(chatId, messageId)}/replies${query(params)}`);
  }

  /**
   * Adds the caller's reaction (one emoji, e.g. "👍" or "❤️") to a message; idempotent. The answer's
   * `reactions` carry `mine`; apply it with applyReaction (so does every `reaction` event).
   */
  react(chatId: string, messageId: string, emoji: string): Promise<ReactionChange> {
    return this.request('PUT', reactionPath(chatId, messageId, emoji));
  }

  /** Takes the caller's reaction back; idempotent. */
  unreact(chatId: string, messageId: string, emoji: string): Promise<ReactionChange> {
    return this.request('DELETE', reactionPath(chatId, messageId, emoji));
  }

  /** Uploads a file straight to storage (presigned POST); send it with send(chatId, { attachmentId }). */
  async upload(
    chatId: string,
    file: Blob & { name?: string },
    options: { onProgress?: (fraction: number) => void } = {},
  ): Promise<{ attachmentId: string }> {
    const { attachmentId, upload } = await this.request<{
      attachmentId: string;
      upload: { url: string; fields: Record<string, string> };
    }>('POST', `${chatPath(chatId)}/attachments`, {
      fileName: file.name || 'file',
      contentType: file.type || 'application/octet-stream',
      size: file.size,
    });
    const form = new FormData();
    for (const [key, value] of Object.entries(upload.fields)) form.append(key, value);
    form.append('file', file);
    const { onProgress } = options;
    if (onProgress && typeof XMLHttpRequest === 'function') {
      await new Promise<void>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', upload.url);
        xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
        xhr.onload = () =>
          xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, 'upload_failed', xhr.responseText));
        xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed'));
        xhr.send(form);
      });
    } else {
      const response = await (this.#fetch ?? fetch)(upload.url, { method: 'POST', body: form });
      if (!response.ok) throw new ApiError(response.status, 'upload_failed', await response.text());
    }
    onProgress?.(1);
    return { attachmentId };
  }

  async attachmentUrl(attachmentId: string): Promise<string> {
    const { url } = await this.request<{ url: string }>(
      'GET',
      `/v1/attachments/${encodeURIComponent(attachmentId)}`,
    );
    return url;
  }
}
