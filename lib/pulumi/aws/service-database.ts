import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  awsDatabaseEnvironment,
  awsDatabaseSettings,
  DATA_KEY_ACTIONS,
  DATABASE_MONITORING_INTERVAL_SECONDS,
  DATABASE_MONITORING_POLICY,
  DATABASE_SECRET_ACTIONS,
  isRelational,
  RELATIONAL,
  TABLE_DATA_ACTIONS,
  type AwsDatabaseOptions,
} from "../../plan/data.js";
import { physicalName } from "../../plan/naming.js";
import type { DatabasePlan } from "../../plan/types.js";
import type { DatabaseEngine } from "../../spec/types.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";
import { allowPolicyDocument, type AllowStatement } from "./policy-document.js";

/** Where an RDS instance goes and who may reach it. */
export interface DatabasePlacement {
  readonly vpcId: pulumi.Input<string>;
  /** Isolated subnets, one per zone. */
  readonly subnetIds: readonly pulumi.Input<string>[];
  /** Security groups admitted to the database port: the owning service's workloads. */
  readonly allowedSecurityGroupIds: readonly pulumi.Input<string>[];
}

/** Arguments of {@link ServiceDatabase}. */
export interface ServiceDatabaseArgs extends AwsDatabaseOptions {
  /** `postgres` or `mysql` (an RDS instance), `key-value` or `document` (a DynamoDB table). */
  readonly engine: DatabaseEngine;
  /**
   * Placement of the RDS instance; required for postgres and mysql.
   * @default - none
   */
  readonly placement?: DatabasePlacement;
  /**
   * ARN of the key encrypting the storage, the generated credentials and the table.
   * @default - a new key with rotation
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Keep the database when the stack is destroyed, protect it, deletion-protect it and take a final snapshot.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches a child's arguments before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly instance?: (args: aws.rds.InstanceArgs) => void;
    readonly table?: (args: aws.dynamodb.TableArgs) => void;
    readonly securityGroup?: (args: aws.ec2.SecurityGroupArgs) => void;
  };
}

/** Maps a plan's database entry to {@link ServiceDatabaseArgs}. */
export function serviceDatabaseArgsFromPlan(plan: DatabasePlan, options: { readonly placement?: DatabasePlacement; readonly kmsKeyArn?: pulumi.Input<string>; readonly retain: boolean }): ServiceDatabaseArgs {
  return {
    engine: plan.engine,
    ...(options.placement ? { placement: options.placement } : {}),
    instanceClass: plan.instanceClass,
    ...(plan.engineVersion ? { engineVersion: plan.engineVersion } : {}),
    storageGiB: plan.storageGiB,
    multiAz: plan.multiAz,
    backupRetentionDays: plan.backupRetentionDays,
    databaseName: plan.databaseName,
    identifier: plan.identifier,
    serviceUser: plan.serviceUser,
    ...(plan.partitionKey ? { partitionKey: plan.partitionKey } : {}),
    ...(plan.sortKey ? { sortKey: plan.sortKey } : {}),
    ...(options.kmsKeyArn ? { kmsKeyArn: options.kmsKeyArn } : {}),
    retain: options.retain,
  };
}

/**
 * The database one service owns: a relational engine on RDS in isolated subnets (KMS-encrypted
 * storage, TLS forced by its parameter group, administrator password generated and rotated by RDS
 * in Secrets Manager so it never enters Pulumi state, IAM database authentication, backups, its
 * logs exported to CloudWatch Logs and its OS metrics through Enhanced Monitoring, its own security
 * group admitting only `allowedSecurityGroupIds`) or a DynamoDB table (KMS,
 * point-in-time recovery, on demand). Only principals given `ownerPolicyDocument` reach its data.
 *
 * Cost: an RDS instance bills hourly even when idle; DynamoDB on demand bills per request.
 *
 * @example
 * const db = new ServiceDatabase("orders-db", { engine: "postgres", placement: { vpcId, subnetIds, allowedSecurityGroupIds: [workloadSg] } });
 * new aws.iam.RolePolicy("orders-db", { role: ordersRole.name, policy: db.ownerPolicyDocument() });
 */
export class ServiceDatabase extends pulumi.ComponentResource {
  readonly engine: DatabaseEngine;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Host name of the RDS instance, or the table name. */
  readonly endpoint: pulumi.Output<string>;
  /** TCP port; 0 for tables. */
  readonly port: number;
  /** The RDS-managed administrator secret (relational engines). */
  readonly secretArn?: pulumi.Output<string>;
  /** The table (key-value, document). */
  readonly tableArn?: pulumi.Output<string>;
  readonly nodes: {
    readonly key?: aws.kms.Key;
    readonly instance?: aws.rds.Instance;
    readonly securityGroup?: aws.ec2.SecurityGroup;
    readonly parameterGroup?: aws.rds.ParameterGroup;
    /** The role RDS Enhanced Monitoring publishes the instance's OS metrics with. */
    readonly monitoringRole?: aws.iam.Role;
    readonly table?: aws.dynamodb.Table;
  };
  private readonly databaseName: string;
  private readonly serviceUser: string;
  private readonly resourceId?: pulumi.Output<string>;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const onRds = isRelational(args.engine);
    if (onRds && !args.placement) throw new Error(`ServiceDatabase ${name}: engine "${args.engine}" needs placement (undefined). Fix: pass the VPC, isolated subnets and the owner's security groups`);
    if (!onRds && args.placement) throw new Error(`ServiceDatabase ${name}: placement is set but engine "${args.engine}" is DynamoDB, reached through IAM only. Fix: drop placement`);
    const settings = awsDatabaseSettings(`ServiceDatabase ${name}`, args.engine, args);
    super("msa:aws:ServiceDatabase", name, {}, opts);
    this.engine = args.engine;
    const parent = { parent: this };
    const kept = args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const tags = { ...args.tags };
    this.databaseName = settings.databaseName;
    this.serviceUser = settings.serviceUser;
    const key = args.kmsKeyArn ? undefined : new aws.kms.Key(`${name}-key`, { description: `${name} data at rest`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, kept);
    this.kmsKeyArn = key ? key.arn : pulumi.output(args.kmsKeyArn!);

    if (settings.kind === "table") {
      this.port = 0;
      const { partitionKey, sortKey } = settings;
      const tableArgs: aws.dynamodb.TableArgs = {
        ...(settings.identifier ? { name: settings.identifier } : {}),
        billingMode: "PAY_PER_REQUEST",
        hashKey: partitionKey,
        ...(sortKey ? { rangeKey: sortKey } : {}),
        attributes: [{ name: partitionKey, type: "S" }, ...(sortKey ? [{ name: sortKey, type: "S" }] : [])],
        serverSideEncryption: { enabled: true, kmsKeyArn: this.kmsKeyArn },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: args.retain ?? false,
        tags,
      };
      args.transform?.table?.(tableArgs);
      const table = new aws.dynamodb.Table(`${name}-table`, tableArgs, kept);
      this.tableArn = table.arn;
      this.endpoint = table.name;
      this.nodes = { ...(key ? { key } : {}), table };
      this.registerOutputs({ endpoint: this.endpoint, tableArn: this.tableArn, kmsKeyArn: this.kmsKeyArn });
      return;
    }

    const relational = RELATIONAL[settings.engine];
    this.port = relational.port;
    const placement = args.placement!;
    const securityGroupArgs: aws.ec2.SecurityGroupArgs = { vpcId: placement.vpcId, description: `${name}: workloads of the owning service only`, egress: [], tags: { ...tags, Name: name } };
    args.transform?.securityGroup?.(securityGroupArgs);
    const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, securityGroupArgs, parent);
    placement.allowedSecurityGroupIds.forEach(
      (source, i) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-ingress-${i}`,
          { securityGroupId: securityGroup.id, referencedSecurityGroupId: source, ipProtocol: "tcp", fromPort: relational.port, toPort: relational.port, description: "the owning service" },
          parent,
        ),
    );
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: [...placement.subnetIds], description: `${name} isolated subnets`, tags }, parent);
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      { family: relational.family, description: `${name}: TLS only`, parameters: [{ name: relational.tlsParameter.name, value: relational.tlsParameter.value }], tags },
      parent,
    );
    const identifier = settings.identifier;
    // Enhanced Monitoring publishes the instance's OS metrics through a role RDS assumes, as CDK's DatabaseInstance sets up;
    // it lives as long as the instance. Named after the planned identifier, within IAM's 64 characters; autonamed without one.
    const monitoringRole = new aws.iam.Role(
      `${name}-monitoring-role`,
      { ...(identifier ? { name: physicalName("iamRole", identifier, "rds-monitoring") } : {}), assumeRolePolicy: assumeRolePolicy("monitoring.rds.amazonaws.com"), description: `${name}: RDS Enhanced Monitoring`, tags },
      kept,
    );
    const partition = aws.getPartitionOutput({}, parent).partition;
    const monitoringPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-monitoring-policy`,
      { role: monitoringRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${DATABASE_MONITORING_POLICY}` },
      kept,
    );
    const instanceArgs: aws.rds.InstanceArgs = {
      ...(identifier ? { identifier } : {}),
      engine: args.engine,
      engineVersion: settings.engineVersion,
      instanceClass: `db.${settings.instanceClass}`,
      allocatedStorage: settings.storageGiB,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: this.kmsKeyArn,
      dbName: this.databaseName,
      username: relational.adminUser,
      // RDS generates and rotates the password in Secrets Manager: it never enters Pulumi state.
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.kmsKeyArn,
      port: relational.port,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      parameterGroupName: parameterGroup.name,
      multiAz: settings.multiAz,
      backupRetentionPeriod: settings.backupRetentionDays,
      deletionProtection: args.retain ?? false,
      skipFinalSnapshot: !args.retain,
      ...(args.retain ? { finalSnapshotIdentifier: `${identifier ?? name}-final` } : {}),
      iamDatabaseAuthenticationEnabled: true,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      enabledCloudwatchLogsExports: [...relational.logExports],
      monitoringInterval: DATABASE_MONITORING_INTERVAL_SECONDS,
      monitoringRoleArn: monitoringRole.arn,
      tags,
    };
    args.transform?.instance?.(instanceArgs);
    // RDS checks it may assume the role, with its policy, when the instance is created.
    const instance = new aws.rds.Instance(`${name}-db`, instanceArgs, { ...kept, dependsOn: [monitoringPolicy] });
    this.endpoint = instance.address;
    this.secretArn = instance.masterUserSecrets.apply((secrets) => secrets[0]!.secretArn);
    this.resourceId = instance.resourceId;
    this.nodes = { ...(key ? { key } : {}), instance, securityGroup, parameterGroup, monitoringRole };
    this.registerOutputs({ endpoint: this.endpoint, secretArn: this.secretArn, kmsKeyArn: this.kmsKeyArn });
  }

  /**
   * The owner's IAM policy document: connect as its database user with IAM authentication and read
   * the generated credentials (RDS), or the item actions on the table and its indexes (DynamoDB);
   * the key only through that service.
   */
  ownerPolicyDocument(): pulumi.Output<string> {
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const statements: AllowStatement[] = this.tableArn
      ? [
          { Action: [...TABLE_DATA_ACTIONS], Resource: [this.tableArn, pulumi.interpolate`${this.tableArn}/index/*`] },
          { Action: [...DATA_KEY_ACTIONS], Resource: [this.kmsKeyArn], Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`dynamodb.${region}.amazonaws.com` } } },
        ]
      : [
          { Action: ["rds-db:connect"], Resource: [dbUserArn(this, this.resourceId!, this.serviceUser)] },
          { Action: [...DATABASE_SECRET_ACTIONS], Resource: [this.secretArn!] },
          { Action: ["kms:Decrypt"], Resource: [this.kmsKeyArn], Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`secretsmanager.${region}.amazonaws.com` } } },
        ];
    return allowPolicyDocument(statements);
  }

  /** The environment variables (`DATA_ENV`) telling the owner where its data is. */
  environment(): Record<string, pulumi.Output<string>> {
    const environment = awsDatabaseEnvironment(
      this.tableArn
        ? { engine: this.engine, table: this.endpoint }
        : { engine: this.engine, host: this.endpoint, port: this.port, databaseName: this.databaseName, user: this.serviceUser, secretArn: this.secretArn! },
    );
    return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, pulumi.output(value)]));
  }
}

/** `arn:<partition>:rds-db:<region>:<account>:dbuser:<resource id>/<user>`. */
function dbUserArn(parent: pulumi.Resource, resourceId: pulumi.Output<string>, user: string): pulumi.Output<string> {
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const region = aws.getRegionOutput({}, { parent }).region;
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  return pulumi.interpolate`arn:${partition}:rds-db:${region}:${account}:dbuser:${resourceId}/${user}`;
}
