/**
 * The widget demo: an anonymous visitor of the configured tenant, one chat (kept in localStorage so a
 * reload continues it), messages live over the SDK, a text box to send.
 */
import { ApiError, ChatClient, createVisitor, loadConfig } from '/sdk/client.js';
import { appendMessage, byTestId, errorReporter, onCompose, showStatus } from '/sdk/ui.js';

const widget = byTestId('widget');
const statusLine = byTestId('status');
const list = byTestId('messages');
const errorLine = byTestId('error');
const form = byTestId('composer');
const input = byTestId('message-input');
const sendButton = byTestId('send-button');

const showError = errorReporter(errorLine);

const render = (message, visitorId) => {
  const mine = message.senderId === visitorId;
  const who = mine ? 'You' : message.senderRole === 'visitor' ? 'Visitor' : 'Support';
  appendMessage(list, message, { mine, who });
};

/** The stored visitor and chat, if still usable; otherwise a new visitor and a new chat. */
const openSession = async (config) => {
  const key = `chat-demo:${config.tenantId}:${config.httpUrl}`;
  const stored = JSON.parse(localStorage.getItem(key) ?? 'null');
  if (stored?.chatId && Date.parse(stored.expiresAt) > Date.now() + 60_000) {
    const client = new ChatClient({ httpUrl: config.httpUrl, token: stored.token });
    try {
      await client.getChat(stored.chatId);
      return { client, session: stored };
    } catch (error) {
      // A restarted local cloud forgets chats and tokens: start over; anything else is a real failure.
      if (!(error instanceof ApiError) || ![401, 403, 404].includes(error.status)) throw error;
    }
  }
  const visitor = await createVisitor(config.httpUrl, config.tenantId);
  const client = new ChatClient({ httpUrl: config.httpUrl, token: visitor.token });
  const chat = await client.createChat({ subject: 'Website visitor' });
  const session = { ...visitor, chatId: chat.chatId };
  localStorage.setItem(key, JSON.stringify(session));
  return { client, session };
};

const start = async () => {
  const config = await loadConfig();
  const { client, session } = await openSession(config);
  const { chatId, visitorId } = session;
  widget.dataset.chatId = chatId;
  window.chatDemo = { client, chatId, visitorId };

  client.on('status', (status) => showStatus(statusLine, status));
  client.on('ready', ({ connectionId }) => {
    widget.dataset.connectionId = connectionId;
  });
  client.on('message', (message) => message.chatId === chatId && render(message, visitorId));
  client.on('error', (error) => console.warn('[chat]', error));

  await client.subscribe(chatId); // the history over HTTP first…
  client.connect(); // …then live; on every (re)connect the SDK resubscribes and fetches what it missed
  widget.setAttribute('aria-busy', 'false');
  sendButton.disabled = false;

  onCompose(form, input, showError, (text) => client.send(chatId, text));
};

start().catch((error) => {
  showStatus(statusLine, 'closed');
  showError(`The chat could not start: ${error.message}`);
});
