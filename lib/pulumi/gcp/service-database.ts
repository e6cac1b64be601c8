import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATA_ENV } from "../../plan/data.js";
import { physicalName } from "../../plan/naming.js";
import type { DatabasePlan } from "../../plan/types.js";
import { projectOf } from "./project.js";
import { FirestoreStore } from "./firestore-store.js";
import type { ServiceAttachment } from "./service-identity.js";

/** Environment variables a service gets for the database it owns: the shared contract (`DATA_ENV`) plus Cloud SQL's and Firestore's own. */
export const DATABASE_ENV = {
  engine: DATA_ENV.databaseEngine,
  host: DATA_ENV.databaseHost,
  port: DATA_ENV.databasePort,
  name: DATA_ENV.databaseName,
  /** The IAM database user the service connects as with its own account (Cloud SQL IAM authentication). */
  user: DATA_ENV.databaseUser,
  /** `<project>:<region>:<instance>`, for the Cloud SQL connectors. */
  connectionName: "DATABASE_CONNECTION_NAME",
  /** The administrator's generated password, for migrations. */
  adminPassword: "DATABASE_ADMIN_PASSWORD",
  adminUser: "DATABASE_ADMIN_USER",
  /** Firestore database id of a key-value or document store. */
  firestoreDatabase: "FIRESTORE_DATABASE",
} as const;

/** Cloud SQL settings per relational engine. */
export const CLOUD_SQL = {
  postgres: { port: 5432, adminUser: "postgres", iamFlag: "cloudsql.iam_authentication" },
  mysql: { port: 3306, adminUser: "root", iamFlag: "cloudsql_iam_authentication" },
} as const;

/** Arguments of {@link ServiceDatabase}. */
export interface ServiceDatabaseArgs {
  /** Engine, version, tier, storage, HA and backups (`plan.services[].database`). */
  readonly database: DatabasePlan;
  /** The owning service; only its account is granted access. */
  readonly service: string;
  /** Id of the owning service's account (`gcpServiceAccountId(zone, service)`), which names its IAM database user. */
  readonly serviceAccountId: string;
  /** Region of the instance or Firestore database. */
  readonly region: string;
  /** Prefix of physical names (`<zone>-<env>`). */
  readonly namePrefix: string;
  /**
   * Cloud SQL: the VPC the private address is in, and its private service access range; the instance waits for `privateServiceAccess`.
   * @default - none: required for postgres and mysql
   */
  readonly network?: { readonly id: pulumi.Input<string>; readonly privateServiceRange?: pulumi.Input<string>; readonly privateServiceAccess?: readonly pulumi.Resource[] };
  /**
   * Deletion protection (Google's and Pulumi's), protect and retain (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Labels on the instance and the secret.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly instance?: (args: gcp.sql.DatabaseInstanceArgs) => void;
    readonly firestore?: (args: gcp.firestore.DatabaseArgs) => void;
  };
}

/**
 * The database one service owns and no other service may touch (the seed's "data only through the
 * API"). postgres and mysql: a Cloud SQL instance with a private address only (no public IP),
 * TLS required, IAM database authentication, automated backups with point-in-time recovery,
 * regional HA in prod, the administrator's generated password in its own Secret Manager secret, and
 * an IAM database user for the service's account, whose Cloud SQL roles are conditioned on this
 * instance. key-value and document: a {@link FirestoreStore} with point-in-time recovery in prod and
 * daily backups, the service's `datastore.user` role conditioned on this database.
 * {@link attachment} is what the owning service receives.
 *
 * Cost: Cloud SQL bills per vCPU, GiB and storage hour (twice for REGIONAL); Firestore per operation and GiB.
 *
 * @example
 * const db = new ServiceDatabase("orders-db", { database: plan.services[0].database!, service: "orders", region, namePrefix: "shop-prod", network: { id: network.networkId } });
 */
export class ServiceDatabase extends pulumi.ComponentResource {
  /** Environment, grants, secrets and the IAM database user for the owning service's identity. */
  readonly attachment: ServiceAttachment;
  readonly instance?: gcp.sql.DatabaseInstance;
  readonly firestore?: gcp.firestore.Database;
  readonly adminSecret?: gcp.secretmanager.Secret;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const { database } = args;
    const relational = database.engine === "postgres" || database.engine === "mysql";
    if (relational && !args.network) throw new Error(`ServiceDatabase ${name}: a ${database.engine} database needs network (its private address). Fix: pass { id: network.networkId, privateServiceRange }`);
    if (relational && !/^\d+\.\d+/.test(database.engineVersion)) throw new Error(`ServiceDatabase ${name}: engineVersion "${database.engineVersion}" is not a version. Fix: use e.g. 16.8 or 8.0.41`);
    super("msa:gcp:ServiceDatabase", name, {}, opts);
    const parent = { parent: this };
    const retain = args.retain ?? false;
    const stateful = { parent: this, protect: retain, retainOnDelete: retain };
    const labels = { ...args.labels, service: args.service };
    const project = projectOf(this);

    if (database.engine === "postgres" || database.engine === "mysql") {
      const engine = CLOUD_SQL[database.engine];
      const [major, minor] = database.engineVersion.split(".");
      const databaseVersion = database.engine === "postgres" ? `POSTGRES_${major}` : `MYSQL_${major}_${minor}`;
      const password = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this, ...(retain ? { protect: true, retainOnDelete: true } : {}) });
      const instanceArgs: gcp.sql.DatabaseInstanceArgs = {
        region: args.region,
        databaseVersion,
        rootPassword: pulumi.secret(password.result),
        deletionProtection: retain,
        settings: {
          tier: database.instanceClass,
          edition: "ENTERPRISE",
          availabilityType: database.multiAz ? "REGIONAL" : "ZONAL",
          diskType: "PD_SSD",
          diskSize: database.storageGiB,
          diskAutoresize: true,
          deletionProtectionEnabled: retain,
          ipConfiguration: {
            // A private address in the peered range only: no public IP, no authorized networks.
            ipv4Enabled: false,
            privateNetwork: args.network!.id,
            ...(args.network!.privateServiceRange ? { allocatedIpRange: args.network!.privateServiceRange } : {}),
            sslMode: "ENCRYPTED_ONLY",
          },
          backupConfiguration: {
            enabled: true,
            startTime: "03:00",
            ...(database.engine === "postgres" ? { pointInTimeRecoveryEnabled: true } : { binaryLogEnabled: true }),
            transactionLogRetentionDays: Math.min(7, database.backupRetentionDays),
            backupRetentionSettings: { retainedBackups: Math.max(1, database.backupRetentionDays), retentionUnit: "COUNT" },
          },
          databaseFlags: [{ name: engine.iamFlag, value: "on" }],
          maintenanceWindow: { day: 7, hour: 3, updateTrack: "stable" },
          userLabels: labels,
        },
      };
      args.transform?.instance?.(instanceArgs);
      const instance = new gcp.sql.DatabaseInstance(`${name}-instance`, instanceArgs, { ...stateful, dependsOn: [...(args.network!.privateServiceAccess ?? [])] });
      new gcp.sql.Database(`${name}-database`, { instance: instance.name, name: database.databaseName }, stateful);

      const adminSecret = new gcp.secretmanager.Secret(
        `${name}-admin`,
        { secretId: physicalName("kubernetes", args.namePrefix, args.service, "db-admin"), replication: { auto: {} }, deletionProtection: retain, labels: { ...labels, purpose: "database-admin" } },
        stateful,
      );
      const adminVersion = new gcp.secretmanager.SecretVersion(`${name}-admin`, { secret: adminSecret.id, secretData: pulumi.secret(password.result) }, parent);
      this.instance = instance;
      this.adminSecret = adminSecret;
      const onInstance = pulumi.interpolate`resource.name == "projects/${project.id}/instances/${instance.name}"`;
      // Cloud SQL names IAM users after the account: Postgres drops ".gserviceaccount.com"; MySQL is given the whole email and logs in with the part before '@'.
      const iamUser = database.engine === "postgres" ? pulumi.interpolate`${args.serviceAccountId}@${project.id}.iam` : pulumi.output(args.serviceAccountId);
      const sqlUser = database.engine === "postgres" ? iamUser : pulumi.interpolate`${args.serviceAccountId}@${project.id}.iam.gserviceaccount.com`;
      this.attachment = {
          env: {
            [DATABASE_ENV.engine]: database.engine,
            [DATABASE_ENV.host]: instance.privateIpAddress,
            [DATABASE_ENV.port]: String(engine.port),
            [DATABASE_ENV.name]: database.databaseName,
            [DATABASE_ENV.user]: iamUser,
            [DATABASE_ENV.adminUser]: engine.adminUser,
            [DATABASE_ENV.connectionName]: instance.connectionName,
          },
          projectRoles: ["roles/cloudsql.client", "roles/cloudsql.instanceUser"].map((role) => ({ role, condition: { title: `only ${args.service}'s instance`, expression: onInstance } })),
          secrets: { [DATABASE_ENV.adminPassword]: { secretId: adminSecret.id, value: pulumi.secret(password.result), version: adminVersion } },
          sqlUsers: [{ instance: instance.name, name: sqlUser }],
      };
    } else {
      const store = new FirestoreStore(
        `${name}-store`,
        {
          service: args.service,
          purpose: "data",
          region: args.region,
          namePrefix: args.namePrefix,
          envVar: DATABASE_ENV.firestoreDatabase,
          pointInTimeRecovery: database.multiAz,
          backupRetentionDays: database.backupRetentionDays,
          retain,
          ...(args.transform?.firestore ? { transform: { database: args.transform.firestore } } : {}),
        },
        parent,
      );
      this.firestore = store.database;
      this.attachment = { ...store.attachment, env: { ...store.attachment.env, [DATABASE_ENV.engine]: database.engine } };
    }
    this.registerOutputs({});
  }
}
