/**
 * Replies and reactions in Chromium, between the widget (a visitor on the demo page) and the agent
 * console, against one local cloud started by this file: the agent answers the visitor's message with a
 * reply and the widget shows it with its quote (and the visitor answers back); reactions added and taken
 * back on either side update the counts and the pressed state live on both, without a reload. Both
 * pages pass axe-core with the new controls shown.
 */
import { mkdirSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { UI_TIMEOUT } from '../support/browser.ts';
import { listItem, poll, unique } from './console-fixtures.ts';
import { useLocalCloud } from './local-cloud.ts';
import {
  button,
  consoleMessage,
  openVisitor,
  serious,
  signInConsole,
  widgetItem,
} from './conversation-fixtures.ts';
import { say, waitForItem, widgetOf } from './widget-fixtures.ts';

const local = useLocalCloud();

/** A new visitor on the demo page (the widget), who has written `text`. */
const visitorSaying = async (text: string): Promise<{ page: Page; chatId: string }> => {
  const page = await (await local.newContext()).newPage();
  return { page, chatId: await openVisitor(page, local.cloud.urls.web, text) };
};

/** The console signed in as `agentId`, live, with the chat whose last message is `text` open. */
const agentOn = async (agentId: string, text: string): Promise<Page> => {
  const page = await (await local.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await signInConsole(page, local.cloud.urls.web, agentId, text);
  return page;
};

/** The reaction toggles under a message, as "name: pressed". */
const chips = (scope: Locator) =>
  scope
    .getByRole('button', { name: /, react$/ })
    .evaluateAll((nodes) =>
      nodes.map((node) => `${node.getAttribute('aria-label')}: ${node.getAttribute('aria-pressed')}`),
    );

describe('replies and reactions between the widget and the console', { timeout: 120_000 }, () => {
  it("shows the agent's reply with its quote in the widget, and the visitor's reply in the console", async () => {
    // Prepare: a visitor's question, open in the console.
    const question = unique('Where is my order?');
    const visitor = await visitorSaying(question);
    const agent = await agentOn('agent-replies', question);

    // Act: the agent replies to the question.
    const asked = consoleMessage(agent, question);
    await asked.getByRole('button', { name: /^Reply to / }).click();
    await poll(async () => (await agent.getByTestId('reply-bar-text').textContent()) ?? '').toContain(
      question,
    );
    expect(await agent.evaluate(() => document.activeElement?.id)).toBe('composer-input');
    await agent.getByRole('textbox', { name: 'Message', exact: true }).fill('It ships tomorrow.');
    await button(agent, 'Send').click();

    // Assess: the widget shows the reply with the quote of the question (as text), once.
    await waitForItem(visitor.page, 'It ships tomorrow.');
    const answer = widgetItem(visitor.page, 'It ships tomorrow.');
    await poll(async () => (await answer.locator('.q').textContent()) ?? '').toBe(`You${question}`);
    expect(await answer.locator('.t').textContent()).toBe('It ships tomorrow.');
    await poll(() => widgetOf(visitor.page).items.count()).toBe(2);
    // The question gains its reply count on both sides (message.updated), without a reload.
    await poll(async () => (await widgetItem(visitor.page, question).textContent()) ?? '').toContain(
      '1 reply',
    );
    await button(asked, 'Thread (1 reply)').waitFor({ timeout: UI_TIMEOUT });
    expect(await agent.getByTestId('reply-bar').isHidden()).toBe(true);
    // In the console too, the reply carries the quote.
    const reply = consoleMessage(agent, 'It ships tomorrow.');
    await poll(async () => (await reply.getByTestId('quote').textContent()) ?? '').toContain(question);

    // Act: the agent opens the thread of the question.
    await button(asked, 'Thread (1 reply)').click();

    // Assess: the thread lists the reply.
    const thread = agent.getByTestId('thread');
    await poll(() => thread.getByTestId('thread-reply').allTextContents()).toEqual([
      expect.stringContaining('It ships tomorrow.'),
    ]);

    // Act: the visitor answers the agent's reply from the widget: Reply, a quote above the composer.
    await button(answer, 'Reply to agent-replies').click();
    const quoteBar = visitor.page.locator('chat-widget .rq');
    await poll(async () => (await quoteBar.textContent()) ?? '').toContain('Replying to agent-replies');
    await poll(() =>
      visitor.page.evaluate(() =>
        document.querySelector('chat-widget')?.shadowRoot?.activeElement?.getAttribute('aria-label'),
      ),
    ).toBe('Message');
    await widgetOf(visitor.page).input.fill('Great, thanks!');
    await widgetOf(visitor.page).send.click();

    // Assess: the console shows the visitor's reply with the quote of the agent's message; the quote bar
    // is gone; the open thread gains nothing (it is the thread of the question).
    const thanks = consoleMessage(agent, 'Great, thanks!');
    await poll(async () => (await thanks.getByTestId('quote').textContent()) ?? '').toBe(
      'You It ships tomorrow.',
    );
    expect(await quoteBar.isHidden()).toBe(true);
    const own = widgetItem(visitor.page, 'Great, thanks!');
    await poll(async () => (await own.locator('.q').textContent()) ?? '').toBe(
      'agent-repliesIt ships tomorrow.',
    );
    expect(await thread.getByTestId('thread-reply').count()).toBe(1);
    // A cancelled reply sends a plain message.
    await button(widgetItem(visitor.page, question), 'Reply to message').click();
    await button(visitor.page, 'Cancel reply').click();
    await say(visitor.page, 'A plain one');
    await waitForItem(visitor.page, 'A plain one');
    expect(await widgetItem(visitor.page, 'A plain one').locator('.q').count()).toBe(0);
    // A reply of the visitor's to the question joins the open thread live.
    await button(widgetItem(visitor.page, question), 'Reply to message').click();
    await widgetOf(visitor.page).input.fill('The order number is 42.');
    await widgetOf(visitor.page).send.click();
    await poll(() => thread.getByTestId('thread-reply').allTextContents()).toEqual([
      expect.stringContaining('It ships tomorrow.'),
      expect.stringContaining('The order number is 42.'),
    ]);
    await button(asked, 'Thread (2 replies)').waitFor({ timeout: UI_TIMEOUT });

    // Both pages pass axe-core with quotes, reply controls, reactions (a picker open) and the thread shown.
    await button(answer, 'Add reaction').click();
    await button(answer, '😂').click();
    await poll(() => chips(consoleMessage(agent, 'It ships tomorrow.'))).toEqual(['😂 1, react: false']);
    await button(asked, 'Add reaction').click();
    expect(await serious(visitor.page, 'chat-widget')).toEqual([]);
    expect(await serious(agent)).toEqual([]);
    mkdirSync('test-results', { recursive: true });
    await visitor.page.screenshot({ path: 'test-results/replies-widget.png' });
    await agent.screenshot({ path: 'test-results/replies-console.png' });

    // Closing the thread hands the focus back to the message's Thread control.
    await button(agent, 'Close thread').click();
    expect(await thread.isHidden()).toBe(true);
    expect(await agent.evaluate(() => document.activeElement?.textContent)).toBe('Thread (2 replies)');
  });

  it('updates reaction counts and pressed states live in both browsers as each side reacts and takes back', async () => {
    // Prepare
    const text = unique('React to this');
    const visitor = await visitorSaying(text);
    const agent = await agentOn('agent-reactions', text);
    const inWidget = widgetItem(visitor.page, text);
    const inConsole = consoleMessage(agent, text);

    // Act: the visitor adds 👍 from the quick reactions.
    await button(inWidget, 'Add reaction').click();
    expect(await button(inWidget, 'Add reaction').getAttribute('aria-expanded')).toBe('true');
    await button(inWidget, '👍').click();

    // Assess: pressed for the visitor, counted (not pressed) for the agent.
    await poll(() => chips(inWidget)).toEqual(['👍 1, react: true']);
    await poll(() => chips(inConsole)).toEqual(['👍 1, react: false']);

    // Act: the agent adds 👍 too, by its toggle.
    await button(inConsole, '👍 1, react').click();

    // Assess: two on both sides, each pressed for its own reactor; the agent's focus stays on the toggle.
    await poll(() => chips(inConsole)).toEqual(['👍 2, react: true']);
    await poll(() => chips(inWidget)).toEqual(['👍 2, react: true']);
    expect(await agent.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      '👍 2, react',
    );

    // Act: the agent adds ❤️ from its quick reactions; the visitor takes 👍 back.
    await button(inConsole, 'Add reaction').click();
    await button(inConsole, '❤️').click();
    await poll(() => chips(inWidget)).toEqual(['👍 2, react: true', '❤️ 1, react: false']);
    await button(inWidget, '👍 2, react').click();

    // Assess
    await poll(() => chips(inWidget)).toEqual(['👍 1, react: false', '❤️ 1, react: false']);
    await poll(() => chips(inConsole)).toEqual(['👍 1, react: true', '❤️ 1, react: true']);

    // Act: the agent takes 👍 back; the visitor adds ❤️ with its toggle.
    await button(inConsole, '👍 1, react').click();
    await poll(() => chips(inWidget)).toEqual(['❤️ 1, react: false']);
    await button(inWidget, '❤️ 1, react').click();

    // Assess: what both show is what the API answers each of them.
    await poll(() => chips(inWidget)).toEqual(['❤️ 2, react: true']);
    await poll(() => chips(inConsole)).toEqual(['❤️ 2, react: true']);
    expect(
      await visitor.page
        .locator('chat-widget')
        .evaluate((host) => host.shadowRoot?.activeElement?.getAttribute('aria-label')),
    ).toBe('❤️ 2, react');

    // A reload of either side shows the same (history carries each reader's `mine`).
    await agent.reload();
    await listItem(agent, text).click();
    await poll(() => chips(consoleMessage(agent, text))).toEqual(['❤️ 2, react: true']);
    await visitor.page.reload();
    await widgetOf(visitor.page).launcher.click();
    await poll(() => chips(widgetItem(visitor.page, text))).toEqual(['❤️ 2, react: true']);
  });
});
