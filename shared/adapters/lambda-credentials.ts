/**
 * The credential provider of the deployed bundles: it stands in for `@aws-sdk/credential-provider-node`
 * (infra/constructs/bundling.ts aliases that package to this file), whose chain also carries the SSO,
 * STS, web-identity, INI-file, process and instance-metadata providers with their nested clients, about
 * 135 KB of every bundle and 20–25 ms of every cold start here (docs/benchmarks.md, "Cold starts").
 *
 * In Lambda that chain never gets past its first link: the runtime sets AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, "the access keys obtained from the function's execution
 * role" (Lambda developer guide, "Defined runtime environment variables"), and the chain's first provider
 * reads exactly those (`fromEnv`). The local cloud and the tests run the handlers' sources, with the
 * SDK's full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** Same name and call shape as the package it replaces: the SDK's clients call it with their config. */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
