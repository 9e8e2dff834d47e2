/**
 * Voice messages and the emoji picker in Chromium, between the widget (a visitor on the demo page) and
 * the agent console, against one local cloud started by this file. Chromium runs with a fake microphone
 * (`--use-fake-device-for-media-stream`: a tone) that it grants without asking
 * (`--use-fake-ui-for-media-stream`). The visitor records a voice message in the widget (the recorder
 * comes from /widget-media.js, loaded on first use) and the console plays it; an agent picks an emoji
 * into the composer and the visitor reacts with one, keyboard only, and the picked emoji lead the picker
 * when it opens again. Both pages pass axe-core with the new controls shown.
 */
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import type { Message } from '../../shared/domain/schemas.ts';
import { formatDuration } from '../../web/shared-ui/voice.ts';
import { CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT } from '../support/browser.ts';
import { log, poll, unique } from './console-fixtures.ts';
import { button, openVisitor, serious, signInConsole } from './conversation-fixtures.ts';
import { agentOf, waitForItem } from './widget-fixtures.ts';

let cloud: LocalCloud | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [cloud, browser] = await Promise.all([
    startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {} }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
    }),
  ]);
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});
afterAll(async () => {
  await browser?.close();
  await cloud?.stop();
});

const newPage = async (viewport?: { width: number; height: number }): Promise<Page> => {
  const context = await browser!.newContext(viewport ? { viewport } : {});
  contexts.push(context);
  return context.newPage();
};

/** A new visitor on the demo page (the widget), who has written `text`; `errors` collects page errors. */
const visitorSaying = async (text: string, errors: string[] = []) => {
  const page = await newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, chatId: await openVisitor(page, cloud!.urls.web, text) };
};

/** The console signed in as `agentId`, live, with the chat whose last message is `text` open. */
const agentOn = async (agentId: string, text: string): Promise<Page> => {
  const page = await newPage({ width: 1400, height: 900 });
  await signInConsole(page, cloud!.urls.web, agentId, text);
  return page;
};

/** The texts of the picker's options, in order (the first ones are the recently used). */
const options = (scope: Page) =>
  scope.getByRole('listbox', { name: 'Emoji' }).getByRole('option').allTextContents();

describe('voice messages and the emoji picker', { timeout: 120_000 }, () => {
  it('records a voice message in the widget that the console plays, with the duration the server read', async () => {
    // Prepare: a visitor's chat, open in the console.
    const text = unique('Let me say it');
    const errors: string[] = [];
    const visitor = await visitorSaying(text, errors);
    const agent = await agentOn('agent-voice', text);
    const api = await agentOf(cloud!.urls.http, 'agent-voice');

    // Prepare: a recording started, checked with axe, then cancelled (nothing is sent).
    await button(visitor.page, 'Record voice message').click();
    const meter = visitor.page.getByRole('meter', { name: 'Recording level' });
    await meter.waitFor({ timeout: UI_TIMEOUT });
    await poll(async () =>
      Number(await meter.evaluate((m) => (m as HTMLMeterElement).value)),
    ).toBeGreaterThan(0);
    expect(await serious(visitor.page, 'chat-widget')).toEqual([]);
    await button(visitor.page, 'Cancel recording').click();
    await meter.waitFor({ state: 'detached', timeout: UI_TIMEOUT });

    // Act: the visitor records about 1.5 s and sends it.
    await button(visitor.page, 'Record voice message').click();
    await meter.waitFor({ timeout: UI_TIMEOUT });
    await visitor.page.waitForTimeout(1_500);
    expect(await visitor.page.getByRole('timer').textContent()).toMatch(/^00:0[1-2]$/);
    await button(visitor.page, 'Send voice message').click();

    // Assess: the API stored an audio attachment with the container's duration.
    await meter.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    let voice: Message | undefined;
    await poll(async () => {
      voice = (await api.messages(visitor.chatId)).find((m) => m.attachment?.kind === 'audio');
      return voice?.attachment?.kind;
    }).toBe('audio');
    const attachment = voice!.attachment!;
    expect(attachment.contentType).toBe('audio/webm');
    expect(attachment.fileName).toMatch(/^voice-\d{8}T\d{6}Z\.webm$/);
    console.log(`[voice] stored attachment ${JSON.stringify(attachment)}`);
    expect(attachment.durationMs).toBeGreaterThanOrEqual(1_000);
    expect(attachment.durationMs).toBeLessThanOrEqual(3_000);
    const label = `Voice message, ${formatDuration(attachment.durationMs!)}`; // e.g. 1500 ms: 0:02

    // The console shows a player for it, named with its duration, playing a blob: of its bytes.
    const player = log(agent).getByTestId('voice');
    await player.waitFor({ timeout: UI_TIMEOUT });
    expect(await player.getAttribute('aria-label')).toBe(label);
    await poll(() => player.evaluate((a) => (a as HTMLAudioElement).src)).toMatch(/^blob:/);
    await poll(() => player.evaluate((a) => (a as HTMLAudioElement).readyState)).toBeGreaterThan(0);
    // So does the widget, for the visitor's own message.
    const own = visitor.page.getByRole('log').getByLabel(label);
    await own.waitFor({ timeout: UI_TIMEOUT });
    await poll(() => own.evaluate((a) => (a as HTMLAudioElement).src)).toMatch(/^blob:/);
    expect(await serious(agent)).toEqual([]);
    expect(errors).toEqual([]);
    // The cancelled recording was never sent.
    expect((await api.messages(visitor.chatId)).filter((m) => m.attachment)).toHaveLength(1);
  });

  it('picks emoji with the keyboard into the console composer and as a reaction in the widget, recent first', async () => {
    // Prepare: a visitor's chat, open in the console, and the agent's answer in the widget.
    const text = unique('Emoji please');
    const visitor = await visitorSaying(text);
    const agent = await agentOn('agent-emoji', text);
    const input = agent.getByRole('textbox', { name: 'Message', exact: true });
    await input.fill('Hi  there');
    await input.evaluate((el) => (el as HTMLTextAreaElement).setSelectionRange(3, 3));

    // Act: keyboard only, "Insert emoji", two right, one down, Enter.
    await button(agent, 'Insert emoji').focus();
    await agent.keyboard.press('Enter');
    const listbox = agent.getByRole('listbox', { name: 'Emoji' });
    await listbox.waitFor({ timeout: UI_TIMEOUT });
    expect(await agent.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('listbox');
    expect(await serious(agent)).toEqual([]);
    await agent.keyboard.press('ArrowRight');
    await agent.keyboard.press('ArrowRight');
    await agent.keyboard.press('ArrowDown');
    await agent.keyboard.press('Enter');

    // Assess: the 11th smiley at the caret; the picker gone, the composer focused.
    await listbox.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    expect(await input.inputValue()).toBe('Hi 🙂 there');
    expect(await agent.evaluate(() => document.activeElement?.id)).toBe('composer-input');

    // Reopened: the picked one leads ("Recently used"); Escape closes it and the focus goes back.
    await button(agent, 'Insert emoji').focus();
    await agent.keyboard.press('Enter');
    await listbox.waitFor({ timeout: UI_TIMEOUT });
    expect((await options(agent))[0]).toBe('🙂');
    expect(await agent.getByRole('group', { name: 'Recently used' }).count()).toBe(1);
    await agent.keyboard.press('Escape');
    await listbox.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    expect(await agent.evaluate(() => document.activeElement?.id)).toBe('insert-emoji');
    await agent.keyboard.press('Tab'); // the composer is still there, unchanged
    expect(await input.inputValue()).toBe('Hi 🙂 there');
    await input.press('Enter');
    await waitForItem(visitor.page, 'Hi 🙂 there');

    // Act: in the widget, "Add reaction" on the agent's message, End, Enter.
    const item = visitor.page.getByRole('log').locator('li[data-seq]', { hasText: 'Hi 🙂 there' });
    await button(item, 'Add reaction').focus();
    await visitor.page.keyboard.press('Enter');
    const picker = visitor.page.getByRole('listbox', { name: 'Emoji' });
    await picker.waitFor({ timeout: UI_TIMEOUT });
    expect(await serious(visitor.page, 'chat-widget')).toEqual([]);
    await visitor.page.keyboard.press('End');
    await visitor.page.keyboard.press('Enter');

    // Assess: the visitor's reaction (the last built-in emoji), pressed, on both sides.
    const chip = button(item, '🐱 1, react');
    await chip.waitFor({ timeout: UI_TIMEOUT });
    expect(await chip.getAttribute('aria-pressed')).toBe('true');
    await log(agent).getByRole('button', { name: '🐱 1, react' }).waitFor({ timeout: UI_TIMEOUT });
    // Reopened, the widget's picker starts with it (this browser's recents: the console's are its own).
    await button(item, 'Add reaction').focus();
    await visitor.page.keyboard.press('Enter');
    await picker.waitFor({ timeout: UI_TIMEOUT });
    expect((await options(visitor.page))[0]).toBe('🐱');
    expect(await options(visitor.page)).not.toContain('🙂'.repeat(2));
    await visitor.page.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    expect(await button(visitor.page, 'Open chat').getAttribute('aria-expanded')).toBe('true');
  });
});
