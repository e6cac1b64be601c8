import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as network from "@pulumi/azure-native/network/index.js";
import type * as inputs from "@pulumi/azure-native/types/input.js";
import * as pulumi from "@pulumi/pulumi";
import { keyVaultSecretName } from "../../plan/azure-key-vault.js";
import type { GatewayPlan } from "../../plan/types.js";
import { dependencyList } from "../kubernetes/dependencies.js";
import { sendDiagnostics } from "./diagnostics.js";
import { grantRole } from "./roles.js";

/** The OWASP core rule set version of the WAF policy (the newest Application Gateway accepts beside DRS). */
export const OWASP_RULE_SET = { ruleSetType: "OWASP", ruleSetVersion: "3.2" } as const;
/** TLS policy of the HTTPS listener: TLS 1.2 and 1.3 with strong ciphers only. */
export const TLS_POLICY = "AppGwSslPolicy20220101S";
/** Priority of the per-client rate-limit custom rule. */
export const RATE_LIMIT_RULE_PRIORITY = 10;
/** Name of the empty backend pool unrouted paths fall to, so nothing answers outside the plan's routes. */
export const UNROUTED_POOL = "unrouted";

/** A backend the gateway forwards to: an address (ingress, App Service host) or a pool members join (scale sets). */
export interface GatewayBackend {
  /** Pool name; routes name it as their target. */
  readonly name: string;
  /**
   * Static members of the pool.
   * @default - none: members join the pool themselves (scale-set NICs), see `backendPoolIds`
   */
  readonly addresses?: readonly { readonly ipAddress?: pulumi.Input<string>; readonly fqdn?: pulumi.Input<string> }[];
  readonly port: number;
  readonly protocol: "Http" | "Https";
  /** Health probe path on the backend. */
  readonly healthPath: string;
  /**
   * Send the backend's own host name (App Service needs it); otherwise the client's Host header is kept.
   * @default false
   */
  readonly useBackendHostName?: boolean;
}

/** A path prefix routed to a backend by name. */
export interface GatewayRoute {
  readonly path: string;
  readonly backend: string;
}

/** Arguments of {@link ApiGateway}. */
export interface ApiGatewayArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Name of the Application Gateway (unique in its resource group); sub-resource ids are built from it. */
  readonly gatewayName: string;
  /** The dedicated gateway subnet. */
  readonly subnetId: pulumi.Input<string>;
  /** Rate limit, WAF mode and access logs (`plan.gateway`; access logs are sent anyway when `monitored`). */
  readonly gateway: Pick<GatewayPlan, "waf" | "rateLimit" | "accessLogs">;
  /** Backend pools, each with its port, protocol and health probe. */
  readonly backends: readonly GatewayBackend[];
  /** Path prefixes and the backend each reaches; any other path reaches nothing. */
  readonly routes: readonly GatewayRoute[];
  /** Zones the gateway instances and its public IP span. */
  readonly zones: readonly string[];
  /**
   * The TLS certificate of an HTTPS listener, a Key Vault secret (`https://<vault>.vault.azure.net/secrets/<name>[/<version>]`) in the vault
   * `keyVaultId`, which the gateway reads with its own identity, granted on that secret alone; HTTP then redirects to HTTPS.
   * @default - an HTTP listener only (put the certificate in Key Vault and pass it before going to production)
   */
  readonly certificate?: { readonly keyVaultSecretId: pulumi.Input<string>; readonly keyVaultId: pulumi.Input<string> };
  /**
   * Autoscaling bounds of the gateway instances. Cost: each capacity unit and instance bills hourly; WAF_v2 more than Standard_v2.
   * @default { min: 1, max: 10 }
   */
  readonly capacity?: { readonly min: number; readonly max: number };
  /**
   * Log Analytics workspace of the access, performance and firewall logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Alerts or a workbook read the access logs in `logWorkspaceId` (`Monitoring` queries AGWAccessLogs), so they are
   * sent there even when `gateway.accessLogs` is false; the performance log still is not.
   * @default false
   */
  readonly monitored?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly gateway?: (args: network.ApplicationGatewayArgs) => void;
    readonly firewallPolicy?: (args: network.WebApplicationFirewallPolicyArgs) => void;
  };
}

/**
 * The single public entry of the landing zone: an Application Gateway WAF_v2 across zones with a
 * WAF policy (OWASP 3.2 and bot rules in Prevention mode when the plan asks for a WAF, Detection
 * otherwise) and a per-client rate-limit rule, one path rule per route to its backend pool, health
 * probes per backend, an empty default pool so unrouted paths reach nothing, TLS 1.2+ on HTTPS with
 * a Key Vault certificate when one is given, and its logs in Log Analytics.
 *
 * Cost: WAF_v2 bills a fixed hourly rate plus capacity units, even when idle.
 *
 * @example
 * const gateway = new ApiGateway("shop", {
 *   resourceGroupName: group.name, location: "eastus", gatewayName: "shop-prod-gateway", subnetId: network.subnetIds.gateway,
 *   gateway: plan.gateway, zones: ["1", "2", "3"],
 *   backends: [{ name: "ingress", addresses: [{ ipAddress: "10.0.127.250" }], port: 80, protocol: "Http", healthPath: "/healthz" }],
 *   routes: [{ path: "/orders", backend: "ingress" }],
 * });
 */
export class ApiGateway extends pulumi.ComponentResource {
  /** `https://<ip>` or `http://<ip>` without a certificate. */
  readonly url: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;
  /** The Application Gateway's resource id (alerts, diagnostics). */
  readonly gatewayId: pulumi.Output<string>;
  /** Backend pool id by backend name, for members that join a pool (scale-set NICs). */
  readonly backendPoolIds: Readonly<Record<string, pulumi.Output<string>>>;
  readonly nodes: {
    readonly gateway: network.ApplicationGateway;
    readonly firewallPolicy: network.WebApplicationFirewallPolicy;
    readonly publicIp: network.PublicIPAddress;
    readonly identity?: managedidentity.UserAssignedIdentity;
  };

  constructor(name: string, args: ApiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(name, args);
    super("msa:azure:ApiGateway", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName, location } = args;
    const capacity = args.capacity ?? { min: 1, max: 10 };
    const subscriptionId = authorization.getClientConfigOutput(parent).subscriptionId;
    const gatewayId = pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.Network/applicationGateways/${args.gatewayName}`;
    const ref = (kind: string, child: string) => ({ id: pulumi.interpolate`${gatewayId}/${kind}/${child}` });

    const policyArgs: network.WebApplicationFirewallPolicyArgs = {
      resourceGroupName,
      location,
      policySettings: {
        state: "Enabled",
        mode: args.gateway.waf ? "Prevention" : "Detection",
        requestBodyCheck: true,
        maxRequestBodySizeInKb: 128,
        fileUploadLimitInMb: 100,
      },
      managedRules: { managedRuleSets: [{ ...OWASP_RULE_SET }, { ruleSetType: "Microsoft_BotManagerRuleSet", ruleSetVersion: "1.1" }] },
      customRules: [rateLimitRule(args.gateway.rateLimit)],
      tags,
    };
    args.transform?.firewallPolicy?.(policyArgs);
    const firewallPolicy = new network.WebApplicationFirewallPolicy(`${name}-waf`, policyArgs, parent);

    const publicIp = new network.PublicIPAddress(
      `${name}-ip`,
      { resourceGroupName, location, sku: { name: "Standard", tier: "Regional" }, publicIPAllocationMethod: "Static", publicIPAddressVersion: "IPv4", zones: [...args.zones], tags },
      parent,
    );

    let identity: managedidentity.UserAssignedIdentity | undefined;
    const dependsOn: pulumi.Input<pulumi.Resource>[] = dependencyList(opts?.dependsOn);
    if (args.certificate) {
      identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, { resourceGroupName, location, tags }, parent);
      const { keyVaultId, keyVaultSecretId } = args.certificate;
      const secretScope = pulumi.all([keyVaultId, keyVaultSecretId]).apply(([vault, secretId]) => `${vault}/secrets/${keyVaultSecretName(secretId, `ApiGateway ${name} certificate.keyVaultSecretId`)}`);
      dependsOn.push(grantRole(`${name}-read-certificate`, { role: "keyVaultSecretsUser", scope: secretScope, principalId: identity.principalId }, parent));
    }
    const https = args.certificate !== undefined;

    const backendNames = args.backends.map((b) => b.name);
    const gatewayArgs: network.ApplicationGatewayArgs = {
      resourceGroupName,
      location,
      applicationGatewayName: args.gatewayName,
      sku: { name: "WAF_v2", tier: "WAF_v2" },
      autoscaleConfiguration: { minCapacity: capacity.min, maxCapacity: capacity.max },
      zones: [...args.zones],
      enableHttp2: true,
      firewallPolicy: { id: firewallPolicy.id },
      ...(identity ? { identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] } } : {}),
      gatewayIPConfigurations: [{ name: "gateway", subnet: { id: args.subnetId } }],
      frontendIPConfigurations: [{ name: "public", publicIPAddress: { id: publicIp.id } }],
      frontendPorts: [{ name: "http", port: 80 }, ...(https ? [{ name: "https", port: 443 }] : [])],
      sslPolicy: { policyType: "Predefined", policyName: TLS_POLICY },
      ...(args.certificate ? { sslCertificates: [{ name: "default", keyVaultSecretId: args.certificate.keyVaultSecretId }] } : {}),
      httpListeners: [
        { name: "http", frontendIPConfiguration: ref("frontendIPConfigurations", "public"), frontendPort: ref("frontendPorts", "http"), protocol: "Http" },
        ...(https
          ? [{ name: "https", frontendIPConfiguration: ref("frontendIPConfigurations", "public"), frontendPort: ref("frontendPorts", "https"), protocol: "Https", sslCertificate: ref("sslCertificates", "default") }]
          : []),
      ],
      backendAddressPools: [
        { name: UNROUTED_POOL, backendAddresses: [] },
        ...args.backends.map((b) => ({ name: b.name, backendAddresses: (b.addresses ?? []).map((a) => ({ ...a })) })),
      ],
      probes: args.backends.map((b) => ({
        name: b.name,
        protocol: b.protocol,
        path: b.healthPath,
        interval: 15,
        timeout: 10,
        unhealthyThreshold: 3,
        ...(b.useBackendHostName ? { pickHostNameFromBackendHttpSettings: true } : { host: "127.0.0.1" }),
        match: { statusCodes: ["200-399"] },
      })),
      backendHttpSettingsCollection: args.backends.map((b) => ({
        name: b.name,
        port: b.port,
        protocol: b.protocol,
        cookieBasedAffinity: "Disabled",
        requestTimeout: 30,
        pickHostNameFromBackendAddress: b.useBackendHostName ?? false,
        probe: ref("probes", b.name),
        connectionDraining: { enabled: true, drainTimeoutInSec: 30 },
      })),
      urlPathMaps: [
        {
          name: "routes",
          // Paths outside the routes fall to an empty pool and get 502: nothing is reachable by accident.
          defaultBackendAddressPool: ref("backendAddressPools", UNROUTED_POOL),
          defaultBackendHttpSettings: ref("backendHttpSettingsCollection", backendNames[0]!),
          pathRules: args.routes.map((route, i) => ({
            name: `route-${i}`,
            paths: route.path === "/" ? ["/*"] : [route.path, `${route.path}/*`],
            backendAddressPool: ref("backendAddressPools", route.backend),
            backendHttpSettings: ref("backendHttpSettingsCollection", route.backend),
          })),
        },
      ],
      ...(https
        ? { redirectConfigurations: [{ name: "to-https", redirectType: "Permanent", targetListener: ref("httpListeners", "https"), includePath: true, includeQueryString: true }] }
        : {}),
      requestRoutingRules: [
        https
          ? { name: "http", priority: 100, ruleType: "Basic", httpListener: ref("httpListeners", "http"), redirectConfiguration: ref("redirectConfigurations", "to-https") }
          : { name: "http", priority: 100, ruleType: "PathBasedRouting", httpListener: ref("httpListeners", "http"), urlPathMap: ref("urlPathMaps", "routes") },
        ...(https ? [{ name: "https", priority: 110, ruleType: "PathBasedRouting", httpListener: ref("httpListeners", "https"), urlPathMap: ref("urlPathMaps", "routes") }] : []),
      ],
      tags,
    };
    args.transform?.gateway?.(gatewayArgs);
    const gateway = new network.ApplicationGateway(`${name}-gateway`, gatewayArgs, { parent: this, dependsOn });
    if (args.logWorkspaceId) {
      const logs = args.gateway.accessLogs ? "allLogs" : args.monitored ? ["ApplicationGatewayAccessLog", "ApplicationGatewayFirewallLog"] : ["ApplicationGatewayFirewallLog"];
      sendDiagnostics(`${name}-diagnostics`, gateway.id, args.logWorkspaceId, this, { logs });
    }

    if (!https) pulumi.log.warn(`ApiGateway ${name}: no certificate, so the gateway listens on HTTP only. Pass certificate (a Key Vault secret) for HTTPS.`, this);
    this.publicIp = publicIp.ipAddress.apply((ip) => ip ?? "");
    this.gatewayId = gateway.id;
    this.url = pulumi.interpolate`${https ? "https" : "http"}://${this.publicIp}`;
    this.backendPoolIds = Object.fromEntries(backendNames.map((backend) => [backend, ref("backendAddressPools", backend).id]));
    this.nodes = { gateway, firewallPolicy, publicIp, ...(identity ? { identity } : {}) };
    this.registerOutputs({ url: this.url, publicIp: this.publicIp });
  }
}

/** Blocks a client address once it passes the plan's rate over a minute (Application Gateway counts per minute). */
export function rateLimitRule(rateLimit: GatewayPlan["rateLimit"]): inputs.network.WebApplicationFirewallCustomRuleArgs {
  return {
    name: "RateLimitPerClient",
    priority: RATE_LIMIT_RULE_PRIORITY,
    ruleType: "RateLimitRule",
    rateLimitDuration: "OneMin",
    rateLimitThreshold: rateLimit.requestsPerSecond * 60,
    groupByUserSession: [{ groupByVariables: [{ variableName: "ClientAddr" }] }],
    // A condition every request meets: the rule counts all traffic, grouped by client.
    matchConditions: [{ matchVariables: [{ variableName: "RemoteAddr" }], operator: "IPMatch", negationConditon: true, matchValues: ["255.255.255.255/32"] }],
    action: "Block",
    state: "Enabled",
  };
}

function checkArgs(name: string, args: ApiGatewayArgs): void {
  const backends = new Set(args.backends.map((b) => b.name));
  if (backends.size === 0) throw new Error(`ApiGateway ${name}: backends is empty. Fix: pass at least one backend`);
  if (backends.has(UNROUTED_POOL)) throw new Error(`ApiGateway ${name}: backend name "${UNROUTED_POOL}" is reserved for unrouted paths. Fix: rename the backend`);
  if (backends.size !== args.backends.length) throw new Error(`ApiGateway ${name}: backend names repeat (${args.backends.map((b) => b.name).join(", ")}). Fix: give every backend its own name`);
  for (const route of args.routes) {
    if (!backends.has(route.backend)) throw new Error(`ApiGateway ${name}: route ${route.path} targets "${route.backend}", which is not a backend (${[...backends].join(", ")}). Fix: add that backend or change the route`);
  }
  // A secret id still resolving is checked when it resolves, by the grant's scope.
  if (typeof args.certificate?.keyVaultSecretId === "string") keyVaultSecretName(args.certificate.keyVaultSecretId, `ApiGateway ${name} certificate.keyVaultSecretId`);
  const capacity = args.capacity ?? { min: 1, max: 10 };
  if (capacity.min < 0 || capacity.max < Math.max(capacity.min, 2) || capacity.max > 125) {
    throw new Error(`ApiGateway ${name}: capacity { min: ${capacity.min}, max: ${capacity.max} } is invalid. Fix: use 0 <= min <= max, 2 <= max <= 125`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,78}[A-Za-z0-9_]$/.test(args.gatewayName)) {
    throw new Error(`ApiGateway ${name}: gatewayName "${args.gatewayName}" is not an Application Gateway name. Fix: use 2-80 letters, digits, '.', '_' and '-'`);
  }
}
