/** Azure Key Vault identifiers. Pure: no engine imports. */

/**
 * The secret's name in a Key Vault secret identifier, `https://<vault>.vault.azure.net/secrets/<name>[/<version>]`
 * (any cloud's vault domain), e.g. to grant a role on that secret alone.
 */
export function keyVaultSecretName(secretId: string, what = "keyVaultSecretId"): string {
  const match = /^https:\/\/[A-Za-z0-9-]+\.vault\.[A-Za-z0-9.-]+\/secrets\/([A-Za-z0-9-]{1,127})(?:\/[A-Za-z0-9]*)?\/?$/.exec(secretId);
  if (!match) {
    throw new Error(`${what}: "${secretId}" is not a Key Vault secret identifier. Fix: use https://<vault>.vault.azure.net/secrets/<name>[/<version>], the certificate's secret id`);
  }
  return match[1]!;
}
