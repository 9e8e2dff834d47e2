/**
 * What the widget's browser tests share: the file's local cloud, Chromium and agent, the widget found by
 * the contract's accessible names, the visitor's stored session, and an agent who talks through the
 * HTTP API with a development token.
 */
import { randomUUID } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { LocalCloudOptions } from '../../infra/local/cloud.ts';
import type { Chat, Message } from '../../shared/domain/schemas.ts';
import { ChatClient, type ChatEvents, type WebSocketFactory } from '../../web/sdk/index.ts';
import { UI_TIMEOUT } from '../support/browser.ts';
import { api } from '../support/clients.ts';
import { useLocalCloud } from './local-cloud.ts';

/** The widget on a page, by its roles and accessible names. */
export const widgetOf = (page: Page) => {
  const log = page.getByRole('log');
  return {
    launcher: page.getByRole('button', { name: 'Open chat', exact: true }),
    log,
    items: log.getByRole('listitem'),
    input: page.getByRole('textbox', { name: 'Message', exact: true }),
    send: page.getByRole('button', { name: 'Send', exact: true }),
    status: page.getByRole('status'),
  };
};

/** The texts of the log's message items (stored ones carry data-seq), in display order. */
export const texts = (page: Page): Promise<string[]> =>
  page
    .getByRole('log')
    .locator('li[data-seq] .t')
    .evaluateAll((nodes) => nodes.map((node) => node.textContent ?? ''));

export const seqs = (page: Page): Promise<number[]> =>
  page
    .getByRole('log')
    .locator('li[data-seq]')
    .evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.seq)));

/** The log item showing `text` (stored, not pending). */
export const item = (page: Page, text: string): Locator =>
  page.getByRole('log').locator('li[data-seq]', { hasText: text });

export const waitForItem = (page: Page, text: string): Promise<void> =>
  item(page, text).first().waitFor({ timeout: UI_TIMEOUT });

export const waitForStatus = async (page: Page, word: 'Live' | 'Polling' | 'Offline'): Promise<void> => {
  await page.getByRole('status').filter({ hasText: word }).waitFor({ timeout: UI_TIMEOUT });
};

/** Opens the panel, writes and sends. */
export const say = async (page: Page, text: string): Promise<void> => {
  const w = widgetOf(page);
  if ((await w.launcher.getAttribute('aria-expanded')) !== 'true') await w.launcher.click();
  await w.input.fill(text);
  await w.send.click();
};

export interface StoredSession {
  visitorId: string;
  token: string;
  refreshToken?: string;
  expiresAt: string;
  chatId?: string;
}

/** The visitor's session the widget keeps in localStorage (undefined before the first message). */
export const storedSession = (page: Page, httpUrl: string): Promise<StoredSession | undefined> =>
  page.evaluate(
    (key) => (JSON.parse(localStorage.getItem(key) ?? 'null') as StoredSession | null) ?? undefined,
    `chat-widget:demo:${httpUrl}`,
  );

/** The chat id once the visitor's first message created it. */
export const chatIdOf = async (page: Page): Promise<string> => {
  const host = page.locator('chat-widget[data-chat-id]');
  await host.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
  return (await host.getAttribute('data-chat-id')) ?? '';
};

/** An agent of tenant `demo` using the HTTP API. */
export const agentOf = async (httpUrl: string, userId = 'agent-ann') => {
  const client = api(httpUrl);
  const { token } = await client.ok<{ token: string }>('POST', '/v1/dev/tokens', undefined, {
    tenantId: 'demo',
    userId,
    role: 'agent',
  });
  const request = <T>(method: string, path: string, body?: unknown) =>
    client.ok<T>(method, path, token, body);
  return {
    userId,
    api: request,
    send: (chatId: string, text: string) =>
      request<Message>('POST', `/v1/chats/${chatId}/messages`, {
        clientMessageId: randomUUID(),
        type: 'text',
        text,
      }),
    messages: async (chatId: string) =>
      (await request<{ items: Message[] }>('GET', `/v1/chats/${chatId}/messages?after=0&limit=100`)).items,
    typing: (chatId: string, isTyping: boolean) =>
      request('POST', `/v1/chats/${chatId}/typing`, { isTyping }),
    assign: (chatId: string) => request<Chat>('POST', `/v1/chats/${chatId}/assign`, { agentId: userId }),
    read: (chatId: string, seq: number) => request('POST', `/v1/chats/${chatId}/read`, { seq }),
    chat: (chatId: string) => request<Chat>('GET', `/v1/chats/${chatId}`),
    close: (chatId: string) => request<Chat>('PATCH', `/v1/chats/${chatId}`, { status: 'closed' }),
    /** The agent's own live connection to a chat (the SDK in Node): what it receives, by type. */
    watch: async (chatId: string) => {
      const client = new ChatClient({ httpUrl, token, WebSocket: WebSocket as unknown as WebSocketFactory });
      const seen = { typing: [] as ChatEvents['typing'][], receipt: [] as ChatEvents['receipt'][] };
      client.on('typing', (event) => seen.typing.push(event));
      client.on('receipt', (event) => seen.receipt.push(event));
      await client.connect();
      await client.subscribe(chatId);
      return { client, seen, close: () => client.close() };
    },
  };
};
export type Agent = Awaited<ReturnType<typeof agentOf>>;

/**
 * Registers the file's (or describe block's) local cloud, Chromium and agent `agent-ann`; `options`
 * go to the local cloud (e.g. `env`). Each test's browser contexts close after it.
 */
export const useWidgetCloud = (options: LocalCloudOptions = {}) => {
  const local = useLocalCloud(options);
  let agent: Agent | undefined;
  beforeAll(async () => {
    agent = await agentOf(local.cloud.urls.http);
  });

  return {
    get cloud() {
      return local.cloud;
    },
    get agent(): Agent {
      if (!agent) throw new Error('the agent signs in in beforeAll');
      return agent;
    },
    newContext: local.newContext,
    /** A new visitor: a fresh browser context on the demo page; `errors` collects its console errors. */
    visitorPage: async (errors?: string[]): Promise<Page> => {
      const page = await (await local.newContext()).newPage();
      if (errors) {
        page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
        page.on('pageerror', (error) => errors.push(error.message));
      }
      await page.goto(`${local.cloud.urls.web}/`);
      return page;
    },
  };
};
