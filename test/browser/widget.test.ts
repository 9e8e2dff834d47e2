/**
 * The embeddable widget in Chromium, on the demo host page of a local cloud started by this file, with an
 * agent on the other side through the HTTP API. Each test uses its own browser context (its own
 * visitor), so they do not depend on each other's order.
 */
import { mkdirSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { describe, expect, it } from 'vitest';
import { UI_TIMEOUT } from '../support/browser.ts';
import { png } from '../support/png.ts';
import {
  chatIdOf,
  item,
  say,
  seqs,
  storedSession,
  texts,
  useWidgetCloud,
  waitForItem,
  waitForStatus,
  widgetOf,
} from './widget-fixtures.ts';

describe('widget', { timeout: 90_000 }, () => {
  const setup = useWidgetCloud();

  it('talks live both ways between a visitor and an agent', async () => {
    // Prepare: a visitor on the demo page (its console errors: a CSP violation or an exception would
    // show here); nothing is created before the first message.
    const errors: string[] = [];
    const page = await setup.visitorPage(errors);
    const w = widgetOf(page);
    await expect.poll(() => w.launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await storedSession(page, setup.cloud.urls.http)).toBeUndefined();

    // Act: the visitor writes.
    await say(page, 'Hello, is anyone there?');

    // Assess: the chat exists, the agent sees the message; the widget goes live.
    await waitForItem(page, 'Hello, is anyone there?');
    const chatId = await chatIdOf(page);
    await waitForStatus(page, 'Live');
    expect((await setup.agent.messages(chatId)).map((m) => m.text)).toEqual(['Hello, is anyone there?']);

    // Act: the agent answers.
    await setup.agent.send(chatId, 'Hi! Ann here, how can I help?');

    // Assess: the answer shows without a reload, after the visitor's message, each once.
    await waitForItem(page, 'Hi! Ann here, how can I help?');
    expect(await texts(page)).toEqual(['Hello, is anyone there?', 'Hi! Ann here, how can I help?']);
    expect(await seqs(page)).toEqual([1, 2]);
    expect(await item(page, 'Ann here').getAttribute('data-sender-role')).toBe('agent');
    expect(await item(page, 'Ann here').locator('.av').textContent()).toBe('AA'); // agent-ann's initials
    expect(await item(page, 'Ann here').locator('.who').textContent()).toBe('agent-ann');
    await expect.poll(() => w.items.count()).toBe(2);
    // The host page's on('message') listener heard each message once, in seq order.
    await expect
      .poll(() => page.locator('#host-events li').allTextContents())
      .toEqual(['message 1 from visitor', 'message 2 from agent']);
    // The demo page runs under its Content-Security-Policy without a violation or an error.
    expect(errors).toEqual([]);
  });

  it('shows typing and read ticks on both sides', async () => {
    // Prepare: a chat, and the agent's own live connection to it.
    const page = await setup.visitorPage();
    await say(page, 'Typing test');
    await waitForItem(page, 'Typing test');
    const chatId = await chatIdOf(page);
    const visitorId = (await storedSession(page, setup.cloud.urls.http))?.visitorId;
    await waitForStatus(page, 'Live');
    await setup.agent.assign(chatId); // a participant: read receipts are participants'
    const live = await setup.agent.watch(chatId);
    try {
      // Act + assess: the visitor types; the agent is told.
      await widgetOf(page).input.pressSequentially('abc');
      await expect
        .poll(() => live.seen.typing.some((t) => t.userId === visitorId && t.isTyping), {
          timeout: UI_TIMEOUT,
        })
        .toBe(true);

      // Act + assess: the agent types; the widget says so, until the agent's message arrives.
      await setup.agent.typing(chatId, true);
      // (No message of the agent yet: the widget does not know a name.)
      await page.getByText('Support is typing…').waitFor({ timeout: UI_TIMEOUT });
      const answer = await setup.agent.send(chatId, 'Ticks test');
      await waitForItem(page, 'Ticks test');
      await page.getByText('Support is typing…').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      // (The API takes one typing event per second and chat: retried until accepted.)
      const typing = (on: boolean) =>
        expect
          .poll(
            () =>
              setup.agent.typing(chatId, on).then(
                () => true,
                () => false,
              ),
            { timeout: UI_TIMEOUT },
          )
          .toBe(true);
      await typing(true);
      await page.getByText('agent-ann is typing…').waitFor({ timeout: UI_TIMEOUT });
      await typing(false);
      await page.getByText('agent-ann is typing…').waitFor({ state: 'hidden', timeout: UI_TIMEOUT });

      // Assess: the panel is open, so the widget read the agent's message (receipt to the agent)…
      await expect
        .poll(() => live.seen.receipt.some((r) => r.userId === visitorId && r.seq === answer.seq), {
          timeout: UI_TIMEOUT,
        })
        .toBe(true);
      // …and the visitor's message shows Sent, then Read once the agent has read it.
      const mine = item(page, 'Typing test');
      expect(await mine.getAttribute('data-state')).toBe('sent');
      await setup.agent.read(chatId, answer.seq);
      await expect.poll(() => mine.getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('read');
      await expect(mine.textContent()).resolves.toContain('Read');
    } finally {
      live.close();
    }
  });

  it('counts unread messages on the launcher, in the title and as a notification of a hidden tab', async () => {
    // Prepare: the browser's notifications recorded; the host listens for unread counts.
    const page = await setup.visitorPage();
    await page.evaluate(() => {
      const w = window as unknown as {
        unreadSeen: number[];
        notes: string[];
        ChatWidget: (...args: unknown[]) => void;
        Notification: unknown;
      };
      w.unreadSeen = [];
      w.notes = [];
      w.Notification = class {
        static permission = 'default';
        static requestPermission() {
          w.notes.push('asked');
          this.permission = 'granted';
          return Promise.resolve('granted');
        }
        constructor(title: string, options: { body: string }) {
          w.notes.push(`${title}: ${options.body}`);
        }
      };
      w.ChatWidget('on', 'unread', (n: number) => w.unreadSeen.push(n));
    });
    const notes = () => page.evaluate(() => (window as unknown as { notes: string[] }).notes);
    await widgetOf(page).launcher.click();
    expect(await notes()).toEqual([]); // not on a page view nor on opening: on the first message
    await say(page, 'Unread test');
    await waitForItem(page, 'Unread test');
    const chatId = await chatIdOf(page);
    const w = widgetOf(page);
    await page.keyboard.press('Escape');
    expect(await w.launcher.getAttribute('aria-expanded')).toBe('false');
    // The page is hidden (another tab in front).
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });

    // Act
    await setup.agent.send(chatId, 'First unread');
    await setup.agent.send(chatId, 'Second unread');

    // Assess: badge, title and event say 2; opening the visible page reads them.
    await expect.poll(() => page.title(), { timeout: UI_TIMEOUT }).toBe('(2) Chat widget demo');
    await expect(page.locator('chat-widget .bd').textContent()).resolves.toBe('2');
    await expect.poll(notes).toEqual(['asked', 'agent-ann: First unread', 'agent-ann: Second unread']);
    expect(await w.launcher.getAttribute('aria-describedby')).toBeTruthy();
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    expect(await page.title()).toBe('Chat widget demo');
    await w.launcher.click();
    await expect.poll(() => page.locator('chat-widget .bd').isVisible()).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { unreadSeen: number[] }).unreadSeen)).toEqual([
      1, 2, 0,
    ]);
    await expect.poll(async () => (await setup.agent.chat(chatId)).participants?.length).toBeGreaterThan(0);
  });

  it('closes a chat, takes a rating, then starts a new conversation', async () => {
    // Prepare: a chat the agent closes.
    const page = await setup.visitorPage();
    await say(page, 'Please close me');
    await waitForItem(page, 'Please close me');
    const chatId = await chatIdOf(page);
    await waitForStatus(page, 'Live');
    await setup.agent.close(chatId);
    const closed = page.getByRole('region', { name: 'This conversation has ended.' });
    await closed.waitFor({ timeout: UI_TIMEOUT });

    // Act: the visitor rates it 4 with a comment.
    await page.getByRole('radio', { name: '4 of 5' }).check();
    await page.getByRole('textbox', { name: /Anything else/ }).fill('Quick and kind');
    await page.getByRole('button', { name: 'Send rating' }).click();

    // Assess
    await page.getByText('Thank you for your feedback!').waitFor({ timeout: UI_TIMEOUT });
    const rated = await setup.agent.chat(chatId);
    expect([rated.status, rated.rating, rated.feedback]).toEqual(['closed', 4, 'Quick and kind']);

    // Act: a new conversation.
    await page.getByRole('button', { name: 'Start a new conversation' }).click();
    expect(await widgetOf(page).items.count()).toBe(0);
    await say(page, 'A new question');

    // Assess: a new chat of the same visitor holds it; the closed one is untouched.
    await waitForItem(page, 'A new question');
    await expect.poll(() => chatIdOf(page)).not.toBe(chatId);
    const next = await chatIdOf(page);
    expect((await setup.agent.messages(next)).map((m) => m.text)).toEqual(['A new question']);
    expect((await setup.agent.messages(chatId)).map((m) => m.text)).toEqual(['Please close me']);
    expect(await closed.isVisible()).toBe(false);

    // Act + assess: the visitor ends this one themselves.
    await page.getByRole('button', { name: 'End chat' }).click();
    await closed.waitFor({ timeout: UI_TIMEOUT });
    await expect.poll(async () => (await setup.agent.chat(next)).status).toBe('closed');
  });

  it('renders an XSS corpus from visitor and agent as inert text', async () => {
    // Prepare: a chat; alerts would fail the test.
    const page = await setup.visitorPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const corpus = [
      '<img src=x onerror="window.__xss=1">',
      '<svg><svg onload="window.__xss=2"></svg></svg>',
      '<script>window.__xss=3</script><b>bold?</b>',
      'javascript:window.__xss=4',
      '[click me](javascript:alert(5)) and https://example.com/ok?q=<i>x</i>',
      'abc \u202Egnp.exe\u202C and \u2067isolate',
      'W'.repeat(8000),
    ];
    await say(page, corpus[0] ?? '');
    await waitForItem(page, 'onerror');
    const chatId = await chatIdOf(page);

    // Act: the rest from the agent.
    for (const text of corpus.slice(1)) await setup.agent.send(chatId, text);

    // Assess: every text shown exactly as written, as text; the only link is the http(s) one the widget made.
    await expect.poll(() => texts(page), { timeout: UI_TIMEOUT }).toEqual(corpus);
    const log = widgetOf(page).log;
    expect(await log.locator('img, svg, script, iframe, b, i').count()).toBe(0);
    const links = await log
      .locator('a')
      .evaluateAll((as) =>
        as.map((a) => [a.getAttribute('href'), a.getAttribute('rel'), a.getAttribute('target')]),
      );
    expect(links).toEqual([['https://example.com/ok?q=', 'noopener noreferrer', '_blank']]);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    // The bidi override stays inside its (isolated) paragraph; the long word wraps inside the log.
    expect(await item(page, 'gnp.exe').locator('.t').getAttribute('dir')).toBe('auto');
    const logBox = await log.boundingBox();
    const longBox = await item(page, 'WWWW').boundingBox();
    expect(longBox && logBox && longBox.x + longBox.width <= logBox.x + logBox.width + 1).toBe(true);
  });

  it('pages older history on request, in order and once each', async () => {
    // Prepare: a chat with 31 messages (the widget loads 25 at a time).
    const page = await setup.visitorPage();
    const w = widgetOf(page);
    await say(page, 'Start');
    await waitForItem(page, 'Start');
    const chatId = await chatIdOf(page);
    for (let batch = 0; batch < 3; batch++)
      await Promise.all(
        Array.from({ length: 10 }, (_, n) => setup.agent.send(chatId, `Line ${batch * 10 + n + 1}`)),
      );
    await expect.poll(() => seqs(page), { timeout: UI_TIMEOUT }).toHaveLength(31);

    // Act: reload; only the last page comes, then the earlier ones on request.
    await page.reload();
    await w.launcher.click();
    await expect
      .poll(() => seqs(page), { timeout: UI_TIMEOUT })
      .toEqual(Array.from({ length: 25 }, (_, i) => i + 7));
    await page.getByRole('button', { name: 'Load earlier messages' }).waitFor();
    await page.locator('chat-widget .sc').evaluate((scroller) => scroller.scrollTo(0, 0)); // the visitor scrolls up

    // Assess: all 31, in order, each once; nothing more to load.
    await expect
      .poll(() => seqs(page), { timeout: UI_TIMEOUT })
      .toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    await page.getByRole('button', { name: 'Load earlier messages' }).waitFor({ state: 'hidden' });
  });

  it('uploads files with progress and shows an image preview', async () => {
    // Prepare: a chat.
    const page = await setup.visitorPage();
    const w = widgetOf(page);
    await say(page, 'Files coming');
    await waitForItem(page, 'Files coming');
    const chatId = await chatIdOf(page);

    await page.evaluate(() => {
      const root = document.querySelector('chat-widget')?.shadowRoot as ShadowRoot;
      const w = window as unknown as { sawProgress: boolean };
      w.sawProgress = false;
      new MutationObserver(() => {
        if (root.querySelector('.up progress')) w.sawProgress = true;
      }).observe(root, { subtree: true, childList: true });
    });

    // Act: attach an image and a text file.
    await page.locator('chat-widget input[type=file]').setInputFiles([
      { name: 'dot.png', mimeType: 'image/png', buffer: png(24, 16) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
    ]);

    // Assess: an image preview (loaded) and a download link, both in the agent's view too.
    const image = w.log.getByRole('img', { name: 'dot.png' });
    await image.waitFor({ timeout: UI_TIMEOUT });
    await expect
      .poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth), { timeout: UI_TIMEOUT })
      .toBe(24);
    const file = w.log.getByRole('link', { name: /notes\.txt/ });
    await file.waitFor({ timeout: UI_TIMEOUT });
    expect(await file.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await page.evaluate(() => (window as unknown as { sawProgress: boolean }).sawProgress)).toBe(true);
    expect(await page.locator('chat-widget .up progress').count()).toBe(0);
    const kinds = (await setup.agent.messages(chatId)).flatMap((m) =>
      m.attachment ? [m.attachment.kind] : [],
    );
    expect(kinds.sort()).toEqual(['file', 'image']);
  });

  it('is usable with the keyboard alone: open, write, send, trapped focus, Escape', async () => {
    const page = await setup.visitorPage();
    const w = widgetOf(page);
    const focused = () =>
      page.evaluate(() => {
        const host = document.activeElement;
        const inner = host?.shadowRoot?.activeElement;
        return inner
          ? `widget:${inner.getAttribute('aria-label') ?? inner.textContent}`
          : (host?.tagName ?? '');
      });

    // Act: Tab to the launcher, Enter.
    for (let n = 0; n < 10 && (await focused()) !== 'widget:Open chat'; n++) await page.keyboard.press('Tab');
    expect(await focused()).toBe('widget:Open chat');
    await page.keyboard.press('Enter');

    // Assess: open, the message box has the focus; Enter sends.
    expect(await w.launcher.getAttribute('aria-expanded')).toBe('true');
    expect(await focused()).toBe('widget:Message');
    await page.keyboard.type('Only a keyboard');
    await page.keyboard.press('Enter');
    await waitForItem(page, 'Only a keyboard');

    // Assess: Tab and Shift+Tab never leave the widget while it is open.
    for (const key of ['Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      expect(await focused()).toMatch(/^widget:/);
    }

    // Act + assess: Escape closes; the focus is back on the launcher.
    await page.keyboard.press('Escape');
    expect(await w.launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await focused()).toBe('widget:Open chat');
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('passes axe-core (no serious or critical violation) light and dark, and saves screenshots', async () => {
    // Prepare: a conversation with an agent's and a system message.
    const page = await setup.visitorPage();
    await page.setViewportSize({ width: 900, height: 760 });
    await say(page, 'How do I reset my password? See https://example.com/help');
    await waitForItem(page, 'reset my password');
    const chatId = await chatIdOf(page);
    await setup.agent.assign(chatId);
    await setup.agent.send(chatId, 'Hi, Ann here. Use "Forgot password" on the sign-in page.');
    await waitForItem(page, 'Forgot password');
    // System messages (here: the agent joining) look different from people's messages.
    const joined = page.getByRole('log').locator('li.sys');
    await joined.first().waitFor({ timeout: UI_TIMEOUT });
    expect(await joined.first().textContent()).toContain('joined');
    mkdirSync('test-results', { recursive: true });

    for (const mode of ['light', 'dark'] as const) {
      if (mode === 'dark') {
        // The host re-initialises the widget in dark mode: the same conversation comes back.
        await page.evaluate(() => {
          const cw = (window as unknown as { ChatWidget: (...args: unknown[]) => void }).ChatWidget;
          cw('destroy');
          cw('init', { dark: true });
          cw('open');
        });
        await waitForItem(page, 'Forgot password');
      }
      await waitForStatus(page, 'Live');
      await page.screenshot({ path: `test-results/widget-${mode}.png` });
      const results = await new AxeBuilder({ page }).include('chat-widget').analyze();
      const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    }
  });
});
