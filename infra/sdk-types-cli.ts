/**
 * Prints the browser SDK's generated declaration file (`/sdk/chat.d.ts`) to stdout:
 *   tsx infra/sdk-types-cli.ts [WEB_ROOT]
 * The local cloud runs it in a child process (infra/web-build.ts, buildSdkTypesInChild).
 */
import { buildSdkTypes, WEB_ROOT } from './web-build.ts';

try {
  const asset = buildSdkTypes(process.argv[2] ?? WEB_ROOT);
  if (!asset) {
    console.error('no SDK entry (web/sdk/index.ts)');
    process.exit(2);
  }
  process.stdout.write(asset.body);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
