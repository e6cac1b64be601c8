import type * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as cdn from "@pulumi/azure-native/cdn/index.js";
import * as frontdoor from "@pulumi/azure-native/frontdoor/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import { GITHUB_OIDC } from "../../plan/delivery.js";
import { FRONT_DOOR_PURGE_ACTIONS, MAX_CDN_BEHAVIOURS, type FrontendAppPlan, type FrontendsPlan } from "../../plan/frontends.js";
import { frontendContainerName } from "../../plan/azure-delivery.js";
import { sendDiagnostics } from "./diagnostics.js";
import { customRole, grantCustomRole, grantRole } from "./roles.js";

/** Managed rule sets of the Front Door WAF policy (Premium only), in evaluation order. */
export const FRONT_DOOR_MANAGED_RULES = [
  { ruleSetType: "Microsoft_DefaultRuleSet", ruleSetVersion: "2.1", ruleSetAction: "Block" },
  { ruleSetType: "Microsoft_BotManagerRuleSet", ruleSetVersion: "1.1" },
] as const;
/** Token scope Front Door asks Entra ID for when it reads a storage origin as its managed identity. */
export const STORAGE_TOKEN_SCOPE = "https://storage.azure.com/.default";
/** Audience Entra ID expects in a federated token exchanged for a managed identity's. */
export const ENTRA_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
/** Days a deleted or overwritten blob can be restored, so a bad deploy can be rolled back. */
export const BLOB_RETENTION_DAYS = 30;

export { frontendContainerName } from "../../plan/azure-delivery.js";

/** Response headers every file and API answer carries, from the plan's security headers. */
export function securityHeaderValues(headers: FrontendsPlan["securityHeaders"]): Readonly<Record<string, string>> {
  return {
    "Strict-Transport-Security": `max-age=${headers.hstsMaxAgeSeconds}${headers.hstsIncludeSubdomains ? "; includeSubDomains" : ""}`,
    "Content-Security-Policy": headers.contentSecurityPolicy,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": headers.frameOptions,
    "Referrer-Policy": headers.referrerPolicy,
  };
}

/** The gateway the shell BFF's routes are forwarded to. */
export interface FrontendHostingApi {
  /** Host name or public IP of the Application Gateway's listener. */
  readonly hostName: pulumi.Input<string>;
  /** `Https` when the gateway listens with a certificate whose name is `hostName`; `Http` when it has no certificate. */
  readonly protocol: "Http" | "Https";
}

/** Arguments of {@link FrontendHosting}. */
export interface FrontendHostingArgs {
  /** The frontends plan: apps, routes, headers, WAF, log retention (`plan.frontends`). */
  readonly frontends: FrontendsPlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region of the storage account and identities, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Globally unique storage account name (3-24 lowercase letters and digits). */
  readonly storageAccountName: pulumi.Input<string>;
  /**
   * The gateway the shell BFF's routes go to.
   * @default - no API route; required when the plan has API routes
   */
  readonly api?: FrontendHostingApi;
  /**
   * Name of the Front Door profile, also the prefix of its endpoint.
   * @default - the component name
   */
  readonly profileName?: string;
  /**
   * Let each app's GitHub repository environment (`deploySubject`) sign in as its deploy identity through OIDC federation, with no secret.
   * @default false - whoever deploys is given the identity some other way
   */
  readonly githubDeploy?: boolean;
  /**
   * Log Analytics workspace of the Front Door access and WAF logs and the storage access logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect and keep the storage account and containers (prod).
   * @default false
   */
  readonly retain?: boolean;
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
    readonly storageAccount?: (args: storage.StorageAccountArgs) => void;
    readonly route?: (args: cdn.RouteArgs, app: string) => void;
    readonly wafPolicy?: (args: frontdoor.PolicyArgs) => void;
  };
}

/** The raw children of a {@link FrontendHosting}. */
export interface FrontendHostingNodes {
  readonly storageAccount: storage.StorageAccount;
  /** App name → its private container. */
  readonly containers: Readonly<Record<string, storage.BlobContainer>>;
  /** App name → its deploy identity. */
  readonly deployIdentities: Readonly<Record<string, managedidentity.UserAssignedIdentity>>;
  /** The identity Front Door reads the containers as. */
  readonly readerIdentity: managedidentity.UserAssignedIdentity;
  readonly profile: cdn.Profile;
  readonly endpoint: cdn.AFDEndpoint;
  /** App name (and `api`) → its route. */
  readonly routes: Readonly<Record<string, cdn.Route>>;
  readonly ruleSet: cdn.RuleSet;
  readonly customDomain?: cdn.AFDCustomDomain;
  /** The custom role that may purge the endpoint, and its assignment to each app's deploy identity. */
  readonly purgeRole: authorization.RoleDefinition;
  readonly purgeGrants: Readonly<Record<string, authorization.RoleAssignment>>;
  readonly wafPolicy?: frontdoor.Policy;
}

/**
 * Micro-frontend hosting on Azure: one storage account (HTTPS and TLS 1.2+ only, no shared keys, no
 * anonymous access, versioned blobs with soft delete) with a private container per app, behind Azure
 * Front Door Standard/Premium: an origin group and origin per app that Front Door reads as its own
 * managed identity (Storage Blob Data Reader on the app containers only), a route per fragment
 * `/<fragment>/*` and the shell as `/*`, the shell BFF's routes to the gateway, a rule set adding
 * the security headers, HTTP redirected to HTTPS, a managed certificate for a custom domain, a
 * Premium WAF policy (default rule set, bot manager, per-client rate limit) when the plan asks, and
 * a deploy identity per app with Storage Blob Data Contributor on its own container alone and a
 * custom role on the endpoint that may only purge its cache (Front Door purges no path per identity).
 *
 * Cost: Front Door bills a monthly base fee (Premium far more than Standard) plus requests and
 * transfer; the WAF policy's rules bill monthly; storage bills per GB and operation.
 *
 * @example
 * const frontends = new FrontendHosting("shop-frontends", {
 *   frontends: plan.frontends!, resourceGroupName: group.name, location: "koreacentral", storageAccountName: "shopprodui3f9a2c1b",
 *   api: { hostName: gateway.publicIp, protocol: "Http" },
 * });
 * export const frontendsUrl = frontends.url;
 */
export class FrontendHosting extends pulumi.ComponentResource {
  /** `https://<custom domain>`, else `https://<endpoint>.azurefd.net`. */
  readonly url: pulumi.Output<string>;
  /** The endpoint's own host name (`*.azurefd.net`). */
  readonly endpointHostName: pulumi.Output<string>;
  /** App name → container name. */
  readonly containerNames: Readonly<Record<string, string>>;
  /** App name → client id of its deploy identity. */
  readonly deployClientIds: pulumi.Output<Record<string, string>>;
  /** Name of the storage account holding the apps' containers, which their deploy identities upload to. */
  readonly storageAccountName: pulumi.Output<string>;
  /** True when each app's GitHub repository signs in as its deploy identity (`githubDeploy`). */
  readonly githubDeploy: boolean;
  readonly nodes: FrontendHostingNodes;

  constructor(name: string, args: FrontendHostingArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { frontends, resourceGroupName, location } = args;
    const routesNeeded = frontends.fragments.length + (frontends.apiRoutes.length > 0 ? 1 : 0);
    if (routesNeeded > MAX_CDN_BEHAVIOURS) throw new Error(`FrontendHosting ${name}: ${routesNeeded} routes pass the plan's CDN quota of ${MAX_CDN_BEHAVIOURS}. Fix: fewer fragments`);
    if (frontends.apiRoutes.length > 0 && args.api === undefined) {
      throw new Error(`FrontendHosting ${name}: api is undefined, but the shell's BFF routes (${frontends.apiRoutes.map((r) => r.pathPattern).join(", ")}) go to the gateway. Fix: pass the gateway's host name and protocol`);
    }
    const apps: FrontendAppPlan[] = [frontends.shell, ...frontends.fragments];
    const containerNames = Object.fromEntries(apps.map((app) => [app.name, frontendContainerName(app.name)]));
    const clash = apps.find((app, i) => apps.findIndex((other) => containerNames[other.name] === containerNames[app.name]) !== i);
    if (clash) throw new Error(`FrontendHosting ${name}: app "${clash.name}" would share the container "${containerNames[clash.name]}". Fix: rename the app`);
    if (args.githubDeploy) {
      const missing = apps.find((a) => !a.deploySubject);
      if (missing) throw new Error(`FrontendHosting ${name}: githubDeploy is set, but app "${missing.name}" has no GitHub subject because pipelines.repositoryOwner is undefined. Fix: set pipelines.repositoryOwner`);
    }
    const profileName = args.profileName ?? name;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9-]{0,42}[a-zA-Z0-9]$/.test(profileName)) {
      throw new Error(`FrontendHosting ${name}: profileName "${profileName}" cannot name a Front Door profile and endpoint. Fix: use 2-44 letters, digits and hyphens, starting and ending with a letter or digit`);
    }
    super("msa:azure:FrontendHosting", name, {}, opts);
    const parent = { parent: this };
    const retain = args.retain ?? false;
    const stateful = { parent: this, protect: retain, retainOnDelete: retain };
    const tags = { ...args.tags };

    const accountArgs: storage.StorageAccountArgs = {
      resourceGroupName,
      location,
      accountName: args.storageAccountName,
      kind: "StorageV2",
      sku: { name: retain ? "Standard_ZRS" : "Standard_LRS" },
      accessTier: "Hot",
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      // Entra ID only: Front Door and the deploy identities sign in; no account key or SAS works.
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowCrossTenantReplication: false,
      // Front Door reaches the blob endpoint over the internet, signed in as its identity; anonymous reads are refused.
      publicNetworkAccess: "Enabled",
      encryption: { keySource: "Microsoft.Storage", requireInfrastructureEncryption: true, services: { blob: { enabled: true, keyType: "Account" } } },
      tags,
    };
    args.transform?.storageAccount?.(accountArgs);
    const storageAccount = new storage.StorageAccount(`${name}-storage`, accountArgs, stateful);
    const blobService = new storage.BlobServiceProperties(
      `${name}-blobs`,
      {
        resourceGroupName,
        accountName: storageAccount.name,
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: BLOB_RETENTION_DAYS },
        containerDeleteRetentionPolicy: { enabled: true, days: BLOB_RETENTION_DAYS },
      },
      parent,
    );
    if (args.logWorkspaceId) sendDiagnostics(`${name}-blob-diagnostics`, pulumi.interpolate`${storageAccount.id}/blobServices/default`, args.logWorkspaceId, this);

    const readerIdentity = new managedidentity.UserAssignedIdentity(`${name}-cdn-identity`, { resourceGroupName, location, tags }, parent);
    const containers: Record<string, storage.BlobContainer> = {};
    const deployIdentities: Record<string, managedidentity.UserAssignedIdentity> = {};
    const readGrants: pulumi.Resource[] = [];
    for (const app of apps) {
      const container = new storage.BlobContainer(
        `${name}-${app.name}`,
        { resourceGroupName, accountName: storageAccount.name, containerName: containerNames[app.name]!, publicAccess: "None", metadata: { app: app.name, kind: app.kind } },
        { ...stateful, dependsOn: [blobService] },
      );
      containers[app.name] = container;
      readGrants.push(grantRole(`${name}-${app.name}-cdn-read`, { role: "storageBlobDataReader", scope: container.id, principalId: readerIdentity.principalId }, parent));
      const deployer = new managedidentity.UserAssignedIdentity(`${name}-${app.name}-deploy`, { resourceGroupName, location, tags: { ...tags, "msa:frontend": app.name } }, parent);
      grantRole(`${name}-${app.name}-deploy`, { role: "storageBlobDataContributor", scope: container.id, principalId: deployer.principalId }, parent);
      if (args.githubDeploy) {
        new managedidentity.FederatedIdentityCredential(
          `${name}-${app.name}-github`,
          { resourceGroupName, resourceName: deployer.name, federatedIdentityCredentialResourceName: "github", issuer: GITHUB_OIDC.url, subject: app.deploySubject!, audiences: [ENTRA_TOKEN_EXCHANGE_AUDIENCE] },
          parent,
        );
      }
      deployIdentities[app.name] = deployer;
    }

    let wafPolicy: frontdoor.Policy | undefined;
    if (frontends.waf) {
      const policyArgs: frontdoor.PolicyArgs = {
        resourceGroupName,
        // Front Door WAF policies are global.
        location: "Global",
        policyName: profileName.replace(/[^a-zA-Z0-9]/g, ""),
        sku: { name: "Premium_AzureFrontDoor" },
        policySettings: { enabledState: "Enabled", mode: "Prevention", requestBodyCheck: "Enabled" },
        managedRules: { managedRuleSets: FRONT_DOOR_MANAGED_RULES.map((rule) => ({ ...rule })) },
        customRules: {
          rules: [
            {
              name: "RateLimitPerClient",
              priority: 10,
              ruleType: "RateLimitRule",
              rateLimitDurationInMinutes: 1,
              rateLimitThreshold: frontends.wafRequestsPerMinute,
              groupBy: [{ variableName: "SocketAddr" }],
              // A condition every request meets: the rule counts all traffic, grouped by client.
              matchConditions: [{ matchVariable: "SocketAddr", operator: "IPMatch", negateCondition: true, matchValue: ["255.255.255.255/32"] }],
              action: "Block",
              enabledState: "Enabled",
            },
          ],
        },
        tags,
      };
      args.transform?.wafPolicy?.(policyArgs);
      wafPolicy = new frontdoor.Policy(`${name}-waf`, policyArgs, parent);
    }

    const profile = new cdn.Profile(
      `${name}-profile`,
      {
        resourceGroupName,
        location: "Global",
        profileName,
        // Managed WAF rule sets need Premium.
        sku: { name: frontends.waf ? "Premium_AzureFrontDoor" : "Standard_AzureFrontDoor" },
        identity: { type: "UserAssigned", userAssignedIdentities: [readerIdentity.id] },
        originResponseTimeoutSeconds: 60,
        tags,
      },
      parent,
    );
    const profileRef = { resourceGroupName, profileName: profile.name };
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, profile.id, args.logWorkspaceId, this);
    const endpoint = new cdn.AFDEndpoint(`${name}-endpoint`, { ...profileRef, location: "Global", endpointName: profileName, enabledState: "Enabled", autoGeneratedDomainNameLabelScope: "TenantReuse", tags }, parent);
    // Each deploy identity may purge this endpoint's cache and nothing else in Front Door.
    const purgeRole = customRole(`${name}-purge`, { resourceId: endpoint.id, purpose: "Front Door purge", actions: FRONT_DOOR_PURGE_ACTIONS }, parent);
    const purgeGrants = Object.fromEntries(
      apps.map((app) => [app.name, grantCustomRole(`${name}-${app.name}-purge`, { roleDefinitionId: purgeRole.id, scope: endpoint.id, principalId: deployIdentities[app.name]!.principalId }, parent)]),
    );

    let customDomain: cdn.AFDCustomDomain | undefined;
    if (frontends.domainName) {
      customDomain = new cdn.AFDCustomDomain(
        `${name}-domain`,
        { ...profileRef, customDomainName: frontends.domainName.replace(/\./g, "-"), hostName: frontends.domainName, tlsSettings: { certificateType: "ManagedCertificate", minimumTlsVersion: "TLS12" } },
        parent,
      );
    }

    const ruleSet = new cdn.RuleSet(`${name}-headers`, { ...profileRef, ruleSetName: "SecurityHeaders" }, parent);
    const headerRule = new cdn.Rule(
      `${name}-headers`,
      {
        ...profileRef,
        ruleSetName: ruleSet.name,
        ruleName: "AddSecurityHeaders",
        order: 1,
        conditions: [],
        actions: Object.entries(securityHeaderValues(frontends.securityHeaders)).map(([headerName, value]) => ({
          name: "ModifyResponseHeader" as const,
          parameters: { typeName: "DeliveryRuleHeaderActionParameters" as const, headerAction: "Overwrite", headerName, value },
        })),
        matchProcessingBehavior: "Continue",
      },
      parent,
    );

    if (wafPolicy) {
      new cdn.SecurityPolicy(
        `${name}-waf`,
        {
          ...profileRef,
          securityPolicyName: "waf",
          parameters: {
            type: "WebApplicationFirewall",
            wafPolicy: { id: wafPolicy.id },
            associations: [{ domains: [{ id: endpoint.id }, ...(customDomain ? [{ id: customDomain.id }] : [])], patternsToMatch: ["/*"] }],
          },
        },
        parent,
      );
    }

    const common = (routeName: string, patternsToMatch: string[]): Omit<cdn.RouteArgs, "originGroup"> => ({
      ...profileRef,
      endpointName: endpoint.name,
      routeName,
      patternsToMatch,
      supportedProtocols: ["Http", "Https"],
      httpsRedirect: "Enabled",
      linkToDefaultDomain: "Enabled",
      ...(customDomain ? { customDomains: [{ id: customDomain.id }] } : {}),
      ruleSets: [{ id: ruleSet.id }],
      enabledState: "Enabled",
    });
    const routes: Record<string, cdn.Route> = {};
    for (const app of apps) {
      const originGroup = new cdn.AFDOriginGroup(
        `${name}-${app.name}`,
        {
          ...profileRef,
          originGroupName: app.name,
          loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 },
          // Storage answers every read of a container it serves; a single origin needs no probe.
          authentication: { type: "UserAssignedIdentity", scope: STORAGE_TOKEN_SCOPE, userAssignedIdentity: { id: readerIdentity.id } },
        },
        parent,
      );
      const blobHost = storageAccount.primaryEndpoints.apply((e) => new URL(e.blob).host);
      const origin = new cdn.AFDOrigin(
        `${name}-${app.name}`,
        { ...profileRef, originGroupName: originGroup.name, originName: app.name, hostName: blobHost, originHostHeader: blobHost, httpPort: 80, httpsPort: 443, enforceCertificateNameCheck: true, enabledState: "Enabled", priority: 1, weight: 1000 },
        { parent: this, dependsOn: [readGrants[apps.indexOf(app)]!] },
      );
      const routeArgs: cdn.RouteArgs = {
        ...common(app.name, [app.kind === "shell" ? "/*" : app.pathPattern]),
        originGroup: { id: originGroup.id },
        // The container is the first path segment at the origin; the app's files sit under its object prefix.
        originPath: `/${containerNames[app.name]!}`,
        forwardingProtocol: "HttpsOnly",
        cacheConfiguration: {
          queryStringCachingBehavior: "IgnoreQueryString",
          compressionSettings: { isCompressionEnabled: true, contentTypesToCompress: ["text/html", "text/css", "application/javascript", "application/json", "image/svg+xml"] },
        },
      };
      args.transform?.route?.(routeArgs, app.name);
      routes[app.name] = new cdn.Route(`${name}-${app.name}`, routeArgs, { parent: this, dependsOn: [origin, headerRule] });
    }

    if (frontends.apiRoutes.length > 0) {
      const api = args.api!;
      const originGroup = new cdn.AFDOriginGroup(
        `${name}-api`,
        {
          ...profileRef,
          originGroupName: "api",
          loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 },
          healthProbeSettings: { probePath: frontends.apiRoutes[0]!.pathPattern, probeProtocol: api.protocol, probeRequestType: "HEAD", probeIntervalInSeconds: 100 },
        },
        parent,
      );
      const origin = new cdn.AFDOrigin(
        `${name}-api`,
        { ...profileRef, originGroupName: originGroup.name, originName: "gateway", hostName: api.hostName, httpPort: 80, httpsPort: 443, enforceCertificateNameCheck: true, enabledState: "Enabled", priority: 1, weight: 1000 },
        parent,
      );
      // No cache configuration: the BFF's answers are never cached.
      const routeArgs: cdn.RouteArgs = {
        ...common("api", frontends.apiRoutes.map((r) => r.pathPattern)),
        originGroup: { id: originGroup.id },
        forwardingProtocol: api.protocol === "Https" ? "HttpsOnly" : "HttpOnly",
      };
      args.transform?.route?.(routeArgs, "api");
      routes["api"] = new cdn.Route(`${name}-api`, routeArgs, { parent: this, dependsOn: [origin, headerRule] });
      if (api.protocol === "Http") pulumi.log.warn(`FrontendHosting ${name}: the gateway has no certificate, so Front Door forwards the BFF's routes to it over HTTP. Give the gateway a certificate and pass protocol "Https".`, this);
    }

    this.endpointHostName = endpoint.hostName;
    this.url = frontends.domainName ? pulumi.output(`https://${frontends.domainName}`) : pulumi.interpolate`https://${endpoint.hostName}`;
    this.containerNames = containerNames;
    this.deployClientIds = pulumi.all(Object.fromEntries(Object.entries(deployIdentities).map(([app, identity]) => [app, identity.clientId])));
    this.storageAccountName = storageAccount.name;
    this.githubDeploy = args.githubDeploy ?? false;
    this.nodes = { storageAccount, containers, deployIdentities, readerIdentity, profile, endpoint, routes, ruleSet, purgeRole, purgeGrants, ...(customDomain ? { customDomain } : {}), ...(wafPolicy ? { wafPolicy } : {}) };
    this.registerOutputs({ url: this.url, endpointHostName: this.endpointHostName, deployClientIds: this.deployClientIds, storageAccountName: this.storageAccountName });
  }
}
