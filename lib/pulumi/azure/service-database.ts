import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb/index.js";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql/index.js";
import * as keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { postgresServerSize } from "../../plan/azure.js";
import { DATA_ENV } from "../../plan/data.js";
import type { DatabasePlan } from "../../plan/types.js";
import type { DocumentAccount } from "./document-account.js";
import { sendDiagnostics } from "./diagnostics.js";
import { guidFrom } from "./roles.js";
import type { ServiceAccess } from "./service-workload.js";

/** Cosmos DB's built-in data-plane role that reads and writes items, and nothing else (no database or container management). */
export const COSMOS_DATA_CONTRIBUTOR_ROLE = "00000000-0000-0000-0000-000000000002";
/** Name of the container a key-value or document database gets, partitioned by `/id`. */
export const DOCUMENT_CONTAINER = "items";
/** Environment variables the owning service receives to reach its database: the shared contract (`DATA_ENV`) plus Cosmos DB's own. */
export const DATABASE_ENV = {
  engine: DATA_ENV.databaseEngine,
  host: DATA_ENV.databaseHost,
  port: DATA_ENV.databasePort,
  name: DATA_ENV.databaseName,
  user: DATA_ENV.databaseUser,
  auth: "DATABASE_AUTH",
  endpoint: "COSMOS_ENDPOINT",
} as const;
/** The PostgreSQL administrator login; its password is kept in Key Vault for break-glass use only. */
export const POSTGRES_ADMIN_LOGIN = "msaadmin";

/** Arguments of {@link ServiceDatabase}. */
export interface ServiceDatabaseArgs {
  /** The service that owns the database; only its identity gets in. */
  readonly service: string;
  /** Engine, size, backups and name (`plan.services[].database`). */
  readonly database: DatabasePlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /**
   * PostgreSQL: the server name (globally unique), the subnet delegated to flexible servers, the
   * private DNS zone (`*.private.postgres.database.azure.com`) and the vault the administrator password goes to.
   * @default - required for engine postgres
   */
  readonly postgres?: {
    readonly serverName: pulumi.Input<string>;
    readonly subnetId: pulumi.Input<string>;
    readonly privateDnsZoneId: pulumi.Input<string>;
    readonly vault: { readonly resourceGroupName: pulumi.Input<string>; readonly vaultName: pulumi.Input<string> };
  };
  /**
   * Key-value and document engines: the Cosmos DB account the service's database is created in.
   * @default - required for engines key-value and document
   */
  readonly documents?: Pick<DocumentAccount, "accountId" | "accountName" | "endpoint">;
  /**
   * Log Analytics workspace of the server's logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the database and keep it when the stack is destroyed (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the PostgreSQL server's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly server?: (args: dbforpostgresql.ServerArgs) => void };
}

/**
 * A service's own database, reachable by that service's identity alone: a PostgreSQL flexible
 * server in the delegated database subnet (no public access, TLS required, Entra ID authentication
 * with the service's identity as its only Entra administrator, the password administrator's password
 * generated into Key Vault, backups kept per the plan and geo-redundant in prod, zone-redundant high
 * availability in prod), or a Cosmos DB database and container on which only the service's identity
 * holds the data-contributor role.
 *
 * Cost: a flexible server bills hourly by size (twice with high availability) plus storage and backup; Cosmos per RU/s or request.
 *
 * @example
 * const db = new ServiceDatabase("orders-db", { service: "orders", database: plan.services[0]!.database!, resourceGroupName: group.name, location: "eastus",
 *   postgres: { serverName: "shop-prod-orders-1a2b3c", subnetId: network.subnetIds.databases!, privateDnsZoneId: zoneId, vault: { resourceGroupName: group.name, vaultName: "shop-prod-kv" } } });
 */
export class ServiceDatabase extends pulumi.ComponentResource implements ServiceAccess {
  /** What the owning service needs to connect (no credential: it signs in with its identity); its PostgreSQL user comes from {@link principalEnvironment}. */
  readonly environment: Readonly<Record<string, pulumi.Input<string>>>;
  readonly nodes: {
    readonly server?: dbforpostgresql.Server;
    readonly adminPassword?: keyvault.Secret;
    readonly sqlDatabase?: cosmosdb.SqlResourceSqlDatabase;
  };
  private readonly service: string;
  private readonly grant: (principalId: pulumi.Input<string>, parent: pulumi.Resource, principalName?: pulumi.Input<string>) => pulumi.Resource[];

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const { database } = args;
    if (database.engine === "mysql") throw new Error(`ServiceDatabase ${name}: services[${args.service}].database.engine "mysql" is not built on Azure yet. Fix: use postgres, key-value or document`);
    if (database.engine === "postgres" && !args.postgres) throw new Error(`ServiceDatabase ${name}: engine postgres needs args.postgres (undefined). Fix: pass the server name, database subnet, DNS zone and vault`);
    if (database.engine !== "postgres" && !args.documents) throw new Error(`ServiceDatabase ${name}: engine ${database.engine} needs args.documents (undefined). Fix: pass a DocumentAccount`);
    const size = database.engine === "postgres" ? postgresServerSize(database.instanceClass, database.storageGiB) : undefined;
    super("msa:azure:ServiceDatabase", name, {}, opts);
    this.service = args.service;
    const parent = { parent: this };
    const kept = { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) };
    const tags = { ...args.tags };
    const { resourceGroupName } = args;

    if (args.postgres && size) {
      const pg = args.postgres;
      const tenantId = authorization.getClientConfigOutput(parent).tenantId;
      const password = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, kept);
      const adminPassword = new keyvault.Secret(
        `${name}-admin-password`,
        { resourceGroupName: pg.vault.resourceGroupName, vaultName: pg.vault.vaultName, secretName: `${args.service}-database-admin`, properties: { value: pulumi.secret(password.result), contentType: "text/plain" }, tags },
        kept,
      );
      const serverArgs: dbforpostgresql.ServerArgs = {
        resourceGroupName,
        location: args.location,
        serverName: pg.serverName,
        version: database.engineVersion.split(".")[0]!,
        sku: { ...size.sku },
        storage: { storageSizeGB: size.storageGiB, autoGrow: "Enabled" },
        backup: { backupRetentionDays: Math.max(7, database.backupRetentionDays), geoRedundantBackup: database.multiAz ? "Enabled" : "Disabled" },
        highAvailability: { mode: database.multiAz ? "ZoneRedundant" : "Disabled" },
        // VNet-integrated: the server has only a private address in its delegated subnet.
        network: { delegatedSubnetResourceId: pg.subnetId, privateDnsZoneArmResourceId: pg.privateDnsZoneId, publicNetworkAccess: "Disabled" },
        authConfig: { activeDirectoryAuth: "Enabled", passwordAuth: "Enabled", tenantId },
        administratorLogin: POSTGRES_ADMIN_LOGIN,
        administratorLoginPassword: pulumi.secret(password.result),
        tags,
      };
      args.transform?.server?.(serverArgs);
      const server = new dbforpostgresql.Server(`${name}-server`, serverArgs, kept);
      new dbforpostgresql.Configuration(`${name}-tls`, { resourceGroupName, serverName: server.name, configurationName: "require_secure_transport", value: "on", source: "user-override" }, parent);
      new dbforpostgresql.Database(`${name}-database`, { resourceGroupName, serverName: server.name, databaseName: database.databaseName, charset: "UTF8", collation: "en_US.utf8" }, kept);
      if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, server.id, args.logWorkspaceId, this);
      this.environment = {
        [DATABASE_ENV.engine]: database.engine,
        [DATABASE_ENV.host]: pulumi.interpolate`${server.name}.postgres.database.azure.com`,
        [DATABASE_ENV.port]: "5432",
        [DATABASE_ENV.name]: database.databaseName,
        [DATABASE_ENV.auth]: "entra-id",
      };
      this.grant = (principalId, grantParent, principalName) => [
        new dbforpostgresql.AdministratorsMicrosoftEntra(
          `${args.service}-database-admin`,
          // The Postgres role is named after the identity, as Entra ID knows it.
          { resourceGroupName, serverName: server.name, objectId: principalId, principalName: principalName ?? args.service, principalType: "ServicePrincipal", tenantId },
          { parent: grantParent },
        ),
      ];
      this.nodes = { server, adminPassword };
    } else {
      const documents = args.documents!;
      const sqlDatabase = new cosmosdb.SqlResourceSqlDatabase(
        `${name}-database`,
        { resourceGroupName, accountName: documents.accountName, databaseName: database.databaseName, resource: { id: database.databaseName } },
        kept,
      );
      new cosmosdb.SqlResourceSqlContainer(
        `${name}-container`,
        {
          resourceGroupName,
          accountName: documents.accountName,
          databaseName: sqlDatabase.name,
          containerName: DOCUMENT_CONTAINER,
          resource: { id: DOCUMENT_CONTAINER, partitionKey: { paths: ["/id"], kind: "Hash", version: 2 } },
        },
        kept,
      );
      const scope = pulumi.interpolate`${documents.accountId}/dbs/${database.databaseName}`;
      this.environment = { [DATABASE_ENV.engine]: database.engine, [DATABASE_ENV.endpoint]: documents.endpoint, [DATABASE_ENV.name]: database.databaseName, [DATABASE_ENV.auth]: "entra-id" };
      this.grant = (principalId, grantParent) => [
        new cosmosdb.SqlResourceSqlRoleAssignment(
          `${args.service}-database-access`,
          {
            resourceGroupName,
            accountName: documents.accountName,
            roleAssignmentId: pulumi.all([scope, principalId]).apply(([s, p]) => guidFrom(`${s}|${p}|${COSMOS_DATA_CONTRIBUTOR_ROLE}`)),
            roleDefinitionId: pulumi.interpolate`${documents.accountId}/sqlRoleDefinitions/${COSMOS_DATA_CONTRIBUTOR_ROLE}`,
            // Scoped to the service's own database: the account's other databases stay out of reach.
            scope,
            principalId,
          },
          { parent: grantParent, dependsOn: [sqlDatabase] },
        ),
      ];
      this.nodes = { sqlDatabase };
    }
    this.registerOutputs({});
  }

  /** The owning service's identity, and no other, gets into the database. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource, principalName?: pulumi.Input<string>): pulumi.Resource[] {
    return service === this.service ? this.grant(principalId, parent, principalName) : [];
  }

  /** PostgreSQL: the owner's DATABASE_USER, the same name its Entra administrator (and so its role) gets in {@link grantAccess}. */
  principalEnvironment(service: string, principalName: pulumi.Input<string>): Readonly<Record<string, pulumi.Input<string>>> {
    return service === this.service && this.nodes.server ? { [DATABASE_ENV.user]: principalName } : {};
  }
}
