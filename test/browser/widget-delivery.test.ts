/**
 * The widget's delivery in Chromium: embedded on a page of another origin (loader queue, strict CSP,
 * style isolation), WebSockets blocked (polling and back), two tabs of one visitor (one socket), a reload
 * with an unsent message, and what a page load costs until "Live". One local cloud and one browser for
 * the file; each test has its own browser context (its own visitor).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoTenantStore } from '../../shared/adapters/dynamo/tenant-store.ts';
import { UI_TIMEOUT } from '../support/browser.ts';
import {
  chatIdOf,
  say,
  seqs,
  storedSession,
  texts,
  useWidgetCloud,
  waitForItem,
  waitForStatus,
  widgetOf,
} from './widget-fixtures.ts';

/** The host page's inline script: the contract's loader, then calls queued before widget.js loads. */
const hostScript = (widgetUrl: string): string => `
  (function (w, d) {
    w.ChatWidget = w.ChatWidget || function () { (w.ChatWidget.q = w.ChatWidget.q || []).push(arguments); };
    var s = d.createElement('script'); s.async = true; s.src = '${widgetUrl}';
    d.head.appendChild(s);
  })(window, document);
  window.heard = []; window.statuses = []; window.csp = [];
  document.addEventListener('securitypolicyviolation', function (e) { window.csp.push(e.violatedDirective + ' ' + e.blockedURI); });
  ChatWidget('init', JSON.parse(decodeURIComponent(location.hash.slice(1)) || '{}'));
  ChatWidget('on', 'message', function (m) { window.heard.push(m.seq + ':' + m.text); });
  ChatWidget('on', 'status', function (s) { window.statuses.push(s); });
  ChatWidget('identify', { name: 'Jane Host' });
  ChatWidget('open');
`;
/** The same loader a second time (a host that pastes it twice). */
const secondLoader = (widgetUrl: string): string => `
  (function (w, d) {
    w.ChatWidget = w.ChatWidget || function () { (w.ChatWidget.q = w.ChatWidget.q || []).push(arguments); };
    var s = d.createElement('script'); s.async = true; s.src = '${widgetUrl}';
    d.head.appendChild(s);
  })(window, document);
`;
/** Host styles that would wreck the widget if they leaked in. */
const HOST_CSS = `
  * { color: rgb(0, 128, 0) !important; font-family: serif !important; }
  button { background: rgb(255, 0, 0) !important; }
  li { display: none !important; }
  p { margin: 40px !important; }
`;
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** A host site on another origin (127.0.0.1 vs the widget's localhost) under a strict CSP. */
const startHostSite = async (cloud: LocalCloud): Promise<{ url: string; server: Server }> => {
  const widgetUrl = `${cloud.urls.web}/widget.js`;
  const scripts = [hostScript(widgetUrl), secondLoader(widgetUrl)];
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host site</title>
<link rel="stylesheet" href="/host.css">
${scripts.map((script) => `<script>${script}</script>`).join('\n')}
</head><body><h1>A host site</h1><button class="la" id="host-button">Host button</button>
<ol class="log"><li>host item</li></ol></body></html>`;
  const csp = [
    `default-src 'self'`,
    `script-src ${scripts.map(sha256).join(' ')} ${cloud.urls.web}`,
    `style-src 'self'`,
    `img-src 'self' ${cloud.urls.web}`,
    `connect-src ${cloud.urls.web} ${cloud.urls.http} ${cloud.urls.ws}`,
  ].join('; ');
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/host.css')) {
      response.writeHead(200, { 'content-type': 'text/css' }).end(HOST_CSS);
    } else {
      response.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp }).end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
};

describe('widget delivery', { timeout: 120_000 }, () => {
  const setup = useWidgetCloud();
  let host: { url: string; server: Server };

  beforeAll(async () => {
    host = await startHostSite(setup.cloud);
  });

  afterAll(() => {
    host?.server.close();
  });

  it('works embedded on another origin under a strict CSP, replaying the calls queued before it loaded', async () => {
    // Prepare + act: the host page (127.0.0.1) loads widget.js from the web origin (localhost), twice.
    const context = await setup.newContext();
    const page = await context.newPage();
    await page.goto(host.url);
    const w = widgetOf(page);

    // Assess: one widget; the queued 'open' ran (after 'init'); the launcher came up quickly.
    await expect.poll(() => w.launcher.getAttribute('aria-expanded'), { timeout: UI_TIMEOUT }).toBe('true');
    expect(await page.locator('chat-widget').count()).toBe(1);
    expect(await page.evaluate(() => document.querySelector('chat-widget')?.shadowRoot?.mode)).toBe('open');
    const launcherAt = await page.evaluate(
      () => performance.getEntriesByName('chat-widget:launcher')[0]?.startTime ?? -1,
    );
    console.log(`[widget] interactive launcher ${Math.round(launcherAt)} ms after navigation start`);
    expect(launcherAt).toBeGreaterThan(0);

    // Act: the visitor writes; the agent answers.
    await w.input.fill('Hello from another origin');
    await w.send.click();
    await waitForItem(page, 'Hello from another origin');
    const chatId = await chatIdOf(page);
    await setup.agent.send(chatId, 'Welcome, Jane');
    await waitForItem(page, 'Welcome, Jane');

    // Assess: the host heard each message once, in order; identify() reached the chat; no CSP violation.
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { heard: string[] }).heard))
      .toEqual(['1:Hello from another origin', '2:Welcome, Jane']);
    expect(await page.evaluate(() => (window as unknown as { statuses: string[] }).statuses)).toContain(
      'live',
    );
    expect((await setup.agent.chat(chatId)).metadata).toMatchObject({ visitor: { name: 'Jane Host' } });
    expect(await page.evaluate(() => (window as unknown as { csp: string[] }).csp)).toEqual([]);

    // Assess: the host's styles stay out of the widget, the widget's out of the host.
    const style = (selector: string, property: string) =>
      page
        .locator(selector)
        .first()
        .evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), property);
    expect(await style('chat-widget .pb', 'background-color')).not.toBe('rgb(255, 0, 0)');
    expect(await style('chat-widget li[data-seq]', 'display')).not.toBe('none');
    expect(await style('chat-widget .t', 'font-family')).not.toContain('serif;');
    expect(await style('chat-widget .t', 'font-family')).toContain('system-ui');
    expect(await style('#host-button', 'border-radius')).toBe('0px');
    expect(await style('#host-button', 'position')).toBe('static');
  });

  it('takes its look and texts from init options', async () => {
    // Act: the host page initialises the widget with its own options.
    const context = await setup.newContext();
    const page = await context.newPage();
    const options = {
      position: 'left',
      launcherText: 'Questions?',
      greeting: 'Howdy! Ask us anything.',
      title: 'Acme support',
      colors: { primary: 'rgb(10, 120, 60)', background: 'url(javascript:alert(1))' },
      strings: { placeholder: 'Your question…' },
    };
    await page.goto(`${host.url}#${encodeURIComponent(JSON.stringify(options))}`);
    const w = widgetOf(page);

    // Assess: colours (invalid ones ignored), side, texts; the contract's names unchanged.
    await expect.poll(() => w.launcher.getAttribute('aria-expanded'), { timeout: UI_TIMEOUT }).toBe('true');
    const launcherStyle = await w.launcher.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(launcherStyle).toBe('rgb(10, 120, 60)');
    const panelBackground = await page
      .locator('chat-widget .p')
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(panelBackground).toBe('rgb(255, 255, 255)');
    expect((await w.launcher.boundingBox())?.x).toBeLessThan(100);
    expect(await w.launcher.textContent()).toContain('Questions?');
    await page.getByText('Howdy! Ask us anything.').waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole('heading', { name: 'Acme support' }).waitFor();
    expect(await w.input.getAttribute('placeholder')).toBe('Your question…');
    expect(await w.items.count()).toBe(0); // the greeting is not a message
  });

  it('takes its colours and greeting from the tenant record', async () => {
    // Prepare: a tenant of its own with a theme and a greeting (the demo tenant stays untouched).
    const tenants = new DynamoTenantStore(
      createTableContext(setup.cloud.tableName, setup.cloud.urls.dynamodb),
      0,
    );
    await tenants.put({
      tenantId: 'themed',
      name: 'Themed',
      allowedOrigins: ['http://127.0.0.1:*'],
      theme: { primary: 'rgb(120, 20, 90)', background: 'not a colour' },
      greeting: 'Welcome to Themed!',
      createdAt: new Date().toISOString(),
    });

    // Act: the host page names the tenant and nothing else.
    const context = await setup.newContext();
    const page = await context.newPage();
    await page.goto(`${host.url}#${encodeURIComponent(JSON.stringify({ tenantId: 'themed' }))}`);
    const w = widgetOf(page);

    // Assess: the tenant's valid colour and its greeting; the invalid colour is ignored.
    await page.getByText('Welcome to Themed!').waitFor({ timeout: UI_TIMEOUT });
    expect(await w.launcher.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(120, 20, 90)');
    const panelBackground = await page
      .locator('chat-widget .p')
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(panelBackground).toBe('rgb(255, 255, 255)');
  });

  it('falls back to polling when WebSockets are blocked, and back to Live without losing or repeating', async () => {
    // Prepare: every WebSocket refused (a proxy that blocks upgrades); faster socket probes for the test.
    const context = await setup.newContext();
    let blocked = true;
    await context.routeWebSocket(/.*/, (ws) => {
      if (blocked) void ws.close();
      else ws.connectToServer();
    });
    const page = await context.newPage();
    await page.goto(`${host.url}#${encodeURIComponent(JSON.stringify({ timing: { probeMs: 3000 } }))}`);

    // Act: the visitor writes; the widget cannot open a socket.
    await say(page, 'Sent while polling');
    await waitForItem(page, 'Sent while polling');
    const chatId = await chatIdOf(page);

    // Assess: Polling (within 30 s), and messages flow both ways.
    await waitForStatus(page, 'Polling');
    await setup.agent.send(chatId, 'Answer while polling');
    await waitForItem(page, 'Answer while polling');
    await say(page, 'Second while polling');
    await waitForItem(page, 'Second while polling');

    // Act: the proxy lets sockets through again; the agent keeps writing meanwhile.
    blocked = false;
    await setup.agent.send(chatId, 'During the switch');
    await waitForStatus(page, 'Live');
    await setup.agent.send(chatId, 'Answer after Live');
    await waitForItem(page, 'Answer after Live');

    // Assess: everything once, in order, in the widget and on the host's listener.
    const expected = [
      'Sent while polling',
      'Answer while polling',
      'Second while polling',
      'During the switch',
      'Answer after Live',
    ];
    expect(await texts(page)).toEqual(expected);
    expect(await seqs(page)).toEqual([1, 2, 3, 4, 5]);
    expect(await page.evaluate(() => (window as unknown as { heard: string[] }).heard)).toEqual(
      expected.map((text, i) => `${i + 1}:${text}`),
    );
    expect((await setup.agent.messages(chatId)).map((m) => m.text)).toEqual(expected);
  });

  it('keeps one socket for two tabs of a visitor, both in sync, and loses nothing when the leader closes', async () => {
    // Prepare: tab 1 starts the conversation; tab 2 opens the same site.
    const context = await setup.newContext();
    const sockets = new Map<Page, number>();
    context.on('page', (p) => p.on('websocket', () => sockets.set(p, (sockets.get(p) ?? 0) + 1)));
    const first = await context.newPage();
    await first.goto(`${setup.cloud.urls.web}/`);
    await say(first, 'From tab 1');
    await waitForItem(first, 'From tab 1');
    const chatId = await chatIdOf(first);
    await waitForStatus(first, 'Live');
    const second = await context.newPage();
    await second.goto(`${setup.cloud.urls.web}/`);
    await widgetOf(second).launcher.click();
    await waitForItem(second, 'From tab 1');

    // Act + assess: the agent's message and tab 2's message show in both tabs.
    await setup.agent.send(chatId, 'Agent to both');
    await say(second, 'From tab 2');
    for (const page of [first, second]) {
      await waitForItem(page, 'Agent to both');
      await waitForItem(page, 'From tab 2');
    }
    await waitForStatus(second, 'Live');
    expect([sockets.get(first) ?? 0, sockets.get(second) ?? 0]).toEqual([1, 0]);

    // Act: the leader tab closes; the agent writes at once.
    await first.close();
    await setup.agent.send(chatId, 'After the leader left');
    await say(second, 'Tab 2 carries on');

    // Assess: tab 2 took over the socket; nothing lost, nothing twice.
    await waitForItem(second, 'After the leader left');
    await waitForItem(second, 'Tab 2 carries on');
    const expected = [
      'From tab 1',
      'Agent to both',
      'From tab 2',
      'After the leader left',
      'Tab 2 carries on',
    ];
    await expect.poll(() => texts(second), { timeout: UI_TIMEOUT }).toEqual(expected);
    expect((await setup.agent.messages(chatId)).map((m) => m.text)).toEqual(expected);
    await waitForStatus(second, 'Live');
    expect(sockets.get(second)).toBe(1);
  });

  it('delivers a message left in the outbox exactly once after a reload', async () => {
    // Prepare: a conversation; then sends cannot reach the server (socket frames dropped, POSTs failing).
    const context = await setup.newContext();
    let dropSends = false;
    await context.routeWebSocket(/.*/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((frame) => {
        if (!(dropSends && String(frame).includes('"sendMessage"'))) server.send(frame);
      });
      server.onMessage((frame) => ws.send(frame));
    });
    await context.route(/\/v1\/chats\/[^/]+\/messages$/, (route) =>
      dropSends && route.request().method() === 'POST' ? route.abort() : route.fallback(),
    );
    const page = await context.newPage();
    await page.goto(`${setup.cloud.urls.web}/`);
    await say(page, 'Before the outage');
    await waitForItem(page, 'Before the outage');
    const chatId = await chatIdOf(page);
    await waitForStatus(page, 'Live');
    dropSends = true;

    // Act: the visitor writes; it stays pending (in the persisted outbox); the page reloads.
    await say(page, 'Left in the outbox');
    const pending = page.getByRole('log').locator('li.pend', { hasText: 'Left in the outbox' });
    await pending.waitFor({ timeout: UI_TIMEOUT });
    await expect(pending.getAttribute('data-state')).resolves.toBe('pending');
    dropSends = false;
    await page.reload();

    // Assess: sent after the reload, once.
    await widgetOf(page).launcher.click();
    await waitForItem(page, 'Left in the outbox');
    await expect
      .poll(async () => (await setup.agent.messages(chatId)).map((m) => m.text), { timeout: UI_TIMEOUT })
      .toEqual(['Before the outage', 'Left in the outbox']);
    await expect.poll(() => texts(page)).toEqual(['Before the outage', 'Left in the outbox']);
    expect(await page.getByRole('log').locator('li.pend').count()).toBe(0);
  });

  it('measures a returning visitor: requests from page load to Live', async () => {
    // Prepare: a visitor with a conversation.
    const context = await setup.newContext();
    const page = await context.newPage();
    await page.goto(`${setup.cloud.urls.web}/`);
    await say(page, 'Measure me');
    await waitForItem(page, 'Measure me');
    await waitForStatus(page, 'Live');
    expect((await storedSession(page, setup.cloud.urls.http))?.chatId).toBeTruthy();

    // Act: reload, recording every request until the status says Live.
    const requests: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      requests.push(`${request.method()} ${url.pathname}`);
    });
    page.on('websocket', () => requests.push('WebSocket'));
    const started = Date.now();
    await page.reload();
    await waitForStatus(page, 'Live');
    const elapsed = Date.now() - started;
    const marks = await page.evaluate(() =>
      ['chat-widget:launcher', 'chat-widget:live'].map((name) =>
        Math.round(performance.getEntriesByName(name)[0]?.startTime ?? -1),
      ),
    );
    console.log(
      `[widget] returning visitor: launcher at ${marks[0]} ms, Live at ${marks[1]} ms (${elapsed} ms wall), ` +
        `requests until Live: ${requests.join(', ')}`,
    );

    // Assess: no visitor or chat was created again; the page load did not go beyond a handful of calls.
    expect(requests).not.toContain('POST /v1/visitors');
    expect(requests).not.toContain('POST /v1/chats');
    expect(requests.filter((r) => r !== 'WebSocket').length).toBeLessThanOrEqual(9);
  });
});
