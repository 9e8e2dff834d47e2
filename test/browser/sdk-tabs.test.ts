/**
 * The browser SDK (/sdk/chat.js) in real Chromium against a local cloud: two pages of one visitor
 * (one browser context) share one socket through Web Locks and BroadcastChannel, both see every
 * message once and in order, and closing the leader page hands over without losing anything.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import type * as Sdk from '../../web/sdk/index.ts';
import { launchChromium, UI_TIMEOUT } from '../support/browser.ts';

/**
 * Any document of the web origin will do (the SDK is imported into it). It must come from the local
 * server itself: Chromium's local network access rules block a page Playwright fulfils from calling
 * the loopback API.
 */
const PAGE = '/config.json';

describe('browser SDK tabs in Chromium', { timeout: 120_000 }, () => {
  let cloud: LocalCloud;
  let browser: Browser;
  let context: BrowserContext;
  let visitor: { visitorId: string; token: string };
  let chatId: string;
  const sockets = new Map<Page, number>();
  let sent = 0;

  const api = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${cloud.urls.http}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${visitor.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  /** The visitor writes from elsewhere (another device): the tabs receive it over the shared socket. */
  const post = () =>
    api(`/v1/chats/${chatId}/messages`, {
      clientMessageId: `node-${++sent}`,
      type: 'text',
      text: `n${sent}`,
    });

  /** A tab: a document of the web origin that imports the SDK and follows the chat. */
  const openTab = async (): Promise<Page> => {
    const page = await context.newPage();
    sockets.set(page, 0);
    page.on('websocket', () => sockets.set(page, (sockets.get(page) ?? 0) + 1));
    await page.goto(`${cloud.urls.web}${PAGE}`);
    await page.addScriptTag({
      type: 'module',
      content: "import * as sdk from '/sdk/chat.js'; window.sdk = sdk;",
    });
    await page.waitForFunction(() => 'sdk' in window, undefined, { timeout: UI_TIMEOUT });
    await page.evaluate(
      async ({ httpUrl, token, visitorId, chatId }) => {
        const { sdk } = window as unknown as { sdk: typeof Sdk };
        const client = new sdk.ChatClient({
          httpUrl,
          token,
          storageKey: `chat:demo:${visitorId}`,
          tabs: true,
        });
        const seen: number[] = [];
        Object.assign(window, { client, seen });
        client.on('message', (m) => seen.push(m.seq));
        await client.connect();
        await client.subscribe(chatId);
      },
      { httpUrl: cloud.urls.http, token: visitor.token, visitorId: visitor.visitorId, chatId },
    );
    return page;
  };
  const seen = (page: Page) => page.evaluate(() => (window as unknown as { seen: number[] }).seen);
  const waitSeen = (page: Page, count: number) =>
    page.waitForFunction((n) => (window as unknown as { seen: number[] }).seen.length >= n, count, {
      timeout: UI_TIMEOUT,
    });

  beforeAll(async () => {
    cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {} });
    browser = await launchChromium();
    context = await browser.newContext();
    const created = await fetch(`${cloud.urls.http}/v1/visitors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: 'demo' }),
    });
    visitor = (await created.json()) as typeof visitor;
    chatId = (await api<{ chatId: string }>('/v1/chats', {})).chatId;
  });

  afterAll(async () => {
    await browser?.close();
    await cloud?.stop();
  });

  it('shares one socket between two tabs, and closing the leader tab loses nothing', async () => {
    // Prepare: two tabs of the visitor, one message before either opened.
    await post();
    const first = await openTab();
    const second = await openTab();

    // Act: messages while both tabs are open, then the leader tab closes and more come.
    await post();
    await post();
    await Promise.all([waitSeen(first, 3), waitSeen(second, 3)]);
    const socketsWhileBoth = [sockets.get(first), sockets.get(second)];
    await first.close();
    await post();
    await post();
    await waitSeen(second, 5);

    // Assess: one socket at a time (the first tab's, then the second's), every message once, in order.
    expect(socketsWhileBoth).toEqual([1, 0]);
    expect(sockets.get(second)).toBe(1);
    expect(await seen(second)).toEqual([1, 2, 3, 4, 5]);
    expect(
      await second.evaluate(() => (window as unknown as { client: { status: string } }).client.status),
    ).toBe('live');
  });
});
