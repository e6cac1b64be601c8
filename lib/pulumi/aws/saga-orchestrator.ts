import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { QUEUE_CONSUME_ACTIONS, RESTRICTED_CONSUME_ACTIONS, SERVICE_TAG_KEY } from "../../plan/messaging.js";
import { SAGA_START_ACTIONS, SAGA_TASK_RESPONSE_ACTIONS, type SagaPlan } from "../../plan/saga.js";
import { sagaStateMachineDefinition } from "../../plan/saga-state-machine.js";
import { allowPolicyDocument, denyUntagged } from "./policy-document.js";

/** Arguments of {@link SagaOrchestrator}. */
export interface SagaOrchestratorArgs {
  /** The orchestrated saga, as planned (`planSaga`). */
  readonly saga: SagaPlan;
  /**
   * ARN of the key encrypting the command queues and the execution log; may be shared by several sagas
   * (its policy must let CloudWatch Logs use it).
   * @default - a new key with rotation, usable by CloudWatch Logs of this account
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Receives of a command before it moves to the queue's dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Days the execution log is kept.
   * @default 365
   */
  readonly logRetentionDays?: number;
  /**
   * Queue policies deny consuming a service's command queue to principals not tagged `msa:service` with it.
   * @default false
   */
  readonly restrictToServices?: boolean;
  /**
   * Keep the queues, the log and the key when the stack is destroyed, and protect them.
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
  readonly transform?: { readonly stateMachine?: (args: aws.sfn.StateMachineArgs) => void; readonly queue?: (args: aws.sqs.QueueArgs, service: string) => void };
}

/**
 * An orchestrated saga on Step Functions (standard workflow, X-Ray tracing, every execution logged
 * to a KMS-encrypted log group): each step sends a command to its service's queue and waits for the
 * service to answer with the task token; when a step fails, the completed steps' compensations run
 * in reverse order (the definition comes from `sagaStateMachineDefinition`, as in the CDK engine).
 *
 * Cost: Step Functions standard bills per state transition; queues and the key per use.
 *
 * @example
 * const saga = new SagaOrchestrator("place-order", { saga: plan.sagas[0] });
 * new aws.iam.RolePolicy("payments-saga", { role: paymentsRole.name, policy: saga.participantPolicyDocument("payments") });
 */
export class SagaOrchestrator extends pulumi.ComponentResource {
  readonly saga: SagaPlan;
  readonly stateMachineArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Command queue URL by service. */
  readonly commandQueueUrls: Readonly<Record<string, pulumi.Output<string>>>;
  readonly nodes: {
    readonly key?: aws.kms.Key;
    readonly queues: Readonly<Record<string, aws.sqs.Queue>>;
    readonly deadLetterQueues: Readonly<Record<string, aws.sqs.Queue>>;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly role: aws.iam.Role;
    readonly stateMachine: aws.sfn.StateMachine;
  };

  constructor(name: string, args: SagaOrchestratorArgs, opts?: pulumi.ComponentResourceOptions) {
    const { saga } = args;
    if (saga.mode !== "orchestration") {
      throw new Error(`SagaOrchestrator ${name}: saga "${saga.name}" is choreographed. Fix: plan it with mode orchestration, or give its events to the broker instead`);
    }
    super("msa:aws:SagaOrchestrator", name, {}, opts);
    this.saga = saga;
    const parent = { parent: this };
    const kept = args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const tags = { ...args.tags };
    const key = args.kmsKeyArn ? undefined : new aws.kms.Key(`${name}-key`, { description: `${name} commands and log`, enableKeyRotation: true, deletionWindowInDays: 30, policy: logsKeyPolicy(this), tags }, kept);
    this.kmsKeyArn = key ? key.arn : pulumi.output(args.kmsKeyArn!);

    const queues: Record<string, aws.sqs.Queue> = {};
    const deadLetterQueues: Record<string, aws.sqs.Queue> = {};
    for (const { service } of saga.commandQueues) {
      const deadLetter = new aws.sqs.Queue(`${name}-${service}-dlq`, { kmsMasterKeyId: this.kmsKeyArn, messageRetentionSeconds: 14 * 86_400, tags }, kept);
      const queueArgs: aws.sqs.QueueArgs = {
        kmsMasterKeyId: this.kmsKeyArn,
        messageRetentionSeconds: 4 * 86_400,
        // A step waits at most this long; a command is never handed to two consumers meanwhile.
        visibilityTimeoutSeconds: saga.stepTimeoutSeconds,
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: args.maxReceiveCount ?? 5 }),
        tags,
      };
      args.transform?.queue?.(queueArgs, service);
      const queue = new aws.sqs.Queue(`${name}-${service}`, queueArgs, kept);
      new aws.sqs.QueuePolicy(
        `${name}-${service}`,
        {
          queueUrl: queue.url,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: queue.arn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
              ...(args.restrictToServices ? [denyUntagged(RESTRICTED_CONSUME_ACTIONS, queue.arn, SERVICE_TAG_KEY, [service])] : []),
            ],
          }),
        },
        parent,
      );
      queues[service] = queue;
      deadLetterQueues[service] = deadLetter;
    }
    this.commandQueueUrls = Object.fromEntries(Object.entries(queues).map(([service, queue]) => [service, queue.url]));

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-log`,
      // The vended-logs prefix keeps CloudWatch Logs' resource policy small however many state machines log.
      { name: `/aws/vendedlogs/states/${saga.workflowName}`, kmsKeyId: this.kmsKeyArn, retentionInDays: args.logRetentionDays ?? 365, tags },
      kept,
    );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `Runs the saga ${saga.name}`,
        assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
        tags,
      },
      parent,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: role.name,
        policy: allowPolicyDocument([
          { Action: ["sqs:SendMessage"], Resource: Object.values(queues).map((q) => q.arn) },
          { Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [this.kmsKeyArn] },
          // Log delivery and X-Ray have no resource-level permissions.
          {
            Action: [
              "logs:CreateLogDelivery",
              "logs:DeleteLogDelivery",
              "logs:DescribeLogGroups",
              "logs:DescribeResourcePolicies",
              "logs:GetLogDelivery",
              "logs:ListLogDeliveries",
              "logs:PutResourcePolicy",
              "logs:UpdateLogDelivery",
            ],
            Resource: ["*"],
          },
          { Action: ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"], Resource: ["*"] },
        ]),
      },
      parent,
    );
    const urls = pulumi.output(this.commandQueueUrls);
    const stateMachineArgs: aws.sfn.StateMachineArgs = {
      name: saga.workflowName,
      type: "STANDARD",
      roleArn: role.arn,
      definition: urls.apply((resolved) => JSON.stringify(sagaStateMachineDefinition(saga, { commandQueueUrl: (service) => resolved[service]! }))),
      loggingConfiguration: { level: "ALL", includeExecutionData: true, logDestination: pulumi.interpolate`${logGroup.arn}:*` },
      tracingConfiguration: { enabled: true },
      tags,
    };
    args.transform?.stateMachine?.(stateMachineArgs);
    const stateMachine = new aws.sfn.StateMachine(`${name}-state-machine`, stateMachineArgs, { parent: this, dependsOn: [rolePolicy] });
    this.stateMachineArn = stateMachine.arn;
    this.nodes = { ...(key ? { key } : {}), queues, deadLetterQueues, logGroup, role, stateMachine };
    this.registerOutputs({ stateMachineArn: this.stateMachineArn, commandQueueUrls: urls });
  }

  /** A service's policy document: consume its command queue, decrypt its commands, answer its tasks. */
  participantPolicyDocument(service: string): pulumi.Output<string> {
    const queue = this.nodes.queues[service];
    if (!queue) throw new Error(`SagaOrchestrator: "${service}" takes no part in saga "${this.saga.name}". Fix: use one of ${Object.keys(this.nodes.queues).join(", ")}`);
    return allowPolicyDocument([
      { Action: [...QUEUE_CONSUME_ACTIONS], Resource: [queue.arn] },
      { Action: ["kms:Decrypt"], Resource: [this.kmsKeyArn] },
      { Action: [...SAGA_TASK_RESPONSE_ACTIONS], Resource: [this.stateMachineArn] },
    ]);
  }

  /** The initiator's policy document: start executions. */
  startPolicyDocument(): pulumi.Output<string> {
    return allowPolicyDocument([{ Action: [...SAGA_START_ACTIONS], Resource: [this.stateMachineArn] }]);
  }
}

/** The account administers the key; CloudWatch Logs may use it for this account's log groups. */
export function logsKeyPolicy(parent: pulumi.Resource): pulumi.Output<string> {
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const region = aws.getRegionOutput({}, { parent }).region;
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "LogsEncrypt",
        Effect: "Allow",
        Principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${account}:log-group:*` } },
      },
    ],
  });
}
