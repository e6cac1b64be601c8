import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { LOG_BUFFER_SECRET } from "../../../lib/kubernetes/log-pipeline.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { LogPipeline, type LogPipelineArgs } from "../../../lib/pulumi/aws/log-pipeline.js";
import { byType, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

const ISOLATED = ["subnet-iso-a", "subnet-iso-b", "subnet-iso-c"];

function plan(environment: "dev" | "prod", buffer: "redis" | "none" = "redis") {
  return planLandingZone({ name: "shop", region: "us-east-1", environment, logging: { buffer } });
}

async function pipeline(environment: "dev" | "prod", overrides: Partial<LogPipelineArgs> = {}): Promise<RegisteredResource[]> {
  const { resources } = await runProgram(() => {
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    new LogPipeline("logs", {
      plan: plan(environment),
      vpcId: "vpc-1",
      subnetIds: ISOLATED,
      cluster: { clusterName: "shop-prod", provider, workloadSecurityGroupId: "sg-pods" },
      ...overrides,
    });
  });
  return resources;
}

type ConfigGroupObjects = { kind: string; metadata: { name: string; namespace?: string }; stringData?: Record<string, string> }[];

describe("LogPipeline (Pulumi, AWS)", () => {
  it("keeps the domain private, encrypted at rest and in transit, spread over the plan's zones", async () => {
    const resources = await pipeline("prod");
    const domain = single(resources, "aws:opensearch/domain:Domain");
    const key = single(resources, "aws:kms/key:Key", "logs-key");
    expect(domain.parent).toBe("logs");
    expect(domain.inputs).toMatchObject({
      domainName: "shop-prod-logs",
      engineVersion: "OpenSearch_2.19",
      encryptAtRest: { enabled: true, kmsKeyId: key.outputs["arn"] },
      nodeToNodeEncryption: { enabled: true },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-PFS-2023-10" },
      vpcOptions: { subnetIds: ISOLATED, securityGroupIds: ["sg-logs-domain-sg"] },
      clusterConfig: { instanceCount: 3, zoneAwarenessEnabled: true, zoneAwarenessConfig: { availabilityZoneCount: 3 }, dedicatedMasterEnabled: true, dedicatedMasterCount: 3 },
    });
    const logTypes = (domain.inputs["logPublishingOptions"] as { logType: string }[]).map((o) => o.logType);
    expect(logTypes).toEqual(["INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS"]);
    const https = single(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "logs-domain-https");
    expect(https.inputs).toMatchObject({ referencedSecurityGroupId: "sg-pods", fromPort: 443, toPort: 443 });
  });

  it("admits only Logstash's Pod Identity role to the domain, with the three write actions", async () => {
    const resources = await pipeline("dev");
    const role = single(resources, "aws:iam/role:Role", "logs-logstash-role");
    expect(jsonInput(role, "assumeRolePolicy")).toMatchObject({ Statement: [{ Principal: { Service: "pods.eks.amazonaws.com" } }] });
    const domainArn = "arn:aws:es:us-east-1:123456789012:domain/shop-dev-logs";
    const actions = ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"];
    expect(jsonInput(single(resources, "aws:opensearch/domain:Domain"), "accessPolicies")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: role.outputs["arn"] }, Action: actions, Resource: [domainArn, `${domainArn}/*`] }],
    });
    const tokenArn = single(resources, "aws:secretsmanager/secret:Secret", "logs-buffer-auth-token").outputs["arn"];
    expect(jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "logs-logstash-policy"), "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: actions, Resource: [domainArn, `${domainArn}/*`] },
        { Sid: "ReadBufferToken", Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: [tokenArn] },
      ],
    });
    expect(single(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "logs-logstash-identity").inputs).toMatchObject({ namespace: "logging", serviceAccount: "logstash", roleArn: role.outputs["arn"] });
    // The shippers' own role reads the buffer's token and nothing else; the domain does not admit it.
    const shipper = single(resources, "aws:iam/role:Role", "logs-shipper-role");
    expect(jsonInput(shipper, "assumeRolePolicy")).toMatchObject({ Statement: [{ Principal: { Service: "pods.eks.amazonaws.com" } }] });
    expect(jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "logs-shipper-policy"), "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [{ Sid: "ReadBufferToken", Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: [tokenArn] }],
    });
    expect(single(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "logs-shipper-identity").inputs).toMatchObject({ namespace: "logging", serviceAccount: "filebeat", roleArn: shipper.outputs["arn"] });
  });

  it("buffers through a TLS Redis in the isolated subnets, whose token the pods read with their own identities", async () => {
    const resources = await pipeline("dev");
    const buffer = single(resources, "msa:aws:ManagedRedis");
    expect(buffer.parent).toBe("logs");
    expect(single(resources, "aws:elasticache/replicationGroup:ReplicationGroup").inputs).toMatchObject({ transitEncryptionEnabled: true, snapshotRetentionLimit: 0 });
    expect(single(resources, "aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"]).toEqual(ISOLATED);

    // No token value passes through Pulumi into the cluster: a SecretProviderClass mirrors it, read with the pods' own identities.
    expect(byType(resources, "kubernetes:yaml/v2:ConfigGroup").map((g) => g.name)).not.toContain("logs-buffer-secret");
    const tokenArn = single(resources, "aws:secretsmanager/secret:Secret", "logs-buffer-auth-token").outputs["arn"];
    const rest = single(resources, "kubernetes:yaml/v2:ConfigGroup", "logs-manifests");
    expect(rest.dependsOn).toEqual(expect.arrayContaining(["logs-namespace", "logs-logstash-identity", "logs-shipper-identity"]));
    const objects = rest.inputs["objs"] as ConfigGroupObjects;
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(["DaemonSet", "Deployment", "ConfigMap", "NetworkPolicy", "SecretProviderClass"]));
    const provider = objects.find((o) => o.kind === "SecretProviderClass") as unknown as { metadata: { name: string; namespace: string }; spec: { parameters: { objects: string; usePodIdentity: string } } };
    expect(provider.metadata).toMatchObject({ name: LOG_BUFFER_SECRET, namespace: "logging" });
    expect(provider.spec.parameters.usePodIdentity).toBe("true");
    expect(JSON.parse(provider.spec.parameters.objects)).toEqual([{ objectName: tokenArn, objectType: "secretsmanager", objectAlias: "password" }]);
    // Logstash and the shippers both mount the class, which keeps the mirrored Secret in place.
    const mounting = objects.filter((o) => JSON.stringify(o).includes(`"secretProviderClass":"${LOG_BUFFER_SECRET}"`)).map((o) => o.kind);
    expect(mounting.sort()).toEqual(["DaemonSet", "Deployment"]);
    const pipelineConfig = JSON.stringify(objects.filter((o) => o.kind === "ConfigMap"));
    expect(pipelineConfig).toContain("master.logs-buffer-redis.abc123.use1.cache.amazonaws.com");
    expect(pipelineConfig).toContain("vpc-shop-dev-logs-abc123.us-east-1.es.amazonaws.com");
    expect(JSON.stringify(objects)).not.toContain("mock-password");
  });

  it("retains and protects the domain, its key and its logs in prod, and not in dev", async () => {
    const stateful = (resources: RegisteredResource[]) => [
      single(resources, "aws:opensearch/domain:Domain"),
      single(resources, "aws:kms/key:Key", "logs-key"),
      ...byType(resources, "aws:cloudwatch/logGroup:LogGroup"),
    ];
    expect(stateful(await pipeline("prod")).every((r) => r.protect && r.retainOnDelete)).toBe(true);
    expect(stateful(await pipeline("dev")).some((r) => r.protect || r.retainOnDelete)).toBe(false);
  });

  it("works without a buffer: shippers send straight to Logstash", async () => {
    const { resources } = await runProgram(() => {
      const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
      new LogPipeline("logs", { plan: plan("dev", "none"), vpcId: "vpc-1", subnetIds: ISOLATED, cluster: { clusterName: "c", provider, workloadSecurityGroupId: "sg-pods" } });
    });
    expect(byType(resources, "msa:aws:ManagedRedis")).toEqual([]);
    expect(byType(resources, "aws:iam/role:Role").map((r) => r.name)).toEqual(["logs-logstash-role"]);
    const logstashPolicy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "logs-logstash-policy"), "policy");
    expect(JSON.stringify(logstashPolicy)).not.toContain("secretsmanager");
  });

  it("rejects a plan without logging and uneven zone spreads before registering anything", async () => {
    const provider = { clusterName: "c", workloadSecurityGroupId: "sg" };
    const noLogging = planLandingZone({ name: "shop", logging: { stack: "none", buffer: "none" } });
    await expect(
      runProgram(() => {
        new LogPipeline("logs", { plan: noLogging, vpcId: "v", subnetIds: ISOLATED, cluster: { ...provider, provider: new k8s.Provider("p", { kubeconfig: "{}" }) } });
      }),
    ).rejects.toThrow(/plan.logging is undefined. Fix: set logging.stack: elk/);
    await expect(
      runProgram(() => {
        new LogPipeline("logs", { plan: plan("prod"), vpcId: "v", subnetIds: ISOLATED.slice(0, 2), cluster: { ...provider, provider: new k8s.Provider("p", { kubeconfig: "{}" }) } });
      }),
    ).rejects.toThrow(/instanceCount 3 does not spread evenly over 2 zones. Fix: use a multiple of 2/);
  });
});
