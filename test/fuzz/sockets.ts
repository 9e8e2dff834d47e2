/** Sockets for the fuzz tests: one per caller, sending one frame at a time and reading its reply. */
import WebSocket from 'ws';
import { api } from '../support/clients.ts';

/** The reply to a frame: an envelope (`ack`, `pong`, `error`), or the gateway's own `{ message }` frame. */
export interface FrameReply {
  readonly type?: string;
  readonly message?: string;
  readonly data?: { code?: unknown; message?: unknown };
}

const isReply = (value: FrameReply): boolean =>
  value.type === 'ack' ||
  value.type === 'pong' ||
  value.type === 'error' ||
  (value.type === undefined && 'message' in value);

export class FuzzSocket {
  private replies: FrameReply[] = [];
  private waiter: ((reply: FrameReply) => void) | undefined;
  private closedWith: number | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let value: FrameReply;
      try {
        value = JSON.parse(String(data)) as FrameReply;
      } catch {
        value = { message: `not JSON: ${String(data).slice(0, 200)}` };
      }
      if (!isReply(value)) return;
      if (this.waiter) this.waiter(value);
      else this.replies.push(value);
    });
    ws.on('close', (code) => {
      this.closedWith = code;
      this.waiter?.({ message: `socket closed (${code})` });
    });
  }

  /** Opens a socket for `token` (a ticket, then the upgrade) and waits for `connection.ready`. */
  static async open(httpUrl: string, token: string): Promise<FuzzSocket> {
    const { ticket, url } = await api(httpUrl).ticket(token);
    const ws = new WebSocket(`${url}?ticket=${encodeURIComponent(ticket)}`);
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (data: WebSocket.RawData) => {
        if (String(data).includes('"connection.ready"')) {
          ws.off('message', onMessage);
          resolve();
        }
      };
      ws.on('message', onMessage);
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
    });
    const socket = new FuzzSocket(ws);
    await ready;
    return socket;
  }

  get open(): boolean {
    return this.closedWith === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one text frame and resolves with its reply (or a `{ message }` saying why none came). */
  exchange(frame: string, timeoutMs = 10_000): Promise<FrameReply> {
    this.replies = [];
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish({ message: 'no reply in time' }), timeoutMs);
      const finish = (reply: FrameReply) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(reply);
      };
      this.waiter = finish;
      this.ws.send(frame);
    });
  }

  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/**
 * The status of a WebSocket upgrade to `url` (101 when it opened; the socket is closed again at once),
 * for fuzzing `$connect`.
 */
export const upgradeStatus = (url: string, headers: Record<string, string>): Promise<number> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.once('close', () => resolve(101));
      ws.close();
    });
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', reject);
  });
