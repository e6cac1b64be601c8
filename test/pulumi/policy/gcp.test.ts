import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { gcpPolicies } from "../../../lib/pulumi/policy/gcp.js";
import { kubernetesPolicies } from "../../../lib/pulumi/policy/kubernetes.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { GCP_CONFIG, runProgram, type RegisteredResource } from "../harness.js";
import { evaluatePolicies } from "./evaluate.js";

const ALL = [...gcpPolicies, ...kubernetesPolicies];
const example = loadSpecFile("examples/gcp/landing-zone.yaml");
const on = (tier: "iaas" | "paas"): LandingZoneSpec => ({
  ...example,
  tier,
  mesh: { ...example.mesh, kind: "none" },
  logging: { ...example.logging, stack: "none", buffer: "none" },
  gateway: { ...example.gateway, auth: "none" },
  auth: { ...example.auth, tokens: "none" },
  tracing: { ...example.tracing, backend: "none" },
});
/** With a Cloud Build pipeline per service too, so the release secrets and the builds' grants are checked as well. */
const withPipelines = (spec: LandingZoneSpec): LandingZoneSpec => ({ ...spec, pipelines: { ...spec.pipelines, perService: true, repositoryOwner: "acme" } });
const resourcesOf = async (spec: LandingZoneSpec) => (await runProgram(() => void new LandingZone("shop", { spec: withPipelines(spec) }), { config: GCP_CONFIG })).resources;

describe("the GCP rules of the policy pack over the GCP example", () => {
  const byTier: Record<string, RegisteredResource[]> = {};
  beforeAll(async () => {
    byTier["caas"] = await resourcesOf(example);
    byTier["iaas"] = await resourcesOf(on("iaas"));
    byTier["paas"] = await resourcesOf(on("paas"));
  });

  it.each(["caas", "iaas", "paas"])("finds nothing on %s, a prod landing zone with pipelines", async (tier) => {
    expect(byTier[tier]!.length).toBeGreaterThan(50);
    expect(await evaluatePolicies(byTier[tier]!, ALL)).toEqual([]);
  });

  it("covers every class of rule", () => {
    expect(new Set(gcpPolicies.map((p) => p.ruleClass))).toEqual(new Set(["encryption-at-rest", "encryption-in-transit", "no-public-data", "least-privilege", "logging", "data-protection", "workload-hardening"]));
  });
});

describe("each GCP rule catches a bad resource", () => {
  const resource = (type: string, inputs: Record<string, unknown>, extra: Partial<RegisteredResource> = {}) => ({ type, name: "bad", inputs, outputs: { ...inputs, id: "bad-id" }, protect: false, ...extra });
  const template = { shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true }, metadata: { "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" }, serviceAccount: { email: "svc@p.iam.gserviceaccount.com" } };
  const pool = { nodeConfig: { serviceAccount: "nodes@p.iam.gserviceaccount.com", shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true }, workloadMetadataConfig: { mode: "GKE_METADATA" } } };
  const cluster = { databaseEncryption: { state: "ENCRYPTED", keyName: "k" }, privateClusterConfig: { enablePrivateNodes: true }, loggingConfig: { enableComponents: ["APISERVER"] } };
  const redis = { transitEncryptionMode: "SERVER_AUTHENTICATION", authEnabled: true, connectMode: "PRIVATE_SERVICE_ACCESS", authorizedNetwork: "n" };
  const cases: [string, ReturnType<typeof resource>[]][] = [
    ["gcp-gke-secrets-encrypted", [resource("gcp:container/cluster:Cluster", { ...cluster, databaseEncryption: { state: "DECRYPTED" } })]],
    ["gcp-redis-tls-auth", [resource("gcp:redis/instance:Instance", { ...redis, transitEncryptionMode: "DISABLED" })]],
    ["gcp-sql-tls", [resource("gcp:sql/databaseInstance:DatabaseInstance", { settings: { ipConfiguration: { ipv4Enabled: false, sslMode: "ALLOW_UNENCRYPTED_AND_ENCRYPTED" } } })]],
    ["gcp-https-tls-policy", [resource("gcp:compute/targetHttpsProxy:TargetHttpsProxy", { urlMap: "m" })]],
    ["gcp-http-redirects-only", [resource("gcp:compute/uRLMap:URLMap", { defaultUrlRedirect: { httpsRedirect: false, stripQuery: false } })]],
    ["gcp-sql-private", [resource("gcp:sql/databaseInstance:DatabaseInstance", { settings: { ipConfiguration: { ipv4Enabled: true, sslMode: "ENCRYPTED_ONLY" } } })]],
    ["gcp-redis-private", [resource("gcp:redis/instance:Instance", { ...redis, connectMode: "DIRECT_PEERING" })]],
    ["gcp-no-external-ip", [resource("gcp:compute/instanceTemplate:InstanceTemplate", { ...template, networkInterfaces: [{ subnetwork: "s", accessConfigs: [{}] }] })]],
    ["gcp-gke-private-nodes", [resource("gcp:container/cluster:Cluster", { ...cluster, privateClusterConfig: { enablePrivateNodes: false } })]],
    ["gcp-no-open-ingress", [resource("gcp:compute/firewall:Firewall", { direction: "INGRESS", sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["22"] }] })]],
    ["gcp-app-engine-ingress", [resource("gcp:appengine/serviceNetworkSettings:ServiceNetworkSettings", { networkSettings: { ingressTrafficAllowed: "INGRESS_TRAFFIC_ALLOWED_ALL" } })]],
    ["gcp-bucket-not-public", [resource("gcp:storage/bucket:Bucket", { publicAccessPrevention: "inherited", uniformBucketLevelAccess: true })]],
    ["gcp-bucket-iam-not-public", [resource("gcp:storage/bucketIAMMember:BucketIAMMember", { bucket: "b", role: "roles/storage.objectViewer", member: "allUsers" })]],
    ["gcp-no-basic-roles", [resource("gcp:projects/iAMMember:IAMMember", { role: "roles/editor", member: "serviceAccount:x" })]],
    ["gcp-data-roles-conditioned", [resource("gcp:projects/iAMMember:IAMMember", { role: "roles/cloudsql.client", member: "serviceAccount:x" })]],
    ["gcp-no-service-account-keys", [resource("gcp:serviceaccount/key:Key", { serviceAccountId: "x" })]],
    ["gcp-nodes-own-account", [resource("gcp:container/nodePool:NodePool", { ...pool, nodeConfig: { ...pool.nodeConfig, serviceAccount: "123-compute@developer.gserviceaccount.com" } })]],
    ["gcp-subnet-flow-logs", [resource("gcp:compute/subnetwork:Subnetwork", { ipCidrRange: "10.0.0.0/17" })]],
    ["gcp-load-balancer-logs", [resource("gcp:compute/backendService:BackendService", { logConfig: { enable: false } })]],
    ["gcp-gke-control-plane-logs", [resource("gcp:container/cluster:Cluster", { ...cluster, loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS"] } })]],
    ["gcp-prod-stateful-protected", [resource("gcp:redis/instance:Instance", { ...redis, labels: { msa_environment: "prod" } })]],
    ["gcp-shielded-vms", [resource("gcp:container/nodePool:NodePool", { ...pool, nodeConfig: { ...pool.nodeConfig, shieldedInstanceConfig: { enableSecureBoot: false } } })]],
    ["gcp-vm-os-login", [resource("gcp:compute/instanceTemplate:InstanceTemplate", { ...template, metadata: { "enable-oslogin": "FALSE" } })]],
    ["gcp-gke-metadata-server", [resource("gcp:container/nodePool:NodePool", { ...pool, nodeConfig: { ...pool.nodeConfig, workloadMetadataConfig: { mode: "GCE_METADATA" } } })]],
  ];

  it.each(cases)("%s", async (name, bad) => {
    const violations = await evaluatePolicies(bad, gcpPolicies);
    expect([...new Set(violations.map((v) => v.policy))]).toEqual([name]);
    expect(violations[0]!.message.length).toBeGreaterThan(10);
  });

  it("has a catching case for every rule, and a protected prod resource passes", async () => {
    expect(new Set(cases.map(([name]) => name))).toEqual(new Set(gcpPolicies.map((p) => p.name)));
    expect(await evaluatePolicies([resource("gcp:redis/instance:Instance", { ...redis, labels: { msa_environment: "prod" } }, { protect: true })], gcpPolicies)).toEqual([]);
  });
});
