/**
 * The agent console: sign in (a development token from the local cloud, or a pasted one), list the
 * tenant's chats, open one to see its messages live, reply.
 */
import { ChatClient, devToken, loadConfig } from '/sdk/client.js';
import { appendMessage, byTestId, errorReporter, onCompose, showStatus } from '/sdk/ui.js';

const statusLine = byTestId('status');
const errorLine = byTestId('error');
const signInForm = byTestId('sign-in-form');
const agentIdInput = byTestId('agent-id');
const tokenField = byTestId('token-field');
const tokenInput = byTestId('agent-token');
const workspace = byTestId('workspace');
const chatList = byTestId('chat-list');
const refreshButton = byTestId('refresh-chats');
const conversation = byTestId('conversation');
const title = byTestId('conversation-title');
const messages = byTestId('messages');
const replyForm = byTestId('reply-form');
const replyInput = byTestId('reply-input');
const replyButton = byTestId('reply-button');

const REFRESH_MS = 5_000;

let client;
let agentId;
let openChatId;

const showError = errorReporter(errorLine);

const render = (message) => {
  const mine = message.senderId === agentId;
  appendMessage(messages, message, {
    mine,
    who: mine ? 'You' : `${message.senderId} (${message.senderRole})`,
  });
};

const refreshChats = async () => {
  const { items } = await client.listChats({ limit: '50' });
  chatList.replaceChildren(
    ...items.map((chat) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.testid = 'chat-item';
      button.dataset.chatId = chat.chatId;
      button.setAttribute('aria-current', String(chat.chatId === openChatId));
      const when = new Date(chat.lastActivityAt).toLocaleTimeString();
      button.textContent = chat.subject ?? chat.chatId;
      const detail = document.createElement('small');
      detail.textContent = `${chat.createdBy} · ${when}`;
      button.append(detail);
      button.addEventListener('click', () => openChat(chat).catch((error) => showError(error.message)));
      item.append(button);
      return item;
    }),
  );
};

const openChat = async (chat) => {
  if (openChatId) await client.unsubscribe(openChatId);
  openChatId = chat.chatId;
  conversation.dataset.chatId = chat.chatId;
  title.textContent = `${chat.subject ?? 'Chat'} · ${chat.createdBy}`;
  messages.replaceChildren();
  for (const button of chatList.querySelectorAll('[data-testid="chat-item"]')) {
    button.setAttribute('aria-current', String(button.dataset.chatId === chat.chatId));
  }
  replyButton.disabled = false;
  showError();
  await client.subscribe(chat.chatId); // history, then live messages
  replyInput.focus();
};

const signIn = async (config) => {
  agentId = agentIdInput.value.trim();
  const token = config.devTokens
    ? (await devToken(config.httpUrl, { tenantId: config.tenantId, userId: agentId, role: 'agent' })).token
    : tokenInput.value.trim();
  client = new ChatClient({ httpUrl: config.httpUrl, token });
  window.chatConsole = { client };
  client.on('status', (status) =>
    showStatus(statusLine, status, { idleText: 'Signed out', prefix: `${agentId} · ` }),
  );
  client.on('message', (message) => message.chatId === openChatId && render(message));
  client.on('error', (error) => console.warn('[chat]', error));
  await refreshChats();
  signInForm.hidden = true;
  workspace.hidden = false;
  await client.connect();
  setInterval(() => refreshChats().catch((error) => console.warn('[chat] list failed', error)), REFRESH_MS);
};

const start = async () => {
  const config = await loadConfig();
  tokenField.hidden = Boolean(config.devTokens);
  signInForm.addEventListener('submit', (event) => {
    event.preventDefault();
    showError();
    signIn(config).catch((error) => showError(`Sign-in failed: ${error.message}`));
  });
  refreshButton.addEventListener('click', () => refreshChats().catch((error) => showError(error.message)));
  onCompose(replyForm, replyInput, showError, (text) =>
    openChatId ? client.send(openChatId, text) : undefined,
  );
};

start().catch((error) => showError(`The console could not start: ${error.message}`));
