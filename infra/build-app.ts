/**
 * Builds the CDK app without synthesizing it, so tests can inspect it and infra/app.ts can synth it.
 * cdk-nag v3 runs as a policy-validation plugin during `app.synth()`.
 */
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { CONTEXT_KEYS } from './constructs/config.ts';
import { ChatStack } from './stack.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_STACK_NAME = 'ServerlessChat';

/** Feature flags the stack relies on; CLI / cdk.json context still takes precedence. */
export const FEATURE_FLAGS = {
  // Server access logs are delivered through a bucket policy rather than the LogDeliveryWrite ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

export interface BuildAppOptions {
  /** Extra context (e.g. `auth`, `corsOrigins`, or `aws:cdk:bundling-stacks: []` to skip bundling). */
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
  /** Repository root holding the handler files and web/ (default: this repository). */
  readonly projectRoot?: string;
  /** Register the cdk-nag packs (default true). */
  readonly nag?: boolean;
}

export interface BuiltApp {
  readonly app: App;
  readonly stack: ChatStack;
}

export const buildApp = (options: BuildAppOptions = {}): BuiltApp => {
  const app = new App({
    context: { ...FEATURE_FLAGS, ...options.context },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const stackName =
    (app.node.tryGetContext(CONTEXT_KEYS.stackName) as string | undefined) ?? DEFAULT_STACK_NAME;
  const stack = new ChatStack(app, stackName, {
    projectRoot: options.projectRoot ?? PROJECT_ROOT,
    description: 'serverless-chat: real-time chat on API Gateway WebSocket + HTTP APIs, Lambda and DynamoDB',
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  }
  return { app, stack };
};
