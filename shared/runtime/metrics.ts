/**
 * Powertools metrics (EMF), published by the HTTP and WebSocket stacks (the cold-start metric and what a
 * handler records); `$disconnect` does without them, for its keep-alive budget.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.ts';

// The metrics utility's own notices ("no application metrics to publish" on requests that record none)
// go through a child logger that only reports errors.
export const metrics = new Metrics({
  namespace: 'ServerlessChat',
  serviceName: 'serverless-chat',
  logger: logger.createChild({ logLevel: 'ERROR' }),
});
