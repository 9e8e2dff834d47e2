/**
 * The cold-start budgets (test/bench/cold-budgets.ts) kept honest without timing anything (timings are
 * `npm run bench:cold`'s job): every deployed function has the budget its route calls for, and its
 * bundle, made with the stack's own options, leaves nothing external (the AWS SDK is bundled) and stays
 * within its class's byte budget, so a stray import into a hot function fails here first.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { esbuildOptions, LAMBDA_BUNDLING } from '../../infra/constructs/bundling.ts';
import type { DeployedRoute } from '../../shared/config/routes.ts';
import { bundleFunctions, deployedFunctions, type FunctionBundle } from '../support/lambda-bundles.ts';
import { type BudgetClass, budgetOf, CLASS_BUDGETS, FUNCTION_BUDGETS } from '../bench/cold-budgets.ts';

/** The rule of docs/benchmarks.md ("Cold starts"), restated here on purpose. */
const expectedClass = (route: DeployedRoute): BudgetClass => {
  if (route.kind === 'ws' && (route.routeKey === 'ping' || route.routeKey === '$disconnect'))
    return 'keepAlive';
  if (route.permissions.some((permission) => permission.startsWith('attachments:'))) return 's3Signing';
  return 'standard';
};

const functions = deployedFunctions();

describe('cold-start budget table', () => {
  it('has a budget for every deployed function and for nothing else', () => {
    // Act
    const budgeted = Object.keys(FUNCTION_BUDGETS).sort();

    // Assess
    expect(budgeted).toEqual(functions.map((fn) => fn.id).sort());
  });

  it('gives every function the documented import budget of its class', () => {
    // Act
    const classes = Object.fromEntries(functions.map((fn) => [fn.id, budgetOf(fn.id).class]));
    const importMs = Object.fromEntries(functions.map((fn) => [fn.id, budgetOf(fn.id).importMs]));

    // Assess
    expect(classes).toEqual(Object.fromEntries(functions.map((fn) => [fn.id, expectedClass(fn.route)])));
    expect(CLASS_BUDGETS.keepAlive.importMs).toBe(100);
    expect(CLASS_BUDGETS.standard.importMs).toBe(150);
    expect(CLASS_BUDGETS.s3Signing.importMs).toBe(250);
    expect(Object.values(importMs).every((ms) => [100, 150, 250].includes(ms))).toBe(true);
    expect(importMs['ws-ping']).toBe(100);
    expect(importMs['ws-disconnect']).toBe(100);
  });
});

describe('function bundles (the stack’s esbuild options)', () => {
  let bundles: FunctionBundle[] = [];

  beforeAll(async () => {
    // One build, nothing written; no source map (it only adds a `sourceMappingURL` comment to the code).
    bundles = await bundleFunctions(functions, join(tmpdir(), 'chat-cold-bundles'), { sourcemap: false });
  }, 90_000);

  it('are built with nothing external, as NodejsFunction is told to', () => {
    expect(LAMBDA_BUNDLING.externalModules).toEqual([]);
    expect(esbuildOptions().external).toEqual([]);
    expect(bundles.map((bundle) => bundle.id)).toEqual(functions.map((fn) => fn.id));
  });

  it('leave no @aws-sdk/* (or any other package) import external', () => {
    // Act
    const external = bundles.filter((bundle) => bundle.externalPackages.length > 0);

    // Assess
    expect(Object.fromEntries(external.map((bundle) => [bundle.id, bundle.externalPackages]))).toEqual({});
    // Functions that use the SDK carry it inside the bundle.
    const withSdk = bundles.filter((bundle) =>
      Object.keys(bundle.metafile.inputs).some((input) => input.includes('node_modules/@aws-sdk/')),
    );
    expect(withSdk.length).toBeGreaterThan(0);
  });

  it('resolve credentials from the environment only: the SDK default chain is in no bundle', () => {
    // Act
    const withChain = bundles
      .map((bundle) => ({
        id: bundle.id,
        inputs: Object.keys(bundle.metafile.inputs).filter((input) =>
          /node_modules\/@aws-sdk\/(credential-provider-(node|sso|ini|process|web-identity)|nested-clients)\//.test(
            input,
          ),
        ),
      }))
      .filter((bundle) => bundle.inputs.length > 0);
    const withEnvProvider = bundles.filter((bundle) =>
      Object.keys(bundle.metafile.inputs).some((input) =>
        input.endsWith('shared/adapters/lambda-credentials.ts'),
      ),
    );

    // Assess
    expect(withChain).toEqual([]);
    expect(withEnvProvider.length).toBeGreaterThan(0);
  });

  it('carry none of the SDK’s event-stream codec, so none but the S3 ones (checksums) loads node:zlib at import', () => {
    // Act
    const withCodec = bundles
      .filter((bundle) =>
        Object.keys(bundle.metafile.inputs).some((input) => input.includes('/submodules/event-streams/')),
      )
      .map((bundle) => bundle.id);
    const withS3 = (bundle: FunctionBundle) =>
      Object.keys(bundle.metafile.inputs).some((input) => input.includes('node_modules/@aws-sdk/client-s3/'));
    const withZlib = bundles
      .filter((bundle) => !withS3(bundle))
      .filter((bundle) =>
        Object.values(bundle.metafile.outputs).some((output) =>
          output.imports.some((imported) => imported.path === 'zlib' || imported.path === 'node:zlib'),
        ),
      )
      .map((bundle) => bundle.id);

    // Assess
    expect(withCodec).toEqual([]);
    expect(withZlib).toEqual([]);
  });

  it('keep the AWS SDK and jose out of ping (a keep-alive must stay cheap)', () => {
    // Act
    const ping = bundles.find((bundle) => bundle.id === 'ws-ping');
    const heavy = Object.keys(ping?.metafile.inputs ?? {}).filter((input) =>
      /node_modules\/(@aws-sdk|@smithy|jose)\//.test(input),
    );

    // Assess
    expect(ping).toBeDefined();
    expect(heavy).toEqual([]);
  });

  it('stay within the byte budget of their class', () => {
    // Act
    const sizes = bundles.map((bundle) => ({
      id: bundle.id,
      class: budgetOf(bundle.id).class,
      bytes: bundle.code.length,
      budget: budgetOf(bundle.id).bytes,
    }));
    const over = sizes.filter((size) => size.bytes > size.budget);

    // Assess
    for (const budgetClass of Object.keys(CLASS_BUDGETS) as BudgetClass[]) {
      const ofClass = sizes.filter((size) => size.class === budgetClass);
      const largest = Math.max(0, ...ofClass.map((size) => size.bytes));
      console.log(
        `[cold-bundles] ${budgetClass}: ${ofClass.length} functions, largest ${largest} bytes (budget ${CLASS_BUDGETS[budgetClass].bytes})`,
      );
    }
    expect(over).toEqual([]);
  });
});
