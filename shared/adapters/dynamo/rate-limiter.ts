import type { RateLimiter } from '../../domain/ports.ts';
import type { TableContext } from './client.ts';
import { keys } from './keys.ts';
import { countBelow } from './quota-store.ts';

/** Fixed-window counter: one conditional update per hit, the item expires by TTL after its window. */
export class DynamoRateLimiter implements RateLimiter {
  constructor(private readonly table: TableContext) {}

  hit(key: string, limit: number, windowSeconds: number): Promise<boolean> {
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    return countBelow(this.table, keys.rate(key, window), limit, (window + 2) * windowSeconds);
  }
}
