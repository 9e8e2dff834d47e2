/**
 * The visitor's session in the widget, against a local cloud whose visitor tokens live two seconds (no
 * clock tolerance): an expired token is renewed for the same visitor and chat; the host's commands
 * (toggle, off, reset) behave, also when the old visitor's requests answer after `reset`. One local
 * cloud and one browser for the file.
 */
import type { Page, Request } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { UI_TIMEOUT } from '../support/browser.ts';
import {
  chatIdOf,
  say,
  storedSession,
  texts,
  useWidgetCloud,
  waitForItem,
  waitForStatus,
  widgetOf,
} from './widget-fixtures.ts';

type Host = { ChatWidget: (...args: unknown[]) => void; seen: unknown[] };

const command = (page: Page, ...args: unknown[]) =>
  page.evaluate((args) => (window as unknown as Host).ChatWidget(...args), args);

/**
 * A gate for the page's POST requests to `path` (create it before they start): once `close()`d, they
 * wait until `release()`. `held` resolves when one waits; `unheld()` counts the ones in flight that
 * passed before the gate closed, `unanswered()` the held ones the page has no answer to yet.
 */
const gateOf = (page: Page, path: string) => {
  const matches = (request: Request) =>
    request.method() === 'POST' && new URL(request.url()).pathname === path;
  const inFlight = new Set<Request>();
  const waiting = new Set<Request>();
  page.on('request', (request) => matches(request) && inFlight.add(request));
  page.on('requestfinished', (request) => inFlight.delete(request));
  page.on('requestfailed', (request) => inFlight.delete(request));
  let reached!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const open = new Promise<void>((resolve) => (release = resolve));
  return {
    held,
    release,
    close: () =>
      page.route(`**${path}`, async (route) => {
        if (!matches(route.request())) return route.continue();
        waiting.add(route.request());
        reached();
        await open;
        await route.continue();
      }),
    unheld: () => [...inFlight].filter((request) => !waiting.has(request)).length,
    unanswered: () => [...waiting].filter((request) => inFlight.has(request)).length,
  };
};

describe('widget session', { timeout: 90_000 }, () => {
  const setup = useWidgetCloud({
    env: { VISITOR_TOKEN_TTL_SECONDS: '2', AUTH_CLOCK_TOLERANCE_SECONDS: '0' },
  });

  it('renews an expired visitor token for the same visitor and chat', async () => {
    // Prepare: a conversation; then the visitor's token expires (the API refuses it).
    const page = await setup.visitorPage();
    await say(page, 'Before expiry');
    await waitForItem(page, 'Before expiry');
    const chatId = await chatIdOf(page);
    const before = await storedSession(page, setup.cloud.urls.http);
    expect(before?.refreshToken).toBeTruthy();
    const refused = async () =>
      (
        await fetch(`${setup.cloud.urls.http}/v1/chats/${chatId}`, {
          headers: { authorization: `Bearer ${before?.token}` },
        })
      ).status;
    await expect.poll(refused, { timeout: UI_TIMEOUT }).toBe(401);

    // Act: the visitor comes back (reload: every call starts with the expired token) and writes.
    await page.reload();
    await widgetOf(page).launcher.click();
    await waitForItem(page, 'Before expiry');
    await waitForStatus(page, 'Live');
    await say(page, 'After expiry');
    await waitForItem(page, 'After expiry');
    await setup.agent.send(chatId, 'Still the same chat');

    // Assess: same visitor, same chat, a new token; everything in that chat, once.
    await waitForItem(page, 'Still the same chat');
    const after = await storedSession(page, setup.cloud.urls.http);
    expect(after?.visitorId).toBe(before?.visitorId);
    expect(after?.chatId).toBe(chatId);
    expect(after?.token).not.toBe(before?.token);
    const all = ['Before expiry', 'After expiry', 'Still the same chat'];
    await expect.poll(async () => (await setup.agent.messages(chatId)).map((m) => m.text)).toEqual(all);
    await expect.poll(() => texts(page)).toEqual(all);
  });

  it('follows the host commands toggle, off and reset', async () => {
    // Prepare: a host listener for open/close/message.
    const page = await setup.visitorPage();
    const w = widgetOf(page);
    await page.evaluate(() => {
      const host = window as unknown as Host & { onMessage: (m: unknown) => void };
      host.seen = [];
      host.onMessage = (m) => host.seen.push(m);
      host.ChatWidget('on', 'open', () => host.seen.push('open'));
      host.ChatWidget('on', 'close', () => host.seen.push('close'));
      host.ChatWidget('on', 'message', host.onMessage);
      host.ChatWidget('toggle');
    });
    expect(await w.launcher.getAttribute('aria-expanded')).toBe('true');
    await say(page, 'First visitor');
    await waitForItem(page, 'First visitor');
    const first = await storedSession(page, setup.cloud.urls.http);

    // Act: the host stops listening to messages, closes the panel and signs the visitor out.
    await page.evaluate(() => {
      const host = window as unknown as Host & { onMessage: (m: unknown) => void };
      host.ChatWidget('off', 'message', host.onMessage);
      host.ChatWidget('toggle');
      host.ChatWidget('reset');
    });

    // Assess: closed, empty, nothing stored; the next message is a new visitor's new chat.
    expect(await w.launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await storedSession(page, setup.cloud.urls.http)).toBeUndefined();
    await say(page, 'Second visitor');
    await waitForItem(page, 'Second visitor');
    expect(await texts(page)).toEqual(['Second visitor']);
    const second = await storedSession(page, setup.cloud.urls.http);
    expect(second?.visitorId).not.toBe(first?.visitorId);
    expect(second?.chatId).not.toBe(first?.chatId);
    const seen = await page.evaluate(() =>
      (window as unknown as Host).seen.map((e) => (typeof e === 'string' ? e : (e as { text: string }).text)),
    );
    expect(seen).toEqual(['open', 'First visitor', 'close', 'open']);
  });

  it("stays reset when the old visitor's token renewal answers after reset", async () => {
    // Prepare: a conversation; from then on renewals (POST /v1/visitors/refresh) wait at the gate. Once
    // any renewal that passed before has answered, the stored token only expires: the next call renews.
    const page = await setup.visitorPage();
    const renewals = gateOf(page, '/v1/visitors/refresh');
    await say(page, 'Before reset');
    await waitForItem(page, 'Before reset');
    const first = await storedSession(page, setup.cloud.urls.http);
    await renewals.close();
    await expect.poll(renewals.unheld, { timeout: UI_TIMEOUT }).toBe(0);
    const status = async () => {
      const stored = await storedSession(page, setup.cloud.urls.http);
      const headers = { authorization: `Bearer ${stored?.token}` };
      return (await fetch(`${setup.cloud.urls.http}/v1/chats/${first?.chatId}`, { headers })).status;
    };
    await expect.poll(status, { timeout: UI_TIMEOUT }).toBe(401);
    await command(page, 'identify', { name: 'Old visitor' }); // a PATCH with the expired token: renewal
    await renewals.held;

    // Act: the host signs the visitor out; then the old visitor's renewal answers; then a new message.
    await command(page, 'reset');
    renewals.release();
    await expect.poll(renewals.unanswered, { timeout: UI_TIMEOUT }).toBe(0);
    await say(page, 'After reset');
    await waitForItem(page, 'After reset');

    // Assess: the renewal restored nothing: a new visitor's new chat, holding only the new message.
    expect(await texts(page)).toEqual(['After reset']);
    const second = await storedSession(page, setup.cloud.urls.http);
    expect(second?.visitorId).not.toBe(first?.visitorId);
    expect(second?.chatId).not.toBe(first?.chatId);
    expect((await setup.agent.messages(second?.chatId ?? '')).map((m) => m.text)).toEqual(['After reset']);
  });

  it('drops a first message whose visitor is still being created when reset comes', async () => {
    // Prepare: the visitor's first message; creating the visitor (POST /v1/visitors) is held.
    const page = await setup.visitorPage();
    const creations = gateOf(page, '/v1/visitors');
    await creations.close();
    await say(page, 'Typed before reset');
    await creations.held;

    // Act: reset while the old visitor is being created; it is created after; then a new message.
    await command(page, 'reset');
    creations.release();
    await expect.poll(creations.unanswered, { timeout: UI_TIMEOUT }).toBe(0);
    await say(page, 'Typed after reset');
    await waitForItem(page, 'Typed after reset');

    // Assess: the old creation attached nothing and sent nothing; the new message is alone in its chat.
    expect(await texts(page)).toEqual(['Typed after reset']);
    expect(await widgetOf(page).input.inputValue()).toBe('');
    const chatId = await chatIdOf(page);
    expect((await setup.agent.messages(chatId)).map((m) => m.text)).toEqual(['Typed after reset']);
  });

  it("follows another tab's reset, and the next message there is a new visitor's", async () => {
    // Prepare: two tabs of one visitor, both showing the conversation.
    const context = await setup.newContext();
    const [a, b] = [await context.newPage(), await context.newPage()];
    for (const page of [a, b]) await page.goto(`${setup.cloud.urls.web}/`);
    await say(a, 'Before the other tab resets');
    await widgetOf(b).launcher.click();
    await waitForItem(b, 'Before the other tab resets');
    const first = await storedSession(b, setup.cloud.urls.http);

    // Act: tab A signs the visitor out; then the visitor writes in tab B.
    await command(a, 'reset');
    await expect.poll(() => texts(b), { timeout: UI_TIMEOUT }).toEqual([]);
    await say(b, 'After the other tab reset');
    await waitForItem(b, 'After the other tab reset');

    // Assess: tab B forgot the old visitor too; its message started a new visitor's chat.
    expect(await texts(b)).toEqual(['After the other tab reset']);
    const second = await storedSession(b, setup.cloud.urls.http);
    expect(second?.visitorId).not.toBe(first?.visitorId);
    expect(second?.chatId).not.toBe(first?.chatId);
  });
});
