import { ArnFormat, Duration, RemovalPolicy, Stack, Validations, aws_dynamodb as dynamodb, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_rds as rds, type aws_secretsmanager as secretsmanager } from "aws-cdk-lib";
import { Construct } from "constructs";
import { awsDatabaseEnvironment, awsDatabaseSettings, DATA_KEY_ACTIONS, type AwsDatabaseOptions, DATABASE_MONITORING_INTERVAL_SECONDS, DATABASE_SECRET_ACTIONS, RELATIONAL, TABLE_DATA_ACTIONS, type RelationalEngine } from "../plan/data.js";
import type { DatabaseEngine } from "../spec/types.js";
import { acknowledgeAwsManagedPolicies, nagValue } from "./compliance.js";

export interface ServiceDatabaseProps extends AwsDatabaseOptions {
  /** `postgres` or `mysql` (an RDS instance), `key-value` or `document` (a DynamoDB table). */
  readonly engine: DatabaseEngine;
  /**
   * VPC of the RDS instance; required for postgres and mysql.
   * @default - none
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the RDS instance.
   * @default - the VPC's isolated subnets
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Peers admitted to the database port: the owning service's workloads, nobody else.
   * @default - none; call `allowFrom` later
   */
  readonly allowFrom?: readonly ec2.IConnectable[];
  /**
   * Encrypts the storage, the generated credentials and the table.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the database and its key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Refuse deletion of the instance or table.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The database one service owns: a relational engine on RDS in isolated subnets (KMS-encrypted
 * storage, TLS forced by its parameter group, administrator password generated and rotated by RDS
 * in Secrets Manager, IAM database authentication, backups, its logs exported to CloudWatch Logs
 * and its OS metrics through Enhanced Monitoring, a security group admitting only the given peers)
 * or a DynamoDB table (KMS, point-in-time recovery, on-demand capacity). Nobody but
 * the grantee of `grantOwner` can read its credentials, connect as its user or touch its items.
 *
 * Cost note: an RDS instance bills hourly even when idle; DynamoDB on demand bills per request.
 *
 * @example
 * const db = new ServiceDatabase(stack, "OrdersDatabase", { engine: "postgres", vpc, allowFrom: [workloadSecurityGroup] });
 * db.grantOwner(ordersRole);
 */
export class ServiceDatabase extends Construct {
  readonly engine: DatabaseEngine;
  readonly encryptionKey: kms.IKey;
  /** The RDS instance (postgres, mysql). */
  readonly instance?: rds.DatabaseInstance;
  /** The table (key-value, document). */
  readonly table?: dynamodb.Table;
  /** Security group of the RDS instance. */
  readonly securityGroup?: ec2.SecurityGroup;
  /** The administrator's credentials, generated and rotated by RDS. */
  readonly secret?: secretsmanager.ISecret;
  /** TCP port of the RDS instance; 0 for tables. */
  readonly port: number;
  private readonly databaseName: string;
  private readonly serviceUser: string;

  constructor(scope: Construct, id: string, props: ServiceDatabaseProps) {
    super(scope, id);
    this.engine = props.engine;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? true;
    const settings = awsDatabaseSettings(`ServiceDatabase ${id}`, props.engine, props);
    this.databaseName = settings.databaseName;
    this.serviceUser = settings.serviceUser;
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, "Key", { description: `Encrypts the data of ${this.node.path}`, enableKeyRotation: true, removalPolicy });

    if (settings.kind === "table") {
      this.port = 0;
      this.table = serviceTable(this, "Table", {
        partitionKey: settings.partitionKey,
        ...(settings.sortKey ? { sortKey: settings.sortKey } : {}),
        ...(settings.identifier ? { tableName: settings.identifier } : {}),
        encryptionKey: this.encryptionKey,
        removalPolicy,
        deletionProtection,
      });
      if (props.allowFrom && props.allowFrom.length > 0) {
        throw new Error(`ServiceDatabase ${id}: allowFrom is set but engine "${props.engine}" is DynamoDB, reached through IAM only. Fix: drop allowFrom and call grantOwner`);
      }
      return;
    }

    if (!props.vpc) throw new Error(`ServiceDatabase ${id}: engine "${props.engine}" needs a vpc (undefined). Fix: pass the VPC whose isolated subnets hold the instance`);
    const relational = RELATIONAL[settings.engine];
    this.port = relational.port;
    const engine = relationalEngine(settings.engine, settings.engineVersion);
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: `${this.node.path}: workloads of the owning service only`,
      allowAllOutbound: false,
    });
    const parameterGroup = new rds.ParameterGroup(this, "Parameters", {
      engine,
      description: `${this.node.path}: TLS only`,
      parameters: { [relational.tlsParameter.name]: relational.tlsParameter.value },
    });
    this.instance = new rds.DatabaseInstance(this, "Instance", {
      engine,
      instanceType: new ec2.InstanceType(settings.instanceClass),
      vpc: props.vpc,
      vpcSubnets: props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.securityGroup],
      port: relational.port,
      // RDS generates the password into Secrets Manager and rotates it; no template or state ever holds it.
      manageMasterUserPassword: true,
      credentials: rds.Credentials.fromUsername(relational.adminUser, { encryptionKey: this.encryptionKey }),
      databaseName: this.databaseName,
      ...(settings.identifier ? { instanceIdentifier: settings.identifier } : {}),
      parameterGroup,
      storageEncrypted: true,
      storageEncryptionKey: this.encryptionKey,
      storageType: rds.StorageType.GP3,
      allocatedStorage: settings.storageGiB,
      multiAz: settings.multiAz,
      backupRetention: Duration.days(settings.backupRetentionDays),
      deletionProtection,
      removalPolicy,
      iamAuthentication: true,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      cloudwatchLogsExports: [...relational.logExports],
      monitoringInterval: Duration.seconds(DATABASE_MONITORING_INTERVAL_SECONDS),
    });
    const monitoringRole = this.instance.node.tryFindChild("MonitoringRole");
    if (monitoringRole instanceof iam.Role) acknowledgeAwsManagedPolicies(monitoringRole, "RDS Enhanced Monitoring");
    const instanceResource = this.instance.node.defaultChild!;
    Validations.of(instanceResource).acknowledge(
      {
        id: "AwsSolutions::AwsSolutions-RDS11",
        reason: "Only the owning service's workloads reach the port (the instance's security group), and they need TLS and IAM or the managed password; another port would hide nothing from them.",
      },
      {
        id: "NIST.800.53.R5::NIST.800.53.R5-RDSInBackupPlan",
        reason: `RDS keeps automated backups for ${settings.backupRetentionDays} days with point-in-time restore, and deletion protection and retention keep the instance; long-term copies are an account-wide AWS Backup policy.`,
      },
    );
    if (props.engine === "mysql") {
      const verbose = "MySQL's general log writes every statement with its data, and its audit log needs the MariaDB audit plugin; the instance exports its error and slow-query logs, and CloudTrail records IAM logins.";
      Validations.of(instanceResource).acknowledge(
        { id: "NIST.800.53.R5::NIST.800.53.R5-RDSLoggingEnabled[LogExport::general]", reason: verbose },
        { id: "NIST.800.53.R5::NIST.800.53.R5-RDSLoggingEnabled[LogExport::audit]", reason: verbose },
      );
    }
    this.secret = this.instance.secret;
    for (const peer of props.allowFrom ?? []) this.allowFrom(peer);
  }

  /** Admits a peer (the owning service's workloads) to the database port. */
  allowFrom(peer: ec2.IConnectable): void {
    if (!this.securityGroup) throw new Error(`${this.node.path}.allowFrom: engine "${this.engine}" is DynamoDB, reached through IAM only. Fix: call grantOwner`);
    this.securityGroup.connections.allowFrom(peer, ec2.Port.tcp(this.port), "the owning service");
  }

  /**
   * Gives the owner its data: connecting as its database user with IAM authentication and reading
   * the generated credentials (RDS), or the item actions on the table and its indexes (DynamoDB),
   * with the key only through that service.
   */
  grantOwner(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    if (this.table) {
      const principal = grantee.grantPrincipal;
      if (Construct.isConstruct(principal)) {
        Validations.of(principal).acknowledge({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagValue(principal, `${this.table.tableArn}/index/*`)}]`,
          reason: "Queries name an index of the service's own table; the wildcard covers that one table's indexes, below its ARN.",
        });
      }
      return iam.Grant.addToPrincipal({ grantee, actions: [...TABLE_DATA_ACTIONS], resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/*`] }).combine(
        grantKeyVia(grantee, this.encryptionKey, `dynamodb.${stack.region}.amazonaws.com`),
      );
    }
    const instance = this.instance!;
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["rds-db:connect"],
      resourceArns: [stack.formatArn({ service: "rds-db", resource: "dbuser", resourceName: `${instance.instanceResourceId}/${this.serviceUser}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    })
      .combine(iam.Grant.addToPrincipal({ grantee, actions: [...DATABASE_SECRET_ACTIONS], resourceArns: [this.secret!.secretArn] }))
      .combine(grantKeyVia(grantee, this.encryptionKey, `secretsmanager.${stack.region}.amazonaws.com`, ["kms:Decrypt"]));
  }

  /** The environment variables (`DATA_ENV`) telling the owner where its data is. */
  environment(): Record<string, string> {
    return awsDatabaseEnvironment(
      this.table
        ? { engine: this.engine, table: this.table.tableName }
        : { engine: this.engine, host: this.instance!.dbInstanceEndpointAddress, port: this.port, databaseName: this.databaseName, user: this.serviceUser, secretArn: this.secret!.secretArn },
    );
  }
}

/** Properties of {@link serviceTable}. */
export interface ServiceTableOptions {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly sortKeyType?: dynamodb.AttributeType;
  readonly tableName?: string;
  readonly encryptionKey: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  readonly stream?: dynamodb.StreamViewType;
}

/** A DynamoDB table as every service store has it: on demand, KMS, point-in-time recovery. */
export function serviceTable(scope: Construct, id: string, options: ServiceTableOptions): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: options.partitionKey, type: dynamodb.AttributeType.STRING },
    ...(options.sortKey ? { sortKey: { name: options.sortKey, type: options.sortKeyType ?? dynamodb.AttributeType.STRING } } : {}),
    ...(options.tableName ? { tableName: options.tableName } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: options.encryptionKey,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: options.deletionProtection,
    removalPolicy: options.removalPolicy,
    ...(options.stream ? { stream: options.stream } : {}),
  });
  Validations.of(table.node.defaultChild!).acknowledge({
    id: "NIST.800.53.R5::NIST.800.53.R5-DynamoDBInBackupPlan",
    reason: "Point-in-time recovery restores the table to any second of the last 35 days, and deletion protection and retention keep it; long-term copies are an account-wide AWS Backup policy.",
  });
  return table;
}

/** Lets a grantee use a key only through one AWS service (`kms:ViaService`). */
export function grantKeyVia(grantee: iam.IGrantable, key: kms.IKey, viaService: string, actions: readonly string[] = DATA_KEY_ACTIONS): iam.Grant {
  const principal = grantee.grantPrincipal;
  if (Construct.isConstruct(principal)) {
    for (const action of actions.filter((a) => a.includes("*"))) {
      Validations.of(principal).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Action::${action}]`,
        reason: "An action family that customer-managed-key encryption of the service's own data uses; granted on that one key, and only for calls made through the data store (kms:ViaService).",
      });
    }
  }
  return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [key.keyArn], conditions: { StringEquals: { "kms:ViaService": viaService } } });
}

function relationalEngine(engine: RelationalEngine, full: string): rds.IInstanceEngine {
  if (engine === "postgres") {
    return rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.of(full, full.split(".")[0]!) });
  }
  return rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(full, full.split(".").slice(0, 2).join(".")) });
}
