import * as appconfiguration from "@pulumi/azure-native/appconfiguration/index.js";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { LandingZonePlan } from "../../plan/types.js";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";
import { grantRole } from "./roles.js";
import type { ServiceAccess } from "./service-workload.js";

/** Environment variable naming the App Configuration endpoint services read their settings from. */
export const APP_CONFIGURATION_ENDPOINT_ENV = "APP_CONFIGURATION_ENDPOINT";
/** Content type App Configuration gives a value that points at a Key Vault secret. */
export const KEY_VAULT_REFERENCE_CONTENT_TYPE = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8";

/** The Key Vault secret name of a service's secret: `<service>-<key in kebab case>`. */
export function secretName(service: string, key: string): string {
  return `${service}-${key.toLowerCase().replace(/_/g, "-")}`;
}

/** The App Configuration key of a service's setting: `<service>:<KEY>` (labelled with the environment). */
export function settingKey(service: string, key: string): string {
  return `${service}:${key}`;
}

/** Arguments of {@link ConfigStore}. */
export interface ConfigStoreArgs {
  /** The landing-zone plan: each service's `config` and `secrets`, the environment and protection. */
  readonly plan: LandingZonePlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Globally unique Key Vault name (3-24 characters). */
  readonly vaultName: pulumi.Input<string>;
  /** Private endpoints of the vault (and of the App Configuration store when there is one); public access is disabled. */
  readonly privateEndpoints: {
    readonly subnetId: pulumi.Input<string>;
    readonly vaultDnsZoneId: pulumi.Input<string>;
    /**
     * Private DNS zone id of `privatelink.azconfig.io`, required with `appConfigurationName`.
     * @default - none
     */
    readonly appConfigurationDnsZoneId?: pulumi.Input<string>;
  };
  /**
   * Globally unique App Configuration store name: the services' settings go there (IaaS and PaaS read
   * them by reference); without it the settings stay in the workloads' own configuration (ConfigMaps).
   * @default - no App Configuration store
   */
  readonly appConfigurationName?: pulumi.Input<string>;
  /**
   * Values of the services' declared secrets, by service then key; missing ones are generated (32 characters).
   * @default - every secret generated
   */
  readonly secretValues?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
  /**
   * Log Analytics workspace of the vault's and store's audit logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The external configuration store: a Key Vault (Azure RBAC, no access policies, private endpoint,
 * soft delete, purge protection when the plan retains data) holding every declared secret of every
 * service as its own secret, and, for IaaS and PaaS, an App Configuration store (Entra ID only,
 * private endpoint) holding each service's settings under `<service>:<KEY>` labelled with the
 * environment plus a Key Vault reference per secret. Each service's identity may read exactly its
 * own secrets (Key Vault Secrets User on each secret) and the store's settings; values are generated
 * into the vault and never appear in plain text in state.
 *
 * Cost: Key Vault bills per operation; an App Configuration Standard store bills daily.
 *
 * @example
 * const config = new ConfigStore("config", { plan, resourceGroupName: group.name, location: "eastus", vaultName: "shop-prod-kv-1a2b3c",
 *   privateEndpoints: { subnetId: network.subnetIds.endpoints, vaultDnsZoneId: network.privateDnsZoneIds["privatelink.vaultcore.azure.net"]! } });
 */
export class ConfigStore extends pulumi.ComponentResource implements ServiceAccess {
  readonly vaultId: pulumi.Output<string>;
  readonly vaultName: pulumi.Output<string>;
  /** Entra ID tenant of the vault. */
  readonly tenantId: pulumi.Output<string>;
  /** `https://<name>.vault.azure.net/`. */
  readonly vaultUri: pulumi.Output<string>;
  /** `https://<name>.azconfig.io`, when there is a store. */
  readonly appConfigurationEndpoint?: pulumi.Output<string>;
  readonly nodes: {
    readonly vault: keyvault.Vault;
    readonly secrets: Readonly<Record<string, Readonly<Record<string, keyvault.Secret>>>>;
    readonly store?: appconfiguration.ConfigurationStore;
    /** The deployer's App Configuration Data Owner on the store, which its key-values wait for. */
    readonly storeWriter?: authorization.RoleAssignment;
  };
  private readonly plan: LandingZonePlan;

  constructor(name: string, args: ConfigStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    for (const [service, values] of Object.entries(args.secretValues ?? {})) {
      const declared = plan.services.find((s) => s.name === service);
      if (!declared) throw new Error(`ConfigStore ${name}: secretValues.${service} is not a service of the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
      for (const key of Object.keys(values)) {
        if (!declared.secrets.includes(key)) throw new Error(`ConfigStore ${name}: secretValues.${service}.${key} is not in services[${service}].secrets. Fix: declare it in the spec or drop it`);
      }
    }
    if (args.appConfigurationName !== undefined && args.privateEndpoints.appConfigurationDnsZoneId === undefined) {
      throw new Error(`ConfigStore ${name}: appConfigurationName needs privateEndpoints.appConfigurationDnsZoneId (undefined). Fix: pass the privatelink.azconfig.io zone id`);
    }
    super("msa:azure:ConfigStore", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName, location } = args;
    const retain = plan.protection.retain;
    const kept = { parent: this, ...(retain ? { protect: true, retainOnDelete: true } : {}) };
    const client = authorization.getClientConfigOutput(parent);
    this.plan = plan;

    const vault = new keyvault.Vault(
      `${name}-vault`,
      {
        resourceGroupName,
        location,
        vaultName: args.vaultName,
        properties: {
          tenantId: client.tenantId,
          sku: { family: "A", name: "standard" },
          // Azure RBAC decides who reads which secret; no vault-wide access policy exists.
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          ...(retain ? { enablePurgeProtection: true } : {}),
          publicNetworkAccess: "Disabled",
          networkAcls: { defaultAction: "Deny", bypass: "AzureServices" },
        },
        tags,
      },
      kept,
    );
    privateEndpoint(`${name}-vault-endpoint`, { resourceGroupName, subnetId: args.privateEndpoints.subnetId, resourceId: vault.id, group: "vault", privateDnsZoneId: args.privateEndpoints.vaultDnsZoneId, tags }, this);
    if (args.logWorkspaceId) sendDiagnostics(`${name}-vault-diagnostics`, vault.id, args.logWorkspaceId, this);

    const secrets: Record<string, Record<string, keyvault.Secret>> = {};
    for (const service of plan.services) {
      secrets[service.name] = {};
      for (const key of service.secrets) {
        const given = args.secretValues?.[service.name]?.[key];
        const value = given !== undefined ? pulumi.secret(given) : new random.RandomPassword(`${name}-${secretName(service.name, key)}-value`, { length: 32, special: false }, kept).result;
        secrets[service.name]![key] = new keyvault.Secret(
          `${name}-${secretName(service.name, key)}`,
          { resourceGroupName, vaultName: vault.name, secretName: secretName(service.name, key), properties: { value: pulumi.secret(value), contentType: "text/plain" }, tags },
          kept,
        );
      }
    }

    let store: appconfiguration.ConfigurationStore | undefined;
    let storeWriter: authorization.RoleAssignment | undefined;
    if (args.appConfigurationName !== undefined) {
      ({ store, writer: storeWriter } = appConfigurationStore(
        name,
        {
          resourceGroupName,
          location,
          storeName: args.appConfigurationName,
          privateEndpoint: { subnetId: args.privateEndpoints.subnetId, privateDnsZoneId: args.privateEndpoints.appConfigurationDnsZoneId! },
          retain,
          ...(args.logWorkspaceId ? { logWorkspaceId: args.logWorkspaceId } : {}),
          tags,
        },
        this,
      ));
      for (const service of plan.services) {
        const entries: [string, pulumi.Input<string>, string | undefined][] = [
          ...Object.entries(service.config).map(([key, value]): [string, pulumi.Input<string>, string | undefined] => [key, value, undefined]),
          ...service.secrets.map((key): [string, pulumi.Input<string>, string | undefined] => [
            key,
            pulumi.jsonStringify({ uri: secrets[service.name]![key]!.properties.secretUri }),
            KEY_VAULT_REFERENCE_CONTENT_TYPE,
          ]),
        ];
        for (const [key, value, contentType] of entries) {
          new appconfiguration.KeyValue(
            `${name}-${service.name}-${key.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
            { resourceGroupName, configStoreName: store.name, keyValueName: `${settingKey(service.name, key)}$${plan.environment}`, value, ...(contentType ? { contentType } : {}) },
            { parent: this, dependsOn: [storeWriter] },
          );
        }
      }
      this.appConfigurationEndpoint = store.endpoint;
    }

    this.vaultId = vault.id;
    this.vaultName = vault.name;
    this.tenantId = client.tenantId;
    this.vaultUri = vault.properties.apply((p) => p.vaultUri);
    this.nodes = { vault, secrets, ...(store && storeWriter ? { store, storeWriter } : {}) };
    this.registerOutputs({ vaultUri: this.vaultUri, ...(this.appConfigurationEndpoint ? { appConfigurationEndpoint: this.appConfigurationEndpoint } : {}) });
  }

  /** Key Vault Secrets User on each of the service's own secrets, and App Configuration Data Reader on the store; nothing vault-wide. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): authorization.RoleAssignment[] {
    const grants = Object.entries(this.nodes.secrets[service] ?? {}).map(([key, secret]) =>
      grantRole(`${service}-read-${secretName(service, key)}`, { role: "keyVaultSecretsUser", scope: secret.id, principalId }, { parent }),
    );
    const store = this.nodes.store;
    if (store && this.readsSettings(service)) {
      grants.push(grantRole(`${service}-read-settings`, { role: "appConfigurationDataReader", scope: store.id, principalId }, { parent }));
    }
    return grants;
  }

  /** True when {@link grantAccess} gives the service App Configuration Data Reader on the store (it has settings or secrets there). */
  readsSettings(service: string): boolean {
    const declared = this.plan.services.find((s) => s.name === service);
    return this.nodes.store !== undefined && declared !== undefined && (Object.keys(declared.config).length > 0 || declared.secrets.length > 0);
  }

  /** The versionless URIs of a service's secrets, by key: what Key Vault references and boot scripts read. */
  secretUrisOf(service: string): Readonly<Record<string, pulumi.Output<string>>> {
    return Object.fromEntries(Object.entries(this.nodes.secrets[service] ?? {}).map(([key, secret]) => [key, secret.properties.apply((p) => p.secretUri)]));
  }
}

/** Where {@link appConfigurationStore} creates a store. */
export interface AppConfigurationStoreArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Globally unique store name. */
  readonly storeName: pulumi.Input<string>;
  /** The store's private endpoint (`privatelink.azconfig.io`); public access is disabled. */
  readonly privateEndpoint: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /** Purge protection, and the store kept on delete. */
  readonly retain: boolean;
  /**
   * Log Analytics workspace of the store's audit logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Tags on the store and its endpoint.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * An App Configuration store (Standard, Entra ID only, private endpoint, ARM passing the caller through,
 * private-link delegation so ARM reaches it) and the deployer's Data Owner grant, which the key-values
 * the deployment writes must wait for. Cost: a Standard store bills daily.
 */
export function appConfigurationStore(
  name: string,
  args: AppConfigurationStoreArgs,
  parent: pulumi.Resource,
): { readonly store: appconfiguration.ConfigurationStore; readonly writer: authorization.RoleAssignment } {
  const { resourceGroupName, location } = args;
  const tags = { ...args.tags };
  const client = authorization.getClientConfigOutput({ parent });
  const store = new appconfiguration.ConfigurationStore(
    `${name}-store`,
    {
      resourceGroupName,
      location,
      configStoreName: args.storeName,
      sku: { name: "standard" },
      // Entra ID only; the deployment writes settings through ARM, passed through with the deployer's own data-plane role.
      disableLocalAuth: true,
      dataPlaneProxy: { authenticationMode: "Pass-through", privateLinkDelegation: "Enabled" },
      publicNetworkAccess: "Disabled",
      softDeleteRetentionInDays: 7,
      ...(args.retain ? { enablePurgeProtection: true } : {}),
      tags,
    },
    { parent, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) },
  );
  privateEndpoint(`${name}-store-endpoint`, { resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: store.id, group: "configurationStores", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, tags }, parent);
  if (args.logWorkspaceId) sendDiagnostics(`${name}-store-diagnostics`, store.id, args.logWorkspaceId, parent);
  const writer = grantRole(`${name}-deployer-writes-settings`, { role: "appConfigurationDataOwner", scope: store.id, principalId: client.objectId, principalType: "Unknown" }, { parent });
  return { store, writer };
}
