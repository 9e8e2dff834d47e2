/**
 * The list prices the bench's cost model uses: ONE table, us-east-1, on-demand, first (smallest) volume
 * tier, no free tier, no Savings Plans. Looked up on 2026-12-03 with the bench's `search` tool.
 *
 * AWS's own pricing pages render their rate tables from price tokens, so the text the search returns shows
 * the rules (units, increments, rounding) but seldom the numbers. Each row says where its number was
 * confirmed; `confirmed` is false where only third-party pages quoting the AWS page could be found.
 * Check them against the AWS pages before quoting the bench's dollars anywhere else.
 */

export interface Price {
  /** US dollars per `per` units. */
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** The AWS page the price belongs to. */
  readonly source: string;
  /** Where the number itself was read (the AWS page or the pages quoting it). */
  readonly seen: string;
  /**
   * Whether AWS's own text showed the number (the page's worked example, read through a verbatim
   * transcript of the page); false where only third-party pages quoting it were found.
   */
  readonly confirmed: boolean;
}

export const PRICE_REGION = 'us-east-1';
export const PRICES_LOOKED_UP = '2026-12-03';

export const PRICES = {
  /** Messages sent and received, metered in 32 KB increments (a 33 KB message counts as two). */
  wsMessage: {
    usd: 1.0,
    per: 1e6,
    unit: 'WebSocket message (per 32 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    seen: "the page's WebSocket pricing example (first 1 billion messages a month) as transcribed on 2026-09-20; the 32 KB increment in the page text",
    confirmed: true,
  },
  /** Per connection, not per message: kept out of the per-message cost, shown next to it. */
  wsConnectionMinute: {
    usd: 0.25,
    per: 1e6,
    unit: 'WebSocket connection minute',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    seen: "the page's WebSocket pricing example; quoted in an AWS re:Post question on the page",
    confirmed: true,
  },
  /** HTTP API requests, metered in 512 KB increments (first 300 million a month). */
  httpRequest: {
    usd: 1.0,
    per: 1e6,
    unit: 'HTTP API request (per 512 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    seen: "the page's HTTP API pricing example (first 300 million requests a month)",
    confirmed: true,
  },
  lambdaRequest: {
    usd: 0.2,
    per: 1e6,
    unit: 'Lambda request',
    source: 'https://aws.amazon.com/lambda/pricing/',
    seen: "third-party tables (x86 and arm64 alike); the AWS page's own text seen only for Lambda Managed Instances' request charge, the same $0.20 per million",
    confirmed: false,
  },
  /** arm64 duration, first tier; billed per 1 ms, rounded up per invocation. */
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'Lambda GB-second (arm64)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    seen: "third-party only: a Lambda cost guide (2026-05, x86 $0.0000166667 / arm64 $0.0000133334) and artillery's prices.js (arm64 1333340e-11); the AWS page shows the rate as a token",
    confirmed: false,
  },
  /** On-demand write request unit: 1 per started KB of an item written (2 in a transaction). */
  dynamoWriteRequestUnit: {
    usd: 0.625,
    per: 1e6,
    unit: 'DynamoDB write request unit',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    seen: 'third-party only: a 2025 DynamoDB pricing guide (US East, after the 50 % on-demand cut of 2024-11-01); the AWS page text gives the unit rules, not the number',
    confirmed: false,
  },
  /** On-demand read request unit: 1 per started 4 KB strongly consistent, ½ eventually, 2 transactional. */
  dynamoReadRequestUnit: {
    usd: 0.125,
    per: 1e6,
    unit: 'DynamoDB read request unit',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    seen: 'third-party only: the same 2025 guide; the AWS page text gives the unit rules, not the number',
    confirmed: false,
  },
  /** Standard log class ingestion (Lambda's logs: first tier of the vended-logs tiers, the same rate). */
  logsIngestedGb: {
    usd: 0.5,
    per: 1,
    unit: 'GB ingested into CloudWatch Logs (2^30 bytes)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    seen: 'third-party only: several 2025–2026 guides (us-east-1 $0.50 per GB; Lambda logs tiered since 2025-05-01, first tier at the same $0.50)',
    confirmed: false,
  },
} as const satisfies Record<string, Price>;

export type Prices = { readonly [K in keyof typeof PRICES]: Price };

/** Dollars for `quantity` units of one price. */
export const dollars = (price: Price, quantity: number): number => (quantity * price.usd) / price.per;
