import { describe, expect, it } from "vitest";
import {
  azureCompensationAction,
  azureFailureCase,
  azureSagaDefinition,
  azureSagaStartUrl,
  azureStepAction,
  FAILED_AT,
  SERVICE_BUS_AUDIENCE,
  type LogicAction,
} from "../../lib/plan/azure-saga.js";
import { compensationChain, planSaga, SAGA_STATES } from "../../lib/plan/saga.js";

const saga = planSaga("shop", "prod", {
  name: "place-order",
  mode: "orchestration",
  steps: [
    { service: "orders", action: "create", compensate: "cancel" },
    { service: "inventory", action: "reserve", compensate: "release" },
    { service: "audit", action: "record" },
    { service: "payments", action: "charge", compensate: "refund" },
    { service: "shipping", action: "ship", compensate: "recall" },
  ],
});
const options = { namespaceHost: "shop-prod-sagas-1a2b3c.servicebus.windows.net", identityId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/saga" };
const definition = azureSagaDefinition(saga, options);

type Actions = Readonly<Record<string, LogicAction>>;
type Body = { saga: string; step: number; service: string; action: string; kind: string; callbackUrl: string; execution: string; input: string };
type Subscribe = { method: string; uri: string; headers: Record<string, string>; body: Body; authentication: Record<string, string> };
type Outcome = { status: "Succeeded" | "Failed"; code?: string; sent: string[] };

const subscribeOf = (action: LogicAction) => (action["inputs"] as { subscribe: Subscribe }).subscribe;

/** Actions of a scope in the order their runAfter chain runs them (each runs after the one before it). */
function ordered(actions: Actions): [string, LogicAction][] {
  const entries = Object.entries(actions);
  const result: [string, LogicAction][] = [];
  let previous: string | undefined;
  while (result.length < entries.length) {
    const next = entries.find(([, a]) => (previous === undefined ? Object.keys(a.runAfter ?? {}).length === 0 : Object.keys(a.runAfter ?? {}).includes(previous)));
    if (!next) throw new Error(`no action runs after ${previous}`);
    result.push(next);
    previous = next[0];
  }
  return result;
}

/**
 * Runs the definition against services that answer every command "succeeded", except the action of
 * step `failing` (1-based; 0 fails nothing), which answers "failed", and the compensation `stuck`,
 * which never succeeds. Interprets only what the generator emits: InitializeVariable, If, SetVariable,
 * HttpWebhook, Until, Switch and Terminate, with the expressions it writes.
 */
function simulate(failing: number, stuck?: string): Outcome {
  const vars: Record<string, number | string> = {};
  const sent: string[] = [];
  const replies: Record<string, string> = {};
  const evaluate = (expression: string): unknown => {
    let m = /^@equals\(variables\('(\w+)'\), (0|'succeeded')\)$/.exec(expression);
    if (m) return vars[m[1]!] === (m[2] === "0" ? 0 : "succeeded");
    m = /^@if\(and\(equals\(actions\('(\w+)'\)\['status'\], 'Succeeded'\), equals\(coalesce\(body\('\1'\)\?\['status'\], 'failed'\), 'succeeded'\)\), 0, (\d+)\)$/.exec(expression);
    if (m) return replies[m[1]!] === "succeeded" ? 0 : Number(m[2]);
    m = /^@\{if\(equals\(actions\('(\w+)'\)\['status'\], 'Succeeded'\), coalesce\(body\('\1'\)\?\['status'\], 'failed'\), 'failed'\)\}$/.exec(expression);
    if (m) return replies[m[1]!];
    if (expression === "") return "";
    if (expression === `@variables('${FAILED_AT}')`) return vars[FAILED_AT];
    throw new Error(`unexpected expression ${expression}`);
  };
  const run = (actions: Actions): Outcome | undefined => {
    for (const [name, action] of ordered(actions)) {
      switch (action.type) {
        case "InitializeVariable": {
          const [variable] = (action["inputs"] as { variables: { name: string; value: number | string }[] }).variables;
          vars[variable!.name] = variable!.value;
          break;
        }
        case "SetVariable": {
          const inputs = action["inputs"] as { name: string; value: string };
          vars[inputs.name] = evaluate(inputs.value) as number | string;
          break;
        }
        case "HttpWebhook": {
          const { body } = subscribeOf(action);
          sent.push(`${body.service}.${body.action}`);
          const fails = (body.kind === "action" && body.step === failing) || (body.kind === "compensation" && body.action === stuck);
          replies[name] = fails ? "failed" : "succeeded";
          break;
        }
        case "If": {
          const branch = evaluate(action["expression"] as string) ? (action["actions"] as Actions) : (action["else"] as { actions: Actions }).actions;
          const outcome = run(branch);
          if (outcome) return outcome;
          break;
        }
        case "Until": {
          const limit = (action["limit"] as { count: number }).count;
          for (let i = 0; i < limit; i++) {
            run(action["actions"] as Actions);
            if (evaluate(action["expression"] as string)) break;
          }
          break;
        }
        case "Switch": {
          const value = evaluate(action["expression"] as string);
          const match = Object.values(action["cases"] as Record<string, { case: number; actions: Actions }>).find((c) => c.case === value);
          const outcome = run(match ? match.actions : (action["default"] as { actions: Actions }).actions);
          if (outcome) return outcome;
          break;
        }
        case "Terminate": {
          const inputs = action["inputs"] as { runStatus: "Failed"; runError: { code: string } };
          return { status: inputs.runStatus, code: inputs.runError.code, sent };
        }
        default:
          throw new Error(`unexpected action type ${action.type}`);
      }
    }
    return undefined;
  };
  return run(definition.actions) ?? { status: "Succeeded", sent };
}

describe("azureSagaDefinition (Logic Apps)", () => {
  it("runs every step in the plan's order and succeeds when all answer succeeded", () => {
    expect(simulate(0)).toEqual({ status: "Succeeded", sent: ["orders.create", "inventory.reserve", "audit.record", "payments.charge", "shipping.ship"] });
    expect(ordered(definition.actions).map(([name]) => name)).toEqual(["init_failed_at", "init_compensation_status", ...saga.steps.map((s) => azureStepAction(s.index)), "compensate"]);
    // A step's scope that failed still hands over: failed_at decides, so the compensations are never skipped.
    for (const name of [...saga.steps.slice(1).map((s) => azureStepAction(s.index)), "compensate"]) expect(Object.values(definition.actions[name]!.runAfter!)).toEqual([["Succeeded", "Failed", "TimedOut"]]);
  });

  it("on a failure runs no later step and compensates only the completed steps, latest first, then ends rolled back", () => {
    expect(simulate(1)).toEqual({ status: "Failed", code: SAGA_STATES.rolledBack, sent: ["orders.create"] });
    expect(simulate(2)).toEqual({ status: "Failed", code: SAGA_STATES.rolledBack, sent: ["orders.create", "inventory.reserve", "orders.cancel"] });
    // audit.record has no compensation: it is skipped, the ones before it still run.
    expect(simulate(4)).toEqual({
      status: "Failed",
      code: SAGA_STATES.rolledBack,
      sent: ["orders.create", "inventory.reserve", "audit.record", "payments.charge", "inventory.release", "orders.cancel"],
    });
    expect(simulate(5).sent.slice(5)).toEqual(["payments.refund", "inventory.release", "orders.cancel"]);
  });

  it("generates each failure case from compensationChain, so the order is the plan's", () => {
    const cases = (definition.actions["compensate"]!["cases"] as Record<string, { case: number; actions: Actions }>);
    expect(Object.keys(cases)).toEqual(saga.steps.map((s) => azureFailureCase(s.index)));
    for (const failed of saga.steps) {
      const loops = ordered(cases[azureFailureCase(failed.index)]!.actions).filter(([, a]) => a.type === "Until").map(([name]) => name);
      expect(loops).toEqual(compensationChain(saga.steps, failed.index).map((s) => azureCompensationAction(s.index, failed.index)));
    }
  });

  it("retries a compensation the plan's number of times, then stops as compensation-failed without undoing further", () => {
    const outcome = simulate(4, "release");
    expect(outcome.code).toBe(SAGA_STATES.compensationFailed);
    expect(outcome.sent.slice(4)).toEqual(Array(saga.compensationAttempts).fill("inventory.release"));
  });

  it("sends each command to its service's queue from the plan, with the workflow's identity, and waits at most the step timeout", () => {
    const step = (definition.actions[azureStepAction(3)]!["actions"] as Actions)[`${azureStepAction(3)}_call`]!;
    const subscribe = subscribeOf(step);
    const queue = saga.commandQueues.find((q) => q.service === "payments")!.name;
    expect(queue).toBe("payments_saga_place-order");
    expect(subscribe).toMatchObject({
      method: "POST",
      uri: `https://${options.namespaceHost}/${queue}/messages`,
      authentication: { type: "ManagedServiceIdentity", identity: options.identityId, audience: SERVICE_BUS_AUDIENCE },
      body: { saga: "place-order", step: 4, service: "payments", action: "charge", kind: "action", callbackUrl: "@{listCallbackUrl()}" },
    });
    expect(JSON.parse(subscribe.headers["BrokerProperties"]!)).toEqual({ MessageId: "@{workflow()['run']['name']}-step_4", TimeToLive: 300 });
    expect(step["limit"]).toEqual({ timeout: "PT300S" });
    // The callback URL is a credential: never in run history.
    expect(step["runtimeConfiguration"]).toEqual({ secureData: { properties: ["inputs"] } });
    const uris = JSON.stringify(definition).match(/https:\/\/[^"]+\/messages/g)!;
    expect(new Set(uris)).toEqual(new Set(saga.commandQueues.map((q) => `https://${options.namespaceHost}/${q.name}/messages`)));
  });

  it("gives each compensation attempt its own message id, so duplicate detection drops only runtime retries", () => {
    const cases = definition.actions["compensate"]!["cases"] as Record<string, { actions: Actions }>;
    const undo = azureCompensationAction(1, 3);
    const loop = cases[azureFailureCase(3)]!.actions[undo]!;
    const call = subscribeOf((loop["actions"] as Actions)[`${undo}_call`]!);
    expect(call.body).toMatchObject({ service: "inventory", action: "release", kind: "compensation", step: 2 });
    expect(JSON.parse(call.headers["BrokerProperties"]!).MessageId).toBe(`@{workflow()['run']['name']}-${undo}-@{iterationIndexes('${undo}')}`);
  });

  it("starts from a Request trigger and refuses a choreographed saga", () => {
    expect(definition.triggers).toEqual({ manual: expect.objectContaining({ type: "Request", kind: "Http" }) });
    expect(azureSagaStartUrl("https://prod-12.koreacentral.logic.azure.com:443/workflows/abc")).toBe("https://prod-12.koreacentral.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-10-01");
    const choreographed = planSaga("shop", "prod", { name: "place-order", mode: "choreography", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "payments", action: "charge" }] });
    expect(() => azureSagaDefinition(choreographed, options)).toThrow(/choreographed.*Fix: set sagas\[\]\.mode: orchestration/);
  });
});
