/**
 * GET /v1/tenants/{tenantId}/widget — public: the tenant's widget settings (name, theme, greeting, away
 * text), which the widget shows before any visitor exists. Cacheable for a minute.
 */
import { tenantPathParams } from '#shared/domain/schemas.ts';
import { httpHandler, json, parse } from '#shared/http/middleware.ts';
import { visitors } from '#shared/runtime/visitors.ts';

const WIDGET_SETTINGS_MAX_AGE_SECONDS = 60;

export const handler = httpHandler(async (event) => {
  const { tenantId } = parse(tenantPathParams, event.pathParameters, 'path');
  const response = json(200, await visitors.widgetSettings(tenantId));
  return {
    ...response,
    headers: { ...response.headers, 'cache-control': `public, max-age=${WIDGET_SETTINGS_MAX_AGE_SECONDS}` },
  };
});
