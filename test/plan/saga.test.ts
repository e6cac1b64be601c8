import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  choreographyEvents,
  compensationChain,
  planLandingZone,
  planSaga,
  SAGA_STATES,
  sagaStateMachineDefinition,
  SEND_AND_WAIT,
  type AslDefinition,
  type AslState,
  type AslTaskState,
  type SagaPlan,
} from "../../lib/plan/index.js";
import type { SagaStepSpec } from "../../lib/spec/types.js";

const placeOrder: SagaStepSpec[] = [
  { service: "orders", action: "create", compensate: "cancel" },
  { service: "inventory", action: "reserve", compensate: "release" },
  { service: "payments", action: "charge", compensate: "refund" },
  { service: "shipping", action: "schedule" },
];

/** Steps of 2 to 8 services, each compensated or not, with unique (service, action) pairs. */
const stepsArbitrary = fc
  .array(fc.record({ service: fc.constantFrom("orders", "payments", "inventory", "shipping"), compensated: fc.boolean() }), { minLength: 2, maxLength: 8 })
  .map((raw) => raw.map((s, i): SagaStepSpec => ({ service: s.service, action: `act${i}`, ...(s.compensated ? { compensate: `undo${i}` } : {}) })));

/** Follows the Catch of a failed state, then each Next, to the terminal state. */
function pathAfterFailure(definition: AslDefinition, failedState: string): string[] {
  const visited: string[] = [];
  let current: string | undefined = (definition.States[failedState] as AslTaskState).Catch[0]!.Next;
  while (current !== undefined) {
    if (visited.includes(current)) throw new Error(`loop at ${current}`);
    visited.push(current);
    const state: AslState = definition.States[current]!;
    current = state.Type === "Task" ? state.Next : undefined;
  }
  return visited;
}

const definitionOf = (saga: SagaPlan) => sagaStateMachineDefinition(saga, { commandQueueUrl: (service) => `https://sqs/${service}_saga_${saga.name}` });

describe("compensationChain", () => {
  it("compensates the completed steps of the place-order saga in reverse order", () => {
    expect(compensationChain(placeOrder, 0)).toEqual([]);
    expect(compensationChain(placeOrder, 2).map((s) => s.compensate)).toEqual(["release", "cancel"]);
    expect(compensationChain(placeOrder, 3).map((s) => s.compensate)).toEqual(["refund", "release", "cancel"]);
    expect(() => compensationChain(placeOrder, 4)).toThrow(/failedIndex 4 is outside the 4 steps/);
  });

  it("holds exactly the compensable steps before the failure, latest first", () => {
    fc.assert(
      fc.property(stepsArbitrary, fc.nat(), (steps, n) => {
        const failed = n % steps.length;
        const chain = compensationChain(steps, failed);
        const indexes = chain.map((s) => steps.indexOf(s));
        expect(indexes).toEqual([...indexes].sort((a, b) => b - a));
        expect(indexes.every((i) => i < failed)).toBe(true);
        expect(chain).toEqual(steps.slice(0, failed).filter((s) => s.compensate).reverse());
      }),
    );
  });
});

describe("the Step Functions definition of an orchestrated saga", () => {
  const saga = planSaga("shop", "prod", { name: "place-order", mode: "orchestration", steps: placeOrder });
  const definition = definitionOf(saga);

  it("runs each step in order, over its service's queue with a task token, and ends in completed", () => {
    expect(definition.StartAt).toBe("1-orders-create");
    const order: string[] = [];
    for (let state: string | undefined = definition.StartAt; state && definition.States[state]!.Type === "Task"; state = (definition.States[state] as AslTaskState).Next) order.push(state);
    expect(order).toEqual(["1-orders-create", "2-inventory-reserve", "3-payments-charge", "4-shipping-schedule"]);
    expect((definition.States["4-shipping-schedule"] as AslTaskState).Next).toBe(SAGA_STATES.completed);
    expect(definition.States[SAGA_STATES.completed]!.Type).toBe("Succeed");
    const charge = definition.States["3-payments-charge"] as AslTaskState;
    expect(charge).toMatchObject({
      Resource: SEND_AND_WAIT,
      TimeoutSeconds: 300,
      Parameters: {
        QueueUrl: "https://sqs/payments_saga_place-order",
        MessageBody: { saga: "place-order", step: 3, service: "payments", action: "charge", kind: "action", "taskToken.$": "$$.Task.Token", "input.$": "$.input" },
      },
    });
  });

  it("catches a failure and compensates the completed steps in reverse order before failing", () => {
    expect(pathAfterFailure(definition, "1-orders-create")).toEqual([SAGA_STATES.rolledBack]);
    expect(pathAfterFailure(definition, "3-payments-charge")).toEqual(["undo-2-inventory-release", "undo-1-orders-cancel", SAGA_STATES.rolledBack]);
    expect(pathAfterFailure(definition, "4-shipping-schedule")).toEqual(["undo-3-payments-refund", "undo-2-inventory-release", "undo-1-orders-cancel", SAGA_STATES.rolledBack]);
    expect(definition.States[SAGA_STATES.rolledBack]).toMatchObject({ Type: "Fail", Error: "SagaRolledBack" });
  });

  it("retries a compensation with backoff, then stops in compensation-failed", () => {
    const refund = definition.States["undo-3-payments-refund"] as AslTaskState;
    expect(refund.Parameters.MessageBody).toMatchObject({ action: "refund", kind: "compensation", step: 3 });
    expect(refund.Retry).toEqual([{ ErrorEquals: ["States.ALL"], IntervalSeconds: 5, MaxAttempts: 5, BackoffRate: 2 }]);
    expect(refund.Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.compensationError", Next: SAGA_STATES.compensationFailed }]);
    expect(definition.States[SAGA_STATES.compensationFailed]).toMatchObject({ Type: "Fail", Error: "SagaCompensationFailed" });
  });

  it("for any saga, the path after each step's failure is its compensation chain, then rolled-back", () => {
    fc.assert(
      fc.property(stepsArbitrary, (steps) => {
        const plan = planSaga("zone", "dev", { name: "s", mode: "orchestration", steps });
        const asl = definitionOf(plan);
        plan.steps.forEach((step, k) => {
          const expected = compensationChain(plan.steps, k).map((s) => s.compensationState!);
          expect(pathAfterFailure(asl, step.state)).toEqual([...expected, SAGA_STATES.rolledBack]);
        });
        // Every state is reachable and named within Step Functions' 80-character limit.
        for (const name of Object.keys(asl.States)) expect(name.length).toBeLessThanOrEqual(80);
        expect(Object.keys(asl.States)).toHaveLength(steps.length + steps.filter((s) => s.compensate).length + 3);
      }),
    );
  });

  it("keeps long state names unique within the limit", () => {
    const long = "a".repeat(40);
    const plan = planSaga("z", "dev", {
      name: "s",
      mode: "orchestration",
      steps: [
        { service: long, action: `${"x".repeat(60)}One`, compensate: "undo" },
        { service: long, action: `${"x".repeat(60)}Two` },
      ],
    });
    const names = plan.steps.map((s) => s.state);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(80);
  });

  it("refuses a choreographed saga", () => {
    const choreographed = planSaga("shop", "prod", { name: "place-order", mode: "choreography", steps: placeOrder });
    expect(() => definitionOf(choreographed)).toThrow(/is choreographed, which has no state machine/);
  });

  it("plans a command queue per service taking part and a workflow name per zone and environment", () => {
    expect(saga.commandQueues).toEqual([
      { service: "orders", name: "orders_saga_place-order" },
      { service: "inventory", name: "inventory_saga_place-order" },
      { service: "payments", name: "payments_saga_place-order" },
      { service: "shipping", name: "shipping_saga_place-order" },
    ]);
    expect(saga.workflowName).toBe("shop-prod-place-order");
    expect(saga.initiator).toBe("orders");
    expect(saga.events).toEqual([]);
  });

  it("plans no command queue where the orchestrator calls the services over HTTP (Argo Workflows on an existing cluster)", () => {
    const overHttp = planSaga("shop", "prod", { name: "place-order", mode: "orchestration", steps: placeOrder }, true);
    expect(overHttp.commandQueues).toEqual([]);
    expect({ ...overHttp, commandQueues: saga.commandQueues }).toEqual(saga);
  });
});

describe("a choreographed saga's events", () => {
  it("drive the steps forward on completed and back, in reverse, on failed and compensated", () => {
    const events = choreographyEvents({ name: "place-order", steps: placeOrder });
    const edges = events.map((e) => `${e.event}: ${e.publisher} → ${e.subscribers.join(",")}`);
    expect(edges).toEqual([
      "place-order-orders-create-completed: orders → inventory",
      "place-order-inventory-reserve-completed: inventory → payments",
      "place-order-inventory-reserve-failed: inventory → orders",
      "place-order-inventory-release-compensated: inventory → orders",
      "place-order-payments-charge-completed: payments → shipping",
      "place-order-payments-charge-failed: payments → inventory",
      "place-order-payments-refund-compensated: payments → inventory",
      "place-order-shipping-schedule-completed: shipping → orders",
      "place-order-shipping-schedule-failed: shipping → payments",
    ]);
  });

  it("for any saga, a failure reaches the compensations of its chain in order, each woken by the one before", () => {
    fc.assert(
      fc.property(stepsArbitrary, (steps) => {
        const events = choreographyEvents({ name: "s", steps });
        const reaches = (kind: "failed" | "compensated", step: number) => events.find((e) => e.kind === kind && e.step === step)?.subscribers[0];
        steps.forEach((step, k) => {
          if (k === 0) return;
          const chain = compensationChain(steps, k).map((s) => steps.indexOf(s));
          // Who must act next after each link: the next compensable step, or the initiator at the end.
          const actors = [...chain.map((i) => steps[i]!.service), steps[0]!.service];
          const publishers = [step.service, ...chain.map((i) => steps[i]!.service)];
          const kinds: ("failed" | "compensated")[] = ["failed", ...chain.map((): "compensated" => "compensated")];
          const indexes = [k, ...chain];
          indexes.forEach((index, n) => {
            const expected = actors[n] === publishers[n] ? undefined : actors[n];
            expect(reaches(kinds[n]!, index)).toBe(expected);
          });
        });
        for (const event of events) expect(event.subscribers).not.toContain(event.publisher);
      }),
    );
  });

  it("become topics of the broker, published and subscribed by the steps' services", () => {
    const plan = planLandingZone({
      name: "shop",
      tracing: { backend: "none" },
      services: [{ name: "orders" }, { name: "payments" }],
      sagas: [{ name: "pay", mode: "choreography", steps: [{ service: "orders", action: "create", compensate: "cancel" }, { service: "payments", action: "charge" }] }],
    });
    expect(plan.decisions.find((d) => d.capability === "broker")).toBeDefined();
    expect(plan.broker!.topics).toEqual([
      { event: "pay-orders-create-completed", publishers: ["orders"], subscriptions: [{ subscriber: "payments", name: "payments_pay-orders-create-completed" }] },
      { event: "pay-payments-charge-completed", publishers: ["payments"], subscriptions: [{ subscriber: "orders", name: "orders_pay-payments-charge-completed" }] },
      { event: "pay-payments-charge-failed", publishers: ["payments"], subscriptions: [{ subscriber: "orders", name: "orders_pay-payments-charge-failed" }] },
    ]);
    const orders = plan.services.find((s) => s.name === "orders")!;
    expect(orders.publishes).toEqual(["pay-orders-create-completed"]);
    expect(orders.subscribes).toEqual(["pay-payments-charge-completed", "pay-payments-charge-failed"]);
    expect(plan.sagas.map((s) => [s.name, s.mode, s.commandQueues.length])).toEqual([["pay", "choreography", 0]]);
  });
});
