import { App, Stack, aws_ec2 as ec2, aws_lambda as lambda } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { KubernetesPlatform, LOAD_BALANCER_CONTROLLER, type KubernetesPlatformProps } from "../../lib/cdk/kubernetes-platform.js";
import type { AddOn } from "../../lib/kubernetes/types.js";

const ZONES = ["eu-west-1a", "eu-west-1b"];

/** A stack with a two-zone VPC; the prebuilt kubectl layer ARN keeps the 37 MB layer asset out of unit tests. */
function platformStack(props: Partial<KubernetesPlatformProps> = {}) {
  // Template checks here; the strict CloudFormation validation runs on the whole example in landing-zone.test.ts.
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, "Test", { env: { account: "111111111111", region: "eu-west-1" } });
  const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ZONES, natGateways: 1 });
  const platform = new KubernetesPlatform(stack, "Platform", {
    vpc,
    kubernetesVersion: "1.34",
    clusterName: "shop-dev",
    namespace: "shop",
    nodeInstanceType: "m6i.large",
    minNodes: 2,
    desiredNodes: 3,
    maxNodes: 6,
    nodeDiskGiB: 80,
    repositories: { orders: "shop-orders", payments: "shop-payments" },
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, "Layer", "arn:aws:lambda:eu-west-1:111111111111:layer:kubectl:1"),
    ...props,
  });
  return { app, stack, vpc, platform };
}

const istio: AddOn = {
  name: "istio",
  namespace: "istio-system",
  helmReleases: [
    { name: "istio-base", namespace: "istio-system", chart: "base", repository: "https://istio-release.storage.googleapis.com/charts", version: "1.27.3", values: {}, createNamespace: true },
    { name: "istiod", namespace: "istio-system", chart: "istiod", repository: "https://istio-release.storage.googleapis.com/charts", version: "1.27.3", values: { pilot: { replicaCount: 2 } }, createNamespace: true },
  ],
  manifests: [{ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "STRICT" } } }],
  dependsOn: [],
};

function resourcesOfType(template: Template, type: string): [string, { Properties: Record<string, unknown>; DependsOn?: string[]; DeletionPolicy?: string }][] {
  return Object.entries(template.findResources(type)) as [string, { Properties: Record<string, unknown>; DependsOn?: string[]; DeletionPolicy?: string }][];
}

function manifestText(template: Template): string {
  return JSON.stringify(resourcesOfType(template, "Custom::AWSCDK-EKS-KubernetesResource").map(([, r]) => r.Properties.Manifest));
}

describe("KubernetesPlatform", () => {
  let template: Template;
  let stack: Stack;
  let vpc: ec2.Vpc;

  beforeAll(() => {
    const built = platformStack({ addOns: [istio] });
    built.platform.addWorkloadIdentity("Reader", { name: "reader", namespace: "shop" });
    stack = built.stack;
    vpc = built.vpc;
    template = Template.fromStack(stack);
  });

  it("creates an EKS cluster with the version, every control-plane log type, KMS-encrypted secrets and a private endpoint", () => {
    template.hasResourceProperties("AWS::EKS::Cluster", {
      Name: "shop-dev",
      Version: "1.34",
      Logging: { ClusterLogging: { EnabledTypes: [{ Type: "api" }, { Type: "audit" }, { Type: "authenticator" }, { Type: "controllerManager" }, { Type: "scheduler" }] } },
      EncryptionConfig: [{ Provider: { KeyArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^PlatformSecretsKey"), "Arn"] } }, Resources: ["secrets"] }],
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
      ComputeConfig: { Enabled: false },
    });
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("puts the control plane and the AL2023 node group only in private subnets, sized from the props", () => {
    const privateSubnets = vpc.privateSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as ec2.CfnSubnet) }));
    template.hasResourceProperties("AWS::EKS::Cluster", { ResourcesVpcConfig: Match.objectLike({ SubnetIds: privateSubnets }) });
    template.hasResourceProperties("AWS::EKS::Nodegroup", {
      Subnets: privateSubnets,
      AmiType: "AL2023_x86_64_STANDARD",
      InstanceTypes: ["m6i.large"],
      ScalingConfig: { MinSize: 2, DesiredSize: 3, MaxSize: 6 },
    });
    expect(resourcesOfType(template, "AWS::EKS::Nodegroup")).toHaveLength(1);
  });

  it("launches nodes with IMDSv2 only, one hop (pods cannot reach the node role) and an encrypted gp3 root volume of the props' size", () => {
    const [[templateId, launchTemplate]] = resourcesOfType(template, "AWS::EC2::LaunchTemplate") as [[string, { Properties: { LaunchTemplateData: Record<string, unknown> } }]];
    expect(launchTemplate.Properties.LaunchTemplateData).toMatchObject({
      MetadataOptions: { HttpEndpoint: "enabled", HttpTokens: "required", HttpPutResponseHopLimit: 1 },
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 80, VolumeType: "gp3", Encrypted: true, DeleteOnTermination: true } }],
    });
    const [[, nodegroup]] = resourcesOfType(template, "AWS::EKS::Nodegroup");
    // EKS rejects a node group's disk size beside a launch template: the size is the template's.
    expect(nodegroup.Properties.DiskSize).toBeUndefined();
    expect(nodegroup.Properties.LaunchTemplate).toEqual({ Id: { Ref: templateId }, Version: { "Fn::GetAtt": [templateId, "LatestVersionNumber"] } });
  });

  it("enforces NetworkPolicies with the managed VPC CNI, taken over from the self-managed aws-node before any node joins", () => {
    const [[cniId, cni]] = resourcesOfType(template, "AWS::EKS::Addon").filter(([, r]) => r.Properties.AddonName === "vpc-cni");
    expect(JSON.parse(cni.Properties.ConfigurationValues as string)).toEqual({ enableNetworkPolicy: "true" });
    expect(cni.Properties).toMatchObject({ ResolveConflicts: "OVERWRITE", PreserveOnDelete: true });
    const [[, nodegroup]] = resourcesOfType(template, "AWS::EKS::Nodegroup");
    expect(nodegroup.DependsOn).toContain(cniId);
  });

  it("creates one scanned, immutable, KMS-encrypted ECR repository per service keeping the last 30 images", () => {
    const repositories = resourcesOfType(template, "AWS::ECR::Repository");
    expect(repositories.map(([, r]) => r.Properties.RepositoryName).sort()).toEqual(["shop-orders", "shop-payments"]);
    for (const [, repository] of repositories) {
      expect(repository.Properties).toMatchObject({
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: "IMMUTABLE",
        EncryptionConfiguration: { EncryptionType: "KMS" },
      });
      expect(JSON.parse((repository.Properties.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText).rules[0].selection).toMatchObject({ countType: "imageCountMoreThan", countNumber: 30 });
      expect(repository.DeletionPolicy).toBe("Delete");
    }
  });

  it("installs the Pod Identity Agent and the Load Balancer Controller with its pod identity and upstream policy", () => {
    template.hasResourceProperties("AWS::EKS::Addon", { AddonName: "eks-pod-identity-agent" });
    const [, controller] = resourcesOfType(template, "Custom::AWSCDK-EKS-HelmChart").find(([, r]) => r.Properties.Chart === LOAD_BALANCER_CONTROLLER.chart)!;
    expect(controller.Properties).toMatchObject({ Version: "3.2.2", Namespace: "kube-system", Repository: "https://aws.github.io/eks-charts" });
    expect(JSON.stringify(controller.Properties.Values)).toContain('\\"serviceAccount\\":{\\"create\\":false,\\"name\\":\\"aws-load-balancer-controller\\"}');
    template.hasResourceProperties("AWS::EKS::PodIdentityAssociation", { Namespace: "kube-system", ServiceAccount: "aws-load-balancer-controller" });
    // Pod Identity injects credentials only into pods created after the association; the chart uses the ServiceAccount made beside it.
    const identityParts = (type: string) => resourcesOfType(template, type).filter(([id]) => id.startsWith("PlatformLoadBalancerControllerIdentity")).map(([id]) => id);
    const [association] = identityParts("AWS::EKS::PodIdentityAssociation");
    const [serviceAccount] = identityParts("Custom::AWSCDK-EKS-KubernetesResource");
    expect(controller.DependsOn).toEqual(expect.arrayContaining([association, serviceAccount]));
    const policies = JSON.stringify(template.findResources("AWS::IAM::Policy"));
    expect(policies).toContain("elasticloadbalancing:RegisterTargets");
    expect(policies).toContain("arn:");
  });

  it("applies the workloads namespace", () => {
    expect(manifestText(template)).toMatch(/\\"kind\\":\\"Namespace\\",\\"metadata\\":\{\\"name\\":\\"shop\\"/);
  });

  it("gives workload identities a role only EKS Pod Identity can assume, with session tags", () => {
    template.hasResourceProperties("AWS::EKS::PodIdentityAssociation", { Namespace: "shop", ServiceAccount: "reader" });
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: ["sts:AssumeRole", "sts:TagSession"], Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" } }],
      },
      Description: "EKS Pod Identity of shop/reader",
    });
  });

  it("installs an add-on's Helm releases in order, pinned, then its manifests", () => {
    const charts = resourcesOfType(template, "Custom::AWSCDK-EKS-HelmChart");
    const base = charts.find(([, r]) => r.Properties.Chart === "base")!;
    const istiod = charts.find(([, r]) => r.Properties.Chart === "istiod")!;
    expect(base[1].Properties).toMatchObject({ Version: "1.27.3", Namespace: "istio-system", CreateNamespace: true });
    expect(istiod[1].DependsOn).toContain(base[0]);
    const peerAuthentication = resourcesOfType(template, "Custom::AWSCDK-EKS-KubernetesResource").find(([, r]) => JSON.stringify(r.Properties.Manifest).includes("PeerAuthentication"))!;
    expect(peerAuthentication[1].DependsOn).toContain(istiod[0]);
  });
});

describe("KubernetesPlatform options", () => {
  it("opens a public endpoint only when privateEndpoint is false, and picks the ARM AMI for Graviton nodes", () => {
    const { stack } = platformStack({ privateEndpoint: false, nodeInstanceType: "m7g.large" });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::EKS::Cluster", { ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: true }) });
    template.hasResourceProperties("AWS::EKS::Nodegroup", { AmiType: "AL2023_ARM_64_STANDARD" });
  });

  it("retains the repositories and the secrets key when retain is set", () => {
    const template = Template.fromStack(platformStack({ retain: true }).stack);
    for (const [, repository] of resourcesOfType(template, "AWS::ECR::Repository")) expect(repository.DeletionPolicy).toBe("Retain");
    template.hasResource("AWS::KMS::Key", { DeletionPolicy: "Retain" });
  });

  it("orders add-ons by dependsOn and rejects unknown dependencies", () => {
    const tracing: AddOn = { name: "tracing", namespace: "observability", helmReleases: [], manifests: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "observability" } }], dependsOn: ["istio"] };
    const { stack } = platformStack({ addOns: [tracing, istio] });
    const template = Template.fromStack(stack);
    const tracingManifest = resourcesOfType(template, "Custom::AWSCDK-EKS-KubernetesResource").find(([id]) => id.startsWith("PlatformTracingAddOn"))!;
    const istiod = resourcesOfType(template, "Custom::AWSCDK-EKS-HelmChart").find(([, r]) => r.Properties.Chart === "istiod")!;
    expect(tracingManifest[1].DependsOn).toContain(istiod[0]);

    expect(() => platformStack().platform.addAddOn("Tracing", tracing)).toThrow(
      'addAddOn("Tracing"): add-on "tracing" depends on "istio", which is not applied to this cluster yet. Fix: apply "istio" first',
    );
  });

  it("makes a service account wait for the add-on that creates its namespace", () => {
    const { stack, platform } = platformStack();
    platform.addWorkloadIdentity("LogstashIdentity", { name: "logstash", namespace: "logging" });
    platform.addAddOn("Logging", { name: "log-pipeline", namespace: "logging", helmReleases: [], manifests: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "logging" } }], dependsOn: [] });
    const manifests = resourcesOfType(Template.fromStack(stack), "Custom::AWSCDK-EKS-KubernetesResource");
    const serviceAccount = manifests.find(([id]) => id.startsWith("PlatformLogstashIdentityServiceAccount"))!;
    const logging = manifests.find(([id]) => id.startsWith("PlatformLoggingManifests"))!;
    expect(serviceAccount[1].DependsOn).toContain(logging[0]);
  });

  it("rejects bad props with the prop, the value and the fix", () => {
    expect(() => platformStack({ kubernetesVersion: "v1" })).toThrow('kubernetesVersion "v1" is not a minor version. Fix: use a value such as "1.34"');
    expect(() => platformStack({ minNodes: 4, desiredNodes: 2, maxNodes: 6 })).toThrow("minNodes 4, desiredNodes 2, maxNodes 6 are not ordered");
  });
});

describe("KubernetesPlatform.fromPlatformAttributes", () => {
  function imported(attrs: { kubectlRoleArn?: string; workloadSecurityGroupId?: string } = {}) {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), "Service", { env: { account: "111111111111", region: "eu-west-1" } });
    const target = KubernetesPlatform.fromPlatformAttributes(stack, "Platform", { clusterName: "shop-dev", kubectlServiceToken: "arn:aws:lambda:eu-west-1:111111111111:function:kubectl", namespace: "shop", ...attrs });
    return { stack, target };
  }

  it("applies manifests through the imported kubectl provider, in the importing stack", () => {
    const { stack, target } = imported();
    target.addManifests("Config", [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "shop" } }]);
    Template.fromStack(stack).hasResourceProperties("Custom::AWSCDK-EKS-KubernetesResource", {
      ServiceToken: "arn:aws:lambda:eu-west-1:111111111111:function:kubectl",
      ClusterName: "shop-dev",
    });
  });

  it("installs repository Helm charts through the imported provider alone, and says when the security group is missing", () => {
    const { stack, target } = imported();
    target.addAddOn("Istio", istio);
    // aws-eks-v2 needs the provider's role only to read charts packaged as assets.
    const charts = Template.fromStack(stack).findResources("Custom::AWSCDK-EKS-HelmChart");
    expect(Object.values(charts).map((c) => c.Properties.ServiceToken)).toEqual(istio.helmReleases.map(() => "arn:aws:lambda:eu-west-1:111111111111:function:kubectl"));
    expect(() => target.workloadSecurityGroup).toThrow("workloadSecurityGroupId is undefined");
    expect(imported({ workloadSecurityGroupId: "sg-123" }).target.workloadSecurityGroup.securityGroupId).toBe("sg-123");
  });
});
