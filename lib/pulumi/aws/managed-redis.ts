import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RedisPlan } from "../../plan/types.js";
import { secretKeyPolicy } from "./secret-key.js";

/** Arguments of {@link ManagedRedis}. */
export interface ManagedRedisArgs {
  /** VPC the cache and its security group live in. */
  readonly vpcId: pulumi.Input<string>;
  /** Subnets of the cache subnet group; use isolated subnets, the cache never needs the internet. */
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security groups allowed to connect on `port`; nothing else is admitted.
   * @default - none: add rules to `securityGroup` yourself
   */
  readonly allowedSecurityGroupIds?: readonly pulumi.Input<string>[];
  /**
   * Redis engine version.
   * @default "7.1"
   */
  readonly engineVersion?: string;
  /**
   * Node type. Cost: each node is billed hourly.
   * @default "cache.t4g.small"
   */
  readonly nodeType?: string;
  /**
   * Read replicas besides the primary; with at least one, automatic failover is on.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Spread the primary and replicas over zones (needs `replicas` ≥ 1).
   * @default - true when replicas ≥ 1
   */
  readonly multiAz?: boolean;
  /**
   * TCP port.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Days of daily snapshots kept; 0 turns snapshots off.
   * @default 7
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Keep the cache, its key and its auth-token secret when the stack is destroyed, and protect them from deletion.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * KMS key ARN for encryption at rest of the cache and of the auth-token secret. Its policy must let
   * the token's readers decrypt through Secrets Manager (see `SECRETS_MANAGER_DECRYPT`).
   * @default - a new key with yearly rotation whose policy lets the account administer it and lets whoever may read the token decrypt it through Secrets Manager only
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Description shown in the console.
   * @default - the component name
   */
  readonly description?: string;
  /**
   * Tags added to every resource.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: ManagedRedisTransform;
}

export interface ManagedRedisTransform {
  readonly key?: (args: aws.kms.KeyArgs) => void;
  readonly securityGroup?: (args: aws.ec2.SecurityGroupArgs) => void;
  readonly subnetGroup?: (args: aws.elasticache.SubnetGroupArgs) => void;
  readonly authToken?: (args: random.RandomPasswordArgs) => void;
  readonly authTokenSecret?: (args: aws.secretsmanager.SecretArgs) => void;
  readonly replicationGroup?: (args: aws.elasticache.ReplicationGroupArgs) => void;
}

/** Placement and access of a cache, which the plan does not hold. */
export interface RedisPlacement {
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  readonly allowedSecurityGroupIds?: readonly pulumi.Input<string>[];
}

/** Maps a plan's Redis entry (sessions or log buffer) plus its placement to {@link ManagedRedisArgs}. */
export function managedRedisArgsFromPlan(plan: RedisPlan, placement: RedisPlacement, retain: boolean): ManagedRedisArgs {
  if (plan.engine !== "redis") {
    throw new Error(`ManagedRedis: engine "${plan.engine}" is not supported by ElastiCache replication groups. Fix: use auth.sessions: redis`);
  }
  return {
    ...placement,
    engineVersion: plan.engineVersion,
    nodeType: plan.nodeType,
    replicas: plan.replicas,
    multiAz: plan.multiAz,
    port: plan.port,
    snapshotRetentionDays: plan.snapshotRetentionDays,
    retain,
  };
}

/**
 * An ElastiCache Redis replication group: TLS required, encrypted at rest with KMS, a generated auth token
 * kept in Secrets Manager, its own security group, isolated subnets. The building block of
 * `SessionStore` and of the log pipeline's buffer.
 *
 * Cost: ElastiCache nodes are billed hourly, (1 + replicas) × nodeType.
 *
 * @example
 * const cache = new ManagedRedis("cache", { vpcId: network.vpcId, subnetIds: network.isolatedSubnetIds, allowedSecurityGroupIds: [appSecurityGroupId] });
 * export const cacheEndpoint = cache.endpoint;
 */
export class ManagedRedis extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly authTokenSecret: aws.secretsmanager.Secret;
  /** Primary endpoint host name. */
  readonly endpoint: pulumi.Output<string>;
  /** Reader endpoint host name (equals the primary without replicas). */
  readonly readerEndpoint: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly securityGroupId: pulumi.Output<string>;
  /** Secret holding the auth token itself (a plain string). */
  readonly authTokenSecretArn: pulumi.Output<string>;
  /** The auth token, as a Pulumi secret. */
  readonly authToken: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: ManagedRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:ManagedRedis", name, {}, opts);
    const replicas = args.replicas ?? 1;
    const multiAz = args.multiAz ?? replicas > 0;
    const port = args.port ?? 6379;
    const snapshotDays = args.snapshotRetentionDays ?? 7;
    validateRedisArgs(replicas, multiAz, port, snapshotDays);
    const tags = { ...args.tags };
    const parent = { parent: this };
    // Stateful children survive `pulumi destroy` and refuse deletion when the caller asks to retain.
    const stateful = args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;

    let kmsKeyArn: pulumi.Input<string>;
    if (args.kmsKeyArn) {
      kmsKeyArn = args.kmsKeyArn;
    } else {
      const keyArgs: aws.kms.KeyArgs = {
        description: `${name} cache and auth token`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        // Readers of the token (pods, instances, Logstash) need only GetSecretValue on the secret.
        policy: secretKeyPolicy(parent),
        tags,
      };
      args.transform?.key?.(keyArgs);
      kmsKeyArn = new aws.kms.Key(`${name}-key`, keyArgs, stateful).arn;
    }

    const sgArgs: aws.ec2.SecurityGroupArgs = {
      vpcId: args.vpcId,
      description: `${name} Redis: clients on port ${port} only`,
      tags: { ...tags, Name: `${name}-redis` },
    };
    args.transform?.securityGroup?.(sgArgs);
    this.securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, sgArgs, parent);
    (args.allowedSecurityGroupIds ?? []).forEach(
      (source, i) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-ingress-${i}`,
          {
            securityGroupId: this.securityGroup.id,
            referencedSecurityGroupId: source,
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            description: "Redis clients",
          },
          parent,
        ),
    );

    const subnetGroupArgs: aws.elasticache.SubnetGroupArgs = { subnetIds: args.subnetIds, description: `${name} Redis subnets`, tags };
    args.transform?.subnetGroup?.(subnetGroupArgs);
    const subnetGroup = new aws.elasticache.SubnetGroup(`${name}-subnets`, subnetGroupArgs, parent);

    // ElastiCache auth tokens allow 16-128 printable characters without '/', '"' or '@'; alphanumerics avoid all three.
    const tokenArgs: random.RandomPasswordArgs = { length: 64, special: false };
    args.transform?.authToken?.(tokenArgs);
    const token = new random.RandomPassword(`${name}-auth-token`, tokenArgs, parent);
    this.authToken = pulumi.secret(token.result);

    const secretArgs: aws.secretsmanager.SecretArgs = {
      description: `${name} Redis auth token`,
      kmsKeyId: kmsKeyArn,
      recoveryWindowInDays: 30,
      tags,
    };
    args.transform?.authTokenSecret?.(secretArgs);
    this.authTokenSecret = new aws.secretsmanager.Secret(`${name}-auth-token`, secretArgs, stateful);
    new aws.secretsmanager.SecretVersion(
      `${name}-auth-token`,
      // The bare token, as every reader takes it: the CSI driver's mirrored key, the instances' env files, Logstash.
      { secretId: this.authTokenSecret.id, secretString: this.authToken },
      parent,
    );

    const groupArgs: aws.elasticache.ReplicationGroupArgs = {
      description: args.description ?? `${name} Redis`,
      engine: "redis",
      engineVersion: args.engineVersion ?? "7.1",
      nodeType: args.nodeType ?? "cache.t4g.small",
      port,
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: replicas > 0,
      multiAzEnabled: multiAz,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [this.securityGroup.id],
      atRestEncryptionEnabled: true,
      kmsKeyId: kmsKeyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: this.authToken,
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: snapshotDays,
      ...(snapshotDays > 0 ? { snapshotWindow: "03:00-05:00" } : {}),
      tags,
    };
    args.transform?.replicationGroup?.(groupArgs);
    this.replicationGroup = new aws.elasticache.ReplicationGroup(`${name}-redis`, groupArgs, stateful);

    this.endpoint = this.replicationGroup.primaryEndpointAddress;
    this.readerEndpoint = this.replicationGroup.readerEndpointAddress;
    this.port = pulumi.output(port);
    this.securityGroupId = this.securityGroup.id;
    this.authTokenSecretArn = this.authTokenSecret.arn;
    this.kmsKeyArn = pulumi.output(kmsKeyArn);
    this.registerOutputs({
      endpoint: this.endpoint,
      readerEndpoint: this.readerEndpoint,
      port: this.port,
      securityGroupId: this.securityGroupId,
      authTokenSecretArn: this.authTokenSecretArn,
    });
  }

  /** An IAM policy document that lets a principal read the auth token (and only that secret). */
  readAuthTokenPolicyDocument(): pulumi.Output<string> {
    return pulumi.jsonStringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: this.authTokenSecretArn },
        {
          Effect: "Allow",
          Action: "kms:Decrypt",
          Resource: this.kmsKeyArn,
          Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`secretsmanager.${aws.getRegionOutput({}, { parent: this }).region}.amazonaws.com` } },
        },
      ],
    });
  }
}

function validateRedisArgs(replicas: number, multiAz: boolean, port: number, snapshotDays: number): void {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) {
    throw new Error(`ManagedRedis: replicas is ${replicas}. Fix: use an integer from 0 to 5 (ElastiCache allows five replicas per shard)`);
  }
  if (multiAz && replicas === 0) {
    throw new Error(`ManagedRedis: multiAz is true with replicas 0. Fix: set replicas to 1 or more, or multiAz to false`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`ManagedRedis: port is ${port}. Fix: use a TCP port, e.g. 6379`);
  if (!Number.isInteger(snapshotDays) || snapshotDays < 0 || snapshotDays > 35) {
    throw new Error(`ManagedRedis: snapshotRetentionDays is ${snapshotDays}. Fix: use an integer from 0 to 35`);
  }
}
