/**
 * The stats header: agents online, open chats and messages today (GET /v1/stats), refreshed every 30 s
 * while the tab is visible; hidden tabs do not poll, and a tab coming back refreshes at once.
 */
import type { ChatClient } from '../sdk/index.ts';
import { byId } from './dom.ts';

const REFRESH_MS = 30_000;
const SOON_MS = 1500;

export interface StatsHeader {
  start(): void;
  stop(): void;
  refresh(): Promise<void>;
}

export const createStatsHeader = (client: ChatClient): StatsHeader => {
  const root = byId('stats');
  const agents = byId('stat-agents');
  const open = byId('stat-open');
  const today = byId('stat-today');
  let timer: ReturnType<typeof setInterval> | undefined;

  const refresh = async () => {
    try {
      const stats = await client.getStats();
      agents.textContent = String(stats.agentsOnline ?? '–');
      open.textContent = String(stats.openChats ?? '–');
      today.textContent = String(stats.messagesToday ?? '–');
      root.dataset.state = 'ok';
    } catch {
      root.dataset.state = 'error';
    }
  };

  /** A chat was created, closed or reopened: the counters move soon (they trail the stream). */
  let soon: ReturnType<typeof setTimeout> | undefined;
  const refreshSoon = () => {
    if (soon || !timer) return;
    soon = setTimeout(() => {
      soon = undefined;
      void refresh();
    }, SOON_MS);
  };

  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  const start = () => {
    if (timer) return;
    root.hidden = false;
    void refresh();
    timer = setInterval(() => void refresh(), REFRESH_MS);
  };

  client.on('chats', refreshSoon);
  client.on('chat', refreshSoon);
  return { start, stop, refresh };
};
