/**
 * `npm start`: the local cloud in one command. Prints the URLs, then `ready`.
 *   --persist DIR   keep DynamoDB and S3 data in DIR between runs (default: in memory)
 *   --host ADDRESS  listen on ADDRESS (default: CHAT_HOST, else 127.0.0.1, this machine only; 0.0.0.0
 *                   serves the local network too)
 *   --faults FILE   inject the fault plan in FILE (JSON, or `full`; default: CHAT_FAULTS, else none;
 *                   infra/local/faults.ts)
 * Ports: CHAT_WEB_PORT (3000), CHAT_HTTP_PORT (3001), CHAT_WS_PORT (3002).
 * Indexed chat metadata keys: INDEXED_METADATA_KEYS (default project_id,department,priority).
 * SIGINT / SIGTERM stop every child process within 5 s.
 */
import { parseArgs } from 'node:util';
import { stop as stopEsbuild } from 'esbuild';
import { startLocalCloud } from './cloud.ts';
import { type FaultPlan, loadFaultPlan } from './faults.ts';

const { values } = parseArgs({
  options: { persist: { type: 'string' }, faults: { type: 'string' }, host: { type: 'string' } },
});
const started = Date.now();
const cloud = await Promise.resolve()
  .then(() => {
    const faults: FaultPlan | undefined = values.faults ? loadFaultPlan(values.faults) : undefined;
    return startLocalCloud({
      ...(values.persist ? { persistDir: values.persist } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(faults ? { faults } : {}),
      log: (line) => console.error(line),
    });
  })
  .catch((error: unknown) => {
    // A configuration or start-up problem (bad INDEXED_METADATA_KEYS, a busy port, no Java): the message,
    // not a stack trace. Exiting kills any child already started (infra/local/dynamo.ts).
    console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local cloud…`);
  const force = setTimeout(() => process.exit(1), 4_500);
  // esbuild's service process (the web build's) ends with us; stopping it first leaves nothing behind.
  cloud
    .stop()
    .then(stopEsbuild)
    .then(() => {
      clearTimeout(force);
      process.exit(0);
    });
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

console.log(`Widget demo     ${cloud.urls.web}/
Agent console   ${cloud.urls.web}/console
Widget script   ${cloud.urls.web}/widget.js
Browser SDK     ${cloud.urls.web}/sdk/chat.js   (types: /sdk/chat.d.ts)
HTTP API        ${cloud.urls.http}
WebSocket       ${cloud.urls.ws}
DynamoDB Local  ${cloud.urls.dynamodb}   (table ${cloud.tableName})
Indexed keys    ${cloud.indexedMetadataKeys.join(', ')}   (INDEXED_METADATA_KEYS)
S3 emulator     ${cloud.urls.s3}
Tenant          demo   ·   dev tokens: POST ${cloud.urls.http}/v1/dev/tokens
ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
