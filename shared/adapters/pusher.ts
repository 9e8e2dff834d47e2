import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Pusher, PushResult } from '../domain/ports.ts';
import {
  AwsApiError,
  type AwsCredentials,
  canonicalPath,
  credentialsFromEnv,
  escapeUri,
  sha256Hex,
  SigV4Signer,
} from './sigv4.ts';

/**
 * The @connections client: API Gateway's management API (`POST` and `DELETE /@connections/{id}`), called
 * over node:http(s) and signed with Signature V4 (./sigv4.ts) instead of through the AWS SDK's client,
 * whose CPU per post (about five times this one's) is what bounds a big room's fan-out
 * (docs/operations.md, "Fan-out at scale"). It speaks the same wire protocol as the SDK's
 * `PostToConnection` / `DeleteConnection` (restJson1: the frame as the raw body, the id as one path
 * segment; test/unit/sigv4.test.ts compares the two):
 * - keep-alive with up to `PUSH_MAX_SOCKETS` connections: the fan-out runs up to 8 chats at once, each
 *   with FANOUT_CONCURRENCY posts in flight; beyond this many sockets, posts wait in the agent's queue.
 * - one attempt per call, failed after PUSH_TIMEOUT_MS without an answer (the wait in the agent's queue
 *   included): the caller retries and then closes the connection (RealtimeService.deliver, "deliver or
 *   disconnect"), so a hung post costs seconds, not the invocation; a close is given CLOSE_TIMEOUT_MS.
 * - 2xx: done; 410: the connection is gone; any other answer throws an `AwsApiError` (./sigv4.ts) named after
 *   API Gateway's error type (`LimitExceededException`, `ForbiddenException`, …) with the status in
 *   `$metadata.httpStatusCode`, as the SDK's exceptions carry it; a time-out throws a `TimeoutError`.
 */
export const PUSH_MAX_SOCKETS = 50;
/** A post that has not been answered by then fails. Posts normally take milliseconds. */
export const PUSH_TIMEOUT_MS = 2_000;
/**
 * A close is given longer: it comes after a failed post, once per stuck connection, and if it fails too
 * the stream retries the whole record. Under a burst, calls also wait in the agent's queue, and the
 * time-out counts that wait.
 */
export const CLOSE_TIMEOUT_MS = 10_000;

const EMPTY_HASH = sha256Hex('');

/** Frames whose bodies are kept: more than the chats a fan-out serves at once (8). */
const RECENT_BODIES = 16;

/** A post's body: a frame's bytes and their SHA-256 (hex), which the signature covers. */
interface PostBody {
  readonly bytes: Buffer;
  readonly hash: string;
}

/** `execute-api.<region>.amazonaws.com` hosts name their region; elsewhere AWS_REGION does. */
const regionOf = (host: string): string => {
  const region = process.env.AWS_REGION ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1];
  if (!region) throw new Error('AWS_REGION must be set to sign @connections requests');
  return region;
};

/** Posts frames through API Gateway's @connections API (the local cloud serves the same API). */
export class ApiGatewayPusher implements Pusher {
  private readonly url: URL;
  private readonly basePath: string;
  /** The canonical form of `${basePath}/@connections`: an id's segment is appended to it, escaped once more. */
  private readonly canonicalBase: string;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private signer: SigV4Signer | undefined;
  /**
   * The latest frames' bodies: a fan-out posts one frame to every socket of a room (several chats at
   * once), so a frame's bytes and hash are made once per frame, not once per socket.
   */
  private readonly bodies = new Map<string, PostBody>();

  constructor(
    endpoint: string,
    private readonly credentials: () => AwsCredentials = credentialsFromEnv,
  ) {
    this.url = new URL(endpoint);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.canonicalBase = canonicalPath(`${this.basePath}/@connections`);
    const secure = this.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: PUSH_MAX_SOCKETS };
    this.agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = secure ? httpsRequest : httpRequest;
  }

  async post(connectionId: string, payload: string): Promise<PushResult> {
    const status = await this.call('POST', connectionId, this.bodyOf(payload), PUSH_TIMEOUT_MS);
    return status === 410 ? 'gone' : 'delivered';
  }

  private bodyOf(payload: string): PostBody {
    const known = this.bodies.get(payload);
    if (known) return known;
    const bytes = Buffer.from(payload, 'utf8');
    const body = { bytes, hash: sha256Hex(bytes) };
    if (this.bodies.size >= RECENT_BODIES) this.bodies.delete(this.bodies.keys().next().value as string);
    this.bodies.set(payload, body);
    return body;
  }

  async disconnect(connectionId: string): Promise<'closed' | 'gone'> {
    const status = await this.call('DELETE', connectionId, undefined, CLOSE_TIMEOUT_MS);
    return status === 410 ? 'gone' : 'closed';
  }

  /** One signed request: resolves with a 2xx or 410 status, rejects with anything else. */
  private call(
    method: 'POST' | 'DELETE',
    connectionId: string,
    post: PostBody | undefined,
    timeoutMs: number,
  ) {
    const body = post?.bytes;
    const segment = escapeUri(connectionId);
    const path = `${this.basePath}/@connections/${segment}`;
    // A segment `.` or `..` would be normalized away: only those take the general path.
    const canonical =
      segment === '.' || segment === '..'
        ? canonicalPath(path)
        : `${this.canonicalBase}/${escapeUri(segment)}`;
    const payloadHash = post?.hash ?? EMPTY_HASH;
    this.signer ??= new SigV4Signer(regionOf(this.url.hostname), 'execute-api');
    const headers = this.signer.sign(
      {
        method,
        path,
        canonicalPath: canonical,
        headers: {
          host: this.url.host,
          'x-amz-content-sha256': payloadHash,
          ...(body
            ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }
            : {}),
        },
        payloadHash,
      },
      this.credentials(),
    );
    return new Promise<number>((resolve, reject) => {
      const request = this.send(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers,
          agent: this.agent,
        },
        (response) => answer(response, method, resolve, reject),
      );
      const timer = setTimeout(() => {
        const error = new Error(`@connections ${method} not answered within ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        request.destroy(error);
      }, timeoutMs);
      request.once('close', () => clearTimeout(timer));
      request.once('error', reject);
      request.end(body);
    });
  }
}

const answer = (
  response: IncomingMessage,
  method: string,
  resolve: (status: number) => void,
  reject: (error: Error) => void,
): void => {
  const status = response.statusCode ?? 0;
  if ((status >= 200 && status < 300) || status === 410) {
    response.resume();
    response.once('end', () => resolve(status));
    response.once('error', reject);
    return;
  }
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.length < 16 && chunks.push(chunk));
  response.once('error', reject);
  response.once('end', () => {
    const type = String(response.headers['x-amzn-errortype'] ?? '').split(':')[0] || `Http${status}Error`;
    let message = Buffer.concat(chunks).toString('utf8').slice(0, 500);
    try {
      message = String((JSON.parse(message) as { message?: unknown }).message ?? message);
    } catch {
      // not JSON: the text as it came
    }
    reject(new AwsApiError(type, status, `@connections ${method} answered ${status} ${type}: ${message}`));
  });
};
