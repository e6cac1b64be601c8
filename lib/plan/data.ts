/**
 * Database per service, CQRS read models and event stores: what each service owns, named and
 * sized once for every engine, with the access lists the engines grant the owner (and nobody else).
 * Pure: no engine is loaded.
 */

import type { Cloud, DatabaseEngine, DatabaseSpec, LandingZoneSpec, ServiceSpec, Tier } from "../spec/types.js";
import { BROKER_OPTIONS, CATALOG, DATABASE_IMPLEMENTATION } from "./catalog.js";
import { EVENT_STORE_FORWARDING } from "./event-store.js";
import { subscriptionName } from "./messaging.js";
import { physicalName } from "./naming.js";
import { SIZING, VERSIONS } from "./sizing.js";
import type { DatabasePlan, EventStorePlan, ReadModelPlan, ServicePlan } from "./types.js";

/** Environment variables a service receives for what it owns; the same names on every engine. */
export const DATA_ENV = {
  databaseEngine: "DATABASE_ENGINE",
  databaseHost: "DATABASE_HOST",
  databasePort: "DATABASE_PORT",
  databaseName: "DATABASE_NAME",
  /** The user the service connects as with its cloud identity (IAM auth) or its credentials. */
  databaseUser: "DATABASE_USER",
  /** ARN of the secret holding the administrator's generated credentials (AWS). */
  databaseSecretArn: "DATABASE_SECRET_ARN",
  /** Password of DATABASE_USER where the platform generates one (existing clusters), from a Secret. */
  databasePassword: "DATABASE_PASSWORD",
  /** MongoDB connection URI (with the password) of a document store on an existing cluster, from a Secret. */
  databaseUri: "DATABASE_URI",
  /** Table of a key-value or document store (a document store's collection on an existing cluster). */
  tableName: "TABLE_NAME",
  eventStore: "EVENT_STORE",
  readModelTable: "READ_MODEL_TABLE",
} as const;

/** Where a service's AWS database is: its table (key-value, document), or its relational instance and the user the service connects as. */
export type AwsDatabaseLocation<T> =
  | { readonly engine: string; readonly table: T }
  | { readonly engine: string; readonly host: T; readonly port: number; readonly databaseName: string; readonly user: string; readonly secretArn: T };

/**
 * The variable (`DATA_ENV`) each field of an {@link AwsDatabaseLocation} is given under, by kind of
 * store. Both engines' service databases ({@link awsDatabaseEnvironment}) and the names VMs and
 * Beanstalk forward (`serviceDataEnvNames`) read this one table.
 */
export const AWS_DATABASE_ENV = {
  table: { engine: DATA_ENV.databaseEngine, table: DATA_ENV.tableName },
  relational: {
    engine: DATA_ENV.databaseEngine,
    host: DATA_ENV.databaseHost,
    port: DATA_ENV.databasePort,
    databaseName: DATA_ENV.databaseName,
    user: DATA_ENV.databaseUser,
    secretArn: DATA_ENV.databaseSecretArn,
  },
} as const;

/** The variables telling a service where its AWS database is, named by {@link AWS_DATABASE_ENV}. */
export function awsDatabaseEnvironment<T>(location: AwsDatabaseLocation<T>): Record<string, T | string> {
  if ("table" in location) {
    const names = AWS_DATABASE_ENV.table;
    return { [names.engine]: location.engine, [names.table]: location.table };
  }
  const names = AWS_DATABASE_ENV.relational;
  return {
    [names.engine]: location.engine,
    [names.host]: location.host,
    [names.port]: String(location.port),
    [names.databaseName]: location.databaseName,
    [names.user]: location.user,
    [names.secretArn]: location.secretArn,
  };
}

/** `SAGA_PLACE_ORDER_COMMAND_QUEUE_URL`, `SAGA_PLACE_ORDER_STATE_MACHINE_ARN` (Azure: `_COMMAND_QUEUE`, `_NAMESPACE`, `_START_URL`; existing cluster: `_WORKFLOW_TEMPLATE`, `_NAMESPACE`). */
export function sagaEnvName(saga: string, what: "COMMAND_QUEUE_URL" | "STATE_MACHINE_ARN" | "COMMAND_QUEUE" | "NAMESPACE" | "START_URL" | "WORKFLOW_TEMPLATE"): string {
  return `SAGA_${saga.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_${what}`;
}

/**
 * Data-plane actions the owner of a key-value, document or read-model table gets on its table and
 * indexes: everything an application does with items, nothing that changes the table itself.
 */
export const TABLE_DATA_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:DescribeTable",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:UpdateItem",
] as const;

/**
 * What the owner of an event store may do: append (PutItem, alone or in TransactWriteItems) and
 * read. No UpdateItem or DeleteItem, so stored events never change; no BatchWriteItem, which cannot
 * carry the `attribute_not_exists(<sequence>)` condition every append must use.
 */
export const EVENT_STORE_ACTIONS = ["dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"] as const;

/** Reading a DynamoDB stream (the event store's, by the pipe that forwards it to the broker). */
export const STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"] as const;

/** Using a service's data key through DynamoDB or Secrets Manager (CMK-encrypted tables and secrets). */
export const DATA_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"] as const;

/** Reading the administrator secret of the service's own relational database. */
export const DATABASE_SECRET_ACTIONS = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"] as const;

/** Relational engine settings shared by the engines. */
export const RELATIONAL = {
  postgres: { port: 5432, adminUser: "postgres", family: "postgres16", tlsParameter: { name: "rds.force_ssl", value: "1" }, logExports: ["postgresql", "upgrade"] },
  mysql: { port: 3306, adminUser: "admin", family: "mysql8.0", tlsParameter: { name: "require_secure_transport", value: "ON" }, logExports: ["error", "slowquery"] },
} as const;

export type RelationalEngine = keyof typeof RELATIONAL;

/** Seconds between the OS metrics RDS Enhanced Monitoring publishes for an instance (billed as CloudWatch Logs). */
export const DATABASE_MONITORING_INTERVAL_SECONDS = 60;

/** The AWS managed policy RDS Enhanced Monitoring's role needs (CDK's `DatabaseInstance` attaches the same). */
export const DATABASE_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole";

export function isRelational(engine: DatabaseEngine): engine is RelationalEngine {
  return engine === "postgres" || engine === "mysql";
}

/** How one service's database on AWS is sized and named: the same options in the CDK and Pulumi `ServiceDatabase`. */
export interface AwsDatabaseOptions {
  /**
   * RDS instance class without the `db.` prefix. Cost: RDS bills per instance-hour (twice with multiAz).
   * @default "t4g.micro"
   */
  readonly instanceClass?: string;
  /**
   * Full engine version.
   * @default - VERSIONS.postgres or VERSIONS.mysql
   */
  readonly engineVersion?: string;
  /**
   * Allocated gp3 storage in GiB.
   * @default 20
   */
  readonly storageGiB?: number;
  /**
   * A standby in another zone.
   * @default false
   */
  readonly multiAz?: boolean;
  /**
   * Days of automated backups of an RDS instance, 1 to 35; DynamoDB keeps 35 days of point-in-time recovery.
   * @default 7
   */
  readonly backupRetentionDays?: number;
  /**
   * Database created in the RDS instance.
   * @default "app"
   */
  readonly databaseName?: string;
  /**
   * RDS instance identifier or DynamoDB table name.
   * @default - generated: by CloudFormation (CDK), from the component's name (Pulumi)
   */
  readonly identifier?: string;
  /**
   * Database user the owner connects as through IAM database authentication (`rds-db:connect`).
   * @default - databaseName
   */
  readonly serviceUser?: string;
  /**
   * Partition key of the DynamoDB table (string).
   * @default "pk"
   */
  readonly partitionKey?: string;
  /**
   * Sort key of the DynamoDB table (string).
   * @default - "sk" for document, none for key-value
   */
  readonly sortKey?: string;
}

interface AwsDatabaseNames {
  readonly databaseName: string;
  readonly serviceUser: string;
  readonly identifier?: string;
}

/** {@link AwsDatabaseOptions} with every default applied: an RDS instance's or a DynamoDB table's. */
export type AwsDatabaseSettings =
  | (AwsDatabaseNames & {
      readonly kind: "rds";
      readonly engine: RelationalEngine;
      readonly instanceClass: string;
      readonly engineVersion: string;
      readonly storageGiB: number;
      readonly multiAz: boolean;
      readonly backupRetentionDays: number;
    })
  | (AwsDatabaseNames & { readonly kind: "table"; readonly partitionKey: string; readonly sortKey?: string });

/**
 * Applies the defaults of an AWS service database's options and checks them, once for both
 * engines; `where` names the construct in the error (`ServiceDatabase <id>`).
 */
export function awsDatabaseSettings(where: string, engine: DatabaseEngine, options: AwsDatabaseOptions): AwsDatabaseSettings {
  const databaseName = options.databaseName ?? "app";
  const names = { databaseName, serviceUser: options.serviceUser ?? databaseName, ...(options.identifier ? { identifier: options.identifier } : {}) };
  if (!isRelational(engine)) {
    // An empty sort key is no key name at all: a document table still gets its "sk".
    const sortKey = options.sortKey || (engine === "document" ? "sk" : undefined);
    return { ...names, kind: "table", partitionKey: options.partitionKey || "pk", ...(sortKey ? { sortKey } : {}) };
  }
  const backupRetentionDays = options.backupRetentionDays ?? 7;
  if (!Number.isInteger(backupRetentionDays) || backupRetentionDays < 1 || backupRetentionDays > 35) {
    throw new Error(`${where}: backupRetentionDays is ${backupRetentionDays}; RDS keeps 1 to 35 days of backups. Fix: use a value in that range`);
  }
  return {
    ...names,
    kind: "rds",
    engine,
    instanceClass: options.instanceClass ?? "t4g.micro",
    engineVersion: options.engineVersion ?? VERSIONS[engine],
    storageGiB: options.storageGiB ?? 20,
    multiAz: options.multiAz ?? false,
    backupRetentionDays,
  };
}

/** `payments-events`-style names: `<zone>-<env>-<service>-<purpose>`. */
function tableName(spec: Pick<LandingZoneSpec, "name" | "environment">, service: string, purpose?: string): string {
  return physicalName("dynamodbTable", spec.name, spec.environment, service, ...(purpose ? [purpose] : []));
}

/** Storage of the PostgreSQL database the platform gives a read model on an existing cluster (the spec's default). */
export const READ_MODEL_DATABASE_STORAGE_GIB = 20;

/**
 * The database a service declares or, on an existing cluster, the PostgreSQL database holding a
 * read model's projection when it declares none (the clouds give it a read table instead).
 */
export function databaseSpecOf(spec: Pick<LandingZoneSpec, "cloud" | "environment">, service: ServiceSpec): DatabaseSpec | undefined {
  if (service.database) return service.database;
  if (spec.cloud !== "kubernetes" || !service.readModel) return undefined;
  return { engine: "postgres", size: spec.environment === "prod" ? "medium" : "small", storageGiB: READ_MODEL_DATABASE_STORAGE_GIB };
}

/** The database a service owns (see {@link databaseSpecOf}), or undefined when it has none. */
export function planDatabase(spec: LandingZoneSpec, service: ServiceSpec): DatabasePlan | undefined {
  const database = databaseSpecOf(spec, service);
  if (!database) return undefined;
  const prod = spec.environment === "prod";
  const relational = isRelational(database.engine) ? RELATIONAL[database.engine] : undefined;
  const databaseName = service.name.replace(/-/g, "_");
  return {
    engine: database.engine,
    implementation: DATABASE_IMPLEMENTATION[spec.cloud][database.engine],
    engineVersion: database.engine === "postgres" ? VERSIONS.postgres : database.engine === "mysql" ? (spec.cloud === "kubernetes" ? VERSIONS.mariadb : VERSIONS.mysql) : "",
    instanceClass: SIZING[spec.cloud][spec.environment].database[database.size],
    storageGiB: database.storageGiB,
    multiAz: prod,
    backupRetentionDays: prod ? 14 : 1,
    databaseName,
    identifier: relational ? physicalName("rds", spec.name, spec.environment, service.name) : tableName(spec, service.name),
    port: relational?.port ?? 0,
    adminUser: relational?.adminUser ?? "",
    serviceUser: databaseName,
    ...(relational ? {} : { partitionKey: "pk", ...(database.engine === "document" ? { sortKey: "sk" } : {}) }),
  };
}

/** The append-only event store of an event-sourced service, or undefined. */
export function planEventStore(spec: LandingZoneSpec, service: ServiceSpec): EventStorePlan | undefined {
  if (!service.eventSourced) return undefined;
  return {
    implementation: CATALOG[spec.cloud].eventStore[spec.tier] ?? "",
    ...EVENT_STORE_FORWARDING.layout,
    name: spec.cloud === "kubernetes" ? `${service.name}.event-store` : tableName(spec, service.name, "events"),
    forwards: [...service.publishes],
  };
}

/** The read store and subscriptions of a CQRS read service, or undefined. */
export function planReadModel(spec: LandingZoneSpec, service: ServiceSpec): ReadModelPlan | undefined {
  if (!service.readModel) return undefined;
  const sources = service.readModel.from;
  const events = [...new Set(spec.services.filter((o) => sources.includes(o.name)).flatMap((o) => o.publishes))];
  return {
    implementation: CATALOG[spec.cloud].readModel[spec.tier] ?? "",
    sources,
    events,
    table: tableName(spec, service.name, "read"),
    ...(spec.cloud === "kubernetes" ? { database: service.name.replace(/-/g, "_") } : {}),
    subscriptions: events.map((event) => subscriptionName(service.name, event)),
  };
}

/** Events the service publishes itself; those its event store forwards reach the broker through the stream. */
export function directPublishes(service: Pick<ServicePlan, "publishes" | "eventStore">): string[] {
  const forwarded = new Set(service.eventStore?.forwards ?? []);
  return service.publishes.filter((event) => !forwarded.has(event));
}

/**
 * What a spec asks of these patterns that its target cannot give, each with the fix; checked by the
 * planner before anything is planned.
 */
export function dataPatternProblems(spec: LandingZoneSpec): string[] {
  const problems: string[] = [];
  spec.services.forEach((service, i) => {
    if (spec.cloud === "kubernetes" && service.readModel && service.database !== undefined && service.database.engine !== "postgres") {
      problems.push(
        `services[${i}].readModel on an existing cluster keeps its projection in the service's own PostgreSQL database, but "${service.name}" declares database.engine "${service.database.engine}". Fix: set services[${i}].database.engine: postgres, or remove services[${i}].database to get one`,
      );
    }
  });
  const broker = spec.messaging.broker === "auto" ? BROKER_OPTIONS[spec.cloud][0] : spec.messaging.broker;
  if (spec.cloud === "aws" && broker === "eventbridge" && spec.tier !== "caas" && spec.services.some((s) => s.publishes.length > 0)) {
    problems.push(`messaging.broker "eventbridge" is wired into Kubernetes workloads only, not the ${spec.tier} services. Fix: set messaging.broker: sns-sqs, or tier: caas`);
  }
  spec.services.forEach((service, i) => {
    if (spec.cloud === "aws" && broker === "sns-sqs" && service.eventSourced && service.publishes.length > EVENT_STORE_FORWARDING.maxSnsPipes) {
      problems.push(
        `services[${i}] is event-sourced and publishes ${service.publishes.length} events, but its stream can feed at most ${EVENT_STORE_FORWARDING.maxSnsPipes} SNS topics (one stream reader each). Fix: set messaging.broker: eventbridge, whose single reader forwards any number of events`,
      );
    }
  });
  spec.sagas.forEach((saga, i) => {
    if (saga.mode === "orchestration" && !orchestrationOffered(spec.cloud, spec.tier)) {
      problems.push(`sagas[${i}].mode "orchestration" needs a workflow engine, which ${spec.cloud}/${spec.tier} does not offer. Fix: set sagas[${i}].mode: choreography`);
    }
  });
  return problems;
}

/** Whether the catalog's saga implementation on a target can orchestrate (a workflow engine), not only choreograph. */
function orchestrationOffered(cloud: Cloud, tier: Tier): boolean {
  const implementation = CATALOG[cloud].saga[tier];
  return implementation !== undefined && implementation !== "choreography";
}
