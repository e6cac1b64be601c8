/**
 * The floor: the baseline's templates written as plain JSON objects, without CDK (no constructs,
 * tokens or synthesis), `JSON.stringify`-ed to one file per stack. Nothing can produce these
 * templates for less; `bench/check.ts` compares its resource counts with the landing zone's.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import {
  loadBalancerControllerPolicy,
  logPipelineManifests,
  gatewayLoadBalancerManifests,
  namespaceManifests,
  peerAuthenticationManifest,
  serviceAccountManifest,
  workloadManifests,
} from "./manifests.js";
import { baselineModel, ENV, NAMESPACE, parameterName, pascal, REGION, TAGS, ZONE, ZONES, type BaselineModel, type BaselineService } from "./model.js";
import { HTTP_API_ACCESS_LOG_FIELDS } from "../../lib/plan/gateway-paths.js";

type Json = unknown;
const TAG_LIST = Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value }));
/** Types whose Tags are a map rather than a list. */
const TAG_MAP_TYPES = new Set(["AWS::EKS::Nodegroup", "AWS::SSM::Parameter", "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::VpcLink", "AWS::ApiGatewayV2::Stage"]);
const UNTAGGED = new Set([
  "AWS::EC2::SubnetRouteTableAssociation",
  "AWS::EC2::Route",
  "AWS::EC2::VPCGatewayAttachment",
  "AWS::IAM::Policy",
  "AWS::EC2::SecurityGroupIngress",
  "AWS::EC2::SecurityGroupEgress",
  "AWS::S3::BucketPolicy",
  "AWS::SNS::TopicPolicy",
  "AWS::SQS::QueuePolicy",
  "AWS::SNS::Subscription",
  "AWS::ApiGatewayV2::Route",
  "AWS::ApiGatewayV2::Integration",
  "AWS::ApiGatewayV2::Authorizer",
  "AWS::WAFv2::WebACLAssociation",
  "AWS::WAFv2::LoggingConfiguration",
  "AWS::Lambda::LayerVersion",
  "AWS::Cognito::UserPoolClient",
]);

const ref = (id: string) => ({ Ref: id });
const att = (id: string, attribute: string) => ({ "Fn::GetAtt": [id, attribute] });
const join = (...parts: Json[]) => ({ "Fn::Join": ["", parts] });
const account = ref("AWS::AccountId");
const partitionArn = (path: string) => join("arn:", ref("AWS::Partition"), `:${path}`);
const assume = (service: string, tagSession = false) => ({
  Statement: [{ Action: tagSession ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole", Effect: "Allow", Principal: { Service: service } }],
  Version: "2012-10-17",
});
const rootKeyPolicy = (...extra: object[]) => ({
  Statement: [{ Action: "kms:*", Effect: "Allow", Principal: { AWS: join("arn:aws:iam::", account, ":root") }, Resource: "*" }, ...extra],
  Version: "2012-10-17",
});
const logsKeyStatement = {
  Action: ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
  Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": join(`arn:aws:logs:${REGION}:`, account, ":log-group:*") } },
  Effect: "Allow",
  Principal: { Service: `logs.${REGION}.amazonaws.com` },
  Resource: "*",
};
const viaSecretsManager = { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } };
/** What a key that encrypts Secrets Manager secrets allows besides its root statement. */
const secretsKeyStatements = [
  {
    Action: ["kms:Decrypt", "kms:DescribeKey"],
    Condition: { StringEquals: { "kms:CallerAccount": account, "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
    Effect: "Allow",
    Principal: { AWS: "*" },
    Resource: "*",
    Sid: "ReadSecretsThroughSecretsManager",
  },
  {
    Action: ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
    Condition: viaSecretsManager,
    Effect: "Allow",
    Principal: { AWS: join("arn:aws:iam::", account, ":root") },
    Resource: "*",
  },
];
const denyInsecure = (Action: string, Resource: Json, Principal: Json) => ({ Action, Condition: { Bool: { "aws:SecureTransport": "false" } }, Effect: "Deny", Principal, Resource });
const assetLocation = (hash: string) => ({ S3Bucket: { "Fn::Sub": `cdk-hnb659fds-assets-\${AWS::AccountId}-${REGION}` }, S3Key: `${hash}.zip` });

interface ResourceOptions {
  readonly dependsOn?: readonly string[];
  readonly retain?: boolean;
  readonly deleteOnRemoval?: boolean;
}

/** One stack's template under construction. */
class Template {
  readonly resources: Record<string, Json> = {};
  readonly parameters: Record<string, Json> = {};
  readonly outputs: Record<string, Json> = {};
  readonly conditions: Record<string, Json> = {};

  constructor(
    readonly stackName: string,
    readonly path: string,
  ) {}

  add(id: string, type: string, properties: Record<string, Json>, options: ResourceOptions = {}): string {
    const props = UNTAGGED.has(type) || type.startsWith("Custom::") ? properties : { ...properties, Tags: TAG_MAP_TYPES.has(type) ? { ...TAGS } : [...TAG_LIST, ...((properties.Tags as object[]) ?? [])] };
    this.resources[id] = {
      Type: type,
      Properties: props,
      ...(options.dependsOn ? { DependsOn: options.dependsOn } : {}),
      ...(options.retain ? { UpdateReplacePolicy: "Retain", DeletionPolicy: "Retain" } : options.deleteOnRemoval ? { UpdateReplacePolicy: "Delete", DeletionPolicy: "Delete" } : {}),
      Metadata: { "aws:cdk:path": `${this.path}/${id}/Resource` },
    };
    return id;
  }

  /** An SSM parameter read at deploy time, as a template parameter. */
  read(name: string): Json {
    const id = `Ssm${name.replace(/[^A-Za-z0-9]/g, "")}`;
    this.parameters[id] ??= { Type: "AWS::SSM::Parameter::Value<String>", Default: name };
    return ref(id);
  }

  publish(id: string, name: string, value: Json): void {
    this.add(id, "AWS::SSM::Parameter", { Name: name, Type: "String", Value: value });
  }

  manifest(id: string, serviceToken: Json, clusterName: Json, manifest: object[], refs: Refs, dependsOn: string[] = []): string {
    return this.add(
      id,
      "Custom::AWSCDK-EKS-KubernetesResource",
      { ServiceToken: serviceToken, Manifest: refs.render(manifest), ClusterName: clusterName, PruneLabel: `aws.cdk.eks/prune-${id}`, Overwrite: true },
      { dependsOn, deleteOnRemoval: true },
    );
  }

  write(outdir: string): void {
    const template = {
      ...(Object.keys(this.conditions).length > 0 ? { Conditions: this.conditions } : {}),
      Parameters: { ...this.parameters, BootstrapVersion: { Type: "AWS::SSM::Parameter::Value<String>", Default: "/cdk-bootstrap/hnb659fds/version" } },
      Resources: this.resources,
      ...(Object.keys(this.outputs).length > 0 ? { Outputs: this.outputs } : {}),
      Rules: {
        CheckBootstrapVersion: {
          Assertions: [{ Assert: { "Fn::Not": [{ "Fn::Contains": [["1", "2", "3", "4", "5"], ref("BootstrapVersion")] }] }, AssertDescription: "CDK bootstrap stack version 6 required." }],
        },
      },
    };
    writeFileSync(joinPath(outdir, `${this.stackName}.template.json`), JSON.stringify(template, undefined, 1));
  }
}

/** Deploy-time values inside JSON strings: markers while building, `Fn::Join` parts when rendered. */
class Refs {
  private readonly values: Json[] = [];
  marker(value: Json): string {
    this.values.push(value);
    return `@@${this.values.length - 1}@@`;
  }
  render(value: unknown): Json {
    const parts = JSON.stringify(value).split(/@@(\d+)@@/);
    if (parts.length === 1) return parts[0];
    return { "Fn::Join": ["", parts.map((p, i) => (i % 2 === 1 ? this.values[Number(p)] : p)).filter((p) => p !== "")] };
  }
}

interface Network {
  readonly vpcId: Json;
  /** Where the gateway's internal load balancers sit on EKS: no pod lives there. */
  readonly publicSubnets: Json[];
  readonly privateSubnets: Json[];
  readonly isolatedSubnets: Json[];
}

function network(templates: Template[]): Network {
  const t = new Template(`${ZONE}-${ENV}-network`, "Bench/Network");
  templates.push(t);
  t.add("Vpc", "AWS::EC2::VPC", { CidrBlock: "10.0.0.0/16", EnableDnsHostnames: true, EnableDnsSupport: true, InstanceTenancy: "default", Tags: [{ Key: "Name", Value: "bench" }] });
  t.add("Igw", "AWS::EC2::InternetGateway", { Tags: [{ Key: "Name", Value: "bench" }] });
  t.add("VpcGateway", "AWS::EC2::VPCGatewayAttachment", { InternetGatewayId: ref("Igw"), VpcId: ref("Vpc") });
  const cidrs = { Public: ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"], Private: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"], Isolated: ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"] };
  const output = (id: string) => {
    const name = `PublishOutputRef${id}`;
    t.outputs[name] = { Value: ref(id) };
    return { "Fn::GetStackOutput": { StackName: t.stackName, Region: REGION, OutputName: name } };
  };
  const subnets: Record<string, Json[]> = { Public: [], Private: [], Isolated: [] };
  const tables: string[] = [];
  for (const kind of ["Public", "Private", "Isolated"] as const) {
    ZONES.forEach((zone, i) => {
      const id = `${kind}Subnet${i + 1}`;
      const role = kind === "Public" ? [{ Key: "kubernetes.io/role/elb", Value: "1" }] : kind === "Private" ? [{ Key: "kubernetes.io/role/internal-elb", Value: "1" }] : [];
      const name = [{ Key: "Name", Value: `bench/${id}` }];
      t.add(id, "AWS::EC2::Subnet", {
        AvailabilityZone: zone,
        CidrBlock: cidrs[kind][i],
        MapPublicIpOnLaunch: false,
        Tags: [{ Key: "aws-cdk:subnet-name", Value: kind }, { Key: "aws-cdk:subnet-type", Value: kind }, ...role, ...name],
        VpcId: ref("Vpc"),
      });
      t.add(`${id}RouteTable`, "AWS::EC2::RouteTable", { Tags: [...role, ...name], VpcId: ref("Vpc") });
      t.add(`${id}RouteTableAssociation`, "AWS::EC2::SubnetRouteTableAssociation", { RouteTableId: ref(`${id}RouteTable`), SubnetId: ref(id) });
      if (kind === "Public") {
        t.add(`${id}DefaultRoute`, "AWS::EC2::Route", { DestinationCidrBlock: "0.0.0.0/0", GatewayId: ref("Igw"), RouteTableId: ref(`${id}RouteTable`) }, { dependsOn: ["VpcGateway"] });
        t.add(`${id}Eip`, "AWS::EC2::EIP", { Domain: "vpc", Tags: [...role, ...name] });
        t.add(
          `${id}Nat`,
          "AWS::EC2::NatGateway",
          { AllocationId: att(`${id}Eip`, "AllocationId"), SubnetId: ref(id), Tags: [...role, ...name] },
          { dependsOn: [`${id}DefaultRoute`, `${id}RouteTableAssociation`] },
        );
        subnets[kind]!.push(output(id));
      } else {
        if (kind === "Private") t.add(`${id}DefaultRoute`, "AWS::EC2::Route", { DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: ref(`PublicSubnet${i + 1}Nat`), RouteTableId: ref(`${id}RouteTable`) });
        tables.push(`${id}RouteTable`);
        subnets[kind]!.push(output(id));
      }
    });
  }
  for (const service of ["s3", "dynamodb"]) {
    t.add(`${service}Endpoint`, "AWS::EC2::VPCEndpoint", {
      RouteTableIds: tables.map(ref),
      ServiceName: join("com.amazonaws.", ref("AWS::Region"), `.${service}`),
      Tags: [{ Key: "Name", Value: "bench" }],
      VpcEndpointType: "Gateway",
      VpcId: ref("Vpc"),
    });
  }
  t.add("FlowLogKey", "AWS::KMS::Key", { Description: "Encrypts the VPC flow logs", EnableKeyRotation: true, KeyPolicy: rootKeyPolicy(logsKeyStatement) }, { retain: true });
  t.add("FlowLogGroup", "AWS::Logs::LogGroup", { KmsKeyId: att("FlowLogKey", "Arn"), RetentionInDays: 365 }, { retain: true });
  t.add("FlowLogRole", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("vpc-flow-logs.amazonaws.com"), Tags: [{ Key: "Name", Value: "bench/FlowLog" }] });
  t.add("FlowLogRolePolicy", "AWS::IAM::Policy", {
    PolicyDocument: { Statement: [{ Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"], Effect: "Allow", Resource: att("FlowLogGroup", "Arn") }], Version: "2012-10-17" },
    PolicyName: "FlowLogRolePolicy",
    Roles: [ref("FlowLogRole")],
  });
  t.add("FlowLog", "AWS::EC2::FlowLog", {
    DeliverLogsPermissionArn: att("FlowLogRole", "Arn"),
    LogDestinationType: "cloud-watch-logs",
    LogGroupName: ref("FlowLogGroup"),
    ResourceId: ref("Vpc"),
    ResourceType: "VPC",
    Tags: [{ Key: "Name", Value: "bench/FlowLog" }],
    TrafficType: "ALL",
  });
  t.add("RestrictDefaultSg", "Custom::VpcRestrictDefaultSG", { ServiceToken: att("RestrictDefaultSgHandler", "Arn"), DefaultSecurityGroupId: att("Vpc", "DefaultSecurityGroup"), Account: account }, { deleteOnRemoval: true });
  t.add("RestrictDefaultSgRole", "AWS::IAM::Role", {
    AssumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    ManagedPolicyArns: [{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" }],
    Policies: [
      {
        PolicyName: "Inline",
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
              Resource: [join(`arn:aws:ec2:${REGION}:`, account, ":security-group/", att("Vpc", "DefaultSecurityGroup"))],
            },
          ],
        },
      },
    ],
  });
  t.add(
    "RestrictDefaultSgHandler",
    "AWS::Lambda::Function",
    {
      Code: assetLocation("f178182c7c3aac6ad18bdaae53a2d38f72b2cf690d17b9efa635c7ce37f77d71"),
      Timeout: 900,
      MemorySize: 128,
      Handler: "__entrypoint__.handler",
      Role: att("RestrictDefaultSgRole", "Arn"),
      Runtime: "nodejs24.x",
      Description: "Lambda function for removing all inbound/outbound rules from the VPC default security group",
    },
    { dependsOn: ["RestrictDefaultSgRole"] },
  );
  t.publish("VpcIdParameter", parameterName("network", "vpc-id"), ref("Vpc"));
  // The zone's log key: the other stacks' log groups are encrypted with it.
  t.publish("LogKeyArnParameter", parameterName("network", "log-key-arn"), att("FlowLogKey", "Arn"));
  t.publish("PrivateSubnetIdsParameter", parameterName("network", "private-subnet-ids"), { "Fn::Join": [",", ZONES.map((_, i) => ref(`PrivateSubnet${i + 1}`))] });
  // Services' databases are placed in the isolated subnets by id.
  subnets.Isolated!.forEach((subnet, i) => t.publish(`IsolatedSubnet${i}Parameter`, parameterName("network", "isolated-subnets", String(i)), subnet));
  return { vpcId: output("Vpc"), publicSubnets: subnets.Public!, privateSubnets: subnets.Private!, isolatedSubnets: subnets.Isolated! };
}

function redis(t: Template, id: string, label: string, net: Network, clientSecurityGroup: Json, snapshots: number): void {
  t.add(`${id}Key`, "AWS::KMS::Key", { Description: `Encrypts ${label} at rest`, EnableKeyRotation: true, KeyPolicy: rootKeyPolicy() }, { retain: true });
  t.add(`${id}AuthToken`, "AWS::SecretsManager::Secret", { Description: `AUTH token of ${label}`, GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 64 } }, { retain: true });
  t.add(`${id}SecurityGroup`, "AWS::EC2::SecurityGroup", {
    GroupDescription: `${label}: Redis clients only`,
    SecurityGroupEgress: [{ CidrIp: "255.255.255.255/32", Description: "Disallow all traffic", FromPort: 252, IpProtocol: "icmp", ToPort: 86 }],
    VpcId: net.vpcId,
  });
  t.add(`${id}SecurityGroupIngress`, "AWS::EC2::SecurityGroupIngress", {
    Description: `Redis clients of ${label}`,
    FromPort: 6379,
    GroupId: att(`${id}SecurityGroup`, "GroupId"),
    IpProtocol: "tcp",
    SourceSecurityGroupId: clientSecurityGroup,
    ToPort: 6379,
  });
  t.add(`${id}SubnetGroup`, "AWS::ElastiCache::SubnetGroup", { Description: `${label} subnets`, SubnetIds: net.isolatedSubnets });
  t.add(
    id,
    "AWS::ElastiCache::ReplicationGroup",
    {
      AtRestEncryptionEnabled: true,
      AuthToken: join("{{resolve:secretsmanager:", ref(`${id}AuthToken`), ":SecretString:::}}"),
      AutoMinorVersionUpgrade: true,
      AutomaticFailoverEnabled: true,
      CacheNodeType: "cache.r7g.large",
      CacheSubnetGroupName: ref(`${id}SubnetGroup`),
      Engine: "redis",
      EngineVersion: "7.1",
      KmsKeyId: att(`${id}Key`, "Arn"),
      MultiAZEnabled: true,
      NumCacheClusters: 3,
      Port: 6379,
      ReplicationGroupDescription: label,
      SecurityGroupIds: [att(`${id}SecurityGroup`, "GroupId")],
      SnapshotRetentionLimit: snapshots,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: "required",
    },
    { retain: true },
  );
}

function lambdaFunction(t: Template, id: string, properties: Record<string, Json>, dependsOn: string[]): void {
  t.add(id, "AWS::Lambda::Function", properties, { dependsOn });
  t.add(`${id}LogGroup`, "AWS::Logs::LogGroup", { KmsKeyId: t.read(parameterName("network", "log-key-arn")), LogGroupName: join("/aws/lambda/", ref(id)), RetentionInDays: 731 }, { retain: true });
}

function platform(templates: Template[], net: Network, model: BaselineModel): void {
  const t = new Template(`${ZONE}-${ENV}-platform`, "Bench/Platform");
  templates.push(t);
  const refs = new Refs();
  const cluster = ref("Cluster");
  const clusterSg = att("Cluster", "ClusterSecurityGroupId");
  const serviceToken = att("ProviderFramework", "Arn");
  t.add("SecretsKey", "AWS::KMS::Key", { Description: "Envelope encryption of Kubernetes Secrets", EnableKeyRotation: true, KeyPolicy: rootKeyPolicy() }, { retain: true });
  t.add("KubectlLayer", "AWS::Lambda::LayerVersion", {
    Content: assetLocation("d84d64068faf799fed94f142d864b68f8c0890bc8eb87a843c523c550a90ad6a"),
    Description: "/opt/kubectl/kubectl 1.34.5; /opt/helm/helm 4.1.3",
    LicenseInfo: "Apache-2.0",
  });
  t.add("ClusterRole", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("eks.amazonaws.com"), ManagedPolicyArns: [partitionArn("iam::aws:policy/AmazonEKSClusterPolicy")] });
  t.add("ControlPlaneSecurityGroup", "AWS::EC2::SecurityGroup", {
    GroupDescription: "EKS Control Plane Security Group",
    SecurityGroupEgress: [{ CidrIp: "0.0.0.0/0", Description: "Allow all outbound traffic by default", IpProtocol: "-1" }],
    VpcId: net.vpcId,
  });
  t.add("Cluster", "AWS::EKS::Cluster", {
    AccessConfig: { AuthenticationMode: "API" },
    ComputeConfig: { Enabled: false },
    EncryptionConfig: [{ Provider: { KeyArn: att("SecretsKey", "Arn") }, Resources: ["secrets"] }],
    KubernetesNetworkConfig: { ElasticLoadBalancing: { Enabled: false }, IpFamily: "ipv4" },
    Logging: { ClusterLogging: { EnabledTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"].map((Type) => ({ Type })) } },
    Name: `${ZONE}-${ENV}`,
    ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: false, SecurityGroupIds: [att("ControlPlaneSecurityGroup", "GroupId")], SubnetIds: net.privateSubnets },
    RoleArn: att("ClusterRole", "Arn"),
    StorageConfig: { BlockStorage: { Enabled: false } },
    Version: "1.34",
  });
  t.conditions.HasEcrPublic = { "Fn::Equals": [ref("AWS::Partition"), "aws"] };
  t.add("KubectlHandlerRole", "AWS::IAM::Role", {
    AssumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    ManagedPolicyArns: [
      partitionArn("iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
      partitionArn("iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"),
      partitionArn("iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
      { "Fn::If": ["HasEcrPublic", partitionArn("iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"), ref("AWS::NoValue")] },
    ],
  });
  t.add("KubectlHandlerRolePolicy", "AWS::IAM::Policy", {
    PolicyDocument: { Statement: [{ Action: "eks:DescribeCluster", Effect: "Allow", Resource: att("Cluster", "Arn") }], Version: "2012-10-17" },
    PolicyName: "KubectlHandlerRolePolicy",
    Roles: [ref("KubectlHandlerRole")],
  });
  t.add("AwsCliLayer", "AWS::Lambda::LayerVersion", { Content: assetLocation("98f62bef9320f8c0a0a7be21d7c746f069131f196f51ffe3008a6bb730b368ec"), Description: "/opt/awscli/aws" });
  const vpcConfig = { SecurityGroupIds: [clusterSg], SubnetIds: net.privateSubnets };
  lambdaFunction(
    t,
    "KubectlHandler",
    {
      Code: assetLocation("d1f0dc4bbd7f19a0c9d47ff23ed15d3972cdb7bd292c1c20c0f442d0021d9eb8"),
      Description: "onEvent handler for EKS kubectl resource provider",
      Environment: { Variables: { AWS_STS_REGIONAL_ENDPOINTS: "regional" } },
      Handler: "index.handler",
      Layers: [ref("AwsCliLayer"), ref("KubectlLayer")],
      MemorySize: 1024,
      Role: att("KubectlHandlerRole", "Arn"),
      Runtime: "python3.13",
      Timeout: 900,
      VpcConfig: vpcConfig,
    },
    ["KubectlHandlerRolePolicy", "KubectlHandlerRole"],
  );
  t.add("ProviderFrameworkRole", "AWS::IAM::Role", {
    AssumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    ManagedPolicyArns: [partitionArn("iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), partitionArn("iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")],
  });
  t.add("ProviderFrameworkRolePolicy", "AWS::IAM::Policy", {
    PolicyDocument: {
      Statement: [
        { Action: "lambda:InvokeFunction", Effect: "Allow", Resource: [att("KubectlHandler", "Arn"), join(att("KubectlHandler", "Arn"), ":*")] },
        { Action: "lambda:GetFunction", Effect: "Allow", Resource: att("KubectlHandler", "Arn") },
      ],
      Version: "2012-10-17",
    },
    PolicyName: "ProviderFrameworkRolePolicy",
    Roles: [ref("ProviderFrameworkRole")],
  });
  lambdaFunction(
    t,
    "ProviderFramework",
    {
      Code: assetLocation("5c9fd00ba20b9f0f8161f2bd2ccae0f9c29df2b76d34155b8bf281abc354adc8"),
      Description: "AWS CDK resource provider framework - onEvent (bench kubectl provider)",
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: att("KubectlHandler", "Arn") } },
      Handler: "framework.onEvent",
      LoggingConfig: { ApplicationLogLevel: "FATAL", LogFormat: "JSON" },
      Role: att("ProviderFrameworkRole", "Arn"),
      Runtime: "nodejs24.x",
      Timeout: 900,
      VpcConfig: vpcConfig,
    },
    ["ProviderFrameworkRolePolicy", "ProviderFrameworkRole"],
  );
  t.add("KubectlAdminAccess", "AWS::EKS::AccessEntry", {
    AccessPolicies: [{ AccessScope: { Type: "cluster" }, PolicyArn: partitionArn("eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy") }],
    ClusterName: cluster,
    PrincipalArn: att("KubectlHandlerRole", "Arn"),
  });
  t.resources.KubectlReadyBarrier = { Type: "AWS::SSM::Parameter", Properties: { Type: "String", Value: "aws:cdk:eks:kubectl-ready" }, DependsOn: ["KubectlAdminAccess", "Cluster"] };
  t.add("PodIdentityAgent", "AWS::EKS::Addon", { AddonName: "eks-pod-identity-agent", ClusterName: cluster });
  t.add("NodeRole", "AWS::IAM::Role", {
    AssumeRolePolicyDocument: assume("ec2.amazonaws.com"),
    ManagedPolicyArns: ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map((p) => partitionArn(`iam::aws:policy/${p}`)),
  });
  t.add("VpcCni", "AWS::EKS::Addon", {
    AddonName: "vpc-cni",
    ClusterName: cluster,
    ConfigurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
    PreserveOnDelete: true,
    ResolveConflicts: "OVERWRITE",
  });
  t.add("NodeLaunchTemplate", "AWS::EC2::LaunchTemplate", {
    LaunchTemplateData: {
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeSize: 100, VolumeType: "gp3" } }],
      MetadataOptions: { HttpEndpoint: "enabled", HttpPutResponseHopLimit: 1, HttpTokens: "required" },
    },
  });
  t.add("Nodes", "AWS::EKS::Nodegroup", {
    AmiType: "AL2023_x86_64_STANDARD",
    ClusterName: cluster,
    ForceUpdateEnabled: true,
    InstanceTypes: ["m6i.xlarge"],
    LaunchTemplate: { Id: ref("NodeLaunchTemplate"), Version: att("NodeLaunchTemplate", "LatestVersionNumber") },
    NodeRole: att("NodeRole", "Arn"),
    ScalingConfig: { DesiredSize: 3, MaxSize: 12, MinSize: 3 },
    Subnets: net.privateSubnets,
  }, { dependsOn: ["VpcCni"] });
  t.manifest("Namespace", serviceToken, cluster, namespaceManifests("aws.cdk.eks/prune-namespace"), refs, ["KubectlReadyBarrier"]);
  t.manifest("GatewayLoadBalancerAccess", serviceToken, cluster, gatewayLoadBalancerManifests("aws.cdk.eks/prune-gateway-access"), refs, ["KubectlReadyBarrier", "Namespace"]);
  t.add("LoadBalancerControllerRole", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), Description: "EKS Pod Identity of kube-system/aws-load-balancer-controller" });
  t.add("LoadBalancerControllerRolePolicy", "AWS::IAM::Policy", {
    PolicyDocument: {
      Statement: loadBalancerControllerPolicy.Statement.map((st) => ({
        ...st,
        Resource: ([] as string[]).concat(st.Resource).map((r) => (r.startsWith("arn:aws:") ? join("arn:", ref("AWS::Partition"), r.slice(3)) : r)),
      })),
      Version: "2012-10-17",
    },
    PolicyName: "LoadBalancerControllerRolePolicy",
    Roles: [ref("LoadBalancerControllerRole")],
  });
  t.add(
    "LoadBalancerControllerAssociation",
    "AWS::EKS::PodIdentityAssociation",
    { ClusterName: cluster, Namespace: "kube-system", RoleArn: att("LoadBalancerControllerRole", "Arn"), ServiceAccount: "aws-load-balancer-controller" },
    { dependsOn: ["PodIdentityAgent"] },
  );
  t.manifest("LoadBalancerControllerServiceAccount", serviceToken, cluster, serviceAccountManifest("aws-load-balancer-controller", "kube-system", "aws.cdk.eks/prune-lbc"), refs, ["KubectlReadyBarrier"]);
  const helm = (id: string, release: string, chart: string, version: string, repository: string, namespace: string, values: unknown, dependsOn: string[]) =>
    t.add(
      id,
      "Custom::AWSCDK-EKS-HelmChart",
      { ServiceToken: serviceToken, ClusterName: cluster, Release: release, Chart: chart, Version: version, Wait: true, Values: refs.render(values), Namespace: namespace, Repository: repository, CreateNamespace: true },
      { dependsOn, deleteOnRemoval: true },
    );
  helm(
    "LoadBalancerController",
    "aws-load-balancer-controller",
    "aws-load-balancer-controller",
    "3.2.2",
    "https://aws.github.io/eks-charts",
    "kube-system",
    { clusterName: refs.marker(cluster), serviceAccount: { create: false, name: "aws-load-balancer-controller" }, region: REGION, vpcId: refs.marker(net.vpcId) },
    ["KubectlReadyBarrier"],
  );
  const istio = "https://istio-release.storage.googleapis.com/charts";
  helm("IstioBase", "istio-base", "base", "1.27.3", istio, "istio-system", { defaultRevision: "default" }, ["KubectlReadyBarrier"]);
  helm("Istiod", "istiod", "istiod", "1.27.3", istio, "istio-system", { pilot: { autoscaleMin: 2, replicaCount: 2 }, meshConfig: { accessLogFile: "/dev/stdout" } }, ["KubectlReadyBarrier", "IstioBase"]);
  t.manifest("IstioManifests", serviceToken, cluster, peerAuthenticationManifest("aws.cdk.eks/prune-istio"), refs, ["KubectlReadyBarrier", "Istiod"]);
  helm(
    "SecretsStoreProviderAws",
    "secrets-store-provider-aws",
    "secrets-store-csi-driver-provider-aws",
    "2.2.0",
    "https://aws.github.io/secrets-store-csi-driver-provider-aws",
    "kube-system",
    { "secrets-store-csi-driver": { install: true, syncSecret: { enabled: true }, enableSecretRotation: true, rotationPollInterval: "2m" } },
    ["KubectlReadyBarrier"],
  );

  const code = "The verification code to your new account is {####}";
  t.add(
    "Users",
    "AWS::Cognito::UserPool",
    {
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: "verified_email", Priority: 1 }] },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      AutoVerifiedAttributes: ["email"],
      DeletionProtection: "ACTIVE",
      EmailVerificationMessage: code,
      EmailVerificationSubject: "Verify your new account",
      EnabledMfas: ["SOFTWARE_TOKEN_MFA"],
      MfaConfiguration: "OPTIONAL",
      Policies: { PasswordPolicy: { MinimumLength: 14, PasswordHistorySize: 5, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true, RequireUppercase: true, TemporaryPasswordValidityDays: 3 } },
      SmsVerificationMessage: code,
      UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ["email"] },
      UserPoolAddOns: { AdvancedSecurityMode: "ENFORCED" },
      UserPoolTier: "PLUS",
      UsernameAttributes: ["email"],
      UsernameConfiguration: { CaseSensitive: false },
      VerificationMessageTemplate: { DefaultEmailOption: "CONFIRM_WITH_CODE", EmailMessage: code, EmailSubject: "Verify your new account", SmsMessage: code },
    },
    { retain: true },
  );
  t.add("UsersClient", "AWS::Cognito::UserPoolClient", {
    AccessTokenValidity: 60,
    AllowedOAuthFlowsUserPoolClient: false,
    EnableTokenRevocation: true,
    ExplicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    GenerateSecret: false,
    IdTokenValidity: 60,
    PreventUserExistenceErrors: "ENABLED",
    RefreshTokenValidity: 43200,
    SupportedIdentityProviders: ["COGNITO"],
    TokenValidityUnits: { AccessToken: "minutes", IdToken: "minutes", RefreshToken: "minutes" },
    UserPoolId: ref("Users"),
  });
  t.add("VpcLinkSecurityGroup", "AWS::EC2::SecurityGroup", { GroupDescription: "API Gateway VPC link to the internal load balancers", VpcId: net.vpcId });
  t.add("VpcLink", "AWS::ApiGatewayV2::VpcLink", { Name: "bench-vpc-link", SecurityGroupIds: [att("VpcLinkSecurityGroup", "GroupId")], SubnetIds: net.privateSubnets });
  t.add("LoadBalancerSecurityGroup", "AWS::EC2::SecurityGroup", { GroupDescription: "Internal load balancers behind the API Gateway VPC link", VpcId: net.vpcId });
  const lbSg = att("LoadBalancerSecurityGroup", "GroupId");
  const vpcLinkSg = att("VpcLinkSecurityGroup", "GroupId");
  t.add("VpcLinkToLoadBalancers", "AWS::EC2::SecurityGroupEgress", { Description: "API Gateway VPC link", DestinationSecurityGroupId: lbSg, FromPort: 80, GroupId: vpcLinkSg, IpProtocol: "tcp", ToPort: 80 });
  t.add("LoadBalancersFromVpcLink", "AWS::EC2::SecurityGroupIngress", { Description: "API Gateway VPC link", FromPort: 80, GroupId: lbSg, IpProtocol: "tcp", SourceSecurityGroupId: vpcLinkSg, ToPort: 80 });
  t.add("LoadBalancersToWorkloads", "AWS::EC2::SecurityGroupEgress", { Description: "Gateway load balancers", DestinationSecurityGroupId: clusterSg, FromPort: 0, GroupId: lbSg, IpProtocol: "tcp", ToPort: 65535 });
  t.add("WorkloadsFromLoadBalancers", "AWS::EC2::SecurityGroupIngress", { Description: "Gateway load balancers", FromPort: 0, GroupId: clusterSg, IpProtocol: "tcp", SourceSecurityGroupId: lbSg, ToPort: 65535 });
  t.add("GatewayLogKey", "AWS::KMS::Key", { Description: "API gateway logs", EnableKeyRotation: true, KeyPolicy: rootKeyPolicy(logsKeyStatement) }, { retain: true });
  t.add(
    "LoadBalancerLogs",
    "AWS::S3::Bucket",
    {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 365, Status: "Enabled" }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    },
    { retain: true },
  );
  const bucketArn = att("LoadBalancerLogs", "Arn");
  const lbIndexes = Array.from({ length: model.loadBalancers }, (_, i) => i);
  const logPrefix = (i: number) => join(bucketArn, `/load-balancer-${i}/AWSLogs/`, account, "/*");
  t.add("LoadBalancerLogsPolicy", "AWS::S3::BucketPolicy", {
    Bucket: ref("LoadBalancerLogs"),
    PolicyDocument: {
      Statement: [
        { Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } }, Effect: "Deny", Principal: { AWS: "*" }, Resource: [bucketArn, join(bucketArn, "/*")] },
        ...lbIndexes.flatMap((i) => [
          { Action: "s3:PutObject", Effect: "Allow", Principal: { AWS: "arn:aws:iam::127311923021:root" }, Resource: logPrefix(i) },
          { Action: "s3:PutObject", Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } }, Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" }, Resource: logPrefix(i) },
        ]),
        { Action: "s3:GetBucketAcl", Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" }, Resource: bucketArn },
      ],
      Version: "2012-10-17",
    },
  });
  const visibility = (MetricName: string) => ({ CloudWatchMetricsEnabled: true, MetricName, SampledRequestsEnabled: true });
  t.add("WebAcl", "AWS::WAFv2::WebACL", {
    DefaultAction: { Allow: {} },
    Rules: [
      ...["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"].map((Name, i) => ({
        Name,
        OverrideAction: { None: {} },
        Priority: 10 * (i + 1),
        Statement: { ManagedRuleGroupStatement: { Name, VendorName: "AWS" } },
        VisibilityConfig: visibility(Name),
      })),
      {
        Action: { Block: {} },
        Name: "RateLimitPerClient",
        Priority: 30,
        Statement: { RateBasedStatement: { AggregateKeyType: "FORWARDED_IP", EvaluationWindowSec: 60, ForwardedIPConfig: { FallbackBehavior: "MATCH", HeaderName: "X-Forwarded-For" }, Limit: 6000 } },
        VisibilityConfig: visibility("RateLimitPerClient"),
      },
    ],
    Scope: "REGIONAL",
    VisibilityConfig: visibility("BenchPlatformGateway"),
  });
  t.add("Api", "AWS::ApiGatewayV2::Api", { Description: "Single entry of the landing zone", Name: "bench-gateway", ProtocolType: "HTTP" });
  t.add("Jwt", "AWS::ApiGatewayV2::Authorizer", {
    ApiId: ref("Api"),
    AuthorizerType: "JWT",
    IdentitySource: ["$request.header.Authorization"],
    JwtConfiguration: { Audience: [ref("UsersClient")], Issuer: att("Users", "ProviderURL") },
    Name: "Jwt",
  });
  // WAF logs only blocked and counted requests, to a log group whose name starts with aws-waf-logs-,
  // encrypted with the gateway's log key, and never the credentials a request carries.
  const wafLogGroupName = `aws-waf-logs-${ZONE}-${ENV}-platform-gateway`;
  t.add("WebAclLogGroup", "AWS::Logs::LogGroup", { KmsKeyId: att("GatewayLogKey", "Arn"), LogGroupName: wafLogGroupName, RetentionInDays: 365 }, { retain: true });
  t.add(
    "WebAclLogging",
    "AWS::WAFv2::LoggingConfiguration",
    {
      LogDestinationConfigs: [join(`arn:aws:logs:${REGION}:`, account, `:log-group:${wafLogGroupName}`)],
      LoggingFilter: {
        DefaultBehavior: "DROP",
        Filters: [{ Behavior: "KEEP", Requirement: "MEETS_ANY", Conditions: [{ ActionCondition: { Action: "BLOCK" } }, { ActionCondition: { Action: "COUNT" } }] }],
      },
      RedactedFields: [{ SingleHeader: { Name: "authorization" } }, { SingleHeader: { Name: "cookie" } }],
      ResourceArn: att("WebAcl", "Arn"),
    },
    { dependsOn: ["WebAclLogGroup"] },
  );
  t.add("AccessLogs", "AWS::Logs::LogGroup", { KmsKeyId: att("GatewayLogKey", "Arn"), RetentionInDays: 365 }, { retain: true });
  t.add("DefaultStage", "AWS::ApiGatewayV2::Stage", {
    AccessLogSettings: { DestinationArn: att("AccessLogs", "Arn"), Format: JSON.stringify(HTTP_API_ACCESS_LOG_FIELDS) },
    ApiId: ref("Api"),
    AutoDeploy: true,
    DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
    StageName: "$default",
  });
  for (const i of lbIndexes) {
    t.add(
      `LoadBalancer${i}`,
      "AWS::ElasticLoadBalancingV2::LoadBalancer",
      {
        LoadBalancerAttributes: [
          { Key: "deletion_protection.enabled", Value: "false" },
          { Key: "routing.http.drop_invalid_header_fields.enabled", Value: "true" },
          { Key: "access_logs.s3.enabled", Value: "true" },
          { Key: "access_logs.s3.bucket", Value: ref("LoadBalancerLogs") },
          { Key: "access_logs.s3.prefix", Value: `load-balancer-${i}` },
        ],
        Scheme: "internal",
        SecurityGroups: [lbSg],
        Subnets: net.publicSubnets,
        Type: "application",
      },
      { dependsOn: ["LoadBalancerLogsPolicy", "GatewayLoadBalancerAccess"] },
    );
    t.add(`WebAclAssociation${i}`, "AWS::WAFv2::WebACLAssociation", { ResourceArn: ref(`LoadBalancer${i}`), WebACLArn: att("WebAcl", "Arn") });
    t.add(`LoadBalancer${i}Http`, "AWS::ElasticLoadBalancingV2::Listener", {
      DefaultActions: [{ FixedResponseConfig: { ContentType: "application/json", MessageBody: '{"message":"Not Found"}', StatusCode: "404" }, Type: "fixed-response" }],
      LoadBalancerArn: ref(`LoadBalancer${i}`),
      Port: 80,
      Protocol: "HTTP",
    });
    t.add(`LoadBalancer${i}Integration`, "AWS::ApiGatewayV2::Integration", {
      ApiId: ref("Api"),
      ConnectionId: ref("VpcLink"),
      ConnectionType: "VPC_LINK",
      IntegrationMethod: "ANY",
      IntegrationType: "HTTP_PROXY",
      IntegrationUri: ref(`LoadBalancer${i}Http`),
      PayloadFormatVersion: "1.0",
    });
    for (const key of i === 0 ? ["/", "/{proxy+}"] : []) {
      t.add(`CatchAll${key === "/" ? "Root" : "Proxy"}Route`, "AWS::ApiGatewayV2::Route", { ApiId: ref("Api"), AuthorizationType: "JWT", AuthorizerId: ref("Jwt"), RouteKey: `ANY ${key}`, Target: join("integrations/", ref(`LoadBalancer${i}Integration`)) });
    }
    t.publish(`LoadBalancer${i}ArnParameter`, parameterName("gateway", "load-balancers", String(i), "arn"), ref(`LoadBalancer${i}`));
    t.publish(`LoadBalancer${i}ListenerArnParameter`, parameterName("gateway", "load-balancers", String(i), "listener-arn"), ref(`LoadBalancer${i}Http`));
    t.publish(`LoadBalancer${i}IntegrationIdParameter`, parameterName("gateway", "load-balancers", String(i), "integration-id"), ref(`LoadBalancer${i}Integration`));
  }
  t.publish("GatewayApiIdParameter", parameterName("gateway", "api-id"), ref("Api"));
  t.publish("GatewaySecurityGroupIdParameter", parameterName("gateway", "load-balancer-security-group-id"), lbSg);
  t.publish("GatewayAuthorizerIdParameter", parameterName("gateway", "authorizer-id"), ref("Jwt"));
  redis(t, "Sessions", "Session store", net, clusterSg, 7);
  t.publish("SessionEndpointParameter", parameterName("sessions", "endpoint"), att("Sessions", "PrimaryEndPoint.Address"));
  t.publish("SessionPortParameter", parameterName("sessions", "port"), "6379");
  t.publish("SessionAuthTokenArnParameter", parameterName("sessions", "auth-token-arn"), ref("SessionsAuthToken"));
  t.publish("ClusterNameParameter", parameterName("platform", "cluster-name"), cluster);
  t.publish("KubectlServiceTokenParameter", parameterName("platform", "kubectl-service-token"), serviceToken);
  t.publish("KubectlRoleArnParameter", parameterName("platform", "kubectl-role-arn"), att("KubectlHandlerRole", "Arn"));
  t.publish("WorkloadSecurityGroupIdParameter", parameterName("platform", "workload-security-group-id"), clusterSg);
}


function observability(templates: Template[], net: Network): void {
  const t = new Template(`${ZONE}-${ENV}-observability`, "Bench/Observability");
  templates.push(t);
  const refs = new Refs();
  const clusterName = t.read(parameterName("platform", "cluster-name"));
  const serviceToken = t.read(parameterName("platform", "kubectl-service-token"));
  const workloadSg = t.read(parameterName("platform", "workload-security-group-id"));
  const crToken = att("AwsCustomResource", "Arn");
  t.add("DomainSecurityGroup", "AWS::EC2::SecurityGroup", {
    GroupDescription: "OpenSearch domain: HTTPS from log writers and readers only",
    SecurityGroupEgress: [{ CidrIp: "255.255.255.255/32", Description: "Disallow all traffic", FromPort: 252, IpProtocol: "icmp", ToPort: 86 }],
    VpcId: net.vpcId,
  });
  t.add("DomainFromCluster", "AWS::EC2::SecurityGroupIngress", {
    Description: "Logstash and Dashboards users in the cluster",
    FromPort: 443,
    GroupId: att("DomainSecurityGroup", "GroupId"),
    IpProtocol: "tcp",
    SourceSecurityGroupId: workloadSg,
    ToPort: 443,
  });
  const groups = ["SlowSearchLogs", "SlowIndexLogs", "ApplicationLogs"];
  for (const g of groups) t.add(g, "AWS::Logs::LogGroup", { KmsKeyId: t.read(parameterName("network", "log-key-arn")), RetentionInDays: 30 }, { retain: true });
  t.add("AwsCustomResourceRole", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("lambda.amazonaws.com"), ManagedPolicyArns: [partitionArn("iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")] });
  lambdaFunction(
    t,
    "AwsCustomResource",
    {
      Code: assetLocation("9b8fce7ae7f25ef82fdbaf6b72523b99d0875c0c9c826642819fb51f11d9b125"),
      Handler: "index.handler",
      Role: att("AwsCustomResourceRole", "Arn"),
      Runtime: "nodejs24.x",
      Timeout: 120,
    },
    ["AwsCustomResourceRole"],
  );
  t.add("LogResourcePolicyGrant", "AWS::IAM::Policy", {
    PolicyDocument: { Statement: [{ Action: ["logs:DeleteResourcePolicy", "logs:PutResourcePolicy"], Effect: "Allow", Resource: "*" }], Version: "2012-10-17" },
    PolicyName: "LogResourcePolicyGrant",
    Roles: [ref("AwsCustomResourceRole")],
  });
  const logPolicyDocument = JSON.stringify({
    Statement: [{ Action: ["logs:PutLogEvents", "logs:CreateLogStream"], Effect: "Allow", Principal: { Service: "es.amazonaws.com" }, Resource: groups.map((g) => refs.marker(att(g, "Arn"))) }],
    Version: "2012-10-17",
  });
  const putLogPolicy = refs.render({
    service: "CloudWatchLogs",
    action: "putResourcePolicy",
    parameters: { policyName: "ESLogPolicybench", policyDocument: logPolicyDocument },
    physicalResourceId: { id: "ESLogGroupPolicybench" },
  });
  t.add(
    "LogResourcePolicy",
    "Custom::CloudwatchLogResourcePolicy",
    {
      ServiceToken: crToken,
      Create: putLogPolicy,
      Update: putLogPolicy,
      Delete: JSON.stringify({ service: "CloudWatchLogs", action: "deleteResourcePolicy", parameters: { policyName: "ESLogPolicybench" }, ignoreErrorCodesMatching: "ResourceNotFoundException" }),
      InstallLatestAwsSdk: false,
    },
    { dependsOn: ["LogResourcePolicyGrant"], deleteOnRemoval: true },
  );
  t.add(
    "Domain",
    "AWS::OpenSearchService::Domain",
    {
      ClusterConfig: {
        DedicatedMasterCount: 3,
        DedicatedMasterEnabled: true,
        DedicatedMasterType: "m6g.large.search",
        InstanceCount: 3,
        InstanceType: "r6g.large.search",
        MultiAZWithStandbyEnabled: false,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 3 },
        ZoneAwarenessEnabled: true,
      },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
      EBSOptions: { EBSEnabled: true, VolumeSize: 100, VolumeType: "gp3" },
      EncryptionAtRestOptions: { Enabled: true },
      EngineVersion: "OpenSearch_2.19",
      LogPublishingOptions: Object.fromEntries(["SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"].map((k, i) => [k, { CloudWatchLogsLogGroupArn: att(groups[i]!, "Arn"), Enabled: true }])),
      NodeToNodeEncryptionOptions: { Enabled: true },
      VPCOptions: { SecurityGroupIds: [att("DomainSecurityGroup", "GroupId")], SubnetIds: net.isolatedSubnets },
    },
    { dependsOn: ["LogResourcePolicyGrant", "LogResourcePolicy"], retain: true },
  );
  const domainArn = att("Domain", "Arn");
  t.add("LogstashRole", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), Description: "EKS Pod Identity of logging/logstash" });
  const readBuffer = { Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Effect: "Allow", Resource: ref("BufferAuthToken") };
  t.add("LogstashRolePolicy", "AWS::IAM::Policy", {
    PolicyDocument: { Statement: [{ Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"], Effect: "Allow", Resource: [domainArn, join(domainArn, "/*")] }, readBuffer], Version: "2012-10-17" },
    PolicyName: "LogstashRolePolicy",
    Roles: [ref("LogstashRole")],
  });
  t.add("LogstashAssociation", "AWS::EKS::PodIdentityAssociation", { ClusterName: clusterName, Namespace: "logging", RoleArn: att("LogstashRole", "Arn"), ServiceAccount: "logstash" });
  t.add("ShipperRole", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), Description: "EKS Pod Identity of logging/filebeat" });
  t.add("ShipperRolePolicy", "AWS::IAM::Policy", { PolicyDocument: { Statement: [readBuffer], Version: "2012-10-17" }, PolicyName: "ShipperRolePolicy", Roles: [ref("ShipperRole")] });
  t.add("ShipperAssociation", "AWS::EKS::PodIdentityAssociation", { ClusterName: clusterName, Namespace: "logging", RoleArn: att("ShipperRole", "Arn"), ServiceAccount: "filebeat" });
  t.add("AccessPolicyGrant", "AWS::IAM::Policy", {
    PolicyDocument: { Statement: [{ Action: "es:UpdateDomainConfig", Effect: "Allow", Resource: domainArn }], Version: "2012-10-17" },
    PolicyName: "AccessPolicyGrant",
    Roles: [ref("AwsCustomResourceRole")],
  });
  const accessPolicy = refs.render({
    action: "updateDomainConfig",
    service: "OpenSearch",
    parameters: {
      DomainName: refs.marker(ref("Domain")),
      AccessPolicies: JSON.stringify({
        Statement: [
          {
            Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"],
            Effect: "Allow",
            Principal: { AWS: refs.marker(att("LogstashRole", "Arn")) },
            Resource: [refs.marker(domainArn), `${refs.marker(domainArn)}/*`],
          },
        ],
        Version: "2012-10-17",
      }),
    },
    outputPaths: ["DomainConfig.AccessPolicies"],
    physicalResourceId: { id: `${refs.marker(ref("Domain"))}AccessPolicy` },
  });
  t.add("DomainAccessPolicy", "Custom::OpenSearchAccessPolicy", { ServiceToken: crToken, Create: accessPolicy, Update: accessPolicy, InstallLatestAwsSdk: false }, { dependsOn: ["AccessPolicyGrant"], deleteOnRemoval: true });
  redis(t, "Buffer", "Log buffer", net, workloadSg, 0);
  t.manifest(
    "LogPipelineManifests",
    serviceToken,
    clusterName,
    logPipelineManifests("aws.cdk.eks/prune-logging", refs.marker(att("Buffer", "PrimaryEndPoint.Address")), refs.marker(att("Domain", "DomainEndpoint")), refs.marker(ref("BufferAuthToken"))),
    refs,
    ["LogstashAssociation", "LogstashRolePolicy", "LogstashRole", "ShipperAssociation", "ShipperRolePolicy", "ShipperRole"],
  );
}

function messaging(templates: Template[], model: BaselineModel): void {
  const t = new Template(`${ZONE}-${ENV}-messaging`, "Bench/Messaging");
  templates.push(t);
  t.add(
    "BrokerKey",
    "AWS::KMS::Key",
    {
      Description: "Encrypts the messages of the broker",
      EnableKeyRotation: true,
      KeyPolicy: rootKeyPolicy({
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Condition: { ArnLike: { "aws:SourceArn": join(`arn:aws:sns:${REGION}:`, account, ":*") } },
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Resource: "*",
      }),
    },
    { retain: true },
  );
  t.publish("KeyArnParameter", parameterName("messaging", "key-arn"), att("BrokerKey", "Arn"));
  // Topic stacks 1.. (`-messaging-<n>`) read the key's ARN from its parameter.
  const shards = [t, ...Array.from({ length: model.topicStacks - 1 }, (_, i) => new Template(`${ZONE}-${ENV}-messaging-${i + 1}`, `Bench/Messaging${i + 1}`))];
  templates.push(...shards.slice(1));
  for (const topic of model.topics) {
    const s = shards[topic.stack]!;
    const topicId = `${topic.id}Topic`;
    s.add(topicId, "AWS::SNS::Topic", { KmsMasterKeyId: topic.stack === 0 ? att("BrokerKey", "Arn") : s.read(parameterName("messaging", "key-arn")) });
    s.add(`${topicId}Policy`, "AWS::SNS::TopicPolicy", {
      PolicyDocument: { Statement: [{ ...denyInsecure("sns:Publish", ref(topicId), "*"), Sid: "AllowPublishThroughSSLOnly" }], Version: "2012-10-17" },
      Topics: [ref(topicId)],
    });
    s.publish(`${topic.id}TopicParameter`, parameterName("messaging", "topics", topic.event), ref(topicId));
  }
}

/** The service's registry, in its own delivery stack (deployed, and an image pushed, before its service stack). */
function delivery(templates: Template[], s: BaselineService): void {
  const t = new Template(`${ZONE}-${ENV}-delivery-${s.name}`, `Bench/Delivery${s.id}`);
  templates.push(t);
  t.add(
    "Repository",
    "AWS::ECR::Repository",
    {
      EmptyOnDelete: false,
      EncryptionConfiguration: { EncryptionType: "KMS" },
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: "IMMUTABLE",
      LifecyclePolicy: {
        LifecyclePolicyText: JSON.stringify({
          rules: [{ rulePriority: 1, description: "Keep the last 30 images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 }, action: { type: "expire" } }],
        }),
      },
      RepositoryName: `${ZONE}-${s.name}`,
    },
    { retain: true },
  );
}

/** The service's own queue of each event it subscribes to, fed by the messaging stack's topic (read from its parameter); subscription name → queue ARN. */
function subscriptionQueues(t: Template, s: BaselineService): Map<string, Json> {
  const queueArns = new Map<string, Json>();
  for (const sub of s.subscriptions) {
    const id = pascal(sub.event);
    const key = t.read(parameterName("messaging", "key-arn"));
    const topicArn = t.read(parameterName("messaging", "topics", sub.event));
    t.add(`${id}DeadLetterQueue`, "AWS::SQS::Queue", { KmsMasterKeyId: key, MessageRetentionPeriod: 1209600 }, { retain: true });
    t.add(`${id}DeadLetterQueuePolicy`, "AWS::SQS::QueuePolicy", {
      PolicyDocument: { Statement: [denyInsecure("sqs:*", att(`${id}DeadLetterQueue`, "Arn"), { AWS: "*" })], Version: "2012-10-17" },
      Queues: [ref(`${id}DeadLetterQueue`)],
    });
    t.add(
      `${id}Queue`,
      "AWS::SQS::Queue",
      { KmsMasterKeyId: key, MessageRetentionPeriod: 345600, RedrivePolicy: { deadLetterTargetArn: att(`${id}DeadLetterQueue`, "Arn"), maxReceiveCount: 5 } },
      { retain: true },
    );
    const queueArn = att(`${id}Queue`, "Arn");
    t.add(`${id}QueuePolicy`, "AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: [
          denyInsecure("sqs:*", queueArn, { AWS: "*" }),
          { Action: "sqs:SendMessage", Condition: { ArnEquals: { "aws:SourceArn": topicArn } }, Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Resource: queueArn },
        ],
        Version: "2012-10-17",
      },
      Queues: [ref(`${id}Queue`)],
    });
    t.add(`${id}Subscription`, "AWS::SNS::Subscription", { Endpoint: queueArn, Protocol: "sqs", RawMessageDelivery: true, TopicArn: topicArn }, { dependsOn: [`${id}QueuePolicy`] });
    queueArns.set(sub.queue, queueArn);
  }
  return queueArns;
}

/** The service's own share of the gateway: target group, listener rule and API routes, attached through SSM parameters. */
function gatewayRoutes(t: Template, s: BaselineService, route: BaselineModel["routes"][number]): Json {
  const lb = String(route.loadBalancer);
  t.add("TargetGroup", "AWS::ElasticLoadBalancingV2::TargetGroup", {
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: 15,
    HealthCheckPath: "/health",
    HealthCheckProtocol: "HTTP",
    HealthyThresholdCount: 2,
    Matcher: { HttpCode: "200-399" },
    Port: s.port,
    Protocol: "HTTP",
    TargetGroupAttributes: [{ Key: "deregistration_delay.timeout_seconds", Value: "30" }],
    TargetType: "ip",
    UnhealthyThresholdCount: 3,
    VpcId: t.read(parameterName("network", "vpc-id")),
  });
  t.add("Rule", "AWS::ElasticLoadBalancingV2::ListenerRule", {
    Actions: [{ TargetGroupArn: ref("TargetGroup"), Type: "forward" }],
    Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: [s.path, `${s.path}/*`] } }],
    ListenerArn: t.read(parameterName("gateway", "load-balancers", lb, "listener-arn")),
    Priority: route.priority,
    Tags: TAG_LIST,
  });
  for (const key of route.loadBalancer === 0 ? [] : [s.path, `${s.path}/{proxy+}`]) {
    t.add(`Route${key.endsWith("}") ? "Proxy" : ""}`, "AWS::ApiGatewayV2::Route", {
      ApiId: t.read(parameterName("gateway", "api-id")),
      AuthorizationType: "JWT",
      AuthorizerId: t.read(parameterName("gateway", "authorizer-id")),
      RouteKey: `ANY ${key}`,
      Target: join("integrations/", t.read(parameterName("gateway", "load-balancers", lb, "integration-id"))),
    });
  }
  return ref("TargetGroup");
}

function service(templates: Template[], s: BaselineService, route: BaselineModel["routes"][number] | undefined): void {
  const t = new Template(`${ZONE}-${ENV}-svc-${s.name}`, `Bench/Svc${s.id}`);
  templates.push(t);
  const refs = new Refs();
  const clusterName = t.read(parameterName("platform", "cluster-name"));
  const serviceToken = t.read(parameterName("platform", "kubectl-service-token"));
  t.add("Role", "AWS::IAM::Role", { AssumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), Description: `EKS Pod Identity of ${NAMESPACE}/${s.name}` });
  t.add("Association", "AWS::EKS::PodIdentityAssociation", { ClusterName: clusterName, Namespace: NAMESPACE, RoleArn: att("Role", "Arn"), ServiceAccount: s.name });
  for (const [key, value] of Object.entries(s.config)) {
    t.add(`Config${key}`, "AWS::SSM::Parameter", { Description: `${key} of ${s.name}`, Name: `/msa/${ZONE}/${ENV}/config/${s.name}/${key}`, Type: "String", Value: value });
  }
  // The service's own secrets are encrypted with a key of its own, usable only through Secrets
  // Manager: by the account, and for decryption by the service's pod identity.
  if (s.secrets.length > 0) {
    t.add(
      "SecretsKey",
      "AWS::KMS::Key",
      {
        Description: `Encrypts the secrets of ${s.name}`,
        EnableKeyRotation: true,
        KeyPolicy: rootKeyPolicy(...secretsKeyStatements, { Action: "kms:Decrypt", Condition: viaSecretsManager, Effect: "Allow", Principal: { AWS: att("Role", "Arn") }, Resource: "*" }),
      },
      { retain: true },
    );
  }
  for (const key of s.secrets) {
    t.add(
      `Secret${key}`,
      "AWS::SecretsManager::Secret",
      {
        Description: `${key} of ${s.name}; generated once, rotated by the team`,
        GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 32 },
        KmsKeyId: att("SecretsKey", "Arn"),
        Name: `msa/${ZONE}/${ENV}/${s.name}/${key}`,
      },
      { retain: true },
    );
  }
  const queueArns = subscriptionQueues(t, s);
  const sessionToken = t.read(parameterName("sessions", "auth-token-arn"));
  const secretArn = (key: string) => (key === "SESSION_STORE_PASSWORD" ? sessionToken : ref(`Secret${key}`));
  const configPath = (suffix: string) => join(`arn:aws:ssm:${REGION}:`, account, `:parameter/msa/${ZONE}/${ENV}/config/${s.name}${suffix}`);
  const statements: object[] = [
    { Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"], Effect: "Allow", Resource: [configPath(""), configPath("/*")] },
    { Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Effect: "Allow", Resource: [...s.secrets.map((k) => ref(`Secret${k}`)), sessionToken] },
  ];
  for (const e of s.publishes) statements.push({ Action: "sns:Publish", Effect: "Allow", Resource: t.read(parameterName("messaging", "topics", e)) });
  for (const arn of queueArns.values()) {
    statements.push({ Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], Effect: "Allow", Resource: arn });
  }
  if (s.publishes.length + s.subscriptions.length > 0) statements.push({ Action: ["kms:Decrypt", "kms:GenerateDataKey"], Effect: "Allow", Resource: t.read(parameterName("messaging", "key-arn")) });
  t.add("RolePolicy", "AWS::IAM::Policy", { PolicyDocument: { Statement: statements, Version: "2012-10-17" }, PolicyName: "RolePolicy", Roles: [ref("Role")] });
  t.manifest("ServiceAccount", serviceToken, clusterName, serviceAccountManifest(s.name, NAMESPACE, `aws.cdk.eks/prune-${s.name}-sa`), refs);
  t.manifest(
    "Workload",
    serviceToken,
    clusterName,
    workloadManifests(s, `aws.cdk.eks/prune-${s.name}`, {
      secret: (key) => refs.marker(secretArn(key)),
      config: (key) => refs.marker(att(`Config${key}`, "Value")),
      sessionEndpoint: `${refs.marker(t.read(parameterName("sessions", "endpoint")))}:${refs.marker(t.read(parameterName("sessions", "port")))}`,
      topicArn: (e) => refs.marker(t.read(parameterName("messaging", "topics", e))),
      queueArn: (q) => refs.marker(queueArns.get(q)),
      targetGroupArn: route ? refs.marker(gatewayRoutes(t, s, route)) : undefined,
      image: `${refs.marker(account)}.dkr.ecr.${REGION}.${refs.marker(ref("AWS::URLSuffix"))}/${ZONE}-${s.name}:latest`,
    }),
    refs,
    ["Association", "RolePolicy"],
  );
}

/** Writes the floor's templates for `n` services into `outdir`. */
export function writeFloor(n: number, outdir: string): void {
  const model = baselineModel(n);
  const templates: Template[] = [];
  const net = network(templates);
  platform(templates, net, model);
  observability(templates, net);
  messaging(templates, model);
  const routes = new Map(model.routes.map((r) => [r.target.name, r]));
  for (const s of model.services) {
    delivery(templates, s);
    service(templates, s, routes.get(s.name));
  }
  mkdirSync(outdir, { recursive: true });
  for (const t of templates) t.write(outdir);
}
