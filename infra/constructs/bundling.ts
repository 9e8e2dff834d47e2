/**
 * How a function is bundled, defined once: the CDK stack hands `LAMBDA_BUNDLING` to every
 * NodejsFunction, and the cold-start bench and the bundle test turn it into esbuild options with
 * `esbuildOptions`, so what they measure is what is deployed.
 *
 * `externalModules: []` bundles everything, the AWS SDK included. Left unset, NodejsFunction marks
 * `@aws-sdk/*` external on Node.js 18+ runtimes (and `@smithy/*` too under a feature flag), and the
 * function would run the runtime's SDK version rather than the one in package-lock.json that the tests
 * ran against; one bundled file also loads faster than a module resolution through the runtime's
 * node_modules.
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Lets bundled ESM code call `require` for CommonJS dependencies. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Absolute, so the alias holds wherever esbuild runs. */
const LAMBDA_CREDENTIALS = fileURLToPath(
  new URL('../../shared/adapters/lambda-credentials.ts', import.meta.url),
);
const LAMBDA_EVENT_STREAMS = fileURLToPath(
  new URL('../../shared/adapters/lambda-event-streams.ts', import.meta.url),
);

/** `--alias:from=to` arguments (as NodejsFunction passes `esbuildArgs['--alias']`) as esbuild's `alias` option. */
const aliasesOf = (esbuildArgs: LambdaBundling['esbuildArgs']): Record<string, string> => {
  const value = esbuildArgs['--alias'];
  const entries = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return Object.fromEntries(
    entries.map((entry) => {
      const at = entry.indexOf('=');
      return [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
};

/** The NodejsFunction bundling props this project sets, every one of them required. */
export type LambdaBundling = Required<
  Pick<
    nodejs.BundlingOptions,
    | 'format'
    | 'minify'
    | 'sourceMap'
    | 'target'
    | 'mainFields'
    | 'banner'
    | 'externalModules'
    | 'esbuildArgs'
    | 'forceDockerBundling'
  >
>;

export const LAMBDA_BUNDLING: LambdaBundling = {
  format: nodejs.OutputFormat.ESM,
  minify: true,
  // Shipped for reading stack traces offline; NODE_OPTIONS=--enable-source-maps would apply them at
  // runtime but costs 20–40 ms of every cold start here (docs/benchmarks.md, "Cold starts"), so it is off.
  sourceMap: true,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  // Nothing external: the SDK the tests ran is the SDK that runs (see above).
  externalModules: [],
  // The SDK's default credential chain, of which Lambda only ever uses the environment link, replaced
  // by that link alone (shared/adapters/lambda-credentials.ts says why); and the SDK's event-stream
  // codec, which no operation of this project uses, by a module that fails clearly if one ever did
  // (shared/adapters/lambda-event-streams.ts).
  esbuildArgs: {
    '--alias': [
      `@aws-sdk/credential-provider-node=${LAMBDA_CREDENTIALS}`,
      `@smithy/core/event-streams=${LAMBDA_EVENT_STREAMS}`,
    ],
  },
  // Local esbuild (a devDependency), no Docker.
  forceDockerBundling: false,
};

/** The file NodejsFunction writes for this format (`index.mjs` for ESM, `index.js` for CommonJS). */
export const bundleFileName = (bundling: LambdaBundling = LAMBDA_BUNDLING): string =>
  bundling.format === nodejs.OutputFormat.ESM ? 'index.mjs' : 'index.js';

/**
 * The esbuild options NodejsFunction derives from `bundling` (its `esbuild --bundle --platform=node …`
 * command line); the caller adds the entry point, the output and, if it wants one, a metafile.
 */
export const esbuildOptions = (bundling: LambdaBundling = LAMBDA_BUNDLING): BuildOptions => ({
  bundle: true,
  platform: 'node',
  format: bundling.format === nodejs.OutputFormat.ESM ? 'esm' : 'cjs',
  target: bundling.target,
  minify: bundling.minify,
  // `--sourcemap`: a linked `.map` file next to the bundle (sourcesContent included, esbuild's default).
  sourcemap: bundling.sourceMap,
  mainFields: [...bundling.mainFields],
  banner: { js: bundling.banner },
  external: [...bundling.externalModules],
  alias: aliasesOf(bundling.esbuildArgs),
});
