/**
 * What every browser test file sets up: one local cloud (free ports, no demo texts) and one Chromium,
 * started before its tests and stopped after them. The browser contexts a test opens close after that
 * test, so each test starts from a fresh visitor or agent and none depends on another's order.
 */
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../infra/local/cloud.ts';
import { launchChromium } from '../support/browser.ts';

/** Registers the hooks in the calling file or describe block; `cloud` is there from beforeAll on. */
export const useLocalCloud = (options: LocalCloudOptions = {}) => {
  let cloud: LocalCloud | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // Both start together; whichever started is kept (and stopped in afterAll) even if the other failed,
    // so a machine without Chromium does not leave a local cloud and its DynamoDB Local running.
    const [started, launched] = await Promise.allSettled([
      startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {}, ...options }),
      launchChromium(),
    ]);
    if (started.status === 'fulfilled') cloud = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    await cloud?.stop();
  });

  return {
    get cloud(): LocalCloud {
      if (!cloud) throw new Error('the local cloud starts in beforeAll');
      return cloud;
    },
    /** A fresh browser context (its own storage: a new visitor or agent), closed after the test. */
    newContext: async (options?: BrowserContextOptions): Promise<BrowserContext> => {
      if (!browser) throw new Error('Chromium starts in beforeAll');
      const context = await browser.newContext(options);
      contexts.push(context);
      return context;
    },
  };
};
