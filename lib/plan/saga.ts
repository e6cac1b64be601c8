/**
 * Saga planning, shared by every engine and cloud: the order of the steps, which completed steps
 * are compensated (in reverse) when a step fails, the command queues of an orchestrated saga and
 * the events of a choreographed one. Pure: no engine is loaded.
 */

import type { LandingZoneSpec, SagaSpec, SagaStepSpec } from "../spec/types.js";
import { physicalName, shortHash } from "./naming.js";

/** One step of a saga, as the plan runs it. */
export interface SagaStepPlan {
  /** 0-based position in the saga. */
  readonly index: number;
  readonly service: string;
  readonly action: string;
  /** The action that undoes this step; undefined when the step is never compensated. */
  readonly compensate?: string;
  /** Workflow state that runs the action (unique in the saga, at most 80 characters). */
  readonly state: string;
  /** Workflow state that runs the compensation, when there is one. */
  readonly compensationState?: string;
}

/** The queue an orchestrator sends one service's commands to (orchestration only). */
export interface SagaCommandQueuePlan {
  readonly service: string;
  /** Logical queue name `<service>_saga_<saga>`; engines prefix it with the zone. */
  readonly name: string;
}

/** What an event of a choreographed saga means. */
export type SagaEventKind = "completed" | "failed" | "compensated";

/** One event of a choreographed saga: who publishes it and who reacts. */
export interface SagaEventPlan {
  readonly event: string;
  readonly kind: SagaEventKind;
  /** Index of the step whose action (completed, failed) or compensation (compensated) the event reports. */
  readonly step: number;
  readonly publisher: string;
  /** Services reacting to it; never the publisher, which handles its own transitions locally. */
  readonly subscribers: readonly string[];
}

export interface SagaPlan {
  readonly name: string;
  readonly mode: "orchestration" | "choreography";
  readonly steps: readonly SagaStepPlan[];
  /** The service that starts the saga: the owner of the first step. */
  readonly initiator: string;
  /** Orchestration: the state machine / workflow name, unique per zone and environment. */
  readonly workflowName: string;
  /** Orchestration over queues: one command queue per service taking part, in step order (none where the orchestrator calls the services over HTTP). */
  readonly commandQueues: readonly SagaCommandQueuePlan[];
  /** Choreography: the events that drive the saga forward and back. */
  readonly events: readonly SagaEventPlan[];
  /** Seconds a step may take before it counts as failed. */
  readonly stepTimeoutSeconds: number;
  /** Attempts of a compensation before the saga stops for a human (compensations must eventually succeed). */
  readonly compensationAttempts: number;
}

/** A step's own action may take this long before the saga compensates. */
export const SAGA_STEP_TIMEOUT_SECONDS = 300;
/** A compensation is retried with backoff this many times; compensations are idempotent by contract. */
export const SAGA_COMPENSATION_ATTEMPTS = 5;
/** Terminal states of an orchestrated saga. */
export const SAGA_STATES = { completed: "completed", rolledBack: "rolled-back", compensationFailed: "compensation-failed" } as const;

const MAX_STATE_NAME = 80;

/**
 * The steps to compensate when step `failedIndex` fails: every step before it that has a
 * compensation, latest first. The failed step itself rolled its own local transaction back.
 */
export function compensationChain<T extends Pick<SagaStepSpec, "compensate">>(steps: readonly T[], failedIndex: number): T[] {
  if (!Number.isInteger(failedIndex) || failedIndex < 0 || failedIndex >= steps.length) {
    throw new RangeError(`compensationChain: failedIndex ${failedIndex} is outside the ${steps.length} steps. Fix: pass 0 to ${steps.length - 1}`);
  }
  return steps
    .slice(0, failedIndex)
    .filter((s) => s.compensate !== undefined)
    .reverse();
}

/** The compensable step run after compensating step `index`, or undefined when the chain ends there. */
export function nextCompensation<T extends Pick<SagaStepSpec, "compensate">>(steps: readonly T[], index: number): number | undefined {
  for (let j = index - 1; j >= 0; j--) if (steps[j]!.compensate !== undefined) return j;
  return undefined;
}

/** Kebab-case form of an action (`chargeCard` → `charge-card`), for event names. */
export function kebabAction(action: string): string {
  return action.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

/** A workflow state name: readable, unique in the saga, within the 80-character limit. */
function stateName(...parts: readonly (string | number)[]): string {
  const name = parts.join("-");
  if (name.length <= MAX_STATE_NAME) return name;
  const hash = shortHash(name);
  return `${name.slice(0, MAX_STATE_NAME - hash.length - 1)}-${hash}`;
}

/** Name of a choreographed saga's event: `<saga>-<service>-<action>-<kind>`. */
export function sagaEventName(saga: string, step: Pick<SagaStepSpec, "service" | "action" | "compensate">, kind: SagaEventKind): string {
  const action = kind === "compensated" ? step.compensate! : step.action;
  return `${saga}-${step.service}-${kebabAction(action)}-${kind}`;
}

/**
 * The events of a choreographed saga. Step k+1 reacts to step k's `completed`; the initiator learns
 * of the end from the last step's `completed`. A failure travels back: the latest compensable step
 * before the failed one reacts to its `failed`, and each compensation's `compensated` wakes the
 * next compensable step below it, so compensations run latest first exactly as
 * {@link compensationChain} lists them.
 */
export function choreographyEvents(saga: Pick<SagaSpec, "name" | "steps">): SagaEventPlan[] {
  const { steps } = saga;
  const events: SagaEventPlan[] = [];
  const add = (kind: SagaEventKind, step: number, subscriber: string | undefined) => {
    const publisher = steps[step]!.service;
    // A service reacting to its own transition does so locally, without the broker.
    const subscribers = subscriber !== undefined && subscriber !== publisher ? [subscriber] : [];
    if (subscribers.length > 0) events.push({ event: sagaEventName(saga.name, steps[step]!, kind), kind, step, publisher, subscribers });
  };
  steps.forEach((step, k) => {
    const last = k === steps.length - 1;
    add("completed", k, last ? steps[0]!.service : steps[k + 1]!.service);
    if (k > 0) {
      const undo = nextCompensation(steps, k);
      add("failed", k, undo === undefined ? steps[0]!.service : steps[undo]!.service);
    }
    if (step.compensate !== undefined) {
      const undo = nextCompensation(steps, k);
      // The initiator learns that the saga is rolled back from the last compensation.
      add("compensated", k, undo === undefined ? steps[0]!.service : steps[undo]!.service);
    }
  });
  return events;
}

/**
 * Plans one saga for a zone (its name and environment qualify the workflow's name). `commandsOverHttp`:
 * the orchestrator calls the services directly (Argo Workflows on an existing cluster), so it needs no command queues.
 */
export function planSaga(zone: string, environment: string, saga: SagaSpec, commandsOverHttp = false): SagaPlan {
  const steps: SagaStepPlan[] = saga.steps.map((step, index) => ({
    index,
    service: step.service,
    action: step.action,
    ...(step.compensate !== undefined ? { compensate: step.compensate } : {}),
    state: stateName(index + 1, step.service, step.action),
    ...(step.compensate !== undefined ? { compensationState: stateName("undo", index + 1, step.service, step.compensate) } : {}),
  }));
  const services = [...new Set(saga.steps.map((s) => s.service))];
  const orchestrated = saga.mode === "orchestration";
  return {
    name: saga.name,
    mode: saga.mode,
    steps,
    initiator: saga.steps[0]!.service,
    workflowName: physicalName("queue", zone, environment, saga.name),
    commandQueues: orchestrated && !commandsOverHttp ? services.map((service) => ({ service, name: commandQueueName(saga.name, service) })) : [],
    events: orchestrated ? [] : choreographyEvents(saga),
    stepTimeoutSeconds: SAGA_STEP_TIMEOUT_SECONDS,
    compensationAttempts: SAGA_COMPENSATION_ATTEMPTS,
  };
}

/** `<service>_saga_<saga>`: '_' occurs in no service or event name, so it collides with no subscription queue. */
export function commandQueueName(saga: string, service: string): string {
  return physicalName("queue", `${service}_saga_${saga}`);
}

/** Every saga of the spec, in spec order. */
export function planSagas(spec: Pick<LandingZoneSpec, "name" | "environment" | "sagas" | "cloud">): SagaPlan[] {
  return spec.sagas.map((saga) => planSaga(spec.name, spec.environment, saga, spec.cloud === "kubernetes"));
}

/** The events a service publishes and subscribes to because of choreographed sagas. */
export function sagaEventsOf(sagas: readonly SagaPlan[], service: string): { readonly publishes: string[]; readonly subscribes: string[] } {
  const events = sagas.flatMap((s) => s.events);
  return {
    publishes: [...new Set(events.filter((e) => e.publisher === service).map((e) => e.event))],
    subscribes: [...new Set(events.filter((e) => e.subscribers.includes(service)).map((e) => e.event))],
  };
}

/** What a service taking part in an orchestrated saga may do with the state machine: answer its tasks. */
export const SAGA_TASK_RESPONSE_ACTIONS = ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"] as const;
/** What the saga's initiator may do: start executions. */
export const SAGA_START_ACTIONS = ["states:StartExecution"] as const;
