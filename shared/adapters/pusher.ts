import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { Pusher, PushResult } from '../domain/ports.ts';

/**
 * The @connections client, tuned for the fan-out's many small posts (docs/operations.md, "Fan-out at
 * scale"):
 * - `cacheMiddleware`: the SDK resolves its middleware stack once per command class instead of on every
 *   call, which takes about a fifth off the SDK's CPU time per post; a big room's fan-out is CPU-bound.
 * - keep-alive (the SDK v3 default, stated here so it cannot be lost by passing an agent) with up to
 *   `PUSH_MAX_SOCKETS` connections: the fan-out runs up to 8 chats at once, each with FANOUT_CONCURRENCY
 *   posts in flight; beyond this many sockets, posts wait in the agent's queue.
 * - one attempt per call, ended after PUSH_TIMEOUT_MS without an answer: the caller retries and then
 *   closes the connection (RealtimeService.deliver, "deliver or disconnect"), so a hung post costs seconds,
 *   not the invocation; a close is given CLOSE_TIMEOUT_MS.
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

const PUSH_AGENT = { keepAlive: true, maxSockets: PUSH_MAX_SOCKETS };

const pushClient = (endpoint: string): ApiGatewayManagementApiClient =>
  new ApiGatewayManagementApiClient({
    endpoint,
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: {
      httpAgent: PUSH_AGENT,
      httpsAgent: PUSH_AGENT,
      connectionTimeout: PUSH_TIMEOUT_MS,
      requestTimeout: PUSH_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });

const isGone = (error: unknown): boolean =>
  error instanceof GoneException ||
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410;

/** Posts frames through API Gateway's @connections API (the local cloud serves the same API). */
export class ApiGatewayPusher implements Pusher {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(endpoint: string, client?: ApiGatewayManagementApiClient) {
    this.client = client ?? pushClient(endpoint);
  }

  async post(connectionId: string, payload: string): Promise<PushResult> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload }));
      return 'delivered';
    } catch (error) {
      if (isGone(error)) return 'gone';
      throw error;
    }
  }

  async disconnect(connectionId: string): Promise<'closed' | 'gone'> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }), {
        requestTimeout: CLOSE_TIMEOUT_MS,
      });
      return 'closed';
    } catch (error) {
      if (isGone(error)) return 'gone';
      throw error;
    }
  }
}
