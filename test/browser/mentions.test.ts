/**
 * Mentions in Chromium, between the widget (a visitor on the demo page) and the agent console, against
 * one local cloud started by this file: the agent types `@` in the composer, picks the visitor from the
 * participant completion with the keyboard and sends; the widget shows the message with the `@userId`
 * marked (from the message's `mentions` list) and "mentions you", counted unread once. An `@someone`
 * typed without picking (or a pick whose `@userId` was erased) is plain text and no mention. A mention
 * of the agent in a chat other than the open one (muted) marks it "Mentioned" in the list and notifies.
 * Both pages pass axe-core with the completion and the marks shown.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../shared/domain/schemas.ts';
import { UI_TIMEOUT } from '../support/browser.ts';
import { api } from '../support/clients.ts';
import { listItem, poll, unique } from './console-fixtures.ts';
import { consoleMessage, openVisitor, serious, signInConsole, widgetItem } from './conversation-fixtures.ts';
import { useLocalCloud } from './local-cloud.ts';
import { agentOf, storedSession, waitForItem, widgetOf } from './widget-fixtures.ts';

const local = useLocalCloud();

/**
 * A new visitor on the demo page (the widget), who has written `text`; its unread counts and the
 * `mention` envelopes its sockets receive are recorded.
 */
const visitorSaying = async (text: string) => {
  const page = await (await local.newContext()).newPage();
  const mentionFrames: string[] = [];
  page.on('websocket', (socket) =>
    socket.on('framereceived', ({ payload }) => {
      if (String(payload).includes('"type":"mention"')) mentionFrames.push(String(payload));
    }),
  );
  const chatId = await openVisitor(page, local.cloud.urls.web, text);
  const session = await storedSession(page, local.cloud.urls.http);
  if (!session) throw new Error('no visitor session stored');
  await page.evaluate(() => {
    const w = window as unknown as { unreadSeen: number[]; ChatWidget: (...args: unknown[]) => void };
    w.unreadSeen = [];
    w.ChatWidget('on', 'unread', (n: number) => w.unreadSeen.push(n));
  });
  return { page, chatId, visitorId: session.visitorId, token: session.token, mentionFrames };
};

/** Browser notifications the console showed (a stand-in for the browser's, permission granted). */
interface Shown {
  title: string;
  body?: string;
  tag?: string;
}

/** The console signed in as `agentId`, live, notifications recorded; with the chat of `text` open. */
const agentOn = async (
  agentId: string,
  text?: string,
  options: BrowserContextOptions = {},
): Promise<Page> => {
  const context = await local.newContext({ viewport: { width: 1400, height: 900 }, ...options });
  await context.addInitScript(() => {
    const shown: { title: string }[] = [];
    class RecordedNotification {
      static permission = 'granted';
      static requestPermission = () => Promise.resolve('granted');
      onclick: (() => void) | null = null;
      constructor(title: string, options: object = {}) {
        shown.push({ title, ...options });
      }
      close() {}
    }
    Object.assign(window, { shownNotifications: shown });
    Object.defineProperty(window, 'Notification', { value: RecordedNotification, configurable: true });
  });
  const page = await context.newPage();
  await signInConsole(page, local.cloud.urls.web, agentId, text);
  return page;
};

const shownNotifications = (page: Page): Promise<Shown[]> =>
  page.evaluate(() => (window as unknown as { shownNotifications: Shown[] }).shownNotifications);

const composerOf = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });
const completionOf = (page: Page) => page.getByRole('listbox', { name: 'Mention a participant' });

/** The participants of the open chat have loaded (the completion lists them). */
const participantsShown = (page: Page, userId: string) =>
  page.getByTestId('participant').filter({ hasText: userId }).waitFor({ timeout: UI_TIMEOUT });

/** The message as the API stores it (read with the visitor's token). */
const stored = async (visitor: { chatId: string; token: string }, text: string) => {
  const { items } = await api(local.cloud.urls.http).ok<{ items: Message[] }>(
    'GET',
    `/v1/chats/${visitor.chatId}/messages?after=0&limit=100`,
    visitor.token,
  );
  return items.find((m) => m.text === text);
};

describe('mentions between the console and the widget', { timeout: 120_000 }, () => {
  it('lets the agent pick the visitor with the keyboard after @, and the widget marks the message as mentioning the visitor', async () => {
    // Prepare: a visitor's question, open in the console; the visitor's panel closed (unread counts).
    const question = unique('Did my parcel leave?');
    const visitor = await visitorSaying(question);
    const agent = await agentOn('agent-mentions', question);
    await participantsShown(agent, visitor.visitorId);
    await widgetOf(visitor.page).launcher.click();
    expect(await widgetOf(visitor.page).launcher.getAttribute('aria-expanded')).toBe('false');
    const composer = composerOf(agent);
    const completion = completionOf(agent);

    // Act: the agent types "@" and the start of the visitor's id.
    await composer.click();
    await agent.keyboard.type('Yes @');
    await completion.waitFor({ timeout: UI_TIMEOUT });
    await agent.keyboard.type(visitor.visitorId.slice(0, 4));

    // Assess: a listbox of the chat's participants (the visitor), its active option the textbox's
    // aria-activedescendant.
    const option = completion.getByRole('option').filter({ hasText: visitor.visitorId });
    await poll(() => completion.getByRole('option').count()).toBe(1);
    expect(await option.getAttribute('aria-selected')).toBe('true');
    expect(await composer.getAttribute('aria-activedescendant')).toBe(await option.getAttribute('id'));
    expect(await composer.getAttribute('aria-controls')).toBe(await completion.getAttribute('id'));

    // Act: ArrowDown (one option: it stays active), Enter picks it; the text goes on and Enter sends.
    await agent.keyboard.press('ArrowDown');
    expect(await option.getAttribute('aria-selected')).toBe('true');
    await agent.keyboard.press('Enter');
    expect(await composer.inputValue()).toBe(`Yes @${visitor.visitorId} `);
    expect(await completion.isHidden()).toBe(true);
    expect(await composer.getAttribute('aria-activedescendant')).toBeNull();
    const text = `Yes @${visitor.visitorId} it left this morning.`;
    await agent.keyboard.type('it left this morning.');
    await agent.keyboard.press('Enter');

    // Assess: stored with the visitor in `mentions`; the visitor's badge counts it once (its message and
    // its mention are one unread message).
    await consoleMessage(agent, 'it left this morning.').waitFor({ timeout: UI_TIMEOUT });
    await poll(async () => (await stored(visitor, text))?.mentions).toEqual([visitor.visitorId]);
    const badge = visitor.page.locator('chat-widget .bd');
    await poll(async () => (await badge.isVisible()) && (await badge.textContent())).toBe('1');
    // (The log is hidden while the panel is closed: found by its class, not its role.)
    await visitor.page
      .locator('chat-widget .t', { hasText: 'it left this morning.' })
      .waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    await poll(() => Promise.resolve(visitor.mentionFrames.length)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500)); // whichever of the two came second
    expect(await badge.textContent()).toBe('1');
    const unreadSeen = await visitor.page.evaluate(
      () => (window as unknown as { unreadSeen: number[] }).unreadSeen,
    );
    expect(Math.max(...unreadSeen)).toBe(1);

    // Assess: the widget shows the text as sent, the visitor's @id marked, and "mentions you".
    await widgetOf(visitor.page).launcher.click();
    const answer = widgetItem(visitor.page, 'it left this morning.');
    await answer.waitFor({ timeout: UI_TIMEOUT });
    expect(await answer.locator('.t').textContent()).toBe(text);
    expect(await answer.locator('.t b').allTextContents()).toEqual([`@${visitor.visitorId}`]);
    expect(await answer.getAttribute('class')).toContain('mn');
    await answer.getByText('mentions you').waitFor({ timeout: UI_TIMEOUT });
    expect(await widgetItem(visitor.page, question).getByText('mentions you').count()).toBe(0);
    // The console marks the mention too (not the agent's: no "mentions you" there).
    const sent = consoleMessage(agent, 'it left this morning.');
    expect(await sent.getByTestId('mention').getAttribute('data-user-id')).toBe(visitor.visitorId);
    expect(await sent.getByTestId('mention').textContent()).toBe(`@${visitor.visitorId}`);
    expect(await sent.getByTestId('mentions-you').count()).toBe(0);

    // Both pages pass axe-core, the console's completion open; Escape closes it and keeps the focus.
    await composer.click();
    await agent.keyboard.type('@');
    await completion.waitFor({ timeout: UI_TIMEOUT });
    expect(await serious(visitor.page, 'chat-widget')).toEqual([]);
    expect(await serious(agent)).toEqual([]);
    mkdirSync('test-results', { recursive: true });
    await visitor.page.screenshot({ path: 'test-results/mentions-widget.png' });
    await agent.screenshot({ path: 'test-results/mentions-console.png' });
    await agent.keyboard.press('Escape');
    expect(await completion.isHidden()).toBe(true);
    expect(await agent.evaluate(() => document.activeElement?.id)).toBe('composer-input');
  });

  it('sends an @name typed without picking, or a pick erased before sending, as plain text that mentions nobody', async () => {
    // Prepare
    const question = unique('Who handles refunds?');
    const visitor = await visitorSaying(question);
    const agent = await agentOn('agent-plain', question);
    await participantsShown(agent, visitor.visitorId);
    const composer = composerOf(agent);
    const completion = completionOf(agent);

    // Act: a pick (Tab) whose @id is then replaced by other text; then an "@someone" typed through
    // (the completion filters itself away) and sent with Enter.
    await composer.click();
    await agent.keyboard.type('@');
    await completion.waitFor({ timeout: UI_TIMEOUT });
    await agent.keyboard.press('Tab');
    expect(await composer.inputValue()).toBe(`@${visitor.visitorId} `);
    await composer.fill('Ask @someone about it');
    await agent.keyboard.press('Enter');
    await agent.keyboard.type('Or @someone else');
    expect(await completion.isHidden()).toBe(true);
    await agent.keyboard.press('Enter');

    // Assess: both stored without mentions, shown as plain text on both sides, no mark.
    for (const text of ['Ask @someone about it', 'Or @someone else']) {
      await waitForItem(visitor.page, text);
      const item = widgetItem(visitor.page, text);
      expect(await item.locator('.t').textContent()).toBe(text);
      expect(await item.locator('.t b').count()).toBe(0);
      expect(await item.getAttribute('class')).not.toContain('mn');
      expect(await item.getByText('mentions you').count()).toBe(0);
      const sent = consoleMessage(agent, text);
      await sent.waitFor({ timeout: UI_TIMEOUT });
      expect(await sent.getByTestId('mention').count()).toBe(0);
      const message = await stored(visitor, text);
      expect(message?.text).toBe(text);
      expect(message?.mentions ?? []).toEqual([]);
    }
  });

  it('marks a muted chat other than the open one "Mentioned" in the list and notifies, until the agent opens it', async () => {
    // Prepare: the console with one chat open; another visitor's chat, assigned to the agent (who
    // takes part in it) and muted by the agent.
    const agentId = 'agent-mentioned';
    const opened = unique('Open chat here');
    await visitorSaying(opened);
    const agent = await agentOn(agentId, opened);
    const http = api(local.cloud.urls.http);
    const other = await http.ok<{ visitorId: string; token: string }>('POST', '/v1/visitors', undefined, {
      tenantId: 'demo',
      name: 'Bea Buyer',
    });
    const subject = unique('Invoice question');
    const chatId = await http.createChat(other.token, { subject });
    const staff = await agentOf(local.cloud.urls.http, agentId);
    await staff.assign(chatId);
    await staff.api('PATCH', `/v1/chats/${chatId}/preferences`, { muted: true });
    await listItem(agent, subject).waitFor({ timeout: UI_TIMEOUT });

    // Act: the other visitor mentions the agent.
    const text = `@${agentId} is the invoice ready?`;
    await http.ok('POST', `/v1/chats/${chatId}/messages`, other.token, {
      clientMessageId: randomUUID(),
      type: 'text',
      text,
      mentions: [agentId],
    });

    // Assess: that chat is marked (its entry's name says so), the open one is not; one notification.
    await listItem(agent, subject)
      .getByRole('img', { name: 'Mentioned', exact: true })
      .waitFor({ timeout: UI_TIMEOUT });
    expect(await listItem(agent, opened).getByRole('img', { name: 'Mentioned' }).count()).toBe(0);
    await poll(() => shownNotifications(agent)).toEqual([
      expect.objectContaining({ title: expect.stringContaining('mentioned you') as string }),
    ]);
    const [shown] = await shownNotifications(agent);
    expect(shown?.body).toBe(text);
    expect(shown?.tag).toMatch(/^chat-console:mention:/);
    expect(await serious(agent)).toEqual([]);

    // Act: the agent opens that chat.
    await listItem(agent, subject).click();

    // Assess: the message says "mentions you", the agent's @id marked; seen, the mark goes.
    const mentioned = consoleMessage(agent, 'is the invoice ready?');
    await mentioned.getByTestId('mentions-you').waitFor({ timeout: UI_TIMEOUT });
    expect(await mentioned.getByTestId('mention').textContent()).toBe(`@${agentId}`);
    expect(await mentioned.getByTestId('message-text').textContent()).toBe(text);
    await poll(() => listItem(agent, subject).getByRole('img', { name: 'Mentioned' }).count()).toBe(0);
  });
});
