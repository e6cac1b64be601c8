import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SECRETS_MANAGER_DECRYPT } from "../../plan/config-store.js";

/**
 * The policy of a customer-managed key that encrypts Secrets Manager secrets, as the CDK engine
 * writes it (`allowSecretsManagerToDecrypt`): the account administers the key through IAM, and every
 * principal of the account may decrypt with it through Secrets Manager only, so who may read a secret
 * stays decided by `secretsmanager:GetSecretValue` on that secret.
 */
export function secretKeyPolicy(opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
  const account = aws.getCallerIdentityOutput({}, opts).accountId;
  const partition = aws.getPartitionOutput({}, opts).partition;
  const region = aws.getRegionOutput({}, opts).region;
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: SECRETS_MANAGER_DECRYPT.sid,
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [...SECRETS_MANAGER_DECRYPT.actions],
        Resource: "*",
        Condition: pulumi.all([account, region]).apply(([a, r]) => SECRETS_MANAGER_DECRYPT.conditions(a, r)),
      },
    ],
  });
}
