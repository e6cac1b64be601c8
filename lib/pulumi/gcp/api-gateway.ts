import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GatewayPlan } from "../../plan/types.js";

/** Cloud Armor's preconfigured OWASP ModSecurity CRS 3.3 rule sets the WAF evaluates, at sensitivity 1 (fewest false positives). */
export const CLOUD_ARMOR_WAF_RULES = [
  "sqli-v33-stable",
  "xss-v33-stable",
  "lfi-v33-stable",
  "rfi-v33-stable",
  "rce-v33-stable",
  "methodenforcement-v33-stable",
  "scannerdetection-v33-stable",
  "protocolattack-v33-stable",
  "sessionfixation-v33-stable",
] as const;
/** Cloud Armor counts requests per client over fixed windows; a 10-second window bounds bursts. */
export const RATE_LIMIT_WINDOW_SECONDS = 10;
/** Priority of Cloud Armor's default rule (the lowest). */
const DEFAULT_RULE_PRIORITY = 2147483647;

/** Where the load balancer sends one route target's traffic, per service model. */
export type GatewayBackend =
  /** GKE: the zonal standalone NEGs of the service (container-native load balancing); the gateway adds an HTTP health check on the serving port. */
  | { readonly kind: "neg"; readonly networkEndpointGroups: readonly pulumi.Input<string>[]; readonly healthCheckPath: string; readonly dependsOn?: readonly pulumi.Resource[] }
  /** VMs: a regional managed instance group with a named port `http` and the health check its autohealing uses. */
  | { readonly kind: "instanceGroup"; readonly instanceGroup: pulumi.Input<string>; readonly healthCheck: pulumi.Input<string>; readonly dependsOn?: readonly pulumi.Resource[] }
  /** App Engine: a serverless NEG; Google checks the service's health itself. */
  | { readonly kind: "serverless"; readonly networkEndpointGroup: pulumi.Input<string>; readonly dependsOn?: readonly pulumi.Resource[] };

/** Arguments of {@link ApiGateway}. */
export interface ApiGatewayArgs {
  /** Routes, WAF, rate limit and access-log settings (`plan.gateway`). */
  readonly gateway: GatewayPlan;
  /** The backend of every route target, by service or BFF name. */
  readonly backends: Readonly<Record<string, GatewayBackend>>;
  /**
   * Host names of the Google-managed certificate; point their DNS at {@link ApiGateway.address}.
   * @default - `<address>.nip.io`, a wildcard-DNS name for trying the gateway without a domain of your own
   */
  readonly domains?: readonly string[];
  /**
   * Route target that answers paths no route matches.
   * @default - the first BFF among the routes, else the first route's target
   */
  readonly defaultTarget?: string;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly securityPolicy?: (args: gcp.compute.SecurityPolicyArgs) => void;
    readonly backendService?: (args: gcp.compute.BackendServiceArgs, target: string) => void;
    readonly urlMap?: (args: gcp.compute.URLMapArgs) => void;
  };
}

/**
 * The single entry of the landing zone: a global external Application Load Balancer (HTTPS only,
 * TLS 1.2+ with a Google-managed certificate, HTTP redirected) whose URL map routes each of
 * `gateway.routes` to a backend service per target (GKE NEGs, instance groups or App Engine
 * serverless NEGs), every backend guarded by one Cloud Armor policy: per-client rate limiting
 * always, the OWASP CRS rule sets and adaptive Layer 7 DDoS defense when `gateway.waf`.
 *
 * Cost: forwarding rules and Cloud Armor policies and rules bill monthly, plus per request and GB.
 *
 * @example
 * const gateway = new ApiGateway("gateway", { gateway: plan.gateway, backends: { orders: orders.backend! }, domains: ["api.example.com"] });
 * export const url = gateway.url;
 */
export class ApiGateway extends pulumi.ComponentResource {
  /** `https://<first domain>`. */
  readonly url: pulumi.Output<string>;
  /** The load balancer's global IPv4 address. */
  readonly address: pulumi.Output<string>;
  readonly securityPolicyId: pulumi.Output<string>;
  /** Backend service ids by route target. */
  readonly backendServiceIds: Readonly<Record<string, pulumi.Output<string>>>;
  /** Backend service names by route target (the `backend_target_name` of load-balancer metrics). */
  readonly backendServiceNames: Readonly<Record<string, pulumi.Output<string>>>;
  /** Host names of the certificate. */
  readonly domains: pulumi.Output<string[]>;
  readonly nodes: {
    readonly address: gcp.compute.GlobalAddress;
    readonly securityPolicy: gcp.compute.SecurityPolicy;
    readonly backendServices: Readonly<Record<string, gcp.compute.BackendService>>;
    readonly urlMap: gcp.compute.URLMap;
    readonly certificate: gcp.compute.ManagedSslCertificate;
    readonly httpsForwardingRule: gcp.compute.GlobalForwardingRule;
  };

  constructor(name: string, args: ApiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    const { gateway } = args;
    const targets = [...new Set(gateway.routes.map((r) => r.target))];
    if (targets.length === 0) throw new Error(`ApiGateway ${name}: gateway.routes is empty. Fix: expose at least one service or BFF`);
    const missing = targets.filter((t) => !args.backends[t]);
    if (missing.length > 0) throw new Error(`ApiGateway ${name}: backends has no entry for ${missing.join(", ")}. Fix: pass a backend for every route target (${targets.join(", ")})`);
    const defaultTarget = args.defaultTarget ?? gateway.routes.find((r) => r.kind === "bff")?.target ?? targets[0]!;
    if (!targets.includes(defaultTarget)) throw new Error(`ApiGateway ${name}: defaultTarget "${defaultTarget}" is not a route target. Fix: use one of ${targets.join(", ")}`);
    if (args.domains?.length === 0) throw new Error(`ApiGateway ${name}: domains is empty. Fix: pass at least one host name, or leave domains out for <address>.nip.io`);
    super("msa:gcp:ApiGateway", name, {}, opts);
    const parent = { parent: this };

    const address = new gcp.compute.GlobalAddress(`${name}-address`, { addressType: "EXTERNAL", ipVersion: "IPV4", description: `Entry of ${name}` }, parent);

    const rules: gcp.types.input.compute.SecurityPolicyRule[] = [
      ...(gateway.waf
        ? CLOUD_ARMOR_WAF_RULES.map((rule, i) => ({
            priority: 1000 + i,
            action: "deny(403)",
            description: `OWASP CRS ${rule}`,
            match: { expr: { expression: `evaluatePreconfiguredWaf('${rule}', {'sensitivity': 1})` } },
          }))
        : []),
      {
        priority: 2000,
        action: "throttle",
        description: `At most ${gateway.rateLimit.requestsPerSecond} requests per second per client, bursts up to ${gateway.rateLimit.burst}`,
        match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
        rateLimitOptions: {
          conformAction: "allow",
          exceedAction: "deny(429)",
          enforceOnKey: "IP",
          rateLimitThreshold: { count: Math.max(gateway.rateLimit.requestsPerSecond * RATE_LIMIT_WINDOW_SECONDS, gateway.rateLimit.burst), intervalSec: RATE_LIMIT_WINDOW_SECONDS },
        },
      },
      { priority: DEFAULT_RULE_PRIORITY, action: "allow", description: "Default: allow what no rule above stopped", match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } } },
    ];
    const policyArgs: gcp.compute.SecurityPolicyArgs = {
      type: "CLOUD_ARMOR",
      description: `WAF and rate limiting of ${name}`,
      rules,
      // JSON bodies are inspected field by field instead of as one opaque string.
      advancedOptionsConfig: { jsonParsing: "STANDARD", logLevel: "NORMAL" },
      ...(gateway.waf ? { adaptiveProtectionConfig: { layer7DdosDefenseConfig: { enable: true } } } : {}),
    };
    args.transform?.securityPolicy?.(policyArgs);
    const securityPolicy = new gcp.compute.SecurityPolicy(`${name}-armor`, policyArgs, parent);

    const backendServices: Record<string, gcp.compute.BackendService> = {};
    for (const target of targets) {
      const backend = args.backends[target]!;
      let healthChecks: pulumi.Input<string> | undefined;
      if (backend.kind === "neg") {
        healthChecks = new gcp.compute.HealthCheck(
          `${name}-${target}-health`,
          { httpHealthCheck: { portSpecification: "USE_SERVING_PORT", requestPath: backend.healthCheckPath }, checkIntervalSec: 10, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
          parent,
        ).id;
      } else if (backend.kind === "instanceGroup") {
        healthChecks = backend.healthCheck;
      }
      const serviceArgs: gcp.compute.BackendServiceArgs = {
        loadBalancingScheme: "EXTERNAL_MANAGED",
        protocol: "HTTP",
        description: `Backend of ${target}`,
        securityPolicy: securityPolicy.selfLink,
        logConfig: { enable: gateway.accessLogs, ...(gateway.accessLogs ? { sampleRate: 1 } : {}) },
        ...(healthChecks ? { healthChecks } : {}),
        ...backendFields(backend),
      };
      args.transform?.backendService?.(serviceArgs, target);
      backendServices[target] = new gcp.compute.BackendService(`${name}-${target}`, serviceArgs, { parent: this, dependsOn: [...(backend.dependsOn ?? [])] });
    }

    const routesByTarget = targets.map((target) => ({
      service: backendServices[target]!.id,
      paths: gateway.routes.filter((r) => r.target === target).flatMap((r) => (r.path === "/" ? ["/*"] : [r.path, `${r.path.replace(/\/+$/, "")}/*`])),
    }));
    const urlMapArgs: gcp.compute.URLMapArgs = {
      description: `Routes of ${name}`,
      defaultService: backendServices[defaultTarget]!.id,
      hostRules: [{ hosts: ["*"], pathMatcher: "routes" }],
      pathMatchers: [{ name: "routes", defaultService: backendServices[defaultTarget]!.id, pathRules: routesByTarget }],
    };
    args.transform?.urlMap?.(urlMapArgs);
    const urlMap = new gcp.compute.URLMap(`${name}-routes`, urlMapArgs, parent);

    const domains = args.domains ? args.domains.map((d) => pulumi.output(d)) : [pulumi.interpolate`${address.address}.nip.io`];
    const certificate = new gcp.compute.ManagedSslCertificate(`${name}-certificate`, { type: "MANAGED", managed: { domains } }, parent);
    const sslPolicy = new gcp.compute.SSLPolicy(`${name}-tls`, { minTlsVersion: "TLS_1_2", profile: "MODERN", description: "TLS 1.2 or later with modern ciphers" }, parent);
    const httpsProxy = new gcp.compute.TargetHttpsProxy(`${name}-https`, { urlMap: urlMap.id, sslCertificates: [certificate.id], sslPolicy: sslPolicy.id }, parent);
    const httpsForwardingRule = new gcp.compute.GlobalForwardingRule(
      `${name}-https`,
      { target: httpsProxy.id, ipAddress: address.address, portRange: "443", ipProtocol: "TCP", loadBalancingScheme: "EXTERNAL_MANAGED" },
      parent,
    );
    // Port 80 only redirects, so no request is ever served in plain text.
    const redirect = new gcp.compute.URLMap(
      `${name}-https-redirect`,
      { description: `HTTP to HTTPS redirect of ${name}`, defaultUrlRedirect: { httpsRedirect: true, stripQuery: false, redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT" } },
      parent,
    );
    const httpProxy = new gcp.compute.TargetHttpProxy(`${name}-http`, { urlMap: redirect.id }, parent);
    new gcp.compute.GlobalForwardingRule(`${name}-http`, { target: httpProxy.id, ipAddress: address.address, portRange: "80", ipProtocol: "TCP", loadBalancingScheme: "EXTERNAL_MANAGED" }, parent);

    this.address = address.address;
    this.url = pulumi.interpolate`https://${domains[0]!}`;
    this.securityPolicyId = securityPolicy.id;
    this.backendServiceIds = Object.fromEntries(Object.entries(backendServices).map(([target, s]) => [target, s.id]));
    this.backendServiceNames = Object.fromEntries(Object.entries(backendServices).map(([target, s]) => [target, s.name]));
    this.domains = pulumi.all(domains);
    this.nodes = { address, securityPolicy, backendServices, urlMap, certificate, httpsForwardingRule };
    this.registerOutputs({ url: this.url, address: this.address });
  }
}

/** Backend-service fields that depend on the kind of backend. */
function backendFields(backend: GatewayBackend): Partial<gcp.compute.BackendServiceArgs> {
  switch (backend.kind) {
    case "neg":
      return {
        timeoutSec: 30,
        connectionDrainingTimeoutSec: 30,
        backends: backend.networkEndpointGroups.map((group) => ({ group, balancingMode: "RATE", maxRatePerEndpoint: 100 })),
      };
    case "instanceGroup":
      return {
        portName: "http",
        timeoutSec: 30,
        connectionDrainingTimeoutSec: 30,
        backends: [{ group: backend.instanceGroup, balancingMode: "UTILIZATION", maxUtilization: 0.8, capacityScaler: 1 }],
      };
    case "serverless":
      // Serverless NEGs take neither a health check, a timeout nor a balancing mode.
      return { backends: [{ group: backend.networkEndpointGroup }] };
  }
}
