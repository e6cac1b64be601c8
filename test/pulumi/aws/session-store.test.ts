import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { sessionStoreArgsFromPlan, SessionStore, type SessionStoreArgs } from "../../../lib/pulumi/aws/session-store.js";
import { byType, childrenOf, jsonInput, runProgram, single } from "../harness.js";

const placement = { vpcId: "vpc-1", subnetIds: ["subnet-iso-a", "subnet-iso-b"], allowedSecurityGroupIds: ["sg-nodes", "sg-gateway"] };
const settled = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

async function store(args: Partial<SessionStoreArgs> = {}, inspect?: (s: SessionStore) => Promise<void>) {
  const { resources } = await runProgram(async () => {
    const s = new SessionStore("sessions", { ...placement, ...args });
    await inspect?.(s);
  });
  return resources;
}

describe("SessionStore (Pulumi, AWS)", () => {
  it("is a SessionStore wrapping a ManagedRedis whose children it owns", async () => {
    const resources = await store();
    single(resources, "msa:aws:SessionStore", "sessions");
    const redis = single(resources, "msa:aws:ManagedRedis");
    expect(redis).toMatchObject({ name: "sessions-cache", parent: "sessions", parentType: "msa:aws:SessionStore" });
    const group = single(resources, "aws:elasticache/replicationGroup:ReplicationGroup");
    expect(group.path).toBe("sessions/sessions-cache/sessions-cache-redis");
    expect(childrenOf(resources, "sessions-cache").map((r) => r.type)).toEqual(
      expect.arrayContaining(["aws:kms/key:Key", "aws:ec2/securityGroup:SecurityGroup", "aws:elasticache/subnetGroup:SubnetGroup", "aws:secretsmanager/secret:Secret"]),
    );
  });

  it("requires TLS, encrypts at rest with its KMS key and authenticates with a generated token", async () => {
    const resources = await store();
    const group = single(resources, "aws:elasticache/replicationGroup:ReplicationGroup");
    const key = single(resources, "aws:kms/key:Key");
    expect(key.inputs["enableKeyRotation"]).toBe(true);
    expect(group.inputs).toMatchObject({
      engine: "redis",
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: key.outputs["arn"],
      authToken: "mock-password-sessions-cache-auth-token",
      securityGroupIds: ["sg-sessions-cache-sg"],
    });
    expect(group.secretInputs).toContain("authToken");
    const version = single(resources, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(version.secretInputs).toContain("secretString");
    // The bare token: the CSI driver, the instances and Logstash read the secret string as the password.
    expect(version.inputs["secretString"]).toBe("mock-password-sessions-cache-auth-token");
    expect(single(resources, "aws:secretsmanager/secret:Secret").inputs["kmsKeyId"]).toBe(key.outputs["arn"]);
    expect(single(resources, "random:index/randomPassword:RandomPassword").inputs).toMatchObject({ length: 64, special: false });
  });

  it("lets whoever may read the token decrypt it through Secrets Manager only, as the CDK key and aws/secretsmanager do", async () => {
    const resources = await store();
    const policy = jsonInput(single(resources, "aws:kms/key:Key"), "policy") as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toEqual([
      { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" },
      {
        Sid: "ReadSecretsThroughSecretsManager",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: ["kms:Decrypt", "kms:DescribeKey"],
        Resource: "*",
        Condition: { StringEquals: { "kms:CallerAccount": "123456789012", "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
      },
    ]);
    // A key the caller brings is used as it is.
    const own = await store({ kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/own" });
    expect(byType(own, "aws:kms/key:Key")).toEqual([]);
    expect(single(own, "aws:secretsmanager/secret:Secret").inputs["kmsKeyId"]).toBe("arn:aws:kms:us-east-1:123456789012:key/own");
  });

  it("places the cache in the given subnets and admits only the source security groups on its port", async () => {
    const resources = await store({ port: 6380 });
    expect(single(resources, "aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"]).toEqual(placement.subnetIds);
    const sg = single(resources, "aws:ec2/securityGroup:SecurityGroup");
    expect(sg.inputs["ingress"] ?? []).toEqual([]);
    expect(sg.inputs["egress"] ?? []).toEqual([]);
    const rules = byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules.map((r) => r.inputs)).toEqual(
      placement.allowedSecurityGroupIds.map((source) => ({
        securityGroupId: "sg-sessions-cache-sg",
        referencedSecurityGroupId: source,
        ipProtocol: "tcp",
        fromPort: 6380,
        toPort: 6380,
        description: "Redis clients",
      })),
    );
  });

  it("turns on failover and Multi-AZ with replicas, and off without", async () => {
    const ha = single(await store({ replicas: 2, multiAz: true }), "aws:elasticache/replicationGroup:ReplicationGroup");
    expect(ha.inputs).toMatchObject({ numCacheClusters: 3, automaticFailoverEnabled: true, multiAzEnabled: true });
    const single0 = single(await store({ replicas: 0, snapshotRetentionDays: 0 }), "aws:elasticache/replicationGroup:ReplicationGroup");
    expect(single0.inputs).toMatchObject({ numCacheClusters: 1, automaticFailoverEnabled: false, multiAzEnabled: false, snapshotRetentionLimit: 0 });
    expect(single0.inputs["snapshotWindow"]).toBeUndefined();
  });

  it("protects and retains the cache, its key and its secret only when retain is true", async () => {
    const stateful = ["aws:elasticache/replicationGroup:ReplicationGroup", "aws:kms/key:Key", "aws:secretsmanager/secret:Secret"];
    const kept = await store({ retain: true });
    for (const type of stateful) expect([type, single(kept, type).protect, single(kept, type).retainOnDelete]).toEqual([type, true, true]);
    expect(single(kept, "aws:ec2/securityGroup:SecurityGroup").protect).toBe(false);
    const dropped = await store({ retain: false });
    for (const type of stateful) expect([type, single(dropped, type).protect, single(dropped, type).retainOnDelete]).toEqual([type, false, false]);
  });

  it("uses a given KMS key instead of creating one", async () => {
    const resources = await store({ kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/mine" });
    expect(byType(resources, "aws:kms/key:Key")).toHaveLength(0);
    expect(single(resources, "aws:elasticache/replicationGroup:ReplicationGroup").inputs["kmsKeyId"]).toBe("arn:aws:kms:us-east-1:123456789012:key/mine");
  });

  it("exposes the endpoint, port, security group, secret ARN and a read policy for the token only", async () => {
    const seen: Record<string, unknown> = {};
    await store({}, async (s) => {
      seen["endpoint"] = await settled(s.endpoint);
      seen["port"] = await settled(s.port);
      seen["securityGroupId"] = await settled(s.securityGroupId);
      seen["authTokenSecretArn"] = await settled(s.authTokenSecretArn);
      seen["authTokenIsSecret"] = await pulumi.isSecret(s.authToken);
      seen["policy"] = JSON.parse(await settled(s.readAuthTokenPolicyDocument()));
    });
    const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sessions-cache-auth-token-AbCdEf";
    expect(seen).toMatchObject({
      endpoint: "master.sessions-cache-redis.abc123.use1.cache.amazonaws.com",
      port: 6379,
      securityGroupId: "sg-sessions-cache-sg",
      authTokenSecretArn: secretArn,
      authTokenIsSecret: true,
    });
    const statements = (seen["policy"] as { Statement: Array<{ Action: string | string[]; Resource: string }> }).Statement;
    expect(statements[0]).toMatchObject({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: secretArn });
    expect(statements[1]!.Resource).toBe("arn:aws:kms:us-east-1:123456789012:key/sessions-cache-key-key-id");
  });

  it("applies transforms to the children's args", async () => {
    const resources = await store({ transform: { replicationGroup: (args) => void (args.engineVersion = "7.0"), authToken: (args) => void (args.length = 100) } });
    expect(single(resources, "aws:elasticache/replicationGroup:ReplicationGroup").inputs["engineVersion"]).toBe("7.0");
    expect(single(resources, "random:index/randomPassword:RandomPassword").inputs["length"]).toBe(100);
  });

  it("maps the plan's sessions entry", async () => {
    const plan = planLandingZone({ name: "shop", cloud: "aws", region: "us-east-1", tier: "caas", environment: "prod", network: { zones: 3 }, auth: { sessions: "redis" } });
    const args = sessionStoreArgsFromPlan(plan.sessions!, placement, plan.protection.retain);
    expect(args).toMatchObject({ nodeType: plan.sessions!.nodeType, replicas: plan.sessions!.replicas, multiAz: plan.sessions!.multiAz, retain: true });
  });

  it("rejects bad input with the prop, the value and the fix", async () => {
    await expect(store({ replicas: 0, multiAz: true })).rejects.toThrow(/multiAz is true with replicas 0\. Fix: set replicas to 1 or more/);
    await expect(store({ replicas: 6 })).rejects.toThrow(/replicas is 6\. Fix/);
    await expect(store({ snapshotRetentionDays: 40 })).rejects.toThrow(/snapshotRetentionDays is 40/);
  });
});
