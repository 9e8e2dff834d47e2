import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../infra/openapi.ts';
import { httpRoutes } from '../../shared/config/routes.ts';

describe('generated API reference', () => {
  it('documents every route of the route table', () => {
    const document = buildOpenApi();

    for (const route of httpRoutes) {
      expect(
        document.paths[route.path]?.[route.method.toLowerCase()],
        `${route.method} ${route.path}`,
      ).toBeDefined();
    }
  });

  it('is committed up to date in docs/openapi.json (run npm run docs:api)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));

    expect(committed).toEqual(JSON.parse(JSON.stringify(buildOpenApi())));
  });
});
