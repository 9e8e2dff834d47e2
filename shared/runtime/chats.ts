/** The chat domain (chats, messages, blocks, typing and presence for pollers) over the table's stores. */
import { composeChatDomain } from '../domain/compose.ts';
import { systemClock } from '../domain/ports.ts';
import {
  attachmentStore,
  blockStore,
  chatStore,
  connectionStore,
  messageStore,
  presenceStore,
  reactionStore,
  threadStore,
  typingStateStore,
} from './stores.ts';

export const { blocks, chats } = composeChatDomain(
  {
    chats: chatStore,
    messages: messageStore,
    attachments: attachmentStore,
    blocks: blockStore,
    presence: presenceStore,
    typingState: typingStateStore,
    reactions: reactionStore,
    threads: threadStore,
    subscriptions: connectionStore,
  },
  systemClock,
);
