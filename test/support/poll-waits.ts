/**
 * "The long poll has started": resolves when the next long poll of the local cloud running in this
 * process (both polls go through `systemPollTimer`) first waits between reads, i.e. its first read found
 * nothing and is done. What a test waits for before making the change the poll should wake up for.
 */
import { vi } from 'vitest';
import { systemPollTimer } from '../../shared/domain/long-poll.ts';

export const nextPollWait = (): Promise<void> =>
  new Promise((resolve) => {
    const original = systemPollTimer.sleep;
    const spy = vi.spyOn(systemPollTimer, 'sleep').mockImplementation((ms, signal) => {
      spy.mockRestore();
      resolve();
      return original(ms, signal);
    });
  });
