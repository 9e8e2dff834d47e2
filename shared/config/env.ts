/**
 * Runtime configuration of every function, read once per cold start and validated: a missing or
 * malformed variable fails fast at module load, never in the middle of a request.
 * The CDK stack and the local cloud set these; README.md has the table.
 */
import * as z from '../zod.ts';
import { DEFAULT_INDEXED_METADATA_KEYS, indexedMetadataKeysSchema } from './metadata-index.ts';
import {
  LONG_POLLS_PER_IDENTITY_DEFAULT,
  parseQuotaRule,
  QUOTA_DEFAULTS,
  type QuotaKind,
  type QuotaRule,
} from '../domain/quotas.ts';

const csv = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  ),
);
/** A per-identity quota, `100/10s` / `30/1h` / `200/1d` or `off` (shared/domain/quotas.ts). */
const quota = (kind: QuotaKind) =>
  z.pipe(
    z._default(z.string(), 'default'),
    z.transform((text, ctx): QuotaRule | undefined => {
      if (text === 'default') return QUOTA_DEFAULTS[kind];
      try {
        return parseQuotaRule(text);
      } catch (error) {
        ctx.issues.push({ code: 'custom', message: (error as Error).message, input: text });
        return z.NEVER;
      }
    }),
  );
const seconds = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);
/** An integer from `min` to `max` (text in the environment), `fallback` when unset. */
const bounded = (min: number, max: number, fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max)), fallback);

export const envSchema = z
  .object({
    TABLE_NAME: z.string().check(z.minLength(3)),
    /** Local cloud only: DynamoDB Local endpoint. Unset in AWS. */
    DYNAMODB_ENDPOINT: z.optional(z.url()),
    /**
     * Indexed chat metadata keys, comma-separated, in slot order (shared/config/metadata-index.ts). The
     * CDK stack and the local cloud set it from the list they build the table's GSIs from.
     */
    INDEXED_METADATA_KEYS: z._default(indexedMetadataKeysSchema, [...DEFAULT_INDEXED_METADATA_KEYS]),
    /** Management (@connections) endpoint of the WebSocket API stage, https://…/stage or http://localhost:3002. */
    WS_MANAGEMENT_ENDPOINT: z.url(),
    /** The URL clients connect to with `?ticket=`. */
    WS_PUBLIC_URL: z.string().check(z.regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')),
    /** Issuer, audience and key of the host app's identity provider (users, agents, services). */
    AUTH_ISSUER: z.string().check(z.minLength(1)),
    AUTH_AUDIENCE: z.string().check(z.minLength(1)),
    AUTH_JWKS_URL: z.optional(z.url()),
    AUTH_SECRET: z.optional(z.string().check(z.minLength(32))),
    AUTH_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    /** Host token algorithms; default RS256,ES256 with AUTH_JWKS_URL, HS256 with a secret (never mixed). */
    AUTH_ALGORITHMS: z.optional(csv),
    AUTH_CLOCK_TOLERANCE_SECONDS: bounded(0, 300, 30),
    /** Host tokens must carry `iat` and be at most this old, whatever their `exp` (default 24 h). */
    AUTH_MAX_TOKEN_AGE_SECONDS: bounded(60, 30 * 24 * 3600, 24 * 3600),
    /** The `typ` header host tokens must carry, e.g. `at+jwt` (RFC 9068); unchecked when unset. */
    AUTH_TOKEN_TYPE: z.optional(
      z.string().check(z.regex(/^[\x21-\x7e]{1,100}$/, 'a media type such as at+jwt')),
    ),
    AUTH_ROLE_CLAIM: z._default(z.string(), 'role'),
    AUTH_TENANT_CLAIM: z._default(z.string(), 'tenant'),
    /** Visitor tokens are signed by the project itself (HS256). */
    VISITOR_SECRET: z.optional(z.string().check(z.minLength(32))),
    VISITOR_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
    VISITOR_ISSUER: z._default(z.string(), 'serverless-chat/visitors'),
    VISITOR_TOKEN_TTL_SECONDS: seconds(12 * 3600),
    /** Visitor refresh tokens (POST /v1/visitors/refresh) live this long; each refresh issues a new one. */
    VISITOR_REFRESH_TTL_SECONDS: seconds(30 * 24 * 3600),
    VISITOR_RATE_PER_MINUTE: z._default(z.coerce.number().check(z.int(), z.positive()), 30),
    TICKET_TTL_SECONDS: seconds(60),
    /** Connections live at most 2 h in API Gateway; the item's TTL adds a margin. */
    CONNECTION_TTL_SECONDS: seconds(2 * 3600 + 15 * 60),
    /** Attachments: the private bucket, the upload limit and the content types allowed. */
    ATTACHMENTS_BUCKET: z.string().check(z.minLength(3)),
    /** Local cloud only: the S3 emulator. Unset in AWS. */
    S3_ENDPOINT: z.optional(z.url()),
    /** Downloads are served through this origin (CloudFront; locally the web server), which adds nosniff. */
    ATTACHMENTS_DOWNLOAD_BASE: z.optional(z.url()),
    ATTACHMENT_MAX_BYTES: z._default(z.coerce.number().check(z.int(), z.positive()), 100 * 1024 * 1024),
    ATTACHMENT_TYPES: z._default(csv, [
      'image/png',
      'image/jpeg',
      'image/gif',
      'image/webp',
      'application/pdf',
      'text/plain',
      'text/csv',
      'application/zip',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'audio/mpeg',
      // Voice messages (MediaRecorder: Chromium and Firefox record webm or ogg, Safari mp4).
      'audio/webm',
      'audio/ogg',
      'audio/mp4',
      'video/mp4',
    ]),
    /** Types a browser may show (or play) inline, once their bytes are checked; the rest download. */
    ATTACHMENT_INLINE_TYPES: z._default(csv, [
      'image/png',
      'image/jpeg',
      'image/gif',
      'image/webp',
      'audio/webm',
      'audio/ogg',
      'audio/mp4',
    ]),
    UPLOAD_URL_TTL_SECONDS: bounded(30, 3600, 300),
    DOWNLOAD_URL_TTL_SECONDS: bounded(30, 3600, 300),
    FANOUT_CONCURRENCY: bounded(1, 100, 16),
    POLL_INTERVAL_MS: bounded(50, 5000, 500),
    /** `nextPollMs` the polling fallback is told while its chat had activity in the last 2 minutes. */
    POLL_ACTIVE_MS: bounded(250, 60_000, 2500),
    /** `nextPollMs` for a quiet chat, and for live chat lists. */
    POLL_IDLE_MS: bounded(250, 60_000, 5000),
    /** Per-identity quotas (429 + Retry-After past them): `<limit>/<window>` with s, m, h or d, or `off`. */
    QUOTA_CHATS: quota('chats'),
    QUOTA_MESSAGES: quota('messages'),
    QUOTA_SOCKETS: quota('sockets'),
    QUOTA_UPLOADS: quota('uploads'),
    QUOTA_SYSTEM_EVENTS: quota('systemEvents'),
    /** Long polls (waitSeconds > 0) one identity holds at once; past it a poll is answered at once. */
    LONG_POLLS_PER_IDENTITY: bounded(1, 1000, LONG_POLLS_PER_IDENTITY_DEFAULT),
  })
  .check(
    z.refine((env) => env.AUTH_JWKS_URL || env.AUTH_SECRET || env.AUTH_SECRET_ARN, {
      message: 'one of AUTH_JWKS_URL, AUTH_SECRET or AUTH_SECRET_ARN is required',
      path: ['AUTH_JWKS_URL'],
    }),
    z.refine((env) => !(env.AUTH_JWKS_URL && (env.AUTH_SECRET || env.AUTH_SECRET_ARN)), {
      message: 'AUTH_JWKS_URL and a shared secret (AUTH_SECRET, AUTH_SECRET_ARN) exclude each other',
      path: ['AUTH_JWKS_URL'],
    }),
    z.refine((env) => env.VISITOR_SECRET || env.VISITOR_SECRET_ARN, {
      message: 'one of VISITOR_SECRET or VISITOR_SECRET_ARN is required',
      path: ['VISITOR_SECRET'],
    }),
  );

export type Env = z.infer<typeof envSchema>;

export const parseEnv = (source: NodeJS.ProcessEnv = process.env): Env => {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
};

/** Variable names, for the CDK stack and the README's configuration table. */
export const envNames = Object.keys(envSchema.shape) as (keyof Env)[];
