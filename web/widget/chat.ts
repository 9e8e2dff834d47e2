/**
 * The SDK client and the visitor's chat: created on the first message, continued at load, followed
 * across tabs, forgotten on "Start a new conversation" or reset. Each async step checks, after its
 * await, that the visitor it started for is still the widget's (`gen_`): a late answer for a visitor
 * that was reset never saves, attaches or shows anything.
 */
import { ApiError, type Chat, ChatClient, type ChatEvents, createVisitor } from '../sdk/index.ts';
import { showClosed } from './closing.ts';
import { type Ctx, noop, PAGE, type Profile, setStatus, showGreeting } from './context.ts';
import { onMessage, renderPending } from './log.ts';
import { onReaction, onUpdated, setReply } from './reply.ts';
import { showTyping, stopTyping } from './typing.ts';
import { onMention, onReceipt, refreshUnread } from './unread.ts';

/** Throws when the widget let go of the visitor of generation `gen` (reset) while a step awaited. */
const still = <T>(w: Ctx, gen: number, value: T): T => {
  if (gen !== w.gen_) throw new Error('reset');
  return value;
};

/** `metadata.visitor` of the visitor's chats: what `identify` said (the console shows the name). */
export const visitorMetadata = ({ profile_: { name, email } }: Ctx): { visitor?: Profile } =>
  name || email ? { visitor: { ...(name ? { name } : {}), ...(email ? { email } : {}) } } : {};

const ensureClient = (w: Ctx, visitorId: string): ChatClient => {
  if (w.client_) return w.client_;
  if (w.destroyed_) throw new Error('destroyed');
  const session = w.session_!;
  const client = new ChatClient({
    httpUrl: w.httpUrl_,
    token: session.token_,
    renewToken: session.renew_,
    tabs: true,
    storageKey: `${session.key_}:${visitorId}`,
    ...(w.o_.timing ? { timing: w.o_.timing } : {}),
  });
  w.client_ = client;
  w.visitorId_ = w.ic_.me_ = visitorId;
  // A client the widget let go of (reset, another tab's visitor) reaches nothing any more.
  const on = <K extends keyof ChatEvents>(type: K, fn: (value: ChatEvents[K]) => void) =>
    client.on(type, (value) => w.client_ === client && fn(value));
  on('status', (status) => setStatus(w, status));
  on('message', (m) => onMessage(w, m));
  on('messageUpdated', (m) => onUpdated(w, m));
  on('reaction', (r) => onReaction(w, r));
  on('mention', (m) => onMention(w, m));
  on('typing', (t) => {
    if (t.chatId === w.chatId_ && t.userId !== w.visitorId_)
      showTyping(w, t.isTyping ? t.userId : undefined, t.expiresInMs);
  });
  on('receipt', (r) => onReceipt(w, r));
  on('chat', ({ chat }) => {
    if (chat.chatId === w.chatId_) showClosed(w, chat);
  });
  on('outbox', () => renderPending(w));
  void client.connect().catch(noop);
  return client;
};

/** Continues the stored chat: its state, the last page of its history, then live delivery. */
export const attach = async (w: Ctx, created?: Chat): Promise<void> => {
  const stored = w.session_?.read_();
  const chatId = stored?.chatId;
  if (!stored || !chatId) return;
  const gen = w.gen_;
  const client = ensureClient(w, stored.visitorId);
  let chat = created;
  try {
    chat ??= await client.getChat(chatId);
  } catch (error) {
    if (gen !== w.gen_) return;
    // Gone (a restarted local cloud, a deleted chat, a visitor that cannot be renewed): start over.
    if (error instanceof ApiError && [401, 403, 404].includes(error.status)) return reset(w);
    throw error;
  }
  if (gen !== w.gen_ || w.session_?.current_()?.chatId !== chatId || w.chatId_ === chatId) return;
  w.chatId_ = w.v_.host_.dataset.chatId = chatId;
  w.readSeq_ = chat.lastReadSeq ?? 0;
  w.liveAfter_ = chat.lastSeq;
  const after = Math.max(0, chat.lastSeq - PAGE);
  w.oldest_ = after + 1;
  w.v_.more_.hidden = after === 0;
  showClosed(w, chat);
  renderPending(w);
  // Chat events after the state just read (e.g. closed meanwhile) come with the subscription's catch-up.
  void client.subscribe(chatId, { after, afterEvent: chat.lastEventSeq ?? 0 }).catch(noop);
};

/** The current chat; on the visitor's first message, a visitor and a chat are created first. */
export const ensureChat = (w: Ctx): Promise<string> => {
  if (w.chatId_) return Promise.resolve(w.chatId_);
  const gen = w.gen_;
  return (w.creating_ ??= (async () => {
    await w.ready_.catch(() => (w.ready_ = w.start_()));
    await w.ready_;
    const session = w.session_!; // set once ready
    let stored = still(w, gen, session.read_());
    if (!stored) {
      stored = still(w, gen, await createVisitor(w.httpUrl_, session.tenantId_, w.profile_));
      session.save_(stored);
    }
    if (!stored.chatId) {
      const client = ensureClient(w, stored.visitorId);
      const metadata = { ...w.o_.metadata, ...visitorMetadata(w) };
      const chat = still(
        w,
        gen,
        await client.createChat({
          ...(w.o_.subject ? { subject: w.o_.subject } : {}),
          ...(Object.keys(metadata).length ? { metadata: metadata as Chat['metadata'] } : {}),
        }),
      );
      session.save_({ ...(session.read_() ?? stored), chatId: chat.chatId });
      await attach(w, chat);
    } else {
      await attach(w);
    }
    if (!still(w, gen, w.chatId_)) throw new Error('no chat');
    return w.chatId_!;
  })().finally(() => {
    if (gen === w.gen_) w.creating_ = undefined;
  }));
};

/** Another tab started, switched or forgot the conversation: follow it. */
export const syncTabs = (w: Ctx): void => {
  const next = w.session_?.read_();
  if (next?.visitorId !== w.visitorId_ && w.client_) {
    disconnect(w);
    clearChat(w);
  } else if (next?.chatId !== w.chatId_ && w.chatId_) {
    clearChat(w);
  }
  if (next?.chatId && next.chatId !== w.chatId_) void attach(w).catch(noop);
  else if (!w.client_) setStatus(w, w.reachable_ ? 'ready' : 'offline');
};

export const clearChat = (w: Ctx): void => {
  const v = w.v_;
  if (w.chatId_) void w.client_?.unsubscribe(w.chatId_).catch(noop);
  w.chatId_ = undefined;
  delete v.host_.dataset.chatId;
  w.items_.clear();
  w.pending_.clear();
  w.mentioned_.clear();
  w.versions_.clear();
  setReply(w);
  v.list_.replaceChildren();
  v.more_.hidden = true;
  w.readSeq_ = w.theirReadSeq_ = w.liveAfter_ = 0;
  showTyping(w, undefined, 0);
  showClosed(w, undefined);
  showGreeting(w);
  refreshUnread(w);
};

/** Lets go of the visitor: closes the connection, and steps still running for it stop (destroy, reset). */
export const disconnect = (w: Ctx): void => {
  stopTyping(w);
  w.client_?.close();
  w.client_ = w.visitorId_ = w.creating_ = undefined;
  w.gen_++;
};

/** ChatWidget('reset'): forget the visitor (e.g. on the host's sign-out); the next message starts anew. */
export const reset = (w: Ctx): void => {
  disconnect(w);
  w.session_?.save_(undefined);
  w.profile_ = {};
  clearChat(w);
  setStatus(w, w.reachable_ ? 'ready' : 'offline');
};

/** "Start a new conversation": same visitor, a new chat on the next message. */
export const startNew = (w: Ctx): void => {
  const stored = w.session_?.read_();
  if (stored?.chatId) {
    delete stored.chatId;
    w.session_?.save_(stored);
  }
  clearChat(w);
  w.v_.input_.focus();
};
