import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FILEBEAT_IMAGE } from "../../../lib/kubernetes/log-pipeline.js";
import { planLogCluster } from "../../../lib/plan/log-cluster.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { containerVmUserData } from "../../../lib/pulumi/gcp/container-vm.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { LogCluster } from "../../../lib/pulumi/gcp/log-cluster.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, childrenOf, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
type CloudConfig = { write_files: { path: string; content: string }[]; runcmd: string[] };

/** The GCP example on VMs with its ELK pipeline kept; what VMs do not offer (Istio, JWT checks, tracing) turned off. */
function onVms(environment: "dev" | "prod"): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return { ...spec, environment, tier: "iaas", mesh: { ...spec.mesh, kind: "none" }, gateway: { ...spec.gateway, auth: "none" }, auth: { ...spec.auth, tokens: "none" }, tracing: { ...spec.tracing, backend: "none" } };
}

function cloudConfig(template: RegisteredResource): CloudConfig {
  const userData = (template.inputs["metadata"] as Record<string, string>)["user-data"]!;
  return parse(userData.replace(/^#cloud-config\n/, "")) as CloudConfig;
}
const file = (config: CloudConfig, path: string) => config.write_files.find((f) => f.path === path)?.content;

describe("LandingZone on GCP, IaaS with ELK: a logging cluster of its own and Filebeat on every VM", () => {
  const spec = onVms("prod");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("plans a private logging cluster sized for Elasticsearch, only where the services have no cluster", () => {
    expect(plan.logging!.cluster).toMatchObject({ name: "shop-logs-prod", namespace: "logging", privateEndpoint: true, minNodes: plan.logging!.search.instanceCount });
    expect(planLandingZone({ ...spec, tier: "caas" }, { engine: "pulumi" }).logging!.cluster).toBeUndefined();
    // AWS VMs ship to Logstash hosts beside OpenSearch; Azure hosts are not built yet.
    expect(planLogCluster({ cloud: "aws", tier: "iaas", name: "shop", environment: "prod" })).toBeUndefined();
  });

  it("runs the caas log pipeline on a private, deletion-protected GKE cluster of its own", () => {
    const logCluster = single(resources, "msa:gcp:LogCluster");
    expect(logCluster.parent).toBe("shop");
    expect(childrenOf(resources, "shop-logging").map((r) => r.type)).toEqual(expect.arrayContaining(["msa:gcp:KubernetesPlatform", "msa:kubernetes:LogPipeline"]));
    const cluster = single(resources, "gcp:container/cluster:Cluster");
    expect(cluster.inputs).toMatchObject({
      name: "shop-logs-prod",
      deletionProtection: true,
      privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true },
      masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "10.0.0.0/17" }] },
      // Its own pods' logs go through the pipeline, not Cloud Logging.
      loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"] },
    });
    expect(single(resources, "gcp:kms/cryptoKey:CryptoKey").protect).toBe(true);
    expect(single(resources, "msa:kubernetes:LogPipeline").dependsOn).toEqual(expect.arrayContaining(["shop-logging-platform-nodes"]));
    expect(byType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"])).toEqual(["eck-operator"]);
    for (const r of resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"))) expect(r.provider, r.name).toBe("shop-logging-platform-k8s");
  });

  it("reaches the buffer's primary only from the VMs' subnet, through an internal load balancer at a reserved private address", () => {
    const address = single(resources, "gcp:compute/address:Address");
    expect(address.inputs).toMatchObject({ addressType: "INTERNAL", subnetwork: single(resources, "gcp:compute/subnetwork:Subnetwork").outputs["id"] });
    const exposure = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-logging-buffer-exposure");
    expect(exposure.dependsOn).toEqual(expect.arrayContaining(["shop-logging-pipeline-buffer"]));
    const [service, policy] = exposure.inputs["objs"] as Obj[];
    expect(service).toMatchObject({
      kind: "Service",
      metadata: { name: "log-buffer-internal", namespace: "logging", annotations: { "networking.gke.io/load-balancer-type": "Internal" } },
      spec: { type: "LoadBalancer", loadBalancerIP: "10.0.0.60", loadBalancerSourceRanges: ["10.0.0.0/17"], selector: { "statefulset.kubernetes.io/pod-name": "log-buffer-0" }, ports: [{ port: 6379 }] },
    });
    expect(policy).toMatchObject({ kind: "NetworkPolicy", spec: { ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/17" } }], ports: [{ port: 6379 }] }] } });
  });

  it("copies the buffer's generated password into Secret Manager as a Pulumi secret, readable by each VM service's own account", () => {
    const secret = single(resources, "gcp:secretmanager/secret:Secret", "shop-logging-buffer-auth");
    expect(secret.inputs["secretId"]).toBe("shop-prod-log-buffer-auth");
    const version = single(resources, "gcp:secretmanager/secretVersion:SecretVersion", "shop-logging-buffer-auth");
    expect(version.secretInputs).toContain("secretData");
    expect(version.inputs["secretData"]).toBe(single(resources, "random:index/randomPassword:RandomPassword", "shop-logging-pipeline-buffer-password").outputs["result"]);
    for (const service of plan.services) {
      const grant = single(resources, "gcp:secretmanager/secretIamMember:SecretIamMember", `shop-${service.name}-identity-redis_password-access`.replace("redis_password", "redis-password"));
      expect(grant.inputs).toMatchObject({ secretId: secret.outputs["id"], role: "roles/secretmanager.secretAccessor", member: `serviceAccount:${gcpAccount(service.name)}` });
    }
  });

  it("runs Filebeat beside each service, shipping into the buffer with the password fetched by reference, out of the service's reach", () => {
    const password = String(single(resources, "random:index/randomPassword:RandomPassword", "shop-logging-pipeline-buffer-password").outputs["result"]);
    for (const service of plan.services) {
      const template = single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", `shop-${service.name}-template`);
      const config = cloudConfig(template);
      const filebeat = parse(file(config, "/etc/msa/msa-filebeat/filebeat.yml")!) as Record<string, Record<string, unknown>>;
      expect(filebeat["output.redis"]).toEqual({ hosts: ["${LOG_BUFFER_HOST}:${LOG_BUFFER_PORT}"], key: plan.logging!.bufferKey, data_type: "list", password: "${REDIS_PASSWORD}", "ssl.enabled": false });
      expect(file(config, "/etc/msa/msa-filebeat/config.env")).toBe(`MSA_SERVICE=${service.name}\nLOG_BUFFER_HOST=10.0.0.60\nLOG_BUFFER_PORT=6379\n`);
      const shipperSecrets = file(config, "/etc/msa/msa-filebeat/fetch-secrets.sh")!;
      expect(shipperSecrets).toContain(`value=$(fetch projects/${MOCK_GCP_PROJECT}/secrets/shop-prod-log-buffer-auth)\nprintf '%s=%s\\n' REDIS_PASSWORD "$value"`);
      expect(file(config, `/etc/msa/${service.name}/fetch-secrets.sh`)).not.toContain("log-buffer-auth");
      // The VMs boot only once the password they fetch has its version.
      expect(template.dependsOn).toContain("shop-logging-buffer-auth");
      const unit = file(config, "/etc/systemd/system/msa-filebeat.service")!;
      expect(unit).toContain(FILEBEAT_IMAGE);
      expect(unit).toContain("--volume /var/lib/docker/containers:/var/lib/docker/containers:ro");
      expect(unit).toContain("--read-only --tmpfs /tmp --user 0:0 --cap-drop ALL --security-opt no-new-privileges");
      expect(config.runcmd).toContain("systemctl start msa-filebeat.service");
      expect(JSON.stringify(template.inputs)).not.toContain(password);
    }
  });
});

function gcpAccount(service: string): string {
  return `shop-${service}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`;
}

describe("LandingZone on GCP, PaaS with ELK: App Engine's entries exported into the logging cluster's Logstash", () => {
  const spec: LandingZoneSpec = { ...onVms("dev"), tier: "paas" };
  const plan = planLandingZone(spec, { engine: "pulumi" });
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("exports only this zone's App Engine services through a sink that may publish to its topic and nothing else", () => {
    const topic = single(resources, "gcp:pubsub/topic:Topic", "shop-logging-app-engine-logs");
    const sink = single(resources, "gcp:logging/projectSink:ProjectSink");
    const modules = plan.services.map((s, i) => `"${i === 0 ? "default" : s.name}"`).join(" OR ");
    expect(sink.inputs).toMatchObject({ destination: `pubsub.googleapis.com/${String(topic.outputs["id"])}`, filter: `resource.type="gae_app" AND resource.labels.module_id=(${modules})`, uniqueWriterIdentity: true });
    const publish = single(resources, "gcp:pubsub/topicIAMMember:TopicIAMMember", "shop-logging-app-engine-logs-sink");
    expect(publish.inputs).toEqual(expect.objectContaining({ topic: topic.outputs["id"], role: "roles/pubsub.publisher", member: sink.outputs["writerIdentity"] }));
  });

  it("lets Logstash pull that one subscription as its own Google account, through Workload Identity, with no key", () => {
    const subscription = single(resources, "gcp:pubsub/subscription:Subscription", "shop-logging-app-engine-logs");
    const account = single(resources, "gcp:serviceaccount/account:Account", "shop-logging-logstash");
    expect(single(resources, "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember", "shop-logging-logstash-pull").inputs).toEqual(
      expect.objectContaining({ subscription: subscription.outputs["id"], role: "roles/pubsub.subscriber", member: account.outputs["member"] }),
    );
    expect(single(resources, "gcp:serviceaccount/iAMMember:IAMMember", "shop-logging-logstash-workload-identity").inputs).toMatchObject({
      serviceAccountId: account.outputs["name"],
      role: "roles/iam.workloadIdentityUser",
      member: `serviceAccount:${MOCK_GCP_PROJECT}.svc.id.goog[logging/logstash]`,
    });
    expect(byType(resources, "gcp:serviceaccount/key:Key")).toHaveLength(0);
    const manifests = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-logging-pipeline-manifests").inputs["objs"] as (Obj & { data?: Record<string, string> })[];
    const serviceAccount = manifests.find((m) => m.kind === "ServiceAccount" && m.metadata.name === "logstash")!;
    expect(serviceAccount.metadata.annotations).toEqual({ "iam.gke.io/gcp-service-account": account.outputs["email"] });
    const pipeline = manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === "logstash-pipeline")!.data!["logstash.conf"]!;
    expect(pipeline).toContain(
      ["  google_pubsub {", `    project_id => "${MOCK_GCP_PROJECT}"`, `    topic => "${String(single(resources, "gcp:pubsub/topic:Topic", "shop-logging-app-engine-logs").outputs["name"])}"`, `    subscription => "${String(subscription.outputs["name"])}"`, "    create_subscription => false"].join("\n"),
    );
    // The buffer input stays: the logging cluster's own pods still ship through it.
    expect(pipeline).toContain("  redis {");
    expect(single(resources, "msa:kubernetes:LogPipeline").dependsOn).toEqual(expect.arrayContaining(["shop-logging-logstash-pull", "shop-logging-logstash-workload-identity"]));
  });

  it("exposes no buffer and no buffer password when no host ships", () => {
    expect(byType(resources, "gcp:compute/address:Address")).toHaveLength(0);
    expect(resources.some((r) => r.name === "shop-logging-buffer-exposure" || r.name === "shop-logging-buffer-auth")).toBe(false);
    expect(single(resources, "gcp:container/cluster:Cluster").inputs).toMatchObject({ name: "shop-logs-dev", privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false } });
  });
});

describe("LogCluster boundaries", () => {
  it("rejects a shipper variable that is no environment variable name and a secret that is no Secret Manager id", () => {
    const base = { service: "orders", image: "asia-northeast3-docker.pkg.dev/p/r/orders:1", port: 8080, env: {}, secrets: {}, registryHosts: ["asia-northeast3-docker.pkg.dev"] };
    expect(() => containerVmUserData({ ...base, shipper: { config: "", env: { "BAD-NAME": "x" }, secrets: {} } })).toThrow(/shipper: "BAD-NAME" is not an environment variable name/);
    expect(() => containerVmUserData({ ...base, shipper: { config: "", env: {}, secrets: { REDIS_PASSWORD: "plain" } } })).toThrow(/shipper.secrets.REDIS_PASSWORD: "plain" is not a Secret Manager secret id/);
  });

  it("refuses a plan whose logging runs on the services' own cluster", () => {
    const plan = planLandingZone({ ...onVms("dev"), tier: "caas" }, { engine: "pulumi" });
    const placement = { networkId: "n", subnetworkId: "s", secondaryRanges: { pods: "pods", services: "services" }, controlPlaneCidr: "10.0.255.240/28" };
    expect(() => new LogCluster("logs", { plan, placement })).toThrow(/LogCluster logs: plan.logging.cluster is undefined \(tier "caas" on gcp\)/);
  });
});
