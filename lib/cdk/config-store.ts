import { ArnFormat, RemovalPolicy, Stack, aws_iam as iam, type aws_kms as kms, aws_secretsmanager as secretsmanager, aws_ssm as ssm } from "aws-cdk-lib";
import { Construct } from "constructs";
import type { ServiceConfigPlan } from "../plan/config-store.js";
import { pascalCase } from "../plan/naming.js";
import { acknowledge, nagValue } from "./compliance.js";
import { createSecretKey } from "./secret-key.js";

export interface ConfigStoreProps {
  /** What the store holds for one service: its parameters and secret names (`serviceConfigOf(plan.configStore, name)`). */
  readonly config: ServiceConfigPlan;
  /**
   * What happens to the secrets when the stack deletes them; parameters hold no data of their own and always go.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * KMS key of the secrets; readers in other stacks need it to let them decrypt through Secrets Manager (`allowSecretsManagerToDecrypt`).
   * @default - a new key (`createSecretKey`) when the store has secrets, billed monthly
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The external configuration store of one service, per environment: each configuration value an
 * SSM Parameter Store parameter under `/msa/<zone>/<env>/config/<service>/`, each secret a value
 * Secrets Manager generates (the team rotates it), encrypted with a customer-managed key. Nothing
 * secret is ever in the template.
 *
 * Cost: standard parameters are free; each secret is billed monthly and per 10,000 reads, the key monthly.
 *
 * @example
 * const config = new ConfigStore(stack, "Config", { config: serviceConfigOf(plan.configStore!, "orders") });
 * config.grantRead(role);
 */
export class ConfigStore extends Construct {
  readonly service: string;
  /** Parameter path of the service, ending in `/`. */
  readonly parameterPath: string;
  /** Configuration key → its parameter. */
  readonly parameters: ReadonlyMap<string, ssm.StringParameter>;
  /** Secret key → its generated secret. */
  readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
  /** Key of the secrets, when the store has any. */
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: ConfigStoreProps) {
    super(scope, id);
    const { config } = props;
    if (!/^\/[A-Za-z0-9_./-]+\/$/.test(config.parameterPath)) {
      throw new Error(`ConfigStore: config.parameterPath "${config.parameterPath}" is not a parameter path. Fix: use a path such as /msa/shop/prod/config/orders/ (see configParameterPath)`);
    }
    this.service = config.service;
    this.parameterPath = config.parameterPath;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    const parameters = new Map<string, ssm.StringParameter>();
    for (const parameter of config.parameters) {
      if (!parameter.name.startsWith(config.parameterPath)) {
        throw new Error(`ConfigStore ${config.service}: parameter ${parameter.key} is named "${parameter.name}", outside ${config.parameterPath}. Fix: keep every parameter under the service's path`);
      }
      parameters.set(
        parameter.key,
        new ssm.StringParameter(this, `Parameter${pascalCase(parameter.key.toLowerCase())}`, {
          parameterName: parameter.name,
          stringValue: parameter.value,
          description: `${parameter.key} of ${config.service}`,
        }),
      );
    }
    this.parameters = parameters;

    const secrets = new Map<string, secretsmanager.Secret>();
    if (config.secrets.length > 0) {
      this.encryptionKey = props.encryptionKey ?? createSecretKey(this, "SecretsKey", { description: `Encrypts the secrets of ${config.service}`, removalPolicy });
    }
    for (const secret of config.secrets) {
      const generated = new secretsmanager.Secret(this, `Secret${pascalCase(secret.key.toLowerCase())}`, {
        secretName: secret.name,
        description: `${secret.key} of ${config.service}; generated once, rotated by the team`,
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        encryptionKey: this.encryptionKey,
        removalPolicy,
      });
      const teamRotates = "What the secret unlocks is the service's own business (an API key, a signing key); its team rotates it, and pods pick the new value up through the CSI driver.";
      acknowledge(
        generated,
        { id: "AwsSolutions::AwsSolutions-SMG4", reason: teamRotates },
        { id: "NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled", reason: teamRotates },
      );
      secrets.set(secret.key, generated);
    }
    this.secrets = secrets;
  }

  /** Lets `grantee` read every parameter under the service's path (also by path) and every secret. */
  grantRead(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const path = this.parameterPath.replace(/\/$/, "");
    // Parameter ARNs drop the name's leading slash after "parameter/".
    const arn = (resourceName: string) => stack.formatArn({ service: "ssm", resource: "parameter", resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const below = arn(`${path.slice(1)}/*`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
        resources: [arn(path.slice(1)), below],
      }),
    );
    if (grantee.grantPrincipal instanceof iam.Role) {
      acknowledge(grantee.grantPrincipal, {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagValue(this, below)}]`,
        reason: `${this.service} reads its parameters by path: the wildcard covers exactly its own configuration path, which only its ConfigStore writes.`,
      });
    }
    for (const secret of this.secrets.values()) secret.grantRead(grantee);
  }
}
