/**
 * The agent console's live list under harder conditions, in Debian Chromium against a local cloud
 * started in this file: a metadata filter (`metadata__department=sales`) that stays live, presence dots
 * of chats that are not open, WebSockets blocked in the browser (the SDK's HTTP polling fallback keeps
 * list and messages live), and an XSS corpus in messages, visitor names, subjects and metadata that
 * must render inert.
 */
import { describe, expect, it } from 'vitest';
import { UI_TIMEOUT } from '../support/browser.ts';
import { listItem, log, poll, presenceOf, unique, useConsoleCloud } from './console-fixtures.ts';

const { newVisitor, openChat, say, request, signIn, goOnline } = useConsoleCloud();

describe('agent console live list', { timeout: 90_000 }, () => {
  it('shows only chats matching metadata__department=sales, and stays live', async () => {
    const page = await signIn('agent-filter');
    const visitor = await newVisitor();
    const salesBefore = unique('Sales before');
    const supportBefore = unique('Support before');
    await openChat(visitor, { subject: salesBefore, metadata: { department: 'sales' } });
    await openChat(visitor, { subject: supportBefore, metadata: { department: 'support' } });
    await listItem(page, supportBefore).waitFor({ timeout: UI_TIMEOUT });

    await page.getByRole('textbox', { name: 'Metadata filter' }).fill('department=sales');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await poll(() => listItem(page, supportBefore).count()).toBe(0);
    await listItem(page, salesBefore).waitFor({ timeout: UI_TIMEOUT });

    // Live: a support chat created first, then a sales chat; once the sales chat shows, the support chat
    // (an earlier change) would have shown too.
    const supportAfter = unique('Support after');
    const salesAfter = unique('Sales after');
    await openChat(visitor, { subject: supportAfter, metadata: { department: 'support' } });
    await openChat(visitor, { subject: salesAfter, metadata: { department: 'sales' } });
    await listItem(page, salesAfter).waitFor({ timeout: UI_TIMEOUT });
    expect(await listItem(page, supportAfter).count()).toBe(0);
    const departments = await page.getByTestId('chat-item').count();
    expect(departments).toBeGreaterThanOrEqual(2);

    // A bad condition is refused with the server's message, not a broken list.
    await page.getByRole('textbox', { name: 'Metadata filter' }).fill('department');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await poll(async () => (await page.locator('#filter-error').textContent()) ?? '').toContain(
      'department=sales',
    );
  });

  it("shows a listed chat's visitor coming online and going offline while another chat is open", async () => {
    // Prepare: two visitors' chats in the list; the agent opens the other one.
    const page = await signIn('agent-presence');
    const [watched, other] = [await newVisitor('Paula Presence'), await newVisitor('Otto Open')];
    const watchedSubject = unique('Presence watched');
    const openSubject = unique('Presence open');
    await openChat(watched, { subject: watchedSubject });
    await openChat(other, { subject: openSubject });
    await listItem(page, openSubject).click();
    await poll(async () => (await page.getByTestId('conversation-title').textContent()) ?? '').toBe(
      openSubject,
    );
    await poll(() => presenceOf(page, watchedSubject)).toBe('Customer offline');

    // Act and assess: the watched chat's visitor opens a socket, then closes it.
    const socket = await goOnline(watched);
    await poll(() => presenceOf(page, watchedSubject)).toBe('Customer online');
    await socket.close();
    await poll(() => presenceOf(page, watchedSubject)).toBe('Customer offline');

    // The open chat stayed open; the dot's state is its accessible name (role img), not only a colour.
    expect(await page.getByTestId('conversation-title').textContent()).toBe(openSubject);
    expect(await listItem(page, watchedSubject).getByRole('img', { name: 'Customer offline' }).count()).toBe(
      1,
    );
  });

  it('keeps the list and the messages live over HTTP polling when WebSockets are blocked', async () => {
    let blocked = 0;
    const page = await signIn('agent-polling', {
      state: 'polling',
      prepare: (p) =>
        p.routeWebSocket(/.*/, (ws) => {
          blocked++;
          ws.close({ code: 1006 });
        }),
    });
    expect(blocked).toBeGreaterThan(0);
    expect(await page.locator('#connection').textContent()).toContain('Polling');

    const subject = unique('Polling chat');
    const visitor = await newVisitor();
    const chat = await openChat(visitor, { subject });
    await say(visitor, chat.chatId, 'Hello over polling');
    await listItem(page, subject).click();
    await log(page).getByText('Hello over polling').waitFor({ timeout: UI_TIMEOUT });

    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Agent reply over polling');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await poll(async () =>
      (
        await request<{ items: { text: string }[] }>(
          'GET',
          `/v1/chats/${chat.chatId}/messages?after=0`,
          visitor.token,
        )
      ).items.map((m) => m.text),
    ).toContain('Agent reply over polling');
    await say(visitor, chat.chatId, 'Second message over polling');
    await log(page).getByText('Second message over polling').waitFor({ timeout: UI_TIMEOUT });

    await page.getByRole('button', { name: 'Assign to me', exact: true }).click();
    await poll(async () => (await listItem(page, subject).textContent()) ?? '').toContain('Mine');
  });

  it('pages back through a long history with "Load earlier messages"', async () => {
    const page = await signIn('agent-history');
    const visitor = await newVisitor();
    const subject = unique('Long chat');
    const chat = await openChat(visitor, { subject });
    // 34 messages, a few at a time (their seqs, not their texts, are checked below).
    for (let n = 0; n < 34; n += 6)
      await Promise.all(
        Array.from({ length: Math.min(6, 34 - n) }, (_, i) =>
          say(visitor, chat.chatId, `history ${n + i + 1}`),
        ),
      );
    await listItem(page, subject).click();
    const seqs = () =>
      log(page)
        .getByTestId('message')
        .evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.seq)));
    await log(page).locator('[data-seq="34"]').waitFor({ timeout: UI_TIMEOUT });
    expect((await seqs())[0]).toBeGreaterThan(1); // only the latest page at first

    await page.getByRole('button', { name: 'Load earlier messages' }).click();
    await log(page).locator('[data-seq="1"]').waitFor({ timeout: UI_TIMEOUT });
    expect(await seqs()).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
    await poll(() => page.getByRole('button', { name: 'Load earlier messages' }).isHidden()).toBe(true);
  });

  it('renders an XSS corpus in messages, names, subjects and metadata as inert text', async () => {
    const dialogs: string[] = [];
    const page = await signIn('agent-xss', {
      prepare: async (p) => {
        p.on('dialog', (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });
      },
    });
    const long = `${'ﷺ'.repeat(10)}${'W'.repeat(7900)}`;
    const corpus = [
      '<img src=x onerror="window.__xss=1">',
      '<svg onload="window.__xss=1"><circle r="5"/></svg>',
      '<script>window.__xss=1</script>',
      '<a href="javascript:window.__xss=1">click me</a> javascript:window.__xss=1',
      'data:text/html,<script>window.__xss=1</script> and https://example.com/safe?q=<b>x</b>',
      '\u202Egnp.exe \u202Bright-to-left\u202C done',
      '<iframe src="javascript:window.__xss=1"></iframe><style>body{display:none}</style>',
      long,
    ];
    const subject = '<img src=x onerror="window.__xss=1"> \u202Etcejbus';
    const visitor = await newVisitor('<svg onload="window.__xss=1">\u202Eeman');
    const chat = await openChat(visitor, {
      subject,
      metadata: {
        name: '<img src=x onerror="window.__xss=1">',
        '<b>key</b>': 'javascript:window.__xss=1',
        rtl: '\u202Eoverride',
        nested: { html: '<script>window.__xss=1</script>' },
        long: 'M'.repeat(7000),
      },
    });
    for (const text of corpus) await say(visitor, chat.chatId, text);

    await listItem(page, 'tcejbus').click();
    const texts = log(page).getByTestId('message-text');
    await poll(() => texts.count()).toBe(corpus.length);

    // Every message shows exactly its text; nothing was parsed as HTML or ran.
    expect(await texts.allTextContents()).toEqual(corpus);
    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    for (const region of [log(page), page.getByTestId('chat-list'), page.getByTestId('customer-panel')])
      expect(await region.locator('img, svg, script, iframe, style, b').count()).toBe(0);
    await poll(async () => (await page.getByTestId('metadata').textContent()) ?? '').toContain('<b>key</b>');
    expect(await page.getByTestId('conversation-title').textContent()).toBe(subject);

    // The only links are the http(s) one, opened safely.
    const links = await page
      .locator('main a')
      .evaluateAll((anchors) =>
        anchors.map((a) => ({ href: a.getAttribute('href') ?? '', rel: a.getAttribute('rel') ?? '' })),
      );
    expect(links).toEqual([{ href: 'https://example.com/safe?q=', rel: 'noopener noreferrer' }]);

    // An RTL override stays inside its isolated span; 8 KB strings wrap instead of widening the page.
    const isolated = await log(page)
      .locator('.msg-text')
      .evaluateAll((nodes) => nodes.every((node) => getComputedStyle(node).unicodeBidi === 'isolate'));
    expect(isolated).toBe(true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
