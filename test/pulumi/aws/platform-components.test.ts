import { describe, expect, it } from "vitest";
import { cloudWatchMonitors, planLandingZone, serviceConfigOf } from "../../../lib/plan/index.js";
import { ApiGateway } from "../../../lib/pulumi/aws/api-gateway.js";
import { ConfigStore } from "../../../lib/pulumi/aws/config-store.js";
import { Monitoring } from "../../../lib/pulumi/aws/monitoring.js";
import { byType, jsonInput, runProgram, single } from "../harness.js";

const plan = planLandingZone({ name: "shop", services: [{ name: "orders", config: { TIMEOUT: "30" }, secrets: ["SIGNING_KEY"] }, { name: "auth" }] });

/** Runs a program expected to throw before registering anything; returns the error. */
async function refused(program: () => void): Promise<string> {
  let error: unknown;
  const { resources } = await runProgram(() => {
    try {
      program();
    } catch (e) {
      error = e;
    }
  });
  expect(resources).toEqual([]);
  return String(error);
}

describe("ConfigStore (Pulumi)", () => {
  it("uses given secret values as Pulumi secrets and generates none for them", async () => {
    const { resources } = await runProgram(() => {
      new ConfigStore("orders-config", { config: serviceConfigOf(plan.configStore!, "orders"), secretValues: { SIGNING_KEY: "given-value" } });
    });
    expect(byType(resources, "random:index/randomPassword:RandomPassword")).toEqual([]);
    const version = single(resources, "aws:secretsmanager/secretVersion:SecretVersion");
    expect(version.secretInputs).toEqual(["secretString"]);
    expect(version.inputs["secretString"]).toBe("given-value");
    expect(single(resources, "aws:secretsmanager/secret:Secret").inputs).toMatchObject({ name: "msa/shop/dev/orders/SIGNING_KEY", recoveryWindowInDays: 7 });
  });

  it("encrypts the secrets with its own key, which whoever may read a secret may use through Secrets Manager only, as the CDK ConfigStore", async () => {
    const { resources } = await runProgram(() => {
      new ConfigStore("orders-config", { config: serviceConfigOf(plan.configStore!, "orders"), retain: true });
    });
    const key = single(resources, "aws:kms/key:Key", "orders-config-key");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.protect && key.retainOnDelete).toBe(true);
    // The policy of every secrets key (secretKeyPolicy, checked statement by statement with the session store's key).
    const statements = (jsonInput(key, "policy") as { Statement: { Sid: string; Condition?: unknown }[] }).Statement;
    expect(statements.map((st) => st.Sid)).toEqual(["AccountAdministers", "ReadSecretsThroughSecretsManager"]);
    expect(statements[1]!.Condition).toEqual({ StringEquals: { "kms:CallerAccount": "123456789012", "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } });
    expect(single(resources, "aws:secretsmanager/secret:Secret").inputs["kmsKeyId"]).toBe(key.outputs["arn"]);

    // A store without secrets has no key; a given key is used as it is.
    const { resources: plain } = await runProgram(() => {
      new ConfigStore("auth-config", { config: { ...serviceConfigOf(plan.configStore!, "orders"), secrets: [] } });
      new ConfigStore("given-config", { config: serviceConfigOf(plan.configStore!, "orders"), kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/own" });
    });
    expect(byType(plain, "aws:kms/key:Key")).toEqual([]);
    expect(single(plain, "aws:secretsmanager/secret:Secret").inputs["kmsKeyId"]).toBe("arn:aws:kms:us-east-1:123456789012:key/own");
  });

  it("names a bad path, a parameter outside it and an undeclared secret", async () => {
    const config = serviceConfigOf(plan.configStore!, "orders");
    expect(await refused(() => new ConfigStore("a", { config: { ...config, parameterPath: "msa/x" } }))).toMatch(/config.parameterPath "msa\/x" is not a parameter path/);
    expect(await refused(() => new ConfigStore("b", { config: { ...config, parameters: [{ key: "X", name: "/other/X", value: "1" }] } }))).toMatch(/parameter X is named "\/other\/X", outside \/msa\/shop\/dev\/config\/orders\//);
    expect(await refused(() => new ConfigStore("c", { config, secretValues: { OTHER: "x" } }))).toMatch(/secretValues has OTHER, which services\[orders\].secrets does not declare/);
  });
});

describe("Monitoring (Pulumi)", () => {
  it("notifies a given topic without creating one", async () => {
    const { resources } = await runProgram(() => {
      new Monitoring("m", { alarmTopicArn: "arn:aws:sns:us-east-1:123456789012:alarms", monitors: cloudWatchMonitors(plan).filter((m) => m.name === "gateway"), dimensions: { gateway: { apiId: "api-1" } }, dashboards: false });
    });
    expect(byType(resources, "aws:sns/topic:Topic")).toEqual([]);
    expect(byType(resources, "aws:cloudwatch/dashboard:Dashboard")).toEqual([]);
    for (const alarm of byType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")) expect(alarm.inputs["alarmActions"]).toEqual(["arn:aws:sns:us-east-1:123456789012:alarms"]);
  });

  it("names a missing dimension and a duplicated monitor", async () => {
    const monitors = cloudWatchMonitors(plan);
    expect(await refused(() => new Monitoring("m", { monitors }))).toMatch(/monitor "gateway" needs dimensions apiId, which are undefined\. Fix: pass dimensions\["gateway"\]\.apiId/);
    expect(await refused(() => new Monitoring("m", { monitors: [monitors[0]!, monitors[0]!], dimensions: { gateway: { apiId: "x" } } }))).toMatch(/monitor "gateway" is given twice/);
  });
});

describe("ApiGateway authorizer (Pulumi)", () => {
  const delegating = planLandingZone({ name: "shop", gateway: { auth: "authorizer" }, auth: { service: "auth" }, services: [{ name: "orders" }, { name: "auth" }] });
  const base = { namePrefix: "shop-dev", vpcId: "vpc-1", privateSubnetIds: ["subnet-a", "subnet-b"] };

  it("needs the auth service's plan, reached through one of its routes", async () => {
    expect(await refused(() => new ApiGateway("gw", { ...base, gateway: delegating.gateway }))).toMatch(/gateway.auth is "authorizer" but args.authorizer is undefined\. Fix: pass plan.auth.authorizer/);
    const elsewhere = { ...delegating.auth!.authorizer!, service: "ghost" };
    expect(await refused(() => new ApiGateway("gw", { ...base, gateway: delegating.gateway, authorizer: elsewhere }))).toMatch(/authorizer.service "ghost" has no route on this gateway/);
  });

  it("needs an audience for an external issuer", async () => {
    expect(await refused(() => new ApiGateway("gw", { ...base, gateway: plan.gateway, jwtIssuer: { issuerUrl: "https://login.example.com" } }))).toMatch(/jwtIssuer has neither clientId nor audiences/);
  });
});
