/** Anonymous visitors: sessions, refresh and the tenant's public widget settings. */
import { VisitorService } from '../domain/visitors.ts';
import { env } from './env.ts';
import { rateLimiter, tenantStore } from './stores.ts';
import { tokens } from './tokens.ts';

export const visitors = new VisitorService(tenantStore, rateLimiter, tokens, env.VISITOR_RATE_PER_MINUTE);
