/**
 * The web apps in a real browser against a local cloud started in this process on free ports: a visitor
 * in the widget demo and an agent in the console talk to each other live. Needs Chromium
 * (CHROMIUM_PATH, default /usr/bin/chromium); without it these tests fail, they are never skipped.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/**
 * Waits for the UI are generous: the full suite runs several local clouds (each with a JVM) on two
 * cores. Speed is the benchmark's business (npm run bench), not this test's.
 */
const UI_TIMEOUT = 30_000;

/** The texts of the message list, in display order. */
const messageTexts = (page: Page): Promise<string[]> =>
  page.locator('[data-testid="messages"] [data-testid="message-text"]').allTextContents();
const messageSeqs = async (page: Page): Promise<number[]> =>
  (await page
    .locator('[data-testid="messages"] [data-testid="message"]')
    .evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.seq)))) as number[];
const waitForText = (page: Page, text: string) =>
  page
    .locator('[data-testid="messages"] [data-testid="message-text"]', { hasText: text })
    .first()
    .waitFor({ timeout: UI_TIMEOUT });
const waitOnline = (page: Page) =>
  page.locator('[data-testid="status"][data-state="open"]').waitFor({ timeout: UI_TIMEOUT });

describe('widget demo and agent console in a browser', { timeout: 120_000 }, () => {
  let cloud: LocalCloud;
  let browser: Browser;
  let visitorContext: BrowserContext;
  let agentContext: BrowserContext;
  let widget: Page;
  let agentConsole: Page;
  let chatId: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
      );
    }
    // No greeting / away texts: the message lists below start with the visitor's first message.
    cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {} });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    visitorContext = await browser.newContext();
    agentContext = await browser.newContext();
  });

  afterAll(async () => {
    await browser?.close();
    await cloud?.stop();
  });

  it('delivers a visitor message to the agent console and the agent reply to the widget live', async () => {
    // Prepare: a visitor on the widget page, an agent signed in to the console.
    widget = await visitorContext.newPage();
    await widget.goto(`${cloud.urls.web}/`);
    await waitOnline(widget);
    chatId = (await widget.getByTestId('widget').getAttribute('data-chat-id')) ?? '';
    expect(chatId).toMatch(/^ch_[a-z0-9]{20}$/);

    // Act: the visitor writes.
    await widget.getByLabel('Message', { exact: true }).fill('Hello, is anyone there?');
    await widget.getByRole('button', { name: 'Send' }).click();

    // Assess: the widget shows it; the agent finds the chat in the console and sees it.
    await waitForText(widget, 'Hello, is anyone there?');
    agentConsole = await agentContext.newPage();
    await agentConsole.goto(`${cloud.urls.web}/console`);
    await agentConsole.getByLabel('Agent user id').fill('agent-ann');
    await agentConsole.getByRole('button', { name: 'Sign in' }).click();
    await waitOnline(agentConsole);
    expect(await agentConsole.getByTestId('sign-in-form').isVisible()).toBe(false);
    await agentConsole
      .locator(`[data-testid="chat-item"][data-chat-id="${chatId}"]`)
      .click({ timeout: UI_TIMEOUT });
    await waitForText(agentConsole, 'Hello, is anyone there?');

    // Act: the agent replies.
    await agentConsole.getByLabel('Reply', { exact: true }).fill('Hi! Ann here, how can I help?');
    await agentConsole.getByRole('button', { name: 'Send' }).click();

    // Assess: the reply appears in the widget without a reload, after the visitor's message.
    await waitForText(widget, 'Hi! Ann here, how can I help?');
    expect(await messageTexts(widget)).toEqual(['Hello, is anyone there?', 'Hi! Ann here, how can I help?']);
    expect(await widget.locator('[data-testid="message"]').last().getAttribute('data-sender-role')).toBe(
      'agent',
    );
    expect(await messageTexts(agentConsole)).toEqual([
      'Hello, is anyone there?',
      'Hi! Ann here, how can I help?',
    ]);
  });

  it('keeps the chat and shows its history when the widget page is reloaded', async () => {
    // Prepare: the conversation of the previous test.
    expect(chatId).toBeTruthy();

    // Act
    await widget.reload();
    await waitOnline(widget);

    // Assess: same chat, the whole history in order, each message once.
    expect(await widget.getByTestId('widget').getAttribute('data-chat-id')).toBe(chatId);
    await waitForText(widget, 'Hi! Ann here, how can I help?');
    expect(await messageTexts(widget)).toEqual(['Hello, is anyone there?', 'Hi! Ann here, how can I help?']);
    expect(await messageSeqs(widget)).toEqual([1, 2]);
  });

  it('shows the messages sent while the widget was disconnected once it is back, in order and once each', async () => {
    // Prepare: the widget loses its socket (dropped by the server) and cannot reconnect while offline.
    const connectionId = await widget.getByTestId('widget').getAttribute('data-connection-id');
    expect(connectionId).toBeTruthy();
    const catchUps: string[] = [];
    widget.on('request', (request) => {
      if (request.url().includes('/messages?after=')) catchUps.push(new URL(request.url()).search);
    });
    await visitorContext.setOffline(true);
    const management = `${cloud.urls.ws.replace(/^ws/, 'http')}/@connections/${encodeURIComponent(connectionId ?? '')}`;
    expect((await fetch(management, { method: 'DELETE' })).status).toBe(204);
    await widget.locator('[data-testid="status"]:not([data-state="open"])').waitFor({ timeout: UI_TIMEOUT });

    // Act: the agent sends three messages meanwhile, then the visitor's network comes back.
    for (const text of ['First while away', 'Second while away', 'Third while away']) {
      await agentConsole.getByLabel('Reply', { exact: true }).fill(text);
      await agentConsole.getByRole('button', { name: 'Send' }).click();
      await waitForText(agentConsole, text);
    }
    expect(await messageTexts(widget)).not.toContain('First while away');
    await visitorContext.setOffline(false);

    // Assess: after reconnecting with a new ticket, the widget fetched exactly what it missed.
    await waitOnline(widget);
    await waitForText(widget, 'Third while away');
    expect(await messageTexts(widget)).toEqual([
      'Hello, is anyone there?',
      'Hi! Ann here, how can I help?',
      'First while away',
      'Second while away',
      'Third while away',
    ]);
    expect(await messageSeqs(widget)).toEqual([1, 2, 3, 4, 5]);
    expect(catchUps).toContain('?after=2&limit=100');
    await widget
      .locator(`[data-testid="widget"]:not([data-connection-id="${connectionId}"])`)
      .waitFor({ timeout: UI_TIMEOUT }); // a new connection said connection.ready
  });
});
