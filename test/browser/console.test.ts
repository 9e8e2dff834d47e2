/**
 * The agent console (/console) in Debian Chromium against a local cloud started in this file: dev
 * sign-in, the live conversation list, messages both ways with typing and read receipts, edits and
 * deletes, Assign to me / Close chat / Reopen chat, keyboard shortcuts, axe-core and a screenshot. The
 * visitor side talks to the HTTP API directly (the widget's own tests drive the widget).
 */
import { mkdirSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { UI_TIMEOUT } from '../support/browser.ts';
import { png } from '../support/png.ts';
import { listItem, log, poll, unique, useConsoleCloud } from './console-fixtures.ts';

const setup = useConsoleCloud();
const { newVisitor, openChat, say, messagesOf, request, signIn } = setup;

const text = (locator: Locator) =>
  poll(async () => (await locator.textContent({ timeout: UI_TIMEOUT })) ?? '');
const focused = (locator: Locator) => poll(() => locator.evaluate((node) => node === document.activeElement));

const composer = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });

/** A visitor chat with a first message, shown and selected in the console. */
const selectNewChat = async (page: Page, subject: string, first = 'Hello from the visitor') => {
  const visitor = await newVisitor();
  const chat = await openChat(visitor, { subject });
  await say(visitor, chat.chatId, first);
  await listItem(page, subject).click();
  await log(page).getByText(first).waitFor({ timeout: UI_TIMEOUT });
  return { visitor, chat };
};

describe('agent console', { timeout: 90_000 }, () => {
  it('signs in with "Agent id" / "Sign in" and shows a new visitor chat without a reload', async () => {
    const page = await signIn('agent-list');
    await text(page.getByTestId('me')).toBe('agent-list');
    const subject = unique('Order question');
    const visitor = await newVisitor();
    await openChat(visitor, { subject });

    await listItem(page, subject).waitFor({ timeout: UI_TIMEOUT });
    const stats = page.getByTestId('stat-open');
    await expect
      .poll(async () => Number(await stats.textContent()), { timeout: UI_TIMEOUT })
      .toBeGreaterThan(0);
  });

  it('deployed (no dev tokens): signs in from a #token= fragment or a pasted agent token', async () => {
    const { token } = await request<{ token: string }>('POST', '/v1/dev/tokens', undefined, {
      tenantId: 'demo',
      userId: 'agent-idp',
      role: 'agent',
    });
    const context = await setup.newContext();
    // config.json as a deployment serves it: no development sign-in.
    await context.route('**/config.json', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...(await response.json()), devTokens: false } });
    });

    const fromFragment = await context.newPage();
    await fromFragment.goto(`${setup.cloud.urls.web}/console#token=${token}`);
    await fromFragment.locator('#connection[data-state="live"]').waitFor({ timeout: UI_TIMEOUT });
    await text(fromFragment.getByTestId('me')).toBe('agent-idp');
    expect(new URL(fromFragment.url()).hash).toBe(''); // the token leaves the address bar

    const pasted = await context.newPage(); // its own sessionStorage: signed out
    await pasted.goto(`${setup.cloud.urls.web}/console`);
    const tokenBox = pasted.getByRole('textbox', { name: 'Agent token' });
    await tokenBox.fill((await newVisitor()).token);
    expect(await pasted.getByRole('textbox', { name: 'Agent id' }).count()).toBe(0);
    await pasted.getByRole('button', { name: 'Sign in', exact: true }).click();
    await text(pasted.locator('#sign-in-error')).toContain('for agents');
    await tokenBox.fill(token);
    await pasted.getByRole('button', { name: 'Sign in', exact: true }).click();
    await pasted.locator('#connection[data-state="live"]').waitFor({ timeout: UI_TIMEOUT });
    await text(pasted.getByTestId('me')).toBe('agent-idp');
  });

  it('shows messages live both ways, with typing and read receipts on each side', async () => {
    const page = await signIn('agent-live');
    const { visitor, chat } = await selectNewChat(page, unique('Live chat'));

    // Visitor → agent, live.
    await say(visitor, chat.chatId, 'Second visitor message');
    await log(page).getByText('Second visitor message').waitFor({ timeout: UI_TIMEOUT });

    // The agent types: the visitor's poll sees it.
    await composer(page).pressSequentially('Hi, I am on it');
    await expect
      .poll(
        async () => {
          const { items } = await request<{
            items: { type: string; data: { userId?: string; isTyping?: boolean } }[];
          }>('GET', `/v1/chats/${chat.chatId}/events?after=100&waitSeconds=0`, visitor.token);
          return items.some((e) => e.type === 'typing' && e.data.userId === 'agent-live' && e.data.isTyping);
        },
        { timeout: UI_TIMEOUT },
      )
      .toBe(true);

    // Agent → visitor.
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await poll(() => composer(page).inputValue()).toBe('');
    await expect
      .poll(async () => (await messagesOf(visitor, chat.chatId)).map((m) => m.text), { timeout: UI_TIMEOUT })
      .toContain('Hi, I am on it');
    const mine = log(page).locator('[data-testid="message"]', { hasText: 'Hi, I am on it' });
    await text(mine.getByTestId('receipt')).toBe('Sent');

    // The visitor types, then reads the agent's message: both show in the console.
    await request('POST', `/v1/chats/${chat.chatId}/typing`, visitor.token, { isTyping: true });
    await text(page.getByTestId('typing')).toContain('is typing');
    const agentMessage = (await messagesOf(visitor, chat.chatId)).find((m) => m.text === 'Hi, I am on it');
    await request('POST', `/v1/chats/${chat.chatId}/read`, visitor.token, { seq: agentMessage?.seq });
    await text(mine.getByTestId('receipt')).toBe('Read');

    // The visitor's next message clears the typing line.
    await say(visitor, chat.chatId, 'Thanks!');
    await log(page).getByText('Thanks!').waitFor({ timeout: UI_TIMEOUT });
    await text(page.getByTestId('typing')).toBe('');
    const order = await log(page)
      .getByTestId('message')
      .evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.seq)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
  });

  it('edits and deletes the agent’s own messages', async () => {
    const page = await signIn('agent-edit');
    const { visitor, chat } = await selectNewChat(page, unique('Edit chat'));
    await composer(page).fill('Typo in thsi reply');
    await composer(page).press('Enter');
    const mine = log(page).locator('[data-testid="message"]', { hasText: 'Typo in thsi reply' });
    await mine.waitFor({ timeout: UI_TIMEOUT });

    await mine.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('textbox', { name: 'Edited text' });
    await edit.fill('Typo fixed in this reply');
    await page.getByRole('button', { name: 'Save' }).click();
    const edited = log(page).locator('[data-testid="message"]', { hasText: 'Typo fixed in this reply' });
    await text(edited.locator('.msg-edited')).toBe('edited');
    await expect
      .poll(async () => (await messagesOf(visitor, chat.chatId)).map((m) => m.text), { timeout: UI_TIMEOUT })
      .toContain('Typo fixed in this reply');

    await edited.getByRole('button', { name: 'Delete' }).click();
    await edited.getByRole('button', { name: 'Confirm delete' }).click();
    await poll(() =>
      log(page).locator('[data-testid="message"]', { hasText: 'This message was deleted' }).count(),
    ).toBe(1);
    await expect
      .poll(async () => (await messagesOf(visitor, chat.chatId)).map((m) => m.text), { timeout: UI_TIMEOUT })
      .not.toContain('Typo fixed in this reply');
  });

  it('reflects Assign to me, Close chat and Reopen chat', async () => {
    const page = await signIn('agent-assign');
    const subject = unique('Assign chat');
    const { visitor, chat } = await selectNewChat(page, subject);
    const meta = page.getByTestId('conversation-meta');

    await page.getByRole('button', { name: 'Assign to me', exact: true }).click();
    await text(meta).toContain('Assigned to you');
    await text(listItem(page, subject)).toContain('Mine');
    // The "joined" system message arrives live and looks different.
    await text(log(page).locator('.msg-system')).toContain('agent-assign');
    await poll(() => page.getByRole('button', { name: 'Assign to me', exact: true }).isDisabled()).toBe(true);
    await text(page.getByTestId('participants')).toContain('agent-assign');

    await page.getByRole('button', { name: 'Close chat', exact: true }).click();
    await text(meta).toContain('Closed');
    // The list shows open chats: the closed one leaves it, live.
    await poll(() => listItem(page, subject).count()).toBe(0);
    await poll(() => composer(page).isDisabled()).toBe(true);
    await text(page.getByTestId('audit')).toContain('chat.close');
    await expect(say(visitor, chat.chatId, 'still there?')).rejects.toThrow(/409/);

    await page.getByRole('button', { name: 'Reopen chat', exact: true }).click();
    await text(meta).toContain('Open');
    await poll(() => listItem(page, subject).count()).toBe(1);
    await poll(() => composer(page).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Close chat', exact: true }).waitFor({ state: 'visible' });
  });

  it('assigns to another agent and blocks / unblocks the customer', async () => {
    const page = await signIn('agent-block');
    const { visitor, chat } = await selectNewChat(page, unique('Block chat'));
    await page.getByRole('textbox', { name: 'Assign to agent' }).fill('agent-other');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await text(page.getByTestId('conversation-meta')).toContain('Assigned to agent-other');

    // Blocking takes effect in chats the blocker takes part in: the agent joins first.
    await page.getByRole('button', { name: 'Assign to me', exact: true }).click();
    await text(page.getByTestId('participants')).toContain('agent-block');
    await page.getByRole('button', { name: 'Block customer' }).click();
    await poll(() => page.getByTestId('block-toggle').getAttribute('aria-pressed')).toBe('true');
    await expect(say(visitor, chat.chatId, 'blocked?')).rejects.toThrow(/403/);
    await page.getByRole('button', { name: 'Unblock customer' }).click();
    await poll(() => page.getByTestId('block-toggle').getAttribute('aria-pressed')).toBe('false');
    await say(visitor, chat.chatId, 'unblocked again');
    await log(page).getByText('unblocked again').waitFor({ timeout: UI_TIMEOUT });
  });

  it('sends an image attachment shown with a preview and a download link', async () => {
    const page = await signIn('agent-files');
    const { visitor, chat } = await selectNewChat(page, unique('File chat'));
    await page.getByLabel('Attach file').setInputFiles({
      name: 'pixel.png',
      mimeType: 'image/png',
      buffer: png(4, 3),
    });
    const image = log(page).getByRole('img', { name: 'pixel.png' });
    await image.waitFor({ timeout: UI_TIMEOUT });
    // Loaded under the page's CSP (the download URL is on the web origin).
    await poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(4);
    const link = log(page).getByTestId('attachment-link');
    expect(await link.getAttribute('href')).toMatch(/^https?:\/\//);
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.textContent()).toContain('pixel.png');
    const items = (
      await request<{ items: { type: string; attachment?: { fileName: string } }[] }>(
        'GET',
        `/v1/chats/${chat.chatId}/messages?after=0`,
        visitor.token,
      )
    ).items;
    expect(items.some((m) => m.type === 'file' && m.attachment?.fileName === 'pixel.png')).toBe(true);
  });

  it('moves between conversations and to the composer with keyboard shortcuts', async () => {
    const page = await signIn('agent-keys');
    const visitor = await newVisitor();
    const older = unique('Keys older');
    const newer = unique('Keys newer');
    await openChat(visitor, { subject: older });
    await openChat(visitor, { subject: newer });
    await listItem(page, older).waitFor({ timeout: UI_TIMEOUT });
    await listItem(page, newer).waitFor({ timeout: UI_TIMEOUT });
    const items = page.getByTestId('chat-item');
    const titles = await items.allTextContents();
    const at = (text: string) => titles.findIndex((t) => t.includes(text));
    expect(at(newer)).toBeLessThan(at(older)); // newest activity first

    await page.locator('body').press('Alt+ArrowDown');
    await poll(() => items.first().getAttribute('aria-current')).toBe('true');
    await focused(items.first()).toBe(true);
    await page.keyboard.press('Alt+ArrowDown');
    await poll(() => items.nth(1).getAttribute('aria-current')).toBe('true');
    await page.keyboard.press('Alt+ArrowUp');
    await poll(() => items.first().getAttribute('aria-current')).toBe('true');

    await page.keyboard.press('/');
    await focused(composer(page)).toBe(true);
    await page.keyboard.press('Escape');
    await focused(items.first()).toBe(true);
    await page.keyboard.press('Alt+m');
    await focused(composer(page)).toBe(true);
    await page.getByText('Keyboard shortcuts').waitFor({ state: 'visible' });
  });

  it('has no serious or critical axe-core violations, and saves a screenshot', async () => {
    const context = await setup.newContext({ viewport: { width: 1400, height: 900 } });
    const signInPage = await context.newPage();
    await signInPage.goto(`${setup.cloud.urls.web}/console`);
    await signInPage.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    const serious = (results: Awaited<ReturnType<AxeBuilder['analyze']>>) =>
      results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(serious(await new AxeBuilder({ page: signInPage }).analyze())).toEqual([]);

    const page = await signIn('agent-axe');
    const { visitor, chat } = await selectNewChat(
      page,
      unique('Accessible chat'),
      'Can you see the map at https://example.com/map?',
    );
    await page.getByRole('button', { name: 'Assign to me', exact: true }).click();
    await composer(page).fill('Yes, on my way');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await say(visitor, chat.chatId, 'Great');
    await log(page).getByText('Great').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('audit-entry').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    expect(serious(await new AxeBuilder({ page }).analyze())).toEqual([]);

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/console.png', fullPage: true });
  });
});
