/** Who may see a chat: the one check every chat route and action makes first. */
import { ForbiddenError, NotFoundError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import { seqOfMessageId } from './ids.ts';
import type { ChatStore, MessageStore } from './ports.ts';
import type { ChatRecord, Message } from './schemas.ts';
import { isVoid } from './voids.ts';

/**
 * The chat if the caller may see it: 404 across tenants, 403 for a non-member of the tenant. The chat
 * and the caller's participant item are read consistently, in one request: a participant removed a
 * moment ago is refused at once, never let in by a stale replica (subscribe, sends, history, polls).
 */
export const authorizeChat = async (
  chats: Pick<ChatStore, 'access'>,
  identity: Identity,
  chatId: string,
): Promise<ChatRecord> => {
  const { chat, member } = await chats.access(chatId, isStaff(identity) ? undefined : identity.userId);
  if (!chat || chat.tenantId !== identity.tenantId) throw new NotFoundError('chat');
  if (!member && !isStaff(identity)) throw new ForbiddenError('you are not a participant of this chat');
  return chat;
};

/**
 * `authorizeChat` for a send, whose seq reservation checks the chat itself (404 for none, 409 when
 * closed): a participant's own item names the chat's tenant, so one consistent read lets them in.
 * Staff, and anyone that read does not let in, get the whole check and its precise 404 or 403.
 */
export const authorizeSender = async (
  chats: Pick<ChatStore, 'access' | 'memberTenant'>,
  identity: Identity,
  chatId: string,
): Promise<void> => {
  if (!isStaff(identity) && (await chats.memberTenant(chatId, identity.userId)) === identity.tenantId) return;
  await authorizeChat(chats, identity, chatId);
};

/** One entry of `accessAll`, checked: the chat, or an error naming it when there are several. */
const checked = (
  identity: Identity,
  chatIds: readonly string[],
  { chat, member }: { chat: ChatRecord | undefined; member: boolean },
  index: number,
): ChatRecord => {
  const what = chatIds.length > 1 ? `chat ${chatIds[index] ?? ''}` : 'chat';
  if (!chat || chat.tenantId !== identity.tenantId) throw new NotFoundError(what);
  if (!member && !isStaff(identity)) throw new ForbiddenError(`you are not a participant of this ${what}`);
  return chat;
};

/**
 * `authorizeChat` for the chats of a subscription, in the order of `chatIds`: every one of them or an
 * error for the first the caller may not see (naming it when there are several), with each chat's
 * membersVersion, one at which the caller took part (what the subscription records for the fan-out,
 * shared/domain/delivery-scope.ts).
 */
export const authorizeSubscription = async (
  chats: Pick<ChatStore, 'accessAll'>,
  identity: Identity,
  chatIds: readonly string[],
): Promise<{ chats: ChatRecord[]; membersVersions: Map<string, number> }> => {
  const found = await chats.accessAll(chatIds, isStaff(identity) ? undefined : identity.userId, {
    vouch: true,
  });
  return {
    chats: found.map((entry, index) => checked(identity, chatIds, entry, index)),
    membersVersions: new Map(found.map((entry, index) => [chatIds[index] ?? '', entry.membersVersion])),
  };
};

/** A message of the chat by its id (read consistently); 404 for another chat's id or a void. */
export const messageById = async (
  messages: Pick<MessageStore, 'get'>,
  chatId: string,
  messageId: string,
): Promise<Message> => {
  const seq = seqOfMessageId(messageId);
  const message = seq ? await messages.get(chatId, seq) : undefined;
  if (!message || message.messageId !== messageId || isVoid(message)) throw new NotFoundError('message');
  return message;
};
