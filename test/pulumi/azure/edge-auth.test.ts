import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EDGE_PROXY_CONFIG_PATH, EDGE_PROXY_PORT } from "../../../lib/plan/edge-proxy.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

type Json = Record<string, any>;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

/** The Azure example on VMs with the gateway checking callers, and what Azure offers only on clusters turned off. */
function onVms(change: Partial<LandingZoneInput>): LandingZoneInput {
  const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
  return { ...example, tier: "iaas", mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" }, ...change };
}

/** The edge proxy's Envoy config in a scale set's cloud-config, or undefined without one. */
function proxyConfig(resources: readonly RegisteredResource[], service: string): Json | undefined {
  const scaleSet = byType(resources, "azure-native:compute:VirtualMachineScaleSet").find((s) => s.parent === `shop-${service}`)!;
  const customData = (scaleSet.inputs["virtualMachineProfile"] as Json)["osProfile"].customData as string;
  const cloudConfig = parse(Buffer.from(customData, "base64").toString("utf8")) as { write_files: { path: string; content: string }[]; runcmd: string[][] };
  const file = cloudConfig.write_files.find((f) => f.path === EDGE_PROXY_CONFIG_PATH);
  if (file) expect(cloudConfig.runcmd).toContainEqual(["systemctl", "enable", "--now", "msa-edge-proxy.service"]);
  return file ? (parse(file.content) as Json) : undefined;
}
const manager = (config: Json) => config["static_resources"].listeners[0].filter_chains[0].filters[0].typed_config;
const httpFilter = (config: Json, name: string) => manager(config).http_filters.find((f: Json) => f.name === name)?.typed_config;

describe("Azure VMs, Entra ID tokens checked by the edge proxies", async () => {
  const spec = onVms({ gateway: { auth: "jwt" }, auth: { sessions: "redis", issuer: ISSUER, audiences: ["api://shop"] } });
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const exposed = plan.services.filter((s) => s.expose);
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));

  it("puts a proxy validating the tenant's tokens, with Entra ID's keys and the audiences, in front of every exposed service", () => {
    expect(exposed.length).toBeGreaterThan(1);
    for (const service of exposed) {
      const jwt = httpFilter(proxyConfig(resources, service.name)!, "envoy.filters.http.jwt_authn");
      expect(jwt.providers.gateway, service.name).toMatchObject({
        issuer: ISSUER,
        audiences: ["api://shop"],
        remote_jwks: { http_uri: { uri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys` } },
      });
      expect(jwt.rules, service.name).toEqual([{ match: { path: service.healthPath } }, { match: { prefix: "/" }, requires: { provider_name: "gateway" } }]);
    }
  });

  it("sends Application Gateway to the proxies' port, probed on the health path, and opens only that port to it", () => {
    const gateway = single(resources, "azure-native:network:ApplicationGateway");
    const settings = gateway.inputs["backendHttpSettingsCollection"] as { name: string; port: number }[];
    const probes = gateway.inputs["probes"] as { name: string; path: string }[];
    for (const service of exposed) {
      expect(settings.find((s) => s.name === service.name)!.port, service.name).toBe(EDGE_PROXY_PORT);
      expect(probes.find((p) => p.name === service.name)!.path).toBe(service.healthPath);
    }
    const nsg = byType(resources, "azure-native:network:NetworkSecurityGroup").find((g) => g.name === "shop-network-workloads-nsg")!;
    expect((nsg.inputs["securityRules"] as { name: string; destinationPortRange?: string }[]).find((r) => r.name === "AllowGateway")!.destinationPortRange).toBe(String(EDGE_PROXY_PORT));
  });

  it("gives no instance a public IP", () => {
    for (const scaleSet of byType(resources, "azure-native:compute:VirtualMachineScaleSet")) {
      for (const nic of (scaleSet.inputs["virtualMachineProfile"] as Json)["networkProfile"].networkInterfaceConfigurations) {
        for (const ip of nic.ipConfigurations) expect(ip["publicIPAddressConfiguration"], scaleSet.name).toBeUndefined();
      }
    }
  });
});

describe("Azure VMs, the gateway delegating to the auth service", async () => {
  const base = onVms({});
  const spec = onVms({ gateway: { auth: "authorizer" }, auth: { sessions: "redis", service: "auth" }, services: [...base.services!, { name: "auth", path: "/auth" }] });
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));

  it("has each proxy ask the auth service by its private DNS name, skipping its sign-in routes and failing closed", () => {
    const auth = plan.services.find((s) => s.name === "auth")!;
    expect(byType(resources, "azure-native:privatedns:PrivateRecordSet").map((r) => r.inputs["relativeRecordSetName"])).toContain("auth");
    // The proxies call the auth service's discovery frontend on port 80, which forwards to the port it listens on.
    const rules = single(resources, "azure-native:network:LoadBalancer").inputs["loadBalancingRules"] as { name: string; frontendPort: number; backendPort: number }[];
    expect(rules.find((r) => r.name === "auth")).toMatchObject({ frontendPort: 80, backendPort: auth.port });
    for (const service of plan.services.filter((s) => s.expose)) {
      const config = proxyConfig(resources, service.name)!;
      expect(httpFilter(config, "envoy.filters.http.ext_authz"), service.name).toMatchObject({
        http_service: { server_uri: { uri: "http://auth.shop.internal:80" }, path_prefix: "/auth/authorize" },
        failure_mode_allow: false,
      });
      const routes = manager(config).route_config.virtual_hosts[0].routes as Json[];
      expect(routes.filter((r) => r.typed_per_filter_config).map((r) => r.match)).toEqual([{ path: service.healthPath }, { path: "/auth" }, { prefix: "/auth/" }]);
    }
  });
});

describe("VmService behind an edge proxy", () => {
  it("refuses to be built without what its proxy checks, so the gateway never reaches it unchecked", async () => {
    const plan = planLandingZone(onVms({ gateway: { auth: "authorizer" }, auth: { sessions: "redis", service: "orders" } }), { engine: "pulumi" });
    const { VmService } = await import("../../../lib/pulumi/azure/vm-service.js");
    const registry = { loginServer: pulumi.output("r.azurecr.io"), grantPull: () => { throw new Error("not reached"); } };
    expect(() => new VmService("orders", { plan, service: "orders", vms: plan.vms!, resourceGroupName: "g", location: "koreacentral", subnetId: "s", zones: ["1"], registry, secretUris: { SIGNING_KEY: "https://v.vault.azure.net/secrets/k" } })).toThrow(
      "VmService orders edgeProxy: plan.edgeProxy checks callers of orders (ext-authz), but args.edgeProxy.authService is missing. Fix: pass it, as LandingZone does",
    );
  });
});
