import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Secret } from "kubernetes-models/v1/Secret";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { ValidatingAdmissionPolicy } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
import { ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding";
import { z } from "zod";
import { sagaEnvName } from "../plan/data.js";
import { physicalName } from "../plan/naming.js";
import { compensationChain, SAGA_STATES, type SagaPlan } from "../plan/saga.js";
import type { LandingZonePlan } from "../plan/types.js";
import { customResourceMetadata, validatedCustomResource } from "./custom-resource.js";
import { MANAGED_BY } from "./labels.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { AddOn, ManifestObject } from "./types.js";
import { serviceHost } from "./workload.js";

/** Argo Workflows (chart 0.45.27 runs Argo Workflows v3.7.3, whose HTTP templates retry), pinned. */
export const ARGO_WORKFLOWS_CHART = { chart: "argo-workflows", repository: "https://argoproj.github.io/argo-helm", version: "0.45.27" } as const;
export const ARGO_WORKFLOWS_RELEASE = "argo-workflows";
const ARGO_API = "argoproj.io/v1alpha1";

/** The ServiceAccount every saga Workflow (its HTTP agent) runs as. */
export const SAGA_RUNNER = "saga-runner";
/** Path every participant serves its saga commands on (POST, JSON body with {@link SAGA_HTTP_COMMAND_FIELDS}). */
export const SAGA_COMMAND_PATH = "/saga/commands";
/** What a command carries; the service answers 200 when its local transaction succeeded, anything else (or silence past the step timeout) fails the step. */
export const SAGA_HTTP_COMMAND_FIELDS = ["saga", "execution", "step", "service", "action", "kind", "input"] as const;
/** The Workflow output parameter holding `completed` or `rolled-back`; a Failed Workflow is `compensation-failed`. */
export const SAGA_OUTCOME_PARAMETER = "outcome";
/** Seconds a finished saga Workflow is kept: a day when it ended, a week when a compensation is stuck and a human retries it. */
export const SAGA_WORKFLOW_TTL_SECONDS = { succeeded: 86_400, failed: 604_800 } as const;
/** Pod annotation overriding the Istio proxy's settings for one pod. */
const ISTIO_PROXY_CONFIG = "proxy.istio.io/config";

/** What the agent of a Workflow with only HTTP templates needs: read its WorkflowTaskSet and report the results. */
export const SAGA_RUNNER_RULES = [
  { apiGroups: ["argoproj.io"], resources: ["workflowtasksets"], verbs: ["list", "watch"] },
  { apiGroups: ["argoproj.io"], resources: ["workflowtasksets/status"], verbs: ["patch"] },
] as const;
/** What a saga's initiator may do with Workflows: create one (from its templates only, see {@link sagaStartPolicies}) and read its outcome. */
export const SAGA_STARTER_VERBS = ["create", "get"] as const;

/** The WorkflowTemplate of an orchestrated saga, in the workloads namespace. */
export function sagaWorkflowTemplateName(saga: string): string {
  return physicalName("kubernetes", "saga", saga);
}

/** Node names inside the template: `step-<k>`, `rollback-after-<k>`, `undo-<k>` (1-based, as the other clouds number steps). */
export function sagaStepNode(index: number): string {
  return `step-${index + 1}`;
}
export function sagaRollbackNode(failedIndex: number): string {
  return `rollback-after-${failedIndex + 1}`;
}
export function sagaUndoNode(index: number): string {
  return `undo-${index + 1}`;
}

/** The orchestrated sagas of the plan. */
export function orchestratedSagas(plan: LandingZonePlan): SagaPlan[] {
  return plan.sagas.filter((s) => s.mode === "orchestration");
}

/** The services starting at least one orchestrated saga, in plan order. */
export function sagaStarters(plan: LandingZonePlan): string[] {
  const starters = new Set(orchestratedSagas(plan).map((s) => s.initiator));
  return plan.services.filter((s) => starters.has(s.name)).map((s) => s.name);
}

/** Whether a service's pods need a Kubernetes API token: it starts saga Workflows. */
export function startsSagas(plan: LandingZonePlan, service: string): boolean {
  return sagaStarters(plan).includes(service);
}

/** `SAGA_<NAME>_WORKFLOW_TEMPLATE` and `SAGA_<NAME>_NAMESPACE` of every saga the service starts. */
export function sagaStarterEnv(plan: LandingZonePlan, service: string): Record<string, string> {
  return Object.fromEntries(
    orchestratedSagas(plan)
      .filter((s) => s.initiator === service)
      .flatMap((s) => [
        [sagaEnvName(s.name, "WORKFLOW_TEMPLATE"), sagaWorkflowTemplateName(s.name)],
        [sagaEnvName(s.name, "NAMESPACE"), workloadNamespace(plan)],
      ]),
  );
}

const parameter = z.strictObject({ name: z.string().min(1), value: z.string() });
const stepSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  template: z.string().min(1),
  arguments: z.strictObject({ parameters: z.array(parameter) }).optional(),
  when: z.string().min(1).optional(),
  continueOn: z.strictObject({ failed: z.boolean(), error: z.boolean() }).optional(),
});
const inputs = z.strictObject({ parameters: z.array(z.strictObject({ name: z.string().min(1) })).min(1) });
const httpTemplate = z.strictObject({
  name: z.string().min(1),
  inputs,
  http: z.strictObject({
    url: z.string().min(1),
    method: z.literal("POST"),
    headers: z.array(z.strictObject({ name: z.string().min(1), value: z.string().min(1) })),
    body: z.string().min(1),
    timeoutSeconds: z.number().int().positive(),
    successCondition: z.string().min(1),
  }),
  retryStrategy: z
    .strictObject({
      limit: z.string().regex(/^\d+$/),
      retryPolicy: z.literal("Always"),
      backoff: z.strictObject({ duration: z.string().min(1), factor: z.string().regex(/^\d+$/), maxDuration: z.string().min(1) }),
    })
    .optional(),
});
const stepsTemplate = z.strictObject({
  name: z.string().min(1),
  steps: z.array(z.array(stepSchema).min(1)).min(1),
  outputs: z.strictObject({ parameters: z.array(z.strictObject({ name: z.string().min(1), valueFrom: z.strictObject({ expression: z.string().min(1) }) })) }).optional(),
});

/**
 * The fields of an Argo `WorkflowTemplate` {@link sagaWorkflowTemplate} sets (strict). Not
 * `@kubernetes-models/argo-workflows`: its schema, generated from Argo's Go types, takes each
 * parallel step group as `{ steps: [...] }` (the field only exists for kubebuilder), so it rejects
 * the list of lists Argo reads.
 */
export const WORKFLOW_TEMPLATE_SCHEMA = z.strictObject({
  apiVersion: z.literal(ARGO_API),
  kind: z.literal("WorkflowTemplate"),
  metadata: customResourceMetadata,
  spec: z.strictObject({
    entrypoint: z.string().min(1),
    serviceAccountName: z.string().min(1),
    arguments: z.strictObject({ parameters: z.array(parameter).min(1) }),
    podMetadata: z.strictObject({ annotations: z.record(z.string(), z.string()) }).optional(),
    podGC: z.strictObject({ strategy: z.literal("OnWorkflowCompletion") }),
    ttlStrategy: z.strictObject({ secondsAfterSuccess: z.number().int().positive(), secondsAfterFailure: z.number().int().positive() }),
    templates: z.array(z.union([stepsTemplate, httpTemplate])).min(2),
  }),
});

/**
 * An orchestrated saga as an Argo `WorkflowTemplate` in the workloads namespace, run by
 * {@link SAGA_RUNNER}. Each step POSTs its command to the step service's Service inside the mesh
 * (`http://<service>.<namespace>.svc.cluster.local/saga/commands`, mTLS by the sidecars) and waits
 * up to the step timeout for the answer: the HTTP response is the outcome, so no reply channel or
 * correlation is needed. The steps run in order, each only after the previous succeeded; when step k
 * fails, `rollback-after-k` runs {@link compensationChain}(steps, k) latest first, each compensation
 * retried with backoff. The Workflow then succeeds with output `outcome` `completed` or `rolled-back`;
 * a compensation still failing after its attempts fails the Workflow (`compensation-failed`), which
 * `argo retry` resumes from the stuck compensation once a human fixed its cause.
 */
export function sagaWorkflowTemplate(plan: LandingZonePlan, saga: SagaPlan): ManifestObject {
  if (saga.mode !== "orchestration") {
    throw new Error(`sagaWorkflowTemplate: saga "${saga.name}" is choreographed, which has no workflow. Fix: set sagas[].mode: orchestration, or use its events`);
  }
  const namespace = workloadNamespace(plan);
  const labels = { "app.kubernetes.io/name": sagaWorkflowTemplateName(saga.name), "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  const call = (index: number, kind: "action" | "compensation") => {
    const step = saga.steps[index]!;
    return {
      parameters: [
        { name: "url", value: `http://${serviceHost(plan, step.service)}${SAGA_COMMAND_PATH}` },
        { name: "service", value: step.service },
        { name: "step", value: String(index + 1) },
        { name: "action", value: kind === "action" ? step.action : step.compensate! },
        { name: "kind", value: kind },
      ],
    };
  };
  const steps = saga.steps.map((_, index) => [
    {
      name: sagaStepNode(index),
      template: "command",
      arguments: call(index, "action"),
      ...(index > 0 ? { when: `{{steps.${sagaStepNode(index - 1)}.status}} == Succeeded` } : {}),
      // A failed step is the saga's business: the compensations below decide what follows.
      continueOn: { failed: true, error: true },
    },
  ]);
  const rollbacks = saga.steps
    .map((step) => ({ failed: step.index, chain: compensationChain(saga.steps, step.index) }))
    .filter((r) => r.chain.length > 0);
  const rollbackSteps = rollbacks.map((r) => ({
    name: sagaRollbackNode(r.failed),
    template: sagaRollbackNode(r.failed),
    when: `{{steps.${sagaStepNode(r.failed)}.status}} == Failed || {{steps.${sagaStepNode(r.failed)}.status}} == Error`,
  }));
  const last = sagaStepNode(saga.steps.length - 1);
  const httpCommand = (name: string, retry: boolean) => ({
    name,
    inputs: { parameters: ["url", "service", "step", "action", "kind"].map((p) => ({ name: p })) },
    http: {
      url: "{{inputs.parameters.url}}",
      method: "POST" as const,
      headers: [
        { name: "Content-Type", value: "application/json" },
        // The same key on every attempt lets the service recognise a retried command.
        { name: "Idempotency-Key", value: "{{workflow.uid}}-{{inputs.parameters.kind}}-{{inputs.parameters.step}}" },
      ],
      body: `{"saga":"${saga.name}","execution":"{{workflow.name}}","step":{{inputs.parameters.step}},"service":"{{inputs.parameters.service}}","action":"{{inputs.parameters.action}}","kind":"{{inputs.parameters.kind}}","input":{{workflow.parameters.input}}}`,
      timeoutSeconds: saga.stepTimeoutSeconds,
      successCondition: "response.statusCode == 200",
    },
    // Compensations must eventually succeed: retried with backoff, `compensationAttempts` attempts in all.
    ...(retry ? { retryStrategy: { limit: String(saga.compensationAttempts - 1), retryPolicy: "Always" as const, backoff: { duration: "2s", factor: "2", maxDuration: "1h" } } } : {}),
  });
  const templates = [
    {
      name: "saga",
      steps: [...steps, ...(rollbackSteps.length > 0 ? [rollbackSteps] : [])],
      // Only reached when every compensation that had to run succeeded.
      outputs: { parameters: [{ name: SAGA_OUTCOME_PARAMETER, valueFrom: { expression: `steps['${last}'].status == 'Succeeded' ? '${SAGA_STATES.completed}' : '${SAGA_STATES.rolledBack}'` } }] },
    },
    httpCommand("command", false),
    httpCommand("compensation", true),
    ...rollbacks.map((r) => ({
      name: sagaRollbackNode(r.failed),
      steps: r.chain.map((step) => [{ name: sagaUndoNode(step.index), template: "compensation", arguments: call(step.index, "compensation") }]),
    })),
  ];
  return validatedCustomResource(WORKFLOW_TEMPLATE_SCHEMA, {
    apiVersion: ARGO_API,
    kind: "WorkflowTemplate",
    metadata: { name: sagaWorkflowTemplateName(saga.name), namespace, labels },
    spec: {
      entrypoint: "saga",
      serviceAccountName: SAGA_RUNNER,
      arguments: { parameters: [{ name: "input", value: "{}" }] },
      // The agent's first calls go through its sidecar, so it starts only once the proxy is up.
      ...(plan.mesh ? { podMetadata: { annotations: { [ISTIO_PROXY_CONFIG]: JSON.stringify({ holdApplicationUntilProxyStarts: true }) } } } : {}),
      podGC: { strategy: "OnWorkflowCompletion" },
      ttlStrategy: { secondsAfterSuccess: SAGA_WORKFLOW_TTL_SECONDS.succeeded, secondsAfterFailure: SAGA_WORKFLOW_TTL_SECONDS.failed },
      templates,
    },
  });
}

/** The Secret Argo finds the runner's API token in, by its naming rule `<ServiceAccount>.service-account-token`. */
export const SAGA_RUNNER_TOKEN_SECRET = `${SAGA_RUNNER}.service-account-token`;

/**
 * The saga runner's ServiceAccount, the token Secret Kubernetes fills for it (the agent mounts it by
 * name, as no token Secret is created on its own since Kubernetes 1.24), its Role
 * ({@link SAGA_RUNNER_RULES}) and binding.
 */
export function sagaRunnerRbac(plan: LandingZonePlan): ManifestObject[] {
  const namespace = workloadNamespace(plan);
  const labels = { "app.kubernetes.io/name": SAGA_RUNNER, "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  return [
    validatedManifest(new ServiceAccount({ metadata: { name: SAGA_RUNNER, namespace, labels } })),
    validatedManifest(
      new Secret({
        metadata: { name: SAGA_RUNNER_TOKEN_SECRET, namespace, labels, annotations: { "kubernetes.io/service-account.name": SAGA_RUNNER } },
        type: "kubernetes.io/service-account-token",
      }),
    ),
    validatedManifest(new Role({ metadata: { name: SAGA_RUNNER, namespace, labels }, rules: SAGA_RUNNER_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })) })),
    validatedManifest(
      new RoleBinding({
        metadata: { name: SAGA_RUNNER, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: SAGA_RUNNER },
        subjects: [{ kind: "ServiceAccount", name: SAGA_RUNNER, namespace }],
      }),
    ),
  ];
}

/** Name of the Role (and binding) letting a service start its sagas. */
export function sagaStarterRoleName(service: string): string {
  return physicalName("kubernetes", service, "saga-starter");
}

/** Name of the cluster-scoped admission policy (and binding) confining a service's Workflows to its saga templates. */
export function sagaStartPolicyName(plan: LandingZonePlan, service: string): string {
  return physicalName("kubernetes", workloadNamespace(plan), service, "saga-starts");
}

/**
 * Per saga initiator: a Role to create Workflows and read them ({@link SAGA_STARTER_VERBS}, no
 * resourceNames: Workflow names are generated) bound to its own ServiceAccount, and a
 * ValidatingAdmissionPolicy with its binding that lets that ServiceAccount create only Workflows
 * referring by name to the templates of the sagas it starts, setting nothing but their arguments
 * (no inline templates, no other ServiceAccount). RBAC cannot narrow `create`; the policy does.
 */
export function sagaStarterRbac(plan: LandingZonePlan): ManifestObject[] {
  const namespace = workloadNamespace(plan);
  return sagaStarters(plan).flatMap((service) => {
    const labels = { "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
    const name = sagaStarterRoleName(service);
    const policy = sagaStartPolicyName(plan, service);
    const templates = orchestratedSagas(plan)
      .filter((s) => s.initiator === service)
      .map((s) => `'${sagaWorkflowTemplateName(s.name)}'`);
    return [
      validatedManifest(new Role({ metadata: { name, namespace, labels }, rules: [{ apiGroups: ["argoproj.io"], resources: ["workflows"], verbs: [...SAGA_STARTER_VERBS] }] })),
      validatedManifest(
        new RoleBinding({
          metadata: { name, namespace, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
          subjects: [{ kind: "ServiceAccount", name: service, namespace }],
        }),
      ),
      validatedManifest(
        new ValidatingAdmissionPolicy({
          metadata: { name: policy, labels },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
              resourceRules: [{ apiGroups: ["argoproj.io"], apiVersions: ["*"], operations: ["CREATE"], resources: ["workflows"] }],
            },
            matchConditions: [{ name: "saga-starter", expression: `request.userInfo.username == 'system:serviceaccount:${namespace}:${service}'` }],
            validations: [
              {
                expression: `has(object.spec.workflowTemplateRef) && object.spec.workflowTemplateRef.all(k, k == 'name') && object.spec.workflowTemplateRef.name in [${templates.join(", ")}]`,
                message: `${service} may start only the Workflow templates of its sagas: ${templates.join(", ")}`,
              },
              { expression: "object.spec.all(k, k in ['workflowTemplateRef', 'arguments'])", message: "a saga Workflow sets only workflowTemplateRef and arguments" },
            ],
          },
        }),
      ),
      validatedManifest(new ValidatingAdmissionPolicyBinding({ metadata: { name: policy, labels }, spec: { policyName: policy, validationActions: ["Deny"] } })),
    ];
  });
}

/**
 * Argo Workflows for the plan's orchestrated sagas: the pinned chart's controller alone (no Argo
 * Server, so no UI or API to expose), namespaced to the workloads namespace (Roles instead of
 * ClusterRoles) and accepting only Workflows that run a WorkflowTemplate; then the saga runner's
 * RBAC, a WorkflowTemplate per saga, and the initiators' RBAC and admission policies. Undefined
 * without an orchestrated saga. The chart's CRDs are cluster-wide, as every CRD. Cost: the
 * controller's pods (two in prod) and one small agent pod per running saga, on the cluster's nodes.
 *
 * @example
 * const sagas = sagaWorkflowsAddOn(plan); // then applyAddOn("shop-saga-workflows", sagas, { provider, parent })
 * const env = sagaStarterEnv(plan, "orders"); // SAGA_PLACE_ORDER_WORKFLOW_TEMPLATE, SAGA_PLACE_ORDER_NAMESPACE
 */
export function sagaWorkflowsAddOn(plan: LandingZonePlan): AddOn | undefined {
  const sagas = orchestratedSagas(plan);
  if (sagas.length === 0) return undefined;
  const namespace = workloadNamespace(plan);
  return {
    name: "saga-workflows",
    namespace,
    helmReleases: [
      {
        name: ARGO_WORKFLOWS_RELEASE,
        namespace,
        chart: ARGO_WORKFLOWS_CHART.chart,
        repository: ARGO_WORKFLOWS_CHART.repository,
        version: ARGO_WORKFLOWS_CHART.version,
        createNamespace: false,
        values: {
          singleNamespace: true,
          createAggregateRoles: false,
          crds: { install: true, keep: true },
          server: { enabled: false },
          // The runner's ServiceAccount and RBAC are the landing zone's own, narrower than the chart's.
          workflow: { serviceAccount: { create: false }, rbac: { create: false } },
          controller: {
            clusterWorkflowTemplates: { enabled: false },
            workflowRestrictions: { templateReferencing: "Strict" },
            replicas: plan.environment === "prod" ? 2 : 1,
            podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          },
        },
      },
    ],
    manifests: [...sagaRunnerRbac(plan), ...sagas.map((saga) => sagaWorkflowTemplate(plan, saga)), ...sagaStarterRbac(plan)],
    dependsOn: [],
  };
}
