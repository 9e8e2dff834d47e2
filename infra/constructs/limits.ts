/**
 * Deployment limits from CDK context (docs/deploy.md, docs/operations.md "Limits"):
 *  - `quotas`: the functions' per-identity quotas and long-poll bound (QUOTA_* / LONG_POLLS_PER_IDENTITY,
 *    shared/domain/quotas.ts); a key left out keeps the functions' default;
 *  - `reservedConcurrency`: concurrency reserved (and capped) per function id, so a flood of one route
 *    (long polls) cannot starve the fan-out or `$connect`; `{}` reserves none (accounts whose
 *    concurrency limit is too low to reserve: Lambda keeps 100 unreserved);
 *  - `routeThrottles`: per-route stage throttles over the stage default (`throttle`), by route key
 *    (`GET /v1/chats/{chatId}/events`, `$connect`).
 */
import { parseQuotaRule } from '../../shared/domain/quotas.ts';
import { deployedHttpRoutes, deployedRoutes, functionId, wsRoutes } from '../../shared/config/routes.ts';

export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface LimitsConfig {
  /** Environment of every function: QUOTA_* and LONG_POLLS_PER_IDENTITY as given. */
  readonly quotaEnvironment: Readonly<Record<string, string>>;
  /** Function id (`stream-fanout`, `ws-connect`) → reserved concurrent executions. */
  readonly reservedConcurrency: Readonly<Record<string, number>>;
  readonly routeThrottles: {
    readonly http: Readonly<Record<string, RouteThrottle>>;
    readonly webSocket: Readonly<Record<string, RouteThrottle>>;
  };
}

/** Context `quotas` key → the functions' variable. */
export const QUOTA_CONTEXT_KEYS = {
  chats: 'QUOTA_CHATS',
  messages: 'QUOTA_MESSAGES',
  sockets: 'QUOTA_SOCKETS',
  uploads: 'QUOTA_UPLOADS',
  systemEvents: 'QUOTA_SYSTEM_EVENTS',
  longPollsPerIdentity: 'LONG_POLLS_PER_IDENTITY',
} as const;

/**
 * 25 + 25 of the account's concurrency: the fan-out keeps delivering and sockets keep opening while
 * other routes are flooded. Lambda refuses a reservation that leaves fewer than 100 unreserved, so this
 * needs an account limit of at least 150 (the default is 1,000).
 */
export const DEFAULT_RESERVED_CONCURRENCY: Readonly<Record<string, number>> = {
  'stream-fanout': 25,
  'ws-connect': 25,
};

/**
 * Routes that hold a function long (long polls) or mint credentials get their own stage throttle, so
 * one of them flooded cannot use the stage's whole rate; the rest share the stage default.
 */
export const DEFAULT_ROUTE_THROTTLES: LimitsConfig['routeThrottles'] = {
  http: {
    'GET /v1/chats/{chatId}/events': { rateLimit: 200, burstLimit: 400 },
    'GET /v1/chats/changes': { rateLimit: 50, burstLimit: 100 },
    'POST /v1/visitors': { rateLimit: 20, burstLimit: 50 },
    'POST /v1/realtime/tickets': { rateLimit: 100, burstLimit: 200 },
  },
  webSocket: {
    $connect: { rateLimit: 100, burstLimit: 200 },
  },
};

/** A mistake in the CDK context: infra/app.ts prints its message instead of a stack trace. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(`Invalid CDK context: ${message}`);
    this.name = 'ConfigError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseJson = (key: string, value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new ConfigError(`"${key}" is not valid JSON: ${value}`);
  }
};

const absent = (raw: unknown): boolean => raw === undefined || raw === null || raw === '';

export const parseQuotasContext = (raw: unknown): Record<string, string> => {
  if (absent(raw)) return {};
  const value = parseJson('quotas', raw);
  if (!isRecord(value))
    throw new ConfigError('"quotas" must be an object like { "messages": "100/10s", "chats": "30/1h" }');
  const environment: Record<string, string> = {};
  for (const [key, setting] of Object.entries(value)) {
    const name = QUOTA_CONTEXT_KEYS[key as keyof typeof QUOTA_CONTEXT_KEYS];
    if (!name)
      throw new ConfigError(`"quotas.${key}" is unknown: use ${Object.keys(QUOTA_CONTEXT_KEYS).join(', ')}`);
    if (key === 'longPollsPerIdentity') {
      if (!Number.isInteger(Number(setting)) || Number(setting) < 1 || Number(setting) > 1000)
        throw new ConfigError('"quotas.longPollsPerIdentity" must be an integer from 1 to 1000');
    } else {
      try {
        parseQuotaRule(String(setting));
      } catch (error) {
        throw new ConfigError(`"quotas.${key}": ${(error as Error).message}`);
      }
    }
    environment[name] = String(setting);
  }
  return environment;
};

export const parseReservedConcurrency = (raw: unknown): Record<string, number> => {
  if (absent(raw)) return { ...DEFAULT_RESERVED_CONCURRENCY };
  const value = parseJson('reservedConcurrency', raw);
  if (value === false) return {};
  if (!isRecord(value))
    throw new ConfigError('"reservedConcurrency" must be an object like { "stream-fanout": 25 } or false');
  const ids = new Set(deployedRoutes().map(functionId));
  const reserved: Record<string, number> = {};
  for (const [id, count] of Object.entries(value)) {
    if (!ids.has(id)) throw new ConfigError(`"reservedConcurrency.${id}" names no function`);
    if (!Number.isInteger(count) || (count as number) < 1)
      throw new ConfigError(`"reservedConcurrency.${id}" must be a positive integer`);
    reserved[id] = count as number;
  }
  return reserved;
};

const parseThrottles = (
  key: string,
  value: unknown,
  routeKeys: readonly string[],
): Record<string, RouteThrottle> => {
  if (!isRecord(value)) throw new ConfigError(`"routeThrottles.${key}" must be an object by route key`);
  const throttles: Record<string, RouteThrottle> = {};
  for (const [routeKey, setting] of Object.entries(value)) {
    if (!routeKeys.includes(routeKey))
      throw new ConfigError(`"routeThrottles.${key}" names "${routeKey}", which is not a route`);
    const { rateLimit, burstLimit } = (isRecord(setting) ? setting : {}) as Record<string, unknown>;
    if (
      typeof rateLimit !== 'number' ||
      rateLimit <= 0 ||
      !Number.isInteger(burstLimit) ||
      (burstLimit as number) <= 0
    )
      throw new ConfigError(`"routeThrottles.${key}.${routeKey}" needs a positive rateLimit and burstLimit`);
    throttles[routeKey] = { rateLimit, burstLimit: burstLimit as number };
  }
  return throttles;
};

/** `{ http?: { "<METHOD> <path>": { rateLimit, burstLimit } }, webSocket?: { "<routeKey>": … } }`. */
export const parseRouteThrottles = (raw: unknown): LimitsConfig['routeThrottles'] => {
  if (absent(raw)) return DEFAULT_ROUTE_THROTTLES;
  const value = parseJson('routeThrottles', raw);
  if (!isRecord(value)) throw new ConfigError('"routeThrottles" must be an object { http?, webSocket? }');
  const httpKeys = deployedHttpRoutes().map((route) => `${route.method} ${route.path}`);
  return {
    http: parseThrottles('http', value.http ?? {}, httpKeys),
    webSocket: parseThrottles(
      'webSocket',
      value.webSocket ?? {},
      wsRoutes.map((route) => route.routeKey),
    ),
  };
};
