/** CDK entry point (`cdk.json` → `npx tsx infra/app.ts`). */
import { buildApp } from './build-app.ts';
import { ConfigError } from './constructs/config.ts';

try {
  buildApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake: print the message, not a stack trace.
  console.error(error.message);
  process.exitCode = 1;
}
