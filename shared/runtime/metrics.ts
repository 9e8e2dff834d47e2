/** Powertools metrics (EMF): only the functions that record business metrics import this. */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.ts';

// The metrics utility's own notices ("no application metrics to publish" on requests that record none)
// go through a child logger that only reports errors.
export const metrics = new Metrics({
  namespace: 'ServerlessChat',
  serviceName: 'serverless-chat',
  logger: logger.createChild({ logLevel: 'ERROR' }),
});
