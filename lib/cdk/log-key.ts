import { ArnFormat, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_logs as logs } from "aws-cdk-lib";
import type { Construct } from "constructs";

export interface LogKeyProps {
  /** What the key encrypts, in its description. */
  readonly description: string;
  /**
   * What happens to the key when the stack deletes it; keep it as long as the logs it decrypts.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A KMS key (rotated yearly) that CloudWatch Logs may use for the log groups of this account and
 * region, and nothing else. Cost note: a customer-managed key is billed monthly.
 *
 * @example
 * const key = createLogKey(this, "LogKey", { description: "Logs of the orders service" });
 * new logs.LogGroup(this, "Logs", { encryptionKey: key });
 */
export function createLogKey(scope: Construct, id: string, props: LogKeyProps): kms.Key {
  const key = new kms.Key(scope, id, { description: props.description, enableKeyRotation: true, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN });
  allowLogGroupsToUse(key);
  return key;
}

/** CloudWatch Logs encrypts with the key as its regional service principal, limited to this account's log groups. */
export function allowLogGroupsToUse(key: kms.IKey): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      conditions: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": stack.formatArn({ service: "logs", resource: "log-group", resourceName: "*", arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }),
  );
}

/**
 * Encrypts a log group that CDK creates inside a construct of its own (a provider function's log
 * group), which takes no key as a prop.
 */
export function encryptLogGroup(logGroup: logs.ILogGroup | undefined, key: kms.IKey): void {
  const resource = logGroup?.node.defaultChild;
  if (resource instanceof logs.CfnLogGroup) resource.kmsKeyId = key.keyArn;
}
