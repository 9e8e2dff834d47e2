/**
 * The HTTP API's CORS policy, applied by API Gateway alone: the CDK stack's `corsPreflight`
 * (infra/constructs/apis.ts) and the local gateway (infra/local/http-gateway.ts, configured in
 * infra/local/cloud.ts) read it from here. "If you configure CORS for an API, API Gateway ignores CORS
 * headers returned from your backend integration" (AWS, "Configure CORS for HTTP APIs"), so the
 * functions set none. Allowed origins have one source too: the CDK context `corsOrigins` (locally `*`).
 */
export const HTTP_API_CORS = {
  allowHeaders: ['authorization', 'content-type'],
  allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  maxAgeSeconds: 3600,
} as const;
