/**
 * AWS Signature Version 4 for the few small requests the fan-out makes by the thousand (@connections
 * posts, shared/adapters/pusher.ts), in node:crypto; the secrets' one read per instance
 * (shared/adapters/secrets.ts) uses it too, to spare the cold start the Secrets Manager client. The AWS SDK's client costs about 0.5 ms of CPU per
 * post on a full core (its middleware stack, endpoint rules, user agent and generic signer), this
 * about 0.1 ms; on a 256 MB Lambda, which has a seventh of a core, that is the difference between
 * ~3.5 ms and ~0.8 ms per socket of a room (docs/benchmarks.md, "Broadcast").
 *
 * The algorithm is AWS's ("Create a signed AWS API request", IAM user guide): a canonical request of
 * method, canonical path, query, signed headers and payload hash; a string to sign over its hash; an
 * HMAC chain from the secret through date, region and service to `aws4_request`. The canonical path is
 * the request's path URI-encoded once more, after removing empty, `.` and `..` segments — what every
 * service but S3 expects, and what the SDK's own signer (`@smithy/signature-v4`, `uriEscapePath`) does.
 * test/unit/sigv4.test.ts holds it to that signer and to the headers the SDK's client sends.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * The function's credentials: in Lambda the runtime sets these three variables to the execution role's
 * keys ("Defined runtime environment variables"); the local cloud sets the first two.
 */
export const credentialsFromEnv = (): AwsCredentials => {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set to sign requests');
  }
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
};

/**
 * An AWS API's answer other than success, shaped as the SDK's exceptions are: named after the service's
 * error type (`LimitExceededException`, `ResourceNotFoundException`, …), the HTTP status in
 * `$metadata.httpStatusCode`.
 */
export class AwsApiError extends Error {
  readonly $metadata: { readonly httpStatusCode: number };

  constructor(name: string, status: number, message: string) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

const hex = (char: string): string => `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
/** RFC 3986 encoding of one URI component: encodeURIComponent plus `!'()*`. */
export const escapeUri = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, hex);

/** The canonical path of a request whose `path` is as sent on the wire (already encoded once). */
export const canonicalPath = (path: string): string => {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${trailing}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
};

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** `20261205T012425Z` */
export const amzDate = (at: Date): string => at.toISOString().replace(/[-:]|\.\d{3}/g, '');

/** The canonical form of a header's value: trimmed, runs of spaces made one. */
const canonicalValue = (value: string): string => {
  const trimmed = value.trim();
  return /\s\s|[\t\n\r\f\v]/.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed;
};

/** The signing key of a secret for one day, region and service: the HMAC chain ending in `aws4_request`. */
export const deriveSigningKey = (secret: string, day: string, region: string, service: string): Buffer =>
  [region, service, 'aws4_request'].reduce(
    (key, part) => createHmac('sha256', key).update(part).digest(),
    createHmac('sha256', `AWS4${secret}`).update(day).digest(),
  );

export interface SignableRequest {
  readonly method: string;
  /** The path as sent, encoded once; no query string (none of our requests has one). */
  readonly path: string;
  /** `canonicalPath(path)`, when the caller has it already. */
  readonly canonicalPath?: string;
  /** Lower-case names; all are signed. Must include `host`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The hex SHA-256 of the body. */
  readonly payloadHash: string;
}

/**
 * Signs requests for one service in one region. Keeps the day's signing key (one per secret and day),
 * so a request costs two SHA-256 hashes and one HMAC.
 */
export class SigV4Signer {
  private key: { secret: string; day: string; value: Buffer } | undefined;
  /** The last second formatted, so most requests of a busy second skip the formatting. */
  private date = { second: Number.NaN, text: '' };

  constructor(
    private readonly region: string,
    private readonly service: string,
  ) {}

  /** The request's headers plus `x-amz-date`, `x-amz-security-token` (with a session token) and `authorization`. */
  sign(request: SignableRequest, credentials: AwsCredentials, at: Date = new Date()): Record<string, string> {
    const second = Math.floor(at.getTime() / 1000);
    if (second !== this.date.second) this.date = { second, text: amzDate(at) };
    const longDate = this.date.text;
    const day = longDate.slice(0, 8);
    const headers: Record<string, string> = { ...request.headers, 'x-amz-date': longDate };
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(';');
    let canonicalHeaders = '';
    for (const name of names) canonicalHeaders += `${name}:${canonicalValue(String(headers[name]))}\n`;
    const canonicalRequest = `${request.method}\n${request.canonicalPath ?? canonicalPath(request.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${request.payloadHash}`;
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = createHmac('sha256', this.signingKey(credentials.secretAccessKey, day))
      .update(stringToSign)
      .digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(secret: string, day: string): Buffer {
    if (this.key?.secret === secret && this.key.day === day) return this.key.value;
    const value = deriveSigningKey(secret, day, this.region, this.service);
    this.key = { secret, day, value };
    return value;
  }
}
