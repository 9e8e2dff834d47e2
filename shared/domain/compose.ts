/**
 * The chat domain wired to its stores: the one composition shared/runtime/chats.ts (every function) and the
 * integration tests (DynamoDB Local) both use, so a test exercises the wiring functions run with.
 */
import { MessageAnnotator } from './annotations.ts';
import { BlockService } from './blocks.ts';
import { ChatService } from './chats.ts';
import type { Subscriptions } from './membership.ts';
import { EphemeralFeed } from './ephemeral.ts';
import type {
  AttachmentStore,
  BlockStore,
  ChatStore,
  Clock,
  MessageStore,
  PresenceStore,
  ReactionStore,
  ThreadStore,
  TypingStateStore,
} from './ports.ts';
import { ThreadService } from './threads.ts';

export interface ChatDomainStores {
  readonly chats: ChatStore;
  readonly messages: MessageStore;
  readonly attachments: AttachmentStore;
  readonly blocks: BlockStore;
  readonly presence: PresenceStore;
  readonly typingState: Pick<TypingStateStore, 'current'>;
  readonly reactions: Pick<ReactionStore, 'inRange' | 'bySeqs'>;
  readonly threads: ThreadStore;
  /** The chats' subscriptions: a removed participant's are closed with the removal. */
  readonly subscriptions?: Subscriptions;
}

export const composeChatDomain = (stores: ChatDomainStores, clock: Clock) => {
  /** Typing and presence for pollers: read from the chat's typing state and the participants' presence. */
  const ephemeral = new EphemeralFeed({
    typing: (tenantId, chatId) => stores.typingState.current(tenantId, chatId),
    participants: async (chatId) => (await stores.chats.participants(chatId)).map((p) => p.userId),
    transitions: (tenantId, userIds) => stores.presence.transitions(tenantId, userIds),
    clock,
  });
  const blocks = new BlockService(stores.blocks, clock, stores.chats);
  const chats = new ChatService(
    stores.chats,
    stores.messages,
    stores.attachments,
    clock,
    blocks,
    stores.presence,
    ephemeral,
    undefined,
    {
      threads: new ThreadService(stores.chats, stores.messages, stores.threads),
      annotator: new MessageAnnotator(stores.reactions, stores.threads),
      ...(stores.subscriptions ? { subscriptions: stores.subscriptions } : {}),
    },
  );
  return { ephemeral, blocks, chats };
};
