import { beforeAll, describe, expect, it } from "vitest";
import { PlanError } from "../../../lib/plan/planner.js";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, childrenOf, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

/** Everything the Pulumi engine covers on AWS today (pipelines aside), with tracing and monitoring on. */
const SPEC: LandingZoneInput = {
  name: "shop",
  environment: "prod",
  gateway: { auth: "jwt" },
  mesh: { kind: "istio" },
  tracing: { backend: "xray" },
  monitoring: { alarmEmail: "ops@example.com" },
  pipelines: { perService: false },
  bffs: ["web"],
  services: [
    { name: "orders", publishes: ["order-placed"], secrets: ["DB_PASSWORD"] },
    { name: "payments", subscribes: ["order-placed"] },
  ],
};

let resources: RegisteredResource[];
let zone: LandingZone;

beforeAll(async () => {
  ({ resources } = await runProgram(() => {
    zone = new LandingZone("shop", { spec: SPEC });
  }));
});

const ids = (type: string, nameIncludes: string) => byType(resources, type).filter((r) => r.name.includes(nameIncludes)).map((r) => r.outputs["id"]);

describe("LandingZone (aws, Pulumi)", () => {
  it("composes the same parts as the CDK landing zone, each a child of the landing zone", () => {
    expect(single(resources, "msa:aws:LandingZone").parent).toBeUndefined();
    const children = childrenOf(resources, "shop").map((r) => r.type);
    expect(children).toEqual(
      expect.arrayContaining([
        "msa:aws:Network",
        "msa:aws:KubernetesPlatform",
        "msa:aws:ApiGateway",
        "msa:aws:SessionStore",
        "msa:aws:LogPipeline",
        "msa:aws:MessageBroker",
        "msa:aws:Monitoring",
        "msa:aws:ContainerInsights",
        "msa:aws:Tracing",
      ]),
    );
    expect(childrenOf(resources, "shop").filter((r) => r.type === "msa:aws:ServiceWorkload").map((r) => r.name)).toEqual(["shop-orders", "shop-payments", "shop-web"]);
    expect(resources.every((r) => r.path === "shop" || r.path.startsWith("shop/"))).toBe(true);

    const count = (type: string) => byType(resources, type).length;
    expect(count("aws:eks/cluster:Cluster")).toBe(1);
    expect(count("aws:eks/nodeGroup:NodeGroup")).toBe(1);
    expect(count("aws:ecr/repository:Repository")).toBe(3);
    expect(count("aws:apigatewayv2/api:Api")).toBe(1);
    expect(count("aws:lb/loadBalancer:LoadBalancer")).toBe(1);
    // Sessions and the log buffer.
    expect(count("aws:elasticache/replicationGroup:ReplicationGroup")).toBe(2);
    expect(count("aws:opensearch/domain:Domain")).toBe(1);
    // The event's topic and the alarm topic.
    expect(count("aws:sns/topic:Topic")).toBe(2);
    expect(count("aws:sqs/queue:Queue")).toBeGreaterThanOrEqual(1);
    expect(count("kubernetes:helm.sh/v3:Release")).toBeGreaterThanOrEqual(1);
    expect(zone.plan.name).toBe("shop");
  });

  it("keeps nodes in private subnets, the internal load balancers apart from the pods in public ones, and data stores in isolated ones", () => {
    const privateSubnets = ids("aws:ec2/subnet:Subnet", "-private-");
    const publicSubnets = ids("aws:ec2/subnet:Subnet", "-public-");
    const isolatedSubnets = ids("aws:ec2/subnet:Subnet", "-isolated-");
    expect(privateSubnets).toHaveLength(3);
    expect(single(resources, "aws:eks/nodeGroup:NodeGroup").inputs["subnetIds"]).toEqual(privateSubnets);
    expect(single(resources, "aws:eks/cluster:Cluster").inputs["vpcConfig"]).toMatchObject({ subnetIds: privateSubnets, endpointPublicAccess: false });
    // Pods get private-subnet addresses; the balancers' own subnets are the only ranges the pods admit plaintext from.
    expect(zone.plan.gateway.loadBalancerSubnets).toBe("public");
    expect(single(resources, "aws:lb/loadBalancer:LoadBalancer").inputs).toMatchObject({ internal: true, subnets: publicSubnets });
    expect(single(resources, "aws:apigatewayv2/vpcLink:VpcLink").inputs["subnetIds"]).toEqual(privateSubnets);
    for (const group of byType(resources, "aws:elasticache/subnetGroup:SubnetGroup")) expect(group.inputs["subnetIds"]).toEqual(isolatedSubnets);
  });

  it("encrypts the cluster's secrets and the caches, and protects the registries in prod", () => {
    expect(single(resources, "aws:eks/cluster:Cluster").inputs["encryptionConfig"]).toMatchObject({ resources: ["secrets"] });
    for (const cache of byType(resources, "aws:elasticache/replicationGroup:ReplicationGroup")) {
      expect(cache.inputs).toMatchObject({ atRestEncryptionEnabled: true, transitEncryptionEnabled: true });
    }
    expect(byType(resources, "aws:ecr/repository:Repository").every((r) => r.protect)).toBe(true);
  });

  it("wires each service: secret by reference, least-privilege role, workload and target group binding", () => {
    const secret = single(resources, "aws:secretsmanager/secret:Secret", "shop-orders-config-db-password");
    expect(secret.inputs["name"]).toBe("msa/shop/prod/orders/DB_PASSWORD");
    const version = single(resources, "aws:secretsmanager/secretVersion:SecretVersion", "shop-orders-config-db-password-value");
    expect(version.secretInputs).toContain("secretString");
    // One inline policy per pod role, as CDK's DefaultPolicy: its configuration and secrets, the session token, its messaging.
    const sessionTokenArn = single(resources, "aws:secretsmanager/secret:Secret", "shop-sessions-cache-auth-token").outputs["arn"];
    const ordersPolicy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-policy"), "policy") as { Statement: { Sid?: string; Action: string[] }[] };
    expect(ordersPolicy.Statement.slice(0, 3)).toEqual([
      {
        Sid: "ReadOwnConfiguration",
        Effect: "Allow",
        Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
        Resource: ["arn:aws:ssm:us-east-1:123456789012:parameter/msa/shop/prod/config/orders", "arn:aws:ssm:us-east-1:123456789012:parameter/msa/shop/prod/config/orders/*"],
      },
      { Sid: "ReadOwnSecrets", Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: [secret.outputs["arn"]] },
      { Sid: "ReadSessionToken", Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: [sessionTokenArn] },
    ]);
    const topicArn = single(resources, "aws:sns/topic:Topic", "shop-broker-order-placed").outputs["arn"];
    const ordersGrants = JSON.stringify(ordersPolicy.Statement.slice(3));
    expect(ordersGrants).toContain("sns:Publish");
    expect(ordersGrants).toContain(String(topicArn));
    expect(ordersGrants).not.toContain("sqs:ReceiveMessage");
    const paymentsGrants = JSON.stringify(jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-payments-policy"), "policy"));
    expect(paymentsGrants).toContain("sqs:ReceiveMessage");
    expect(paymentsGrants).not.toContain("sns:Publish");
    expect(byType(resources, "aws:iam/rolePolicy:RolePolicy").filter((r) => r.parent === "shop-orders").map((r) => r.name)).toEqual(["shop-orders-policy"]);
    // The BFF neither publishes nor consumes and has no secrets of its own: it reads only the session token.
    const webPolicy = jsonInput(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-web-policy"), "policy") as { Statement: { Sid?: string }[] };
    expect(webPolicy.Statement.map((s) => s.Sid)).toEqual(expect.arrayContaining(["ReadSessionToken"]));
    expect(JSON.stringify(webPolicy)).not.toMatch(/sns:|sqs:/);
    expect(single(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "shop-orders-identity").inputs).toMatchObject({ namespace: "shop", serviceAccount: "orders" });

    // Secrets reach the pods through the CSI driver, read with their own identity: Pulumi creates no Kubernetes Secret.
    expect(byType(resources, "kubernetes:core/v1:Secret")).toEqual([]);
    const workload = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload");
    const objs = workload.inputs["objs"] as { kind: string; spec?: { template?: { spec: { containers: { image: string; env: unknown[] }[] } } } }[];
    const container = objs.find((o) => o.kind === "Deployment")!.spec!.template!.spec.containers[0]!;
    expect(container.env).toEqual([
      { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "DB_PASSWORD" } } },
      { name: "SESSION_STORE_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "SESSION_STORE_PASSWORD" } } },
    ]);
    // The image comes from the service's own repository.
    const repositoryUrl = byType(resources, "aws:ecr/repository:Repository").find((r) => r.inputs["name"] === zone.plan.services[0]!.repository)!.outputs["repositoryUrl"];
    if (repositoryUrl !== undefined) expect(container.image).toBe(`${String(repositoryUrl)}:latest`);
    expect(workload.dependsOn).toEqual(expect.arrayContaining(["shop-orders-identity", "shop-platform-nodes", "shop-platform-secrets-store-secrets-store-provider-aws"]));

    const targetGroup = byType(resources, "aws:lb/targetGroup:TargetGroup").find((t) => t.inputs["name"] === "shop-prod-orders")!;
    const binding = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-binding");
    const [tgb] = binding.inputs["objs"] as { kind: string; spec: { targetGroupARN: string; serviceRef: { name: string } } }[];
    expect(tgb!.kind).toBe("TargetGroupBinding");
    expect(tgb!.spec.serviceRef.name).toBe("orders");
    expect(tgb!.spec.targetGroupARN).toContain(String(targetGroup.outputs["name"] ?? "shop-prod-orders"));
    expect(binding.dependsOn).toContain("shop-orders-workload");
    // The ALB reaches the pods' port, plaintext under the STRICT mesh; which addresses may is the platform's one policy.
    expect((binding.inputs["objs"] as { kind: string }[]).map((o) => o.kind)).toEqual(["TargetGroupBinding", "PeerAuthentication"]);
  });

  it("admits the gateway's load balancers to the pods from their own subnets before placing the balancers there", () => {
    const access = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-gateway-access");
    const [policy] = access.inputs["objs"] as { kind: string; metadata: { namespace: string }; spec: { podSelector: object; ingress: { from: { ipBlock: { cidr: string } }[]; ports: unknown[] }[] } }[];
    expect(policy!.kind).toBe("NetworkPolicy");
    expect(policy!.metadata.namespace).toBe(zone.plan.cluster!.namespace);
    expect(policy!.spec.podSelector).toEqual({});
    expect(policy!.spec.ingress).toEqual([{ from: zone.plan.network.subnets.public.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: "http" }] }]);
    expect(access.dependsOn).toEqual(expect.arrayContaining(["shop-platform-nodes"]));
    expect(single(resources, "aws:lb/loadBalancer:LoadBalancer").dependsOn).toEqual(["shop-gateway-access"]);
  });

  it("exports the landing zone's outputs", () => {
    expect(Object.keys(zone.outputs).sort()).toEqual(["alarmTopicArn", "clusterName", "gatewayUrl", "logDashboardsUrl", "sessionEndpoint", "topicArns"]);
  });

  it("rejects a spec the Pulumi engine cannot build with the planner's error, before registering anything", async () => {
    let error: unknown;
    const run = await runProgram(() => {
      try {
        // Every capability is built on every AWS tier; the auth service is not built on App Engine, and planning refuses it first.
        new LandingZone("bad", { spec: { ...SPEC, cloud: "gcp", region: "asia-northeast3", tier: "paas", mesh: { kind: "none" }, tracing: { backend: "none" }, gateway: { auth: "authorizer" }, auth: { ...SPEC.auth, service: SPEC.services![0]!.name } } });
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(PlanError);
    expect(String(error)).toMatch(/is not supported yet on gcp\/paas by the pulumi engine/);
    expect(run.resources).toEqual([]);
  });
});
