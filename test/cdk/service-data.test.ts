import { App, RemovalPolicy, Stack, aws_ec2 as ec2, aws_iam as iam } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { EventStore, type EventStoreProps } from "../../lib/cdk/event-store.js";
import { SagaOrchestrator } from "../../lib/cdk/saga-orchestrator.js";
import { ServiceDatabase, type ServiceDatabaseProps } from "../../lib/cdk/service-database.js";
import { planSaga } from "../../lib/plan/saga.js";

const STRICT = { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true };
const ZONES = ["ap-northeast-2a", "ap-northeast-2b"];

function stackWithRole() {
  const app = new App({ context: STRICT });
  const stack = new Stack(app, "Data", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const role = new iam.Role(stack, "Owner", { assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com") });
  return { app, stack, role };
}

function statementsOf(template: Template, role = "Owner"): unknown[] {
  const policies = template.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${role}`) }] } });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
}

function database(props: Partial<ServiceDatabaseProps> & Pick<ServiceDatabaseProps, "engine">) {
  const { app, stack, role } = stackWithRole();
  const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ZONES, natGateways: 0, subnetConfiguration: [{ name: "Isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const app1 = new ec2.SecurityGroup(stack, "App", { vpc });
  const relational = props.engine === "postgres" || props.engine === "mysql";
  const db = new ServiceDatabase(stack, "Db", { ...(relational ? { vpc, allowFrom: [app1] } : {}), ...props });
  db.grantOwner(role);
  app.synth();
  return { stack, db, template: Template.fromStack(stack) };
}

describe("ServiceDatabase", () => {
  it("forces TLS on MySQL through its parameter group and admits only the given peer on 3306", () => {
    const { template } = database({ engine: "mysql", databaseName: "shop" });
    template.hasResourceProperties("AWS::RDS::DBParameterGroup", { Family: "mysql8.0", Parameters: { require_secure_transport: "ON" } });
    template.hasResourceProperties("AWS::RDS::DBInstance", { Engine: "mysql", EngineVersion: "8.0.41", MasterUsername: "admin", ManageMasterUserPassword: true, DeletionProtection: true });
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", { FromPort: 3306, ToPort: 3306, SourceSecurityGroupId: { "Fn::GetAtt": [Match.stringLikeRegexp("^App"), "GroupId"] } });
    template.hasResource("AWS::RDS::DBInstance", { DeletionPolicy: "Retain" });
  });

  it("grants the owner IAM connection as its user, its generated secret and the key through Secrets Manager only", () => {
    const { stack, db, template } = database({ engine: "postgres", serviceUser: "orders" });
    expect(statementsOf(template)).toEqual([
      {
        Effect: "Allow",
        Action: "rds-db:connect",
        Resource: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":rds-db:ap-northeast-2:111111111111:dbuser:", stack.resolve(db.instance!.instanceResourceId), "/orders"]] },
      },
      { Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: stack.resolve(db.secret!.secretArn) },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: stack.resolve(db.encryptionKey.keyArn), Condition: { StringEquals: { "kms:ViaService": "secretsmanager.ap-northeast-2.amazonaws.com" } } },
    ]);
    expect(Object.keys(db.environment()).sort()).toEqual(["DATABASE_ENGINE", "DATABASE_HOST", "DATABASE_NAME", "DATABASE_PORT", "DATABASE_SECRET_ARN", "DATABASE_USER"]);
  });

  it("keys a document table by pk and sk and deletes it when asked", () => {
    const { template } = database({ engine: "document", removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Delete",
      Properties: Match.objectLike({ KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }], DeletionProtectionEnabled: false }),
    });
    template.resourceCountIs("AWS::RDS::DBInstance", 0);
  });

  it.each<[string, Partial<ServiceDatabaseProps> & Pick<ServiceDatabaseProps, "engine">, RegExp]>([
    ["a relational engine without a VPC", { engine: "postgres" }, /engine "postgres" needs a vpc \(undefined\)\. Fix: pass the VPC/],
    ["a network peer for DynamoDB", { engine: "key-value", allowFrom: [new ec2.Connections()] }, /allowFrom is set but engine "key-value" is DynamoDB, reached through IAM only/],
    ["backups beyond RDS's limit", { engine: "postgres", backupRetentionDays: 40 }, /backupRetentionDays is 40; RDS keeps 1 to 35 days/],
  ])("rejects %s", (_title, props, message) => {
    expect(() => {
      const { stack } = stackWithRole();
      const vpc = props.engine === "postgres" && props.backupRetentionDays ? new ec2.Vpc(stack, "Vpc", { availabilityZones: ZONES }) : undefined;
      new ServiceDatabase(stack, "Db", { ...(vpc ? { vpc } : {}), ...props });
    }).toThrow(message);
  });
});

describe("EventStore", () => {
  function store(props: EventStoreProps) {
    const { app, stack, role } = stackWithRole();
    const events = new EventStore(stack, "Events", props);
    events.grantAppend(role);
    app.synth();
    return { stack, events, template: Template.fromStack(stack) };
  }

  it("forwards every event type through one pipe onto the bus, typed by the stored record, from a tagged role", () => {
    const busArn = "arn:aws:events:ap-northeast-2:111111111111:event-bus/shop";
    const { stack, events, template } = store({ forwarding: { kind: "eventbridge", service: "payments", eventBusArn: busArn, source: "shop.payments", events: ["paid", "refunded"] } });
    template.resourceCountIs("AWS::Pipes::Pipe", 1);
    template.hasResourceProperties("AWS::Pipes::Pipe", {
      Target: busArn,
      TargetParameters: {
        EventBridgeEventBusParameters: { DetailType: "$.dynamodb.NewImage.eventType.S", Source: "shop.payments" },
        InputTemplate: Match.stringLikeRegexp('"aggregateId": "<\\$.dynamodb.Keys.aggregateId.S>"'),
      },
      SourceParameters: Match.objectLike({ FilterCriteria: { Filters: [{ Pattern: '{"eventName":["INSERT"],"dynamodb":{"NewImage":{"eventType":{"S":["paid","refunded"]}}}}' }] } }),
    });
    expect(statementsOf(template, "EventsPipeRole")).toEqual(
      expect.arrayContaining([
        { Effect: "Allow", Action: "events:PutEvents", Resource: busArn, Condition: { StringEquals: { "events:detail-type": ["paid", "refunded"], "events:source": "shop.payments" } } },
        { Effect: "Allow", Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], Resource: stack.resolve(events.table.tableStreamArn) },
      ]),
    );
    template.hasResourceProperties("AWS::IAM::Role", { Tags: [{ Key: "msa:service", Value: "payments" }] });
  });

  it("grants the owner appends and reads only", () => {
    const { stack, events, template } = store({});
    template.resourceCountIs("AWS::Pipes::Pipe", 0);
    expect(statementsOf(template)).toEqual([
      { Effect: "Allow", Action: ["dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], Resource: stack.resolve(events.table.tableArn) },
      expect.objectContaining({ Action: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"] }),
    ]);
  });

  it("refuses more SNS pipes than a stream serves", () => {
    const topicArns = Object.fromEntries(["a", "b", "c"].map((e) => [e, `arn:aws:sns:ap-northeast-2:111111111111:${e}`]));
    expect(() => store({ forwarding: { kind: "sns", service: "payments", topicArns } })).toThrow(/3 events exceed the 2 readers a DynamoDB stream serves without throttling\. Fix: forward through EventBridge/);
  });
});

describe("SagaOrchestrator", () => {
  const steps = [
    { service: "orders", action: "create", compensate: "cancel" },
    { service: "payments", action: "charge" },
  ];

  it("sends only to its command queues and lets a participant consume only its own queue", () => {
    const { app, stack, role } = stackWithRole();
    const saga = new SagaOrchestrator(stack, "Saga", { saga: planSaga("shop", "dev", { name: "pay", mode: "orchestration", steps }), restrictToServices: true });
    saga.grantParticipant("payments", role);
    app.synth();
    const template = Template.fromStack(stack);
    expect(statementsOf(template)).toEqual([
      { Effect: "Allow", Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], Resource: stack.resolve(saga.commandQueue("payments").queueArn) },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: stack.resolve(saga.encryptionKey.keyArn) },
      { Effect: "Allow", Action: ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], Resource: stack.resolve(saga.stateMachine.stateMachineArn) },
    ]);
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [stack.resolve(saga.commandQueue("payments").queueUrl)],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": "payments" } } })]) },
    });
    template.hasResourceProperties("AWS::SQS::Queue", { RedrivePolicy: { deadLetterTargetArn: stack.resolve(saga.deadLetterQueue("orders").queueArn), maxReceiveCount: 5 }, VisibilityTimeout: 300 });
    expect(() => saga.commandQueue("shipping")).toThrow(/"shipping" takes no part in saga "pay"\. Fix: use one of orders, payments/);
  });

  it("refuses a choreographed saga", () => {
    const { stack } = stackWithRole();
    expect(() => new SagaOrchestrator(stack, "Saga", { saga: planSaga("shop", "dev", { name: "pay", mode: "choreography", steps }) })).toThrow(/saga "pay" is choreographed/);
  });
});
