/**
 * The web apps' build: esbuild bundles in memory (nothing is written), served by the local cloud's
 * static server and uploaded by the CDK stack, so both serve the very same bytes.
 *
 *   /sdk/chat.js         ESM bundle of web/sdk/index.ts (the browser SDK)
 *   /widget.js           IIFE bundle of web/widget/main.ts (the embeddable widget, self-contained)
 *   /widget-media.js     ESM bundle of web/widget/media.ts (emoji picker, voice recorder: the widget
 *                        imports it on first use, from the origin it was served from)
 *   /console/console.js  ESM bundle of web/console/main.ts (the agent console)
 *
 * each with its linked source map (`.js.map`); `/sdk/chat.d.ts` comes from infra/sdk-types.ts. Browser
 * code imports from shared/ with `import type` only: `browserBundleViolations` (checked by a unit test and
 * at deploy) finds zod, the AWS SDK, jose or Node built-ins in a bundle's inputs.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, buildSync, type Metafile, type OutputFile } from 'esbuild';
import { inlineHashes } from './web-csp.ts';
import { generateSdkTypes } from './sdk-types.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
export const WEB_ROOT = join(PROJECT_ROOT, 'web');

export interface WebAsset {
  readonly body: Buffer;
  readonly contentType: string;
}
/** URL path (`/widget.js`) → built file. */
export type WebAssets = ReadonlyMap<string, WebAsset>;

export interface WebEntry {
  /** The URL path of the bundle. */
  readonly path: string;
  /** The entry module, relative to the web root. */
  readonly source: string;
  readonly format: 'esm' | 'iife';
  /** esbuild's target (default `es2020`). */
  readonly target?: readonly string[];
}

/**
 * The browsers of the widget and the console (they already need `requestSubmit`, Web Locks and
 * BroadcastChannel): class fields and `#private` members stay as they are, which es2020 would turn into
 * WeakMaps and helper calls (7 % of the widget's gzip size). /sdk/chat.js stays es2020 for host apps.
 */
export const APP_TARGET: readonly string[] = ['es2022', 'chrome91', 'edge91', 'firefox90', 'safari15'];

export const WEB_ENTRIES: readonly WebEntry[] = [
  { path: '/sdk/chat.js', source: 'sdk/index.ts', format: 'esm' },
  { path: '/widget.js', source: 'widget/main.ts', format: 'iife', target: APP_TARGET },
  { path: '/widget-media.js', source: 'widget/media.ts', format: 'esm', target: APP_TARGET },
  { path: '/console/console.js', source: 'console/main.ts', format: 'esm', target: APP_TARGET },
];
/**
 * Property names ending in `_` (not `__`) are internal to a bundle and shortened by the build (esbuild
 * `mangleProps`, each bundle on its own). Wire names (JSON fields, DOM APIs, host options and commands,
 * the SDK's public API) never end in `_`; quoted names (`o['name_']`) are left alone.
 */
export const MANGLED_PROPS = /[^_]_$/;
/** The SDK's entry and the URL path of its generated declaration file. */
export const SDK_ENTRY = 'sdk/index.ts';
export const SDK_TYPES_PATH = '/sdk/chat.d.ts';
/** Paths served briefly cached (a host embeds them by a fixed URL): everything else may cache longer. */
/** Fetched by fixed URLs from host pages (the widget, its on-demand module, its configuration). */
export const SHORT_CACHE_PATHS: readonly string[] = ['/widget.js', '/widget-media.js', '/config.json'];
export const SHORT_CACHE_SECONDS = 300;

export interface WebBuildOptions {
  /** The web directory (default: web/ of this repository). */
  readonly webRoot?: string;
  readonly entries?: readonly WebEntry[];
  /** Linked source maps next to each bundle (default true). */
  readonly sourcemap?: boolean;
}

export interface WebBuild {
  readonly assets: Map<string, WebAsset>;
  /** esbuild's metafile of each bundle, by URL path. */
  readonly metafiles: Map<string, Metafile>;
  /** Entries whose source does not exist (not built). */
  readonly skipped: readonly WebEntry[];
}

const JS = 'text/javascript; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

const esbuildOptions = (
  webRoot: string,
  entry: WebEntry,
  sourcemap: boolean,
): BuildOptions & { write: false; metafile: true } => ({
  entryPoints: [join(webRoot, entry.source)],
  outfile: join(webRoot, entry.path),
  bundle: true,
  write: false,
  metafile: true,
  platform: 'browser',
  target: entry.target ? [...entry.target] : 'es2020',
  format: entry.format,
  minify: true,
  mangleProps: MANGLED_PROPS,
  drop: ['debugger'],
  sourcemap: sourcemap ? 'linked' : false,
  legalComments: 'none',
  // Non-ASCII characters as escapes: the same code whatever charset a host page makes of the script.
  charset: 'ascii',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Parameter properties and field initializers as plain assignments in the constructor, without the
  // class-field declarations ES2022 semantics add beside them (no class of the web apps relies on
  // [[Define]] fields: none shadows an accessor of a base class).
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
  absWorkingDir: PROJECT_ROOT,
  logLevel: 'silent',
});

const collect = (
  webRoot: string,
  results: readonly { entry: WebEntry; outputFiles: readonly OutputFile[]; metafile: Metafile }[],
  skipped: readonly WebEntry[],
): WebBuild => {
  const assets = new Map<string, WebAsset>();
  const metafiles = new Map<string, Metafile>();
  for (const { entry, outputFiles, metafile } of results) {
    metafiles.set(entry.path, metafile);
    for (const file of outputFiles) {
      const path = `/${relative(webRoot, file.path).split('\\').join('/')}`;
      assets.set(path, {
        body: Buffer.from(file.contents),
        contentType: path.endsWith('.map') ? JSON_TYPE : JS,
      });
    }
  }
  return { assets, metafiles, skipped };
};

/** Builds every entry whose source exists, in parallel; throws on a compile error. */
export const buildWeb = async (options: WebBuildOptions = {}): Promise<WebBuild> => {
  const webRoot = resolve(options.webRoot ?? WEB_ROOT);
  const entries = options.entries ?? WEB_ENTRIES;
  const present = entries.filter((entry) => existsSync(join(webRoot, entry.source)));
  const results = await Promise.all(
    present.map(async (entry) => {
      const result = await build(esbuildOptions(webRoot, entry, options.sourcemap ?? true));
      return { entry, outputFiles: result.outputFiles, metafile: result.metafile };
    }),
  );
  return collect(
    webRoot,
    results,
    entries.filter((entry) => !present.includes(entry)),
  );
};

/** buildWeb, synchronously (CDK constructs are built synchronously at synth). */
export const buildWebSync = (options: WebBuildOptions = {}): WebBuild => {
  const webRoot = resolve(options.webRoot ?? WEB_ROOT);
  const entries = options.entries ?? WEB_ENTRIES;
  const present = entries.filter((entry) => existsSync(join(webRoot, entry.source)));
  const results = present.map((entry) => {
    const result = buildSync(esbuildOptions(webRoot, entry, options.sourcemap ?? true));
    return { entry, outputFiles: result.outputFiles, metafile: result.metafile };
  });
  return collect(
    webRoot,
    results,
    entries.filter((entry) => !present.includes(entry)),
  );
};

/** Source files of the web apps that are built, not served (and tests). */
const NOT_SERVED = /(?:\.ts|\.tsx|\.test\.[jt]s)$/;

/**
 * The deployable site in `outDir`: the plain files of web/ (HTML, CSS, images; not the TypeScript
 * sources), the bundles with their source maps, and `/sdk/chat.d.ts`. Fails when a bundle takes in code
 * that must not reach a browser. Returns the sha256 CSP sources of the pages' inline scripts and styles.
 */
export const stageWebSite = (
  outDir: string,
  options: { readonly webRoot?: string; readonly types?: boolean } = {},
): { scriptHashes: string[]; styleHashes: string[] } => {
  const webRoot = resolve(options.webRoot ?? WEB_ROOT);
  const scriptHashes = new Set<string>();
  const styleHashes = new Set<string>();
  const copy = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const from = join(dir, entry.name);
      if (entry.isDirectory()) {
        copy(from);
      } else if (entry.isFile() && (!NOT_SERVED.test(entry.name) || entry.name.endsWith('.d.ts'))) {
        const to = join(outDir, relative(webRoot, from));
        mkdirSync(dirname(to), { recursive: true });
        cpSync(from, to);
        if (entry.name.endsWith('.html')) {
          const hashes = inlineHashes(readFileSync(from, 'utf8'));
          for (const hash of hashes.scripts) scriptHashes.add(hash);
          for (const hash of hashes.styles) styleHashes.add(hash);
        }
      }
    }
  };
  copy(webRoot);
  const built = buildWebSync({ webRoot });
  const problems = [...built.metafiles].flatMap(([path, metafile]) =>
    browserBundleViolations(metafile).map((violation) => `${path}: ${violation}`),
  );
  if (problems.length > 0)
    throw new Error(`browser bundles take in server code:\n  ${problems.join('\n  ')}`);
  const files = new Map(built.assets);
  const types = options.types === false ? undefined : buildSdkTypes(webRoot);
  if (types) files.set(SDK_TYPES_PATH, types);
  for (const [path, asset] of files) {
    const to = join(outDir, path);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, asset.body);
  }
  return { scriptHashes: [...scriptHashes].sort(), styleHashes: [...styleHashes].sort() };
};

/** `/sdk/chat.d.ts` of the SDK under webRoot, or undefined when the SDK has no entry yet. Slow (seconds). */
export const buildSdkTypes = (webRoot: string = WEB_ROOT): WebAsset | undefined => {
  const entry = join(resolve(webRoot), SDK_ENTRY);
  if (!existsSync(entry)) return undefined;
  const text = generateSdkTypes({
    entry,
    banner: '/** Types of the browser SDK at /sdk/chat.js (generated from its sources; no dependencies). */',
  });
  return { body: Buffer.from(text), contentType: SDK_TYPES_CONTENT_TYPE };
};
const SDK_TYPES_CONTENT_TYPE = 'application/typescript; charset=utf-8';

/**
 * buildSdkTypes in a child process: the type-check takes seconds of CPU and must not stall the local
 * cloud's handlers, which share this process's event loop.
 */
export const buildSdkTypesInChild = (webRoot: string = WEB_ROOT): Promise<WebAsset | undefined> => {
  if (!existsSync(join(resolve(webRoot), SDK_ENTRY))) return Promise.resolve(undefined);
  const script = fileURLToPath(new URL('./sdk-types-cli.ts', import.meta.url));
  return new Promise((resolveTypes, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, resolve(webRoot)],
      { cwd: PROJECT_ROOT, maxBuffer: 32 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${SDK_TYPES_PATH}: ${stderr.trim() || error.message}`));
        else resolveTypes({ body: Buffer.from(stdout), contentType: SDK_TYPES_CONTENT_TYPE });
      },
    );
  });
};

/** Packages that must never reach a browser bundle (server-side code, or the schemas' runtime). */
const FORBIDDEN_PACKAGES = [
  'zod',
  '@aws-sdk',
  '@smithy',
  '@aws-crypto',
  '@aws-lambda-powertools',
  '@middy',
  'jose',
];
const NODE_BUILTIN =
  /^(?:node:|(?:assert|buffer|child_process|crypto|dns|events|fs|http|https|net|os|path|process|stream|tls|url|util|worker_threads|zlib)(?:\/|$))/;

/** The inputs and imports of a browser bundle that must not be there (empty when it is clean). */
export const browserBundleViolations = (metafile: Metafile): string[] => {
  const violations = new Set<string>();
  for (const [input, info] of Object.entries(metafile.inputs)) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const pkg = match?.[1];
    if (pkg && FORBIDDEN_PACKAGES.some((name) => pkg === name || pkg.startsWith(`${name}/`)))
      violations.add(`package ${pkg}`);
    if (/(?:^|\/)shared\/(?:adapters|auth|config|http|ws)\//.test(input))
      violations.add(`server module ${input}`);
    for (const imported of info.imports)
      if (imported.external && NODE_BUILTIN.test(imported.path))
        violations.add(`node built-in ${imported.path}`);
  }
  return [...violations].sort();
};
