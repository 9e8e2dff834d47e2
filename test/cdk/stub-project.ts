/**
 * A throwaway project root for synthesizing the stack without the real handlers: a stub for every
 * handler of the route table and tiny web apps (their inline loader's hash must be in the CSP).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bucketConsumers, httpRoutes, streamConsumers, wsRoutes } from '../../shared/config/routes.ts';

export const STUB_LOADER = "window.ChatWidget = window.ChatWidget || function () {}; ChatWidget('init', {});";
const STUB_WEB: Record<string, string> = {
  'web/demo/index.html': `<!doctype html><title>demo</title><script>${STUB_LOADER}</script>`,
  'web/console/index.html':
    '<!doctype html><title>console</title><script src="/console/console.js"></script>',
  'web/console/main.ts': "document.title = 'console';\n",
  'web/widget/main.ts': "import { greet } from '../sdk/index.ts';\ngreet();\n",
  'web/widget/media.ts': 'export const media = 1;\n',
  'web/sdk/index.ts': 'export const greet = (): string => "hi";\n',
};

/** Writes the stub project into `root` (a fresh temporary directory) and returns it. */
export const writeStubProject = (root: string): string => {
  for (const route of [...httpRoutes, ...wsRoutes, ...streamConsumers, ...bucketConsumers]) {
    const file = join(root, route.handler);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'export const handler = async () => ({ statusCode: 200 });\n');
  }
  for (const [path, text] of Object.entries(STUB_WEB)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
};
