/** Live chat lists for pollers (GET /v1/chats/changes), read from the tenant's chat change log. */
import { ChatListFeed } from '../domain/chat-list-feed.ts';
import { systemClock } from '../domain/ports.ts';
import { chatChangeStore } from './stores.ts';

export const chatLists = new ChatListFeed(chatChangeStore, systemClock);
