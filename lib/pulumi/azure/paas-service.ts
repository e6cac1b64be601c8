import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as web from "@pulumi/azure-native/web/index.js";
import * as pulumi from "@pulumi/pulumi";
import { APP_SERVICE_PROXY_CONFIG_SETTING, appServiceEdgeProxy, SITE_CONTAINERS_FX } from "../../plan/app-service-proxy.js";
import type { EdgeProxyConfigOptions } from "../../plan/edge-proxy.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { dependencyList } from "../kubernetes/dependencies.js";
import { plannedImage, type ContainerRegistry } from "./container-registry.js";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";
import { withPrincipalEnvironment } from "./service-access.js";
import type { ServiceAccess, ServiceIdentity } from "./service-workload.js";

/** Arguments of {@link PaasService}. */
export interface PaasServiceArgs {
  /** The landing-zone plan: the service's port, config and health path come from it. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Globally unique app name; the host is `<name>.azurewebsites.net`. */
  readonly appName: pulumi.Input<string>;
  /** The App Service plan (`PaasPlatform.planId`). */
  readonly planId: pulumi.Input<string>;
  /** Subnet delegated to `Microsoft.Web/serverFarms` the app's outbound traffic (and image pulls) leave through. */
  readonly integrationSubnetId: pulumi.Input<string>;
  /** The only way in: public network access is disabled; the gateway reaches the app here. */
  readonly privateEndpoint: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /** Registry of the service's image; the app's identity gets AcrPull on it. */
  readonly registry: Pick<ContainerRegistry, "loginServer" | "grantPull">;
  /**
   * Image the app runs, e.g. the one its pipeline released (`ReleaseRecords.releasedImages`).
   * @default - the plan's image in `registry`
   */
  readonly image?: pulumi.Input<string>;
  /**
   * What the service may use; each grants exactly the service's own share.
   * @default - nothing beyond AcrPull
   */
  readonly access?: readonly ServiceAccess[];
  /**
   * Extra non-secret app settings (session store, Service Bus namespace).
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Key Vault URIs of the service's declared secrets, by key: each becomes a Key Vault reference app setting the platform resolves with the app's identity.
   * @default - none (the service must then declare no secrets)
   */
  readonly secretUris?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The App Configuration store of the service's settings: each becomes an App Configuration reference instead of a plain value.
   * @default - settings as plain app settings
   */
  readonly appConfiguration?: { readonly endpoint: pulumi.Input<string>; readonly label: string };
  /**
   * Log Analytics workspace of the app's HTTP, console and platform logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * What the edge proxy in front of the service checks, when `plan.edgeProxy` lists the service: the
   * token issuer (`check: jwt`) or the auth service's app host over TLS (`check: ext-authz`). Required
   * then, so the gateway never reaches such a service unchecked.
   * @default - no proxy (the service is not behind one in the plan)
   */
  readonly edgeProxy?: pulumi.Input<EdgeProxyConfigOptions>;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches a child's args before it is created: the app, and with an edge proxy its two site containers.
   * @default - none
   */
  readonly transform?: {
    readonly app?: (args: web.WebAppArgs) => void;
    readonly proxyContainer?: (args: web.WebAppSiteContainerArgs) => void;
    readonly serviceContainer?: (args: web.WebAppSiteContainerArgs) => void;
  };
}

/**
 * One service on App Service: a Linux web app running the service's container from ACR, pulled
 * with its own user-assigned identity (AcrPull only) over the VNet integration, reachable only
 * through a private endpoint (public network access disabled), HTTPS only with TLS 1.2+, FTP(S)
 * and basic publishing credentials disabled, always on with a health check on the service's health
 * path, its settings and secrets as App Configuration and Key Vault references resolved with its
 * identity, and its logs in Log Analytics.
 *
 * When the plan puts an edge proxy in front of the service (`gateway.auth` jwt or authorizer), the app
 * runs site containers instead: Envoy as the main container, which App Service sends the app's traffic
 * and health checks to, running the gateway's check (`edgeProxyConfig`), and the service as a sidecar
 * it reaches on loopback. Application Gateway validates no JWT and calls no authorizer, and App Service
 * authentication would need an Entra ID app registration azure-native cannot create.
 *
 * @example
 * new PaasService("orders", { plan, service: "orders", resourceGroupName: group.name, location: "eastus", appName: "shop-prod-orders-1a2b3c",
 *   planId: platform.planId, integrationSubnetId: network.subnetIds.workloads, registry,
 *   privateEndpoint: { subnetId: network.subnetIds.endpoints, privateDnsZoneId: network.privateDnsZoneIds["privatelink.azurewebsites.net"]! } });
 */
export class PaasService extends pulumi.ComponentResource implements ServiceIdentity {
  readonly clientId: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;
  readonly identityId: pulumi.Output<string>;
  /** `<name>.azurewebsites.net`, resolving to the private endpoint inside the VNet. */
  readonly defaultHostName: pulumi.Output<string>;
  readonly nodes: {
    readonly identity: managedidentity.UserAssignedIdentity;
    readonly grants: readonly pulumi.Resource[];
    readonly app: web.WebApp;
    /** With an edge proxy: its main container and the service's sidecar; empty otherwise. */
    readonly siteContainers: readonly web.WebAppSiteContainer[];
  };

  constructor(name: string, args: PaasServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const service = plan.services.find((s) => s.name === args.service);
    if (!service) throw new Error(`PaasService ${name}: service "${args.service}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
    const missing = service.secrets.filter((key) => args.secretUris?.[key] === undefined);
    if (missing.length > 0) {
      throw new Error(`PaasService ${name}: services[${service.name}].secrets [${missing.join(", ")}] have no secretUris entry. Fix: pass their Key Vault URIs (ConfigStore.secretUrisOf)`);
    }
    const proxied = plan.edgeProxy?.services.includes(service.name) ? plan.edgeProxy : undefined;
    // Options known now are checked now; options still resolving are checked by edgeProxyConfig when they resolve.
    const known = args.edgeProxy === undefined || pulumi.Output.isInstance(args.edgeProxy) || args.edgeProxy instanceof Promise ? undefined : args.edgeProxy;
    const needed = proxied?.check === "jwt" ? "issuer" : "authService";
    if (proxied && (args.edgeProxy === undefined || (known && !known[needed]))) {
      throw new Error(`PaasService ${name} edgeProxy: plan.edgeProxy checks callers of ${service.name} (${proxied.check}), but args.edgeProxy.${needed} is missing. Fix: pass it, as LandingZone does`);
    }
    super("msa:azure:PaasService", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName, location } = args;

    const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, { resourceGroupName, location, tags }, parent);
    const grants = [args.registry.grantPull(`${name}-acr-pull`, identity.principalId, this), ...(args.access ?? []).flatMap((a) => a.grantAccess(service.name, identity.principalId, this, identity.name))];
    const image = args.image ?? plannedImage(service, args.registry.loginServer);
    const appConfiguration = args.appConfiguration;
    const configSettings: Record<string, pulumi.Input<string>> = appConfiguration
      ? Object.fromEntries(
          Object.keys(service.config).map((key) => [key, pulumi.interpolate`@Microsoft.AppConfiguration(Endpoint=${appConfiguration.endpoint}; Key=${service.name}:${key}; Label=${appConfiguration.label})`]),
        )
      : { ...service.config };
    const containers = proxied ? pulumi.output(args.edgeProxy!).apply((options) => appServiceEdgeProxy(plan, service, options)) : undefined;
    const settings: Record<string, pulumi.Input<string>> = {
      ...configSettings,
      // The platform resolves each reference with the app's identity; the value never enters the app's configuration.
      ...Object.fromEntries(service.secrets.map((key) => [key, pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${args.secretUris![key]!})`])),
      SERVICE_NAME: service.name,
      PORT: String(service.port),
      // A classic container gets requests on WEBSITES_PORT; site containers set targetPort, and the proxy reads its config from this setting.
      ...(containers ? { [APP_SERVICE_PROXY_CONFIG_SETTING]: containers.config } : { WEBSITES_PORT: String(service.port) }),
      AZURE_CLIENT_ID: identity.clientId,
      ...withPrincipalEnvironment(args.env, args.access, service.name, identity.name),
    };

    const appArgs: web.WebAppArgs = {
      resourceGroupName,
      location,
      name: args.appName,
      kind: "app,linux,container",
      serverFarmId: args.planId,
      identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
      keyVaultReferenceIdentity: identity.id,
      httpsOnly: true,
      publicNetworkAccess: "Disabled",
      clientAffinityEnabled: false,
      virtualNetworkSubnetId: args.integrationSubnetId,
      // Everything leaves through the VNet, the image pull included, so a private registry is reachable.
      outboundVnetRouting: { allTraffic: true, imagePullTraffic: true },
      siteConfig: {
        // Site containers carry their own images and pull identities.
        ...(containers ? { linuxFxVersion: SITE_CONTAINERS_FX } : { linuxFxVersion: pulumi.interpolate`DOCKER|${image}`, acrUseManagedIdentityCreds: true, acrUserManagedIdentityID: identity.clientId }),
        alwaysOn: true,
        http20Enabled: true,
        minTlsVersion: "1.2",
        scmMinTlsVersion: "1.2",
        ftpsState: "Disabled",
        remoteDebuggingEnabled: false,
        healthCheckPath: service.healthPath,
        appSettings: Object.entries(settings).map(([key, value]) => ({ name: key, value })),
      },
      tags,
    };
    args.transform?.app?.(appArgs);
    const app = new web.WebApp(`${name}-app`, appArgs, { parent: this, dependsOn: [...dependencyList(opts?.dependsOn), ...grants] });
    // Deployment goes through the registry; no FTP or basic-auth publishing credential can be used.
    new web.WebAppFtpAllowed(`${name}-no-ftp`, { resourceGroupName, name: app.name, allow: false }, parent);
    new web.WebAppScmAllowed(`${name}-no-basic-auth`, { resourceGroupName, name: app.name, allow: false }, parent);
    privateEndpoint(`${name}-endpoint`, { resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: app.id, group: "sites", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, tags }, this);
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, app.id, args.logWorkspaceId, this);
    const siteContainers: web.WebAppSiteContainer[] = [];
    if (containers) {
      const proxyArgs: web.WebAppSiteContainerArgs = {
        resourceGroupName,
        name: app.name,
        containerName: containers.proxy.name,
        isMain: true,
        image: containers.proxy.image,
        targetPort: containers.proxy.targetPort,
        startUpCommand: containers.proxy.startUpCommand,
        authType: "Anonymous",
        // Only its config: the service's settings and secrets never enter the proxy's environment.
        inheritAppSettingsAndConnectionStrings: false,
        environmentVariables: containers.proxy.environment.apply((env) => Object.entries(env).map(([key, setting]) => ({ name: key, value: setting }))),
      };
      const serviceArgs: web.WebAppSiteContainerArgs = {
        resourceGroupName,
        name: app.name,
        containerName: containers.service.name,
        isMain: false,
        image,
        targetPort: containers.service.targetPort,
        authType: "UserAssigned",
        userManagedIdentityClientId: identity.clientId,
        inheritAppSettingsAndConnectionStrings: true,
      };
      args.transform?.proxyContainer?.(proxyArgs);
      args.transform?.serviceContainer?.(serviceArgs);
      siteContainers.push(new web.WebAppSiteContainer(`${name}-proxy`, proxyArgs, parent), new web.WebAppSiteContainer(`${name}-service`, serviceArgs, parent));
    }

    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.identityId = identity.id;
    this.defaultHostName = app.defaultHostName;
    this.nodes = { identity, grants, app, siteContainers };
    this.registerOutputs({ clientId: this.clientId, defaultHostName: this.defaultHostName });
  }
}
