import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import type { AddOn } from "../../kubernetes/types.js";
import { formatCidr, parseCidr } from "../../plan/cidr.js";
import type { ClusterPlan } from "../../plan/types.js";
import { addOnInstallOrder, installAddOns } from "../kubernetes/install-add-ons.js";
import type { ContainerRegistry } from "./container-registry.js";
import { sendDiagnostics } from "./diagnostics.js";
import { grantRole } from "./roles.js";

/** AKS control-plane log categories sent to the workspace; `kube-audit-admin` leaves out read-only audit events, which dominate volume. */
export const AKS_LOG_CATEGORIES = ["kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler", "cluster-autoscaler", "guard"] as const;
/** Taint that keeps the services off the system pool. */
export const SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule";

/** How kubelogin gets the deployer's Entra ID token for the cluster (`kubelogin get-token --login`). */
export type KubeloginMode = "azurecli" | "workloadidentity" | "spn" | "msi";

/** The system node pool. */
export interface SystemPoolArgs {
  readonly vmSize: string;
  readonly min: number;
  readonly max: number;
  readonly diskGiB: number;
}

/** Arguments of {@link KubernetesPlatform}. */
export interface KubernetesPlatformArgs {
  /** Cluster settings: name, Kubernetes version, user pool size and counts, disk, private API server (`plan.cluster`). */
  readonly cluster: ClusterPlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Subnet of the nodes (and of internal load balancers). */
  readonly subnetId: pulumi.Input<string>;
  /** Availability zones the node pools spread over, e.g. ["1", "2", "3"]. */
  readonly zones: readonly string[];
  /** Overlay pod range (outside the VNet). */
  readonly podsCidr: string;
  /** Service range (outside the VNet); the cluster DNS service takes its tenth address. */
  readonly servicesCidr: string;
  /** The system node pool (CoreDNS, metrics server, konnectivity); tainted so only critical add-ons run there. */
  readonly systemPool: SystemPoolArgs;
  /**
   * Egress: the subnet's NAT gateway, or a load balancer outbound rule when the subnet has none.
   * @default "natGateway"
   */
  readonly outbound?: "natGateway" | "loadBalancer";
  /**
   * The registry the nodes pull images from; AcrPull on it goes to the kubelet identity only.
   * @default - no registry access
   */
  readonly registry?: Pick<ContainerRegistry, "grantPull">;
  /**
   * Log Analytics workspace of Container Insights and the control-plane and registry diagnostics.
   * @default - no monitoring add-on, no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Entra ID groups made cluster administrators through Azure RBAC.
   * @default - none; the deploying principal is granted cluster admin so Pulumi can apply objects
   */
  readonly adminGroupObjectIds?: readonly string[];
  /**
   * How kubelogin signs the deployer in when Pulumi talks to the cluster.
   * @default "azurecli"
   */
  readonly kubeloginMode?: KubeloginMode;
  /**
   * Encrypt node OS and temporary disks and caches at the host. Needs the subscription feature
   * `Microsoft.Compute/EncryptionAtHost` registered once.
   * @default true
   */
  readonly encryptionAtHost?: boolean;
  /**
   * The Standard tier (financially backed API server SLA); Free otherwise. Cost: Standard bills per cluster hour.
   * @default false
   */
  readonly uptimeSla?: boolean;
  /**
   * Add-ons installed once the user pool exists, ordered by their `dependsOn` (workloads namespace, mesh, ...).
   * @default - none
   */
  readonly addOns?: readonly AddOn[];
  /**
   * Protect the cluster and the registry (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly cluster?: (args: containerservice.ManagedClusterArgs) => void;
    readonly userPool?: (args: containerservice.AgentPoolArgs) => void;
  };
}

/** The raw children of a {@link KubernetesPlatform}. */
export interface KubernetesPlatformNodes {
  readonly controlPlaneIdentity: managedidentity.UserAssignedIdentity;
  readonly kubeletIdentity: managedidentity.UserAssignedIdentity;
  readonly cluster: containerservice.ManagedCluster;
  readonly userPool: containerservice.AgentPool;
  readonly deployerAdmin: authorization.RoleAssignment;
  readonly registryPull?: authorization.RoleAssignment;
  /** Resources of each add-on, by add-on name. */
  readonly addOns: Readonly<Record<string, readonly pulumi.Resource[]>>;
}

/**
 * An AKS cluster for the services: user-assigned control-plane and kubelet identities, Azure CNI
 * Overlay with the Cilium dataplane (pods take addresses outside the VNet, so the subnet sizes only
 * nodes, and NetworkPolicies are enforced), a private API server when the plan asks, Entra ID
 * authentication with Azure RBAC and no local accounts, OIDC issuer and workload identity, an
 * autoscaling system pool (tainted for critical add-ons) and user pool across zones on Azure Linux
 * with encryption at host, automatic patch and node-image upgrades, the Key Vault secrets provider
 * (CSI driver, rotation on), Container Insights and
 * control-plane diagnostics, AcrPull on the given registry for the kubelet identity only, and the
 * given add-ons.
 *
 * Cost: the nodes bill hourly; the Standard tier (uptimeSla) adds a per-cluster hourly fee.
 *
 * @example
 * const platform = new KubernetesPlatform("shop", {
 *   cluster: plan.cluster!, resourceGroupName: group.name, location: "eastus", subnetId: network.subnetIds.workloads,
 *   zones: ["1", "2", "3"], podsCidr: "100.64.0.0/14", servicesCidr: "100.68.0.0/20", systemPool: AKS_SYSTEM_POOL.prod,
 * });
 */
export class KubernetesPlatform extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly clusterId: pulumi.Output<string>;
  /** Issuer of the service-account tokens workload identities federate with. */
  readonly oidcIssuerUrl: pulumi.Output<string>;
  /** Kubeconfig with Entra ID (kubelogin) authentication; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** Provider for objects in this cluster. */
  readonly provider: k8s.Provider;
  /** Principal id of the kubelet identity (the only one allowed to pull images). */
  readonly kubeletPrincipalId: pulumi.Output<string>;
  /** Nodes, admin grant and add-ons later parts wait for before applying workloads. */
  readonly ready: readonly pulumi.Resource[];
  readonly nodes: KubernetesPlatformNodes;

  constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const { cluster: plan } = args;
    const problems = checkArgs(args);
    if (problems.length > 0) throw new Error(`KubernetesPlatform ${name}: ${problems.join("; ")}`);
    const addOnOrder = addOnInstallOrder(args.addOns ?? [], `KubernetesPlatform ${name}`);
    super("msa:azure:KubernetesPlatform", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;
    const { resourceGroupName, location } = args;
    const encryptionAtHost = args.encryptionAtHost ?? true;

    const controlPlaneIdentity = new managedidentity.UserAssignedIdentity(`${name}-control-plane`, { resourceGroupName, location, tags }, parent);
    const kubeletIdentity = new managedidentity.UserAssignedIdentity(`${name}-kubelet`, { resourceGroupName, location, tags }, parent);
    // AKS attaches the kubelet identity to the nodes on the control plane's behalf, and joins nodes and internal load balancers to the subnet.
    const prerequisites = [
      grantRole(`${name}-assign-kubelet`, { role: "managedIdentityOperator", scope: kubeletIdentity.id, principalId: controlPlaneIdentity.principalId }, parent),
      grantRole(`${name}-join-subnet`, { role: "networkContributor", scope: args.subnetId, principalId: controlPlaneIdentity.principalId }, parent),
    ];

    const pool = {
      type: "VirtualMachineScaleSets" as const,
      osType: "Linux",
      osSKU: "AzureLinux",
      osDiskType: "Managed",
      availabilityZones: [...args.zones] as string[],
      vnetSubnetID: args.subnetId,
      enableAutoScaling: true,
      enableEncryptionAtHost: encryptionAtHost,
      enableNodePublicIP: false,
      maxPods: 110,
      upgradeSettings: { maxSurge: "33%" },
    };
    const clusterArgs: containerservice.ManagedClusterArgs = {
      resourceGroupName,
      location,
      resourceName: plan.name,
      dnsPrefix: plan.name,
      kubernetesVersion: plan.kubernetesVersion,
      sku: { name: "Base", tier: args.uptimeSla ? "Standard" : "Free" },
      identity: { type: "UserAssigned", userAssignedIdentities: [controlPlaneIdentity.id] },
      identityProfile: { kubeletidentity: { resourceId: kubeletIdentity.id, clientId: kubeletIdentity.clientId, objectId: kubeletIdentity.principalId } },
      agentPoolProfiles: [
        {
          ...pool,
          name: "system",
          mode: "System",
          vmSize: args.systemPool.vmSize,
          count: args.systemPool.min,
          minCount: args.systemPool.min,
          maxCount: args.systemPool.max,
          osDiskSizeGB: args.systemPool.diskGiB,
          nodeTaints: [SYSTEM_POOL_TAINT],
        },
      ],
      networkProfile: {
        networkPlugin: "azure",
        networkPluginMode: "overlay",
        networkDataplane: "cilium",
        networkPolicy: "cilium",
        podCidr: args.podsCidr,
        serviceCidr: args.servicesCidr,
        dnsServiceIP: dnsServiceIp(args.servicesCidr),
        loadBalancerSku: "standard",
        outboundType: (args.outbound ?? "natGateway") === "natGateway" ? "userAssignedNATGateway" : "loadBalancer",
      },
      apiServerAccessProfile: plan.privateEndpoint ? { enablePrivateCluster: true, privateDNSZone: "system", enablePrivateClusterPublicFQDN: false } : {},
      aadProfile: { managed: true, enableAzureRBAC: true, ...(args.adminGroupObjectIds ? { adminGroupObjectIDs: [...args.adminGroupObjectIds] } : {}) },
      disableLocalAccounts: true,
      enableRBAC: true,
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true }, imageCleaner: { enabled: true, intervalHours: 168 } },
      autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
      addonProfiles: {
        // The Secrets Store CSI driver with the Key Vault provider: pods read their own secrets with their workload identity.
        azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } },
        ...(args.logWorkspaceId ? { omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: args.logWorkspaceId, useAADAuth: "true" } } } : {}),
      },
      tags,
    };
    args.transform?.cluster?.(clusterArgs);
    const cluster = new containerservice.ManagedCluster(`${name}-cluster`, clusterArgs, {
      parent: this,
      dependsOn: prerequisites,
      ...(retain ? { protect: true } : {}),
      // The autoscaler owns the node count once the pool exists.
      ignoreChanges: ["agentPoolProfiles[0].count"],
    });
    if (args.logWorkspaceId) sendDiagnostics(`${name}-cluster-diagnostics`, cluster.id, args.logWorkspaceId, this, { logs: AKS_LOG_CATEGORIES });

    const userPoolArgs: containerservice.AgentPoolArgs = {
      ...pool,
      resourceGroupName,
      resourceName: cluster.name,
      agentPoolName: "services",
      mode: "User",
      vmSize: plan.nodeInstanceType,
      count: plan.desiredNodes,
      minCount: plan.minNodes,
      maxCount: plan.maxNodes,
      osDiskSizeGB: plan.nodeDiskGiB,
      orchestratorVersion: plan.kubernetesVersion,
      tags,
    };
    args.transform?.userPool?.(userPoolArgs);
    const userPool = new containerservice.AgentPool(`${name}-services`, userPoolArgs, { parent: this, ignoreChanges: ["count"] });

    // Pulumi applies objects as whoever runs it, through Entra ID: that principal administers the cluster.
    const deployer = authorization.getClientConfigOutput(parent);
    const deployerAdmin = grantRole(`${name}-deployer-admin`, { role: "aksRbacClusterAdmin", scope: cluster.id, principalId: deployer.objectId, principalType: "Unknown" }, parent);

    const registryPull = args.registry?.grantPull(`${name}-kubelet-acr-pull`, kubeletIdentity.principalId, this);

    const credentials = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName, resourceName: cluster.name, format: "exec" }, parent);
    const kubeconfig = pulumi.secret(
      credentials.apply((result) => withKubeloginMode(Buffer.from(result.kubeconfigs[0]?.value ?? "", "base64").toString("utf8"), args.kubeloginMode ?? "azurecli")),
    );
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, { parent: this, dependsOn: [deployerAdmin] });

    const addOns = installAddOns(name, addOnOrder, { provider, parent: this, dependsOn: [userPool, deployerAdmin] });

    this.clusterName = cluster.name;
    this.clusterId = cluster.id;
    this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((profile) => profile?.issuerURL ?? "");
    this.kubeconfig = kubeconfig;
    this.provider = provider;
    this.kubeletPrincipalId = kubeletIdentity.principalId;
    this.ready = [userPool, deployerAdmin, ...(registryPull ? [registryPull] : []), ...Object.values(addOns).flat()];
    this.nodes = { controlPlaneIdentity, kubeletIdentity, cluster, userPool, deployerAdmin, addOns, ...(registryPull ? { registryPull } : {}) };
    this.registerOutputs({ clusterName: this.clusterName, clusterId: this.clusterId, oidcIssuerUrl: this.oidcIssuerUrl, kubeconfig: this.kubeconfig });
  }

}

/** The tenth address of the service range, the conventional cluster DNS service IP. */
export function dnsServiceIp(servicesCidr: string): string {
  const range = parseCidr(servicesCidr);
  return formatCidr({ base: range.base + 10, prefix: 32 }).replace(/\/32$/, "");
}

/** Rewrites a kubelogin exec kubeconfig so `get-token` signs in with `mode` instead of the interactive device code. */
export function withKubeloginMode(kubeconfig: string, mode: KubeloginMode): string {
  const config = parse(kubeconfig) as { users?: { user?: { exec?: { args?: string[] } } }[] } | null;
  for (const user of config?.users ?? []) {
    const exec = user.user?.exec;
    if (!exec?.args) continue;
    const args = [...exec.args];
    const at = args.findIndex((a) => a === "--login" || a === "-l");
    if (at >= 0) args.splice(at, 2);
    exec.args = [...args, "--login", mode];
  }
  return stringify(config);
}

function checkArgs(args: KubernetesPlatformArgs): string[] {
  const { cluster: plan } = args;
  const problems: string[] = [];
  if (plan.minNodes < 1 || plan.minNodes > plan.desiredNodes || plan.desiredNodes > plan.maxNodes) {
    problems.push(`cluster node counts min ${plan.minNodes} / desired ${plan.desiredNodes} / max ${plan.maxNodes} are invalid. Fix: use 1 <= min <= desired <= max`);
  }
  if (args.systemPool.min < 1 || args.systemPool.min > args.systemPool.max) {
    problems.push(`systemPool min ${args.systemPool.min} / max ${args.systemPool.max} are invalid. Fix: use 1 <= min <= max`);
  }
  if (args.zones.some((z) => !/^[1-3]$/.test(z))) problems.push(`zones [${args.zones.join(", ")}] are not Azure zone numbers. Fix: use "1", "2" and "3"`);
  if (parseCidr(args.servicesCidr).prefix > 28) problems.push(`servicesCidr ${args.servicesCidr} is too small. Fix: use a /28 or larger range`);
  return problems;
}
