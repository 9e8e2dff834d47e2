/**
 * Helpers the conversation-feature browser tests share (replies, reactions, mentions, voice, emoji): a
 * visitor who has written in the widget, the console signed in with that chat open, the two apps' items
 * of one message, buttons by exact name and axe-core's serious findings.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Locator, Page } from 'playwright-core';
import { UI_TIMEOUT } from '../support/browser.ts';
import { listItem, log } from './console-fixtures.ts';
import { chatIdOf, say, waitForItem, waitForStatus } from './widget-fixtures.ts';

/** `page` on the demo page (the widget), its visitor having written `text`, live; the chat's id. */
export const openVisitor = async (page: Page, webUrl: string, text: string): Promise<string> => {
  await page.goto(`${webUrl}/`);
  await say(page, text);
  await waitForItem(page, text);
  const chatId = await chatIdOf(page);
  await waitForStatus(page, 'Live');
  return chatId;
};

/** `page` on the console signed in as `agentId`, live; with `text`, the chat whose last message it is open. */
export const signInConsole = async (page: Page, webUrl: string, agentId: string, text?: string) => {
  await page.goto(`${webUrl}/console`);
  await page.getByRole('textbox', { name: 'Agent id', exact: true }).fill(agentId);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: UI_TIMEOUT });
  if (text) {
    await listItem(page, text).click();
    await consoleMessage(page, text).waitFor({ timeout: UI_TIMEOUT });
  }
};

/** The console's log entry of the message whose own text (not a quote of it) is `text`. */
export const consoleMessage = (page: Page, text: string): Locator =>
  log(page)
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').filter({ hasText: text }) });

/** The widget's log item of the message whose own text (not a quote of it) is `text`. */
export const widgetItem = (page: Page, text: string): Locator =>
  page
    .getByRole('log')
    .locator('li[data-seq]')
    .filter({ has: page.locator('.t', { hasText: text }) });

export const button = (scope: Page | Locator, name: string): Locator =>
  scope.getByRole('button', { name, exact: true });

/** axe-core's serious and critical findings on the page (or inside `include`), one line each. */
export const serious = async (page: Page, include?: string): Promise<string[]> => {
  const builder = new AxeBuilder({ page });
  const results = await (include ? builder.include(include) : builder).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
};
