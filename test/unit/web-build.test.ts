import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStandalone, generateSdkTypes } from '../../infra/sdk-types.ts';
import {
  browserBundleViolations,
  buildSdkTypes,
  buildWeb,
  PROJECT_ROOT,
  WEB_ENTRIES,
  WEB_ROOT,
  type WebEntry,
} from '../../infra/web-build.ts';

const run = promisify(execFile);
const SCHEMAS = join(PROJECT_ROOT, 'shared/domain/schemas.ts');

/** A tiny SDK shaped like web/sdk: z.infer types re-exported from types.ts, a class, events. */
const FIXTURE: Record<string, string> = {
  'sdk/types.ts': `import type { z } from 'zod';
import type { chatSchema, messageSchema, Role } from '${SCHEMAS}';
/** A message as the API returns it. */
export type Message = z.infer<typeof messageSchema>;
export type Chat = z.infer<typeof chatSchema>;
export type { Role };
export type Status = 'idle' | 'live' | 'polling';
`,
  'sdk/client.ts': `import type { Chat, Message, Status } from './types.ts';
import type { Envelope } from '${SCHEMAS}';
export interface ChatEvents { message: Message; status: Status; envelope: Envelope }
export class ChatClient {
  #listeners = new Map<string, unknown>();
  private secret = 1;
  constructor(readonly httpUrl: string) {}
  get size(): number { return this.#listeners.size + this.secret; }
  on<K extends keyof ChatEvents>(type: K, fn: (value: ChatEvents[K]) => void): () => void {
    this.#listeners.set(type, fn);
    return () => this.#listeners.delete(type);
  }
  async getChat(chatId: string): Promise<Chat> {
    const response = await fetch(this.httpUrl + '/v1/chats/' + chatId);
    return (await response.json()) as Chat;
  }
}
`,
  'sdk/index.ts': `export * from './client.ts';
export type { Chat, Message, Role, Status } from './types.ts';
export const loadConfig = async (url = '/config.json'): Promise<{ httpUrl: string }> =>
  (await fetch(url)).json() as Promise<{ httpUrl: string }>;
`,
  'widget/main.ts': `import { ChatClient } from '../sdk/index.ts';
(window as unknown as { client: ChatClient }).client = new ChatClient(location.origin);
`,
  'bad/main.ts': `import { messageSchema } from '${SCHEMAS}';
console.log(messageSchema.parse({}));
`,
};

const CONSUMER = `import { ChatClient, loadConfig, type Chat, type Message, type Role } from './chat.js';
const client = new ChatClient('http://localhost:3001');
const off = client.on('message', (message: Message) => {
  const role: Role = message.senderRole;
  const text: string = message.text;
  const width: number | undefined = message.attachment?.width;
  console.log(role, text, width, message.system?.data?.['key']);
});
off();
void client.getChat('ch_x').then((chat: Chat) => chat.participants?.map((p) => p.userId));
void loadConfig().then((config) => config.httpUrl.toUpperCase());
`;

describe('web build', () => {
  let dir: string;
  const entries: WebEntry[] = [...WEB_ENTRIES, { path: '/bad.js', source: 'bad/main.ts', format: 'esm' }];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'web-build-'));
    // The fixture resolves zod's types as web/ does.
    await symlink(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
    for (const [name, text] of Object.entries(FIXTURE)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles each entry in memory (ESM SDK, IIFE widget, source maps) and skips missing ones', async () => {
    const build = await buildWeb({ webRoot: dir, entries });
    expect([...build.assets.keys()].sort()).toEqual([
      '/bad.js',
      '/bad.js.map',
      '/sdk/chat.js',
      '/sdk/chat.js.map',
      '/widget.js',
      '/widget.js.map',
    ]);
    expect(build.skipped.map((entry) => entry.path)).toEqual(['/widget-media.js', '/console/console.js']);
    const sdk = build.assets.get('/sdk/chat.js')!;
    expect(sdk.contentType).toBe('text/javascript; charset=utf-8');
    expect(sdk.body.toString()).toMatch(/export\s*\{/);
    expect(sdk.body.toString()).toContain('//# sourceMappingURL=chat.js.map');
    const widget = build.assets.get('/widget.js')!.body.toString();
    expect(widget).not.toMatch(/\bexport\s*\{/);
    expect(widget).toMatch(/^"use strict";\(\(\)=>\{|^\(\(\)=>\{/);
    expect(widget.length).toBeLessThan(2000); // minified
    // The guard: type-only imports of the schemas leave zod out; a value import pulls it in.
    expect(browserBundleViolations(build.metafiles.get('/sdk/chat.js')!)).toEqual([]);
    expect(browserBundleViolations(build.metafiles.get('/widget.js')!)).toEqual([]);
    expect(browserBundleViolations(build.metafiles.get('/bad.js')!)).toEqual(['package zod']);
  });

  it('flags node built-ins and server modules in a metafile', () => {
    const violations = browserBundleViolations({
      inputs: {
        'web/x.ts': {
          bytes: 1,
          imports: [{ path: 'node:fs', kind: 'import-statement', external: true }],
        },
        'shared/adapters/dynamo/client.ts': { bytes: 1, imports: [] },
        'node_modules/@aws-sdk/client-s3/dist-es/index.js': { bytes: 1, imports: [] },
      },
      outputs: {},
    });
    expect(violations).toEqual([
      'node built-in node:fs',
      'package @aws-sdk/client-s3',
      'server module shared/adapters/dynamo/client.ts',
    ]);
  });

  it('generates one self-contained chat.d.ts: z.infer types expanded, no zod', { timeout: 120_000 }, () => {
    const dts = generateSdkTypes({ entry: join(dir, 'sdk/index.ts') });
    expect(dts).not.toMatch(/zod|import\(|from '/);
    expect(dts).toContain('export type Message = {');
    expect(dts).toContain('export declare class ChatClient');
    expect(dts).toContain('/** A message as the API returns it. */');
    expect(dts).toContain('export type JsonValue =');
    expect(checkStandalone(dts, CONSUMER)).toEqual([]);
    // The check can fail: a consumer misusing the types gets errors.
    const wrong = `import { ChatClient } from './chat.js';
new ChatClient('x').on('message', (message) => { const n: number = message.text; void n; });`;
    expect(checkStandalone(dts, wrong).join('\n')).toMatch(/not assignable to type 'number'/);
  });

  it('refuses an SDK that exposes a value from outside the SDK', { timeout: 120_000 }, async () => {
    await writeFile(
      join(dir, 'sdk/leak.ts'),
      `import { TYPING_EXPIRES_IN_MS } from '${SCHEMAS}';\nexport const typingMs: typeof TYPING_EXPIRES_IN_MS = 5000;\n`,
    );
    await writeFile(
      join(dir, 'sdk/leaky-index.ts'),
      `export * from './leak.ts';\nexport * from './index.ts';\n`,
    );
    expect(() =>
      generateSdkTypes({ entry: join(dir, 'sdk/leaky-index.ts'), sdkDir: join(dir, 'sdk') }),
    ).toThrow(/TYPING_EXPIRES_IN_MS/);
  });
});

describe('web build of web/', () => {
  it('builds every present entry with no zod, AWS SDK or node built-in in a browser bundle', async () => {
    const build = await buildWeb();
    expect(build.metafiles.size + build.skipped.length).toBe(WEB_ENTRIES.length);
    for (const [path, metafile] of build.metafiles)
      expect({ path, violations: browserBundleViolations(metafile) }).toEqual({ path, violations: [] });
  });

  it.runIf(existsSync(join(WEB_ROOT, 'sdk/index.ts')))(
    'chat.d.ts of the SDK compiles with tsc, alone and with a consumer, with no package installed',
    async () => {
      const asset = buildSdkTypes()!;
      const dts = asset.body.toString();
      expect(dts).not.toMatch(/zod/);
      const dir = await mkdtemp(join(tmpdir(), 'sdk-consumer-'));
      try {
        await writeFile(join(dir, 'chat.d.ts'), dts);
        await writeFile(
          join(dir, 'consumer.ts'),
          `import { ChatClient, createVisitor, type Message } from './chat.js';
const session = await createVisitor('http://localhost:3001', 'demo');
const client = new ChatClient({ httpUrl: 'http://localhost:3001', token: session.token });
client.on('message', (message: Message) => console.log(message.seq, message.text));
await client.connect();
export {};
`,
        );
        // A project of its own outside this repository: no node_modules, no @types, strict options.
        await writeFile(
          join(dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              target: 'es2022',
              module: 'es2022',
              moduleResolution: 'bundler',
              lib: ['es2022', 'dom'],
              types: [],
              strict: true,
              noUncheckedIndexedAccess: true,
              exactOptionalPropertyTypes: true,
              noEmit: true,
            },
            files: ['chat.d.ts', 'consumer.ts'],
          }),
        );
        const tsc = join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc');
        const result = await run(process.execPath, [tsc, '-p', dir]).catch((error: { stdout: string }) => ({
          stdout: error.stdout,
        }));
        expect(result.stdout).toBe('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
