import { RemovalPolicy, Validations, aws_ec2 as ec2, aws_elasticache as elasticache, aws_kms as kms, aws_secretsmanager as secretsmanager } from "aws-cdk-lib";
import { Construct } from "constructs";
import { VERSIONS } from "../plan/sizing.js";
import { allowSecretsManagerToDecrypt } from "./secret-key.js";

export interface ManagedRedisProps {
  /** VPC the replication group lives in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the cache subnet group.
   * @default - the VPC's isolated subnets
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Peers admitted on the Redis port; more can be added with `allowFrom`.
   * @default - none
   */
  readonly allowFrom?: readonly ec2.IConnectable[];
  /**
   * ElastiCache node type. Cost note: every node is billed hourly.
   * @default "cache.t4g.micro"
   */
  readonly nodeType?: string;
  /**
   * Read replicas beside the primary; with at least one, failover is automatic.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Spread primary and replicas over zones (needs at least one replica).
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * Redis engine version.
   * @default VERSIONS.redis
   */
  readonly engineVersion?: string;
  /**
   * TCP port.
   * @default 6379
   */
  readonly port?: number;
  /**
   * Days of automatic snapshots kept; 0 turns them off.
   * @default 1
   */
  readonly snapshotRetentionDays?: number;
  /**
   * What happens to the data when the stack deletes the replication group: RETAIN, SNAPSHOT or DESTROY.
   * The key and AUTH secret are retained whenever the data is (RETAIN or SNAPSHOT).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * What the cache holds, in the resources' descriptions.
   * @default "Redis"
   */
  readonly description?: string;
}

/**
 * An ElastiCache Redis replication group that is private, TLS-only, encrypted at rest with its own
 * KMS key and protected by a generated AUTH token (a secret encrypted with the same key, readable
 * through Secrets Manager by whoever may read the secret). The building block of `SessionStore` and
 * of `LogPipeline`'s buffer.
 *
 * @example
 * const cache = new ManagedRedis(stack, "Cache", { vpc, allowFrom: [appSecurityGroup], description: "Rate limits" });
 * cache.authToken.grantRead(appRole);
 */
export class ManagedRedis extends Construct implements ec2.IConnectable {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** Primary endpoint address. */
  readonly endpoint: string;
  readonly port: number;
  readonly securityGroup: ec2.SecurityGroup;
  readonly connections: ec2.Connections;
  /** AUTH token clients send; stored in Secrets Manager and passed to ElastiCache by dynamic reference. */
  readonly authToken: secretsmanager.ISecret;
  /** Key encrypting the data at rest and the AUTH token. */
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ManagedRedisProps) {
    super(scope, id);
    const replicas = props.replicas ?? 1;
    const multiAz = props.multiAz ?? true;
    const port = props.port ?? 6379;
    const description = props.description ?? "Redis";
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) {
      throw new Error(`${this.node.path}: replicas is ${replicas}; ElastiCache allows 0 to 5 read replicas`);
    }
    if (multiAz && replicas === 0) {
      throw new Error(`${this.node.path}: multiAz is true with replicas 0; a Multi-AZ group needs a replica to fail over to. Fix: set replicas to 1 or more, or multiAz to false`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // A KMS key or secret cannot be snapshotted; keep them whenever the data survives.
    const companionPolicy = removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.port = port;
    const key = new kms.Key(this, "Key", { description: `Encrypts ${description} at rest`, enableKeyRotation: true, removalPolicy: companionPolicy });
    allowSecretsManagerToDecrypt(key);
    this.encryptionKey = key;
    this.authToken = new secretsmanager.Secret(this, "AuthToken", {
      description: `AUTH token of ${description}`,
      generateSecretString: { excludePunctuation: true, passwordLength: 64 },
      encryptionKey: key,
      removalPolicy: companionPolicy,
    });
    const noRotation =
      "Secrets Manager has no rotation for ElastiCache AUTH tokens: a new token must be set with ModifyReplicationGroup (ROTATE, then SET) while every client reconnects, an operator's planned change.";
    Validations.of(this.authToken).acknowledge(
      { id: "AwsSolutions::AwsSolutions-SMG4", reason: noRotation },
      { id: "NIST.800.53.R5::NIST.800.53.R5-SecretsManagerRotationEnabled", reason: noRotation },
    );
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: `${description}: Redis clients only`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [this.securityGroup], defaultPort: ec2.Port.tcp(port) });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, "SubnetGroup", {
      description: `${description} subnets`,
      subnetIds: props.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, "Resource", {
      replicationGroupDescription: description,
      engine: "redis",
      engineVersion: props.engineVersion ?? VERSIONS.redis,
      cacheNodeType: props.nodeType ?? "cache.t4g.micro",
      numCacheClusters: replicas + 1,
      automaticFailoverEnabled: replicas > 0,
      multiAzEnabled: multiAz,
      port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      // A dynamic reference: the template holds the secret's ARN, CloudFormation resolves the value.
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 1,
      autoMinorVersionUpgrade: true,
    });
    this.replicationGroup.applyRemovalPolicy(removalPolicy);
    if (port === 6379) {
      Validations.of(this.replicationGroup).acknowledge({
        id: "AwsSolutions::AwsSolutions-AEC5",
        reason: "A port change replaces the replication group and its data; the port is reachable only from the admitted security groups, and clients need TLS and the AUTH token besides.",
      });
    }
    this.endpoint = this.replicationGroup.attrPrimaryEndPointAddress;

    for (const peer of props.allowFrom ?? []) this.allowFrom(peer);
  }

  /** Admits a peer (security group, instance, cluster...) on the Redis port. */
  allowFrom(peer: ec2.IConnectable): void {
    this.connections.allowDefaultPortFrom(peer, `Redis clients of ${this.node.path}`);
  }
}
