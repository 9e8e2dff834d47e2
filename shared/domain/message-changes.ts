/**
 * Changing a sent message: edits (by its sender) and soft deletes (by its sender or staff). A delete
 * removes the content everywhere it is kept for participants: the message item, the text and attachment
 * of its earlier `message.updated` events (what GET …/events replays to anyone joining later), and the
 * attachment's file. The audit trail, for agents and services only, keeps what was deleted.
 */
import { authorizeChat, messageById } from './access.ts';
import { backoffDelay } from './backoff.ts';
import { BusyError, ConflictError, ForbiddenError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import type { ChatStore, Clock, MessageStore } from './ports.ts';
import type { Message } from './schemas.ts';

/** Removes an attachment's file and record (AttachmentService.discard); idempotent. */
export type DiscardFile = (attachmentId: string) => Promise<void>;

/** Attempts at finishing a deletion before the request fails (503) for a retry. */
const FINISH_ATTEMPTS = 3;

const noFileStorage: DiscardFile = () =>
  Promise.reject(new Error('no attachment storage to remove the deleted message’s file from'));

export class MessageChanges {
  constructor(
    private readonly chats: ChatStore,
    private readonly messages: MessageStore,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Edit the text of one's own message: `message.updated`, audited with the text before and after. */
  async edit(identity: Identity, chatId: string, messageId: string, text: string): Promise<Message> {
    await authorizeChat(this.chats, identity, chatId);
    let result: Message | undefined;
    // The message is read in the change, after the chat: a reply counted meanwhile is not undone.
    await this.chats.change(chatId, identity, async () => {
      const message = await this.liveMessage(chatId, messageId);
      if (message.senderId !== identity.userId) throw new ForbiddenError('only the sender edits a message');
      result = message;
      if (message.text === text) return undefined;
      const edited: Message = { ...message, text, editedAt: this.clock.now().toISOString() };
      result = edited;
      return {
        message: edited,
        event: { type: 'message.updated' },
        audit: { action: 'message.edit', before: { seq: message.seq, text: message.text }, after: { text } },
      };
    });
    return result as Message;
  }

  /**
   * Soft-delete: the text and attachment go, the seq stays. The sender deletes their own messages;
   * agents (and services) delete any message of their tenant. Then its earlier events are scrubbed and
   * its file removed (`discardFile`), retried with backoff; if that still fails, 503 `busy` asks for a
   * retry, and the retry (409: already deleted) finishes it before answering.
   */
  async delete(
    identity: Identity,
    chatId: string,
    messageId: string,
    discardFile: DiscardFile = noFileStorage,
  ): Promise<Message> {
    await authorizeChat(this.chats, identity, chatId);
    const assertMayDelete = (message: Message) => {
      if (message.senderId !== identity.userId && !isStaff(identity)) {
        throw new ForbiddenError('only the sender or an agent deletes a message');
      }
    };
    const found = await messageById(this.messages, chatId, messageId);
    if (found.deletedAt) {
      assertMayDelete(found);
      await this.finishDeletion(chatId, found.seq, discardFile);
      throw new ConflictError('the message was deleted');
    }
    let deleted: Message | undefined;
    await this.chats.change(chatId, identity, async () => {
      const message = await this.liveMessage(chatId, messageId);
      assertMayDelete(message);
      const { attachment, ...kept } = message;
      deleted = { ...kept, text: '', deletedAt: this.clock.now().toISOString(), deletedBy: identity.userId };
      return {
        message: deleted,
        deletion: attachment ? { attachmentId: attachment.attachmentId } : {},
        event: { type: 'message.deleted' },
        audit: {
          action: 'message.delete',
          before: {
            seq: message.seq,
            text: message.text,
            ...(attachment ? { attachmentId: attachment.attachmentId } : {}),
          },
        },
      };
    });
    const message = deleted as Message;
    await this.finishDeletion(chatId, message.seq, discardFile);
    return message;
  }

  /** Scrubs the deleted message's earlier events and removes its file: retried, then 503. */
  private async finishDeletion(chatId: string, seq: number, discardFile: DiscardFile): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.chats.scrubDeleted(chatId, seq, discardFile);
        return;
      } catch {
        if (attempt + 1 >= FINISH_ATTEMPTS) {
          throw new BusyError(
            'the message is deleted but its earlier versions or its file could not all be removed; retry the request',
          );
        }
        await this.sleep(backoffDelay(attempt, 50, 1000));
      }
    }
  }

  /** A message of the chat that is not deleted: 404 for none, 409 for a deleted one. */
  private async liveMessage(chatId: string, messageId: string): Promise<Message> {
    const message = await messageById(this.messages, chatId, messageId);
    if (message.deletedAt) throw new ConflictError('the message was deleted');
    return message;
  }
}
