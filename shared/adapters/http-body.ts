import type { IncomingMessage } from 'node:http';

/**
 * The whole body of an HTTP answer as text, for the few requests made with node:http(s) rather than an
 * SDK client (the secrets' read, the host's key set): rejects once it grows past `maxBytes`, destroying
 * the answer, or when the answer breaks off.
 */
export const readText = (response: IncomingMessage, maxBytes: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) response.destroy(new Error(`the answer is larger than ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
