import * as cosmosdb from "@pulumi/azure-native/cosmosdb/index.js";
import * as pulumi from "@pulumi/pulumi";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";

/** Arguments of {@link DocumentAccount}. */
export interface DocumentAccountArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: string;
  /** Globally unique account name (3-44 lowercase letters, digits and dashes). */
  readonly accountName: pulumi.Input<string>;
  /** The only way in: public network access is disabled. */
  readonly privateEndpoint: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /**
   * Replicate across the region's zones (prod).
   * @default false
   */
  readonly zoneRedundant?: boolean;
  /**
   * Days of continuous backup: point-in-time restore within 7 or 30 days.
   * @default 7
   */
  readonly backupDays?: 7 | 30;
  /**
   * Bill per request instead of provisioned throughput (dev); not zone-redundant.
   * @default false
   */
  readonly serverless?: boolean;
  /**
   * Log Analytics workspace of the account's data-plane and control-plane logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the account and keep it when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the account and its endpoint.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the account's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly account?: (args: cosmosdb.DatabaseAccountArgs) => void };
}

/**
 * The Cosmos DB (NoSQL) account the key-value and document databases live in, one database per
 * service: Entra ID data-plane roles only (no keys), TLS 1.2, closed to the internet behind a
 * private endpoint, continuous backup with point-in-time restore, zone-redundant in prod. Encrypted
 * at rest by the service.
 *
 * Cost: provisioned throughput bills hourly per database; serverless per request; storage per GB.
 *
 * @example
 * const documents = new DocumentAccount("documents", { resourceGroupName: group.name, location: "eastus", accountName: "shop-prod-docs-1a2b3c",
 *   privateEndpoint: { subnetId: network.subnetIds.endpoints, privateDnsZoneId: zoneId } });
 */
export class DocumentAccount extends pulumi.ComponentResource {
  readonly accountId: pulumi.Output<string>;
  readonly accountName: pulumi.Output<string>;
  /** `https://<name>.documents.azure.com:443/`. */
  readonly endpoint: pulumi.Output<string>;
  readonly nodes: { readonly account: cosmosdb.DatabaseAccount };

  constructor(name: string, args: DocumentAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.serverless && args.zoneRedundant) throw new Error(`DocumentAccount ${name}: serverless accounts cannot be zone-redundant. Fix: turn one of serverless and zoneRedundant off`);
    super("msa:azure:DocumentAccount", name, {}, opts);
    const accountArgs: cosmosdb.DatabaseAccountArgs = {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      accountName: args.accountName,
      kind: "GlobalDocumentDB",
      databaseAccountOfferType: "Standard",
      locations: [{ locationName: args.location, failoverPriority: 0, isZoneRedundant: args.zoneRedundant ?? false }],
      consistencyPolicy: { defaultConsistencyLevel: "Session" },
      // Entra ID data-plane roles only; keys could read every service's database.
      disableLocalAuth: true,
      disableKeyBasedMetadataWriteAccess: true,
      minimalTlsVersion: "Tls12",
      publicNetworkAccess: "Disabled",
      backupPolicy: { type: "Continuous", continuousModeProperties: { tier: (args.backupDays ?? 7) === 30 ? "Continuous30Days" : "Continuous7Days" } },
      ...(args.serverless ? { capabilities: [{ name: "EnableServerless" }] } : {}),
      tags: { ...args.tags },
    };
    args.transform?.account?.(accountArgs);
    const account = new cosmosdb.DatabaseAccount(`${name}-account`, accountArgs, { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) });
    privateEndpoint(`${name}-endpoint`, { resourceGroupName: args.resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: account.id, group: "Sql", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, ...(args.tags ? { tags: args.tags } : {}) }, this);
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, account.id, args.logWorkspaceId, this);
    this.accountId = account.id;
    this.accountName = account.name;
    this.endpoint = account.documentEndpoint;
    this.nodes = { account };
    this.registerOutputs({ accountId: this.accountId, endpoint: this.endpoint });
  }
}
