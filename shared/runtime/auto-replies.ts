/**
 * Replies to new chats. A host plugs in its own bot by passing another `Responder` here
 * (docs/operations.md, "Responders").
 */
import { AutoReplyService, TenantTextResponder } from '../domain/responders.ts';
import { stats } from './stats.ts';
import { messageStore, tenantStore } from './stores.ts';

export const autoReplies = new AutoReplyService(
  tenantStore,
  (tenantId) => stats.agentsOnline(tenantId),
  messageStore,
  new TenantTextResponder(),
);
