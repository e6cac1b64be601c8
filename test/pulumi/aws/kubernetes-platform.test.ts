import { describe, expect, it } from "vitest";
import { meshAddOn } from "../../../lib/kubernetes/mesh.js";
import { namespaceManifests } from "../../../lib/kubernetes/namespace.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import type { LandingZonePlan } from "../../../lib/plan/types.js";
import { KubernetesPlatform, kubernetesPlatformArgsFromPlan, amiTypeFor, LOAD_BALANCER_CONTROLLER_CHART } from "../../../lib/pulumi/aws/kubernetes-platform.js";
import { byType, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

const SUBNETS = ["subnet-private-a", "subnet-private-b", "subnet-private-c"];

function plan(overrides: Partial<LandingZoneInput> = {}): LandingZonePlan {
  return planLandingZone({
    name: "shop",
    environment: "prod",
    services: [{ name: "orders", publishes: ["order-placed"] }, { name: "payments", subscribes: ["order-placed"] }],
    bffs: ["web"],
    ...overrides,
  });
}

async function platform(p: LandingZonePlan): Promise<RegisteredResource[]> {
  const addOns = [
    { name: "workloads", namespace: p.cluster!.namespace, helmReleases: [], manifests: namespaceManifests(p), dependsOn: p.mesh ? ["istio"] : [] },
    ...(meshAddOn(p) ? [meshAddOn(p)!] : []),
  ];
  const { resources } = await runProgram(() => {
    new KubernetesPlatform("shop-platform", kubernetesPlatformArgsFromPlan(p, { vpcId: "vpc-1", privateSubnetIds: SUBNETS }, addOns));
  });
  return resources;
}

describe("KubernetesPlatform", () => {
  it("builds a private, encrypted, fully logged EKS cluster with API access entries", async () => {
    const p = plan();
    const resources = await platform(p);
    const cluster = single(resources, "aws:eks/cluster:Cluster");
    expect(cluster.parent).toBe("shop-platform");
    expect(cluster.parentType).toBe("msa:aws:KubernetesPlatform");
    expect(cluster.inputs["name"]).toBe(p.cluster!.name);
    expect(cluster.inputs["version"]).toBe(p.cluster!.kubernetesVersion);
    expect(cluster.inputs["vpcConfig"]).toMatchObject({ subnetIds: SUBNETS, endpointPrivateAccess: true, endpointPublicAccess: false });
    expect(cluster.inputs["enabledClusterLogTypes"]).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    expect(cluster.inputs["accessConfig"]).toMatchObject({ authenticationMode: "API" });
    expect(cluster.inputs["deletionProtection"]).toBe(true);
    const secretsKey = single(resources, "aws:kms/key:Key", "shop-platform-secrets-key");
    expect(secretsKey.inputs["enableKeyRotation"]).toBe(true);
    expect(cluster.inputs["encryptionConfig"]).toEqual({ resources: ["secrets"], provider: { keyArn: secretsKey.outputs["arn"] } });
    // The cluster role may use exactly the secrets key, and nothing else from KMS.
    const keyPolicy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-platform-cluster-secrets-key"), "policy") as { Statement: { Resource: string }[] };
    expect(keyPolicy.Statement.map((s) => s.Resource)).toEqual([secretsKey.outputs["arn"]]);
    expect(single(resources, "aws:cloudwatch/logGroup:LogGroup").inputs).toMatchObject({ name: `/aws/eks/${p.cluster!.name}/cluster`, retentionInDays: 365 });
  });

  it("runs AL2023 nodes in private subnets with IMDSv2 only and encrypted disks, sized from the plan", async () => {
    const p = plan();
    const resources = await platform(p);
    const nodeGroup = single(resources, "aws:eks/nodeGroup:NodeGroup");
    expect(nodeGroup.inputs["subnetIds"]).toEqual(SUBNETS);
    expect(nodeGroup.inputs["amiType"]).toBe("AL2023_x86_64_STANDARD");
    expect(nodeGroup.inputs["instanceTypes"]).toEqual([p.cluster!.nodeInstanceType]);
    expect(nodeGroup.inputs["scalingConfig"]).toEqual({ minSize: p.cluster!.minNodes, desiredSize: p.cluster!.desiredNodes, maxSize: p.cluster!.maxNodes });
    const template = single(resources, "aws:ec2/launchTemplate:LaunchTemplate");
    expect(template.inputs["metadataOptions"]).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(template.inputs["blockDeviceMappings"]).toEqual([
      { deviceName: "/dev/xvda", ebs: { volumeSize: p.cluster!.nodeDiskGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
    ]);
    expect(nodeGroup.inputs["launchTemplate"]).toMatchObject({ id: template.outputs["id"] });
    const policies = byType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs["policyArn"]);
    expect(policies).toEqual(
      expect.arrayContaining([
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
      ]),
    );
    expect(single(resources, "aws:eks/addon:Addon", "shop-platform-pod-identity-agent").inputs["addonName"]).toBe("eks-pod-identity-agent");
    expect(amiTypeFor("m7g.large")).toBe("AL2023_ARM_64_STANDARD");
    expect(amiTypeFor("m6i.xlarge")).toBe("AL2023_x86_64_STANDARD");
  });

  it("enforces NetworkPolicies with the managed VPC CNI, taken over from the self-managed aws-node before any node joins", async () => {
    const resources = await platform(plan());
    const cni = single(resources, "aws:eks/addon:Addon", "shop-platform-vpc-cni");
    expect(cni.inputs).toMatchObject({ clusterName: "shop-prod", addonName: "vpc-cni", resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "OVERWRITE", preserve: true });
    expect(jsonInput(cni, "configurationValues")).toEqual({ enableNetworkPolicy: "true" });
    expect(single(resources, "aws:eks/nodeGroup:NodeGroup").dependsOn).toContain("shop-platform-vpc-cni");
  });

  it("creates a scanned, immutable, KMS-encrypted repository per service, protected in prod", async () => {
    const p = plan();
    const resources = await platform(p);
    const repositories = byType(resources, "aws:ecr/repository:Repository");
    expect(repositories.map((r) => r.inputs["name"])).toEqual(p.services.map((s) => s.repository));
    const registryKey = single(resources, "aws:kms/key:Key", "shop-platform-registry-key");
    for (const repository of repositories) {
      expect(repository.inputs).toMatchObject({ imageScanningConfiguration: { scanOnPush: true }, imageTagMutability: "IMMUTABLE", forceDelete: false });
      expect(repository.inputs["encryptionConfigurations"]).toEqual([{ encryptionType: "KMS", kmsKey: registryKey.outputs["arn"] }]);
      expect(repository.protect).toBe(true);
    }
    const lifecycle = byType(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy");
    expect(lifecycle).toHaveLength(repositories.length);
    expect(jsonInput(lifecycle[0]!, "policy")).toMatchObject({ rules: [{ selection: { countType: "imageCountMoreThan", countNumber: 30 }, action: { type: "expire" } }] });

    const dev = await platform(plan({ environment: "dev" }));
    expect(byType(dev, "aws:ecr/repository:Repository").every((r) => !r.protect)).toBe(true);
    expect(single(dev, "aws:eks/cluster:Cluster").inputs["vpcConfig"]).toMatchObject({ endpointPublicAccess: true });
  });

  it("installs the load balancer controller with its own pod identity and a TargetGroupBinding-only policy", async () => {
    const resources = await platform(plan());
    const provider = single(resources, "pulumi:providers:kubernetes");
    const kubeconfig = JSON.parse(provider.inputs["kubeconfig"] as string) as { users: { user: { exec: { command: string; args: string[] } } }[] };
    expect(kubeconfig.users[0]!.user.exec.command).toBe("aws");
    expect(kubeconfig.users[0]!.user.exec.args).toEqual(expect.arrayContaining(["eks", "get-token", "--cluster-name", "shop-prod"]));

    const controller = single(resources, "kubernetes:helm.sh/v3:Release", "shop-platform-lb-controller-aws-load-balancer-controller");
    expect(controller.provider).toBe("shop-platform-k8s");
    expect(controller.inputs).toMatchObject({
      chart: LOAD_BALANCER_CONTROLLER_CHART.chart,
      version: LOAD_BALANCER_CONTROLLER_CHART.version,
      repositoryOpts: { repo: LOAD_BALANCER_CONTROLLER_CHART.repository },
      namespace: "kube-system",
      values: { clusterName: "shop-prod", vpcId: "vpc-1", serviceAccount: { name: "aws-load-balancer-controller" } },
    });
    expect(controller.dependsOn).toEqual(expect.arrayContaining(["shop-platform-nodes", "shop-platform-lb-controller-identity"]));
    const identity = single(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation");
    expect(identity.inputs).toMatchObject({ namespace: "kube-system", serviceAccount: "aws-load-balancer-controller" });

    const policy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-platform-lb-controller-policy"), "policy") as { Statement: { Action: string[]; Resource: string }[] };
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions).toContain("elasticloadbalancing:RegisterTargets");
    expect(actions).not.toContain("elasticloadbalancing:CreateLoadBalancer");
    expect(actions.every((a) => !a.endsWith("*"))).toBe(true);
    const register = policy.Statement.find((s) => s.Action.includes("elasticloadbalancing:RegisterTargets"))!;
    expect(register.Resource).toBe("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/*/*");
  });

  it("applies the mesh and the workloads namespace after the controller, Helm releases before manifests", async () => {
    const resources = await platform(plan());
    const releases = byType(resources, "kubernetes:helm.sh/v3:Release");
    const istiod = releases.find((r) => r.inputs["chart"] === "istiod")!;
    expect(istiod.inputs).toMatchObject({ namespace: "istio-system", version: plan().mesh!.version, repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" } });
    expect(istiod.dependsOn).toContain("shop-platform-lb-controller-aws-load-balancer-controller");

    const groups = byType(resources, "kubernetes:yaml/v2:ConfigGroup");
    const mesh = groups.find((g) => g.name === "shop-platform-istio-manifests")!;
    expect((mesh.inputs["objs"] as { kind: string }[]).map((o) => o.kind)).toEqual(["PeerAuthentication"]);
    expect(mesh.dependsOn).toEqual(expect.arrayContaining(["shop-platform-istio-istio-base", "shop-platform-istio-istiod"]));

    const workloads = groups.find((g) => g.name === "shop-platform-workloads-manifests")!;
    expect((workloads.inputs["objs"] as { kind: string }[]).map((o) => o.kind)).toContain("Namespace");
    // The namespace add-on names istio in dependsOn, so it waits for the mesh's manifests too.
    expect(workloads.dependsOn).toContain("shop-platform-istio-manifests");
    expect(groups.every((g) => g.parent === "shop-platform" && g.provider === "shop-platform-k8s")).toBe(true);
  });

  it("rejects an add-on that depends on one it was not given, before registering anything", async () => {
    const p = plan();
    let error: unknown;
    const { resources } = await runProgram(() => {
      try {
        new KubernetesPlatform("bad", {
          ...kubernetesPlatformArgsFromPlan(p, { vpcId: "vpc-1", privateSubnetIds: SUBNETS }),
          addOns: [{ name: "logging", namespace: "logging", helmReleases: [], manifests: [], dependsOn: ["kafka"] }],
        });
      } catch (e) {
        error = e;
      }
    });
    expect(String(error)).toMatch(/addOns\["logging"\]\.dependsOn names "kafka".*Fix: add that add-on/);
    expect(resources).toEqual([]);
  });
});
