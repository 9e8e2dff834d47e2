/** GET /v1/stats and the counters the fan-out moves. */
import { systemClock } from '../domain/ports.ts';
import { StatsService } from '../domain/stats.ts';
import { statsStore } from './stores.ts';

export const stats = new StatsService(statsStore, systemClock);
