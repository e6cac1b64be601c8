import { App, RemovalPolicy, Stack, aws_ec2 as ec2 } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { SessionStore, type SessionStoreProps } from "../../lib/cdk/session-store.js";

interface Fixture {
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly client: ec2.SecurityGroup;
  readonly store: SessionStore;
  readonly template: Template;
}

function synth(props: Partial<SessionStoreProps> = {}, extend?: (fixture: Omit<Fixture, "template">) => void): Fixture {
  const app = new App({ context: { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true } });
  const stack = new Stack(app, "SessionStack", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const vpc = new ec2.Vpc(stack, "Vpc", {
    availabilityZones: ["ap-northeast-2a", "ap-northeast-2b"],
    natGateways: 1,
    subnetConfiguration: [
      { name: "Public", subnetType: ec2.SubnetType.PUBLIC },
      { name: "Private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: "Isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const client = new ec2.SecurityGroup(stack, "Client", { vpc, allowAllOutbound: false });
  const store = new SessionStore(stack, "Sessions", { vpc, allowFrom: [client], ...props });
  extend?.({ stack, vpc, client, store });
  const template = Template.fromStack(stack);
  app.synth();
  return { stack, vpc, client, store, template };
}

function subnetRefs(stack: Stack, subnets: readonly ec2.ISubnet[]): unknown[] {
  return subnets.map((s) => stack.resolve(s.subnetId));
}

describe("SessionStore", () => {
  const { stack, vpc, client, store, template } = synth();

  it("is one Redis replication group with TLS required and a KMS key at rest", () => {
    template.resourceCountIs("AWS::ElastiCache::ReplicationGroup", 1);
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      Engine: "redis",
      EngineVersion: "7.1",
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: "required",
      AtRestEncryptionEnabled: true,
      KmsKeyId: { "Fn::GetAtt": [Match.stringLikeRegexp("^SessionsKey"), "Arn"] },
      Port: 6379,
    });
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("takes its AUTH token from a generated secret by dynamic reference, never as text", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", { GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 64 } });
    const group = Object.values(template.findResources("AWS::ElastiCache::ReplicationGroup"))[0] as { Properties: { AuthToken: unknown } };
    expect(group.Properties.AuthToken).toEqual({
      "Fn::Join": ["", ["{{resolve:secretsmanager:", { Ref: expect.stringMatching(/^SessionsAuthToken/) }, ":SecretString:::}}"]],
    });
    expect(stack.resolve(store.authToken.secretArn)).toEqual({ Ref: expect.stringMatching(/^SessionsAuthToken/) });
  });

  it("fails over automatically across zones with one replica by default", () => {
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", { NumCacheClusters: 2, AutomaticFailoverEnabled: true, MultiAZEnabled: true, SnapshotRetentionLimit: 1 });
  });

  it("runs a single node without failover when replicas is 0", () => {
    const { template: single } = synth({ replicas: 0, multiAz: false, nodeType: "cache.t4g.small", snapshotRetentionDays: 0 });
    single.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", {
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
      MultiAZEnabled: false,
      CacheNodeType: "cache.t4g.small",
      SnapshotRetentionLimit: 0,
    });
  });

  it("places its subnet group in the isolated subnets unless told otherwise", () => {
    template.hasResourceProperties("AWS::ElastiCache::SubnetGroup", { SubnetIds: subnetRefs(stack, vpc.isolatedSubnets) });
    const { stack: otherStack, vpc: otherVpc, template: other } = synth({ subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
    other.hasResourceProperties("AWS::ElastiCache::SubnetGroup", { SubnetIds: subnetRefs(otherStack, otherVpc.privateSubnets) });
  });

  it("admits only the allowed peer, on the Redis port, and sends nothing out", () => {
    const ingress = template.findResources("AWS::EC2::SecurityGroupIngress");
    expect(Object.values(ingress).map((r) => (r as { Properties: unknown }).Properties)).toEqual([
      expect.objectContaining({
        IpProtocol: "tcp",
        FromPort: 6379,
        ToPort: 6379,
        SourceSecurityGroupId: stack.resolve(client.securityGroupId),
        GroupId: stack.resolve(store.securityGroup.securityGroupId),
      }),
    ]);
    template.hasResourceProperties("AWS::EC2::SecurityGroup", {
      GroupDescription: "Session store: Redis clients only",
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: "255.255.255.255/32" })],
    });
    template.hasResourceProperties("AWS::ElastiCache::ReplicationGroup", { SecurityGroupIds: [stack.resolve(store.securityGroup.securityGroupId)] });
  });

  it("admits peers added later with allowFrom", () => {
    let late: ec2.SecurityGroup | undefined;
    const fixture = synth({}, ({ stack: lateStack, vpc: lateVpc, store: lateStore }) => {
      late = new ec2.SecurityGroup(lateStack, "LateClient", { vpc: lateVpc });
      lateStore.allowFrom(late);
    });
    fixture.template.resourceCountIs("AWS::EC2::SecurityGroupIngress", 2);
    fixture.template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { SourceSecurityGroupId: fixture.stack.resolve(late!.securityGroupId), FromPort: 6379, ToPort: 6379 });
  });

  it("exposes the primary endpoint and port", () => {
    expect(stack.resolve(store.endpoint)).toEqual({ "Fn::GetAtt": [expect.stringMatching(/^Sessions/), "PrimaryEndPoint.Address"] });
    expect(store.port).toBe(6379);
    expect(store.replicationGroup.node.id).toBe("Resource");
  });

  it("retains data, key and secret by default", () => {
    template.hasResource("AWS::ElastiCache::ReplicationGroup", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    template.hasResource("AWS::KMS::Key", { DeletionPolicy: "Retain" });
    template.hasResource("AWS::SecretsManager::Secret", { DeletionPolicy: "Retain" });
  });

  it("snapshots on delete when asked, keeping key and secret", () => {
    const { template: snapshot } = synth({ removalPolicy: RemovalPolicy.SNAPSHOT });
    snapshot.hasResource("AWS::ElastiCache::ReplicationGroup", { DeletionPolicy: "Snapshot" });
    snapshot.hasResource("AWS::KMS::Key", { DeletionPolicy: "Retain" });
    snapshot.hasResource("AWS::SecretsManager::Secret", { DeletionPolicy: "Retain" });
  });

  it("deletes everything when asked", () => {
    const { template: disposable } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    disposable.hasResource("AWS::ElastiCache::ReplicationGroup", { DeletionPolicy: "Delete" });
    disposable.hasResource("AWS::KMS::Key", { DeletionPolicy: "Delete" });
    disposable.hasResource("AWS::SecretsManager::Secret", { DeletionPolicy: "Delete" });
  });

  it("keeps logical IDs stable", () => {
    // A changed ID replaces the cache (and its sessions) or rotates the token: update these only on purpose.
    expect(Object.keys(template.findResources("AWS::ElastiCache::ReplicationGroup"))).toEqual(["Sessions8896A56D"]);
    expect(Object.keys(template.findResources("AWS::SecretsManager::Secret"))).toEqual(["SessionsAuthToken529C4794"]);
    expect(Object.keys(template.findResources("AWS::KMS::Key"))).toEqual(["SessionsKey46625E21"]);
    expect(Object.keys(template.findResources("AWS::ElastiCache::SubnetGroup"))).toEqual(["SessionsSubnetGroupAA820CD9"]);
  });

  it.each<[Partial<SessionStoreProps>, RegExp]>([
    [{ replicas: 0 }, /multiAz is true with replicas 0; .*Fix: set replicas to 1 or more, or multiAz to false/],
    [{ replicas: 6 }, /replicas is 6; ElastiCache allows 0 to 5/],
  ])("rejects bad props: %o", (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
