/**
 * The deployed functions' bundles as the CDK stack makes them (infra/constructs/bundling.ts), built
 * with esbuild's API for the cold-start bench (test/bench/cold.ts) and the bundle test
 * (test/unit/cold-bundles.test.ts), and small modules bundled the same way for tests.
 */
import { writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { bundleFileName, esbuildOptions } from '../../infra/constructs/bundling.ts';
import { type DeployedRoute, deployedRoutes, functionId } from '../../shared/config/routes.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface DeployedFunction {
  /** `functionId(route)`, e.g. `ws-ping`: the stack's construct id. */
  readonly id: string;
  readonly route: DeployedRoute;
}

/** Every function the stack deploys, one per handler file. */
export const deployedFunctions = (): DeployedFunction[] => {
  const byHandler = new Map<string, DeployedFunction>();
  for (const route of deployedRoutes()) {
    if (!byHandler.has(route.handler)) byHandler.set(route.handler, { id: functionId(route), route });
  }
  return [...byHandler.values()];
};

export interface FunctionBundle extends DeployedFunction {
  /** The bundle (`index.mjs`), minified, as uploaded. */
  readonly code: Uint8Array;
  /** Its outputs (the bundle and its source map), keyed by path relative to the build's `outdir`. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly metafile: Metafile;
  /** Imports left external that are not Node.js built-ins (a package the runtime would have to provide). */
  readonly externalPackages: readonly string[];
}

/** The non-built-in imports an esbuild output left external, e.g. `@aws-sdk/client-s3`. */
export const externalPackages = (metafile: Metafile): string[] => {
  const external = Object.values(metafile.outputs).flatMap((output) =>
    output.imports.filter((entry) => entry.external && !isBuiltin(entry.path)).map((entry) => entry.path),
  );
  return [...new Set(external)].sort();
};

/**
 * Bundles functions in memory (nothing is written), each into `<outdir>/<id>/index.mjs` (+ `.map`), with
 * the stack's options. One esbuild build with an entry point per function: every output is the same
 * self-contained bundle a single-entry build makes (no code splitting), but shared modules (the AWS
 * SDK above all) are parsed once instead of once per function. `outdir` only names the outputs;
 * `overrides` are for the caller's own needs (e.g. no source map), never for the deployed shape.
 */
export const bundleFunctions = async (
  fns: readonly DeployedFunction[],
  outdir: string,
  overrides: Pick<BuildOptions, 'sourcemap'> = {},
): Promise<FunctionBundle[]> => {
  const file = bundleFileName();
  const stem = file.replace(/\.m?js$/, '');
  const result = await build({
    ...esbuildOptions(),
    ...overrides,
    entryPoints: Object.fromEntries(
      fns.map((fn) => [`${fn.id}/${stem}`, join(PROJECT_ROOT, fn.route.handler)]),
    ),
    outdir,
    outExtension: { '.js': extname(file) },
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const outputs = new Map(
    result.outputFiles.map((output) => [relative(outdir, output.path), output.contents]),
  );
  return fns.map((fn) => {
    const files = new Map([...outputs].filter(([path]) => path.startsWith(`${fn.id}/`)));
    const code = files.get(`${fn.id}/${file}`);
    const meta = result.metafile.outputs[relative(PROJECT_ROOT, join(outdir, fn.id, file))];
    if (!code || !meta) throw new Error(`${fn.id}: esbuild made no ${file}`);
    const inputs = Object.keys(meta.inputs).flatMap((path) => {
      const input = result.metafile.inputs[path];
      return input ? [[path, input] as const] : [];
    });
    const metafile: Metafile = {
      inputs: Object.fromEntries(inputs),
      outputs: { [`${fn.id}/${file}`]: meta },
    };
    return { ...fn, code, files, metafile, externalPackages: externalPackages(metafile) };
  });
};

/**
 * A module written inline (`contents`, resolved from the project root), bundled with the stack's options
 * and written to `file`, ready to import or run: for checking what the deployed bundling does to a
 * piece of code without a whole function around it.
 */
export const bundleSource = async (contents: string, file: string): Promise<{ metafile: Metafile }> => {
  const result = await build({
    ...esbuildOptions(),
    sourcemap: false,
    stdin: { contents, resolveDir: PROJECT_ROOT, loader: 'ts' },
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(file, result.outputFiles[0]?.contents ?? new Uint8Array());
  return { metafile: result.metafile };
};
