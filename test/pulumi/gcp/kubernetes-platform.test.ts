import { beforeAll, describe, expect, it } from "vitest";
import { meshAddOn } from "../../../lib/kubernetes/mesh.js";
import { namespaceManifests, workloadNamespace } from "../../../lib/kubernetes/namespace.js";
import { gcpNetworkLayout, LOAD_BALANCER_BACKEND_TAG } from "../../../lib/plan/gcp.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { ContainerRegistry, IMAGES_KEPT } from "../../../lib/pulumi/gcp/container-registry.js";
import { GKE_NODE_ROLE, KubernetesPlatform, kubernetesPlatformArgsFromPlan } from "../../../lib/pulumi/gcp/kubernetes-platform.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, MOCK_GCP_PROJECT_NUMBER, runProgram, single, type RegisteredResource } from "../harness.js";

const plan = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", environment: "prod", tier: "caas", services: [{ name: "orders" }, { name: "payments" }] });
const layout = gcpNetworkLayout(plan.network);
const placement = {
  networkId: "projects/mock-project/global/networks/shop",
  subnetworkId: "projects/mock-project/regions/asia-northeast3/subnetworks/shop",
  secondaryRanges: { pods: "pods", services: "services" },
  controlPlaneCidr: layout.controlPlane,
  authorizedNetworks: [layout.subnet],
};

describe("KubernetesPlatform (GKE)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(
      () => {
        const mesh = meshAddOn(plan)!;
        const workloads = { name: "workloads", namespace: workloadNamespace(plan), helmReleases: [], manifests: namespaceManifests(plan), dependsOn: [mesh.name] };
        const platform = new KubernetesPlatform("shop", kubernetesPlatformArgsFromPlan(plan, placement, [workloads, mesh]));
        new ContainerRegistry("shop-registry", { region: plan.region, repositories: plan.services.map((s) => s.repository), readers: [platform.nodeServiceAccountMember], retain: true });
      },
      { config: GCP_CONFIG },
    ));
  });

  it("creates a private regional cluster with Workload Identity, a release channel, Shielded nodes and Dataplane V2", () => {
    const cluster = single(resources, "gcp:container/cluster:Cluster");
    expect(cluster.parent).toBe("shop");
    expect(cluster.inputs).toMatchObject({
      name: plan.cluster!.name,
      location: "asia-northeast3",
      nodeLocations: ["asia-northeast3-a", "asia-northeast3-b", "asia-northeast3-c"],
      removeDefaultNodePool: true,
      networkingMode: "VPC_NATIVE",
      ipAllocationPolicy: { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" },
      // prod: no public endpoint; only the subnet may reach the private one.
      privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true, masterIpv4CidrBlock: "10.0.128.0/28", masterGlobalAccessConfig: { enabled: false } },
      masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "10.0.0.0/17" }], gcpPublicCidrsAccessEnabled: false },
      releaseChannel: { channel: "STABLE" },
      workloadIdentityConfig: { workloadPool: `${MOCK_GCP_PROJECT}.svc.id.goog` },
      enableShieldedNodes: true,
      datapathProvider: "ADVANCED_DATAPATH",
      addonsConfig: { httpLoadBalancing: { disabled: false } },
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      deletionProtection: true,
    });
    // The plan's ELK pipeline collects the workloads' logs, so Cloud Logging gets the control plane's only.
    expect((cluster.inputs["loggingConfig"] as { enableComponents: string[] }).enableComponents).toEqual(["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"]);
  });

  it("encrypts Kubernetes Secrets with a rotating KMS key only GKE's service agent may use", () => {
    const key = single(resources, "gcp:kms/cryptoKey:CryptoKey");
    expect(key.inputs).toMatchObject({ purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s" });
    expect(key.protect).toBe(true);
    const cluster = single(resources, "gcp:container/cluster:Cluster");
    expect(cluster.inputs["databaseEncryption"]).toEqual({ state: "ENCRYPTED", keyName: key.outputs["id"] });
    const access = single(resources, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember");
    expect(access.inputs).toEqual({
      cryptoKeyId: key.outputs["id"],
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: `serviceAccount:service-${MOCK_GCP_PROJECT_NUMBER}@container-engine-robot.iam.gserviceaccount.com`,
    });
    expect(cluster.dependsOn).toContain(access.name);
  });

  it("runs an autoscaled pool of Shielded COS nodes as a service account holding only the node role", () => {
    const pool = single(resources, "gcp:container/nodePool:NodePool");
    const account = byType(resources, "gcp:serviceaccount/account:Account").find((a) => a.name === "shop-nodes")!;
    expect(pool.inputs).toMatchObject({
      location: "asia-northeast3",
      autoscaling: { totalMinNodeCount: plan.cluster!.minNodes, totalMaxNodeCount: plan.cluster!.maxNodes, locationPolicy: "BALANCED" },
      management: { autoRepair: true, autoUpgrade: true },
      nodeConfig: {
        machineType: plan.cluster!.nodeInstanceType,
        imageType: "COS_CONTAINERD",
        serviceAccount: account.outputs["email"],
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        metadata: { "disable-legacy-endpoints": "true" },
        tags: ["shop-prod-node", LOAD_BALANCER_BACKEND_TAG],
      },
    });
    const roles = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs["member"] === account.outputs["member"]);
    expect(roles.map((r) => r.inputs["role"])).toEqual([GKE_NODE_ROLE]);
    // The nodes may pull from the services' repositories, and nothing more on the registry.
    const readers = byType(resources, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember");
    expect(readers.map((r) => [r.inputs["role"], r.inputs["member"]])).toEqual(plan.services.map(() => ["roles/artifactregistry.reader", account.outputs["member"]]));
  });

  it("lets the private control plane reach the webhooks of istiod and operators on the nodes", () => {
    const rule = single(resources, "gcp:compute/firewall:Firewall");
    expect(rule.inputs).toMatchObject({ sourceRanges: ["10.0.128.0/28"], targetTags: ["shop-prod-node"], allows: [{ protocol: "tcp", ports: ["8443", "9443", "15017"] }] });
  });

  it("installs the add-ons in dependency order through the cluster's provider", () => {
    const releases = byType(resources, "kubernetes:helm.sh/v3:Release");
    expect(releases.map((r) => r.name)).toEqual(["shop-istio-istio-base", "shop-istio-istiod"]);
    for (const release of releases) {
      expect(release.provider).toBe("shop-k8s");
      expect(release.dependsOn).toEqual(expect.arrayContaining(["shop-nodes", "shop-control-plane-webhooks"]));
    }
    const namespace = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-workloads-manifests");
    expect(namespace.dependsOn).toEqual(expect.arrayContaining(["shop-istio-istiod"]));
    const provider = single(resources, "pulumi:providers:kubernetes", "shop-k8s");
    const kubeconfig = JSON.parse(provider.inputs["kubeconfig"] as string) as { users: { user: { exec: { command: string } } }[]; clusters: { cluster: { server: string } }[] };
    expect(kubeconfig.users[0]!.user.exec.command).toBe("gke-gcloud-auth-plugin");
    expect(kubeconfig.clusters[0]!.cluster.server).toBe("https://10.0.128.2");
    expect(provider.secretInputs).toContain("kubeconfig");
  });

  it("gives every service a Docker repository with immutable tags, scanning and cleanup, protected in prod", () => {
    const repositories = byType(resources, "gcp:artifactregistry/repository:Repository");
    expect(repositories.map((r) => r.inputs["repositoryId"])).toEqual(["shop-orders", "shop-payments"]);
    for (const repository of repositories) {
      expect(repository.parent).toBe("shop-registry");
      expect(repository.protect).toBe(true);
      expect(repository.inputs).toMatchObject({
        format: "DOCKER",
        location: "asia-northeast3",
        dockerConfig: { immutableTags: true },
        vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
        cleanupPolicies: [{ id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: IMAGES_KEPT } }, { id: "delete-old", action: "DELETE" }],
      });
    }
  });

  it("opens the IAM-authorized DNS endpoint exactly when GitHub-hosted jobs deploy to the cluster, leaving the IP endpoint private", async () => {
    const cluster = single(resources, "gcp:container/cluster:Cluster");
    // Native pipelines (Cloud Build's private pool) reach the private IP endpoint from the subnet.
    expect(cluster.inputs["controlPlaneEndpointsConfig"]).toBeUndefined();
    const github = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", environment: "prod", tier: "caas", pipelines: { provider: "github-actions", repositoryOwner: "acme" }, services: [{ name: "orders" }] });
    const args = kubernetesPlatformArgsFromPlan(github, placement);
    expect(args.externalDnsEndpoint).toBe(true);
    expect(kubernetesPlatformArgsFromPlan({ ...github, delivery: undefined }, placement).externalDnsEndpoint).toBe(false);
    const { resources: githubResources } = await runProgram(() => void new KubernetesPlatform("shop", args), { config: GCP_CONFIG });
    const githubCluster = single(githubResources, "gcp:container/cluster:Cluster");
    expect(githubCluster.inputs["controlPlaneEndpointsConfig"]).toEqual({ dnsEndpointConfig: { allowExternalTraffic: true, enableK8sTokensViaDns: false, enableK8sCertsViaDns: false } });
    // Everything else is as without it: the IP endpoint stays private and reachable from the subnet alone.
    const { controlPlaneEndpointsConfig: _dns, ...rest } = githubCluster.inputs;
    const native = single((await runProgram(() => void new KubernetesPlatform("shop", { ...args, externalDnsEndpoint: false }), { config: GCP_CONFIG })).resources, "gcp:container/cluster:Cluster").inputs;
    expect(rest).toEqual(native);
    expect(rest).toMatchObject({ privateClusterConfig: { enablePrivateEndpoint: true }, masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "10.0.0.0/17" }] } });
  });

  it("keeps a public endpoint in dev, and rejects bad input before anything is registered", async () => {
    const dev = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", tier: "caas" });
    const { resources: devResources } = await runProgram(() => void new KubernetesPlatform("dev", kubernetesPlatformArgsFromPlan(dev, { ...placement, authorizedNetworks: [] })), { config: GCP_CONFIG });
    const cluster = single(devResources, "gcp:container/cluster:Cluster");
    expect(cluster.inputs).toMatchObject({ privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false }, releaseChannel: { channel: "REGULAR" }, deletionProtection: false });
    expect(cluster.inputs["masterAuthorizedNetworksConfig"]).toBeUndefined();

    const args = kubernetesPlatformArgsFromPlan(plan, placement);
    expect(() => new KubernetesPlatform("x", { ...args, zones: ["us-east1-b"] })).toThrow(/zone "us-east1-b" is not in region asia-northeast3. Fix/);
    expect(() => new KubernetesPlatform("x", { ...args, controlPlaneCidr: "10.0.128.0/24" })).toThrow(/is not a \/28. Fix/);
    expect(() => new KubernetesPlatform("x", { ...args, cluster: { ...args.cluster, minNodes: 5 } })).toThrow(/node counts min 5/);
    expect(() => new ContainerRegistry("x", { region: "r", repositories: ["Bad_Name"] })).toThrow(/repository id "Bad_Name" is invalid/);
    expect(() => kubernetesPlatformArgsFromPlan(planLandingZone({ name: "s", cloud: "gcp", tier: "iaas", mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" } }), placement)).toThrow(/set tier: caas/);
  });
});
