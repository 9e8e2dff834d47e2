/**
 * The customer panel of the selected chat: who the customer is (presence), the chat's metadata, its
 * participants, its audit trail (GET /v1/chats/{chatId}/audit) and Block / Unblock of the customer.
 */
import type { ChatClient } from '../sdk/index.ts';
import type { Chat } from '../sdk/index.ts';
import { byId, errorText, h, isolate, jsonText, timeElement, truncate } from './dom.ts';
import { customerName, customerOf, type Store } from './store.ts';

interface AuditEntry {
  at: string;
  actorId: string;
  actorRole: string;
  action: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

const VALUE_CHARS = 200;

/** `field: before → after` for each changed field. */
const changes = (entry: AuditEntry): string =>
  [...new Set([...Object.keys(entry.before ?? {}), ...Object.keys(entry.after ?? {})])]
    .map((key) => {
      const before = entry.before?.[key];
      const after = entry.after?.[key];
      const show = (value: unknown) => (value === undefined ? '—' : truncate(jsonText(value), 60));
      return `${key}: ${show(before)} → ${show(after)}`;
    })
    .join('; ');

const itemsOf = <T>(page: unknown): T[] =>
  Array.isArray(page) ? (page as T[]) : (((page as { items?: T[] } | undefined)?.items ?? []) as T[]);

export interface CustomerPanel {
  /** Loads the selected chat's details (participants, presence) and audit trail. */
  load(chat: Chat): Promise<void>;
  render(): void;
}

export const createCustomerPanel = (options: { client: ChatClient; store: Store }): CustomerPanel => {
  const { client, store } = options;
  const empty = byId('customer-empty');
  const body = byId('customer-body');
  const name = byId('customer-name');
  const idLine = byId('customer-id');
  const presence = byId('customer-presence');
  const blockButton = byId<HTMLButtonElement>('block-toggle');
  const metadataList = byId('metadata-list');
  const metadataEmpty = byId('metadata-empty');
  const participantList = byId('participant-list');
  const auditList = byId('audit-list');
  const auditRefresh = byId<HTMLButtonElement>('audit-refresh');
  const error = byId('customer-error');
  const blocked = new Set<string>();
  let blocksLoaded: Promise<void> | undefined;
  let auditFor: string | undefined;

  const showError = (text?: string) => {
    error.textContent = text ?? '';
    error.hidden = !text;
  };

  const loadBlocks = () =>
    (blocksLoaded ??= client
      .request<{ items: { userId: string }[] }>('GET', '/v1/blocks?limit=100')
      .then(({ items }) => {
        for (const item of items) blocked.add(item.userId);
      })
      .catch(() => {
        blocksLoaded = undefined;
      }));

  const renderMetadata = (chat: Chat) => {
    const entries = Object.entries(chat.metadata);
    metadataEmpty.hidden = entries.length > 0;
    metadataList.hidden = entries.length === 0;
    metadataList.replaceChildren(
      ...entries.flatMap(([key, value]) => [
        h('dt', {}, isolate(truncate(key, 64))),
        h('dd', { 'data-testid': 'metadata-value' }, isolate(truncate(jsonText(value), VALUE_CHARS))),
      ]),
    );
  };

  const renderParticipants = (chat: Chat) => {
    const participants = chat.participants ?? [];
    participantList.replaceChildren(
      ...participants.map((participant) => {
        const online = store.online.get(participant.userId) ?? participant.online;
        const state = online === undefined ? 'unknown' : online ? 'online' : 'offline';
        return h(
          'li',
          { 'data-testid': 'participant' },
          h('span', {
            class: 'presence',
            'data-online': online === undefined ? 'unknown' : String(online),
            role: 'img',
            'aria-label': state,
          }),
          isolate(truncate(participant.userId, 60)),
          ` (${participant.role}${participant.userId === store.me.userId ? ', you' : ''})`,
        );
      }),
    );
    if (participants.length === 0)
      participantList.replaceChildren(h('li', { class: 'muted' }, 'Not loaded yet'));
  };

  const render = () => {
    const chat = store.selected;
    empty.hidden = Boolean(chat);
    body.hidden = !chat;
    if (!chat) return;
    const customer = customerOf(chat);
    name.replaceChildren(isolate(truncate(customerName(chat), 80)));
    idLine.replaceChildren('Id: ', isolate(truncate(customer, 128)));
    const online =
      store.online.get(customer) ?? chat.participants?.find((p) => p.userId === customer)?.online;
    presence.textContent = online === undefined ? 'Presence unknown' : online ? 'Online' : 'Offline';
    presence.dataset.online = online === undefined ? 'unknown' : String(online);
    const isBlocked = blocked.has(customer);
    blockButton.textContent = isBlocked ? 'Unblock customer' : 'Block customer';
    blockButton.setAttribute('aria-pressed', String(isBlocked));
    blockButton.hidden = customer === store.me.userId;
    renderMetadata(chat);
    renderParticipants(chat);
  };

  const loadAudit = async (chatId: string) => {
    auditFor = chatId;
    auditList.setAttribute('aria-busy', 'true');
    try {
      const entries = itemsOf<AuditEntry>(await client.listAudit(chatId));
      if (auditFor !== chatId) return;
      auditList.replaceChildren(
        ...entries.map((entry) =>
          h(
            'li',
            { 'data-testid': 'audit-entry' },
            timeElement(entry.at),
            ' ',
            h('strong', {}, entry.action),
            ' by ',
            isolate(truncate(entry.actorId, 60)),
            ` (${entry.actorRole})`,
            entry.before || entry.after
              ? h('span', { class: 'audit-change' }, isolate(changes(entry)))
              : null,
          ),
        ),
      );
      if (entries.length === 0) auditList.replaceChildren(h('li', { class: 'muted' }, 'No audit records'));
    } catch (cause) {
      if (auditFor === chatId)
        auditList.replaceChildren(
          h('li', { class: 'muted' }, `Audit trail unavailable: ${errorText(cause)}`),
        );
    } finally {
      auditList.removeAttribute('aria-busy');
    }
  };

  blockButton.addEventListener('click', () => {
    const chat = store.selected;
    if (!chat) return;
    const customer = customerOf(chat);
    const block = !blocked.has(customer);
    showError();
    (block ? client.block(customer) : client.unblock(customer)).then(
      () => {
        if (block) blocked.add(customer);
        else blocked.delete(customer);
        render();
        void loadAudit(chat.chatId);
      },
      (cause: unknown) => showError(`${block ? 'Blocking' : 'Unblocking'} failed: ${errorText(cause)}`),
    );
  });
  auditRefresh.addEventListener('click', () => {
    if (store.selected) void loadAudit(store.selected.chatId);
  });
  store.on('selected', render);
  store.on('presence', render);

  let lastVersion = '';
  store.on('selected', () => {
    // A change of the selected chat (assigned, closed, participants): its audit trail grew.
    const chat = store.selected;
    const version = chat ? `${chat.chatId}:${chat.updatedAt}` : '';
    if (chat && version !== lastVersion && auditFor === chat.chatId) {
      void loadAudit(chat.chatId);
      void loadDetail(chat.chatId);
    }
    lastVersion = version;
  });

  /** Participants and their presence (GET /v1/chats/{chatId}). */
  const loadDetail = async (chatId: string) => {
    const mark = store.presenceMark();
    const detail = await client.getChat(chatId).catch((cause: unknown) => {
      showError(`Details unavailable: ${errorText(cause)}`);
      return undefined;
    });
    if (!detail || store.selected?.chatId !== chatId) return;
    store.applyPresenceRead(
      mark,
      (detail.participants ?? []).flatMap((p) =>
        p.online === undefined ? [] : [[p.userId, p.online] as const],
      ),
    );
    store.applyKnown(detail);
    store.emit('presence');
  };

  return {
    load: async (chat) => {
      showError();
      lastVersion = `${chat.chatId}:${chat.updatedAt}`;
      await Promise.all([loadDetail(chat.chatId), loadBlocks(), loadAudit(chat.chatId)]);
      render();
    },
    render,
  };
};
