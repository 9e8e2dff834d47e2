/**
 * Checks an S3 presigned URL (AWS Signature Version 4 in the query string) the way S3 does, for the
 * local cloud's `/files/` pass-through: the S3 emulator (s3rver) does not check V4 signatures, so without
 * this anyone could read (or list) the attachments bucket through the web server.
 *
 * As AWS documents it ("Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"): the
 * canonical request is the method, the URI-encoded path (S3 does not normalize or double-encode it), the
 * query parameters but X-Amz-Signature (names and values URI-encoded, sorted by name), the signed headers
 * (`host`, as the URL was signed for) and `UNSIGNED-PAYLOAD`; the string to sign is
 * `AWS4-HMAC-SHA256`, X-Amz-Date, the credential scope and the canonical request's SHA-256; the key is
 * derived from the secret key, the scope's date, region, `s3` and `aws4_request`. A URL is good from
 * X-Amz-Date to X-Amz-Date + X-Amz-Expires (at most 7 days); after that S3 answers 403 AccessDenied
 * "Request has expired".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveSigningKey, escapeUri, sha256Hex } from '../../shared/adapters/sigv4.ts';

export interface PresignedUrlKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

export type PresignedVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'AccessDenied' | 'SignatureDoesNotMatch'; readonly message: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
/** How far in the future X-Amz-Date may lie (clock skew), as S3 allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const denied = (message: string): PresignedVerdict => ({ ok: false, code: 'AccessDenied', message });
const mismatch: PresignedVerdict = {
  ok: false,
  code: 'SignatureDoesNotMatch',
  message:
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
};

/** `20261204T101500Z` as a time, or undefined. */
const amzDate = (value: string): number | undefined => {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(time) ? undefined : time;
};

/** The raw query's parameters, decoded, in order (a malformed escape makes the whole query invalid). */
const parseQuery = (rawQuery: string): [string, string][] | undefined => {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const name = equals === -1 ? part : part.slice(0, equals);
    const value = equals === -1 ? '' : part.slice(equals + 1);
    try {
      pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
    } catch {
      return undefined;
    }
  }
  return pairs;
};

/**
 * Whether `method` on `path` with `rawQuery` is a valid, unexpired presigned request for the host it was
 * signed for (`signedHeaders` gives each signed header's value; `host` at least).
 */
export const verifyPresignedUrl = (
  request: {
    readonly method: string;
    /** The path as S3 sees it, still URI-encoded, e.g. `/bucket/files/acme/ch_1/att_1`. */
    readonly path: string;
    readonly rawQuery: string;
    readonly headers: Readonly<Record<string, string | undefined>>;
  },
  keys: PresignedUrlKeys,
  now: number = Date.now(),
): PresignedVerdict => {
  const pairs = parseQuery(request.rawQuery);
  if (!pairs) return denied('Access Denied');
  const params = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (params.has(name)) return denied('Access Denied'); // a repeated parameter is never ours
    params.set(name, value);
  }
  const algorithm = params.get('X-Amz-Algorithm');
  const credential = params.get('X-Amz-Credential');
  const date = params.get('X-Amz-Date');
  const expires = params.get('X-Amz-Expires');
  const signedHeaders = params.get('X-Amz-SignedHeaders');
  const signature = params.get('X-Amz-Signature');
  if (!algorithm || !credential || !date || !expires || !signedHeaders || !signature)
    return denied('Access Denied');
  if (algorithm !== ALGORITHM) return denied('Only AWS4-HMAC-SHA256 is supported');

  const signedAt = amzDate(date);
  const lifetime = Number(expires);
  if (signedAt === undefined || !/^\d+$/.test(expires) || lifetime < 1 || lifetime > MAX_EXPIRES_SECONDS)
    return denied('X-Amz-Date or X-Amz-Expires is invalid');
  if (signedAt - now > MAX_SKEW_MS) return denied('Request is not yet valid');
  if (now > signedAt + lifetime * 1000) return denied('Request has expired');

  const [accessKeyId, scopeDate, region, service, terminator, ...rest] = credential.split('/');
  if (
    rest.length > 0 ||
    accessKeyId !== keys.accessKeyId ||
    scopeDate !== date.slice(0, 8) ||
    region !== keys.region ||
    service !== 's3' ||
    terminator !== 'aws4_request'
  )
    return denied('The credential scope is not valid for this bucket');

  const headerNames = signedHeaders.split(';');
  if (!headerNames.includes('host') || headerNames.some((name) => name !== name.toLowerCase()))
    return mismatch;
  const canonicalHeaders = headerNames
    .map((name) => `${name}:${(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalQuery = [...params]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [escapeUri(name), escapeUri(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const payloadHash = params.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [
    request.method.toUpperCase(),
    request.path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, date, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = deriveSigningKey(keys.secretAccessKey, scopeDate, region, 's3');
  const expected = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest();
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : undefined;
  return given && timingSafeEqual(given, expected) ? { ok: true } : mismatch;
};

/** S3's XML error body for a refused request. */
export const s3ErrorXml = (verdict: Exclude<PresignedVerdict, { ok: true }>): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${verdict.code}</Code><Message>${verdict.message}</Message></Error>`;
