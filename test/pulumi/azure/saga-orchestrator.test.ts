import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { azureSagaDefinition, azureSagaStartUrl } from "../../../lib/plan/azure-saga.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { planSaga } from "../../../lib/plan/saga.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { SagaOrchestrator } from "../../../lib/pulumi/azure/saga-orchestrator.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

const EXAMPLE = "examples/azure/landing-zone.yaml";
const ROLE = "azure-native:authorization:RoleAssignment";
const QUEUE = "azure-native:servicebus:Queue";
const example = parse(readFileSync(EXAMPLE, "utf8")) as LandingZoneInput;
const idOf = (r: RegisteredResource) => String(r.outputs["id"]);
const roleOf = (r: RegisteredResource) => String(r.inputs["roleDefinitionId"]).split("/").pop();
const principalOf = (resources: readonly RegisteredResource[], identity: string) => String(single(resources, "azure-native:managedidentity:UserAssignedIdentity", identity).outputs["principalId"]);
const grantsTo = (resources: readonly RegisteredResource[], principal: string) => byType(resources, ROLE).filter((r) => r.inputs["principalId"] === principal);
type Obj = { kind: string; data?: Record<string, string> };

describe("Azure saga orchestration (examples/azure, CaaS, prod): a Logic App per saga", async () => {
  const plan = planLandingZone(example, { engine: "pulumi" });
  const saga = plan.sagas[0]!;
  const outputs: Record<string, unknown> = {};
  const { resources } = await runProgram(async () => {
    const zone = await createLandingZone("shop", { spec: example });
    for (const [key, value] of Object.entries(zone.outputs)) value.apply((v) => (outputs[key] = v));
  });
  const workflow = single(resources, "azure-native:logic:Workflow");
  const queues = byType(resources, QUEUE);
  const sagaIdentity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-saga-place-order-identity");
  const sagaBus = single(resources, "azure-native:servicebus:Namespace", "shop-sagas-namespace");

  it("registers a SagaOrchestrator under the landing zone, its workflow, identity and queues under it", () => {
    expect(single(resources, "msa:azure:SagaOrchestrator").parent).toBe("shop");
    expect(childrenOf(resources, "shop-saga-place-order").map((r) => r.type).sort()).toEqual(
      ["azure-native:logic:Workflow", "azure-native:managedidentity:UserAssignedIdentity", "azure-native:monitor:DiagnosticSetting", ...queues.map(() => QUEUE), ...saga.commandQueues.map(() => ROLE)].sort(),
    );
    expect(workflow.inputs).toMatchObject({ workflowName: saga.workflowName, state: "Enabled", location: "koreacentral", identity: { type: "UserAssigned", userAssignedIdentities: [idOf(sagaIdentity)] } });
    expect(outputs["sagaWorkflowIds"]).toEqual({ "place-order": idOf(workflow) });
  });

  it("puts the command queues on a public Standard namespace of their own, Entra ID only, while the event broker stays private", () => {
    expect(sagaBus.inputs).toMatchObject({ sku: { name: "Standard", tier: "Standard" }, disableLocalAuth: true, minimumTlsVersion: "1.2", publicNetworkAccess: "Enabled" });
    expect(single(resources, "azure-native:servicebus:Namespace", "shop-broker-namespace").inputs).toMatchObject({ sku: { name: "Premium" }, publicNetworkAccess: "Disabled" });
    expect(queues.map((q) => [q.inputs["queueName"], q.inputs["namespaceName"]])).toEqual(saga.commandQueues.map((q) => [q.name, sagaBus.outputs["name"]]));
    for (const queue of queues) {
      expect(queue.inputs).toMatchObject({ maxDeliveryCount: 5, defaultMessageTimeToLive: "PT300S", deadLetteringOnMessageExpiration: true, requiresDuplicateDetection: true });
      // Commands in flight survive a destroy in prod.
      expect([queue.protect, queue.retainOnDelete]).toEqual([true, true]);
    }
  });

  it("deploys the definition generated from the plan, for this namespace and identity", () => {
    const namespaceHost = `${String(sagaBus.outputs["name"])}.servicebus.windows.net`;
    expect(workflow.inputs["definition"]).toEqual(JSON.parse(JSON.stringify(azureSagaDefinition(saga, { namespaceHost, identityId: idOf(sagaIdentity) }))));
  });

  it("lets only the initiator's identity start a run", () => {
    const orders = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
    expect(workflow.inputs["accessControl"]).toEqual({
      triggers: {
        openAuthenticationPolicies: {
          policies: {
            initiator: {
              type: "AAD",
              claims: [
                { name: "iss", value: expect.stringMatching(/^https:\/\/sts\.windows\.net\/[0-9a-f-]{36}\/$/) },
                { name: "appid", value: orders.outputs["clientId"] },
              ],
            },
          },
        },
      },
    });
  });

  it("grants the workflow Data Sender on exactly the command queues, and nothing else", () => {
    const grants = grantsTo(resources, String(sagaIdentity.outputs["principalId"]));
    expect(grants.map((g) => [roleOf(g), g.inputs["scope"]]).sort()).toEqual(queues.map((q) => [AZURE_ROLES.serviceBusDataSender, idOf(q)]).sort());
    expect([...workflow.dependsOn].sort()).toEqual(grants.map((g) => g.name).sort());
  });

  it("grants each step's service Data Receiver on its own command queue only, and no one a namespace-wide role", () => {
    for (const { service, name } of saga.commandQueues) {
      const own = queues.find((q) => q.inputs["queueName"] === name)!;
      const onQueues = grantsTo(resources, principalOf(resources, `shop-${service}-identity`)).filter((g) => queues.some((q) => idOf(q) === g.inputs["scope"]));
      expect(onQueues.map((g) => [roleOf(g), g.inputs["scope"], g.parent]), service).toEqual([[AZURE_ROLES.serviceBusDataReceiver, idOf(own), `shop-${service}`]]);
    }
    const outsider = grantsTo(resources, principalOf(resources, "shop-order-history-identity"));
    expect(outsider.filter((g) => queues.some((q) => idOf(q) === g.inputs["scope"]))).toEqual([]);
    const namespaces = byType(resources, "azure-native:servicebus:Namespace").map(idOf);
    expect(byType(resources, ROLE).filter((g) => namespaces.includes(String(g.inputs["scope"])))).toEqual([]);
  });

  it("sends the workflow's run history and metrics to the landing zone's Log Analytics workspace", () => {
    const diagnostics = byType(resources, "azure-native:monitor:DiagnosticSetting").find((d) => d.inputs["resourceUri"] === idOf(workflow))!;
    expect(diagnostics.parent).toBe("shop-saga-place-order");
    expect(diagnostics.inputs).toMatchObject({ workspaceId: idOf(single(resources, "azure-native:operationalinsights:Workspace")), logs: [{ categoryGroup: "allLogs", enabled: true }], metrics: [{ category: "AllMetrics", enabled: true }] });
    expect(byType(resources, "azure-native:monitor:DiagnosticSetting").some((d) => d.inputs["resourceUri"] === idOf(sagaBus))).toBe(true);
  });

  it("tells each participant its namespace and queue, and the initiator where to start a run", () => {
    const config = (service: string) => (single(resources, "kubernetes:yaml/v2:ConfigGroup", `shop-${service}-workload-workload`).inputs["objs"] as Obj[]).find((o) => o.kind === "ConfigMap")!.data!;
    const host = `${String(sagaBus.outputs["name"])}.servicebus.windows.net`;
    expect(config("orders")).toMatchObject({
      SAGA_PLACE_ORDER_NAMESPACE: host,
      SAGA_PLACE_ORDER_COMMAND_QUEUE: "orders_saga_place-order",
      SAGA_PLACE_ORDER_START_URL: azureSagaStartUrl(String(workflow.outputs["accessEndpoint"])),
    });
    expect(config("payments")).toMatchObject({ SAGA_PLACE_ORDER_NAMESPACE: host, SAGA_PLACE_ORDER_COMMAND_QUEUE: "payments_saga_place-order" });
    expect(config("payments")["SAGA_PLACE_ORDER_START_URL"]).toBeUndefined();
    expect(Object.keys(config("order-history")).filter((k) => k.startsWith("SAGA_"))).toEqual([]);
  });
});

describe("Azure saga orchestration in dev, on IaaS and on PaaS", async () => {
  it("reuses the broker's public Standard namespace in dev", async () => {
    const spec: LandingZoneInput = { ...example, environment: "dev", network: { cidr: "10.1.0.0/16", zones: 2 } };
    const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
    const broker = single(resources, "azure-native:servicebus:Namespace");
    expect(broker.name).toBe("shop-broker-namespace");
    expect(byType(resources, QUEUE).map((q) => q.inputs["namespaceName"])).toEqual([broker.outputs["name"], broker.outputs["name"], broker.outputs["name"]]);
    expect(byType(resources, QUEUE).every((q) => !q.protect)).toBe(true);
  });

  for (const tier of ["iaas", "paas"] as const) {
    it(`builds the same orchestrator on ${tier}, granting the ${tier === "iaas" ? "scale sets'" : "apps'"} identities`, async () => {
      const spec: LandingZoneInput = { ...example, tier, mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" } };
      const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
      expect(single(resources, "msa:azure:SagaOrchestrator").parent).toBe("shop");
      const queue = byType(resources, QUEUE).find((q) => q.inputs["queueName"] === "inventory_saga_place-order")!;
      const grants = grantsTo(resources, principalOf(resources, "shop-inventory-identity")).filter((g) => g.inputs["scope"] === idOf(queue));
      expect(grants.map(roleOf)).toEqual([AZURE_ROLES.serviceBusDataReceiver]);
      const orders = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
      expect((single(resources, "azure-native:logic:Workflow").inputs["accessControl"] as { triggers: { openAuthenticationPolicies: { policies: { initiator: { claims: unknown[] } } } } }).triggers.openAuthenticationPolicies.policies.initiator.claims[1]).toEqual({
        name: "appid",
        value: orders.outputs["clientId"],
      });
    });
  }
});

describe("Azure saga choreography: the saga's events on the MessageBroker", async () => {
  const spec: LandingZoneInput = { ...example, sagas: [{ name: "place-order", mode: "choreography", steps: example.sagas![0]!.steps }] };
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const events = plan.sagas[0]!.events;
  const topics = byType(resources, "azure-native:servicebus:Topic");
  const subscriptions = byType(resources, "azure-native:servicebus:Subscription");

  it("builds no workflow, and a topic per saga event with a subscription per reacting service", () => {
    expect(byType(resources, "msa:azure:SagaOrchestrator")).toEqual([]);
    expect(byType(resources, "azure-native:logic:Workflow")).toEqual([]);
    expect(events.length).toBeGreaterThan(4);
    for (const event of events) {
      const topic = topics.find((t) => t.inputs["topicName"] === event.event);
      expect(topic, event.event).toBeDefined();
      const subscribers = subscriptions.filter((s) => s.inputs["topicName"] === topic!.outputs["name"]).map((s) => s.inputs["subscriptionName"]);
      expect(subscribers, event.event).toEqual(expect.arrayContaining([...event.subscribers]));
    }
  });

  it("lets only the publisher send and only each subscriber receive, each on that entity alone", () => {
    for (const event of events) {
      const topic = topics.find((t) => t.inputs["topicName"] === event.event)!;
      const senders = byType(resources, ROLE).filter((g) => g.inputs["scope"] === idOf(topic));
      expect(senders.map((g) => [roleOf(g), g.inputs["principalId"]]), event.event).toEqual([[AZURE_ROLES.serviceBusDataSender, principalOf(resources, `shop-${event.publisher}-identity`)]]);
      for (const subscriber of event.subscribers) {
        const subscription = subscriptions.find((s) => s.inputs["topicName"] === topic.outputs["name"] && s.inputs["subscriptionName"] === subscriber)!;
        const receivers = byType(resources, ROLE).filter((g) => g.inputs["scope"] === idOf(subscription));
        expect(receivers.map((g) => [roleOf(g), g.inputs["principalId"]]), `${event.event}/${subscriber}`).toEqual([[AZURE_ROLES.serviceBusDataReceiver, principalOf(resources, `shop-${subscriber}-identity`)]]);
      }
    }
    const namespace = idOf(single(resources, "azure-native:servicebus:Namespace"));
    expect(byType(resources, ROLE).filter((g) => g.inputs["scope"] === namespace)).toEqual([]);
  });
});

describe("SagaOrchestrator on its own, on an existing namespace", async () => {
  const saga = planSaga("shop", "dev", { name: "refund", mode: "orchestration", steps: [{ service: "payments", action: "refund", compensate: "charge" }, { service: "orders", action: "close" }] });
  const granted: pulumi.Resource[] = [];
  const { resources } = await runProgram(() => {
    const orchestrator = new SagaOrchestrator("refund", {
      saga,
      resourceGroupName: "rg",
      location: "koreacentral",
      namespace: { name: "existing-bus", host: "existing-bus.servicebus.windows.net" },
      initiatorClientId: "11111111-1111-4111-8111-111111111111",
      tenantId: "22222222-2222-4222-8222-222222222222",
    });
    granted.push(...orchestrator.grantAccess("orders", "orders-principal", orchestrator), ...orchestrator.grantAccess("web", "web-principal", orchestrator));
  });

  it("creates its queues in the given namespace and admits the given initiator from the given tenant", () => {
    expect(byType(resources, QUEUE).map((q) => [q.inputs["namespaceName"], q.inputs["queueName"], q.protect])).toEqual([
      ["existing-bus", "payments_saga_refund", false],
      ["existing-bus", "orders_saga_refund", false],
    ]);
    const workflow = single(resources, "azure-native:logic:Workflow");
    expect(workflow.parent).toBe("refund");
    expect((workflow.inputs["accessControl"] as { triggers: { openAuthenticationPolicies: { policies: { initiator: { claims: unknown[] } } } } }).triggers.openAuthenticationPolicies.policies.initiator.claims).toEqual([
      { name: "iss", value: "https://sts.windows.net/22222222-2222-4222-8222-222222222222/" },
      { name: "appid", value: "11111111-1111-4111-8111-111111111111" },
    ]);
    // Without a workspace there is nothing to send diagnostics to.
    expect(byType(resources, "azure-native:monitor:DiagnosticSetting")).toEqual([]);
  });

  it("grants a participant Data Receiver on its own queue and a non-participant nothing", () => {
    expect(granted).toHaveLength(1);
    const receive = byType(resources, ROLE).find((g) => g.inputs["principalId"] === "orders-principal")!;
    expect([roleOf(receive), receive.inputs["scope"]]).toEqual([AZURE_ROLES.serviceBusDataReceiver, idOf(byType(resources, QUEUE).find((q) => q.inputs["queueName"] === "orders_saga_refund")!)]);
  });

  it("refuses a choreographed saga before creating anything", () => {
    const choreographed = { ...saga, mode: "choreography" as const };
    expect(() => new SagaOrchestrator("bad", { saga: choreographed, resourceGroupName: "rg", location: "l", namespace: { name: "n", host: "h" }, initiatorClientId: "c" })).toThrow(
      /SagaOrchestrator bad: saga "refund" is choreographed\. Fix: plan it with mode orchestration/,
    );
  });
});
