/** Reactions (shared/domain/reactions.ts) over the table's stores. */
import { systemClock } from '../domain/ports.ts';
import { ReactionService } from '../domain/reactions.ts';
import { chatStore, messageStore, reactionStore } from './stores.ts';

export const reactions = new ReactionService(chatStore, messageStore, reactionStore, systemClock);
