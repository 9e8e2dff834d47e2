import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;

/** Reads a secret string from Secrets Manager (called once per cold start by the token service). */
export const secretFromArn = (arn: string) => async (): Promise<string> => {
  client ??= new SecretsManagerClient({});
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!SecretString) throw new Error(`secret ${arn} has no string value`);
  return SecretString;
};
