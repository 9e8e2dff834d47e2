/** One benchmark WebSocket client speaking the public socket protocol: requests, acks, deliveries. */
import WebSocket, { type RawData } from 'ws';
import { isRecord, now, sleep, withTimeout } from './util.ts';

export interface Envelope {
  readonly type: string;
  readonly requestId?: string;
  readonly chatId?: string;
  readonly seq?: number;
  readonly data: Record<string, unknown>;
}

const asEnvelope = (data: RawData): Envelope | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(
      Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.type !== 'string') return undefined;
  return {
    type: value.type,
    ...(typeof value.requestId === 'string' ? { requestId: value.requestId } : {}),
    ...(typeof value.chatId === 'string' ? { chatId: value.chatId } : {}),
    ...(typeof value.seq === 'number' ? { seq: value.seq } : {}),
    data: isRecord(value.data) ? value.data : {},
  };
};

export class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Where a client reports what is not the answer to one of its requests. */
export interface ClientSink {
  /** A `message.created` envelope, received at `at` by the client numbered `client.index`. */
  delivery(client: { readonly index: number }, envelope: Envelope, at: number): void;
  /** Any other frame, by type (`unparseable` when it is not an envelope). */
  other(type: string): void;
}

/** Why a request failed, as the reports count it: the error code, `timeout` or `socket`. */
export const failureReason = (error: unknown): string =>
  error instanceof RequestFailed
    ? error.code
    : error instanceof Error && error.message.includes('timed out')
      ? 'timeout'
      : 'socket';

export class BenchClient {
  private readonly pending = new Map<string, { settle: (envelope: Envelope) => void }>();
  private requests = 0;
  private readonly closed: Promise<void>;

  private constructor(
    readonly index: number,
    readonly chatId: string,
    private readonly socket: WebSocket,
    sink: ClientSink,
  ) {
    this.closed = new Promise((done) => socket.once('close', () => done()));
    socket.on('message', (data) => {
      const at = now();
      const envelope = asEnvelope(data);
      if (!envelope) {
        sink.other('unparseable');
        return;
      }
      if (envelope.type === 'message.created') {
        sink.delivery(this, envelope, at);
        return;
      }
      const waiter = envelope.requestId ? this.pending.get(envelope.requestId) : undefined;
      if (waiter && envelope.requestId && (envelope.type === 'ack' || envelope.type === 'error')) {
        this.pending.delete(envelope.requestId);
        waiter.settle(envelope);
        return;
      }
      sink.other(envelope.type === 'error' ? `error:${String(envelope.data.code)}` : envelope.type);
    });
    socket.on('error', (error) => sink.other(`socket-error:${error.message}`));
  }

  static open(url: string, index: number, chatId: string, sink: ClientSink): Promise<BenchClient> {
    const socket = new WebSocket(url);
    const client = new BenchClient(index, chatId, socket, sink);
    return withTimeout(
      new Promise<BenchClient>((done, reject) => {
        socket.once('open', () => done(client));
        socket.once('unexpected-response', (_request, response) =>
          reject(new Error(`upgrade refused with ${response.statusCode}`)),
        );
        socket.once('error', reject);
      }),
      15_000,
      `client ${index} connect`,
    ).catch((error: unknown) => {
      socket.terminate();
      throw error;
    });
  }

  /** Sends a frame with a fresh requestId; resolves with the ack, rejects with the error envelope. */
  request(frame: Record<string, unknown>, timeoutMs: number, onSent?: () => void): Promise<Envelope> {
    const requestId = `r${this.index}-${++this.requests}`;
    return withTimeout(
      new Promise<Envelope>((done, reject) => {
        this.pending.set(requestId, {
          settle: (envelope) =>
            envelope.type === 'ack'
              ? done(envelope)
              : reject(
                  new RequestFailed(
                    String(envelope.data.code ?? 'error'),
                    String(envelope.data.message ?? ''),
                  ),
                ),
        });
        onSent?.();
        this.socket.send(JSON.stringify({ ...frame, requestId }));
      }),
      timeoutMs,
      `${String(frame.action)} ${requestId}`,
    ).finally(() => this.pending.delete(requestId));
  }

  async close(): Promise<void> {
    if (!this.isOpen()) return;
    this.socket.close(1000, 'bench done');
    await Promise.race([this.closed, sleep(3_000)]);
    if (this.isOpen()) this.socket.terminate();
  }

  private isOpen(): boolean {
    return this.socket.readyState !== WebSocket.CLOSED;
  }
}
