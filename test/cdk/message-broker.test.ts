import { App, RemovalPolicy, Stack, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { MessageBroker, type MessageBrokerProps } from "../../lib/cdk/message-broker.js";
import { planLandingZone } from "../../lib/plan/planner.js";

const TOPICS: MessageBrokerProps["topics"] = [
  {
    event: "order-placed",
    subscriptions: [
      { subscriber: "payments", name: "payments_order-placed" },
      { subscriber: "shipping", name: "shipping_order-placed" },
    ],
  },
  { event: "payment-completed", subscriptions: [{ subscriber: "orders", name: "orders_payment-completed" }] },
];

interface Fixture {
  readonly stack: Stack;
  readonly broker: MessageBroker;
  readonly publisher: iam.Role;
  readonly consumer: iam.Role;
  readonly template: Template;
}

function synth(props: Partial<MessageBrokerProps> = {}, grant = true): Fixture {
  const app = new App({ context: { "@aws-cdk/core:validateAgainstDefaultRules": true, "@aws-cdk/core:strictCfnValidateErrors": true } });
  const stack = new Stack(app, "BrokerStack", { env: { account: "111111111111", region: "ap-northeast-2" } });
  const vpc =
    props.kind === "kafka"
      ? new ec2.Vpc(stack, "Vpc", { availabilityZones: ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"], natGateways: 1 })
      : undefined;
  const broker = new MessageBroker(stack, "Broker", { topics: TOPICS, ...(vpc ? { vpc } : {}), ...props });
  const publisher = new iam.Role(stack, "Orders", { assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com") });
  const consumer = new iam.Role(stack, "Payments", { assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com") });
  if (grant) {
    broker.grantPublish("order-placed", publisher);
    broker.grantConsume("payments_order-placed", consumer);
  }
  const template = Template.fromStack(stack);
  app.synth();
  return { stack, broker, publisher, consumer, template };
}

function policyStatements(template: Template, role: string): unknown[] {
  const policies = template.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${role}`) }] } });
  return Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
}

describe("MessageBroker (sns-sqs)", () => {
  const { stack, broker, template } = synth({ maxReceiveCount: 3, retentionDays: 7 });
  const topicArn = (event: string) => stack.resolve(broker.topic(event).topicArn);
  const queueArn = (name: string) => stack.resolve(broker.queue(name).queueArn);
  const keyArn = () => stack.resolve(broker.encryptionKey.keyArn);

  it("creates a topic per event and a queue plus dead-letter queue per subscription", () => {
    template.resourceCountIs("AWS::SNS::Topic", 2);
    template.resourceCountIs("AWS::SQS::Queue", 6);
    template.resourceCountIs("AWS::SNS::Subscription", 3);
  });

  it("encrypts every topic and queue with one rotating key", () => {
    template.resourceCountIs("AWS::KMS::Key", 1);
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    for (const topic of Object.values(template.findResources("AWS::SNS::Topic"))) {
      expect((topic as { Properties: { KmsMasterKeyId: unknown } }).Properties.KmsMasterKeyId).toEqual(keyArn());
    }
    for (const queue of Object.values(template.findResources("AWS::SQS::Queue"))) {
      expect((queue as { Properties: { KmsMasterKeyId: unknown } }).Properties.KmsMasterKeyId).toEqual(keyArn());
    }
  });

  it("moves a message to the dead-letter queue after maxReceiveCount receives", () => {
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(broker.deadLetterQueue("payments_order-placed").queueArn), maxReceiveCount: 3 },
      MessageRetentionPeriod: 7 * 86400,
    });
    template.hasResourceProperties("AWS::SQS::Queue", { RedrivePolicy: Match.absent(), MessageRetentionPeriod: 14 * 86400 });
  });

  it("delivers raw messages from the topic to the subscription's queue", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "sqs",
      RawMessageDelivery: true,
      TopicArn: topicArn("order-placed"),
      Endpoint: queueArn("payments_order-placed"),
    });
    template.hasResourceProperties("AWS::SNS::Subscription", { TopicArn: topicArn("payment-completed"), Endpoint: queueArn("orders_payment-completed") });
  });

  it("lets only its topic send to a queue, and refuses plain HTTP", () => {
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [stack.resolve(broker.queue("shipping_order-placed").queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Action: "sqs:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          {
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queueArn("shipping_order-placed"),
            Condition: { ArnEquals: { "aws:SourceArn": topicArn("order-placed") } },
          },
        ]),
      },
    });
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })] },
    });
  });

  it("lets SNS use the key only on behalf of this account's topics", () => {
    template.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Effect: "Allow",
            Principal: { Service: "sns.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "*",
            Condition: { ArnLike: { "aws:SourceArn": { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":sns:ap-northeast-2:111111111111:*"]] } } },
          },
        ]),
      },
    });
  });

  it("grants a publisher sns:Publish on its topic and data keys on the key, nothing more", () => {
    expect(policyStatements(template, "Orders")).toEqual([
      { Effect: "Allow", Action: "sns:Publish", Resource: topicArn("order-placed") },
      { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn() },
    ]);
  });

  it("grants a consumer its queue's receive/delete actions and decryption, nothing more", () => {
    expect(policyStatements(template, "Payments")).toEqual([
      {
        Effect: "Allow",
        Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        Resource: queueArn("payments_order-placed"),
      },
      { Effect: "Allow", Action: "kms:Decrypt", Resource: keyArn() },
    ]);
  });

  it("encrypts with a key it is given (another stack's) instead of creating one", () => {
    const keyArn = "arn:aws:kms:ap-northeast-2:111111111111:key/11111111-2222-3333-4444-555555555555";
    const app = new App();
    const stack = new Stack(app, "TopicStack", { env: { account: "111111111111", region: "ap-northeast-2" } });
    const broker = new MessageBroker(stack, "Broker", { topics: TOPICS.map((t) => ({ ...t, subscriptions: [] })), encryptionKey: kms.Key.fromKeyArn(stack, "Key", keyArn) });
    const publisher = new iam.Role(stack, "Orders", { assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com") });
    broker.grantPublish("order-placed", publisher);
    const shared = Template.fromStack(stack);
    shared.resourceCountIs("AWS::KMS::Key", 0);
    shared.resourceCountIs("AWS::SNS::Topic", 2);
    shared.allResourcesProperties("AWS::SNS::Topic", { KmsMasterKeyId: keyArn });
    expect(policyStatements(shared, "Orders")).toContainEqual({ Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn });
    expect(() => new MessageBroker(stack, "Bus", { kind: "eventbridge", topics: [], encryptionKey: broker.encryptionKey })).toThrow(
      /MessageBroker encryptionKey is set but kind is "eventbridge", which creates its own key. Fix: drop encryptionKey, or use kind "sns-sqs"/,
    );
  });

  it("retains queues by default and deletes them when asked", () => {
    template.allResources("AWS::SQS::Queue", { DeletionPolicy: "Retain" });
    const { template: disposable } = synth({ removalPolicy: RemovalPolicy.DESTROY }, false);
    disposable.allResources("AWS::SQS::Queue", { DeletionPolicy: "Delete" });
    disposable.hasResource("AWS::KMS::Key", { DeletionPolicy: "Delete" });
  });

  it("takes the plan's topics as they are", () => {
    const plan = planLandingZone({
      name: "shop",
      cloud: "aws",
      region: "ap-northeast-2",
      tier: "caas",
      services: [
        { name: "orders", port: 8080, publishes: ["order-placed"] },
        { name: "payments", port: 8080, subscribes: ["order-placed"] },
      ],
    });
    const app = new App();
    const planStack = new Stack(app, "PlanBroker", { env: { account: "111111111111", region: "ap-northeast-2" } });
    const fromPlan = new MessageBroker(planStack, "Broker", { topics: plan.broker!.topics, maxReceiveCount: plan.broker!.maxReceiveCount });
    expect(fromPlan.queue(plan.broker!.topics[0]!.subscriptions[0]!.name)).toBeDefined();
  });

  it("keeps logical IDs stable", () => {
    // A changed ID replaces a queue and loses its messages: update these only on purpose.
    const ids = Object.keys(template.findResources("AWS::SQS::Queue")).sort();
    expect(ids).toEqual(
      [
        "BrokerorderplacedpaymentsDeadLetterQueue4A1FF176",
        "BrokerorderplacedpaymentsQueueA8CC93AE",
        "BrokerorderplacedshippingDeadLetterQueue6A8EFC9C",
        "BrokerorderplacedshippingQueue990DC20F",
        "BrokerpaymentcompletedordersDeadLetterQueueA6F91790",
        "BrokerpaymentcompletedordersQueue8726941B",
      ].sort(),
    );
  });

  it.each<[string, () => unknown, RegExp]>([
    ["unknown event", () => broker.topic("order-shipped"), /no topic for event "order-shipped"; known events: order-placed, payment-completed/],
    ["unknown subscription", () => broker.queue("nobody"), /no subscription "nobody"/],
    ["allowFrom on sns-sqs", () => broker.allowFrom(new ec2.Connections()), /kind is "sns-sqs", which has no network endpoint/],
  ])("rejects %s", (_, call, message) => {
    expect(call).toThrow(message);
  });

  it.each<[Partial<MessageBrokerProps>, RegExp]>([
    [{ maxReceiveCount: 0 }, /maxReceiveCount is 0; SQS accepts 1 to 1000/],
    [{ retentionDays: 15 }, /retentionDays is 15; SQS keeps messages 1 to 14 days/],
    [{ topics: [TOPICS[0]!, TOPICS[0]!] }, /topics\[1\].event "order-placed" appears twice/],
    [{ topics: [{ event: "a/b", subscriptions: [] }] }, /topics\[0\].event is "a\/b"/],
    [{ kind: "kafka", vpc: undefined }, /kind is "kafka" but vpc is undefined/],
  ])("rejects bad props: %o", (props, message) => {
    expect(() => {
      const app = new App();
      new MessageBroker(new Stack(app, "Bad"), "Broker", { topics: TOPICS, ...props });
    }).toThrow(message);
  });
});

const DECLARED: MessageBrokerProps["topics"] = TOPICS.map((t) => ({
  ...t,
  publishers: t.event === "order-placed" ? ["orders"] : ["payments"],
  sources: t.event === "order-placed" ? ["shop.orders"] : ["shop.payments"],
}));

describe("MessageBroker (restrictToServices)", () => {
  const { stack, broker, template } = synth({ topics: DECLARED, restrictToServices: true });

  it("denies publishing to every principal not tagged as a declared publisher", () => {
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [stack.resolve(broker.topic("order-placed").topicArn)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "sns:Publish",
            Resource: stack.resolve(broker.topic("order-placed").topicArn),
            Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": ["orders"] } },
          }),
        ]),
      },
    });
  });

  it("denies consuming a queue to every principal not tagged as its subscriber", () => {
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [stack.resolve(broker.queue("shipping_order-placed").queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"],
            Resource: stack.resolve(broker.queue("shipping_order-placed").queueArn),
            Condition: { StringNotEquals: { "aws:PrincipalTag/msa:service": "shipping" } },
          },
        ]),
      },
    });
  });

  it("needs the publishers of every topic", () => {
    expect(() => new MessageBroker(new Stack(new App(), "Bad"), "Broker", { topics: TOPICS, restrictToServices: true })).toThrow(
      /topics\[0\].publishers is empty but restrictToServices is true. Fix: list the services publishing "order-placed"/,
    );
  });
});

describe("MessageBroker (eventbridge)", () => {
  const { stack, broker, template } = synth({ kind: "eventbridge", topics: DECLARED, restrictToServices: true, maxReceiveCount: 4 });
  const busArn = () => stack.resolve(broker.eventBus!.eventBusArn);

  it("creates one bus, a rule per subscription into its queue, and a dead-letter queue per queue", () => {
    template.resourceCountIs("AWS::Events::EventBus", 1);
    template.resourceCountIs("AWS::Events::Rule", 3);
    template.resourceCountIs("AWS::SQS::Queue", 6);
    template.resourceCountIs("AWS::SNS::Topic", 0);
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { deadLetterTargetArn: stack.resolve(broker.deadLetterQueue("payments_order-placed").queueArn), maxReceiveCount: 4 },
    });
  });

  it("matches the event's detail-type and sources, and retries delivery for a day before the dead-letter queue", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: stack.resolve(broker.eventBus!.eventBusName),
      EventPattern: { "detail-type": ["order-placed"], source: ["shop.orders"] },
      Targets: [
        Match.objectLike({
          Arn: stack.resolve(broker.queue("payments_order-placed").queueArn),
          DeadLetterConfig: { Arn: stack.resolve(broker.deadLetterQueue("payments_order-placed").queueArn) },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });

  it("lets only the subscription's rule send to its queue and dead-letter queue, and EventBridge use the key for this bus's rules", () => {
    const rules = template.findResources("AWS::Events::Rule", { Properties: { EventPattern: { "detail-type": ["order-placed"] }, Description: "order-placed to payments" } });
    const ruleId = Object.keys(rules)[0]!;
    for (const queue of [broker.queue("payments_order-placed"), broker.deadLetterQueue("payments_order-placed")]) {
      template.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [stack.resolve(queue.queueUrl)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: stack.resolve(queue.queueArn), Condition: { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } } },
          ]),
        },
      });
    }
    template.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: "events.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Condition: { ArnLike: { "aws:SourceArn": { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":events:ap-northeast-2:111111111111:rule/", stack.resolve(broker.eventBus!.eventBusName), "/*"]] } } },
          }),
        ]),
      },
    });
  });

  it("lets a publisher put only its event's detail-type and sources on the bus", () => {
    expect(policyStatements(template, "Orders")).toEqual([
      {
        Effect: "Allow",
        Action: "events:PutEvents",
        Resource: busArn(),
        Condition: { StringEquals: { "events:detail-type": "order-placed", "events:source": ["shop.orders"] } },
      },
    ]);
  });

  it("denies putting an event to principals not tagged as its publisher", () => {
    template.hasResourceProperties("AWS::Events::EventBusPolicy", {
      Statement: {
        Sid: "cdk-OnlyPublishersOforderplaced",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "events:PutEvents",
        Resource: busArn(),
        Condition: { StringEquals: { "events:detail-type": "order-placed" }, StringNotEquals: { "aws:PrincipalTag/msa:service": ["orders"] } },
      },
    });
  });

  it("has no SNS topics to hand out", () => {
    expect(() => broker.topic("order-placed")).toThrow(/kind is "eventbridge", which has no SNS topics/);
  });
});

describe("MessageBroker (kafka)", () => {
  const { stack, broker, template } = synth({ kind: "kafka", kafka: { brokerNodes: 6, instanceType: "kafka.m7g.large", volumeGiB: 100 } });
  const clusterArn = () => stack.resolve(broker.cluster!.attrArn);

  it("runs MSK in the private subnets with TLS, IAM auth and a KMS key at rest", () => {
    template.resourceCountIs("AWS::SNS::Topic", 0);
    template.resourceCountIs("AWS::SQS::Queue", 0);
    const vpc = broker.node.scope!.node.findChild("Vpc") as ec2.Vpc;
    template.hasResourceProperties("AWS::MSK::Cluster", {
      KafkaVersion: "3.8.x",
      NumberOfBrokerNodes: 6,
      BrokerNodeGroupInfo: {
        ClientSubnets: vpc.privateSubnets.map((s) => stack.resolve(s.subnetId)),
        InstanceType: "kafka.m7g.large",
        StorageInfo: { EBSStorageInfo: { VolumeSize: 100 } },
        SecurityGroups: [stack.resolve(broker.securityGroup!.securityGroupId)],
      },
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: stack.resolve(broker.encryptionKey.keyArn) },
        EncryptionInTransit: { ClientBroker: "TLS", InCluster: true },
      },
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
    });
    template.hasResource("AWS::MSK::Cluster", { DeletionPolicy: "Retain" });
  });

  it("grants publishers and consumers IAM access to their topic and group only", () => {
    const topicArn = {
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":kafka:ap-northeast-2:111111111111:topic/",
          { "Fn::Select": [1, { "Fn::Split": ["/", clusterArn()] }] },
          "/",
          { "Fn::Select": [2, { "Fn::Split": ["/", clusterArn()] }] },
          "/order-placed",
        ],
      ],
    };
    expect(policyStatements(template, "Orders")).toEqual([
      { Effect: "Allow", Action: "kafka-cluster:Connect", Resource: clusterArn() },
      { Effect: "Allow", Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"], Resource: topicArn },
    ]);
    const consumer = policyStatements(template, "Payments") as { Action: unknown; Resource: unknown }[];
    expect(consumer.map((s) => s.Action)).toEqual([
      "kafka-cluster:Connect",
      ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
      ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
    ]);
    expect(JSON.stringify(consumer[2]!.Resource)).toContain(":group/");
    expect(JSON.stringify(consumer[2]!.Resource)).toContain("/payments_order-placed");
  });

  it("has no queues to hand out", () => {
    expect(() => broker.queue("payments_order-placed")).toThrow(/kind is "kafka", which has consumer groups, not queues/);
    expect(() => broker.topic("order-placed")).toThrow(/kind is "kafka", which has no SNS topics/);
  });

  it.each<[Partial<MessageBrokerProps>, RegExp]>([
    [{ kind: "kafka", kafka: { brokerNodes: 4 } }, /kafka.brokerNodes is 4; MSK needs a multiple of the 3 zones/],
  ])("rejects bad props: %o", (props, message) => {
    expect(() => synth(props, false)).toThrow(message);
  });
});
