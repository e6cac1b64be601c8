import { beforeAll, describe, expect, it } from "vitest";
import program from "../../../bin/pulumi.js";
import { awsPolicies, wildcardProblems } from "../../../lib/pulumi/policy/aws.js";
import { kubernetesPolicies } from "../../../lib/pulumi/policy/kubernetes.js";
import { isStatefulPulumiType } from "../../../lib/plan/stateful.js";
import { runProgram, type RegisteredResource } from "../harness.js";
import { evaluatePolicies } from "./evaluate.js";


const ALL = [...awsPolicies, ...kubernetesPolicies];

async function resourcesOf(specFile: string): Promise<RegisteredResource[]> {
  const { resources } = await runProgram(async () => void (await program()), { config: { "msa:spec": specFile } });
  return resources;
}

/** A single resource as the policies see it. */
const resource = (type: string, inputs: Record<string, unknown>, extra: Partial<RegisteredResource> = {}) => ({ type, name: "bad", inputs, outputs: { ...inputs, id: "bad-id" }, protect: false, ...extra });

describe("the Pulumi policy pack over the examples", () => {
  let aws: RegisteredResource[];
  let kubernetes: RegisteredResource[];
  beforeAll(async () => {
    aws = await resourcesOf("examples/shop/landing-zone.yaml");
    kubernetes = await resourcesOf("examples/kubernetes/landing-zone.yaml");
  });

  it("finds nothing in the AWS shop example, a prod landing zone", async () => {
    expect(aws.length).toBeGreaterThan(100);
    expect(await evaluatePolicies(aws, ALL)).toEqual([]);
  });

  it("retains every resource holding data in the prod example on delete too (which policies cannot see)", () => {
    const stateful = aws.filter((r) => isStatefulPulumiType(r.type));
    expect(stateful.length).toBeGreaterThan(10);
    expect(stateful.filter((r) => !r.retainOnDelete).map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it.each(["aws-iaas", "aws-paas"])("finds nothing in the %s example, and retains its stateful resources", async (example) => {
    const resources = await resourcesOf(`examples/${example}/landing-zone.yaml`);
    expect(await evaluatePolicies(resources, ALL)).toEqual([]);
    expect(resources.filter((r) => isStatefulPulumiType(r.type) && !r.retainOnDelete).map((r) => `${r.type} ${r.name}`)).toEqual([]);
  });

  it("finds nothing in the existing-cluster example", async () => {
    expect(await evaluatePolicies(kubernetes, ALL)).toEqual([]);
  });

  it("covers every class of rule the issue names", () => {
    expect(new Set(ALL.map((p) => p.ruleClass))).toEqual(new Set(["encryption-at-rest", "encryption-in-transit", "no-public-data", "least-privilege", "logging", "data-protection", "workload-hardening"]));
  });
});

describe("each rule catches a bad resource", () => {
  const deployment = (container: Record<string, unknown>, pod: Record<string, unknown> = {}) => ({
    objs: [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "app", namespace: "shop" }, spec: { template: { spec: { containers: [{ name: "app", ...container }], ...pod } } } }],
  });
  const hardened = { securityContext: { allowPrivilegeEscalation: false }, resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "128Mi" } } };
  const cases: [string, ReturnType<typeof resource>][] = [
    ["aws-elasticache-encrypted", resource("aws:elasticache/replicationGroup:ReplicationGroup", { atRestEncryptionEnabled: false, transitEncryptionEnabled: true })],
    ["aws-elasticache-tls", resource("aws:elasticache/replicationGroup:ReplicationGroup", { atRestEncryptionEnabled: true, transitEncryptionEnabled: true, transitEncryptionMode: "preferred" })],
    ["aws-opensearch-encrypted", resource("aws:opensearch/domain:Domain", { encryptAtRest: { enabled: false } })],
    ["aws-opensearch-tls", resource("aws:opensearch/domain:Domain", { domainEndpointOptions: { enforceHttps: false } })],
    ["aws-opensearch-in-vpc", resource("aws:opensearch/domain:Domain", {})],
    ["aws-opensearch-logs", resource("aws:opensearch/domain:Domain", { logPublishingOptions: [] })],
    ["aws-sqs-encrypted", resource("aws:sqs/queue:Queue", {})],
    ["aws-sns-encrypted", resource("aws:sns/topic:Topic", {})],
    ["aws-rds-encrypted", resource("aws:rds/instance:Instance", { storageEncrypted: false })],
    ["aws-rds-private", resource("aws:rds/instance:Instance", { storageEncrypted: true, publiclyAccessible: true })],
    ["aws-dynamodb-encrypted", resource("aws:dynamodb/table:Table", {})],
    ["aws-ecr-encrypted", resource("aws:ecr/repository:Repository", { encryptionConfigurations: [{ encryptionType: "AES256" }] })],
    ["aws-eks-secrets-encrypted", resource("aws:eks/cluster:Cluster", { enabledClusterLogTypes: ["api", "audit"] })],
    ["aws-eks-control-plane-logs", resource("aws:eks/cluster:Cluster", { encryptionConfig: { resources: ["secrets"] }, enabledClusterLogTypes: ["api"] })],
    ["aws-ebs-encrypted", resource("aws:ec2/launchTemplate:LaunchTemplate", { metadataOptions: { httpTokens: "required" }, blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] })],
    ["aws-ec2-imdsv2", resource("aws:ec2/launchTemplate:LaunchTemplate", { metadataOptions: { httpTokens: "optional" } })],
    ["aws-no-public-ip", resource("aws:ec2/launchTemplate:LaunchTemplate", { metadataOptions: { httpTokens: "required" }, networkInterfaces: [{ associatePublicIpAddress: "true" }] })],
    ["aws-kinesis-encrypted", resource("aws:kinesis/stream:Stream", { encryptionType: "NONE" })],
    ["aws-msk-tls", resource("aws:msk/cluster:Cluster", { encryptionInfo: { encryptionInTransit: { clientBroker: "TLS_PLAINTEXT" } } })],
    ["aws-no-open-ingress", resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22 })],
    ["aws-iam-no-wildcards", resource("aws:iam/rolePolicy:RolePolicy", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::b/*" }] }) })],
    ["aws-iam-no-admin-attachment", resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", { policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" })],
    ["aws-resource-policy-no-wildcards", resource("aws:sqs/queuePolicy:QueuePolicy", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "arn" }] }) })],
    ["aws-api-access-logs", resource("aws:apigatewayv2/stage:Stage", {})],
    ["aws-log-retention", resource("aws:cloudwatch/logGroup:LogGroup", {})],
    ["aws-vpc-flow-logs", resource("aws:ec2/vpc:Vpc", { cidrBlock: "10.0.0.0/16" })],
    ["aws-s3-public-access-blocked", resource("aws:s3/bucket:Bucket", { bucket: "open" })],
    ["aws-prod-stateful-protected", resource("aws:sqs/queue:Queue", { kmsMasterKeyId: "k", tags: { "msa:environment": "prod" } })],
    ["kubernetes-no-privileged", resource("kubernetes:yaml/v2:ConfigGroup", deployment({ ...hardened, securityContext: { privileged: true, allowPrivilegeEscalation: false } }))],
    ["kubernetes-no-privileged", resource("kubernetes:apps/v1:DaemonSet", { metadata: { name: "agent" }, spec: { template: { spec: { hostNetwork: true, containers: [{ name: "a", ...hardened }] } } } })],
    ["kubernetes-resource-requests", resource("kubernetes:yaml/v2:ConfigGroup", deployment({ securityContext: { allowPrivilegeEscalation: false } }))],
    ["kubernetes-no-plain-secrets-in-configmaps", resource("kubernetes:core/v1:ConfigMap", { metadata: { name: "cfg" }, data: { DB_PASSWORD: "hunter2" } })],
  ];

  it.each(cases)("%s", async (name, bad) => {
    const violations = await evaluatePolicies([bad], ALL);
    expect(violations.map((v) => v.policy)).toContain(name);
    expect(violations.find((v) => v.policy === name)!.message.length).toBeGreaterThan(10);
  });

  it("has a catching case for every rule", () => {
    expect(new Set(cases.map(([name]) => name))).toEqual(new Set(ALL.map((p) => p.name)));
  });

  it("lets AWS's unscoped read actions use Resource '*', and nothing else", () => {
    expect(wildcardProblems({ Statement: [{ Effect: "Allow", Action: ["ec2:DescribeSubnets", "xray:PutTraceSegments"], Resource: "*" }] })).toEqual([]);
    expect(wildcardProblems({ Statement: [{ Effect: "Allow", Action: ["ec2:DescribeSubnets", "s3:GetObject"], Resource: "*" }] })).toEqual([`Statement[0] grants s3:GetObject on every resource ("*"); name the resources`]);
    expect(wildcardProblems({ Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] })).toEqual([]);
    // Vended log delivery (a state machine's execution log) takes no resource; writing logs does.
    expect(wildcardProblems({ Statement: [{ Effect: "Allow", Action: ["logs:CreateLogDelivery", "logs:PutResourcePolicy"], Resource: "*" }] })).toEqual([]);
    expect(wildcardProblems({ Statement: [{ Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: "*" }] })).toEqual([`Statement[0] grants logs:PutLogEvents on every resource ("*"); name the resources`]);
    expect(wildcardProblems("{not json")).toEqual(["the policy document is not valid JSON"]);
  });
});
