/**
 * Runtime configuration of every function, read once per cold start and validated: a missing or
 * malformed variable fails fast at module load, never in the middle of a request.
 * The CDK stack and the local cloud set these; README.md has the table.
 */
import { z } from 'zod';
import { DEFAULT_INDEXED_METADATA_KEYS, indexedMetadataKeysSchema } from './metadata-index.ts';

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
);
const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const envSchema = z
  .object({
    TABLE_NAME: z.string().min(3),
    /** Local cloud only: DynamoDB Local endpoint. Unset in AWS. */
    DYNAMODB_ENDPOINT: z.url().optional(),
    /**
     * Indexed chat metadata keys, comma-separated, in slot order (shared/config/metadata-index.ts). The
     * CDK stack and the local cloud set it from the list they build the table's GSIs from.
     */
    INDEXED_METADATA_KEYS: indexedMetadataKeysSchema.default([...DEFAULT_INDEXED_METADATA_KEYS]),
    /** Management (@connections) endpoint of the WebSocket API stage, https://…/stage or http://localhost:3002. */
    WS_MANAGEMENT_ENDPOINT: z.url(),
    /** The URL clients connect to with `?ticket=`. */
    WS_PUBLIC_URL: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL'),
    /** Issuer, audience and key of the host app's identity provider (users, agents, services). */
    AUTH_ISSUER: z.string().min(1),
    AUTH_AUDIENCE: z.string().min(1),
    AUTH_JWKS_URL: z.url().optional(),
    AUTH_SECRET: z.string().min(32).optional(),
    AUTH_SECRET_ARN: z.string().startsWith('arn:').optional(),
    AUTH_ALGORITHMS: csv.default(['RS256', 'ES256', 'HS256']),
    AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    AUTH_ROLE_CLAIM: z.string().default('role'),
    AUTH_TENANT_CLAIM: z.string().default('tenant'),
    /** Visitor tokens are signed by the project itself (HS256). */
    VISITOR_SECRET: z.string().min(32).optional(),
    VISITOR_SECRET_ARN: z.string().startsWith('arn:').optional(),
    VISITOR_ISSUER: z.string().default('serverless-chat/visitors'),
    VISITOR_TOKEN_TTL_SECONDS: seconds(12 * 3600),
    /** Visitor refresh tokens (POST /v1/visitors/refresh) live this long; each refresh issues a new one. */
    VISITOR_REFRESH_TTL_SECONDS: seconds(30 * 24 * 3600),
    VISITOR_RATE_PER_MINUTE: z.coerce.number().int().positive().default(30),
    TICKET_TTL_SECONDS: seconds(60),
    /** Connections live at most 2 h in API Gateway; the item's TTL adds a margin. */
    CONNECTION_TTL_SECONDS: seconds(2 * 3600 + 15 * 60),
    CORS_ORIGINS: csv.default(['*']),
    /** Attachments: the private bucket, the upload limit and the content types allowed. */
    ATTACHMENTS_BUCKET: z.string().min(3),
    /** Local cloud only: the S3 emulator. Unset in AWS. */
    S3_ENDPOINT: z.url().optional(),
    /** Downloads are served through this origin (CloudFront; locally the web server), which adds nosniff. */
    ATTACHMENTS_DOWNLOAD_BASE: z.url().optional(),
    ATTACHMENT_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
    ATTACHMENT_TYPES: csv.default([
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
      'video/mp4',
    ]),
    /** Types a browser may show inline; everything else downloads as an attachment. */
    ATTACHMENT_INLINE_TYPES: csv.default(['image/png', 'image/jpeg', 'image/gif', 'image/webp']),
    UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    DOWNLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    FANOUT_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(16),
    POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(5000).default(500),
  })
  .refine((env) => env.AUTH_JWKS_URL || env.AUTH_SECRET || env.AUTH_SECRET_ARN, {
    message: 'one of AUTH_JWKS_URL, AUTH_SECRET or AUTH_SECRET_ARN is required',
    path: ['AUTH_JWKS_URL'],
  })
  .refine((env) => env.VISITOR_SECRET || env.VISITOR_SECRET_ARN, {
    message: 'one of VISITOR_SECRET or VISITOR_SECRET_ARN is required',
    path: ['VISITOR_SECRET'],
  });

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
