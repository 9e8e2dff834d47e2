/**
 * Typing in the open conversation, both ways: the agent's (sent at most every 3 s while the composer
 * has text, stopped after 4 s without input, on send, on blur and when the chat changes) and the other
 * participants' ("Vera is typing…" until it expires or their message arrives).
 */
import type { ChatClient } from '../sdk/index.ts';
import { customerName, customerOf, type Store } from './store.ts';

const TYPING_REFRESH_MS = 3000;
const TYPING_IDLE_MS = 4000;

export interface Typing {
  /** The agent stopped typing (sent, or left the chat). */
  stop(): void;
  /** A message of `userId` arrived: they no longer type. */
  messageFrom(userId: string): void;
  /** Another chat: nobody types any more. */
  reset(): void;
}

export const createTyping = (options: {
  client: ChatClient;
  store: Store;
  line: HTMLElement;
  input: HTMLTextAreaElement;
  /** The open chat. */
  chatId: () => string | undefined;
}): Typing => {
  const { client, store, line, input, chatId } = options;
  const me = store.me.userId;
  const typers = new Map<string, ReturnType<typeof setTimeout>>();
  let typingSentAt = 0;
  let typingIdle: ReturnType<typeof setTimeout> | undefined;

  const show = () => {
    const names = [...typers.keys()].map((userId) => {
      const chat = store.selected;
      return chat && userId === customerOf(chat) ? customerName(chat) : userId;
    });
    line.textContent =
      names.length === 0
        ? ''
        : names.length === 1
          ? `${names[0]} is typing…`
          : `${names.join(', ')} are typing…`;
  };

  const stop = () => {
    if (typingIdle) clearTimeout(typingIdle);
    typingIdle = undefined;
    const current = chatId();
    if (typingSentAt && current) client.typing(current, false).catch(() => {});
    typingSentAt = 0;
  };

  client.on('typing', ({ chatId: typingChat, userId, isTyping, expiresInMs }) => {
    if (typingChat !== chatId() || userId === me) return;
    const timer = typers.get(userId);
    if (timer) clearTimeout(timer);
    typers.delete(userId);
    if (isTyping)
      typers.set(
        userId,
        setTimeout(() => {
          typers.delete(userId);
          show();
        }, expiresInMs),
      );
    show();
  });

  input.addEventListener('input', () => {
    const current = chatId();
    if (!current) return;
    if (!input.value.trim()) return stop();
    const now = Date.now();
    if (now - typingSentAt > TYPING_REFRESH_MS) {
      typingSentAt = now;
      client.typing(current, true).catch(() => {});
    }
    if (typingIdle) clearTimeout(typingIdle);
    typingIdle = setTimeout(stop, TYPING_IDLE_MS);
  });
  input.addEventListener('blur', () => stop());

  return {
    stop,
    messageFrom: (userId) => {
      if (userId === me) return;
      const timer = typers.get(userId);
      if (timer) clearTimeout(timer);
      if (typers.delete(userId)) show();
    },
    reset: () => {
      stop();
      for (const timer of typers.values()) clearTimeout(timer);
      typers.clear();
      show();
    },
  };
};
