import { beforeAll, describe, expect, it } from "vitest";
import { EDGE_PROXY_PORT } from "../../../lib/plan/edge-proxy.js";
import { GCP_HEALTH_CHECK_RANGES, gcpNetworkLayout, LOAD_BALANCER_BACKEND_TAG } from "../../../lib/plan/gcp.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { Network } from "../../../lib/pulumi/gcp/network.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, runProgram, single, type RegisteredResource } from "../harness.js";

describe("Network (gcp)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(
      () => {
        new Network("shop", { region: "asia-northeast3", cidr: "10.10.0.0/16", loadBalancerPorts: [8080, 9090] });
      },
      { config: GCP_CONFIG },
    ));
  });

  it("creates a custom-mode VPC with one regional subnet carrying the GKE secondary ranges and private Google access", () => {
    expect(single(resources, "gcp:compute/network:Network").inputs).toMatchObject({ autoCreateSubnetworks: false, routingMode: "REGIONAL" });
    const subnet = single(resources, "gcp:compute/subnetwork:Subnetwork");
    expect(subnet.parent).toBe("shop");
    expect(subnet.inputs).toMatchObject({
      region: "asia-northeast3",
      ipCidrRange: "10.10.0.0/17",
      privateIpGoogleAccess: true,
      secondaryIpRanges: [
        { rangeName: "pods", ipCidrRange: "100.64.0.0/14" },
        { rangeName: "services", ipCidrRange: "100.68.0.0/20" },
      ],
      logConfig: { aggregationInterval: "INTERVAL_5_SEC", flowSampling: 1, metadata: "INCLUDE_ALL_METADATA" },
    });
    expect(subnet.inputs["network"]).toBe(single(resources, "gcp:compute/network:Network").outputs["id"]);
  });

  it("egresses through Cloud NAT on a Cloud Router for every range of the subnet", () => {
    const router = single(resources, "gcp:compute/router:Router");
    const nat = single(resources, "gcp:compute/routerNat:RouterNat");
    expect(nat.inputs).toMatchObject({ router: router.outputs["name"], region: "asia-northeast3", sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES", natIpAllocateOption: "AUTO_ONLY", logConfig: { enable: true, filter: "ERRORS_ONLY" } });
  });

  it("denies ingress by default and admits only the subnet, the pods and Google's load balancer ranges on the services' ports", () => {
    const rules = Object.fromEntries(byType(resources, "gcp:compute/firewall:Firewall").map((r) => [r.name, r.inputs]));
    expect(Object.keys(rules).sort()).toEqual(["shop-allow-internal", "shop-allow-load-balancer", "shop-deny-all-ingress"]);
    expect(rules["shop-deny-all-ingress"]).toMatchObject({ direction: "INGRESS", priority: 65534, sourceRanges: ["0.0.0.0/0"], denies: [{ protocol: "all" }], logConfig: { metadata: "INCLUDE_ALL_METADATA" } });
    expect(rules["shop-allow-internal"]).toMatchObject({ sourceRanges: ["10.10.0.0/17", "100.64.0.0/14"], priority: 1000 });
    expect(rules["shop-allow-load-balancer"]).toMatchObject({
      sourceRanges: [...GCP_HEALTH_CHECK_RANGES],
      targetTags: [LOAD_BALANCER_BACKEND_TAG],
      allows: [{ protocol: "tcp", ports: ["8080", "9090"] }],
    });
    // No rule admits the internet to everything.
    for (const rule of Object.values(rules)) if ((rule["sourceRanges"] as string[]).includes("0.0.0.0/0")) expect(rule["allows"]).toBeUndefined();
  });

  it("peers the isolated quarter with Google's service producers for private-IP data stores", () => {
    const range = single(resources, "gcp:compute/globalAddress:GlobalAddress");
    expect(range.inputs).toMatchObject({ purpose: "VPC_PEERING", addressType: "INTERNAL", address: "10.10.192.0", prefixLength: 18 });
    const connection = single(resources, "gcp:servicenetworking/connection:Connection");
    expect(connection.inputs).toMatchObject({ service: "servicenetworking.googleapis.com", reservedPeeringRanges: [range.outputs["name"]], deletionPolicy: "ABANDON" });
  });

  it("leaves out NAT, flow logs, the load balancer rule and the peering when asked", async () => {
    const { resources: bare } = await runProgram(() => void new Network("bare", { region: "us-central1", nat: false, flowLogs: false, privateServiceAccess: false }), { config: GCP_CONFIG });
    expect(byType(bare, "gcp:compute/routerNat:RouterNat")).toHaveLength(0);
    expect(byType(bare, "gcp:servicenetworking/connection:Connection")).toHaveLength(0);
    expect(single(bare, "gcp:compute/subnetwork:Subnetwork").inputs["logConfig"]).toBeUndefined();
    expect(byType(bare, "gcp:compute/firewall:Firewall").map((r) => r.name).sort()).toEqual(["bare-allow-internal", "bare-deny-all-ingress"]);
  });

  it("rejects bad input before anything is registered", () => {
    expect(() => new Network("x", { region: "us-central1", loadBalancerPorts: [70000] })).toThrow(/loadBalancerPorts has 70000. Fix/);
    expect(() => new Network("x", { region: "us-central1", healthCheckPorts: [0] })).toThrow(/healthCheckPorts has 0. Fix/);
    expect(() => new Network("x", { region: "us-central1", cidr: "10.0.0.0/16", podsCidr: "10.0.0.0/14" })).toThrow(/layout.pods 10.0.0.0\/14 overlaps layout.subnet/);
    expect(() => gcpNetworkLayout({ cidr: "10.0.0.0/24", podsCidr: "100.64.0.0/14", servicesCidr: "100.68.0.0/20" })).toThrow(/too small on GCP.*Fix: use a \/22 or larger/);
  });
});

describe("Network of a landing zone on VMs", () => {
  const example = loadSpecFile("examples/gcp/landing-zone.yaml");
  // Behind edge proxies and without discovery, no load balancer reaches the services' own ports, but autohealing still probes them.
  const spec: LandingZoneSpec = {
    ...example,
    tier: "iaas",
    gateway: { ...example.gateway, auth: "jwt" },
    discovery: { enabled: false },
    mesh: { ...example.mesh, kind: "none" },
    logging: { ...example.logging, stack: "none", buffer: "none" },
    tracing: { ...example.tracing, backend: "none" },
  };
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("lets Google's health checkers reach the port every instance group autoheals on", () => {
    const groups = byType(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager");
    expect(groups.length).toBe(planLandingZone(spec, { engine: "pulumi" }).services.length);
    const rules = byType(resources, "gcp:compute/firewall:Firewall").filter((r) => r.inputs["direction"] === "INGRESS" && r.inputs["allows"]);
    for (const group of groups) {
      const check = byType(resources, "gcp:compute/healthCheck:HealthCheck").find((h) => h.outputs["id"] === (group.inputs["autoHealingPolicies"] as { healthCheck: string }).healthCheck)!;
      const port = String((check.inputs["httpHealthCheck"] as { port: number }).port);
      const template = byType(resources, "gcp:compute/instanceTemplate:InstanceTemplate").find((t) => (group.inputs["versions"] as { instanceTemplate: string }[])[0]!.instanceTemplate === t.outputs["selfLinkUnique"])!;
      const admitting = rules.filter(
        (r) =>
          GCP_HEALTH_CHECK_RANGES.every((range) => (r.inputs["sourceRanges"] as string[]).includes(range)) &&
          (r.inputs["targetTags"] as string[]).every((tag) => (template.inputs["tags"] as string[]).includes(tag)) &&
          (r.inputs["allows"] as { ports?: string[] }[]).some((a) => a.ports?.includes(port)),
      );
      expect(admitting.map((r) => r.name), group.name).toEqual(["shop-network-allow-health-check"]);
    }
    // The load balancer itself still reaches only the edge proxies' port.
    expect(single(resources, "gcp:compute/firewall:Firewall", "shop-network-allow-load-balancer").inputs["allows"]).toEqual([{ protocol: "tcp", ports: [String(EDGE_PROXY_PORT)] }]);
  });
});
