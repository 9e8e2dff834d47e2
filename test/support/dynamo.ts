/**
 * Integration-test support: one DynamoDB Local per test file on a free port (`dynamoForFile()`), a
 * fresh table per call.
 */
import {
  type ConsumedCapacity,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { type DynamoLocal, startDynamoLocal } from '../../infra/local/dynamo.ts';
import { freePort } from '../../infra/local/free-port.ts';
import { ensureTable } from '../../infra/local/table.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';

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

type StartedDynamo = Awaited<ReturnType<typeof startDynamo>>;

/**
 * DynamoDB Local for the calling test file: started in its beforeAll, stopped in its afterAll. The
 * returned object is usable inside tests (and hooks after the start).
 */
export const dynamoForFile = (): Pick<StartedDynamo, 'endpoint' | 'client' | 'table'> => {
  let started: StartedDynamo | undefined;
  beforeAll(async () => {
    started = await startDynamo();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const get = (): StartedDynamo => {
    if (!started) throw new Error('DynamoDB Local is not started yet: use it inside tests');
    return started;
  };
  return {
    get endpoint() {
      return get().endpoint;
    },
    get client() {
      return get().client;
    },
    table: (indexedKeys) => get().table(indexedKeys),
  };
};

/**
 * A second context on `table` whose every call asks for and adds up the consumed capacity:
 * `measure(act)` returns what `act` cost in capacity units and which commands it sent.
 */
export const measuredTable = (table: TableContext, endpoint: string) => {
  const context = createTableContext(table.tableName, endpoint);
  let units = 0;
  const calls: string[] = [];
  context.doc.middlewareStack.add(
    (next, info) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] })
        .ConsumedCapacity;
      for (const entry of [consumed ?? []].flat()) units += entry.CapacityUnits ?? 0;
      calls.push(info.commandName ?? 'command');
      return result;
    },
    { step: 'initialize', name: 'consumedCapacity' },
  );
  return {
    context,
    measure: async <T>(act: () => Promise<T>) => {
      units = 0;
      calls.length = 0;
      const result = await act();
      return { result, units, calls: [...calls] };
    },
  };
};

/** A table with only the `pk` / `sk` keys and no index (a bare table, or one of an older version). */
export const bareTableInput = (
  tableName: string,
  options: { stream?: boolean } = {},
): CreateTableCommandInput => ({
  TableName: tableName,
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
  ...(options.stream
    ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }
    : {}),
});

/**
 * DynamoDB Local with one bare table whose stream is on, for stream poller tests: the client uses the
 * credentials and region the poller reads with (DynamoDB Local keeps one database per access key id and
 * region).
 */
export const startStreamTable = async (
  tableName: string,
  region: string,
): Promise<{ dynamo: DynamoLocal; client: DynamoDBClient }> => {
  const dynamo = await startDynamoLocal({ port: await freePort() });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(new CreateTableCommand(bareTableInput(tableName, { stream: true })));
  return { dynamo, client };
};
