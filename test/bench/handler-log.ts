/**
 * Counts, from what the in-process handlers and gateways write to stdout and stderr, the invocations that
 * timed out and the ones that failed otherwise: a Powertools `ERROR` record (its `error.name` tells a
 * middy time-out, `TimeoutError`, from any other failure) or a gateway line (`exceeded … timeout`,
 * `failed:`). The output itself passes through unchanged. The benchmark's own lines never match.
 */

export interface HandlerLog {
  readonly timeouts: number;
  readonly errors: number;
  /** ERROR records by their message (e.g. `frame failed`, `request failed`) and gateway lines by kind. */
  readonly byMessage: Record<string, number>;
}

const GATEWAY =
  /\[(?:http|ws)-gateway\] \S+(?: \S+)? (exceeded (?:its function|the integration) timeout|failed:)/g;
const RECORD_ERROR = /"level":\s*"ERROR"/;
const RECORD_TIMEOUT = /"name":\s*"TimeoutError"/;
const RECORD_MESSAGE = /"message":\s*"([^"]*)"/;

export const watchHandlerLog = () => {
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  const counts = { timeouts: 0, errors: 0 };
  const byMessage = new Map<string, number>();
  const note = (message: string, timeout: boolean) => {
    if (timeout) counts.timeouts++;
    else counts.errors++;
    const key = `${message}${timeout ? ' (time-out)' : ''}`;
    byMessage.set(key, (byMessage.get(key) ?? 0) + 1);
  };
  const scan = (chunk: unknown) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    if (RECORD_ERROR.test(text)) {
      note(RECORD_MESSAGE.exec(text)?.[1] ?? 'error', RECORD_TIMEOUT.test(text));
      return;
    }
    for (const match of text.matchAll(GATEWAY)) {
      const what = match[1] ?? '';
      note(`gateway: ${what.replace(/:$/, '')}`, what.startsWith('exceeded'));
    }
  };
  streams.forEach((stream, index) => {
    const original = originals[index] as typeof stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      scan(chunk);
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  });
  let stopped = false;
  return {
    /** Puts the streams back (once) and returns the counts. */
    stop: (): HandlerLog => {
      if (!stopped) {
        stopped = true;
        streams.forEach((stream, index) => {
          stream.write = originals[index] as typeof stream.write;
        });
      }
      return { ...counts, byMessage: Object.fromEntries(byMessage) };
    },
  };
};
