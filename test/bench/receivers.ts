/**
 * Sockets that only receive, on a worker thread (receivers-worker.ts): the `broadcast` mode's room. The
 * thread opens them, sends one frame from each when asked (`subscribe`), and reports every delivery to
 * the given sink with the time it arrived, so the recorder sees them as if they ran here.
 */
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from './ts-worker.ts';
import type { ClientSink, Envelope } from './client.ts';

export type ToReceivers =
  | {
      readonly type: 'open';
      readonly sockets: readonly { index: number; url: string; chatId: string }[];
      readonly concurrency: number;
    }
  | {
      readonly type: 'request';
      readonly frame: Record<string, unknown>;
      readonly timeoutMs: number;
      readonly concurrency: number;
    }
  | { readonly type: 'close' };

export type FromReceivers =
  | {
      readonly type: 'deliveries';
      readonly items: readonly { index: number; envelope: Envelope; at: number }[];
    }
  | { readonly type: 'others'; readonly counts: readonly [string, number][] }
  | { readonly type: 'opened'; readonly failures: readonly string[] }
  | { readonly type: 'requested'; readonly failures: readonly [string, number][] }
  | { readonly type: 'closed' };

type Reply = Extract<FromReceivers, { type: 'opened' | 'requested' | 'closed' }>;

export class RemoteReceivers {
  private readonly worker: Worker;
  private waiting: ((reply: Reply | Error) => void) | undefined;
  private exitCode: number | undefined;
  private readonly exited: Promise<void>;

  constructor(sink: ClientSink) {
    this.worker = startTsWorker(new URL('./receivers-worker.ts', import.meta.url));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.exitCode = code;
        this.waiting?.(new Error(`the receivers' thread exited (${code})`));
        resolve();
      }),
    );
    this.worker.on('message', (message: FromReceivers) => {
      if (message.type === 'deliveries') {
        for (const { index, envelope, at } of message.items) {
          sink.delivery({ index }, envelope, at - performance.timeOrigin);
        }
      } else if (message.type === 'others') {
        for (const [type, count] of message.counts) for (let k = 0; k < count; k++) sink.other(type);
      } else {
        this.waiting?.(message);
      }
    });
    this.worker.on('error', (error) => sink.other(`receivers-error:${error.message}`));
  }

  /** Opens one socket per entry; throws naming the ones that failed. */
  async open(sockets: readonly { index: number; url: string; chatId: string }[], concurrency: number) {
    const reply = await this.ask({ type: 'open', sockets, concurrency });
    if (reply.type === 'opened' && reply.failures.length > 0) {
      throw new Error(
        `${reply.failures.length} sockets failed to open: ${reply.failures.slice(0, 3).join('; ')}`,
      );
    }
  }

  /** Sends `frame` from every socket and waits for each ack; throws with the failures by reason. */
  async requestAll(frame: Record<string, unknown>, timeoutMs: number, concurrency: number) {
    const reply = await this.ask({ type: 'request', frame, timeoutMs, concurrency });
    if (reply.type === 'requested' && reply.failures.length > 0) {
      throw new Error(
        `${String(frame.action)} failed: ${reply.failures.map(([why, n]) => `${why} ×${n}`).join(', ')}`,
      );
    }
  }

  /** Closes every socket, after reporting what they had received, and ends the thread. */
  async close(): Promise<void> {
    if (this.exitCode === undefined) await this.ask({ type: 'close' });
    await this.worker.terminate();
    await this.exited;
  }

  private ask(message: ToReceivers): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.exitCode !== undefined) {
        reject(new Error(`the receivers' thread exited (${this.exitCode})`));
        return;
      }
      this.waiting = (reply) => (reply instanceof Error ? reject(reply) : resolve(reply));
      this.worker.postMessage(message);
    });
  }
}
