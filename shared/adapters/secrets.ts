import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: Promise<SecretsManagerClient> | undefined;

/**
 * Reads a secret string from Secrets Manager (called once per cold start by the token service, on the
 * first token it signs or checks). The client is loaded then, not at import: its modules cost 10–20 ms
 * of every cold start otherwise (docs/benchmarks.md, "Cold starts").
 */
export const secretFromArn = (arn: string) => async (): Promise<string> => {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  client ??= Promise.resolve(new SecretsManagerClient({}));
  const { SecretString } = await (await client).send(new GetSecretValueCommand({ SecretId: arn }));
  if (!SecretString) throw new Error(`secret ${arn} has no string value`);
  return SecretString;
};
