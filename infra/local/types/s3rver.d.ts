declare module 's3rver' {
  import type { Server } from 'node:http';

  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    /** Creates the buckets of `configureBuckets` (what run() does before it listens). */
    configureBuckets(): Promise<void>;
    /** Listens with s3rver's request handler; the callback on 'listening' (errors are 'error' events). */
    listen(port: number, address: string, callback: () => void): Server;
    on(event: 'event', listener: (event: { Records: unknown[] }) => void): this;
  }
}
