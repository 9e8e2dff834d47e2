/**
 * What the agent console's browser tests share: the local cloud and Chromium of the file, visitors who
 * talk through the HTTP API (the widget's own tests drive the widget) and come online with a socket of
 * their own, a signed-in console page, and the console found by its accessible names.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { api, connect, type TestSocket } from '../support/clients.ts';
import { UI_TIMEOUT } from '../support/browser.ts';
import { useLocalCloud } from './local-cloud.ts';

export interface Visitor {
  visitorId: string;
  token: string;
}
export interface ChatRow {
  chatId: string;
  lastSeq: number;
}
export interface MessageRow {
  seq: number;
  text: string;
  senderId: string;
  messageId: string;
}

let counter = 0;
/** A text no other test (or run against the same cloud) uses: subjects the list is searched by. */
export const unique = (prefix: string) => `${prefix} ${Date.now().toString(36)}-${++counter}`;

/** Waits for a condition of the page (vitest has no locator matchers): re-reads until it holds. */
export const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: UI_TIMEOUT, interval: 100 });

/** The conversation list's entry showing `text`. */
export const listItem = (page: Page, text: string) =>
  page.getByTestId('chat-list').getByRole('button').filter({ hasText: text });
export const log = (page: Page) => page.getByRole('log');
/** The text alternative of a list entry's presence dot (its customer online, offline or unknown). */
export const presenceOf = async (page: Page, text: string) =>
  (await listItem(page, text).getByRole('img').getAttribute('aria-label')) ?? '';

/** Registers the file's local cloud and Chromium; the helpers call the API of that cloud. */
export const useConsoleCloud = () => {
  const local = useLocalCloud();
  /** An HTTP API call that must succeed (it throws naming the status otherwise). */
  const request = <T>(method: string, path: string, token?: string, body?: unknown) =>
    api(local.cloud.urls.http).ok<T>(method, path, token, body);

  return {
    get cloud() {
      return local.cloud;
    },
    newContext: local.newContext,
    request,
    newVisitor: (name = 'Vera Visitor') =>
      request<Visitor>('POST', '/v1/visitors', undefined, { tenantId: 'demo', name }),
    /** The visitor's own socket, as the widget opens one: the visitor is online until it closes. */
    goOnline: (visitor: Visitor): Promise<TestSocket> => connect(api(local.cloud.urls.http), visitor.token),
    openChat: (visitor: Visitor, input: { subject?: string; metadata?: Record<string, unknown> }) =>
      request<ChatRow>('POST', '/v1/chats', visitor.token, input),
    say: (visitor: Visitor, chatId: string, text: string) =>
      request<MessageRow>('POST', `/v1/chats/${chatId}/messages`, visitor.token, {
        clientMessageId: `cm-${++counter}-${Date.now()}`,
        type: 'text',
        text,
      }),
    messagesOf: async (visitor: Visitor, chatId: string) =>
      (
        await request<{ items: MessageRow[] }>(
          'GET',
          `/v1/chats/${chatId}/messages?after=0&limit=100`,
          visitor.token,
        )
      ).items,
    /**
     * A fresh browser context signed in to the console as `agentId`, its list loaded and the connection
     * in `state` (default live); `prepare` runs before the page loads (e.g. to block WebSockets).
     */
    signIn: async (
      agentId: string,
      { state = 'live', prepare }: { state?: string; prepare?: (page: Page) => Promise<void> } = {},
    ): Promise<Page> => {
      const context = await local.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await prepare?.(page);
      await page.goto(`${local.cloud.urls.web}/console`);
      await page.getByRole('textbox', { name: 'Agent id', exact: true }).fill(agentId);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator(`#connection[data-state="${state}"]`).waitFor({ timeout: UI_TIMEOUT });
      return page;
    },
  };
};
