/**
 * Deployment configuration read from CDK context (`-c key=value` or the `context` block of cdk.json).
 * Every key has an offline default so `cdk synth` works with no context at all; docs/deploy.md lists them.
 */
import type { Construct } from 'constructs';
import { tenantIdSchema } from '../../shared/domain/schemas.ts';
import {
  DEFAULT_INDEXED_METADATA_KEYS,
  parseIndexedMetadataKeys,
} from '../../shared/config/metadata-index.ts';
import {
  ConfigError,
  type LimitsConfig,
  parseQuotasContext,
  parseReservedConcurrency,
  parseRouteThrottles,
} from './limits.ts';

export interface AuthConfig {
  /** `iss` of the host application's identity provider tokens. */
  readonly issuer: string;
  /** `aud` the tokens must carry. */
  readonly audience: string;
  /** JWKS endpoint for asymmetric keys (RS256/ES256). */
  readonly jwksUrl?: string;
  /** Complete ARN of a Secrets Manager secret holding an HS256 shared secret. */
  readonly secretArn?: string;
  /**
   * Accepted JWS algorithms; the functions default to RS256,ES256 with `jwksUrl` and HS256 with
   * `secretArn`. Only asymmetric algorithms go with a JWKS and only HMAC ones with a secret.
   */
  readonly algorithms?: readonly string[];
  /** Tokens must carry `iat` and be at most this old (seconds, 60 to 30 days; the functions default to 24 h). */
  readonly maxTokenAgeSeconds?: number;
  /** The `typ` header tokens must carry when the issuer sets one, e.g. `at+jwt` (RFC 9068). */
  readonly tokenType?: string;
}

export interface ThrottleConfig {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export type PendingMetadataKey = 0 | 1 | 2;

export interface ChatConfig {
  readonly auth: AuthConfig;
  /** True when `auth` was not given and the placeholder identity provider is used. */
  readonly authIsPlaceholder: boolean;
  readonly corsOrigins: readonly string[];
  readonly throttle: ThrottleConfig;
  /** Create the account-level API Gateway CloudWatch Logs role (needed for WebSocket access logs). */
  readonly apiGatewayLogsRole: boolean;
  /** Indexed chat metadata keys, in slot order: the metadata GSIs and the functions' INDEXED_METADATA_KEYS. */
  readonly indexedMetadataKeys: readonly string[];
  /**
   * 1 or 2: the last of `indexedMetadataKeys` has that many of its two GSIs (1: the equality GSI) and is
   * not given to the functions yet; 0: every key is in use. The steps of adding or removing a key, one GSI
   * per deploy (docs/deploy.md, "Indexed metadata keys").
   */
  readonly pendingMetadataKey: PendingMetadataKey;
  /**
   * The tenant the deployed widget and demo page use by default (`tenantId` of `/config.json`); a host
   * page may name another in `ChatWidget('init', { tenantId })`. The tenant must exist (npm run tenant).
   */
  readonly widgetTenant: string;
  /** Quotas for the functions, reserved concurrency and per-route throttles (./limits.ts). */
  readonly limits: LimitsConfig;
  /**
   * The functions' system log level (Lambda's own log lines; the JSON log format): `WARN` by default,
   * which leaves out the START and REPORT lines of every invocation; `INFO` keeps them, `DEBUG` adds more.
   */
  readonly systemLogLevel: SystemLogLevel;
}

export const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;
export type SystemLogLevel = (typeof SYSTEM_LOG_LEVELS)[number];
export const DEFAULT_SYSTEM_LOG_LEVEL: SystemLogLevel = 'WARN';

export const CONTEXT_KEYS = {
  auth: 'auth',
  corsOrigins: 'corsOrigins',
  throttle: 'throttle',
  apiGatewayLogsRole: 'apiGatewayLogsRole',
  indexedMetadataKeys: 'indexedMetadataKeys',
  pendingMetadataKey: 'pendingMetadataKey',
  widgetTenant: 'widgetTenant',
  /** `{ chats?, messages?, sockets?, uploads?, systemEvents?: "100/10s", longPollsPerIdentity? }`. */
  quotas: 'quotas',
  /** `{ "<function id>": n }` or false; default: the fan-out and $connect 25 each. */
  reservedConcurrency: 'reservedConcurrency',
  /** `{ http?: { "<METHOD> <path>": { rateLimit, burstLimit } }, webSocket?: { "<routeKey>": … } }`. */
  routeThrottles: 'routeThrottles',
  /** `DEBUG`, `INFO` or `WARN` (default): Lambda's system log level for every function. */
  systemLogLevel: 'systemLogLevel',
  /** Read by infra/build-app.ts: the CloudFormation stack name. */
  stackName: 'stackName',
} as const;

/** Placeholders that let `cdk synth` run offline; a real deployment must override them. */
export const PLACEHOLDER_AUTH: AuthConfig = {
  issuer: 'https://auth.example.com/',
  audience: 'serverless-chat',
  jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
};

/** The widget's default tenant when the context names none. */
export const DEFAULT_WIDGET_TENANT = 'demo';

export const DEFAULT_THROTTLE: ThrottleConfig = { rateLimit: 100, burstLimit: 200 };

export { ConfigError };

/** `-c key=value` arrives as a string; cdk.json context arrives as JSON. Accept both. */
const parseMaybeJson = (key: string, value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return value;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    throw new ConfigError(`"${key}" is not valid JSON: ${value}`);
  }
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const optionalString = (record: Record<string, unknown>, key: string, path: string): string | undefined => {
  const value = record[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`"${path}.${key}" must be a string`);
  return value;
};

const isHttpsUrl = (value: string): boolean => {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
};

export const parseAuth = (raw: unknown): AuthConfig => {
  const value = parseMaybeJson(CONTEXT_KEYS.auth, raw);
  if (!isRecord(value)) {
    throw new ConfigError(
      '"auth" must be an object { issuer, audience, jwksUrl?, secretArn?, algorithms?, maxTokenAgeSeconds?, tokenType? }',
    );
  }
  const issuer = optionalString(value, 'issuer', 'auth');
  const audience = optionalString(value, 'audience', 'auth');
  const jwksUrl = optionalString(value, 'jwksUrl', 'auth');
  const secretArn = optionalString(value, 'secretArn', 'auth');
  if (!issuer) throw new ConfigError('"auth.issuer" is required');
  if (!audience) throw new ConfigError('"auth.audience" is required');
  if (!jwksUrl && !secretArn) {
    throw new ConfigError(
      '"auth" needs either "jwksUrl" (asymmetric keys) or "secretArn" (HS256 secret in Secrets Manager)',
    );
  }
  if (jwksUrl && secretArn) {
    throw new ConfigError(
      '"auth" takes "jwksUrl" or "secretArn", not both: HS256 is never accepted next to a JWKS',
    );
  }
  if (jwksUrl && !isHttpsUrl(jwksUrl)) throw new ConfigError('"auth.jwksUrl" must be an https:// URL');
  if (secretArn && !/^arn:aws[a-z-]*:secretsmanager:[^:]+:\d{12}:secret:.+$/.test(secretArn)) {
    throw new ConfigError('"auth.secretArn" must be the complete ARN of a Secrets Manager secret');
  }
  let algorithms: string[] | undefined;
  const rawAlgorithms = value.algorithms;
  if (rawAlgorithms !== undefined) {
    const list = typeof rawAlgorithms === 'string' ? rawAlgorithms.split(',') : rawAlgorithms;
    if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string')) {
      throw new ConfigError('"auth.algorithms" must be a list of strings, e.g. ["RS256"]');
    }
    algorithms = list.map((item) => item.trim()).filter(Boolean);
    const wrong = algorithms.filter((alg) => (jwksUrl ? /^HS/.test(alg) : !/^HS(256|384|512)$/.test(alg)));
    if (wrong.length > 0) {
      throw new ConfigError(
        jwksUrl
          ? `"auth.algorithms" ${wrong.join(', ')}: only asymmetric algorithms (RS256, ES256, …) go with "jwksUrl"`
          : `"auth.algorithms" ${wrong.join(', ')}: only HS256, HS384 or HS512 go with "secretArn"`,
      );
    }
  }
  const maxTokenAgeSeconds = parseMaxTokenAge(value.maxTokenAgeSeconds);
  const tokenType = optionalString(value, 'tokenType', 'auth');
  if (tokenType !== undefined && !/^[\x21-\x7e]{1,100}$/.test(tokenType)) {
    throw new ConfigError('"auth.tokenType" must be a media type such as at+jwt');
  }
  return {
    issuer,
    audience,
    ...(jwksUrl ? { jwksUrl } : {}),
    ...(secretArn ? { secretArn } : {}),
    ...(algorithms?.length ? { algorithms } : {}),
    ...(maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds } : {}),
    ...(tokenType ? { tokenType } : {}),
  };
};

/** `auth.maxTokenAgeSeconds`: whole seconds from 60 to 30 days (the functions' AUTH_MAX_TOKEN_AGE_SECONDS). */
const parseMaxTokenAge = (raw: unknown): number | undefined => {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const seconds = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 60 || seconds > 30 * 24 * 3600) {
    throw new ConfigError('"auth.maxTokenAgeSeconds" must be a whole number of seconds from 60 to 2592000');
  }
  return seconds;
};

export const parseCorsOrigins = (raw: unknown): string[] => {
  if (raw === undefined || raw === null || raw === '') return ['*'];
  const value = parseMaybeJson(CONTEXT_KEYS.corsOrigins, raw);
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string')) {
    throw new ConfigError('"corsOrigins" must be a list of origins, e.g. ["https://app.example.com"]');
  }
  const origins = list.map((item) => item.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(
        `"corsOrigins" entry "${origin}" must be "*" or an origin like https://app.example.com`,
      );
    }
  }
  return origins.length ? origins : ['*'];
};

const parseThrottle = (raw: unknown): ThrottleConfig => {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_THROTTLE;
  const value = parseMaybeJson(CONTEXT_KEYS.throttle, raw);
  if (!isRecord(value)) throw new ConfigError('"throttle" must be an object { rateLimit, burstLimit }');
  const rateLimit = Number(value.rateLimit ?? DEFAULT_THROTTLE.rateLimit);
  const burstLimit = Number(value.burstLimit ?? DEFAULT_THROTTLE.burstLimit);
  if (!Number.isFinite(rateLimit) || rateLimit <= 0 || !Number.isInteger(burstLimit) || burstLimit <= 0) {
    throw new ConfigError('"throttle.rateLimit" and "throttle.burstLimit" must be positive numbers');
  }
  return { rateLimit, burstLimit };
};

/** `-c widgetTenant=acme`: a tenant id (lower-case letters, digits and dashes, 2 to 63 characters). */
export const parseWidgetTenant = (raw: unknown): string => {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_WIDGET_TENANT;
  const parsed = tenantIdSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `"${CONTEXT_KEYS.widgetTenant}" must be a tenant id (lower-case letters, digits and dashes, 2 to 63 characters), got ${JSON.stringify(raw)}`,
    );
  }
  return parsed.data;
};

const parseBoolean = (key: string, raw: unknown, fallback: boolean): boolean => {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new ConfigError(`"${key}" must be true or false`);
};

/** `-c indexedMetadataKeys=a,b` or a JSON list; validated like INDEXED_METADATA_KEYS (shared parser). */
export const parseIndexedMetadataKeysContext = (raw: unknown): string[] => {
  const key = CONTEXT_KEYS.indexedMetadataKeys;
  if (raw === undefined || raw === null) return [...DEFAULT_INDEXED_METADATA_KEYS];
  const value = parseMaybeJson(key, raw);
  try {
    return parseIndexedMetadataKeys(value, `"${key}"`);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (e.g. -c ${key}=project_id,department)`);
  }
};

const parsePendingMetadataKey = (raw: unknown): PendingMetadataKey => {
  if (raw === undefined || raw === null || raw === '' || raw === 0 || raw === '0') return 0;
  if (raw === 1 || raw === '1') return 1;
  if (raw === 2 || raw === '2') return 2;
  throw new ConfigError(
    `"${CONTEXT_KEYS.pendingMetadataKey}" must be 1 (the last indexed key has its equality GSI only) or 2 (both GSIs), got ${JSON.stringify(raw)}`,
  );
};

const readMetadataKeys = (
  scope: Construct,
): Pick<ChatConfig, 'indexedMetadataKeys' | 'pendingMetadataKey'> => {
  const indexedMetadataKeys = parseIndexedMetadataKeysContext(
    scope.node.tryGetContext(CONTEXT_KEYS.indexedMetadataKeys),
  );
  const pendingMetadataKey = parsePendingMetadataKey(
    scope.node.tryGetContext(CONTEXT_KEYS.pendingMetadataKey),
  );
  if (pendingMetadataKey > 0 && indexedMetadataKeys.length < 2) {
    throw new ConfigError(
      `"${CONTEXT_KEYS.pendingMetadataKey}" needs at least two "${CONTEXT_KEYS.indexedMetadataKeys}": the functions keep all but the last`,
    );
  }
  return { indexedMetadataKeys, pendingMetadataKey };
};

/** `-c systemLogLevel=INFO`: one of SYSTEM_LOG_LEVELS, upper or lower case; default WARN. */
export const parseSystemLogLevel = (raw: unknown): SystemLogLevel => {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_SYSTEM_LOG_LEVEL;
  const level = typeof raw === 'string' ? raw.trim().toUpperCase() : raw;
  if (!SYSTEM_LOG_LEVELS.includes(level as SystemLogLevel)) {
    throw new ConfigError(
      `"${CONTEXT_KEYS.systemLogLevel}" must be one of ${SYSTEM_LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`,
    );
  }
  return level as SystemLogLevel;
};

export const readConfig = (scope: Construct): ChatConfig => {
  const rawAuth: unknown = scope.node.tryGetContext(CONTEXT_KEYS.auth);
  const authIsPlaceholder = rawAuth === undefined || rawAuth === null || rawAuth === '';
  return {
    auth: authIsPlaceholder ? PLACEHOLDER_AUTH : parseAuth(rawAuth),
    authIsPlaceholder,
    corsOrigins: parseCorsOrigins(scope.node.tryGetContext(CONTEXT_KEYS.corsOrigins)),
    throttle: parseThrottle(scope.node.tryGetContext(CONTEXT_KEYS.throttle)),
    apiGatewayLogsRole: parseBoolean(
      CONTEXT_KEYS.apiGatewayLogsRole,
      scope.node.tryGetContext(CONTEXT_KEYS.apiGatewayLogsRole),
      true,
    ),
    ...readMetadataKeys(scope),
    widgetTenant: parseWidgetTenant(scope.node.tryGetContext(CONTEXT_KEYS.widgetTenant)),
    limits: {
      quotaEnvironment: parseQuotasContext(scope.node.tryGetContext(CONTEXT_KEYS.quotas)),
      reservedConcurrency: parseReservedConcurrency(
        scope.node.tryGetContext(CONTEXT_KEYS.reservedConcurrency),
      ),
      routeThrottles: parseRouteThrottles(scope.node.tryGetContext(CONTEXT_KEYS.routeThrottles)),
    },
    systemLogLevel: parseSystemLogLevel(scope.node.tryGetContext(CONTEXT_KEYS.systemLogLevel)),
  };
};
