/**
 * `npm run tenant -- <create|get> --id ID [options]` manages tenant records in the deployed table
 * (or any table: --table, and --endpoint for DynamoDB Local). Uses the standard AWS credential chain.
 *
 *   npm run tenant -- create --id acme --name "Acme" --origin https://acme.example --greeting "Hi!" \
 *     --away "We are offline" --table <TableName output>
 *   npm run tenant -- get --id acme --table <TableName>
 *
 * `--origin` (repeatable) lists the origins whose pages may embed the widget: an exact origin
 * (`https://shop.example`, `http://localhost:8080`), a port wildcard (`http://localhost:*`) or `*` for
 * any; none means no restriction (shared/domain/origins.ts). Invalid patterns are refused.
 */
import { parseArgs } from 'node:util';
import { createTableContext } from '../shared/adapters/dynamo/client.ts';
import { DynamoTenantStore } from '../shared/adapters/dynamo/tenant-store.ts';
import { tenantInputSchema } from '../shared/domain/schemas.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    origin: { type: 'string', multiple: true },
    greeting: { type: 'string' },
    away: { type: 'string' },
    table: { type: 'string' },
    endpoint: { type: 'string' },
  },
});

const fail = (message: string): never => {
  console.error(`error: ${message}`);
  process.exit(2);
};

const command = positionals[0];
const tableName = values.table ?? process.env.TABLE_NAME ?? fail('--table (or TABLE_NAME) is required');
if (!values.id) fail('--id is required');
const store = new DynamoTenantStore(createTableContext(tableName, values.endpoint), 0);

if (command === 'create') {
  const parsed = tenantInputSchema.safeParse({
    tenantId: values.id,
    name: values.name ?? values.id,
    allowedOrigins: values.origin ?? [],
    theme: {},
    greeting: values.greeting,
    awayMessage: values.away,
    createdAt: new Date().toISOString(),
  });
  if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  else {
    await store.put(parsed.data);
    console.log(JSON.stringify(parsed.data, null, 2));
  }
} else if (command === 'get') {
  const tenant = await store.get(values.id ?? '');
  if (!tenant) fail(`tenant ${values.id} not found`);
  console.log(JSON.stringify(tenant, null, 2));
} else {
  fail(
    'usage: npm run tenant -- <create|get> --id ID [--name N] [--origin URL]... [--table T] [--endpoint URL]',
  );
}
