import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SECRETS_STORE_READ_ACTIONS } from "../../kubernetes/secrets-store.js";
import type { ServiceConfigPlan } from "../../plan/config-store.js";
import { secretKeyPolicy } from "./secret-key.js";

export interface ConfigStoreArgs {
  /** What the store holds for one service: its parameters and secret names (`serviceConfigOf(plan.configStore, name)`). */
  readonly config: ServiceConfigPlan;
  /**
   * Values of the service's secrets, by key (e.g. from `pulumi config set --secret`).
   * @default - a generated 32-character value per secret, rotated by replacing its RandomPassword
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Protect the secrets, keep them when the stack is destroyed, and keep deleted ones recoverable for 30 days instead of 7 (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * KMS key ARN that encrypts the secrets. Its policy must let the secrets' readers decrypt through
   * Secrets Manager (see `SECRETS_MANAGER_DECRYPT`).
   * @default - a new key with yearly rotation when the store has secrets (as the CDK `ConfigStore`), billed monthly
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly key?: (args: aws.kms.KeyArgs) => void;
    readonly parameter?: (args: aws.ssm.ParameterArgs, key: string) => void;
    readonly secret?: (args: aws.secretsmanager.SecretArgs, key: string) => void;
  };
}

/**
 * The external configuration store of one service, per environment: each configuration value an
 * SSM Parameter Store parameter under `/msa/<zone>/<env>/config/<service>/`, each secret a Secrets
 * Manager secret whose value is generated (or given) and kept only as a Pulumi secret, encrypted with
 * the store's own customer-managed key, as the CDK `ConfigStore` does. Whoever may read a secret may
 * decrypt it through Secrets Manager (the key's policy), so readers need only `readPolicyDocument()`.
 *
 * Cost: standard parameters are free; each secret is billed monthly and per 10,000 reads, the key monthly.
 *
 * @example
 * const config = new ConfigStore("orders-config", { config: serviceConfigOf(plan.configStore!, "orders") });
 * export const path = config.parameterPath;
 */
export class ConfigStore extends pulumi.ComponentResource {
  readonly service: string;
  /** Parameter path of the service, ending in `/`. */
  readonly parameterPath: string;
  /** Configuration key → its value, read back from the parameter. */
  readonly parameterValues: Readonly<Record<string, pulumi.Output<string>>>;
  /** Secret key → ARN of its secret. */
  readonly secretArns: Readonly<Record<string, pulumi.Output<string>>>;
  /** Secret key → its value, as a Pulumi secret. */
  readonly secretValues: Readonly<Record<string, pulumi.Output<string>>>;
  /** ARN of the key encrypting the secrets, when the store has any. */
  readonly kmsKeyArn?: pulumi.Output<string>;
  readonly nodes: {
    /** The secrets' key, when the store created one. */
    readonly key?: aws.kms.Key;
    readonly parameters: Readonly<Record<string, aws.ssm.Parameter>>;
    readonly secrets: Readonly<Record<string, aws.secretsmanager.Secret>>;
  };

  constructor(name: string, args: ConfigStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { config } = args;
    if (!/^\/[A-Za-z0-9_./-]+\/$/.test(config.parameterPath)) {
      throw new Error(`ConfigStore ${name}: config.parameterPath "${config.parameterPath}" is not a parameter path. Fix: use a path such as /msa/shop/prod/config/orders/ (see configParameterPath)`);
    }
    for (const parameter of config.parameters) {
      if (!parameter.name.startsWith(config.parameterPath)) {
        throw new Error(`ConfigStore ${name}: parameter ${parameter.key} is named "${parameter.name}", outside ${config.parameterPath}. Fix: keep every parameter under the service's path`);
      }
    }
    const unknown = Object.keys(args.secretValues ?? {}).filter((key) => !config.secrets.some((s) => s.key === key));
    if (unknown.length > 0) {
      throw new Error(`ConfigStore ${name}: secretValues has ${unknown.join(", ")}, which services[${config.service}].secrets does not declare. Fix: add them to the spec's secrets or remove them`);
    }
    super("msa:aws:ConfigStore", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const slug = (key: string) => key.toLowerCase().replace(/[^a-z0-9]+/g, "-");

    const parameters: Record<string, aws.ssm.Parameter> = {};
    for (const parameter of config.parameters) {
      const parameterArgs: aws.ssm.ParameterArgs = { name: parameter.name, type: "String", value: parameter.value, description: `${parameter.key} of ${config.service}`, tags };
      args.transform?.parameter?.(parameterArgs, parameter.key);
      parameters[parameter.key] = new aws.ssm.Parameter(`${name}-${slug(parameter.key)}`, parameterArgs, parent);
    }

    const stateful = args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    let key: aws.kms.Key | undefined;
    if (config.secrets.length > 0 && args.kmsKeyArn === undefined) {
      const keyArgs: aws.kms.KeyArgs = { description: `Encrypts the secrets of ${config.service}`, enableKeyRotation: true, deletionWindowInDays: 30, policy: secretKeyPolicy(parent), tags };
      args.transform?.key?.(keyArgs);
      key = new aws.kms.Key(`${name}-key`, keyArgs, stateful);
    }
    const kmsKeyArn = args.kmsKeyArn !== undefined ? pulumi.output(args.kmsKeyArn) : key?.arn;

    const secrets: Record<string, aws.secretsmanager.Secret> = {};
    const secretValues: Record<string, pulumi.Output<string>> = {};
    for (const secret of config.secrets) {
      const given = args.secretValues?.[secret.key];
      const value = given !== undefined ? pulumi.secret(given) : new random.RandomPassword(`${name}-${slug(secret.key)}`, { length: 32, special: false }, parent).result;
      const secretArgs: aws.secretsmanager.SecretArgs = { name: secret.name, description: `${secret.key} of ${config.service}`, kmsKeyId: kmsKeyArn, recoveryWindowInDays: args.retain ? 30 : 7, tags };
      args.transform?.secret?.(secretArgs, secret.key);
      secrets[secret.key] = new aws.secretsmanager.Secret(`${name}-${slug(secret.key)}`, secretArgs, stateful);
      new aws.secretsmanager.SecretVersion(`${name}-${slug(secret.key)}-value`, { secretId: secrets[secret.key]!.id, secretString: value }, parent);
      secretValues[secret.key] = pulumi.secret(value);
    }

    this.service = config.service;
    this.parameterPath = config.parameterPath;
    this.parameterValues = Object.fromEntries(Object.entries(parameters).map(([key, p]) => [key, p.value]));
    this.secretArns = Object.fromEntries(Object.entries(secrets).map(([key, s]) => [key, s.arn]));
    this.secretValues = secretValues;
    if (kmsKeyArn && config.secrets.length > 0) this.kmsKeyArn = kmsKeyArn;
    this.nodes = { ...(key ? { key } : {}), parameters, secrets };
    this.registerOutputs({ parameterPath: this.parameterPath, secretArns: this.secretArns, ...(this.kmsKeyArn ? { kmsKeyArn: this.kmsKeyArn } : {}) });
  }

  /** An IAM policy that reads every parameter under the service's path (also by path) and every one of its secrets. */
  readPolicyDocument(): pulumi.Output<string> {
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const path = this.parameterPath.replace(/\/$/, "");
    return pulumi.all([partition, region, account, pulumi.all(Object.values(this.secretArns))]).apply(([p, r, a, secretArns]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ReadOwnConfiguration",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            // Parameter ARNs drop the name's leading slash after "parameter/".
            Resource: [`arn:${p}:ssm:${r}:${a}:parameter${path}`, `arn:${p}:ssm:${r}:${a}:parameter${path}/*`],
          },
          ...(secretArns.length > 0 ? [{ Sid: "ReadOwnSecrets", Effect: "Allow", Action: [...SECRETS_STORE_READ_ACTIONS], Resource: secretArns }] : []),
        ],
      }),
    );
  }
}
