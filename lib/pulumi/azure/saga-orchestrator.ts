import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as logic from "@pulumi/azure-native/logic/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as servicebus from "@pulumi/azure-native/servicebus/index.js";
import * as pulumi from "@pulumi/pulumi";
import { azureSagaDefinition, azureSagaStartUrl } from "../../plan/azure-saga.js";
import { sagaEnvName } from "../../plan/data.js";
import type { SagaPlan } from "../../plan/saga.js";
import { sendDiagnostics } from "./diagnostics.js";
import { LOCK_DURATION, DUPLICATE_DETECTION_WINDOW } from "./message-broker.js";
import { grantRole } from "./roles.js";
import type { ServiceAccess } from "./service-workload.js";

/** Arguments of {@link SagaOrchestrator}. */
export interface SagaOrchestratorArgs {
  /** The orchestrated saga, as planned (`planSaga`): steps, command queue names, step timeout, compensation attempts. */
  readonly saga: SagaPlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /**
   * The Service Bus namespace (Standard or Premium, Entra ID auth) the command queues are created in.
   * A Consumption Logic App runs outside any VNet: the namespace must accept its public endpoint.
   */
  readonly namespace: { readonly name: pulumi.Input<string>; readonly host: pulumi.Input<string> };
  /** Client id of the initiator's (the first step's service's) managed identity: the only caller the trigger admits. */
  readonly initiatorClientId: pulumi.Input<string>;
  /**
   * Entra ID tenant issuing the initiator's tokens.
   * @default - the deploying principal's tenant
   */
  readonly tenantId?: pulumi.Input<string>;
  /**
   * Deliveries of a command before it moves to the queue's dead-letter queue.
   * @default 5
   */
  readonly maxDeliveryCount?: number;
  /**
   * Log Analytics workspace of the workflow's run history (WorkflowRuntime logs) and metrics.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the command queues, which hold commands in flight, and keep them when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the workflow and its identity.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly workflow?: (args: logic.WorkflowArgs) => void;
    readonly queue?: (args: servicebus.QueueArgs, service: string) => void;
  };
}

/**
 * An orchestrated saga on a Logic App (Consumption): the workflow from {@link azureSagaDefinition}
 * sends each step's command to its service's own Service Bus queue and waits for the service to
 * POST the outcome to the command's callback URL; when a step fails it compensates the completed
 * steps latest first. The workflow's user-assigned identity holds Azure Service Bus Data Sender on
 * exactly these queues; each service, through {@link grantAccess}, Data Receiver on its own queue
 * only. Only the initiator's identity may start a run (an Entra ID authorization policy on the trigger).
 *
 * Cost: Consumption Logic Apps bill per action executed (a step is two or three); queues per operation
 * of their namespace.
 *
 * @example
 * const saga = new SagaOrchestrator("place-order", { saga: plan.sagas[0], resourceGroupName, location, namespace: { name: bus.nodes.namespace.name, host: bus.namespaceHost }, initiatorClientId: orders.clientId });
 */
export class SagaOrchestrator extends pulumi.ComponentResource implements ServiceAccess {
  readonly saga: SagaPlan;
  /** ARM id of the Logic App. */
  readonly workflowId: pulumi.Output<string>;
  /** The URL the initiator POSTs `{ "input": ... }` to, with an Entra ID bearer token. */
  readonly startUrl: pulumi.Output<string>;
  /** Principal of the workflow's identity. */
  readonly principalId: pulumi.Output<string>;
  /** Command queue id by service. */
  readonly commandQueueIds: Readonly<Record<string, pulumi.Output<string>>>;
  readonly nodes: {
    readonly identity: managedidentity.UserAssignedIdentity;
    readonly queues: Readonly<Record<string, servicebus.Queue>>;
    readonly workflow: logic.Workflow;
  };
  private readonly namespaceHost: pulumi.Input<string>;

  constructor(name: string, args: SagaOrchestratorArgs, opts?: pulumi.ComponentResourceOptions) {
    const { saga } = args;
    if (saga.mode !== "orchestration") {
      throw new Error(`SagaOrchestrator ${name}: saga "${saga.name}" is choreographed. Fix: plan it with mode orchestration, or give its events to the MessageBroker instead`);
    }
    super("msa:azure:SagaOrchestrator", name, {}, opts);
    this.saga = saga;
    this.namespaceHost = args.namespace.host;
    const parent = { parent: this };
    const kept = { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) };
    const { resourceGroupName } = args;
    const tags = { ...args.tags, "msa:saga": saga.name };

    const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, { resourceGroupName, location: args.location, resourceName: `${saga.workflowName}-saga`, tags }, parent);
    const queues: Record<string, servicebus.Queue> = {};
    const sends: pulumi.Resource[] = [];
    for (const { service, name: queueName } of saga.commandQueues) {
      const queueArgs: servicebus.QueueArgs = {
        resourceGroupName,
        namespaceName: args.namespace.name,
        queueName,
        lockDuration: LOCK_DURATION,
        maxDeliveryCount: args.maxDeliveryCount ?? 5,
        // A command older than the step's timeout is moot (the saga has moved on): it is dead-lettered, not delivered.
        defaultMessageTimeToLive: `PT${saga.stepTimeoutSeconds}S`,
        deadLetteringOnMessageExpiration: true,
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindow: DUPLICATE_DETECTION_WINDOW,
        enableBatchedOperations: true,
      };
      args.transform?.queue?.(queueArgs, service);
      const queue = new servicebus.Queue(`${name}-${service}-commands`, queueArgs, kept);
      queues[service] = queue;
      sends.push(grantRole(`${name}-send-${service}`, { role: "serviceBusDataSender", scope: queue.id, principalId: identity.principalId }, parent));
    }
    this.commandQueueIds = Object.fromEntries(Object.entries(queues).map(([service, queue]) => [service, queue.id]));

    const tenantId = args.tenantId ?? authorization.getClientConfigOutput(parent).tenantId;
    const workflowArgs: logic.WorkflowArgs = {
      resourceGroupName,
      location: args.location,
      workflowName: saga.workflowName,
      state: "Enabled",
      identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
      definition: pulumi.all([args.namespace.host, identity.id]).apply(([namespaceHost, identityId]) => azureSagaDefinition(saga, { namespaceHost, identityId })),
      accessControl: {
        triggers: {
          openAuthenticationPolicies: {
            policies: {
              initiator: {
                type: "AAD",
                claims: [
                  { name: "iss", value: pulumi.interpolate`https://sts.windows.net/${tenantId}/` },
                  { name: "appid", value: args.initiatorClientId },
                ],
              },
            },
          },
        },
      },
      tags,
    };
    args.transform?.workflow?.(workflowArgs);
    // The identity must hold its grants before a run sends a command.
    const workflow = new logic.Workflow(`${name}-workflow`, workflowArgs, { parent: this, dependsOn: sends });
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, workflow.id, args.logWorkspaceId, this);

    this.workflowId = workflow.id;
    this.startUrl = workflow.accessEndpoint.apply(azureSagaStartUrl);
    this.principalId = identity.principalId;
    this.nodes = { identity, queues, workflow };
    this.registerOutputs({ workflowId: this.workflowId, startUrl: this.startUrl });
  }

  /** Data Receiver on the service's own command queue; nothing for services outside the saga. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Resource[] {
    const queue = this.nodes.queues[service];
    if (!queue) return [];
    return [grantRole(`${service}-receive-saga-${this.saga.name}`, { role: "serviceBusDataReceiver", scope: queue.id, principalId }, { parent })];
  }

  /**
   * What a participant reads its commands with (`SAGA_<NAME>_NAMESPACE`, `SAGA_<NAME>_COMMAND_QUEUE`)
   * and, for the initiator, where it starts a run (`SAGA_<NAME>_START_URL`).
   */
  environment(service: string): Record<string, pulumi.Input<string>> {
    const queue = this.saga.commandQueues.find((q) => q.service === service);
    if (!queue) return {};
    return {
      [sagaEnvName(this.saga.name, "NAMESPACE")]: this.namespaceHost,
      [sagaEnvName(this.saga.name, "COMMAND_QUEUE")]: queue.name,
      ...(this.saga.initiator === service ? { [sagaEnvName(this.saga.name, "START_URL")]: this.startUrl } : {}),
    };
  }
}
