/** `npm run backfill-metadata -- --table NAME …`: see infra/backfill-metadata-cli.ts and docs/deploy.md. */
import { runBackfillCli } from './backfill-metadata-cli.ts';

process.exitCode = await runBackfillCli(process.argv.slice(2));
