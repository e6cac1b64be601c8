import type { StackValidationArgs } from "@pulumi/policy";
import { expectValue, get, listOf, resourceRule, stackRule, type LandingZonePolicy } from "./rules.js";
import { isStatefulPulumiType } from "../../plan/stateful.js";

/**
 * Actions AWS authorizes only on `"Resource": "*"` (they support no resource-level permissions), so a
 * statement granting only these may use it. Anything else must name its resources.
 */
const UNSCOPED_ACTIONS = [
  /^[a-z0-9-]+:Describe[A-Za-z]*$/,
  /^[a-z0-9-]+:List[A-Za-z]*$/,
  /^ec2:GetSecurityGroupsForVpc$/,
  /^ecr:GetAuthorizationToken$/,
  /^xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets|GetSamplingStatisticSummaries)$/,
  /^cloudwatch:PutMetricData$/,
  // Vended log delivery (Step Functions, API Gateway execution logs) is configured account-wide.
  /^logs:(CreateLogDelivery|DeleteLogDelivery|GetLogDelivery|UpdateLogDelivery|PutResourcePolicy)$/,
  /^sts:GetCallerIdentity$/,
  // Cloud Map lookups have no resource type; the landing zone narrows them by the namespace-name condition.
  /^servicediscovery:DiscoverInstances$/,
];

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | readonly string[];
  readonly NotResource?: unknown;
}

const asList = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === "string" ? [value] : value);

/** The least-privilege problems of one IAM policy document. */
export function wildcardProblems(document: unknown): string[] {
  let parsed: unknown = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch {
      return ["the policy document is not valid JSON"];
    }
  }
  const statements = listOf(get(parsed, "Statement")) as Statement[];
  const problems: string[] = [];
  for (const [i, statement] of statements.entries()) {
    if (statement.Effect !== "Allow") continue;
    if (statement.NotAction !== undefined || statement.NotResource !== undefined) problems.push(`Statement[${i}] allows through NotAction/NotResource, which grants everything not listed`);
    const actions = asList(statement.Action);
    for (const action of actions) if (action === "*" || /:\*$/.test(action)) problems.push(`Statement[${i}] allows every action of ${action === "*" ? "every service" : action.split(":")[0]} (${action})`);
    const resources = asList(statement.Resource);
    if (resources.includes("*") && !actions.every((action) => UNSCOPED_ACTIONS.some((pattern) => pattern.test(action)))) {
      problems.push(`Statement[${i}] grants ${actions.filter((a) => !UNSCOPED_ACTIONS.some((p) => p.test(a))).join(", ")} on every resource ("*"); name the resources`);
    }
  }
  return problems;
}

const encryptionAtRest: LandingZonePolicy[] = [
  resourceRule("aws-elasticache-encrypted", "encryption-at-rest", "ElastiCache replication groups encrypt data at rest.", ["aws:elasticache/replicationGroup:ReplicationGroup"], (p) =>
    expectValue(p["atRestEncryptionEnabled"], true, "atRestEncryptionEnabled"),
  ),
  resourceRule("aws-opensearch-encrypted", "encryption-at-rest", "OpenSearch domains encrypt data at rest.", ["aws:opensearch/domain:Domain"], (p) => expectValue(get(p, "encryptAtRest", "enabled"), true, "encryptAtRest.enabled")),
  resourceRule("aws-sqs-encrypted", "encryption-at-rest", "SQS queues encrypt messages with KMS or SQS-managed keys.", ["aws:sqs/queue:Queue"], (p) =>
    p["kmsMasterKeyId"] || p["sqsManagedSseEnabled"] === true ? [] : ["set kmsMasterKeyId (or sqsManagedSseEnabled)"],
  ),
  resourceRule("aws-sns-encrypted", "encryption-at-rest", "SNS topics encrypt messages with a KMS key.", ["aws:sns/topic:Topic"], (p) => (p["kmsMasterKeyId"] ? [] : ["set kmsMasterKeyId"])),
  resourceRule("aws-rds-encrypted", "encryption-at-rest", "RDS instances and clusters encrypt storage.", ["aws:rds/instance:Instance", "aws:rds/cluster:Cluster"], (p) =>
    expectValue(p["storageEncrypted"], true, "storageEncrypted"),
  ),
  resourceRule("aws-dynamodb-encrypted", "encryption-at-rest", "DynamoDB tables encrypt with a KMS key (AWS managed or customer managed).", ["aws:dynamodb/table:Table"], (p) =>
    expectValue(get(p, "serverSideEncryption", "enabled"), true, "serverSideEncryption.enabled"),
  ),
  resourceRule("aws-ecr-encrypted", "encryption-at-rest", "ECR repositories encrypt images with KMS.", ["aws:ecr/repository:Repository"], (p) =>
    expectValue(get(listOf(p["encryptionConfigurations"])[0], "encryptionType"), "KMS", "encryptionConfigurations[0].encryptionType"),
  ),
  resourceRule("aws-eks-secrets-encrypted", "encryption-at-rest", "EKS clusters envelope-encrypt Kubernetes secrets with KMS.", ["aws:eks/cluster:Cluster"], (p) =>
    (get(p, "encryptionConfig", "resources") as unknown[] | undefined)?.includes("secrets") ? [] : ['encryptionConfig.resources must include "secrets"'],
  ),
  resourceRule("aws-ebs-encrypted", "encryption-at-rest", "Launch templates encrypt every EBS volume.", ["aws:ec2/launchTemplate:LaunchTemplate"], (p) =>
    listOf(p["blockDeviceMappings"])
      .filter((m) => get(m, "ebs") !== undefined && String(get(m, "ebs", "encrypted")) !== "true")
      .map((m) => `blockDeviceMappings ${String(get(m, "deviceName"))} must set ebs.encrypted "true"`),
  ),
  resourceRule("aws-kinesis-encrypted", "encryption-at-rest", "Kinesis streams encrypt with KMS.", ["aws:kinesis/stream:Stream"], (p) => expectValue(p["encryptionType"], "KMS", "encryptionType")),
];

const encryptionInTransit: LandingZonePolicy[] = [
  resourceRule("aws-elasticache-tls", "encryption-in-transit", "ElastiCache replication groups require TLS.", ["aws:elasticache/replicationGroup:ReplicationGroup"], (p) => [
    ...expectValue(p["transitEncryptionEnabled"], true, "transitEncryptionEnabled"),
    ...(p["transitEncryptionMode"] === "preferred" ? ['transitEncryptionMode must be "required", is "preferred"'] : []),
  ]),
  resourceRule("aws-opensearch-tls", "encryption-in-transit", "OpenSearch domains take HTTPS only and encrypt node-to-node traffic.", ["aws:opensearch/domain:Domain"], (p) => [
    ...expectValue(get(p, "domainEndpointOptions", "enforceHttps"), true, "domainEndpointOptions.enforceHttps"),
    ...expectValue(get(p, "nodeToNodeEncryption", "enabled"), true, "nodeToNodeEncryption.enabled"),
  ]),
  resourceRule("aws-msk-tls", "encryption-in-transit", "MSK clusters take TLS only between clients and brokers and inside the cluster.", ["aws:msk/cluster:Cluster"], (p) => [
    ...expectValue(get(p, "encryptionInfo", "encryptionInTransit", "clientBroker"), "TLS", "encryptionInfo.encryptionInTransit.clientBroker"),
    ...(get(p, "encryptionInfo", "encryptionInTransit", "inCluster") === false ? ["encryptionInfo.encryptionInTransit.inCluster must not be false"] : []),
  ]),
  resourceRule("aws-ec2-imdsv2", "encryption-in-transit", "Instances require IMDSv2 session tokens, so the metadata service cannot be reached by request forgery.", ["aws:ec2/launchTemplate:LaunchTemplate"], (p) =>
    expectValue(get(p, "metadataOptions", "httpTokens"), "required", "metadataOptions.httpTokens"),
  ),
];

const noPublicData: LandingZonePolicy[] = [
  resourceRule("aws-rds-private", "no-public-data", "RDS instances are not publicly accessible.", ["aws:rds/instance:Instance"], (p) => (p["publiclyAccessible"] === true ? ["publiclyAccessible must not be true"] : [])),
  resourceRule("aws-opensearch-in-vpc", "no-public-data", "OpenSearch domains live in the VPC.", ["aws:opensearch/domain:Domain"], (p) =>
    listOf(get(p, "vpcOptions")).length > 0 && ((get(p, "vpcOptions", "subnetIds") as unknown[] | undefined)?.length ?? 0) > 0 ? [] : ["vpcOptions.subnetIds must place the domain in the VPC"],
  ),
  resourceRule("aws-no-public-ip", "no-public-data", "Instances and launch templates get no public IP address.", ["aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/instance:Instance"], (p) => [
    ...listOf(p["networkInterfaces"])
      .filter((n) => String(get(n, "associatePublicIpAddress")) === "true")
      .map(() => "networkInterfaces must not set associatePublicIpAddress"),
    ...(p["associatePublicIpAddress"] === true ? ["associatePublicIpAddress must not be true"] : []),
  ]),
  resourceRule("aws-no-open-ingress", "no-public-data", "Security groups admit the internet on 80 and 443 only.", ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:ec2/securityGroup:SecurityGroup"], (p, args) => {
    const rules = args.type === "aws:ec2/securityGroup:SecurityGroup" ? listOf(p["ingress"]) : [p];
    return rules
      .filter((r) => r["cidrIpv4"] === "0.0.0.0/0" || (r["cidrBlocks"] as unknown[] | undefined)?.includes("0.0.0.0/0") || r["cidrIpv6"] === "::/0")
      .filter((r) => !(r["fromPort"] === r["toPort"] && (r["fromPort"] === 443 || r["fromPort"] === 80)))
      .map((r) => `admits the internet on ports ${String(r["fromPort"])}-${String(r["toPort"])}; only 80 and 443 may be open to 0.0.0.0/0`);
  }),
  stackRule("aws-s3-public-access-blocked", "no-public-data", "Every S3 bucket has all four public-access blocks on.", (args: StackValidationArgs) => {
    const blocks = args.resources.filter((r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    return args.resources
      .filter((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2")
      .filter((bucket) => {
        const block = blocks.find((b) => b.props["bucket"] === bucket.props["id"] || b.props["bucket"] === bucket.props["bucket"]);
        return !block || !["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((key) => block.props[key] === true);
      })
      .map((bucket) => [`bucket ${bucket.name} lacks a BucketPublicAccessBlock with all four blocks on`, bucket.urn] as const);
  }),
];

const leastPrivilege: LandingZonePolicy[] = [
  resourceRule(
    "aws-iam-no-wildcards",
    "least-privilege",
    "IAM policies name their actions and resources; '*' only for actions AWS cannot scope.",
    ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"],
    (p) => wildcardProblems(p["policy"]),
  ),
  resourceRule("aws-iam-no-admin-attachment", "least-privilege", "No role gets AdministratorAccess or PowerUserAccess.", ["aws:iam/rolePolicyAttachment:RolePolicyAttachment"], (p) =>
    /:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/.test(String(p["policyArn"])) ? [`attaches ${String(p["policyArn"])}`] : [],
  ),
  resourceRule("aws-resource-policy-no-wildcards", "least-privilege", "Resource policies (OpenSearch, SQS, SNS) name their principals.", ["aws:opensearch/domain:Domain", "aws:sqs/queuePolicy:QueuePolicy", "aws:sns/topicPolicy:TopicPolicy"], (p, args) => {
    const document = args.type === "aws:opensearch/domain:Domain" ? p["accessPolicies"] : p["policy"];
    if (document === undefined) return [];
    const parsed: unknown = typeof document === "string" ? JSON.parse(document) : document;
    return (listOf(get(parsed, "Statement")) as (Statement & { Principal?: unknown; Condition?: unknown })[])
      .filter((s) => s.Effect === "Allow" && (s.Principal === "*" || get(s.Principal, "AWS") === "*") && s.Condition === undefined)
      .map(() => 'allows Principal "*" without a condition');
  }),
];

const logging: LandingZonePolicy[] = [
  resourceRule("aws-eks-control-plane-logs", "logging", "EKS clusters ship the API and audit logs.", ["aws:eks/cluster:Cluster"], (p) => {
    const types = (p["enabledClusterLogTypes"] as string[] | undefined) ?? [];
    return ["api", "audit"].filter((t) => !types.includes(t)).map((t) => `enabledClusterLogTypes must include "${t}"`);
  }),
  resourceRule("aws-opensearch-logs", "logging", "OpenSearch domains publish their application logs.", ["aws:opensearch/domain:Domain"], (p) =>
    listOf(p["logPublishingOptions"]).some((o) => o["logType"] === "ES_APPLICATION_LOGS") ? [] : ["logPublishingOptions must include ES_APPLICATION_LOGS"],
  ),
  resourceRule("aws-api-access-logs", "logging", "API stages write access logs.", ["aws:apigatewayv2/stage:Stage", "aws:apigateway/stage:Stage"], (p) => (get(p, "accessLogSettings", "destinationArn") ? [] : ["accessLogSettings.destinationArn must be set"])),
  resourceRule("aws-log-retention", "logging", "Log groups keep records for a set time, not forever and not by accident.", ["aws:cloudwatch/logGroup:LogGroup"], (p) =>
    typeof p["retentionInDays"] === "number" && p["retentionInDays"] > 0 ? [] : ["retentionInDays must be set"],
  ),
  stackRule("aws-vpc-flow-logs", "logging", "Every VPC records flow logs.", (args) => {
    const flowLogs = args.resources.filter((r) => r.type === "aws:ec2/flowLog:FlowLog");
    return args.resources
      .filter((r) => r.type === "aws:ec2/vpc:Vpc")
      .filter((vpc) => !flowLogs.some((f) => f.props["vpcId"] === vpc.props["id"]))
      .map((vpc) => [`VPC ${vpc.name} has no flow log`, vpc.urn] as const);
  }),
];

const dataProtection: LandingZonePolicy[] = [
  resourceRule(
    "aws-prod-stateful-protected",
    "data-protection",
    "In prod (tag msa:environment=prod), resources that hold data are protected from deletion.",
    (type) => type.startsWith("aws:") && isStatefulPulumiType(type),
    (p, args) => (get(p, "tags", "msa:environment") === "prod" && !args.opts.protect ? ["holds data in prod but is not protected; set protect (and retainOnDelete)"] : []),
  ),
];

/** The AWS rules of the landing zone's Pulumi policy pack, each mandatory. */
export const awsPolicies: readonly LandingZonePolicy[] = [...encryptionAtRest, ...encryptionInTransit, ...noPublicData, ...leastPrivilege, ...logging, ...dataProtection];
