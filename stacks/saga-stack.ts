import { RemovalPolicy, aws_kms as kms, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { SagaOrchestrator } from "../lib/cdk/saga-orchestrator.js";
import { pascalCase } from "../lib/plan/naming.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export type SagaStackProps = PlanStackProps;

/**
 * `<name>-<env>-sagas`: a Step Functions state machine per orchestrated saga with the command queue
 * of each service taking part, under one key. Publishes the state machine, queue and key ARNs as
 * SSM parameters; each service stack grants its own role its queue and tasks.
 */
export class SagaStack extends PlanStack {
  /** Saga name → its orchestrator. */
  readonly orchestrators: ReadonlyMap<string, SagaOrchestrator>;
  readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: SagaStackProps) {
    super(scope, id, props);
    const { plan } = props;
    const sagas = plan.sagas.filter((s) => s.mode === "orchestration");
    if (sagas.length === 0) throw new Error(`SagaStack: the plan has no orchestrated saga. Fix: leave this stack out, or set sagas[].mode: orchestration`);
    const removalPolicy = plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.encryptionKey = new kms.Key(this, "Key", { description: `Encrypts the saga commands and logs of ${plan.name}-${plan.environment}`, enableKeyRotation: true, removalPolicy });

    const publish = (id: string, parameterName: string, stringValue: string) => new ssm.StringParameter(this, id, { parameterName, stringValue });
    publish("KeyArnParameter", sharedParameters.sagaKeyArn(plan), this.encryptionKey.keyArn);
    const orchestrators = new Map<string, SagaOrchestrator>();
    for (const saga of sagas) {
      const id = pascalCase(saga.name);
      const orchestrator = new SagaOrchestrator(this, id, {
        saga,
        encryptionKey: this.encryptionKey,
        maxReceiveCount: plan.spec.messaging.maxReceiveCount,
        restrictToServices: true,
        removalPolicy,
      });
      orchestrators.set(saga.name, orchestrator);
      publish(`${id}StateMachineArnParameter`, sharedParameters.sagaStateMachineArn(plan, saga.name), orchestrator.stateMachine.stateMachineArn);
      for (const { service } of saga.commandQueues) {
        const queue = orchestrator.commandQueue(service);
        publish(`${id}${pascalCase(service)}QueueArnParameter`, sharedParameters.sagaQueueArn(plan, saga.name, service), queue.queueArn);
        publish(`${id}${pascalCase(service)}QueueUrlParameter`, sharedParameters.sagaQueueUrl(plan, saga.name, service), queue.queueUrl);
      }
    }
    this.orchestrators = orchestrators;
  }
}
