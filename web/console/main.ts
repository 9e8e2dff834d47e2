/**
 * The agent console (/console): sign in, then three panels — conversations (live list with filters),
 * the selected conversation's messages, and its customer — under a stats header. Built on the browser
 * SDK (web/sdk), bundled to /console/console.js by infra/web-build.ts.
 */
import { ChatClient, loadConfig, type Status } from '../sdk/index.ts';
import type { Chat } from '../sdk/index.ts';
import { createChatList } from './chat-list.ts';
import { createConversationActions } from './conversation-actions.ts';
import { createCustomerPanel } from './customer-panel.ts';
import { byId, errorText } from './dom.ts';
import { watchMentions } from './mentions.ts';
import { createMessagePane } from './message-pane.ts';
import { forgetSession, renewToken, signIn } from './session.ts';
import { installShortcuts } from './shortcuts.ts';
import { createStatsHeader } from './stats-header.ts';
import { Store } from './store.ts';

const STATUS_TEXT: Record<Status, string> = {
  idle: 'Connecting…',
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Polling',
  offline: 'Offline',
  closed: 'Offline',
};

const LIST_REFRESH_MS = 30_000;

const fatal = (text: string) => {
  const alert = byId('fatal-error');
  alert.textContent = text;
  alert.hidden = false;
};

const start = async () => {
  const config = await loadConfig();
  let session = await signIn(config);

  const client = new ChatClient({
    httpUrl: config.httpUrl,
    token: () => session.token,
    renewToken: async () => {
      session = await renewToken(config, session);
      return session.token;
    },
    storageKey: `chat-console:${session.tenantId}:${session.userId}`,
    tabs: false,
  });
  const store = new Store({ userId: session.userId, tenantId: session.tenantId });
  const announcer = byId('announcer');
  const announce = (text: string) => {
    announcer.textContent = '';
    requestAnimationFrame(() => (announcer.textContent = text));
  };

  const statusLine = byId('connection');
  client.on('status', (status) => {
    statusLine.textContent = STATUS_TEXT[status];
    statusLine.dataset.state = status;
    applyVisibility();
  });
  client.on('presence', ({ userId, online }) => store.setOnline(userId, online));
  client.on('chat', ({ chat }) => store.applyKnown(chat));
  client.on('error', (error) => console.warn('[console]', error));

  const stats = createStatsHeader(client);
  const pane = createMessagePane({ client, store, announce });
  const actions = createConversationActions({ client, store, announce });
  const customer = createCustomerPanel({ client, store });

  const select = (chat: Chat) => {
    if (store.selected?.chatId === chat.chatId) return;
    store.select(chat);
    byId('conversation-empty').hidden = true;
    byId('conversation-body').hidden = false;
    history.replaceState(null, '', `${location.pathname}?chat=${encodeURIComponent(chat.chatId)}`);
    void customer.load(chat);
    pane.open(chat).catch((error: unknown) => console.warn('[console] open failed', error));
  };
  const list = createChatList({ client, store, onSelect: select });
  watchMentions({
    client,
    store,
    announce,
    open: (chatId) => {
      const known = store.chats.get(chatId);
      if (known) return select(known);
      client.getChat(chatId).then(select, (error: unknown) => console.warn('[console] open failed', error));
    },
  });

  const focusListItem = () => {
    const id = store.selected?.chatId;
    const button = id
      ? byId('chat-list').querySelector<HTMLElement>(`[data-chat-id="${CSS.escape(id)}"]`)
      : byId('chat-list').querySelector<HTMLElement>('button');
    button?.focus();
  };
  installShortcuts({
    step: (direction) => {
      const next = list.neighbour(direction);
      if (!next) return;
      select(next);
      focusListItem();
    },
    focusComposer: () => pane.focusComposer(),
    assignToMe: () => actions.assignToMe(),
    focusList: focusListItem,
  });

  // Previews, order and unread counts of chats nobody opened move with messages, which change no chat
  // record: the list is read again now and then, while the tab is visible.
  let listTimer: ReturnType<typeof setInterval> | undefined;
  const refreshList = (on: boolean) => {
    if (listTimer) clearInterval(listTimer);
    listTimer = on ? setInterval(() => void list.refresh(), LIST_REFRESH_MS) : undefined;
  };

  // No polling while the tab is hidden: stats stop, and in polling mode the list watch and the open
  // chat's subscription stop too (a socket costs nothing idle and stays); both catch up on return.
  let suspended = false;
  const applyVisibility = () => {
    const hidden = document.visibilityState === 'hidden';
    if (hidden) {
      stats.stop();
      refreshList(false);
    }
    const suspend = hidden && client.status === 'polling';
    if (suspend && !suspended) {
      suspended = true;
      list.pause();
      void pane.suspend();
    } else if (!hidden && suspended) {
      suspended = false;
      void list.resume();
      void pane.resume();
    }
    if (!hidden) {
      if (!listTimer) refreshList(true);
      stats.start(); // refreshes at once when it was stopped
      pane.markReadSoon();
    }
  };
  document.addEventListener('visibilitychange', () => {
    const wasSuspended = suspended;
    applyVisibility();
    if (document.visibilityState === 'visible' && !wasSuspended) void list.refresh();
  });

  byId('sign-out').addEventListener('click', () => {
    client.close();
    forgetSession();
    location.replace(location.pathname);
  });
  byId('me').textContent = session.name ? `${session.name} (${session.userId})` : session.userId;
  byId('signed-in').hidden = false;
  byId('workspace').hidden = false;

  client.connect().catch((error: unknown) => console.warn('[console] connect failed', error));
  stats.start();
  await list.reload();
  const wanted = new URLSearchParams(location.search).get('chat');
  const initial = wanted ? store.chats.get(wanted) : undefined;
  if (initial) select(initial);
  actions.render();
};

start().catch((error: unknown) => fatal(`The console could not start: ${errorText(error)}`));
