/**
 * Runs before every test file (vitest.config.ts `setupFiles`), for what each file would otherwise repeat:
 * - AWS SDK defaults: a region and dummy credentials (clients under test are mocked or talk to DynamoDB
 *   Local, the S3 emulator or a stand-in endpoint; a value already set wins), and no warning about the
 *   Node.js version;
 * - matchers for aws-sdk-client-mock stubs (test/support/client-mock-matchers.ts).
 */
import { expect } from 'vitest';
import { clientMockMatchers } from './support/client-mock-matchers.ts';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

expect.extend(clientMockMatchers);
