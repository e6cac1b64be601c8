import { Duration, RemovalPolicy, Stack, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_sqs as sqs, aws_stepfunctions as sfn } from "aws-cdk-lib";
import { Construct } from "constructs";
import { QUEUE_CONSUME_ACTIONS, RESTRICTED_CONSUME_ACTIONS, SERVICE_TAG_KEY } from "../plan/messaging.js";
import { pascalCase } from "../plan/naming.js";
import { SAGA_START_ACTIONS, SAGA_TASK_RESPONSE_ACTIONS, type SagaPlan } from "../plan/saga.js";
import { sagaStateMachineDefinition } from "../plan/saga-state-machine.js";
import { acknowledgeGrantWildcards, acknowledgeInlinePolicy } from "./compliance.js";
import { allowLogGroupsToUse } from "./log-key.js";

export interface SagaOrchestratorProps {
  /** The orchestrated saga, as planned (`planSaga`). */
  readonly saga: SagaPlan;
  /**
   * Encrypts the command queues and the execution log; may be shared by several sagas.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
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
   * What happens to the queues, the log and the key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** ARNs a service needs to take part in a saga deployed elsewhere. */
export interface SagaParticipantArns {
  readonly stateMachineArn: string;
  /** The service's command queue. */
  readonly queueArn: string;
  /** Key of the command queues. */
  readonly encryptionKeyArn: string;
}

/**
 * An orchestrated saga on Step Functions (standard workflow, X-Ray tracing, every execution logged
 * to a KMS-encrypted log group): each step sends a command to its service's queue and waits for the
 * service to answer with the task token; when a step fails, the completed steps' compensations run
 * in reverse order (the definition comes from `sagaStateMachineDefinition`). One encrypted command
 * queue with a dead-letter queue per service taking part.
 *
 * Cost note: Step Functions standard bills per state transition; the key and queues per use.
 *
 * @example
 * const saga = new SagaOrchestrator(stack, "PlaceOrder", { saga: plan.sagas[0] });
 * saga.grantParticipant("payments", paymentsRole);
 * saga.grantStart(ordersRole);
 */
export class SagaOrchestrator extends Construct {
  readonly saga: SagaPlan;
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly encryptionKey: kms.IKey;
  private readonly queues = new Map<string, { queue: sqs.Queue; deadLetterQueue: sqs.Queue }>();

  constructor(scope: Construct, id: string, props: SagaOrchestratorProps) {
    super(scope, id);
    const { saga } = props;
    if (saga.mode !== "orchestration") {
      throw new Error(`SagaOrchestrator ${id}: saga "${saga.name}" is choreographed. Fix: plan it with mode orchestration, or give its events to the broker instead`);
    }
    this.saga = saga;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, "Key", { description: `Encrypts the commands and log of ${this.node.path}`, enableKeyRotation: true, removalPolicy });
    allowLogGroupsToUse(this.encryptionKey);

    for (const { service } of saga.commandQueues) {
      const deadLetterQueue = new sqs.Queue(this, `${pascalCase(service)}DeadLetterQueue`, {
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
      const queue = new sqs.Queue(this, `${pascalCase(service)}Queue`, {
        encryptionMasterKey: this.encryptionKey,
        enforceSSL: true,
        // A command outlives the step's timeout, after which the saga has moved on.
        retentionPeriod: Duration.days(4),
        visibilityTimeout: Duration.seconds(saga.stepTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
        removalPolicy,
      });
      if (props.restrictToServices) {
        queue.addToResourcePolicy(
          new iam.PolicyStatement({
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: [...RESTRICTED_CONSUME_ACTIONS],
            resources: [queue.queueArn],
            conditions: { StringNotEquals: { [`aws:PrincipalTag/${SERVICE_TAG_KEY}`]: service } },
          }),
        );
      }
      this.queues.set(service, { queue, deadLetterQueue });
    }

    const retention = Object.values(logs.RetentionDays).find((days): days is logs.RetentionDays => days === (props.logRetentionDays ?? 365));
    if (retention === undefined) throw new Error(`SagaOrchestrator ${id}: logRetentionDays ${props.logRetentionDays} is not a CloudWatch Logs retention. Fix: use one such as 30, 90, 365`);
    this.logGroup = new logs.LogGroup(this, "Log", {
      // The vended-logs prefix keeps CloudWatch Logs' resource policy small however many state machines log.
      logGroupName: `/aws/vendedlogs/states/${saga.workflowName}`,
      encryptionKey: this.encryptionKey,
      retention,
      removalPolicy,
    });
    const definition = sagaStateMachineDefinition(saga, { commandQueueUrl: (service) => this.commandQueue(service).queueUrl });
    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineName: saga.workflowName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(Stack.of(this).toJsonString(definition)),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      removalPolicy,
    });
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: [...this.queues.values()].map((q) => q.queue.queueArn) }));
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:Decrypt", "kms:GenerateDataKey"], resources: [this.encryptionKey.keyArn] }));
    acknowledgeInlinePolicy(this.stateMachine.role, `the ${saga.name} saga's state machine`);
    acknowledgeGrantWildcards(
      this.stateMachine.role,
      (finding) => finding === "Resource::*",
      "CDK's grants for the state machine's log delivery (logs:CreateLogDelivery and related calls) and X-Ray tracing: these actions have no resource-level permissions.",
    );
  }

  /** The queue the state machine sends a service's commands to. */
  commandQueue(service: string): sqs.IQueue {
    return this.queuesOf(service).queue;
  }

  /** Where a service's commands go after maxReceiveCount failed receives. */
  deadLetterQueue(service: string): sqs.IQueue {
    return this.queuesOf(service).deadLetterQueue;
  }

  /** Lets a service consume its command queue and answer its tasks (SendTaskSuccess/Failure/Heartbeat). */
  grantParticipant(service: string, grantee: iam.IGrantable): iam.Grant {
    return grantSagaParticipant(grantee, {
      stateMachineArn: this.stateMachine.stateMachineArn,
      queueArn: this.commandQueue(service).queueArn,
      encryptionKeyArn: this.encryptionKey.keyArn,
    });
  }

  /** Lets the initiator start executions. */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    return grantSagaStart(grantee, this.stateMachine.stateMachineArn);
  }

  private queuesOf(service: string): { queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
    const queues = this.queues.get(service);
    if (!queues) throw new Error(`SagaOrchestrator ${this.node.id}: "${service}" takes no part in saga "${this.saga.name}". Fix: use one of ${[...this.queues.keys()].join(", ")}`);
    return queues;
  }
}

/** Consume the service's command queue, decrypt its commands and answer the saga's tasks. */
export function grantSagaParticipant(grantee: iam.IGrantable, arns: SagaParticipantArns): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: [...QUEUE_CONSUME_ACTIONS], resourceArns: [arns.queueArn] })
    .combine(iam.Grant.addToPrincipal({ grantee, actions: ["kms:Decrypt"], resourceArns: [arns.encryptionKeyArn] }))
    .combine(iam.Grant.addToPrincipal({ grantee, actions: [...SAGA_TASK_RESPONSE_ACTIONS], resourceArns: [arns.stateMachineArn] }));
}

/** Start executions of the saga's state machine. */
export function grantSagaStart(grantee: iam.IGrantable, stateMachineArn: string): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: [...SAGA_START_ACTIONS], resourceArns: [stateMachineArn] });
}
