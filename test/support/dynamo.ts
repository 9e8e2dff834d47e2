/**
 * Integration-test support: one DynamoDB Local per test file on a free port, a fresh table per call.
 * Always pair startDynamo() with stop() in afterAll.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoLocal } from '../../infra/local/dynamo.ts';
import { freePort } from '../../infra/local/free-port.ts';
import { ensureTable } from '../../infra/local/table.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

let tables = 0;

export const startDynamo = async () => {
  const dynamo = await startDynamoLocal({ port: await freePort() });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
  return {
    endpoint: dynamo.endpoint,
    client,
    /** A new, empty table from the shared definition, with the metadata GSIs of `indexedKeys`. */
    table: async (indexedKeys?: readonly string[]): Promise<TableContext> => {
      const name = `test-${process.pid}-${++tables}`;
      await ensureTable(client, name, indexedKeys);
      return createTableContext(name, dynamo.endpoint);
    },
    stop: async () => {
      client.destroy();
      await dynamo.stop();
    },
  };
};
