/**
 * An orchestrated saga as an Azure Logic Apps (Consumption) workflow definition: pure JSON built
 * from the {@link SagaPlan}, deployed by the Pulumi engine as `Microsoft.Logic/workflows`.
 *
 * Each step is an HTTP webhook action: its subscribe call sends the command to the step service's
 * Service Bus queue (REST, with the workflow's managed identity) carrying a callback URL, and the run
 * waits until the service POSTs `{ "status": "succeeded" | "failed" }` to that URL or the step times
 * out. The callback URL is unique per run and action, so no shared reply entity needs correlating
 * (Service Bus REST has no session receive). When a step fails, the case of that step in a Switch
 * runs exactly {@link compensationChain}'s compensations, latest first, each retried, then ends the
 * run as rolled back.
 */

import { compensationChain, SAGA_STATES, type SagaPlan, type SagaStepPlan } from "./saga.js";

/** Name of the Request trigger the initiator calls to start a run. */
export const AZURE_SAGA_TRIGGER = "manual";
/** Audience of the tokens the workflow presents to Service Bus. */
export const SERVICE_BUS_AUDIENCE = "https://servicebus.azure.net";
/** Variable holding the 1-based number of the failed step; 0 while every step succeeds. */
export const FAILED_AT = "failed_at";
/** Variable holding the outcome of the compensation being retried. */
export const COMPENSATION_STATUS = "compensation_status";
/** How long all attempts of one compensation may take before the run stops for a human. */
export const COMPENSATION_TIMEOUT = "PT1H";

/** An action that follows another whatever became of it. */
const ANY_OUTCOME = ["Succeeded", "Failed", "TimedOut"] as const;

/** What a command message carries; the service answers by POSTing `{ status: "succeeded" | "failed", ... }` to `callbackUrl`. */
export const AZURE_SAGA_COMMAND_FIELDS = ["saga", "execution", "step", "service", "action", "kind", "input", "callbackUrl"] as const;

export interface AzureSagaOptions {
  /** `<namespace>.servicebus.windows.net` holding the command queues. */
  readonly namespaceHost: string;
  /** ARM id of the user-assigned identity the workflow sends commands with. */
  readonly identityId: string;
}

/** A Logic Apps action, as the Workflow Definition Language writes it. */
export type LogicAction = Readonly<Record<string, unknown>> & { readonly type: string; readonly runAfter?: Readonly<Record<string, readonly string[]>> };

export interface LogicAppDefinition {
  readonly $schema: string;
  readonly contentVersion: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly triggers: Readonly<Record<string, unknown>>;
  readonly actions: Readonly<Record<string, LogicAction>>;
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Name of the top-level action running step `index` (0-based). */
export function azureStepAction(index: number): string {
  return `step_${index + 1}`;
}

/** Name of the Switch case entered when step `failedIndex` (0-based) fails. */
export function azureFailureCase(failedIndex: number): string {
  return `failed_at_${failedIndex + 1}`;
}

/** Name of the Until loop compensating step `index` when step `failedIndex` failed (both 0-based). */
export function azureCompensationAction(index: number, failedIndex: number): string {
  return `undo_${index + 1}_after_${failedIndex + 1}`;
}

/**
 * The workflow definition. Top level, in order: the two variables, one If per step (guarded by
 * `failed_at == 0`, so nothing runs after a failure), and the `compensate` Switch on `failed_at`
 * whose case `failed_at_<k>` compensates {@link compensationChain}(steps, k-1) latest first and
 * terminates the run as rolled back; with no failure the default case is empty and the run succeeds.
 */
export function azureSagaDefinition(saga: SagaPlan, options: AzureSagaOptions): LogicAppDefinition {
  if (saga.mode !== "orchestration") {
    throw new Error(`azureSagaDefinition: saga "${saga.name}" is choreographed, which has no workflow. Fix: set sagas[].mode: orchestration, or use its events`);
  }
  const queues = new Map(saga.commandQueues.map((q) => [q.service, q.name]));
  const missing = saga.steps.filter((s) => !queues.has(s.service)).map((s) => s.service);
  if (missing.length > 0) throw new Error(`azureSagaDefinition sagas[${saga.name}]: no command queue for ${missing.join(", ")}. Fix: plan the saga with planSaga`);
  const command = (step: SagaStepPlan, kind: "action" | "compensation", messageId: string): Record<string, unknown> => ({
    method: "POST",
    uri: `https://${options.namespaceHost}/${queues.get(step.service)}/messages`,
    headers: {
      "Content-Type": "application/json",
      // A deterministic message id lets duplicate detection drop a subscribe call the runtime retried.
      BrokerProperties: `{"MessageId":"${messageId}","TimeToLive":${saga.stepTimeoutSeconds}}`,
    },
    body: {
      saga: saga.name,
      execution: "@{workflow()['run']['name']}",
      step: step.index + 1,
      service: step.service,
      action: kind === "action" ? step.action : step.compensate!,
      kind,
      input: "@triggerBody()?['input']",
      callbackUrl: "@{listCallbackUrl()}",
    },
    authentication: { type: "ManagedServiceIdentity", identity: options.identityId, audience: SERVICE_BUS_AUDIENCE },
  });
  const webhook = (subscribe: Record<string, unknown>): LogicAction => ({
    type: "HttpWebhook",
    inputs: { subscribe },
    limit: { timeout: `PT${saga.stepTimeoutSeconds}S` },
    // The callback URL is a credential: keep it out of run history and diagnostics.
    runtimeConfiguration: { secureData: { properties: ["inputs"] } },
  });
  const reply = (action: string) => `coalesce(body('${action}')?['status'], 'failed')`;
  const answered = (action: string) => `and(equals(actions('${action}')['status'], 'Succeeded'), equals(${reply(action)}, 'succeeded'))`;
  const afterAnyOutcome = (action: string) => ({ [action]: ANY_OUTCOME });

  const actions: Record<string, LogicAction> = {
    [`init_${FAILED_AT}`]: { type: "InitializeVariable", inputs: { variables: [{ name: FAILED_AT, type: "integer", value: 0 }] }, runAfter: {} },
    [`init_${COMPENSATION_STATUS}`]: { type: "InitializeVariable", inputs: { variables: [{ name: COMPENSATION_STATUS, type: "string", value: "" }] }, runAfter: { [`init_${FAILED_AT}`]: ["Succeeded"] } },
  };
  let previous = `init_${COMPENSATION_STATUS}`;
  for (const step of saga.steps) {
    const name = azureStepAction(step.index);
    const call = `${name}_call`;
    actions[name] = {
      type: "If",
      expression: `@equals(variables('${FAILED_AT}'), 0)`,
      actions: {
        [call]: { ...webhook(command(step, "action", `@{workflow()['run']['name']}-${name}`)), runAfter: {} },
        [`${name}_record`]: { type: "SetVariable", inputs: { name: FAILED_AT, value: `@if(${answered(call)}, 0, ${step.index + 1})` }, runAfter: afterAnyOutcome(call) },
      },
      else: { actions: {} },
      // A scope whose call failed ends Failed; failed_at, not the scope's status, decides what runs next.
      runAfter: { [previous]: ANY_OUTCOME },
    };
    previous = name;
  }

  const cases: Record<string, unknown> = {};
  for (const failed of saga.steps) {
    const caseActions: Record<string, LogicAction> = {};
    let last: string | undefined;
    const after = () => (last === undefined ? {} : { [last]: ["Succeeded"] });
    for (const step of compensationChain(saga.steps, failed.index)) {
      const undo = azureCompensationAction(step.index, failed.index);
      const call = `${undo}_call`;
      caseActions[`${undo}_reset`] = { type: "SetVariable", inputs: { name: COMPENSATION_STATUS, value: "" }, runAfter: after() };
      caseActions[undo] = {
        type: "Until",
        expression: `@equals(variables('${COMPENSATION_STATUS}'), 'succeeded')`,
        limit: { count: saga.compensationAttempts, timeout: COMPENSATION_TIMEOUT },
        actions: {
          [call]: { ...webhook(command(step, "compensation", `@{workflow()['run']['name']}-${undo}-@{iterationIndexes('${undo}')}`)), runAfter: {} },
          [`${undo}_record`]: { type: "SetVariable", inputs: { name: COMPENSATION_STATUS, value: `@{if(equals(actions('${call}')['status'], 'Succeeded'), ${reply(call)}, 'failed')}` }, runAfter: afterAnyOutcome(call) },
        },
        runAfter: { [`${undo}_reset`]: ["Succeeded"] },
      };
      caseActions[`${undo}_check`] = {
        type: "If",
        expression: `@equals(variables('${COMPENSATION_STATUS}'), 'succeeded')`,
        actions: {},
        else: {
          actions: {
            [`${undo}_stuck`]: {
              type: "Terminate",
              inputs: { runStatus: "Failed", runError: { code: SAGA_STATES.compensationFailed, message: `step ${step.index + 1} (${step.service}.${step.compensate}) could not be compensated after step ${failed.index + 1} failed` } },
              runAfter: {},
            },
          },
        },
        runAfter: { [undo]: ANY_OUTCOME },
      };
      last = `${undo}_check`;
    }
    const end = `rolled_back_after_${failed.index + 1}`;
    caseActions[end] = {
      type: "Terminate",
      inputs: { runStatus: "Failed", runError: { code: SAGA_STATES.rolledBack, message: `step ${failed.index + 1} (${failed.service}.${failed.action}) failed; completed steps were compensated` } },
      runAfter: after(),
    };
    cases[azureFailureCase(failed.index)] = { case: failed.index + 1, actions: caseActions };
  }
  actions["compensate"] = { type: "Switch", expression: `@variables('${FAILED_AT}')`, cases, default: { actions: {} }, runAfter: { [previous]: ANY_OUTCOME } };

  return {
    $schema: "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
    contentVersion: "1.0.0.0",
    parameters: {},
    triggers: {
      [AZURE_SAGA_TRIGGER]: {
        type: "Request",
        kind: "Http",
        inputs: { method: "POST", schema: { type: "object", properties: { input: { type: "object" } } } },
      },
    },
    actions,
    outputs: {},
  };
}

/** API version of the Request trigger's invoke endpoint. */
export const LOGIC_APPS_TRIGGER_API_VERSION = "2016-10-01";

/**
 * The URL the initiator POSTs `{ "input": {...} }` to with an Entra ID bearer token (no SAS
 * signature: the workflow's authorization policy admits only the initiator's identity).
 */
export function azureSagaStartUrl(accessEndpoint: string): string {
  return `${accessEndpoint.replace(/:443(?=\/)/, "")}/triggers/${AZURE_SAGA_TRIGGER}/paths/invoke?api-version=${LOGIC_APPS_TRIGGER_API_VERSION}`;
}
