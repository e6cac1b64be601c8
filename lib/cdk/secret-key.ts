import { RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { SECRETS_MANAGER_DECRYPT } from "../plan/config-store.js";

/**
 * Lets every principal of the account decrypt with `key` through Secrets Manager only, as the AWS
 * managed key `aws/secretsmanager` does: who may read a secret stays decided by
 * `secretsmanager:GetSecretValue` on that secret, also for readers in other stacks that know only its ARN.
 */
export function allowSecretsManagerToDecrypt(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: SECRETS_MANAGER_DECRYPT.sid,
      principals: [new iam.AnyPrincipal()],
      actions: [...SECRETS_MANAGER_DECRYPT.actions],
      resources: ["*"],
      conditions: SECRETS_MANAGER_DECRYPT.conditions(stack.account, stack.region),
    }),
  );
}

/**
 * A customer-managed KMS key (rotated yearly) for Secrets Manager secrets, readable through Secrets
 * Manager by whoever may read the secret (`allowSecretsManagerToDecrypt`). Cost note: billed monthly.
 *
 * @example
 * const key = createSecretKey(this, "SecretsKey", { description: "Secrets of the orders service" });
 * new secretsmanager.Secret(this, "ApiKey", { encryptionKey: key });
 */
export function createSecretKey(scope: Construct, id: string, props: { readonly description: string; readonly removalPolicy?: RemovalPolicy }): kms.Key {
  const key = new kms.Key(scope, id, { description: props.description, enableKeyRotation: true, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN });
  allowSecretsManagerToDecrypt(key);
  return key;
}
