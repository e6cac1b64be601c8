/**
 * Issue 4's acceptance: the shop example, with only `cloud`, `region` and `tier` changed, yields a
 * complete landing zone on every (cloud, tier) the Pulumi engine builds. Two clouds also need what
 * the landing zone cannot create for you, and nothing else: Azure the token issuer of your Entra ID
 * app registration and the Azure DevOps organization running the pipelines, an existing cluster the
 * token issuer (the planner asks for them by name when they are missing).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planLandingZone } from "../../lib/plan/planner.js";
import { createLandingZone } from "../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import type { Cloud, Tier } from "../../lib/spec/types.js";
import { GCP_CONFIG, runProgram } from "./harness.js";

const SHOP = parse(readFileSync("examples/shop/landing-zone.yaml", "utf8")) as LandingZoneInput;
const REGION: Readonly<Record<Cloud, string>> = { aws: "ap-northeast-2", gcp: "asia-northeast3", azure: "koreacentral", kubernetes: "local" };
const ENTRA_ISSUER = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0";

/** What the cloud cannot create itself, as a user would add it to the shop spec. */
function cloudInputs(cloud: Cloud): Partial<LandingZoneInput> {
  if (cloud === "azure") {
    return {
      auth: { ...SHOP.auth, issuer: ENTRA_ISSUER, audiences: ["api://shop"] },
      pipelines: { ...SHOP.pipelines, azureDevOps: { organization: "acme-shop", project: "shop", issuer: "https://vstoken.dev.azure.com/00000000-0000-0000-0000-000000000000" } },
    };
  }
  if (cloud === "kubernetes") return { auth: { ...SHOP.auth, issuer: "https://id.example.com" } };
  return {};
}

function shopOn(cloud: Cloud, tier: Tier): LandingZoneInput {
  return { ...SHOP, cloud, region: REGION[cloud], tier, ...cloudInputs(cloud) };
}

/** The workload component of one service on a (cloud, tier). */
const WORKLOAD: Readonly<Record<Exclude<Cloud, "kubernetes">, Readonly<Record<Tier, string>>>> = {
  aws: { iaas: "VmService", caas: "ServiceWorkload", paas: "PaasService" },
  gcp: { iaas: "InstanceGroupService", caas: "ServiceWorkload", paas: "AppEngineService" },
  azure: { iaas: "VmService", caas: "ServiceWorkload", paas: "PaasService" },
};

/**
 * The shared components of a complete shop zone, by the capability that asks for them: network,
 * gateway with the BFFs' routes, sessions, broker, monitoring, sagas, event store, pipelines and
 * micro-frontends everywhere; the rest where the cloud has a component of its own for it.
 */
const SHARED = ["Network", "ApiGateway", "SessionStore", "MessageBroker", "Monitoring", "SagaOrchestrator", "EventStore", "ServiceDelivery", "FrontendHosting"];
const PER_CLOUD: Readonly<Record<Exclude<Cloud, "kubernetes">, Readonly<Record<Tier, readonly string[]>>>> = {
  aws: {
    iaas: ["VmPlatform", "ConfigStore", "UserDirectory", "LogPipeline", "LogstashHosts", "ServiceDatabase"],
    caas: ["KubernetesPlatform", "ConfigStore", "UserDirectory", "LogPipeline", "Tracing", "ServiceDatabase"],
    paas: ["PaasPlatform", "ConfigStore", "UserDirectory", "LogPipeline", "LogstashHosts", "ServiceDatabase"],
  },
  gcp: {
    // Discovery through Service Directory outside the cluster; ELK on a logging cluster.
    iaas: ["ContainerRegistry", "ServiceRegistry", "UserDirectory", "LogCluster", "ServiceDatabase", "FirestoreStore"],
    caas: ["KubernetesPlatform", "ContainerRegistry", "UserDirectory", "ServiceDatabase", "FirestoreStore"],
    paas: ["AppEngineApplication", "ContainerRegistry", "ServiceRegistry", "UserDirectory", "LogCluster", "TraceCollector", "ServiceDatabase", "FirestoreStore"],
  },
  azure: {
    // The tokens come from the Entra ID issuer the spec names, so no user directory is created.
    iaas: ["ContainerRegistry", "ServiceDiscovery", "ConfigStore", "LogCluster", "Tracing", "ServiceDatabase", "DocumentAccount", "ReleaseRecords"],
    caas: ["KubernetesPlatform", "ContainerRegistry", "ConfigStore", "Tracing", "ServiceDatabase", "DocumentAccount", "ReleaseRecords"],
    paas: ["PaasPlatform", "ContainerRegistry", "ConfigStore", "LogCluster", "Tracing", "ServiceDatabase", "DocumentAccount", "ReleaseRecords"],
  },
};

const TARGETS: readonly { cloud: Exclude<Cloud, "kubernetes">; tier: Tier }[] = (["aws", "gcp", "azure"] as const).flatMap((cloud) => (["iaas", "caas", "paas"] as const).map((tier) => ({ cloud, tier })));

describe("the shop spec with only cloud, region and tier changed (Pulumi)", () => {
  for (const { cloud, tier } of TARGETS) {
    it(`${cloud} ${tier}: every capability the shop asks for, a workload and a delivery per service and BFF`, async () => {
      const spec = shopOn(cloud, tier);
      const plan = planLandingZone(spec, { engine: "pulumi" });
      expect(plan.decisions.map((d) => d.capability)).toEqual(expect.arrayContaining(["network", "compute", "gateway", "bff", "sessions", "tokens", "logging", "broker", "tracing", "monitoring", "database", "saga", "readModel", "eventStore", "pipeline", "frontends"]));

      const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })), cloud === "gcp" ? { config: GCP_CONFIG } : {});
      const components = resources.filter((r) => r.type.startsWith("msa:"));
      const types = new Set(components.filter((r) => r.type.startsWith(`msa:${cloud}:`)).map((r) => r.type.split(":")[2]));
      expect([...SHARED, ...PER_CLOUD[cloud][tier]].filter((t) => !types.has(t))).toEqual([]);
      // An AWS program never builds another cloud's components, and the other clouds none of AWS's.
      expect(components.filter((r) => !r.type.startsWith(`msa:${cloud}:`) && !r.type.startsWith("msa:kubernetes:")).map((r) => r.type)).toEqual([]);

      const named = (type: string) => components.filter((r) => r.type === `msa:${cloud}:${type}`).map((r) => r.name).sort();
      const apps = [...plan.services.map((s) => `shop-${s.name}`)].sort();
      expect(plan.services.map((s) => s.name)).toEqual(["orders", "payments", "inventory", "order-history", "web", "mobile"]);
      expect(named(WORKLOAD[cloud][tier])).toEqual(apps);
      expect(named("ServiceDelivery")).toHaveLength(apps.length);
      expect(named("SagaOrchestrator")).toHaveLength(1);
    });
  }

  it("kubernetes caas: every capability the shop asks for on an existing cluster, a workload and an Argo CD application per service and BFF", async () => {
    const spec = shopOn("kubernetes", "caas");
    const plan = planLandingZone(spec, { engine: "pulumi" });
    expect(plan.decisions.map((d) => d.capability)).toEqual(expect.arrayContaining(["network", "compute", "gateway", "bff", "sessions", "tokens", "logging", "broker", "tracing", "monitoring", "database", "saga", "readModel", "eventStore", "pipeline", "frontends"]));

    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
    const components = resources.filter((r) => r.type.startsWith("msa:"));
    expect(components.filter((r) => !r.type.startsWith("msa:kubernetes:")).map((r) => r.type)).toEqual([]);
    const types = new Set(components.map((r) => r.type.split(":")[2]));
    expect(["LandingZone", "Ingress", "SessionStore", "LogPipeline", "MessageBroker", "ServiceWorkload", "FrontendApp"].filter((t) => !types.has(t))).toEqual([]);
    const apps = plan.services.map((s) => `shop-${s.name}`).sort();
    expect(components.filter((r) => r.type === "msa:kubernetes:ServiceWorkload").map((r) => r.name).sort()).toEqual(apps);

    // Mesh, tracing, monitoring, logging, broker, the databases' operators, GitOps delivery and the saga engine, each a pinned chart.
    const charts = resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"]);
    expect(charts).toEqual(expect.arrayContaining(["ingress-nginx", "base", "istiod", "opentelemetry-collector", "kube-prometheus-stack", "eck-operator", "strimzi-kafka-operator", "cloudnative-pg", "argo-cd", "argo-workflows"]));
    const objects = (group: string) => ((resources.find((r) => r.type === "kubernetes:yaml/v2:ConfigGroup" && r.name === group)?.inputs["objs"] ?? []) as { kind: string; metadata: { name: string } }[]).map((o) => `${o.kind}/${o.metadata.name}`);
    // orders' declared database and the read model's own, both CloudNativePG; inventory's key-value store.
    expect(objects("shop-databases-manifests")).toEqual(expect.arrayContaining(["Cluster/orders-db", "Cluster/order-history-db"]));
    expect(objects("shop-key-value-manifests").length).toBeGreaterThan(0);
    expect(objects("shop-saga-workflows-manifests")).toContain("WorkflowTemplate/saga-place-order");
    expect(objects("shop-broker-manifests")).toContain("KafkaTopic/payments.event-store");
    expect(objects("shop-gitops-manifests").filter((o) => o.startsWith("Application/")).sort()).toEqual(
      [...apps, ...[plan.frontends!.shell, ...plan.frontends!.fragments].map((a) => `shop-${a.name}-ui`)].map((a) => `Application/${a}`).sort(),
    );
  });
});
