/**
 * The environment a handler module needs at import (shared/config/env.ts validates it), for unit tests
 * that import handlers or their stacks with the AWS clients mocked: set it before the first import of
 * the module under test (a dynamic import in `beforeAll`).
 */
export const HANDLER_TEST_ENV = {
  TABLE_NAME: 'chat-test',
  WS_MANAGEMENT_ENDPOINT: 'https://abc.execute-api.us-east-1.amazonaws.com/prod',
  WS_PUBLIC_URL: 'wss://abc.execute-api.us-east-1.amazonaws.com/prod',
  AUTH_ISSUER: 'https://idp.example.com/',
  AUTH_AUDIENCE: 'chat',
  AUTH_SECRET: 'x'.repeat(32),
  VISITOR_SECRET: 'y'.repeat(32),
  ATTACHMENTS_BUCKET: 'chat-attachments-test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
} as const;

export const useHandlerTestEnv = (): void => {
  Object.assign(process.env, HANDLER_TEST_ENV);
};
