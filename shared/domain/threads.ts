/**
 * Replies and threads. A reply names its parent (`replyTo`, a message of the same chat) and carries a
 * quote of it as it was sent; every read masks the quote of a parent deleted since (no text). Each
 * reply is counted once in its parent (`replyCount`, `lastReplyAt`) through the chat's event log: the
 * parent's `message.updated` reaches sockets and pollers like an edit. The thread pages in seq order.
 */
import { authorizeChat, messageById } from './access.ts';
import { ConflictError } from './errors.ts';
import type { Identity } from './identity.ts';
import type { ChatStore, MessageStore, ThreadStore } from './ports.ts';
import type { Message, ReplyQuote, Role } from './schemas.ts';

/** A quote keeps this many characters (code points) of the parent's text. */
export const QUOTE_MAX_CHARS = 200;

/** The quote a reply to `parent` carries: its sender and the start of its text (or its file's name). */
export const quoteOf = (parent: Message): ReplyQuote => ({
  messageId: parent.messageId,
  seq: parent.seq,
  senderId: parent.senderId,
  ...(parent.senderName ? { senderName: parent.senderName } : {}),
  text: [...(parent.text || parent.attachment?.fileName || '')].slice(0, QUOTE_MAX_CHARS).join(''),
});

/** The reply as readers see it once its parent is deleted: the quote keeps who, not what. */
export const maskQuote = (message: Message): Message => {
  if (!message.replyTo) return message;
  const { text: _text, ...kept } = message.replyTo;
  return { ...message, replyTo: { ...kept, deleted: true } };
};

export class ThreadService {
  constructor(
    private readonly chats: Pick<ChatStore, 'access' | 'change'>,
    private readonly messages: Pick<MessageStore, 'get'>,
    private readonly threads: ThreadStore,
  ) {}

  /** The quote for a reply about to be sent: 404 unless the parent is a message of the chat, 409 if deleted. */
  async quoteFor(chatId: string, parentId: string): Promise<ReplyQuote> {
    const parent = await messageById(this.messages, chatId, parentId);
    if (parent.deletedAt) throw new ConflictError('the message replied to was deleted');
    return quoteOf(parent);
  }

  /**
   * Counts a stored reply in its parent's thread, once whatever the retries: the parent's new count and
   * the reply's thread entry are one transaction with the parent's `message.updated`. `retried` (the
   * send was a retry of a stored reply) first checks whether it was counted. A parent deleted meanwhile
   * keeps its count; the reply still gets its thread entry.
   */
  async count(actor: { userId: string; role: Role }, reply: Message, retried: boolean): Promise<void> {
    const parentSeq = reply.replyTo?.seq;
    if (parentSeq === undefined) return;
    const { chatId } = reply;
    if (retried && (await this.threads.marked(chatId, parentSeq, reply.seq))) return;
    let parentGone = false;
    try {
      await this.chats.change(chatId, actor, async () => {
        const parent = await this.messages.get(chatId, parentSeq);
        parentGone = !parent || parent.deletedAt !== undefined;
        if (!parent || parentGone) return undefined;
        const lastReplyAt =
          parent.lastReplyAt && parent.lastReplyAt > reply.createdAt ? parent.lastReplyAt : reply.createdAt;
        const after: Message = { ...parent, replyCount: (parent.replyCount ?? 0) + 1, lastReplyAt };
        return {
          reply: { before: parent, after, replySeq: reply.seq },
          event: { type: 'message.updated' },
        };
      });
    } catch (error) {
      // Counted already (a concurrent retry) or the parent was deleted between the read and the write.
      if (!(error instanceof ConflictError)) throw error;
      parentGone = true;
    }
    if (parentGone) await this.threads.mark(chatId, parentSeq, reply.seq);
  }

  /** The replies to a message (deleted or not), ascending seq, `after` a reply's seq. */
  async replies(
    identity: Identity,
    chatId: string,
    parentId: string,
    query: { after?: number; limit: number },
  ): Promise<{ parent: Message; items: Message[]; hasMore: boolean }> {
    await authorizeChat(this.chats, identity, chatId);
    const parent = await messageById(this.messages, chatId, parentId);
    const page = await this.threads.replySeqs(chatId, parent.seq, query.after ?? 0, query.limit);
    const found = await this.threads.messages(chatId, page.items);
    const items = found.sort((a, b) => a.seq - b.seq);
    return { parent, items: parent.deletedAt ? items.map(maskQuote) : items, hasMore: page.hasMore };
  }
}
