/**
 * The conversation header: who and what the selected chat is, and what the agent can do with it —
 * Assign to me, assign to another agent, Close chat, Reopen chat.
 */
import type { ChatClient } from '../sdk/index.ts';
import type { Chat } from '../sdk/index.ts';
import { byId, errorText, truncate } from './dom.ts';
import { customerName, type Store } from './store.ts';

export interface ConversationActions {
  render(): void;
  assignToMe(): void;
}

export const createConversationActions = (options: {
  client: ChatClient;
  store: Store;
  announce: (text: string) => void;
}): ConversationActions => {
  const { client, store, announce } = options;
  const me = store.me.userId;
  const title = byId('conversation-title');
  const meta = byId('conversation-meta');
  const assignMe = byId<HTMLButtonElement>('assign-me');
  const assignForm = byId<HTMLFormElement>('assign-form');
  const assignAgent = byId<HTMLInputElement>('assign-agent');
  const closeButton = byId<HTMLButtonElement>('close-chat');
  const reopenButton = byId<HTMLButtonElement>('reopen-chat');
  const error = byId('actions-error');

  const showError = (text?: string) => {
    error.textContent = text ?? '';
    error.hidden = !text;
  };

  /** Runs a change of the selected chat; its reply refreshes the list row and the header. */
  const act = (label: string, change: (chatId: string) => Promise<Chat>, done: string) => {
    const chat = store.selected;
    if (!chat) return;
    showError();
    change(chat.chatId).then(
      (updated) => {
        store.applyKnown(updated);
        announce(done);
      },
      (cause: unknown) => showError(`${label} failed: ${errorText(cause)}`),
    );
  };

  const assignTo = (agentId: string) =>
    act(
      'Assigning',
      (chatId) => client.assignChat(chatId, agentId),
      agentId === me ? 'Assigned to you' : `Assigned to ${agentId}`,
    );

  const render = () => {
    const chat = store.selected;
    if (!chat) {
      title.textContent = 'Select a conversation';
      meta.textContent = '';
      return;
    }
    title.textContent = truncate(chat.subject ?? customerName(chat), 120);
    const assignee = chat.assignee === me ? 'you' : chat.assignee;
    meta.textContent = [
      chat.status === 'open' ? 'Open' : 'Closed',
      assignee ? `Assigned to ${truncate(assignee, 60)}` : 'Unassigned',
      chat.subject ? `Customer: ${truncate(customerName(chat), 60)}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    meta.dataset.status = chat.status;
    meta.dataset.assignee = chat.assignee ?? '';
    const closed = chat.status === 'closed';
    assignMe.disabled = closed || chat.assignee === me;
    assignAgent.disabled = closed;
    const focused = document.activeElement;
    closeButton.hidden = closed;
    reopenButton.hidden = !closed;
    // The button just used disappears: keep the keyboard user's place on its counterpart.
    if (focused === closeButton && closed) reopenButton.focus();
    if (focused === reopenButton && !closed) closeButton.focus();
  };

  assignMe.addEventListener('click', () => assignTo(me));
  assignForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const agentId = assignAgent.value.trim();
    if (!agentId) return;
    assignTo(agentId);
    assignAgent.value = '';
  });
  closeButton.addEventListener('click', () => {
    act('Closing', (chatId) => client.updateChat(chatId, { status: 'closed' }), 'Chat closed');
  });
  reopenButton.addEventListener('click', () => {
    act('Reopening', (chatId) => client.updateChat(chatId, { status: 'open' }), 'Chat reopened');
  });
  store.on('selected', render);

  return { render, assignToMe: () => assignTo(me) };
};
