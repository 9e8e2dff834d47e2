/**
 * Cold-start budgets of every deployed function (docs/benchmarks.md, "Cold starts"): how long importing
 * its bundle may take on one full core (`npm run bench:cold` measures it) and how big its minified
 * bundle may be (test/unit/cold-bundles.test.ts checks it on every test run).
 *
 * A function's class follows from its route (the unit test holds the table to this rule):
 * - `keepAlive`: the `ping` and `$disconnect` WebSocket routes, which every socket hits and which must
 *   stay cheap: 100 ms;
 * - `s3Signing`: routes with any `attachments:*` permission, which load the S3 client and sign
 *   requests: 250 ms;
 * - `standard`: every other function: 150 ms.
 */

export type BudgetClass = 'keepAlive' | 'standard' | 's3Signing';

export interface Budget {
  /** Median time of `await import(bundle)` in a fresh `node` process, on one full core. */
  readonly importMs: number;
  /** Size of the minified bundle (`index.mjs`, source map excluded). */
  readonly bytes: number;
}

/**
 * Byte budgets: the largest bundle of each class plus about 15 %: `ws-disconnect` 271,132,
 * `http-typing` 425,091 and `http-create-attachment` 674,530 bytes. Most of it is the AWS SDK (the
 * DynamoDB client and Smithy core; the credential chain is the environment link only,
 * shared/adapters/lambda-credentials.ts, and the event-stream codec is left out,
 * shared/adapters/lambda-event-streams.ts); lower a budget when a bundle shrinks, so that growth shows.
 */
export const CLASS_BUDGETS: Readonly<Record<BudgetClass, Budget>> = {
  keepAlive: { importMs: 100, bytes: 312_000 },
  standard: { importMs: 150, bytes: 490_000 },
  s3Signing: { importMs: 250, bytes: 776_000 },
};

/** Every function the stack deploys, by function id (`functionId(route)`), and its class. */
export const FUNCTION_BUDGETS: Readonly<Record<string, BudgetClass>> = {
  'ws-connect': 'standard',
  'ws-disconnect': 'keepAlive',
  'ws-default': 'standard',
  'ws-send-message': 'standard',
  'ws-subscribe': 'standard',
  'ws-mark-read': 'standard',
  'ws-watch-chats': 'standard',
  'ws-unwatch-chats': 'standard',
  'ws-unsubscribe': 'standard',
  'ws-typing': 'standard',
  'ws-react': 'standard',
  'ws-ping': 'keepAlive',
  'http-create-visitor': 'standard',
  'http-refresh-visitor': 'standard',
  'http-get-widget-settings': 'standard',
  'http-create-ticket': 'standard',
  'http-create-chat': 'standard',
  'http-list-chats': 'standard',
  'http-poll-chat-changes': 'standard',
  'http-get-chat': 'standard',
  'http-update-chat': 'standard',
  'http-list-audit': 'standard',
  'http-add-participant': 'standard',
  'http-assign-chat': 'standard',
  'http-mark-read': 'standard',
  'http-get-unread': 'standard',
  'http-get-stats': 'standard',
  'http-get-presence': 'standard',
  'http-system-event': 'standard',
  'http-remove-participant': 'standard',
  'http-update-preferences': 'standard',
  'http-edit-message': 'standard',
  'http-delete-message': 's3Signing',
  'http-list-replies': 'standard',
  'http-add-reaction': 'standard',
  'http-remove-reaction': 'standard',
  'http-send-message': 'standard',
  'http-list-messages': 'standard',
  'http-poll-events': 'standard',
  'http-create-attachment': 's3Signing',
  'http-get-attachment': 's3Signing',
  'http-typing': 'standard',
  'http-create-block': 'standard',
  'http-list-blocks': 'standard',
  'http-delete-block': 'standard',
  'stream-fanout': 'standard',
  'stream-connections': 'standard',
  's3-attachment-uploaded': 's3Signing',
};

/** The class and budget of a function; throws for a function missing from the table. */
export const budgetOf = (functionId: string): Budget & { readonly class: BudgetClass } => {
  const budgetClass = FUNCTION_BUDGETS[functionId];
  if (!budgetClass) throw new Error(`${functionId} has no cold-start budget in test/bench/cold-budgets.ts`);
  return { class: budgetClass, ...CLASS_BUDGETS[budgetClass] };
};
