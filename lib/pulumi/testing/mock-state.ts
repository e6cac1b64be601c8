/**
 * Realistic provider state for programs run under mocks: the inputs plus the ids, ARNs, endpoints and
 * credentials AWS, GCP and Azure would compute, in their formats, so components that parse or join
 * them behave as they would against the cloud. No value here is real.
 */
import { azureMockCall, azureMockState } from "./azure-mocks.js";

export const MOCK_ACCOUNT = "123456789012";
export const MOCK_REGION = "us-east-1";
export const MOCK_ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"] as const;
export const MOCK_GCP_PROJECT = "mock-project";
export const MOCK_GCP_PROJECT_NUMBER = "123456789012";
/** Config every GCP program runs with (the provider's project and region). */
export const GCP_CONFIG: Readonly<Record<string, string>> = { "gcp:project": MOCK_GCP_PROJECT, "gcp:region": "asia-northeast3" };

function arn(service: string, resource: string, region: string = MOCK_REGION): string {
  return `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${resource}`;
}

const ID_PREFIXES: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc",
  "aws:ec2/subnet:Subnet": "subnet",
  "aws:ec2/securityGroup:SecurityGroup": "sg",
  "aws:ec2/internetGateway:InternetGateway": "igw",
  "aws:ec2/natGateway:NatGateway": "nat",
  "aws:ec2/routeTable:RouteTable": "rtb",
  "aws:ec2/eip:Eip": "eipalloc",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
  "aws:ec2/flowLog:FlowLog": "fl",
};

/** Realistic provider state: the inputs plus ids, ARNs and endpoints a real provider would compute. */
export function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type.startsWith("azure-native:")) return azureMockState(type, name, inputs);
  if (type.startsWith("gcp:")) return gcpState(type, name, inputs);
  const physical = typeof inputs["name"] === "string" ? (inputs["name"] as string) : name;
  const prefix = ID_PREFIXES[type];
  const id = prefix ? `${prefix}-${name}` : `${physical}-id`;
  const service = /^aws:([a-z0-9]+)\//.exec(type)?.[1] ?? "mock";
  const base: Record<string, unknown> = { ...inputs, id, arn: arn(service, physical), name: physical };
  switch (type) {
    case "aws:lb/targetGroup:TargetGroup":
      return { ...base, arn: `arn:aws:elasticloadbalancing:${MOCK_REGION}:${MOCK_ACCOUNT}:targetgroup/${physical}/0123456789abcdef`, arnSuffix: `targetgroup/${physical}/0123456789abcdef` };
    case "aws:lb/loadBalancer:LoadBalancer":
      // CloudWatch's LoadBalancer dimension is the ARN's suffix after "loadbalancer/".
      return {
        ...base,
        arn: `arn:aws:elasticloadbalancing:${MOCK_REGION}:${MOCK_ACCOUNT}:loadbalancer/app/${physical}/0123456789abcdef`,
        arnSuffix: `app/${physical}/0123456789abcdef`,
        dnsName: `internal-${physical}-123456.${MOCK_REGION}.elb.amazonaws.com`,
      };
    case "aws:iam/role:Role":
    case "aws:iam/policy:Policy":
      return { ...base, arn: `arn:aws:iam::${MOCK_ACCOUNT}:${type.endsWith("Role") ? "role" : "policy"}/${physical}` };
    case "aws:kms/key:Key":
      return { ...base, id: `${name}-key-id`, keyId: `${name}-key-id`, arn: arn("kms", `key/${name}-key-id`) };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { ...base, arn: arn("logs", `log-group:${physical}`) };
    case "aws:sns/topic:Topic":
      return { ...base, id: arn("sns", physical), arn: arn("sns", physical) };
    case "aws:sqs/queue:Queue":
      return { ...base, id: `https://sqs.${MOCK_REGION}.amazonaws.com/${MOCK_ACCOUNT}/${physical}`, url: `https://sqs.${MOCK_REGION}.amazonaws.com/${MOCK_ACCOUNT}/${physical}`, arn: arn("sqs", physical) };
    case "aws:secretsmanager/secret:Secret":
      return { ...base, arn: arn("secretsmanager", `secret:${physical}-AbCdEf`) };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return {
        ...base,
        id: physical,
        arn: arn("elasticache", `replicationgroup:${physical}`),
        primaryEndpointAddress: `master.${physical}.abc123.use1.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${physical}.abc123.use1.cache.amazonaws.com`,
        configurationEndpointAddress: `clustercfg.${physical}.abc123.use1.cache.amazonaws.com`,
      };
    case "aws:opensearch/domain:Domain": {
      const domainName = typeof inputs["domainName"] === "string" ? (inputs["domainName"] as string) : physical;
      return {
        ...base,
        id: arn("es", `domain/${domainName}`),
        arn: arn("es", `domain/${domainName}`),
        domainName,
        endpoint: `vpc-${domainName}-abc123.${MOCK_REGION}.es.amazonaws.com`,
      };
    }
    case "aws:msk/cluster:Cluster": {
      const clusterName = typeof inputs["clusterName"] === "string" ? (inputs["clusterName"] as string) : physical;
      const brokers = [1, 2, 3].map((i) => `b-${i}.${clusterName}.abc123.c2.kafka.${MOCK_REGION}.amazonaws.com:9098`).join(",");
      return {
        ...base,
        arn: arn("kafka", `cluster/${clusterName}/uuid`),
        bootstrapBrokersSaslIam: brokers,
        bootstrapBrokersTls: brokers.replaceAll(":9098", ":9094"),
        zookeeperConnectString: "",
      };
    }
    case "aws:eks/cluster:Cluster":
      return {
        ...base,
        endpoint: `https://${physical}.gr7.${MOCK_REGION}.eks.amazonaws.com`,
        arn: arn("eks", `cluster/${physical}`),
        vpcConfig: { ...(inputs["vpcConfig"] as Record<string, unknown>), clusterSecurityGroupId: `sg-${physical}-cluster` },
      };
    case "aws:rds/instance:Instance": {
      const identifier = typeof inputs["identifier"] === "string" ? (inputs["identifier"] as string) : `${name}-id`;
      return {
        ...base,
        id: identifier,
        arn: arn("rds", `db:${identifier}`),
        address: `${identifier}.abc123.${MOCK_REGION}.rds.amazonaws.com`,
        endpoint: `${identifier}.abc123.${MOCK_REGION}.rds.amazonaws.com:${String(inputs["port"] ?? 5432)}`,
        resourceId: `db-${identifier.toUpperCase().replace(/[^A-Z0-9]/g, "")}`,
        masterUserSecrets: inputs["manageMasterUserPassword"]
          ? [{ secretArn: arn("secretsmanager", `secret:rds!db-${identifier}-AbCdEf`), kmsKeyId: String(inputs["masterUserSecretKmsKeyId"] ?? ""), secretStatus: "active" }]
          : [],
      };
    }
    case "aws:dynamodb/table:Table":
      return {
        ...base,
        arn: arn("dynamodb", `table/${physical}`),
        ...(inputs["streamEnabled"] ? { streamArn: arn("dynamodb", `table/${physical}/stream/2026-01-01T00:00:00.000`) } : {}),
      };
    case "aws:sfn/stateMachine:StateMachine":
      return { ...base, id: arn("states", `stateMachine:${physical}`), arn: arn("states", `stateMachine:${physical}`) };
    case "aws:cloudwatch/eventBus:EventBus":
      return { ...base, arn: arn("events", `event-bus/${physical}`) };
    case "aws:cloudwatch/eventRule:EventRule":
      return { ...base, arn: arn("events", `rule/${String(inputs["eventBusName"] ?? "default")}/${physical}`) };
    case "aws:ecr/repository:Repository":
      return { ...base, arn: arn("ecr", `repository/${physical}`), repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/${physical}` };
    case "aws:s3/bucket:Bucket": {
      const bucket = `${name}-bucket-id`;
      return { ...base, id: bucket, bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com`, bucketRegionalDomainName: `${bucket}.s3.${MOCK_REGION}.amazonaws.com` };
    }
    case "aws:cloudfront/distribution:Distribution":
      return { ...base, id: "E2MOCKDISTRIBUTION", arn: `arn:aws:cloudfront::${MOCK_ACCOUNT}:distribution/E2MOCKDISTRIBUTION`, domainName: "d111111abcdef8.cloudfront.net" };
    case "aws:codebuild/project:Project":
      return { ...base, arn: arn("codebuild", `project/${physical}`) };
    case "aws:ssm/parameter:Parameter":
      return { ...base, arn: arn("ssm", `parameter${physical}`) };
    case "aws:apigatewayv2/api:Api":
      return { ...base, id: `${name}-api-id`, executionArn: arn("execute-api", `${name}-api-id`), apiEndpoint: `https://${name}-api-id.execute-api.${MOCK_REGION}.amazonaws.com` };
    case "aws:lambda/function:Function":
      return { ...base, arn: arn("lambda", `function:${physical}`), invokeArn: `arn:aws:apigateway:${MOCK_REGION}:lambda:path/2015-03-31/functions/${arn("lambda", `function:${physical}`)}/invocations` };
    case "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
      return { ...base, id: `ns-${name}`, arn: arn("servicediscovery", `namespace/ns-${name}`), hostedZone: `Z${name.replace(/[^A-Za-z0-9]/g, "").toUpperCase()}` };
    case "aws:servicediscovery/httpNamespace:HttpNamespace":
      return { ...base, id: `ns-${name}`, arn: arn("servicediscovery", `namespace/ns-${name}`) };
    case "aws:servicediscovery/service:Service":
      return { ...base, id: `srv-${name}`, arn: arn("servicediscovery", `service/srv-${name}`) };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...base, id: `lt-${name}`, latestVersion: 1 };
    case "aws:elasticbeanstalk/environment:Environment":
      return { ...base, cname: `${String(inputs["cnamePrefix"] ?? physical)}.${MOCK_REGION}.elasticbeanstalk.com`, endpointUrl: `internal-${physical}.${MOCK_REGION}.elb.amazonaws.com` };
    case "random:index/randomPassword:RandomPassword":
      return { ...base, result: `mock-password-${name}` };
    case "random:index/randomBytes:RandomBytes": {
      const bytes = Buffer.alloc(Number(inputs["length"] ?? 32), name);
      return { ...base, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    default:
      return base;
  }
}

/** GCP provider state: ids and self links in the provider's formats, plus computed endpoints and credentials. */
function gcpState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const project = MOCK_GCP_PROJECT;
  const str = (key: string) => (typeof inputs[key] === "string" ? (inputs[key] as string) : undefined);
  // Resources left to autonaming get the logical name plus a suffix, as the provider does.
  const physical = str("name") ?? `${name}-a1b2c3d`;
  const region = str("region") ?? str("location") ?? "asia-northeast3";
  const compute = (collection: string, scope = "global") => {
    const id = `projects/${project}/${scope === "global" ? "global" : `regions/${region}`}/${collection}/${physical}`;
    return { ...inputs, name: physical, id, selfLink: `https://www.googleapis.com/compute/v1/${id}` };
  };
  switch (type) {
    case "gcp:compute/network:Network":
      return compute("networks");
    case "gcp:compute/subnetwork:Subnetwork":
      return compute("subnetworks", "region");
    case "gcp:compute/router:Router":
      return compute("routers", "region");
    case "gcp:compute/globalAddress:GlobalAddress":
      return { ...compute("addresses"), address: str("address") ?? "34.120.10.20" };
    case "gcp:compute/address:Address":
      return { ...compute("addresses", "region"), address: str("address") ?? "10.0.0.60" };
    case "gcp:compute/healthCheck:HealthCheck":
      return compute("healthChecks");
    case "gcp:compute/backendService:BackendService":
      return compute("backendServices");
    case "gcp:compute/securityPolicy:SecurityPolicy":
      return compute("securityPolicies");
    case "gcp:compute/uRLMap:URLMap":
      return compute("urlMaps");
    case "gcp:compute/backendBucket:BackendBucket":
      return compute("backendBuckets");
    case "gcp:storage/bucket:Bucket":
      // A bucket's id is its globally unique name.
      return { ...inputs, name: physical, id: physical, url: `gs://${physical}`, selfLink: `https://www.googleapis.com/storage/v1/b/${physical}` };
    case "gcp:compute/instanceTemplate:InstanceTemplate": {
      const template = compute("instanceTemplates");
      return { ...template, selfLinkUnique: `${template.selfLink}?uniqueId=1234567890` };
    }
    case "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager":
      return { ...compute("instanceGroupManagers", "region"), instanceGroup: `https://www.googleapis.com/compute/v1/projects/${project}/regions/${region}/instanceGroups/${physical}` };
    case "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup":
      return compute("networkEndpointGroups", "region");
    case "gcp:compute/regionBackendService:RegionBackendService":
      return compute("backendServices", "region");
    case "gcp:compute/forwardingRule:ForwardingRule":
      return { ...compute("forwardingRules", "region"), ipAddress: "10.0.0.100" };
    case "gcp:serviceaccount/account:Account": {
      const email = `${str("accountId")}@${project}.iam.gserviceaccount.com`;
      return { ...inputs, email, member: `serviceAccount:${email}`, name: `projects/${project}/serviceAccounts/${email}`, id: `projects/${project}/serviceAccounts/${email}` };
    }
    case "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": {
      const pool = `projects/${MOCK_GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${str("workloadIdentityPoolId")}`;
      return { ...inputs, name: pool, id: pool };
    }
    case "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": {
      const provider = `projects/${MOCK_GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${str("workloadIdentityPoolId")}/providers/${str("workloadIdentityPoolProviderId")}`;
      return { ...inputs, name: provider, id: provider };
    }
    case "gcp:projects/iAMCustomRole:IAMCustomRole":
      return { ...inputs, name: `projects/${project}/roles/${str("roleId")}`, id: `projects/${project}/roles/${str("roleId")}` };
    case "gcp:kms/keyRing:KeyRing":
      return { ...inputs, name: physical, id: `projects/${project}/locations/${region}/keyRings/${physical}` };
    case "gcp:kms/cryptoKey:CryptoKey":
      return { ...inputs, name: physical, id: `${str("keyRing")}/cryptoKeys/${physical}` };
    case "gcp:container/cluster:Cluster":
      return {
        ...inputs,
        name: physical,
        id: `projects/${project}/locations/${region}/clusters/${physical}`,
        endpoint: "10.0.128.2",
        masterAuth: { clusterCaCertificate: Buffer.from("mock-cluster-ca").toString("base64") },
      };
    case "gcp:artifactregistry/repository:Repository":
      return { ...inputs, name: `projects/${project}/locations/${region}/repositories/${str("repositoryId")}`, id: `projects/${project}/locations/${region}/repositories/${str("repositoryId")}` };
    case "gcp:secretmanager/secret:Secret":
      return { ...inputs, id: `projects/${project}/secrets/${str("secretId")}`, name: `projects/${MOCK_GCP_PROJECT_NUMBER}/secrets/${str("secretId")}` };
    case "gcp:secretmanager/secretVersion:SecretVersion":
      return { ...inputs, id: `${str("secret")}/versions/1`, name: `${str("secret")}/versions/1`, version: "1" };
    case "gcp:redis/instance:Instance":
      return {
        ...inputs,
        name: physical,
        id: `projects/${project}/locations/${region}/instances/${physical}`,
        host: "10.0.192.4",
        port: 6378,
        authString: `mock-auth-${name}`,
        serverCaCerts: [{ cert: "-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----", sha1Fingerprint: "00" }],
      };
    case "gcp:logging/projectSink:ProjectSink":
      return { ...inputs, name: physical, id: `projects/${project}/sinks/${physical}`, writerIdentity: `serviceAccount:service-${MOCK_GCP_PROJECT_NUMBER}@gcp-sa-logging.iam.gserviceaccount.com` };
    case "gcp:pubsub/topic:Topic":
      return { ...inputs, name: physical, id: `projects/${project}/topics/${physical}` };
    case "gcp:pubsub/subscription:Subscription":
      return { ...inputs, name: physical, id: `projects/${project}/subscriptions/${physical}` };
    case "gcp:appengine/application:Application":
      return { ...inputs, id: project, name: `apps/${project}`, appId: project, defaultHostname: `${project}.du.r.appspot.com` };
    case "gcp:endpoints/service:Service":
      // The provider rolls out the document and reports the config id ESP fetches.
      return { ...inputs, id: str("serviceName"), dnsAddress: str("serviceName"), configId: "2026-11-30r0" };
    case "gcp:servicedirectory/namespace:Namespace":
      return { ...inputs, id: `projects/${project}/locations/${region}/namespaces/${str("namespaceId")}`, name: `projects/${project}/locations/${region}/namespaces/${str("namespaceId")}` };
    case "gcp:servicedirectory/service:Service":
      return { ...inputs, id: `${str("namespace")}/services/${str("serviceId")}`, name: `${str("namespace")}/services/${str("serviceId")}` };
    case "gcp:compute/networkAttachment:NetworkAttachment":
      return { ...inputs, id: `projects/${project}/regions/${region}/networkAttachments/${physical}` };
    case "gcp:cloudbuild/workerPool:WorkerPool":
      return { ...inputs, id: `projects/${project}/locations/${str("location")}/workerPools/${physical}` };
    case "gcp:cloudbuild/trigger:Trigger":
      return { ...inputs, id: `projects/${project}/locations/${str("location")}/triggers/${physical}-0000`, triggerId: `${physical}-0000` };
    case "gcp:sql/databaseInstance:DatabaseInstance":
      return { ...inputs, name: physical, id: physical, privateIpAddress: "10.0.192.10", connectionName: `${project}:${region}:${physical}`, selfLink: `https://sqladmin.googleapis.com/sql/v1beta4/projects/${project}/instances/${physical}` };
    default:
      return { ...inputs, name: physical, id: `${physical}-id` };
  }
}

export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (token.startsWith("azure-native:")) return azureMockCall(token, inputs) ?? inputs;
  switch (token) {
    case "gcp:organizations/getProject:getProject":
      return { projectId: MOCK_GCP_PROJECT, number: MOCK_GCP_PROJECT_NUMBER, name: "Mock project", id: `projects/${MOCK_GCP_PROJECT}` };
    case "gcp:organizations/getClientConfig:getClientConfig":
      return { project: MOCK_GCP_PROJECT, region: "asia-northeast3", zone: "asia-northeast3-a", accessToken: "mock-token", id: MOCK_GCP_PROJECT };
    case "gcp:secretmanager/getSecretVersion:getSecretVersion":
      // The digest a service's Cloud Build rollout recorded last.
      return { ...inputs, version: "2", name: `${String(inputs["secret"])}/versions/2`, secretData: `asia-northeast3-docker.pkg.dev/${MOCK_GCP_PROJECT}/released/released@sha256:${"0".repeat(64)}`, id: `${String(inputs["secret"])}/versions/2` };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: "AIDAMOCK", id: MOCK_ACCOUNT };
    case "aws:index/getRegion:getRegion":
      return { name: MOCK_REGION, region: MOCK_REGION, id: MOCK_REGION, endpoint: `ec2.${MOCK_REGION}.amazonaws.com`, description: "US East (N. Virginia)" };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    case "aws:ssm/getParameter:getParameter":
      // A released image where a pipeline's deploy stage records one; otherwise the AMI a VM fleet boots.
      if (String(inputs["name"]).includes("/delivery/")) {
        return { name: inputs["name"], type: "String", value: `${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com/released@sha256:${"0".repeat(64)}`, arn: arn("ssm", `parameter${String(inputs["name"])}`), id: inputs["name"] };
      }
      return { name: inputs["name"], type: "String", value: "ami-0123456789abcdef0", arn: arn("ssm", `parameter${String(inputs["name"])}`), id: inputs["name"] };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: [...MOCK_ZONES], zoneIds: ["use1-az1", "use1-az2", "use1-az4"], id: MOCK_REGION };
    default:
      return inputs;
  }
}
