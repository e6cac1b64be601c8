import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { LandingZone } from "../../lib/cdk/landing-zone.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { messagingRoles } from "./messaging-roles.js";

/** The context `cdk synth` runs with: recommended flags plus the strict validation keys. */
const CDK_CONTEXT = (JSON.parse(readFileSync("cdk.json", "utf8")) as { context: Record<string, unknown> }).context;
const SHOP = loadSpecFile("examples/shop/landing-zone.yaml");

type Resource = { Type: string; Properties?: Record<string, unknown> };
interface CfnTemplate {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
}
const ofType = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

/** The shop's services and saga on the VM or Beanstalk example's platform. */
function synth(tier: "iaas" | "paas"): Map<string, CfnTemplate> {
  const base = loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`);
  const spec: LandingZoneSpec = { ...base, services: SHOP.services, sagas: SHOP.sagas };
  const app = new App({ context: CDK_CONTEXT });
  new LandingZone(app, "Shop", { spec, account: "111111111111" });
  return new Map(app.synth().stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
}

/** The statements of the instance role, as `<action> on <logical id or parameter>` (resources shortened). */
function instanceGrants(t: CfnTemplate): string[] {
  const role = ofType(t, "AWS::IAM::Role").find(([, r]) => JSON.stringify(r.Properties).includes("ec2.amazonaws.com"))![0];
  const name = (value: unknown): string => {
    const text = JSON.stringify(value);
    const parameter = /"Ref":"(SsmParameterValue[^"]+)"/.exec(text)?.[1];
    if (parameter) return `ssm:${t.Parameters![parameter]!.Default}`;
    return /"(Data[A-Za-z]+?)[0-9A-F]{8}"/.exec(text)?.[1] ?? text;
  };
  return ofType(t, "AWS::IAM::Policy")
    .filter(([, p]) => JSON.stringify(p.Properties!["Roles"]).includes(role))
    .flatMap(([, p]) => (p.Properties!["PolicyDocument"] as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
    .flatMap((s) => [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => `${a} on ${name(r)}`)));
}

describe.each(["iaas", "paas"] as const)("the data patterns on %s (CDK)", (tier) => {
  let templates: Map<string, CfnTemplate>;
  const template = (part: string) => templates.get(`shop-prod-${part}`)!;
  beforeAll(() => {
    // Strict flags: a CloudFormation schema error or an unacknowledged warning throws here.
    templates = synth(tier);
  });

  it("puts each store in its service's stack and the saga in its own stack", () => {
    expect(ofType(template("svc-orders"), "AWS::RDS::DBInstance")).toHaveLength(1);
    expect(ofType(template("svc-inventory"), "AWS::DynamoDB::Table")).toHaveLength(1);
    expect(ofType(template("svc-payments"), "AWS::Pipes::Pipe")).toHaveLength(1);
    expect(ofType(template("svc-order-history"), "AWS::DynamoDB::Table")).toHaveLength(1);
    expect(ofType(template("sagas"), "AWS::StepFunctions::StateMachine")).toHaveLength(1);
  });

  it("tags every role that publishes or consumes events with its service", () => {
    const roles = messagingRoles(templates);
    expect(new Set(roles.checked.map((r) => r.split("/")[0]))).toEqual(new Set(["orders", "payments", "inventory", "order-history"].map((s) => `shop-prod-svc-${s}`)));
    expect(roles.untagged).toEqual([]);
  });

  it("gives the instance role, tagged as the service, exactly what the service owns", () => {
    const orders = template("svc-orders");
    const [, role] = ofType(orders, "AWS::IAM::Role").find(([, r]) => JSON.stringify(r.Properties).includes("ec2.amazonaws.com"))!;
    expect(role.Properties!["Tags"]).toEqual(expect.arrayContaining([{ Key: "msa:service", Value: "orders" }]));
    expect(instanceGrants(orders)).toEqual(
      expect.arrayContaining([
        "rds-db:connect on DataDatabaseInstance",
        "secretsmanager:GetSecretValue on DataDatabaseInstance",
        "states:StartExecution on ssm:/msa/shop/prod/sagas/place-order/state-machine-arn",
        "sqs:ReceiveMessage on ssm:/msa/shop/prod/sagas/place-order/queues/orders",
      ]),
    );
    expect(instanceGrants(template("svc-inventory"))).toContain("dynamodb:PutItem on DataDatabaseTable");
    expect(instanceGrants(template("svc-inventory")).some((g) => g.includes("place-order/state-machine-arn") && g.startsWith("states:StartExecution"))).toBe(false);
  });

  it("tells the instances where the data is", () => {
    const orders = JSON.stringify(template("svc-orders"));
    for (const key of ["DATABASE_HOST", "DATABASE_SECRET_ARN", "SAGA_PLACE_ORDER_COMMAND_QUEUE_URL", "SAGA_PLACE_ORDER_STATE_MACHINE_ARN"]) expect(orders, key).toContain(key);
    expect(JSON.stringify(template("svc-order-history"))).toContain("READ_MODEL_TABLE");
    expect(JSON.stringify(template("svc-payments"))).toContain("EVENT_STORE");
  });
});
