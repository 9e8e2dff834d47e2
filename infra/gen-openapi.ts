/** `npm run docs:api`: writes docs/openapi.json from the zod schemas. */
import { writeFileSync } from 'node:fs';
import { buildOpenApi } from './openapi.ts';

writeFileSync(
  new URL('../docs/openapi.json', import.meta.url),
  `${JSON.stringify(buildOpenApi(), null, 2)}\n`,
);
console.log('wrote docs/openapi.json');
