import { App, RemovalPolicy, Stack, aws_ec2 as ec2, aws_iam as iam, aws_lambda as lambda } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { KubernetesPlatform } from "../../lib/cdk/kubernetes-platform.js";
import type { IKubernetesTarget, WorkloadIdentity, WorkloadIdentityOptions } from "../../lib/cdk/kubernetes-target.js";
import { LogPipeline, type LogPipelineProps } from "../../lib/cdk/log-pipeline.js";
import { LOG_BUFFER_SECRET } from "../../lib/kubernetes/log-pipeline.js";
import { SECRETS_MOUNT_PATH, secretsStoreAddOn } from "../../lib/kubernetes/secrets-store.js";
import type { AddOn, ManifestObject } from "../../lib/kubernetes/types.js";
import { planLandingZone } from "../../lib/plan/planner.js";

const ZONES = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"];

/** Records what the construct asks of a cluster; identities get real roles so IAM can be checked. */
class RecordingTarget extends Construct implements IKubernetesTarget {
  readonly workloadSecurityGroup: ec2.SecurityGroup;
  readonly addOns: { id: string; addOn: AddOn; construct: Construct }[] = [];
  readonly manifests: { id: string; manifests: readonly ManifestObject[]; construct: Construct }[] = [];
  readonly identities: (WorkloadIdentity & { id: string; createServiceAccount: boolean; construct: Construct })[] = [];

  constructor(scope: Construct, id: string, vpc: ec2.IVpc) {
    super(scope, id);
    this.workloadSecurityGroup = new ec2.SecurityGroup(this, "Workloads", { vpc });
  }

  addAddOn(id: string, addOn: AddOn): Construct {
    const construct = new Construct(this, id);
    this.addOns.push({ id, addOn, construct });
    return construct;
  }

  addManifests(id: string, manifests: readonly ManifestObject[]): Construct {
    const construct = new Construct(this, id);
    this.manifests.push({ id, manifests, construct });
    return construct;
  }

  addWorkloadIdentity(id: string, options: WorkloadIdentityOptions): WorkloadIdentity {
    // Like KubernetesPlatform: one construct per identity holding its role (and association).
    const construct = new Construct(this, id);
    const role = new iam.Role(construct, "Role", { assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com") });
    const identity = { serviceAccountName: options.name, namespace: options.namespace, role };
    this.identities.push({ id, ...identity, createServiceAccount: options.createServiceAccount ?? true, construct });
    return identity;
  }
}

interface Fixture {
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly target: RecordingTarget;
  readonly pipeline: LogPipeline;
  readonly template: Template;
}

function plan(environment: "dev" | "prod" = "dev", buffer: "redis" | "none" = "redis") {
  return planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", tier: "caas", environment, logging: { buffer } });
}

function synth(props: Partial<LogPipelineProps> = {}, withTarget = true): Fixture {
  const app = new App({ context: { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true } });
  const stack = new Stack(app, "LogStack", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const vpc = new ec2.Vpc(stack, "Vpc", {
    availabilityZones: ZONES,
    natGateways: 1,
    subnetConfiguration: [
      { name: "Public", subnetType: ec2.SubnetType.PUBLIC },
      { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: "Isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const target = new RecordingTarget(stack, "Platform", vpc);
  const pipeline = new LogPipeline(stack, "Logs", { vpc, ...(withTarget ? { target, plan: plan() } : {}), ...props });
  const template = Template.fromStack(stack);
  app.synth();
  return { stack, vpc, target, pipeline, template };
}

describe("LogPipeline", () => {
  const { stack, vpc, target, pipeline, template } = synth();
  const domainArn = () => stack.resolve(pipeline.domain.domainArn);
  const domainResources = () => [domainArn(), { "Fn::Join": ["", [domainArn(), "/*"]] }];

  it("runs an OpenSearch domain in one isolated subnet, encrypted, HTTPS with TLS 1.2 only", () => {
    template.resourceCountIs("AWS::OpenSearchService::Domain", 1);
    template.hasResourceProperties("AWS::OpenSearchService::Domain", {
      EngineVersion: "OpenSearch_2.19",
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
      VPCOptions: { SubnetIds: [stack.resolve(vpc.isolatedSubnets[0]!.subnetId)], SecurityGroupIds: [Match.anyValue()] },
      EBSOptions: { EBSEnabled: true, VolumeType: "gp3", VolumeSize: 20 },
      ClusterConfig: Match.objectLike({ InstanceCount: 1, InstanceType: "t3.medium.search", DedicatedMasterEnabled: false, ZoneAwarenessEnabled: false }),
      AdvancedSecurityOptions: Match.absent(),
    });
  });

  it("publishes slow-search, slow-index and application logs", () => {
    template.hasResourceProperties("AWS::OpenSearchService::Domain", {
      LogPublishingOptions: {
        SEARCH_SLOW_LOGS: Match.objectLike({ Enabled: true }),
        INDEX_SLOW_LOGS: Match.objectLike({ Enabled: true }),
        ES_APPLICATION_LOGS: Match.objectLike({ Enabled: true }),
      },
    });
    template.resourcePropertiesCountIs("AWS::Logs::LogGroup", { RetentionInDays: 30 }, 3);
  });

  it("spreads nodes and dedicated masters over zones when asked", () => {
    const { template: prod, stack: prodStack, vpc: prodVpc } = synth(
      { zoneAwareness: true, instanceCount: 3, dedicatedMasters: 3, instanceType: "r6g.large.search", volumeGiB: 100 },
      false,
    );
    prod.hasResourceProperties("AWS::OpenSearchService::Domain", {
      ClusterConfig: Match.objectLike({
        InstanceCount: 3,
        InstanceType: "r6g.large.search",
        DedicatedMasterEnabled: true,
        DedicatedMasterCount: 3,
        DedicatedMasterType: "m6g.large.search",
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 3 },
        MultiAZWithStandbyEnabled: false,
      }),
      VPCOptions: { SubnetIds: prodVpc.isolatedSubnets.map((s) => prodStack.resolve(s.subnetId)), SecurityGroupIds: [Match.anyValue()] },
    });
  });

  const statementsOf = (roleIdPrefix: string) =>
    Object.values(template.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${roleIdPrefix}`) }] } })).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
  const readToken = () => ({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: stack.resolve(pipeline.buffer!.authToken.secretArn) });

  it("gives Logstash a workload identity allowed only to GET/POST/PUT on the domain and to read the buffer's token", () => {
    expect(target.identities.map(({ id, serviceAccountName, namespace }) => ({ id, serviceAccountName, namespace }))).toEqual([
      { id: "LogstashIdentity", serviceAccountName: "logstash", namespace: "logging" },
      { id: "ShipperIdentity", serviceAccountName: "filebeat", namespace: "logging" },
    ]);
    expect(pipeline.logstashRole).toBe(target.identities[0]!.role);
    expect(statementsOf("PlatformLogstashIdentity")).toEqual([{ Effect: "Allow", Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"], Resource: domainResources() }, readToken()]);
    // The add-on creates Logstash's ServiceAccount, and its pods start only once the association exists.
    const logstash = target.identities[0]!;
    expect(logstash.createServiceAccount).toBe(false);
    expect(target.addOns[0]!.construct.node.dependencies).toContain(logstash.construct);
  });

  it("gives Filebeat its own Pod Identity on the ServiceAccount the add-on creates, allowed only to read the buffer's token", () => {
    const shipper = target.identities.find((i) => i.id === "ShipperIdentity")!;
    expect(shipper.createServiceAccount).toBe(false);
    expect(statementsOf("PlatformShipperIdentity")).toEqual([readToken()]);
    expect(readToken().Resource).toEqual({ Ref: expect.stringMatching(/^LogsBufferAuthToken/) });
    // The token has no customer key, so no KMS grant either.
    expect(JSON.stringify(template.findResources("AWS::IAM::Policy"))).not.toContain("kms:");
    // Pod Identity reaches only pods created after the association.
    expect(target.addOns[0]!.construct.node.dependencies).toContain(shipper.construct);
  });

  it("restricts the domain's resource policy to the Logstash role, with no '*' principal", () => {
    const [policy] = Object.values(template.findResources("Custom::OpenSearchAccessPolicy")) as { Properties: { Update: unknown } }[];
    const update = JSON.stringify(stack.resolve(policy!.Properties.Update));
    expect(update).toContain("es:ESHttpGet");
    expect(update).toContain(Object.keys(template.findResources("AWS::IAM::Role", { Properties: { AssumeRolePolicyDocument: Match.objectLike({}) } })).find((id) => id.startsWith("PlatformLogstashIdentity"))!);
    expect(update).not.toMatch(/\\"Principal\\":\{\\"AWS\\":\\"\*\\"\}|\\"Principal\\":\\"\*\\"/);
    expect(update).not.toContain("es:*");
  });

  it("admits only the cluster's workloads: HTTPS to the domain, Redis to the buffer", () => {
    const ingress = Object.values(template.findResources("AWS::EC2::SecurityGroupIngress")).map((r) => (r as { Properties: Record<string, unknown> }).Properties);
    const workloads = stack.resolve(target.workloadSecurityGroup.securityGroupId);
    expect(ingress).toHaveLength(2);
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ FromPort: 443, ToPort: 443, SourceSecurityGroupId: workloads, GroupId: stack.resolve(pipeline.domain.connections.securityGroups[0]!.securityGroupId) }),
        expect.objectContaining({ FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: workloads, GroupId: stack.resolve(pipeline.buffer!.securityGroup.securityGroupId) }),
      ]),
    );
  });

  it("buffers logs in its own TLS Redis in the isolated subnets, without snapshots", () => {
    template.resourceCountIs("AWS::ElastiCache::ReplicationGroup", 1);
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: "required",
      AtRestEncryptionEnabled: true,
      SnapshotRetentionLimit: 0,
    });
    template.hasResourceProperties("AWS::ElastiCache::SubnetGroup", { SubnetIds: vpc.isolatedSubnets.map((s) => stack.resolve(s.subnetId)) });
  });

  it("applies the log-pipeline add-on with the domain and buffer endpoints as deploy-time values", () => {
    expect(target.addOns.map((a) => a.id)).toEqual(["LogPipelineAddOn"]);
    const rendered = JSON.stringify(stack.resolve(target.addOns[0]!.addOn));
    expect(rendered).not.toContain("late-bound");
    expect(rendered).toContain("DomainEndpoint");
    expect(rendered).toContain("PrimaryEndPoint.Address");
    expect(rendered).toContain(LOG_BUFFER_SECRET);
    expect(target.addOns[0]!.addOn.namespace).toBe("logging");
  });

  it("hands the cluster only the buffer token's ARN: a SecretProviderClass read with Pod Identity, never a value or a dynamic reference", () => {
    expect(target.manifests).toEqual([]);
    const manifests = target.addOns[0]!.addOn.manifests;
    expect(manifests.filter((m) => m.kind === "Secret")).toEqual([]);
    expect(JSON.stringify(stack.resolve(target.addOns.map((a) => a.addOn)))).not.toContain("{{resolve:");
    const spc = manifests.find((m) => m.kind === "SecretProviderClass") as unknown as { metadata: { name: string; namespace: string }; spec: { parameters: { usePodIdentity: string; objects: string }; secretObjects: unknown[] } };
    expect(spc.metadata).toMatchObject({ name: LOG_BUFFER_SECRET, namespace: "logging" });
    expect(spc.spec.parameters.usePodIdentity).toBe("true");
    expect(stack.resolve(spc.spec.parameters.objects)).toEqual({
      "Fn::Join": ["", ['[{"objectName":"', { Ref: expect.stringMatching(/^LogsBufferAuthToken/) }, '","objectType":"secretsmanager","objectAlias":"password"}]']],
    });
    expect(spc.spec.secretObjects).toEqual([expect.objectContaining({ secretName: LOG_BUFFER_SECRET, data: [{ objectName: "password", key: "password" }] })]);
  });

  it("mounts the class in both Logstash and Filebeat, which read REDIS_PASSWORD from its mirror", () => {
    const manifests = target.addOns[0]!.addOn.manifests as unknown as { kind: string; spec: { template: { spec: { volumes: unknown[]; containers: { env: unknown[]; volumeMounts: unknown[] }[] } } } }[];
    const pods = ["Deployment", "DaemonSet"].map((kind) => manifests.find((m) => m.kind === kind)!.spec.template.spec);
    for (const pod of pods) {
      expect(pod.volumes).toContainEqual({ name: "buffer-password", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: LOG_BUFFER_SECRET } } });
      expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: "buffer-password", mountPath: SECRETS_MOUNT_PATH, readOnly: true });
      expect(pod.containers[0]!.env).toContainEqual({ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: LOG_BUFFER_SECRET, key: "password" } } });
    }
  });

  it("on a platform built in the same stack, waits for the Secrets Store add-on and leaves no dynamic reference in any kubectl manifest", () => {
    const build = (addOns: readonly ReturnType<typeof secretsStoreAddOn>[]) => {
      const app = new App({ builtinCloudFormationValidation: false });
      const platformStack = new Stack(app, "Cluster", { env: { account: "111111111111", region: "ap-northeast-2" } });
      const clusterVpc = new ec2.Vpc(platformStack, "Vpc", {
        availabilityZones: ZONES.slice(0, 2),
        natGateways: 1,
        subnetConfiguration: [
          { name: "Public", subnetType: ec2.SubnetType.PUBLIC },
          { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          { name: "Isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        ],
      });
      const platform = new KubernetesPlatform(platformStack, "Platform", {
        vpc: clusterVpc,
        kubernetesVersion: "1.34",
        namespace: "shop",
        addOns,
        kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(platformStack, "Layer", "arn:aws:lambda:ap-northeast-2:111111111111:layer:kubectl:1"),
      });
      new LogPipeline(platformStack, "Logs", { vpc: clusterVpc, target: platform, plan: plan() });
      return { platform, platformStack };
    };
    expect(() => build([])).toThrow(/add-on "log-pipeline" depends on "secrets-store", which is not applied to this cluster yet. Fix: apply "secrets-store" first/);
    const { platform, platformStack } = build([secretsStoreAddOn()]);
    const addOn = platform.node.findChild("LogPipelineAddOn");
    expect(addOn.node.dependencies).toContain(platform.node.findChild("SecretsStoreAddOn"));
    const synthesized = Template.fromStack(platformStack);
    const manifests = Object.values(synthesized.findResources("Custom::AWSCDK-EKS-KubernetesResource")).map((r) => JSON.stringify((r as { Properties: { Manifest: unknown } }).Properties.Manifest));
    expect(manifests.some((m) => m.includes("SecretProviderClass") && m.includes("LogsBufferAuthToken"))).toBe(true);
    expect(manifests.filter((m) => m.includes("{{resolve:"))).toEqual([]);
  });

  it("retains the domain, buffer and logs by default and deletes them when asked", () => {
    template.hasResource("AWS::OpenSearchService::Domain", { DeletionPolicy: "Retain" });
    template.hasResource("AWS::ElastiCache::ReplicationGroup", { DeletionPolicy: "Retain" });
    template.allResources("AWS::Logs::LogGroup", { DeletionPolicy: "Retain" });
    const { template: disposable } = synth({ removalPolicy: RemovalPolicy.DESTROY }, false);
    disposable.hasResource("AWS::OpenSearchService::Domain", { DeletionPolicy: "Delete" });
    disposable.hasResource("AWS::ElastiCache::ReplicationGroup", { DeletionPolicy: "Delete" });
    disposable.allResources("AWS::Logs::LogGroup", { DeletionPolicy: "Delete" });
  });

  it("works without a cluster or a buffer", () => {
    const { template: bare, pipeline: barePipeline } = synth({ buffer: false }, false);
    bare.resourceCountIs("AWS::ElastiCache::ReplicationGroup", 0);
    bare.resourceCountIs("Custom::OpenSearchAccessPolicy", 0);
    expect(barePipeline.logstashRole).toBeUndefined();
    expect(barePipeline.buffer).toBeUndefined();
  });

  it("keeps logical IDs stable", () => {
    expect(Object.keys(template.findResources("AWS::OpenSearchService::Domain"))).toEqual(["LogsDomain77F2F6D2"]);
    expect(Object.keys(template.findResources("AWS::ElastiCache::ReplicationGroup"))).toEqual(["LogsBuffer2815C5B2"]);
  });

  it.each<[string, Partial<LogPipelineProps>, boolean, RegExp]>([
    ["a target without a plan", { plan: undefined }, true, /target is given but plan is undefined/],
    ["no buffer where the plan has one", { buffer: false }, true, /buffer is false but plan.logging.buffer asks for a Redis buffer/],
    ["a buffer where the plan has none", { plan: plan("dev", "none") }, true, /plan.logging.buffer is undefined but a buffer is created/],
    ["data nodes uneven over zones", { zoneAwareness: true, instanceCount: 4 }, false, /instanceCount is 4 over 3 zones. Fix: use a multiple of 3/],
  ])("rejects %s", (_case, props, withTarget, message) => {
    expect(() => synth(props, withTarget)).toThrow(message);
  });
});
