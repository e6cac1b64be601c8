/**
 * The Amazon States Language definition of an orchestrated saga, generated from its {@link SagaPlan}
 * so the CDK and Pulumi engines deploy the same state machine.
 *
 * Each step sends a command to its service's queue and waits for the service to answer with the
 * task token (`sqs:sendMessage.waitForTaskToken`): the service consumes its own queue and calls
 * SendTaskSuccess or SendTaskFailure. Services stay private (no HTTP endpoint for the orchestrator,
 * no gateway credentials) and a command survives a service outage in its queue.
 */

import { nextCompensation, SAGA_STATES, type SagaPlan, type SagaStepPlan } from "./saga.js";

/** The resource of an SQS send that waits for the consumer's task token. */
export const SEND_AND_WAIT = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

/** The body of every command a service receives from the orchestrator. */
export interface SagaCommand {
  readonly saga: string;
  /** 1-based step number. */
  readonly step: number;
  readonly service: string;
  readonly action: string;
  readonly kind: "action" | "compensation";
}

export interface AslTaskState {
  readonly Type: "Task";
  readonly Comment: string;
  readonly Resource: string;
  readonly Parameters: { readonly QueueUrl: string; readonly MessageBody: Readonly<Record<string, unknown>> };
  readonly ResultPath: string;
  readonly TimeoutSeconds: number;
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[]; readonly IntervalSeconds: number; readonly MaxAttempts: number; readonly BackoffRate: number }[];
  readonly Catch: readonly { readonly ErrorEquals: readonly string[]; readonly ResultPath: string; readonly Next: string }[];
  readonly Next?: string;
}

export interface AslTerminalState {
  readonly Type: "Succeed" | "Fail";
  readonly Comment: string;
  readonly Error?: string;
  readonly Cause?: string;
}

export type AslState = AslTaskState | AslTerminalState;

export interface AslDefinition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly TimeoutSeconds: number;
  readonly States: Readonly<Record<string, AslState>>;
}

export interface SagaDefinitionOptions {
  /** URL of the command queue of a service taking part (a literal or an engine token). */
  readonly commandQueueUrl: (service: string) => string;
}

/**
 * Builds the state machine: the steps in order; a Catch on every step leading to the compensation
 * of the latest completed compensable step, whose Next is the one below it, and so on down to the
 * `rolled-back` Fail state. A compensation that keeps failing ends in `compensation-failed`.
 */
export function sagaStateMachineDefinition(saga: SagaPlan, options: SagaDefinitionOptions): AslDefinition {
  if (saga.mode !== "orchestration") {
    throw new Error(`sagaStateMachineDefinition: saga "${saga.name}" is choreographed, which has no state machine. Fix: set sagas[].mode: orchestration, or use its events`);
  }
  const { steps } = saga;
  const states: Record<string, AslState> = {};
  const compensationEntry = (index: number): string => {
    const j = nextCompensation(steps, index);
    return j === undefined ? SAGA_STATES.rolledBack : steps[j]!.compensationState!;
  };

  steps.forEach((step, k) => {
    const last = k === steps.length - 1;
    states[step.state] = {
      ...task(saga, step, "action", options),
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: compensationEntry(k) }],
      Next: last ? SAGA_STATES.completed : steps[k + 1]!.state,
    };
  });
  for (const step of steps) {
    if (step.compensate === undefined) continue;
    states[step.compensationState!] = {
      ...task(saga, step, "compensation", options),
      Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 5, MaxAttempts: saga.compensationAttempts, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.compensationError", Next: SAGA_STATES.compensationFailed }],
      Next: compensationEntry(step.index),
    };
  }
  states[SAGA_STATES.completed] = { Type: "Succeed", Comment: `every step of ${saga.name} completed` };
  states[SAGA_STATES.rolledBack] = {
    Type: "Fail",
    Comment: "a step failed and every completed step was compensated",
    Error: "SagaRolledBack",
    Cause: `${saga.name} failed; its completed steps were compensated in reverse order`,
  };
  states[SAGA_STATES.compensationFailed] = {
    Type: "Fail",
    Comment: "a compensation kept failing; the saga needs an operator",
    Error: "SagaCompensationFailed",
    Cause: `a compensation of ${saga.name} failed ${saga.compensationAttempts + 1} times`,
  };

  return {
    Comment: `Saga ${saga.name}: ${steps.map((s) => `${s.service}.${s.action}`).join(" → ")}; on failure the completed steps are compensated in reverse order`,
    StartAt: steps[0]!.state,
    // Every step and compensation at its limit, with room for retries: a bound, never a hang.
    TimeoutSeconds: saga.stepTimeoutSeconds * steps.length * (2 + saga.compensationAttempts),
    States: states,
  };
}

function task(saga: SagaPlan, step: SagaStepPlan, kind: SagaCommand["kind"], options: SagaDefinitionOptions): Omit<AslTaskState, "Catch"> {
  const action = kind === "action" ? step.action : step.compensate!;
  const command: SagaCommand = { saga: saga.name, step: step.index + 1, service: step.service, action, kind };
  return {
    Type: "Task",
    Comment: `${kind === "action" ? "run" : "compensate"} ${step.service}.${action}`,
    Resource: SEND_AND_WAIT,
    Parameters: {
      QueueUrl: options.commandQueueUrl(step.service),
      MessageBody: { ...command, "input.$": "$.input", "taskToken.$": "$$.Task.Token", "executionId.$": "$$.Execution.Id" },
    },
    ResultPath: `$.results.${kind === "action" ? "step" : "undo"}${step.index + 1}`,
    TimeoutSeconds: saga.stepTimeoutSeconds,
  };
}
