import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DATA_KEY_ACTIONS, EVENT_STORE_ACTIONS, STREAM_READ_ACTIONS } from "../../plan/data.js";
import { EVENT_STORE_FORWARDING, eventStoreFilter, eventStoreInputTemplate, type EventStoreLayout } from "../../plan/event-store.js";
import { SERVICE_TAG_KEY } from "../../plan/messaging.js";
import { allowPolicyDocument, type AllowStatement } from "./policy-document.js";

/** Where the store's stream forwards events: the broker, so the stream doubles as the event bus. */
export type EventStoreForwarding =
  | {
      readonly kind: "sns";
      /** The service the events belong to; the pipes' role carries its `msa:service` tag. */
      readonly service: string;
      /** Event type → SNS topic ARN; one pipe per event. */
      readonly topicArns: Readonly<Record<string, pulumi.Input<string>>>;
      /**
       * Customer-managed key of the topics.
       * @default - AWS-managed topic keys, which need no grant
       */
      readonly kmsKeyArn?: pulumi.Input<string>;
    }
  | {
      readonly kind: "eventbridge";
      readonly service: string;
      /** The bus every event is put on by one pipe, with its type as detail-type. */
      readonly eventBusArn: pulumi.Input<string>;
      /** EventBridge `source` of the events. */
      readonly source: string;
      readonly events: readonly string[];
    };

/** Arguments of {@link EventStore}. */
export interface EventStoreArgs {
  /**
   * Table name.
   * @default - generated from the component name
   */
  readonly tableName?: string;
  /**
   * Key and attribute names of the stored events.
   * @default - EVENT_STORE_FORWARDING.layout: aggregateId, sequence (number), eventType, payload
   */
  readonly layout?: EventStoreLayout;
  /**
   * Forwards new events from the stream to the broker, filtered by type.
   * @default - no forwarding
   */
  readonly forwarding?: EventStoreForwarding;
  /**
   * ARN of the key encrypting the table, its stream and the forwarding dead-letter queue.
   * @default - a new key with rotation
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Keep the table when the stack is destroyed, protect and deletion-protect it.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches a child's arguments before it is created.
   * @default - none
   */
  readonly transform?: { readonly table?: (args: aws.dynamodb.TableArgs) => void; readonly pipe?: (args: aws.pipes.PipeArgs) => void };
}

/**
 * An append-only event store: a DynamoDB table keyed by aggregate id and sequence number (KMS,
 * point-in-time recovery, on demand) whose stream (new images) doubles as the broker: EventBridge
 * Pipes read it and publish each new event to the broker by type, with a dead-letter queue.
 * The owner appends with `PutItem` + `attribute_not_exists(sequence)`; `appendPolicyDocument`
 * allows no update, delete or unconditional batch write.
 *
 * Cost: DynamoDB on demand and Pipes bill per request.
 *
 * @example
 * const store = new EventStore("payments-events", { forwarding: { kind: "sns", service: "payments", topicArns: { paid: topicArn } } });
 * new aws.iam.RolePolicy("payments-events", { role: paymentsRole.name, policy: store.appendPolicyDocument() });
 */
export class EventStore extends pulumi.ComponentResource {
  readonly tableName: pulumi.Output<string>;
  readonly tableArn: pulumi.Output<string>;
  readonly streamArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  readonly nodes: {
    readonly key?: aws.kms.Key;
    readonly table: aws.dynamodb.Table;
    readonly deadLetterQueue?: aws.sqs.Queue;
    readonly pipeRole?: aws.iam.Role;
    readonly pipes: readonly aws.pipes.Pipe[];
  };

  constructor(name: string, args: EventStoreArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const forwarding = args.forwarding;
    const events = forwarding ? (forwarding.kind === "sns" ? Object.keys(forwarding.topicArns) : [...forwarding.events]) : [];
    if (forwarding && events.length === 0) throw new Error(`EventStore ${name}: forwarding lists no event. Fix: list the events the stream forwards, or drop forwarding`);
    if (forwarding?.kind === "sns" && events.length > EVENT_STORE_FORWARDING.maxSnsPipes) {
      throw new Error(
        `EventStore ${name}: forwarding to SNS takes one stream reader per event, and ${events.length} events exceed the ${EVENT_STORE_FORWARDING.maxSnsPipes} readers a DynamoDB stream serves without throttling. Fix: forward through EventBridge (one reader for every event), or at most ${EVENT_STORE_FORWARDING.maxSnsPipes} events`,
      );
    }
    super("msa:aws:EventStore", name, {}, opts);
    const parent = { parent: this };
    const kept = args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const tags = { ...args.tags };
    const layout = args.layout ?? EVENT_STORE_FORWARDING.layout;
    const key = args.kmsKeyArn ? undefined : new aws.kms.Key(`${name}-key`, { description: `${name} events at rest`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, kept);
    this.kmsKeyArn = key ? key.arn : pulumi.output(args.kmsKeyArn!);

    const tableArgs: aws.dynamodb.TableArgs = {
      ...(args.tableName ? { name: args.tableName } : {}),
      billingMode: "PAY_PER_REQUEST",
      hashKey: layout.aggregateKey,
      rangeKey: layout.sequenceKey,
      attributes: [
        { name: layout.aggregateKey, type: "S" },
        { name: layout.sequenceKey, type: "N" },
      ],
      streamEnabled: true,
      streamViewType: "NEW_IMAGE",
      serverSideEncryption: { enabled: true, kmsKeyArn: this.kmsKeyArn },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: args.retain ?? false,
      tags,
    };
    args.transform?.table?.(tableArgs);
    const table = new aws.dynamodb.Table(`${name}-table`, tableArgs, kept);
    this.tableName = table.name;
    this.tableArn = table.arn;
    this.streamArn = table.streamArn;

    if (!forwarding) {
      this.nodes = { ...(key ? { key } : {}), table, pipes: [] };
      this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn, streamArn: this.streamArn });
      return;
    }

    const deadLetterQueue = new aws.sqs.Queue(`${name}-dlq`, { kmsMasterKeyId: this.kmsKeyArn, messageRetentionSeconds: 14 * 86_400, tags }, kept);
    // The broker's policies admit only principals acting for a declared publisher.
    const pipeRole = new aws.iam.Role(
      `${name}-pipe-role`,
      {
        description: `Forwards ${name} to the broker`,
        assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "pipes.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
        tags: { ...tags, [SERVICE_TAG_KEY]: forwarding.service },
      },
      parent,
    );
    const statements: AllowStatement[] = [
      { Action: [...STREAM_READ_ACTIONS], Resource: [this.streamArn] },
      { Action: ["sqs:SendMessage"], Resource: [deadLetterQueue.arn] },
      { Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [this.kmsKeyArn] },
      ...(forwarding.kind === "sns"
        ? [
            { Action: ["sns:Publish"], Resource: events.map((e) => forwarding.topicArns[e]!) },
            ...(forwarding.kmsKeyArn ? [{ Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [forwarding.kmsKeyArn] }] : []),
          ]
        : [{ Action: ["events:PutEvents"], Resource: [forwarding.eventBusArn], Condition: { StringEquals: { "events:detail-type": events, "events:source": forwarding.source } } }]),
    ];
    const pipePolicy = new aws.iam.RolePolicy(`${name}-pipe-policy`, { role: pipeRole.name, policy: allowPolicyDocument(statements) }, parent);

    const inputTemplate = eventStoreInputTemplate(layout);
    const pipe = (suffix: string, target: pulumi.Input<string>, forwarded: readonly string[], targetParameters: aws.types.input.pipes.PipeTargetParameters) => {
      const pipeArgs: aws.pipes.PipeArgs = {
        roleArn: pipeRole.arn,
        description: `${forwarded.join(", ")} from the event store to the broker`,
        desiredState: "RUNNING",
        source: this.streamArn,
        sourceParameters: {
          dynamodbStreamParameters: {
            startingPosition: "TRIM_HORIZON",
            batchSize: EVENT_STORE_FORWARDING.batchSize,
            maximumRetryAttempts: EVENT_STORE_FORWARDING.maximumRetryAttempts,
            onPartialBatchItemFailure: "AUTOMATIC_BISECT",
            deadLetterConfig: { arn: deadLetterQueue.arn },
          },
          filterCriteria: { filters: [{ pattern: JSON.stringify(eventStoreFilter(layout, forwarded)) }] },
        },
        target,
        targetParameters,
        tags,
      };
      args.transform?.pipe?.(pipeArgs);
      // Pipes checks its role's access when it is created.
      return new aws.pipes.Pipe(`${name}-${suffix}`, pipeArgs, { parent: this, dependsOn: [pipePolicy] });
    };
    const pipes =
      forwarding.kind === "eventbridge"
        ? [
            pipe("pipe", forwarding.eventBusArn, events, {
              inputTemplate,
              eventbridgeEventBusParameters: { detailType: `$.dynamodb.NewImage.${layout.eventTypeAttribute}.S`, source: forwarding.source },
            }),
          ]
        : events.map((event) => pipe(`${event}-pipe`, forwarding.topicArns[event]!, [event], { inputTemplate }));
    this.nodes = { ...(key ? { key } : {}), table, deadLetterQueue, pipeRole, pipes };
    this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn, streamArn: this.streamArn });
  }

  /** The owner's IAM policy document: append and read events, the key only through DynamoDB. */
  appendPolicyDocument(): pulumi.Output<string> {
    const region = aws.getRegionOutput({}, { parent: this }).region;
    return allowPolicyDocument([
      { Action: [...EVENT_STORE_ACTIONS], Resource: [this.tableArn] },
      { Action: [...DATA_KEY_ACTIONS], Resource: [this.kmsKeyArn], Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`dynamodb.${region}.amazonaws.com` } } },
    ]);
  }
}
