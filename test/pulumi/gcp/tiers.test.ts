import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { CONTRIB_COLLECTOR_IMAGE, hostCollectorConfig, otelEnvironment } from "../../../lib/plan/tracing.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, childrenOf, GCP_CONFIG, MOCK_GCP_PROJECT, MOCK_GCP_PROJECT_NUMBER, runProgram, single, type RegisteredResource } from "../harness.js";

/** The GCP example with only the tier changed, and what the tier does not offer or GCP does not build there (Istio; ELK, and with it tracing on App Engine; gateway checks) turned off. */
function exampleOn(tier: "iaas" | "paas"): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return {
    ...spec,
    tier,
    mesh: { ...spec.mesh, kind: "none" },
    logging: { ...spec.logging, stack: "none", buffer: "none" },
    gateway: { ...spec.gateway, auth: "none" },
    auth: { ...spec.auth, tokens: "none" },
    tracing: { ...spec.tracing, backend: tier === "iaas" ? spec.tracing.backend : "none" },
  };
}

describe("LandingZone on GCP, IaaS (managed instance groups)", () => {
  const spec = exampleOn("iaas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("builds an InstanceGroupService per service and no cluster", () => {
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:gcp:InstanceGroupService").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}`));
    expect(byType(resources, "gcp:container/cluster:Cluster")).toHaveLength(0);
    expect(resources.some((r) => r.type.startsWith("kubernetes:"))).toBe(false);
  });

  it("runs Shielded Container-Optimized OS VMs with OS Login, no external address and the service's own account", () => {
    const template = single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", "shop-orders-template");
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-orders-identity-account");
    expect(template.inputs).toMatchObject({
      machineType: plan.vms!.instanceType,
      disks: [{ boot: true, sourceImage: "projects/cos-cloud/global/images/family/cos-stable", diskSizeGb: plan.vms!.rootVolumeGiB }],
      networkInterfaces: [{ subnetwork: single(resources, "gcp:compute/subnetwork:Subnetwork").outputs["id"] }],
      serviceAccount: { email: account.outputs["email"] },
      shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      metadata: { "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" },
      tags: ["msa-lb-backend", "shop-vm"],
    });
    for (const t of byType(resources, "gcp:compute/instanceTemplate:InstanceTemplate")) {
      for (const nic of t.inputs["networkInterfaces"] as Record<string, unknown>[]) expect(nic["accessConfigs"], t.name).toBeUndefined();
    }
    const userData = (template.inputs["metadata"] as Record<string, string>)["user-data"]!;
    expect(userData).toContain(`asia-northeast3-docker.pkg.dev/${MOCK_GCP_PROJECT}/shop-orders/shop-orders:latest`);
    expect(userData).toContain(`projects/${MOCK_GCP_PROJECT}/secrets/shop-orders-SIGNING_KEY`);
    // The AUTH string is fetched by reference; its value never lands in the template.
    const redis = single(resources, "gcp:redis/instance:Instance");
    expect(userData).not.toContain(String(redis.outputs["authString"]));
    expect(userData).toContain("SESSION_STORE_PASSWORD");
    // Landing-zone configuration and the database's address reach the container's env file; its admin password is fetched.
    expect(userData).toContain("LOG_LEVEL=info");
    expect(userData).toContain("DATABASE_HOST=10.0.192.10");
    expect(userData).toMatch(/value=\$\(fetch projects\/mock-project\/secrets\/shop-prod-orders-db-admin\)\s+printf '%s=%s\\n' DATABASE_ADMIN_PASSWORD "\$value"/);
  });

  it("grants the VM account only its agents' roles, its image, its secrets and its Pub/Sub", () => {
    const member = single(resources, "gcp:serviceaccount/account:Account", "shop-orders-identity-account").outputs["member"];
    const grants = resources
      .filter((r) => r.inputs["member"] === member)
      .map((r) => `${r.type.split(":").pop()} ${r.inputs["role"]} ${String(r.inputs["secretId"] ?? r.inputs["topic"] ?? r.inputs["subscription"] ?? r.inputs["repository"] ?? r.inputs["project"]).split("/").pop()}`);
    expect(grants.sort()).toEqual(
      [
        "IAMMember roles/cloudsql.client mock-project",
        "IAMMember roles/cloudsql.instanceUser mock-project",
        "IAMMember roles/cloudtrace.agent mock-project",
        "SecretIamMember roles/secretmanager.secretAccessor shop-prod-orders-db-admin",
        "IAMMember roles/logging.logWriter mock-project",
        "IAMMember roles/monitoring.metricWriter mock-project",
        "RepositoryIamMember roles/artifactregistry.reader shop-orders",
        "SecretIamMember roles/secretmanager.secretAccessor shop-orders-SIGNING_KEY",
        "SecretIamMember roles/secretmanager.secretAccessor shop-prod-sessions-auth",
        "TopicIAMMember roles/pubsub.publisher shop-prod-order-placed",
        "SubscriptionIAMMember roles/pubsub.subscriber shop-prod-orders_payment-completed",
        "SubscriptionIAMMember roles/pubsub.subscriber shop-prod-orders_stock-reserved",
        "SubscriptionIAMMember roles/pubsub.subscriber shop-prod-orders_saga_place-order",
        "IAMMember roles/workflows.invoker mock-project",
      ].sort(),
    );
  });

  it("registers every service in Service Directory behind an internal load balancer, resolvable in the VPC's private zone", () => {
    const namespace = single(resources, "gcp:servicedirectory/namespace:Namespace");
    expect(namespace.inputs).toMatchObject({ namespaceId: "shop-prod", location: "asia-northeast3" });
    const zone = single(resources, "gcp:dns/managedZone:ManagedZone");
    expect(zone.inputs).toMatchObject({
      dnsName: "shop-prod.internal.",
      visibility: "private",
      privateVisibilityConfig: { networks: [{ networkUrl: single(resources, "gcp:compute/network:Network").outputs["id"] }] },
      serviceDirectoryConfig: { namespace: { namespaceUrl: namespace.outputs["id"] } },
    });
    expect(byType(resources, "gcp:servicedirectory/service:Service").map((r) => r.inputs["serviceId"])).toEqual(plan.services.map((s) => s.name));
    const rule = single(resources, "gcp:compute/forwardingRule:ForwardingRule", "shop-orders-internal");
    expect(rule.inputs).toMatchObject({ loadBalancingScheme: "INTERNAL", ports: ["8080"], allowGlobalAccess: false });
    expect(single(resources, "gcp:compute/regionBackendService:RegionBackendService", "shop-orders-internal").inputs).toMatchObject({
      loadBalancingScheme: "INTERNAL",
      backends: [{ group: single(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", "shop-orders-group").outputs["instanceGroup"] }],
    });
    expect(single(resources, "gcp:servicedirectory/endpoint:Endpoint", "shop-orders-registration").inputs).toMatchObject({
      address: rule.outputs["ipAddress"],
      port: 8080,
      network: `projects/${MOCK_GCP_PROJECT_NUMBER}/locations/global/networks/${single(resources, "gcp:compute/network:Network").outputs["name"]}`,
    });
  });

  it("runs a Cloud Trace collector beside each service, which gets the OTEL variables", () => {
    for (const service of plan.services) {
      const userData = (single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", `shop-${service.name}-template`).inputs["metadata"] as Record<string, string>)["user-data"]!;
      const files = (parse(userData) as { write_files: { path: string; content: string }[] }).write_files;
      expect(files.find((f) => f.path === `/etc/msa/${service.name}/otel-collector.yaml`)!.content).toBe(hostCollectorConfig(plan));
      expect(files.find((f) => f.path === "/etc/systemd/system/otel-collector.service")!.content).toContain(CONTRIB_COLLECTOR_IMAGE);
      const env = files.find((f) => f.path === `/etc/msa/${service.name}/config.env`)!.content.split("\n");
      for (const [key, value] of Object.entries(otelEnvironment(plan.tracing!, service.name))) expect(env, `${service.name} ${key}`).toContain(`${key}=${value}`);
    }
    expect(parse(hostCollectorConfig(plan)).exporters).toEqual({ googlecloud: {} });
  });

  it("watches the VMs' CPU by the service label on each instance", () => {
    const dashboard = String(single(resources, "gcp:monitoring/dashboard:Dashboard", "shop-monitoring-orders").inputs["dashboardJson"]);
    expect(dashboard).toContain('metadata_user_service=\\"orders\\"');
    expect((single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", "shop-orders-template").inputs["labels"] as Record<string, string>)["service"]).toBe("orders");
  });

  it("spreads a regional group over the zones with autohealing, rolling updates and CPU autoscaling, behind the gateway", () => {
    const group = single(resources, "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager", "shop-orders-group");
    const health = single(resources, "gcp:compute/healthCheck:HealthCheck", "shop-orders-health");
    expect(health.inputs["httpHealthCheck"]).toEqual({ port: 8080, requestPath: "/health" });
    expect(group.inputs).toMatchObject({
      region: "asia-northeast3",
      distributionPolicyZones: plan.network.availabilityZones,
      namedPorts: [{ name: "http", port: 8080 }],
      autoHealingPolicies: { healthCheck: health.outputs["id"], initialDelaySec: 300 },
      updatePolicy: { type: "PROACTIVE", minimalAction: "REPLACE", maxUnavailableFixed: 0 },
      versions: [{ instanceTemplate: single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", "shop-orders-template").outputs["selfLinkUnique"] }],
    });
    expect(single(resources, "gcp:compute/regionAutoscaler:RegionAutoscaler", "shop-orders-autoscaler").inputs).toMatchObject({
      target: group.outputs["id"],
      autoscalingPolicy: { minReplicas: 2, maxReplicas: 6, cpuUtilization: { target: 0.7 } },
    });
    const backend = single(resources, "gcp:compute/backendService:BackendService", "shop-gateway-orders");
    expect(backend.inputs).toMatchObject({ portName: "http", healthChecks: health.outputs["id"], backends: [{ group: group.outputs["instanceGroup"], balancingMode: "UTILIZATION" }] });
  });
});

describe("LandingZone on GCP, PaaS (App Engine flexible)", () => {
  const spec = exampleOn("paas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("creates the protected App Engine application and deploys the first service as App Engine's default, before the others", () => {
    const app = single(resources, "gcp:appengine/application:Application");
    expect(app.inputs).toMatchObject({ locationId: "asia-northeast3" });
    expect(app.protect).toBe(true);
    const versions = byType(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion");
    expect(versions.map((v) => v.inputs["service"])).toEqual(["default", ...plan.services.slice(1).map((s) => s.name)]);
    expect(single(resources, "msa:gcp:AppEngineService", "shop-payments").dependsOn).toEqual(expect.arrayContaining(["shop-app-engine-app", "shop-orders"]));
  });

  it("runs each service's image on the VPC with internal addresses only, as its own account, secrets by reference only", () => {
    const version = single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", "shop-orders-version");
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-orders-identity-account");
    expect(version.inputs).toMatchObject({
      runtime: "custom",
      deployment: { container: { image: `asia-northeast3-docker.pkg.dev/${MOCK_GCP_PROJECT}/shop-orders/shop-orders:latest` } },
      serviceAccount: account.outputs["email"],
      network: { instanceIpMode: "INTERNAL", name: single(resources, "gcp:compute/network:Network").outputs["name"] },
      livenessCheck: { path: "/health" },
      readinessCheck: { path: "/health" },
      automaticScaling: { minTotalInstances: 2, maxTotalInstances: 6, cpuUtilization: { targetUtilization: 0.7 } },
    });
    const env = version.inputs["envVariables"] as Record<string, string>;
    expect(env["SIGNING_KEY_SECRET"]).toBe(`projects/${MOCK_GCP_PROJECT}/secrets/shop-orders-SIGNING_KEY/versions/latest`);
    expect(env["SESSION_STORE_PASSWORD_SECRET"]).toMatch(/shop-prod-sessions-auth\/versions\/latest$/);
    expect(env["SIGNING_KEY"]).toBeUndefined();
    expect(env["LOG_LEVEL"]).toBe("info");
    expect(env["DATABASE_ADMIN_PASSWORD_SECRET"]).toBe(`projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-orders-db-admin/versions/latest`);
    expect(env["DATABASE_ADMIN_PASSWORD"]).toBeUndefined();
    expect(JSON.stringify(env)).not.toContain(String(single(resources, "gcp:redis/instance:Instance").outputs["authString"]));
    expect(String(version.inputs["versionId"])).toMatch(/^v-[0-9a-f]{12}$/);
  });

  it("admits traffic only from inside and through the load balancer, via a serverless NEG", () => {
    for (const ingress of byType(resources, "gcp:appengine/serviceNetworkSettings:ServiceNetworkSettings")) {
      expect(ingress.inputs["networkSettings"]).toEqual({ ingressTrafficAllowed: "INGRESS_TRAFFIC_ALLOWED_INTERNAL_AND_LB" });
    }
    const neg = single(resources, "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup", "shop-orders-neg");
    expect(neg.inputs).toMatchObject({ networkEndpointType: "SERVERLESS", appEngine: { service: "default" } });
    const backend = single(resources, "gcp:compute/backendService:BackendService", "shop-gateway-orders");
    expect(backend.inputs).toMatchObject({ backends: [{ group: neg.outputs["id"] }] });
    expect(backend.inputs["healthChecks"]).toBeUndefined();
    // App Engine's agent pulls each image; it may read the services' repositories and nothing else.
    const pulls = byType(resources, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember").filter((r) => String(r.inputs["member"]).includes("gae-api-prod"));
    expect(pulls).toHaveLength(plan.services.length);
    for (const pull of pulls) expect(pull.inputs).toMatchObject({ role: "roles/artifactregistry.reader", member: `serviceAccount:service-${MOCK_GCP_PROJECT_NUMBER}@gae-api-prod.google.com.iam.gserviceaccount.com` });
  });

  it("registers each service's App Engine URL in Service Directory", () => {
    const registrations = byType(resources, "gcp:servicedirectory/service:Service");
    expect(registrations.map((r) => (r.inputs["metadata"] as Record<string, string>)["url"])).toEqual([
      "https://mock-project.du.r.appspot.com",
      ...plan.services.slice(1).map((s) => `https://${s.name}-dot-mock-project.du.r.appspot.com`),
    ]);
    expect(String(single(resources, "gcp:monitoring/dashboard:Dashboard", "shop-monitoring-payments").inputs["dashboardJson"])).toContain('module_id=\\"payments\\"');
  });

  it("can join an App Engine application the project already has", async () => {
    const { resources: existing } = await runProgram(() => void new LandingZone("shop", { spec, existingAppEngine: { defaultHostname: "mock-project.du.r.appspot.com" } }), { config: GCP_CONFIG });
    expect(byType(existing, "gcp:appengine/application:Application")).toHaveLength(0);
    expect(byType(existing, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion")).toHaveLength(plan.services.length);
  });
});
