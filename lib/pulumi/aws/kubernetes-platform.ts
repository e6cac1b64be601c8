import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AddOn } from "../../kubernetes/types.js";
import type { ClusterPlan, LandingZonePlan } from "../../plan/types.js";
import { applyAddOn, type HelmValues } from "../kubernetes/add-on.js";
import { serviceRepositories } from "./service-repository.js";

/** Control-plane log types EKS can ship to CloudWatch; all are enabled for audit. */
export const EKS_CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
/** AWS Load Balancer Controller chart (eks-charts), pinned; it binds pods to the gateway's target groups. */
export const LOAD_BALANCER_CONTROLLER_CHART = { repository: "https://aws.github.io/eks-charts", chart: "aws-load-balancer-controller", version: "1.14.0" } as const;
/** Namespace and service account of the load balancer controller (the pod identity association names them). */
export const LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = { namespace: "kube-system", name: "aws-load-balancer-controller" } as const;

export interface KubernetesPlatformArgs {
  /** Cluster settings: name, Kubernetes version, node type and counts, disk, private endpoint (`plan.cluster`). */
  readonly cluster: ClusterPlan;
  /** VPC the cluster runs in. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (with NAT egress) for the control-plane network interfaces and the nodes; at least two zones. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * ECR repositories to create, by name (one per service).
   * @default - none
   */
  readonly repositories?: readonly string[];
  /**
   * Add-ons installed after the load balancer controller, ordered by their `dependsOn` (workloads namespace, mesh, ...).
   * @default - none
   */
  readonly addOns?: readonly AddOn[];
  /**
   * Protect the registry repositories and turn on cluster deletion protection (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Days the control-plane logs are kept.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created; Helm values of the controller are deep-merged.
   * @default - no patch
   */
  readonly transform?: {
    readonly cluster?: (args: aws.eks.ClusterArgs) => void;
    readonly launchTemplate?: (args: aws.ec2.LaunchTemplateArgs) => void;
    readonly nodeGroup?: (args: aws.eks.NodeGroupArgs) => void;
    readonly repository?: (args: aws.ecr.RepositoryArgs, repositoryName: string) => void;
    readonly loadBalancerControllerValues?: HelmValues;
  };
}

/** The raw children of a {@link KubernetesPlatform}, for what the args do not cover. */
export interface KubernetesPlatformNodes {
  readonly cluster: aws.eks.Cluster;
  readonly clusterRole: aws.iam.Role;
  readonly nodeRole: aws.iam.Role;
  readonly secretsKey: aws.kms.Key;
  readonly registryKey: aws.kms.Key;
  readonly controlPlaneLogGroup: aws.cloudwatch.LogGroup;
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  readonly nodeGroup: aws.eks.NodeGroup;
  /** The managed VPC CNI, enforcing NetworkPolicies. */
  readonly vpcCni: aws.eks.Addon;
  readonly podIdentityAgent: aws.eks.Addon;
  readonly repositories: Readonly<Record<string, aws.ecr.Repository>>;
  readonly loadBalancerControllerRole: aws.iam.Role;
  /** Helm release of the load balancer controller. */
  readonly loadBalancerController: readonly pulumi.Resource[];
  /** Resources of each add-on, by add-on name. */
  readonly addOns: Readonly<Record<string, readonly pulumi.Resource[]>>;
}

/**
 * An EKS cluster for the services: encrypted secrets, all control-plane logs, API access entries,
 * a managed AL2023 node group in private subnets (IMDSv2 only, encrypted disks), the VPC CNI
 * enforcing NetworkPolicies, Pod Identity, an ECR repository per service, the AWS Load Balancer
 * Controller and the given add-ons.
 *
 * Cost: the EKS control plane is billed hourly even when idle, plus the nodes.
 *
 * @example
 * const platform = new KubernetesPlatform("shop", {
 *   cluster: plan.cluster!, vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds,
 *   repositories: ["orders"],
 * });
 */
export class KubernetesPlatform extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig using `aws eks get-token`; a secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** Repository URL by repository name. */
  readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  /** The EKS cluster security group, attached to nodes and pods; data stores and load balancers admit or reach it. */
  readonly workloadSecurityGroupId: pulumi.Output<string>;
  /** Provider for objects in this cluster. */
  readonly provider: k8s.Provider;
  /** Nodes and add-ons later parts wait for before applying workloads. */
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
    const addOnOrder = installOrder(args.addOns ?? [], name);
    super("msa:aws:KubernetesPlatform", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const callerAccount = aws.getCallerIdentityOutput({}, parent).accountId;
    const managedPolicy = (policy: string) => pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;

    // Keys decrypt retained data (secrets in etcd backups, images) and logs are evidence: kept like the data.
    const kept = retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const secretsKey = new aws.kms.Key(`${name}-secrets-key`, { description: `Envelope encryption of Kubernetes secrets in ${plan.name}`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, kept);
    const registryKey = new aws.kms.Key(`${name}-registry-key`, { description: `Encryption of the ${plan.name} container images`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, kept);

    const clusterRole = new aws.iam.Role(`${name}-cluster-role`, { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"), tags }, parent);
    new aws.iam.RolePolicyAttachment(`${name}-cluster-policy`, { role: clusterRole.name, policyArn: managedPolicy("AmazonEKSClusterPolicy") }, parent);
    // The managed cluster policy grants no KMS access; envelope encryption needs exactly this key.
    new aws.iam.RolePolicy(
      `${name}-cluster-secrets-key`,
      {
        role: clusterRole.name,
        policy: secretsKey.arn.apply((keyArn) =>
          JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"], Resource: keyArn }] }),
        ),
      },
      parent,
    );

    // Created before the cluster so EKS writes into a log group with a retention instead of one kept forever.
    const controlPlaneLogGroup = new aws.cloudwatch.LogGroup(`${name}-control-plane-logs`, { name: `/aws/eks/${plan.name}/cluster`, retentionInDays: args.logRetentionDays ?? 30, tags }, kept);

    const clusterArgs: aws.eks.ClusterArgs = {
      name: plan.name,
      version: plan.kubernetesVersion,
      roleArn: clusterRole.arn,
      vpcConfig: { subnetIds: args.privateSubnetIds, endpointPrivateAccess: true, endpointPublicAccess: !plan.privateEndpoint },
      encryptionConfig: { provider: { keyArn: secretsKey.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: [...EKS_CONTROL_PLANE_LOG_TYPES],
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
      deletionProtection: retain,
      tags,
    };
    args.transform?.cluster?.(clusterArgs);
    const cluster = new aws.eks.Cluster(`${name}-cluster`, clusterArgs, { parent: this, dependsOn: [controlPlaneLogGroup] });

    const nodeRole = new aws.iam.Role(`${name}-node-role`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags }, parent);
    // SSM instead of SSH for node access; registry pull only, never push.
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"];
    const nodePolicyAttachments = nodePolicies.map(
      (policy) => new aws.iam.RolePolicyAttachment(`${name}-node-${policy}`, { role: nodeRole.name, policyArn: managedPolicy(policy) }, parent),
    );

    const launchTemplateArgs: aws.ec2.LaunchTemplateArgs = {
      description: `Nodes of ${plan.name}`,
      // Pods get AWS credentials from Pod Identity, so one hop keeps them away from the node's instance role.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: plan.nodeDiskGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
      tagSpecifications: [{ resourceType: "instance", tags: { ...tags, Name: `${plan.name}-node` } }],
      updateDefaultVersion: true,
      tags,
    };
    args.transform?.launchTemplate?.(launchTemplateArgs);
    const launchTemplate = new aws.ec2.LaunchTemplate(`${name}-nodes`, launchTemplateArgs, parent);

    // Without the managed add-on's network policy agent, the cluster's NetworkPolicies are accepted but never enforced.
    const vpcCni = new aws.eks.Addon(
      `${name}-vpc-cni`,
      {
        clusterName: cluster.name,
        addonName: "vpc-cni",
        configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
        // Every cluster starts with a self-managed aws-node; EKS takes it over only with OVERWRITE.
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "OVERWRITE",
        // Removing the add-on must not remove aws-node, the pods' network.
        preserve: true,
        tags,
      },
      parent,
    );

    const nodeGroupArgs: aws.eks.NodeGroupArgs = {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: args.privateSubnetIds,
      amiType: amiTypeFor(plan.nodeInstanceType),
      instanceTypes: [plan.nodeInstanceType],
      scalingConfig: { minSize: plan.minNodes, desiredSize: plan.desiredNodes, maxSize: plan.maxNodes },
      updateConfig: { maxUnavailable: 1 },
      launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
      tags,
    };
    args.transform?.nodeGroup?.(nodeGroupArgs);
    // An autoscaler owns the desired size once the group exists.
    // Nodes join with network policy enforcement on, so no workload pod ever runs unenforced.
    const nodeGroup = new aws.eks.NodeGroup(`${name}-nodes`, nodeGroupArgs, { parent: this, dependsOn: [...nodePolicyAttachments, vpcCni], ignoreChanges: ["scalingConfig.desiredSize"] });

    const podIdentityAgent = new aws.eks.Addon(
      `${name}-pod-identity-agent`,
      { clusterName: cluster.name, addonName: "eks-pod-identity-agent", resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "OVERWRITE", tags },
      { parent: this, dependsOn: [nodeGroup] },
    );

    const transform = args.transform?.repository;
    const repositories = serviceRepositories(this, name, args.repositories ?? [], { retain, tags, kmsKeyArn: registryKey.arn, ...(transform ? { transform } : {}) });

    const kubeconfig = pulumi.secret(
      pulumi.all([cluster.name, cluster.endpoint, cluster.certificateAuthority, region]).apply(([clusterName, endpoint, authority, clusterRegion]) =>
        JSON.stringify(kubeconfigFor(clusterName, endpoint, authority?.data ?? "", clusterRegion)),
      ),
    );
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, parent);

    const controllerRole = new aws.iam.Role(`${name}-lb-controller-role`, { assumeRolePolicy: assumeRolePolicy("pods.eks.amazonaws.com"), tags }, parent);
    new aws.iam.RolePolicy(
      `${name}-lb-controller-policy`,
      {
        role: controllerRole.name,
        policy: pulumi.all([partition, region, callerAccount]).apply(([p, r, account]) => JSON.stringify(loadBalancerControllerPolicy(p, r, account))),
      },
      parent,
    );
    const controllerIdentity = new aws.eks.PodIdentityAssociation(
      `${name}-lb-controller-identity`,
      { clusterName: cluster.name, namespace: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.namespace, serviceAccount: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.name, roleArn: controllerRole.arn, tags },
      { parent: this, dependsOn: [podIdentityAgent] },
    );
    const loadBalancerController = applyAddOn(`${name}-lb-controller`, loadBalancerControllerAddOn(cluster.name, region, args.vpcId), {
      provider,
      parent: this,
      dependsOn: [nodeGroup, controllerIdentity],
      values: args.transform?.loadBalancerControllerValues ? { [LOAD_BALANCER_CONTROLLER_CHART.chart]: args.transform.loadBalancerControllerValues } : {},
    });

    const addOns: Record<string, pulumi.Resource[]> = {};
    for (const addOn of addOnOrder) {
      addOns[addOn.name] = applyAddOn(`${name}-${addOn.name}`, addOn, {
        provider,
        parent: this,
        dependsOn: [nodeGroup, ...loadBalancerController, ...addOn.dependsOn.flatMap((d) => addOns[d] ?? [])],
      });
    }

    this.clusterName = cluster.name;
    this.kubeconfig = kubeconfig;
    this.repositoryUrls = pulumi.all(Object.fromEntries(Object.entries(repositories).map(([repositoryName, r]) => [repositoryName, r.repositoryUrl])));
    this.workloadSecurityGroupId = cluster.vpcConfig.clusterSecurityGroupId;
    this.provider = provider;
    this.ready = [vpcCni, nodeGroup, podIdentityAgent, ...loadBalancerController, ...Object.values(addOns).flat()];
    this.nodes = {
      cluster,
      clusterRole,
      nodeRole,
      secretsKey,
      registryKey,
      controlPlaneLogGroup,
      launchTemplate,
      nodeGroup,
      vpcCni,
      podIdentityAgent,
      repositories,
      loadBalancerControllerRole: controllerRole,
      loadBalancerController,
      addOns,
    };
    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig, repositoryUrls: this.repositoryUrls, workloadSecurityGroupId: this.workloadSecurityGroupId });
  }
}

/** A trust policy for one AWS service principal; Pod Identity also needs sts:TagSession. */
export function assumeRolePolicy(service: string): string {
  const actions = service === "pods.eks.amazonaws.com" ? ["sts:AssumeRole", "sts:TagSession"] : ["sts:AssumeRole"];
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }] });
}

/** AL2023 for the node's CPU architecture: Graviton families carry a `g` after the generation (m7g, c6gn). */
export function amiTypeFor(instanceType: string): string {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}

function kubeconfigFor(clusterName: string, endpoint: string, certificateAuthorityData: string, region: string) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": certificateAuthorityData } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
            interactiveMode: "Never",
          },
        },
      },
    ],
  };
}

function loadBalancerControllerAddOn(clusterName: pulumi.Output<string>, region: pulumi.Output<string>, vpcId: pulumi.Input<string>): AddOn {
  // Values are resolved by the Helm provider, so outputs may stand in for plain values here.
  const values = {
    clusterName,
    region,
    vpcId,
    serviceAccount: { create: true, name: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.name },
    replicaCount: 2,
  };
  return {
    name: "aws-load-balancer-controller",
    namespace: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.namespace,
    helmReleases: [{ name: LOAD_BALANCER_CONTROLLER_CHART.chart, namespace: LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT.namespace, chart: LOAD_BALANCER_CONTROLLER_CHART.chart, repository: LOAD_BALANCER_CONTROLLER_CHART.repository, version: LOAD_BALANCER_CONTROLLER_CHART.version, values, createNamespace: false }],
    manifests: [],
    dependsOn: [],
  };
}

/**
 * The controller only registers pods in target groups the gateway created (TargetGroupBinding
 * without `networking`; the gateway opens the security groups), so it gets read access and target
 * registration, not the full Ingress policy that creates and deletes load balancers.
 */
export function loadBalancerControllerPolicy(partition: string, region: string, account: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Discover",
        Effect: "Allow",
        Action: [
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeTags",
          "ec2:DescribeVpcs",
          "ec2:GetSecurityGroupsForVpc",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeLoadBalancerAttributes",
          "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTags",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetHealth",
        ],
        // Describe calls support no resource-level permissions.
        Resource: "*",
      },
      {
        Sid: "RegisterPods",
        Effect: "Allow",
        Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
        Resource: `arn:${partition}:elasticloadbalancing:${region}:${account}:targetgroup/*/*`,
      },
    ],
  };
}

/** Orders add-ons so each comes after those it names in `dependsOn`; throws on an unknown or circular dependency. */
function installOrder(addOns: readonly AddOn[], component: string): AddOn[] {
  const byName = new Map(addOns.map((a) => [a.name, a]));
  const ordered: AddOn[] = [];
  const visiting = new Set<string>();
  const visit = (addOn: AddOn) => {
    if (ordered.includes(addOn)) return;
    if (visiting.has(addOn.name)) throw new Error(`KubernetesPlatform ${component}: addOns form a cycle through "${addOn.name}". Fix: remove one of the dependsOn entries`);
    visiting.add(addOn.name);
    for (const dependency of addOn.dependsOn) {
      const found = byName.get(dependency);
      if (!found) {
        throw new Error(`KubernetesPlatform ${component}: addOns["${addOn.name}"].dependsOn names "${dependency}", which is not among addOns (${[...byName.keys()].join(", ")}). Fix: add that add-on or remove the dependency`);
      }
      visit(found);
    }
    visiting.delete(addOn.name);
    ordered.push(addOn);
  };
  addOns.forEach(visit);
  return ordered;
}

/** Maps a plan's cluster entry plus its placement to {@link KubernetesPlatformArgs}. */
export function kubernetesPlatformArgsFromPlan(
  plan: LandingZonePlan,
  placement: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]> },
  addOns: readonly AddOn[] = [],
): KubernetesPlatformArgs {
  if (!plan.cluster) throw new Error(`KubernetesPlatform: plan.cluster is missing because tier is "${plan.tier}". Fix: set tier: caas`);
  return {
    cluster: plan.cluster,
    ...placement,
    repositories: plan.services.map((s) => s.repository),
    addOns,
    retain: plan.protection.retain,
    // The control-plane audit trail is kept as long as the network's flow logs.
    logRetentionDays: plan.network.flowLogRetentionDays,
    tags: plan.tags,
  };
}
