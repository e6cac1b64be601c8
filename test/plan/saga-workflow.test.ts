import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { SAGA_OUTCOMES, sagaCompensationName, sagaStepName, sagaWorkflowDefinition, type WorkflowSaga } from "../../lib/plan/saga-workflow.js";

const saga: WorkflowSaga = {
  name: "place-order",
  steps: [
    { service: "orders", action: "create", compensate: "cancel" },
    { service: "inventory", action: "reserve", compensate: "release" },
    { service: "payments", action: "charge", compensate: "refund" },
    { service: "shipping", action: "ship", compensate: "recall" },
  ],
};
const topics = Object.fromEntries(saga.steps.map((s) => [s.service, `projects/p/topics/shop-prod-${s.service}_saga_place-order`]));
const definition = sagaWorkflowDefinition(saga, { commandTopics: topics });

type Step = Record<string, Record<string, unknown>>;
type Outcome = { kind: "return" | "raise"; value: Record<string, unknown>; sent: string[] };

/**
 * Runs `main` of the definition over a fake run_command that fails the action of step `failing`
 * (1-based; 0 fails nothing) and, when given, one compensation forever. Interprets only what the
 * generator emits: assign, try/except, retry, switch with a `failed_at > n` condition, next, return, raise.
 */
function simulate(failing: number, stuckCompensation?: string): Outcome {
  const main = (definition as { main: { steps: Step[] } }).main.steps;
  const vars: Record<string, number> = { failed_at: 0 };
  const sent: string[] = [];
  const evaluate = (condition: string) => {
    const m = /^\$\{failed_at > (\d+)\}$/.exec(condition);
    if (!m) throw new Error(`unexpected condition ${condition}`);
    return vars.failed_at! > Number(m[1]);
  };
  const call = (step: Record<string, unknown>) => {
    const args = step["args"] as { step: number; action: string; topic: string };
    sent.push(`${args.topic.split("/").pop()!.replace(/^shop-prod-/, "").split("_")[0]}.${args.action}`);
    if (args.step === failing && args.action === saga.steps[failing - 1]!.action) throw new Error("failed");
    if (args.action === stuckCompensation) throw new Error("stuck");
  };
  // Returns the name of a step to jump to, or an outcome.
  const run = (steps: Step[]): string | Outcome | undefined => {
    for (const entry of steps) {
      const [, body] = Object.entries(entry)[0]!;
      if (body["assign"]) {
        for (const a of body["assign"] as Record<string, unknown>[]) for (const [k, v] of Object.entries(a)) if (typeof v === "number") vars[k] = v;
      } else if (body["try"]) {
        const attempt = body["try"] as Record<string, unknown>;
        const retry = body["retry"] as { max_retries: number } | undefined;
        let error: unknown;
        for (let i = 0; i <= (retry?.max_retries ?? 0); i++) {
          try {
            const r = attempt["steps"] ? run(attempt["steps"] as Step[]) : call(attempt);
            if (r !== undefined) return r;
            error = undefined;
            break;
          } catch (e) {
            error = e;
          }
        }
        if (error) {
          const r = run((body["except"] as { steps: Step[] }).steps);
          if (r !== undefined) return r;
        }
      } else if (body["call"]) {
        call(body);
      } else if (body["switch"]) {
        for (const branch of body["switch"] as Record<string, unknown>[]) {
          if (!evaluate(branch["condition"] as string)) continue;
          if (branch["next"]) return branch["next"] as string;
          const r = run(branch["steps"] as Step[]);
          if (r !== undefined) return r;
        }
      } else if (body["return"]) {
        return { kind: "return", value: body["return"] as Record<string, unknown>, sent };
      } else if (body["raise"]) {
        return { kind: "raise", value: body["raise"] as Record<string, unknown>, sent };
      }
    }
    return undefined;
  };
  let steps = main;
  for (;;) {
    const r = run(steps);
    if (typeof r !== "string") return r!;
    steps = main.slice(main.findIndex((s) => Object.keys(s)[0] === r));
  }
}

describe("sagaWorkflowDefinition", () => {
  it("runs every step in order and completes when none fails", () => {
    const outcome = simulate(0);
    expect(outcome.kind).toBe("return");
    expect(outcome.value["status"]).toBe(SAGA_OUTCOMES.completed);
    expect(outcome.sent).toEqual(["orders.create", "inventory.reserve", "payments.charge", "shipping.ship"]);
  });

  it("compensates exactly the completed steps, latest first, when a step fails", () => {
    expect(simulate(1).sent).toEqual(["orders.create"]);
    expect(simulate(2).sent).toEqual(["orders.create", "inventory.reserve", "orders.cancel"]);
    expect(simulate(3).sent).toEqual(["orders.create", "inventory.reserve", "payments.charge", "inventory.release", "orders.cancel"]);
    // The last step's own compensation never runs: when it fails, everything before it is undone.
    expect(simulate(4).sent).toEqual(["orders.create", "inventory.reserve", "payments.charge", "shipping.ship", "payments.refund", "inventory.release", "orders.cancel"]);
    for (const failing of [1, 2, 3, 4]) expect(simulate(failing).value["status"]).toBe(SAGA_OUTCOMES.rolledBack);
  });

  it("retries a compensation, then stops as compensation-failed without undoing the steps below it", () => {
    const outcome = simulate(3, "release");
    expect(outcome.kind).toBe("raise");
    expect(outcome.value["status"]).toBe(SAGA_OUTCOMES.compensationFailed);
    expect(outcome.sent.filter((s) => s === "inventory.release")).toHaveLength(6);
    expect(outcome.sent).not.toContain("orders.cancel");
  });

  it("sends each command to its service's topic and waits for the reply on a callback with the step timeout", () => {
    const main = (definition as { main: { steps: Step[] } }).main.steps;
    // No state compensates the last step (shipping.recall): no later step can fail.
    expect(JSON.stringify(definition)).not.toContain("recall");
    expect(main.map((s) => Object.keys(s)[0])).toEqual([
      "init",
      ...saga.steps.flatMap((_, i) => [sagaStepName(i), `${sagaStepName(i)}_check`]),
      "completed",
      "compensate",
      sagaCompensationName(2),
      sagaCompensationName(1),
      sagaCompensationName(0),
      "rolled_back",
    ]);
    const runCommand = (definition as { run_command: { steps: Step[] } }).run_command.steps.map((s) => Object.entries(s)[0]!);
    expect(runCommand.map(([name]) => name)).toEqual(["callback", "message", "publish", "wait", "check", "done"]);
    expect(runCommand[2]![1]).toMatchObject({ call: "googleapis.pubsub.v1.projects.topics.publish", args: { topic: "${topic}" } });
    expect(runCommand[3]![1]).toMatchObject({ call: "events.await_callback", args: { timeout: "${timeout}" } });
    const first = (main[1]!["step_1"] as { try: { steps: Step[] } }).try.steps[0]!["step_1_call"] as { args: Record<string, unknown> };
    expect(first.args).toMatchObject({ topic: topics["orders"], action: "create", timeout: 300 });
    // It survives a round trip through YAML, which is what Workflows receives.
    expect(parse(stringify(definition))).toEqual(definition);
  });

  it("refuses a saga whose service has no command topic", () => {
    expect(() => sagaWorkflowDefinition(saga, { commandTopics: { orders: "t" } })).toThrow(/no topic for inventory, payments, shipping/);
  });
});
