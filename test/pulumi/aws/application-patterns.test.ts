import { beforeAll, describe, expect, it } from "vitest";
import { EVENT_STORE_ACTIONS, TABLE_DATA_ACTIONS } from "../../../lib/plan/data.js";
import { SAGA_STATES } from "../../../lib/plan/saga.js";
import { EventStore } from "../../../lib/pulumi/aws/event-store.js";
import { LandingZone } from "../../../lib/pulumi/aws/landing-zone.js";
import { SagaOrchestrator } from "../../../lib/pulumi/aws/saga-orchestrator.js";
import { ServiceDatabase } from "../../../lib/pulumi/aws/service-database.js";
import { planSaga } from "../../../lib/plan/saga.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, jsonInput, runProgram, single, type RegisteredResource } from "../harness.js";

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const SHOP = loadSpecFile("examples/shop/landing-zone.yaml");
const statementsOf = (r: RegisteredResource, key = "policy") => (jsonInput(r, key) as { Statement: Statement[] }).Statement;
const outputOf = (resources: RegisteredResource[], type: string, name: string, key: string) => single(resources, type, name).outputs[key] as string;

async function zone(spec: LandingZoneSpec): Promise<RegisteredResource[]> {
  const { resources } = await runProgram(() => {
    new LandingZone("shop", { spec });
  });
  return resources;
}

/** Every Allow of every role policy attached to `role`, as `<action> on <resource>`. */
function grantsOf(resources: RegisteredResource[], role: string): string[] {
  return byType(resources, "aws:iam/rolePolicy:RolePolicy")
    .filter((p) => p.inputs["role"] === role)
    .flatMap((p) => statementsOf(p))
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) => [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => `${a} on ${r}`)))
    .sort();
}

describe("the shop's application patterns (Pulumi, AWS)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await zone(SHOP);
  });
  const dataKeyArn = (service: string) => outputOf(resources, "aws:kms/key:Key", `shop-${service}-data-key`, "arn");

  it("gives orders its own RDS PostgreSQL in the isolated subnets: encrypted, TLS forced, IAM auth, generated password, retained", () => {
    const db = single(resources, "aws:rds/instance:Instance");
    expect(db.parent).toBe("shop-orders-db");
    expect(db.inputs).toMatchObject({
      identifier: "shop-prod-orders",
      engine: "postgres",
      engineVersion: "16.10",
      instanceClass: "db.r7g.large",
      storageEncrypted: true,
      kmsKeyId: dataKeyArn("orders"),
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: dataKeyArn("orders"),
      username: "postgres",
      iamDatabaseAuthenticationEnabled: true,
      publiclyAccessible: false,
      multiAz: true,
      backupRetentionPeriod: 14,
      deletionProtection: true,
      skipFinalSnapshot: false,
    });
    expect(db.inputs["password"]).toBeUndefined();
    expect(db).toMatchObject({ protect: true, retainOnDelete: true });
    const isolated = byType(resources, "aws:ec2/subnet:Subnet").filter((s) => s.name.includes("-isolated-")).map((s) => s.outputs["id"]);
    expect(single(resources, "aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]).toEqual(isolated);
    expect(single(resources, "aws:rds/parameterGroup:ParameterGroup").inputs).toMatchObject({ family: "postgres16", parameters: [{ name: "rds.force_ssl", value: "1" }] });
    // One way in: the workloads' security group, on 5432.
    const ingress = byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.parent === "shop-orders-db");
    const workloads = single(resources, "aws:eks/cluster:Cluster").outputs["vpcConfig"] as { clusterSecurityGroupId: string };
    expect(ingress.map((r) => [r.inputs["fromPort"], r.inputs["toPort"], r.inputs["referencedSecurityGroupId"]])).toEqual([[5432, 5432, workloads.clusterSecurityGroupId]]);
    expect(single(resources, "aws:ec2/securityGroup:SecurityGroup", "shop-orders-db-sg").inputs["egress"]).toEqual([]);
  });

  it("exports orders' database logs to CloudWatch and its OS metrics through Enhanced Monitoring's own role, as the CDK instance does", () => {
    const db = single(resources, "aws:rds/instance:Instance");
    const role = single(resources, "aws:iam/role:Role", "shop-orders-db-monitoring-role");
    expect(db.inputs).toMatchObject({ enabledCloudwatchLogsExports: ["postgresql", "upgrade"], monitoringInterval: 60, monitoringRoleArn: role.outputs["arn"] });
    // Named after the instance's planned identifier (one per environment), and kept with it.
    expect(role.inputs["name"]).toBe("shop-prod-orders-rds-monitoring");
    expect(role).toMatchObject({ protect: true, retainOnDelete: true });
    expect(JSON.parse(role.inputs["assumeRolePolicy"] as string)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: ["sts:AssumeRole"] }],
    });
    const attachment = single(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "shop-orders-db-monitoring-policy");
    expect(attachment.inputs).toEqual({ role: role.outputs["name"], policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" });
    // RDS checks the role when it creates the instance.
    expect(db.dependsOn).toContain("shop-orders-db-monitoring-policy");
  });

  it("lets only orders' role connect as its user, read its generated secret and use its key through Secrets Manager", () => {
    const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-shop-prod-orders-AbCdEf";
    const policy = single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-database");
    expect(policy.inputs["role"]).toBe("shop-orders-role");
    expect(statementsOf(policy)).toEqual([
      { Effect: "Allow", Action: ["rds-db:connect"], Resource: ["arn:aws:rds-db:us-east-1:123456789012:dbuser:db-SHOPPRODORDERS/orders"] },
      { Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: [secretArn] },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [dataKeyArn("orders")], Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } } },
    ]);
  });

  it("gives inventory a retained DynamoDB table and the item actions on it only", () => {
    const table = single(resources, "aws:dynamodb/table:Table", "shop-inventory-db-table");
    expect(table.inputs).toMatchObject({
      name: "shop-prod-inventory",
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      serverSideEncryption: { enabled: true, kmsKeyArn: dataKeyArn("inventory") },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
    });
    expect(table).toMatchObject({ protect: true, retainOnDelete: true });
    const tableArn = table.outputs["arn"] as string;
    expect(grantsOf(resources, "shop-inventory-role").filter((g) => g.startsWith("dynamodb:"))).toEqual(
      TABLE_DATA_ACTIONS.flatMap((a) => [`${a} on ${tableArn}`, `${a} on ${tableArn}/index/*`]).sort(),
    );
  });

  it("gives payments an append-only event store whose stream alone publishes payment-completed", () => {
    const table = single(resources, "aws:dynamodb/table:Table", "shop-payments-events-table");
    expect(table.inputs).toMatchObject({
      name: "shop-prod-payments-events",
      hashKey: "aggregateId",
      rangeKey: "sequence",
      attributes: [
        { name: "aggregateId", type: "S" },
        { name: "sequence", type: "N" },
      ],
      streamEnabled: true,
      streamViewType: "NEW_IMAGE",
      pointInTimeRecovery: { enabled: true },
    });
    const topicArn = outputOf(resources, "aws:sns/topic:Topic", "shop-broker-payment-completed", "arn");
    const pipe = single(resources, "aws:pipes/pipe:Pipe");
    expect(pipe.inputs).toMatchObject({
      source: table.outputs["streamArn"],
      target: topicArn,
      sourceParameters: {
        dynamodbStreamParameters: { startingPosition: "TRIM_HORIZON", deadLetterConfig: { arn: outputOf(resources, "aws:sqs/queue:Queue", "shop-payments-events-dlq", "arn") } },
        filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ["INSERT"], dynamodb: { NewImage: { eventType: { S: ["payment-completed"] } } } }) }] },
      },
    });
    expect(single(resources, "aws:iam/role:Role", "shop-payments-events-pipe-role").inputs["tags"]).toMatchObject({ "msa:service": "payments" });
    expect(grantsOf(resources, "shop-payments-events-pipe-role").filter((g) => g.startsWith("sns:"))).toEqual([`sns:Publish on ${topicArn}`]);
    const paymentsGrants = grantsOf(resources, "shop-payments-role");
    expect(paymentsGrants.filter((g) => g.startsWith("sns:"))).toEqual([]);
    expect(paymentsGrants.filter((g) => g.startsWith("dynamodb:"))).toEqual(EVENT_STORE_ACTIONS.map((a) => `${a} on ${table.outputs["arn"]}`).sort());
  });

  it("gives order-history its own read table and the queues of its sources' events", () => {
    const table = single(resources, "aws:dynamodb/table:Table", "shop-order-history-read-table");
    expect(table.inputs).toMatchObject({ name: "shop-prod-order-history-read", hashKey: "pk", rangeKey: "sk" });
    const grants = grantsOf(resources, "shop-order-history-role");
    const queueArn = (subscription: string) => outputOf(resources, "aws:sqs/queue:Queue", `shop-broker-${subscription}`, "arn");
    expect(grants.filter((g) => g.startsWith("sqs:ReceiveMessage"))).toEqual(
      ["order-history_order-placed", "order-history_payment-completed"].map((s) => `sqs:ReceiveMessage on ${queueArn(s)}`),
    );
    expect(grants).toContain(`dynamodb:PutItem on ${table.outputs["arn"]}`);
  });

  it("isolates every store: only its owner's role (or the owner's pipe) is granted anything on it", () => {
    const roleOf: Record<string, string> = { orders: "shop-orders-role", payments: "shop-payments-role", inventory: "shop-inventory-role", "order-history": "shop-order-history-role" };
    const stores: Record<string, string[]> = {
      orders: [outputOf(resources, "aws:rds/instance:Instance", "shop-orders-db-db", "resourceId"), "rds!db-shop-prod-orders"],
      inventory: [outputOf(resources, "aws:dynamodb/table:Table", "shop-inventory-db-table", "arn")],
      payments: [outputOf(resources, "aws:dynamodb/table:Table", "shop-payments-events-table", "arn")],
      "order-history": [outputOf(resources, "aws:dynamodb/table:Table", "shop-order-history-read-table", "arn")],
    };
    for (const [owner, marks] of Object.entries(stores)) {
      const keyArn = dataKeyArn(owner);
      for (const policy of byType(resources, "aws:iam/rolePolicy:RolePolicy")) {
        const text = policy.inputs["policy"] as string;
        const touches = marks.some((m) => text.includes(m)) || text.includes(keyArn);
        if (!touches) continue;
        const role = policy.inputs["role"] as string;
        expect([roleOf[owner], `shop-${owner}-events-pipe-role`], `${policy.name} grants ${owner}'s data to ${role}`).toContain(role);
      }
    }
  });

  it("runs the place-order saga on a logged, traced Step Functions state machine that compensates in reverse", () => {
    const machine = single(resources, "aws:sfn/stateMachine:StateMachine");
    expect(machine.inputs).toMatchObject({ name: "shop-prod-place-order", type: "STANDARD", tracingConfiguration: { enabled: true } });
    const logGroup = single(resources, "aws:cloudwatch/logGroup:LogGroup", "shop-place-order-log");
    expect(logGroup.inputs).toMatchObject({ name: "/aws/vendedlogs/states/shop-prod-place-order", kmsKeyId: outputOf(resources, "aws:kms/key:Key", "shop-sagas-key", "arn") });
    expect(machine.inputs["loggingConfiguration"]).toEqual({ level: "ALL", includeExecutionData: true, logDestination: `${logGroup.outputs["arn"]}:*` });
    const definition = JSON.parse(machine.inputs["definition"] as string) as { StartAt: string; States: Record<string, { Type: string; Next?: string; Catch?: { Next: string }[]; Parameters?: { QueueUrl: string } }> };
    const after = (state: string) => {
      const path: string[] = [];
      for (let next = definition.States[state]!.Catch![0]!.Next; next; next = definition.States[next]!.Next!) {
        path.push(next);
        if (definition.States[next]!.Type !== "Task") break;
      }
      return path;
    };
    expect(after("3-payments-charge")).toEqual(["undo-2-inventory-release", "undo-1-orders-cancel", SAGA_STATES.rolledBack]);
    expect(after("2-inventory-reserve")).toEqual(["undo-1-orders-cancel", SAGA_STATES.rolledBack]);
    const queueUrl = (service: string) => outputOf(resources, "aws:sqs/queue:Queue", `shop-place-order-${service}`, "url");
    expect(definition.States["2-inventory-reserve"]!.Parameters!.QueueUrl).toBe(queueUrl("inventory"));
    // The state machine may send to its command queues only; logs and X-Ray take no resource-level permission.
    const grants = grantsOf(resources, "shop-place-order-role");
    expect(grants.filter((g) => g.startsWith("sqs:"))).toEqual(
      ["inventory", "orders", "payments"].map((s) => `sqs:SendMessage on ${outputOf(resources, "aws:sqs/queue:Queue", `shop-place-order-${s}`, "arn")}`),
    );
    expect(grants.filter((g) => g.endsWith(" on *") && !/^(logs|xray):/.test(g))).toEqual([]);
  });

  it("lets each participant answer its tasks from its own command queue and only the initiator start the saga", () => {
    const machineArn = single(resources, "aws:sfn/stateMachine:StateMachine").outputs["arn"] as string;
    for (const service of ["orders", "inventory", "payments"]) {
      const grants = grantsOf(resources, `shop-${service}-role`);
      const queueArn = outputOf(resources, "aws:sqs/queue:Queue", `shop-place-order-${service}`, "arn");
      expect(grants, service).toEqual(expect.arrayContaining([`states:SendTaskSuccess on ${machineArn}`, `states:SendTaskFailure on ${machineArn}`, `sqs:ReceiveMessage on ${queueArn}`]));
      expect(grants.includes(`states:StartExecution on ${machineArn}`), service).toBe(service === "orders");
      const others = ["orders", "inventory", "payments"].filter((o) => o !== service).map((o) => outputOf(resources, "aws:sqs/queue:Queue", `shop-place-order-${o}`, "arn"));
      expect(grants.filter((g) => others.some((arn) => g.endsWith(arn))), service).toEqual([]);
    }
    const commandPolicy = single(resources, "aws:sqs/queuePolicy:QueuePolicy", "shop-place-order-payments");
    expect(statementsOf(commandPolicy)).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: "Deny", Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": ["payments"] } } })]),
    );
  });

  it("keeps a dead-letter queue behind every queue and admits only declared publishers to each topic", () => {
    const queues = byType(resources, "aws:sqs/queue:Queue");
    const withRedrive = queues.filter((q) => q.inputs["redrivePolicy"]);
    // Subscriptions and saga command queues; the rest are their dead-letter queues and the event store's.
    expect(withRedrive).toHaveLength(6 + 3);
    expect(queues.length - withRedrive.length).toBe(withRedrive.length + 1);
    for (const queue of withRedrive) expect(JSON.parse(queue.inputs["redrivePolicy"] as string)).toMatchObject({ maxReceiveCount: 5 });
    const topicPolicy = single(resources, "aws:sns/topicPolicy:TopicPolicy", "shop-broker-order-placed");
    expect(statementsOf(topicPolicy)).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: "Deny", Action: ["sns:Publish"], Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": ["orders"] } } })]),
    );
    for (const service of ["orders", "payments", "inventory", "order-history", "web", "mobile"]) {
      expect(single(resources, "aws:iam/role:Role", `shop-${service}-role`).inputs["tags"], service).toMatchObject({ "msa:service": service });
    }
  });
});

describe("the shop on EventBridge (Pulumi, AWS)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await zone({ ...SHOP, messaging: { ...SHOP.messaging, broker: "eventbridge" } });
  });

  it("routes each subscription by a rule into its queue, retrying for a day before the dead-letter queue", () => {
    const bus = single(resources, "aws:cloudwatch/eventBus:EventBus");
    const rule = single(resources, "aws:cloudwatch/eventRule:EventRule", "shop-broker-payments_order-placed");
    expect(JSON.parse(rule.inputs["eventPattern"] as string)).toEqual({ "detail-type": ["order-placed"], source: ["shop.orders"] });
    expect(single(resources, "aws:cloudwatch/eventTarget:EventTarget", "shop-broker-payments_order-placed").inputs).toMatchObject({
      eventBusName: bus.outputs["name"],
      arn: outputOf(resources, "aws:sqs/queue:Queue", "shop-broker-payments_order-placed", "arn"),
      deadLetterConfig: { arn: outputOf(resources, "aws:sqs/queue:Queue", "shop-broker-payments_order-placed-dlq", "arn") },
      retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 },
    });
    // No event topics: the only SNS topic left is the monitoring's alarm topic.
    expect(byType(resources, "aws:sns/topic:Topic").map((t) => t.parentType)).toEqual(["msa:aws:Monitoring"]);
    const busPolicy = statementsOf(single(resources, "aws:cloudwatch/eventBusPolicy:EventBusPolicy"));
    expect(busPolicy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: "Deny", Condition: { StringEquals: { "events:detail-type": "order-placed" }, StringNotEquals: { "aws:PrincipalTag/msa:service": ["orders"] } } }),
      ]),
    );
  });

  it("lets orders put only order-placed from its own source, and forwards payments' store through one pipe", () => {
    const busArn = single(resources, "aws:cloudwatch/eventBus:EventBus").outputs["arn"];
    // The pods' role has one inline policy, where CDK writes its DefaultPolicy.
    const messaging = statementsOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-policy"));
    expect(messaging).toContainEqual({ Effect: "Allow", Action: ["events:PutEvents"], Resource: [busArn], Condition: { StringEquals: { "events:detail-type": ["order-placed"], "events:source": ["shop.orders"] } } });
    const pipe = single(resources, "aws:pipes/pipe:Pipe");
    expect(pipe.inputs).toMatchObject({ target: busArn, targetParameters: { eventbridgeEventBusParameters: { detailType: "$.dynamodb.NewImage.eventType.S", source: "shop.payments" } } });
  });
});

describe.each(["iaas", "paas"] as const)("the shop's data patterns on %s (Pulumi, AWS)", (tier) => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    const base = loadSpecFile(`examples/aws-${tier}/landing-zone.yaml`);
    resources = await zone({ ...base, services: SHOP.services, sagas: SHOP.sagas });
  });

  it("attaches what each service owns to its instance role, tagged as the service", () => {
    const role = single(resources, "aws:iam/role:Role", `shop-orders-role`);
    expect(role.parent).toBe("shop-orders");
    expect(role.inputs["tags"]).toMatchObject({ "msa:service": "orders" });
    const names = byType(resources, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs["role"] === role.outputs["name"]).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["shop-orders-database", "shop-orders-saga-place-order", "shop-orders-saga-place-order-start"]));
    const database = statementsOf(single(resources, "aws:iam/rolePolicy:RolePolicy", "shop-orders-database"));
    expect(database[0]).toMatchObject({ Action: ["rds-db:connect"] });
    // Inventory's role owns its table and answers its saga step; it does not start the saga.
    const inventory = byType(resources, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs["role"] === "shop-inventory-role").map((p) => p.name);
    expect(inventory).toEqual(expect.arrayContaining(["shop-inventory-database", "shop-inventory-saga-place-order"]));
    expect(inventory).not.toContain("shop-inventory-saga-place-order-start");
  });

  it("tells the instances where the data is, beside the session store and the broker", () => {
    const host = tier === "iaas" ? single(resources, "aws:ec2/launchTemplate:LaunchTemplate", "shop-orders-instances") : single(resources, "aws:elasticbeanstalk/environment:Environment", "shop-orders-environment");
    const text = tier === "iaas" ? Buffer.from(host.inputs["userData"] as string, "base64").toString() : JSON.stringify(host.inputs);
    for (const key of ["DATABASE_HOST", "DATABASE_SECRET_ARN", "SAGA_PLACE_ORDER_STATE_MACHINE_ARN", "SESSION_STORE_ENDPOINT", "SESSION_STORE_PASSWORD", "TOPIC_ORDER_PLACED_ARN"]) expect(text, key).toContain(key);
  });

  it("keeps the database in the isolated subnets, admitting the workloads' security group", () => {
    const isolated = byType(resources, "aws:ec2/subnet:Subnet").filter((s) => s.name.includes("-isolated-")).map((s) => s.outputs["id"]);
    expect(single(resources, "aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]).toEqual(isolated);
    expect(byType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.parent === "shop-orders-db")).toHaveLength(1);
  });
});

describe("application components on their own (Pulumi, AWS)", () => {
  it.each<[string, () => unknown, RegExp]>([
    ["a relational database without placement", () => new ServiceDatabase("db", { engine: "postgres" }), /engine "postgres" needs placement \(undefined\)/],
    ["a table with a network placement", () => new ServiceDatabase("db", { engine: "document", placement: { vpcId: "vpc-1", subnetIds: [], allowedSecurityGroupIds: [] } }), /placement is set but engine "document" is DynamoDB/],
    [
      "more SNS pipes than a stream serves",
      () => new EventStore("events", { forwarding: { kind: "sns", service: "s", topicArns: { a: "arn:a", b: "arn:b", c: "arn:c" } } }),
      /3 events exceed the 2 readers a DynamoDB stream serves/,
    ],
    [
      "a choreographed saga on Step Functions",
      () => new SagaOrchestrator("saga", { saga: planSaga("z", "dev", { name: "s", mode: "choreography", steps: [{ service: "a", action: "x", compensate: "y" }, { service: "b", action: "z" }] }) }),
      /saga "s" is choreographed/,
    ],
  ])("rejects %s before registering anything", async (_title, build, message) => {
    let error: unknown;
    const { resources } = await runProgram(() => {
      try {
        build();
      } catch (e) {
        error = e;
      }
    });
    expect(String(error)).toMatch(message);
    expect(resources).toEqual([]);
  });

  it("refuses a policy for a service outside the saga", async () => {
    let error: unknown;
    await runProgram(() => {
      const saga = new SagaOrchestrator("saga", { saga: planSaga("z", "dev", { name: "s", mode: "orchestration", steps: [{ service: "a", action: "x", compensate: "y" }, { service: "b", action: "z" }] }) });
      try {
        saga.participantPolicyDocument("c");
      } catch (e) {
        error = e;
      }
    });
    expect(String(error)).toMatch(/"c" takes no part in saga "s"\. Fix: use one of a, b/);
  });
});
