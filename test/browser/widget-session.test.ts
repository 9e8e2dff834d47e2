/**
 * The visitor's session in the widget, against a local cloud whose visitor tokens live two seconds (no
 * clock tolerance): an expired token is renewed for the same visitor and chat; the host's commands
 * (toggle, off, reset) behave. One local cloud and one browser for the file.
 */
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
});
