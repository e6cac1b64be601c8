import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { EDGE_PROXY_CONFIG_PATH, EDGE_PROXY_PORT } from "../../../lib/plan/edge-proxy.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { IDENTITY_PLATFORM_JWKS_URI } from "../../../lib/pulumi/gcp/user-directory.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

type Json = Record<string, any>;

/** The GCP example on VMs with the gateway checking callers (`auth`) and what VMs do not run turned off. */
function onVms(auth: Pick<LandingZoneSpec, "gateway" | "auth">): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return {
    ...spec,
    tier: "iaas",
    mesh: { ...spec.mesh, kind: "none" },
    logging: { ...spec.logging, stack: "none", buffer: "none" },
    tracing: { ...spec.tracing, backend: "none" },
    gateway: auth.gateway,
    auth: auth.auth,
  };
}

/** The edge proxy's Envoy config in a VM template's cloud-config, or undefined without one. */
function proxyConfig(resources: readonly RegisteredResource[], service: string): Json | undefined {
  const template = single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", `shop-${service}-template`);
  const cloudConfig = parse((template.inputs["metadata"] as Record<string, string>)["user-data"]!) as { write_files: { path: string; content: string }[]; runcmd: string[] };
  const file = cloudConfig.write_files.find((f) => f.path === EDGE_PROXY_CONFIG_PATH);
  if (file) expect(cloudConfig.runcmd).toContain("systemctl start msa-edge-proxy.service");
  return file ? (parse(file.content) as Json) : undefined;
}
const httpFilter = (config: Json, name: string) => config["static_resources"].listeners[0].filter_chains[0].filters[0].typed_config.http_filters.find((f: Json) => f.name === name)?.typed_config;

describe("LandingZone on GCP VMs, client tokens checked by the edge proxies", () => {
  const example = loadSpecFile("examples/gcp/landing-zone.yaml");
  const spec = onVms({ gateway: { ...example.gateway, auth: "jwt" }, auth: example.auth });
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const exposed = plan.services.filter((s) => s.expose);
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("creates the Identity Platform directory whose tokens the proxies accept", () => {
    expect(single(resources, "gcp:identityplatform/config:Config", "shop-users-config").inputs).toMatchObject({ signIn: { email: { enabled: true, passwordRequired: true } } });
  });

  it("puts a proxy validating Identity Platform tokens of the project in front of every exposed service", () => {
    expect(exposed.length).toBeGreaterThan(1);
    for (const service of exposed) {
      const jwt = httpFilter(proxyConfig(resources, service.name)!, "envoy.filters.http.jwt_authn");
      expect(jwt.providers.gateway, service.name).toMatchObject({ issuer: `https://securetoken.google.com/${MOCK_GCP_PROJECT}`, audiences: [MOCK_GCP_PROJECT], remote_jwks: { http_uri: { uri: IDENTITY_PLATFORM_JWKS_URI } } });
      expect(jwt.rules, service.name).toEqual([{ match: { path: service.healthPath } }, { match: { prefix: "/" }, requires: { provider_name: "gateway" } }]);
    }
  });

  it("sends the gateway through the proxy: named port, backend health check and firewall target the proxy's port", () => {
    for (const service of exposed) {
      const group = single(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", `shop-${service.name}-group`);
      expect(group.inputs["namedPorts"], service.name).toEqual([{ name: "http", port: EDGE_PROXY_PORT }]);
      const probe = single(resources, "gcp:compute/healthCheck:HealthCheck", `shop-${service.name}-edge-health`);
      expect(probe.inputs["httpHealthCheck"]).toEqual({ port: EDGE_PROXY_PORT, requestPath: service.healthPath });
      expect(single(resources, "gcp:compute/backendService:BackendService", `shop-gateway-${service.name}`).inputs).toMatchObject({ portName: "http", healthChecks: probe.outputs["id"], backends: [{ group: group.outputs["instanceGroup"] }] });
      // Autohealing still watches the service itself.
      expect(group.inputs["autoHealingPolicies"]).toMatchObject({ healthCheck: single(resources, "gcp:compute/healthCheck:HealthCheck", `shop-${service.name}-health`).outputs["id"] });
    }
    const allowed = (single(resources, "gcp:compute/firewall:Firewall", "shop-network-allow-load-balancer").inputs["allows"] as Json[])[0]!["ports"];
    expect(allowed).toContain(String(EDGE_PROXY_PORT));
  });

  it("gives no VM a public address", () => {
    const templates = byType(resources, "gcp:compute/instanceTemplate:InstanceTemplate");
    expect(templates.length).toBe(plan.services.length);
    for (const t of templates) for (const nic of t.inputs["networkInterfaces"] as Json[]) expect(nic["accessConfigs"], t.name).toBeUndefined();
  });
});

describe("LandingZone on GCP VMs, the gateway delegating to the auth service", () => {
  const example = loadSpecFile("examples/gcp/landing-zone.yaml");
  const base = onVms({ gateway: { ...example.gateway, auth: "authorizer" }, auth: { ...example.auth, service: "auth" } });
  const spec: LandingZoneSpec = { ...base, services: [...base.services, { ...base.services[0]!, name: "auth", path: "/auth", publishes: [], subscribes: [], secrets: [], database: undefined }] };
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("has each proxy ask the auth service by its Service Directory name, skipping its sign-in routes", () => {
    const auth = plan.services.find((s) => s.name === "auth")!;
    const zone = single(resources, "gcp:dns/managedZone:ManagedZone");
    expect(zone.inputs["dnsName"]).toBe("shop-prod.internal.");
    for (const name of ["orders", "web", "auth"]) {
      const config = proxyConfig(resources, name)!;
      expect(httpFilter(config, "envoy.filters.http.ext_authz").http_service, name).toMatchObject({
        server_uri: { uri: `http://auth.shop-prod.internal:${auth.port}`, cluster: "auth_service" },
        path_prefix: "/auth/authorize",
      });
      expect(httpFilter(config, "envoy.filters.http.jwt_authn")).toBeUndefined();
      const routes = config["static_resources"].listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes as Json[];
      expect(routes.filter((r) => r.typed_per_filter_config).map((r) => r.match)).toEqual([{ path: "/health" }, { path: "/auth" }, { prefix: "/auth/" }]);
    }
    // The auth service is registered behind its internal load balancer on its own port.
    expect(single(resources, "gcp:compute/forwardingRule:ForwardingRule", "shop-auth-internal").inputs["ports"]).toEqual([String(auth.port)]);
    expect(byType(resources, "gcp:identityplatform/config:Config")).toHaveLength(0);
  });
});

describe("InstanceGroupService behind an edge proxy", () => {
  it("refuses to be built without what its proxy checks, so the gateway never reaches it unchecked", async () => {
    const example = loadSpecFile("examples/gcp/landing-zone.yaml");
    const plan = planLandingZone(onVms({ gateway: { ...example.gateway, auth: "jwt" }, auth: example.auth }), { engine: "pulumi" });
    const { InstanceGroupService } = await import("../../../lib/pulumi/gcp/instance-group-service.js");
    expect(() => new InstanceGroupService("orders", { plan, service: "orders", networkId: "n", subnetworkId: "s", repository: { url: "u", name: "r" } })).toThrow(
      "InstanceGroupService orders edgeProxy: plan.edgeProxy checks callers of orders (jwt), but args.edgeProxy.issuer is missing. Fix: pass it, as LandingZone does",
    );
  });
});
