import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AddOn } from "../../kubernetes/types.js";
import { gcpServiceAccountId, LOAD_BALANCER_BACKEND_TAG } from "../../plan/gcp.js";
import type { ClusterPlan, LandingZonePlan } from "../../plan/types.js";
import { githubDeploysToCluster } from "../../plan/workflows.js";
import type { HelmValues } from "../kubernetes/add-on.js";
import { addOnInstallOrder, checkAddOnValues, installAddOns } from "../kubernetes/install-add-ons.js";
import { projectOf, serviceAgent } from "./project.js";

/** The one predefined role a GKE node service account needs: write logs and metrics, read its own metadata. */
export const GKE_NODE_ROLE = "roles/container.defaultNodeServiceAccount";
/** Ports the private control plane calls webhooks on: 8443/9443 (operators such as ECK), 15017 (istiod). */
export const CONTROL_PLANE_WEBHOOK_PORTS = ["8443", "9443", "15017"] as const;
/** Rotation of the key that envelope-encrypts Kubernetes Secrets in etcd: 90 days. */
export const SECRETS_KEY_ROTATION = "7776000s";

export type ReleaseChannel = "RAPID" | "REGULAR" | "STABLE";

/** Arguments of {@link KubernetesPlatform}. */
export interface KubernetesPlatformArgs {
  /** Cluster settings: name, Kubernetes version, node type and counts, disk, private endpoint (`plan.cluster`). */
  readonly cluster: ClusterPlan;
  /** Region of the regional cluster. */
  readonly region: string;
  /** Zones the nodes spread over (node locations), at least one. */
  readonly zones: readonly string[];
  /** VPC network id. */
  readonly networkId: pulumi.Input<string>;
  /** Subnet id; it must carry the pods and services secondary ranges. */
  readonly subnetworkId: pulumi.Input<string>;
  /** Secondary range names of the subnet for pods and Services. */
  readonly secondaryRanges: { readonly pods: string; readonly services: string };
  /** A /28 inside the VPC range, used by nothing else, for the private control plane. */
  readonly controlPlaneCidr: string;
  /**
   * Release channel; GKE upgrades the control plane and nodes within it.
   * @default "REGULAR"
   */
  readonly releaseChannel?: ReleaseChannel;
  /**
   * CIDR blocks allowed to reach the control plane. With a public endpoint and none given, any address may try (IAM still decides).
   * @default - none
   */
  readonly authorizedNetworks?: readonly string[];
  /**
   * Let clients outside Google Cloud reach the control plane through its DNS-based endpoint
   * (`controlPlaneEndpointsConfig.dnsEndpointConfig.allowExternalTraffic`), which Google's front end
   * lets through only with an IAM-authorized Google token (`container.clusters.connect`), then
   * Kubernetes RBAC; the IP endpoint stays private. For deploy jobs on GitHub-hosted runners
   * (`google-github-actions/get-gke-credentials` with `use_dns_based_endpoint`).
   * @default false
   */
  readonly externalDnsEndpoint?: boolean;
  /**
   * Send the workloads' container logs to Cloud Logging too (off when the ELK pipeline collects them).
   * Cost: Cloud Logging bills per GiB ingested.
   * @default true
   */
  readonly workloadLogs?: boolean;
  /**
   * Add-ons installed once the node pool is up, ordered by their `dependsOn` (workloads namespace, mesh, ...).
   * @default - none
   */
  readonly addOns?: readonly AddOn[];
  /**
   * Helm values deep-merged over the add-ons' own, keyed by release name (outputs allowed, e.g. a Workload Identity annotation).
   * @default - the add-ons' values
   */
  readonly addOnValues?: Readonly<Record<string, HelmValues>>;
  /**
   * Deletion-protect the cluster and protect the secrets key (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Labels on the cluster, its nodes and the key.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly cluster?: (args: gcp.container.ClusterArgs) => void;
    readonly nodePool?: (args: gcp.container.NodePoolArgs) => void;
    readonly secretsKey?: (args: gcp.kms.CryptoKeyArgs) => void;
  };
}

/** The raw children of a {@link KubernetesPlatform}. */
export interface KubernetesPlatformNodes {
  readonly keyRing: gcp.kms.KeyRing;
  readonly secretsKey: gcp.kms.CryptoKey;
  readonly secretsKeyAccess: gcp.kms.CryptoKeyIAMMember;
  readonly nodeServiceAccount: gcp.serviceaccount.Account;
  readonly cluster: gcp.container.Cluster;
  readonly nodePool: gcp.container.NodePool;
  readonly webhookFirewall: gcp.compute.Firewall;
  /** Resources of each add-on, by add-on name. */
  readonly addOns: Readonly<Record<string, readonly pulumi.Resource[]>>;
}

/**
 * A private regional GKE cluster: private nodes (and, with `cluster.privateEndpoint`, no public
 * endpoint), VPC-native addressing on the subnet's secondary ranges, Workload Identity, a release
 * channel, Shielded nodes, Dataplane V2 (NetworkPolicy enforcement), Kubernetes Secrets encrypted
 * with a rotating Cloud KMS key, and an autoscaled node pool of Shielded COS nodes running as a
 * least-privilege service account with the GKE metadata server; then the given add-ons.
 *
 * Cost: the GKE cluster management fee bills hourly even when idle, plus the nodes.
 *
 * @example
 * const platform = new KubernetesPlatform("shop", {
 *   cluster: plan.cluster!, region: "asia-northeast3", zones: plan.network.availabilityZones,
 *   networkId: network.networkId, subnetworkId: network.subnetworkId,
 *   secondaryRanges: { pods: "pods", services: "services" }, controlPlaneCidr: network.layout.controlPlane,
 * });
 */
export class KubernetesPlatform extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly clusterId: pulumi.Output<string>;
  /** Kubeconfig using gke-gcloud-auth-plugin; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** `serviceAccount:<email>` of the nodes, for registry read access. */
  readonly nodeServiceAccountMember: pulumi.Output<string>;
  /** Workload Identity pool, `<project>.svc.id.goog`. */
  readonly workloadPool: pulumi.Output<string>;
  /** Provider for objects in this cluster. */
  readonly provider: k8s.Provider;
  /** The node pool and add-ons later parts wait for before applying workloads. */
  readonly ready: readonly pulumi.Resource[];
  readonly nodes: KubernetesPlatformNodes;

  constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { cluster: plan } = args;
    if (plan.minNodes > plan.desiredNodes || plan.desiredNodes > plan.maxNodes || plan.maxNodes < 1) {
      throw new Error(
        `KubernetesPlatform ${name}: cluster node counts min ${plan.minNodes} / desired ${plan.desiredNodes} / max ${plan.maxNodes} are invalid. Fix: use 0 <= min <= desired <= max and max >= 1`,
      );
    }
    if (args.zones.length < 1) throw new Error(`KubernetesPlatform ${name}: zones is empty. Fix: list the zones of ${args.region} the nodes run in, e.g. ["${args.region}-a"]`);
    const stray = args.zones.find((zone) => !zone.startsWith(`${args.region}-`));
    if (stray) throw new Error(`KubernetesPlatform ${name}: zone "${stray}" is not in region ${args.region}. Fix: use zones named ${args.region}-<letter>`);
    if (!/\/28$/.test(args.controlPlaneCidr)) throw new Error(`KubernetesPlatform ${name}: controlPlaneCidr "${args.controlPlaneCidr}" is not a /28. Fix: pass an unused /28, e.g. network.layout.controlPlane`);
    const ordered = addOnInstallOrder(args.addOns ?? [], `KubernetesPlatform ${name}`);
    checkAddOnValues(ordered, args.addOnValues, `KubernetesPlatform ${name} addOnValues`);
    super("msa:gcp:KubernetesPlatform", name, {}, opts);
    const parent = { parent: this };
    const retain = args.retain ?? false;
    const labels = { ...args.labels };
    const project = projectOf(this);
    const workloadPool = pulumi.interpolate`${project.id}.svc.id.goog`;
    const nodeTag = `${plan.name}-node`;

    const keyRing = new gcp.kms.KeyRing(`${name}-keys`, { location: args.region }, parent);
    const keyArgs: gcp.kms.CryptoKeyArgs = { keyRing: keyRing.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: SECRETS_KEY_ROTATION, labels };
    args.transform?.secretsKey?.(keyArgs);
    // Destroying the key would make every Secret in etcd unreadable, so prod protects it.
    const secretsKey = new gcp.kms.CryptoKey(`${name}-secrets-key`, keyArgs, { parent: this, protect: retain, retainOnDelete: retain });
    // Only GKE's service agent may use the key, and only to encrypt and decrypt.
    const secretsKeyAccess = new gcp.kms.CryptoKeyIAMMember(
      `${name}-secrets-key-gke`,
      { cryptoKeyId: secretsKey.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: serviceAgent(project, "container-engine-robot.iam.gserviceaccount.com") },
      parent,
    );

    const nodeServiceAccount = new gcp.serviceaccount.Account(
      `${name}-nodes`,
      { accountId: gcpServiceAccountId(plan.name, "nodes"), displayName: `GKE nodes of ${plan.name}`, description: "Least-privilege identity of the GKE nodes; workloads use Workload Identity instead" },
      parent,
    );
    const nodeRole = new gcp.projects.IAMMember(`${name}-nodes-role`, { project: project.id, role: GKE_NODE_ROLE, member: nodeServiceAccount.member }, parent);

    const loggingComponents = ["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", ...(args.workloadLogs ?? true ? ["WORKLOADS"] : [])];
    const authorized = args.authorizedNetworks ?? [];
    const clusterArgs: gcp.container.ClusterArgs = {
      name: plan.name,
      location: args.region,
      nodeLocations: [...args.zones],
      minMasterVersion: plan.kubernetesVersion,
      // Node pools are managed on their own; the default pool exists only while the cluster is created.
      removeDefaultNodePool: true,
      initialNodeCount: 1,
      network: args.networkId,
      subnetwork: args.subnetworkId,
      networkingMode: "VPC_NATIVE",
      ipAllocationPolicy: { clusterSecondaryRangeName: args.secondaryRanges.pods, servicesSecondaryRangeName: args.secondaryRanges.services },
      privateClusterConfig: {
        enablePrivateNodes: true,
        enablePrivateEndpoint: plan.privateEndpoint,
        masterIpv4CidrBlock: args.controlPlaneCidr,
        masterGlobalAccessConfig: { enabled: false },
      },
      ...(plan.privateEndpoint || authorized.length > 0
        ? { masterAuthorizedNetworksConfig: { cidrBlocks: authorized.map((cidrBlock) => ({ cidrBlock, displayName: `authorized ${cidrBlock}` })), gcpPublicCidrsAccessEnabled: false } }
        : {}),
      // Google tokens only on the DNS endpoint: Kubernetes service account tokens and client certificates would bypass IAM.
      ...(args.externalDnsEndpoint ? { controlPlaneEndpointsConfig: { dnsEndpointConfig: { allowExternalTraffic: true, enableK8sTokensViaDns: false, enableK8sCertsViaDns: false } } } : {}),
      releaseChannel: { channel: args.releaseChannel ?? "REGULAR" },
      workloadIdentityConfig: { workloadPool },
      databaseEncryption: { state: "ENCRYPTED", keyName: secretsKey.id },
      enableShieldedNodes: true,
      // Dataplane V2 enforces the workloads' NetworkPolicies.
      datapathProvider: "ADVANCED_DATAPATH",
      addonsConfig: {
        // The NEG controller behind container-native load balancing.
        httpLoadBalancing: { disabled: false },
        horizontalPodAutoscaling: { disabled: false },
        gcePersistentDiskCsiDriverConfig: { enabled: true },
      },
      loggingConfig: { enableComponents: loggingComponents },
      monitoringConfig: { enableComponents: ["SYSTEM_COMPONENTS"], managedPrometheus: { enabled: true } },
      securityPostureConfig: { mode: "BASIC", vulnerabilityMode: "VULNERABILITY_BASIC" },
      masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
      deletionProtection: retain,
      resourceLabels: labels,
    };
    args.transform?.cluster?.(clusterArgs);
    const cluster = new gcp.container.Cluster(`${name}-cluster`, clusterArgs, { parent: this, dependsOn: [secretsKeyAccess] });

    const perZone = Math.max(1, Math.ceil(plan.desiredNodes / args.zones.length));
    const nodePoolArgs: gcp.container.NodePoolArgs = {
      cluster: cluster.name,
      location: args.region,
      nodeLocations: [...args.zones],
      initialNodeCount: perZone,
      autoscaling: { totalMinNodeCount: plan.minNodes, totalMaxNodeCount: plan.maxNodes, locationPolicy: "BALANCED" },
      management: { autoRepair: true, autoUpgrade: true },
      upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
      nodeConfig: {
        machineType: plan.nodeInstanceType,
        diskSizeGb: plan.nodeDiskGiB,
        diskType: "pd-balanced",
        imageType: "COS_CONTAINERD",
        serviceAccount: nodeServiceAccount.email,
        // IAM, not scopes, limits what the nodes may do.
        oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
        shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        // Pods see only the GKE metadata server, never the node's credentials.
        workloadMetadataConfig: { mode: "GKE_METADATA" },
        metadata: { "disable-legacy-endpoints": "true" },
        tags: [nodeTag, LOAD_BALANCER_BACKEND_TAG],
        labels: { "msa-landing-zone/pool": "default" },
        resourceLabels: labels,
      },
    };
    args.transform?.nodePool?.(nodePoolArgs);
    // The autoscaler owns the node count once the pool exists.
    const nodePool = new gcp.container.NodePool(`${name}-nodes`, nodePoolArgs, { parent: this, dependsOn: [nodeRole], ignoreChanges: ["initialNodeCount"] });

    const webhookFirewall = new gcp.compute.Firewall(
      `${name}-control-plane-webhooks`,
      {
        network: args.networkId,
        direction: "INGRESS",
        priority: 1000,
        sourceRanges: [args.controlPlaneCidr],
        targetTags: [nodeTag],
        allows: [{ protocol: "tcp", ports: [...CONTROL_PLANE_WEBHOOK_PORTS] }],
        description: `The private control plane of ${plan.name} calls admission webhooks on the nodes`,
      },
      parent,
    );

    const kubeconfig = pulumi.secret(
      pulumi.all([cluster.name, cluster.endpoint, cluster.masterAuth]).apply(([clusterName, endpoint, auth]) => JSON.stringify(kubeconfigFor(clusterName, endpoint, auth.clusterCaCertificate ?? ""))),
    );
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, parent);

    const addOns = installAddOns(name, ordered, { provider, parent: this, dependsOn: [nodePool, webhookFirewall], ...(args.addOnValues ? { values: args.addOnValues } : {}) });

    this.clusterName = cluster.name;
    this.clusterId = cluster.id;
    this.kubeconfig = kubeconfig;
    this.nodeServiceAccountMember = nodeServiceAccount.member;
    this.workloadPool = workloadPool;
    this.provider = provider;
    this.ready = [nodePool, ...Object.values(addOns).flat()];
    this.nodes = { keyRing, secretsKey, secretsKeyAccess, nodeServiceAccount, cluster, nodePool, webhookFirewall, addOns };
    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, workloadPool: this.workloadPool });
  }
}

/** Kubeconfig authenticating through gke-gcloud-auth-plugin, which the machine running Pulumi must have. */
function kubeconfigFor(clusterName: string, endpoint: string, caCertificate: string) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caCertificate } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "gke-gcloud-auth-plugin",
            installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
            provideClusterInfo: true,
            interactiveMode: "Never",
          },
        },
      },
    ],
  };
}

/** Maps a plan's cluster entry and its network placement to {@link KubernetesPlatformArgs}. */
export function kubernetesPlatformArgsFromPlan(
  plan: LandingZonePlan,
  placement: Pick<KubernetesPlatformArgs, "networkId" | "subnetworkId" | "secondaryRanges" | "controlPlaneCidr" | "authorizedNetworks">,
  addOns: readonly AddOn[] = [],
): KubernetesPlatformArgs {
  if (!plan.cluster) throw new Error(`KubernetesPlatform: plan.cluster is missing because tier is "${plan.tier}". Fix: set tier: caas`);
  return {
    cluster: plan.cluster,
    region: plan.region,
    zones: plan.network.availabilityZones,
    ...placement,
    // prod trades the newest features for the longest-soaked versions.
    releaseChannel: plan.environment === "prod" ? "STABLE" : "REGULAR",
    workloadLogs: plan.logging === undefined,
    // Only GitHub-hosted deploy jobs come from outside the network; Cloud Build deploys from its private pool.
    externalDnsEndpoint: githubDeploysToCluster(plan),
    addOns,
    retain: plan.protection.retain,
  };
}
