import { describe, expect, it } from "vitest";
import {
  ARGO_WORKFLOWS_CHART,
  SAGA_COMMAND_PATH,
  SAGA_OUTCOME_PARAMETER,
  SAGA_RUNNER,
  sagaStarterEnv,
  sagaWorkflowsAddOn,
  sagaWorkflowTemplate,
  serviceWorkload,
  startsSagas,
  WORKFLOW_TEMPLATE_SCHEMA,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { checkAddOn, ofKind, one } from "./addon-helpers.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  services: [{ name: "orders" }, { name: "inventory" }, { name: "payments" }, { name: "shipping" }],
  sagas: [
    {
      name: "place-order",
      steps: [
        { service: "orders", action: "create", compensate: "cancel" },
        { service: "inventory", action: "reserve", compensate: "release" },
        { service: "payments", action: "charge", compensate: "refund" },
        { service: "shipping", action: "ship" },
      ],
    },
    { name: "restock", steps: [{ service: "inventory", action: "order", compensate: "cancelOrder" }, { service: "shipping", action: "receive" }] },
    { name: "notify", mode: "choreography", steps: [{ service: "payments", action: "a", compensate: "b" }, { service: "orders", action: "c" }] },
  ],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });
const addOn = sagaWorkflowsAddOn(plan)!;
const template = one(addOn.manifests, "WorkflowTemplate", "saga-place-order");
type Step = { name: string; template: string; when?: string; arguments?: { parameters: { name: string; value: string }[] }; continueOn?: unknown };
const templates = template.spec.templates as { name: string; steps?: Step[][]; http?: Record<string, unknown>; retryStrategy?: unknown; outputs?: unknown }[];
const named = (name: string) => templates.find((t) => t.name === name)!;
const args = (step: Step) => Object.fromEntries(step.arguments!.parameters.map((p) => [p.name, p.value]));

describe("sagaWorkflowsAddOn (Argo Workflows)", () => {
  it("is undefined without an orchestrated saga", () => {
    expect(sagaWorkflowsAddOn(planLandingZone({ ...spec, sagas: [spec.sagas[2]] }))).toBeUndefined();
  });

  it("installs only the pinned controller, namespaced to the workloads namespace, running only WorkflowTemplates", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases).toHaveLength(1);
    const release = addOn.helmReleases[0]!;
    expect(release).toMatchObject({ chart: "argo-workflows", repository: ARGO_WORKFLOWS_CHART.repository, version: ARGO_WORKFLOWS_CHART.version, namespace: "shop", createNamespace: false });
    expect(release.values).toMatchObject({
      singleNamespace: true,
      createAggregateRoles: false,
      server: { enabled: false },
      workflow: { serviceAccount: { create: false }, rbac: { create: false } },
      controller: { clusterWorkflowTemplates: { enabled: false }, workflowRestrictions: { templateReferencing: "Strict" }, replicas: 2 },
    });
    expect(addOn.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "ServiceAccount/saga-runner",
      "Secret/saga-runner.service-account-token",
      "Role/saga-runner",
      "RoleBinding/saga-runner",
      "WorkflowTemplate/saga-place-order",
      "WorkflowTemplate/saga-restock",
      "Role/orders-saga-starter",
      "RoleBinding/orders-saga-starter",
      "ValidatingAdmissionPolicy/shop-orders-saga-starts",
      "ValidatingAdmissionPolicyBinding/shop-orders-saga-starts",
      "Role/inventory-saga-starter",
      "RoleBinding/inventory-saga-starter",
      "ValidatingAdmissionPolicy/shop-inventory-saga-starts",
      "ValidatingAdmissionPolicyBinding/shop-inventory-saga-starts",
    ]);
  });

  it("gives the runner the token Secret Argo's agent mounts by name, filled by Kubernetes, never a literal token", () => {
    expect(one(addOn.manifests, "Secret", "saga-runner.service-account-token")).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "saga-runner.service-account-token", namespace: "shop", labels: expect.any(Object), annotations: { "kubernetes.io/service-account.name": SAGA_RUNNER } },
      type: "kubernetes.io/service-account-token",
    });
  });

  it("lets the runner only read its task sets and report their results", () => {
    expect(one(addOn.manifests, "Role", SAGA_RUNNER).rules).toEqual([
      { apiGroups: ["argoproj.io"], resources: ["workflowtasksets"], verbs: ["list", "watch"] },
      { apiGroups: ["argoproj.io"], resources: ["workflowtasksets/status"], verbs: ["patch"] },
    ]);
    expect(one(addOn.manifests, "RoleBinding", SAGA_RUNNER)).toMatchObject({
      roleRef: { kind: "Role", name: SAGA_RUNNER },
      subjects: [{ kind: "ServiceAccount", name: SAGA_RUNNER, namespace: "shop" }],
    });
  });

  it("lets each initiator create and read Workflows, bound to its own ServiceAccount only", () => {
    expect(one(addOn.manifests, "Role", "orders-saga-starter").rules).toEqual([{ apiGroups: ["argoproj.io"], resources: ["workflows"], verbs: ["create", "get"] }]);
    expect(one(addOn.manifests, "RoleBinding", "orders-saga-starter")).toMatchObject({
      roleRef: { kind: "Role", name: "orders-saga-starter" },
      subjects: [{ kind: "ServiceAccount", name: "orders", namespace: "shop" }],
    });
    // Participants that start nothing get no role.
    expect(ofKind(addOn.manifests, "Role").map((r) => r.metadata.name)).not.toContain("payments-saga-starter");
  });

  it("admits an initiator's Workflows only from the templates of its own sagas, setting nothing else", () => {
    const policy = one(addOn.manifests, "ValidatingAdmissionPolicy", "shop-orders-saga-starts");
    expect(policy.metadata.namespace).toBeUndefined();
    expect(policy.spec.failurePolicy).toBe("Fail");
    expect(policy.spec.matchConstraints).toEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
      resourceRules: [{ apiGroups: ["argoproj.io"], apiVersions: ["*"], operations: ["CREATE"], resources: ["workflows"] }],
    });
    expect(policy.spec.matchConditions).toEqual([{ name: "saga-starter", expression: "request.userInfo.username == 'system:serviceaccount:shop:orders'" }]);
    expect(policy.spec.validations.map((v: { expression: string }) => v.expression)).toEqual([
      "has(object.spec.workflowTemplateRef) && object.spec.workflowTemplateRef.all(k, k == 'name') && object.spec.workflowTemplateRef.name in ['saga-place-order']",
      "object.spec.all(k, k in ['workflowTemplateRef', 'arguments'])",
    ]);
    expect(one(addOn.manifests, "ValidatingAdmissionPolicy", "shop-inventory-saga-starts").spec.validations[0].expression).toContain("in ['saga-restock']");
    expect(one(addOn.manifests, "ValidatingAdmissionPolicyBinding", "shop-orders-saga-starts").spec).toEqual({ policyName: "shop-orders-saga-starts", validationActions: ["Deny"] });
  });
});

describe("sagaWorkflowTemplate", () => {
  it("is schema-valid and runs as the saga runner, keeping failed runs longer", () => {
    expect(WORKFLOW_TEMPLATE_SCHEMA.safeParse(template).success).toBe(true);
    expect(template.spec).toMatchObject({ entrypoint: "saga", serviceAccountName: SAGA_RUNNER, podGC: { strategy: "OnWorkflowCompletion" }, ttlStrategy: { secondsAfterSuccess: 86400, secondsAfterFailure: 604800 } });
    expect(template.spec.arguments).toEqual({ parameters: [{ name: "input", value: "{}" }] });
  });

  it("holds the HTTP agent until its mesh sidecar is up, and sets nothing of the kind without a mesh", () => {
    expect(template.spec.podMetadata).toEqual({ annotations: { "proxy.istio.io/config": '{"holdApplicationUntilProxyStarts":true}' } });
    const meshless = sagaWorkflowsAddOn(planLandingZone({ ...spec, mesh: { kind: "none" } }))!;
    expect(one(meshless.manifests, "WorkflowTemplate", "saga-place-order").spec.podMetadata).toBeUndefined();
  });

  it("runs the steps in order, each after the previous succeeded, sending its service the command", () => {
    const groups = named("saga").steps!;
    const steps = groups.slice(0, 4).map((g) => g[0]!);
    expect(groups.slice(0, 4).every((g) => g.length === 1)).toBe(true);
    expect(steps.map((s) => [s.name, s.template, s.when])).toEqual([
      ["step-1", "command", undefined],
      ["step-2", "command", "{{steps.step-1.status}} == Succeeded"],
      ["step-3", "command", "{{steps.step-2.status}} == Succeeded"],
      ["step-4", "command", "{{steps.step-3.status}} == Succeeded"],
    ]);
    expect(steps.map(args)).toEqual([
      { url: `http://orders.shop.svc.cluster.local${SAGA_COMMAND_PATH}`, service: "orders", step: "1", action: "create", kind: "action" },
      { url: `http://inventory.shop.svc.cluster.local${SAGA_COMMAND_PATH}`, service: "inventory", step: "2", action: "reserve", kind: "action" },
      { url: `http://payments.shop.svc.cluster.local${SAGA_COMMAND_PATH}`, service: "payments", step: "3", action: "charge", kind: "action" },
      { url: `http://shipping.shop.svc.cluster.local${SAGA_COMMAND_PATH}`, service: "shipping", step: "4", action: "ship", kind: "action" },
    ]);
    for (const step of steps) expect(step.continueOn).toEqual({ failed: true, error: true });
  });

  it("POSTs the command and counts only a 200 within the step timeout as success; retries only compensations", () => {
    const command = named("command");
    expect(command.http).toMatchObject({ url: "{{inputs.parameters.url}}", method: "POST", timeoutSeconds: 300, successCondition: "response.statusCode == 200" });
    const body = (command.http!.body as string)
      .replace("{{workflow.name}}", "run-1")
      .replace("{{inputs.parameters.step}}", "2")
      .replace("{{inputs.parameters.service}}", "inventory")
      .replace("{{inputs.parameters.action}}", "reserve")
      .replace("{{inputs.parameters.kind}}", "action")
      .replace("{{workflow.parameters.input}}", '{"order":"o-1"}');
    expect(JSON.parse(body)).toEqual({ saga: "place-order", execution: "run-1", step: 2, service: "inventory", action: "reserve", kind: "action", input: { order: "o-1" } });
    expect(command.retryStrategy).toBeUndefined();
    expect(named("compensation").retryStrategy).toEqual({ limit: "4", retryPolicy: "Always", backoff: { duration: "2s", factor: "2", maxDuration: "1h" } });
    expect(named("compensation").http).toEqual(command.http);
  });

  it("compensates exactly the completed steps, latest first, for each failed step", () => {
    const rollbackGroup = named("saga").steps!.at(-1)!;
    // Step 1 failing leaves nothing to undo; every later failure has its rollback.
    expect(rollbackGroup.map((s) => [s.name, s.when])).toEqual([
      ["rollback-after-2", "{{steps.step-2.status}} == Failed || {{steps.step-2.status}} == Error"],
      ["rollback-after-3", "{{steps.step-3.status}} == Failed || {{steps.step-3.status}} == Error"],
      ["rollback-after-4", "{{steps.step-4.status}} == Failed || {{steps.step-4.status}} == Error"],
    ]);
    const undo = (failed: number) => named(`rollback-after-${failed}`).steps!.map((g) => (g.length === 1 ? `${g[0]!.name}:${args(g[0]!).service}.${args(g[0]!).action}:${g[0]!.template}` : "parallel"));
    expect(undo(2)).toEqual(["undo-1:orders.cancel:compensation"]);
    expect(undo(3)).toEqual(["undo-2:inventory.release:compensation", "undo-1:orders.cancel:compensation"]);
    expect(undo(4)).toEqual(["undo-3:payments.refund:compensation", "undo-2:inventory.release:compensation", "undo-1:orders.cancel:compensation"]);
    expect(args(named("rollback-after-4").steps![0]![0]!).kind).toBe("compensation");
  });

  it("ends completed or rolled-back through its outcome, a stuck compensation failing the Workflow", () => {
    expect(named("saga").outputs).toEqual({
      parameters: [{ name: SAGA_OUTCOME_PARAMETER, valueFrom: { expression: "steps['step-4'].status == 'Succeeded' ? 'completed' : 'rolled-back'" } }],
    });
    // Rollback steps have no continueOn: a compensation failing after its attempts fails the run.
    for (const step of named("saga").steps!.at(-1)!) expect(step.continueOn).toBeUndefined();
  });

  it("refuses a choreographed saga", () => {
    expect(() => sagaWorkflowTemplate(plan, plan.sagas[2]!)).toThrow('sagaWorkflowTemplate: saga "notify" is choreographed, which has no workflow. Fix: set sagas[].mode: orchestration, or use its events');
  });

  it("builds a two-step saga with the one rollback its first step needs", () => {
    const restock = one(addOn.manifests, "WorkflowTemplate", "saga-restock");
    expect((restock.spec.templates as { name: string }[]).map((t) => t.name)).toEqual(["saga", "command", "compensation", "rollback-after-2"]);
    expect((restock.spec.templates[0].steps as Step[][]).map((g) => g.map((s) => s.name))).toEqual([["step-1"], ["step-2"], ["rollback-after-2"]]);
    expect(args(restock.spec.templates[3].steps[0][0])).toMatchObject({ service: "inventory", action: "cancelOrder", kind: "compensation" });
  });
});

describe("saga initiators' workloads", () => {
  it("give the initiator the template and namespace, and only it an API token", () => {
    expect(sagaStarterEnv(plan, "orders")).toEqual({ SAGA_PLACE_ORDER_WORKFLOW_TEMPLATE: "saga-place-order", SAGA_PLACE_ORDER_NAMESPACE: "shop" });
    expect(sagaStarterEnv(plan, "payments")).toEqual({});
    expect(startsSagas(plan, "orders")).toBe(true);
    expect(startsSagas(plan, "payments")).toBe(false);
    const deployment = (name: string, token: boolean) => one(serviceWorkload(plan, plan.services.find((s) => s.name === name)!, token ? { kubernetesApiToken: true } : {}), "Deployment");
    expect(deployment("orders", true).spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(deployment("payments", false).spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});
