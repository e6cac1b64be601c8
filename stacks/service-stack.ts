import { aws_ecr as ecr, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { ServiceWorkload, type ServiceMessagingArns } from "../lib/cdk/service-workload.js";
import { workloadNamespace } from "../lib/kubernetes/namespace.js";
import { isRouted, serviceNamed, specImageOf, subscriptionsOf } from "../lib/plan/lookup.js";
import type { LandingZonePlan, ServicePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export interface ServiceStackProps extends PlanStackProps {
  /** The service or BFF this stack deploys. */
  readonly serviceName: string;
}

/**
 * `<name>-<env>-svc-<service>`: one service, deployable on its own. Every shared value (cluster,
 * kubectl provider, target group, topics, queues) is an SSM parameter resolved at deploy time,
 * never a CloudFormation export.
 */
export class ServiceStack extends PlanStack {
  readonly workload: ServiceWorkload;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { plan, serviceName } = props;
    const service = serviceNamed(plan, serviceName);
    if (!service) throw new Error(`ServiceStack: serviceName "${serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    const read = (parameterName: string) => ssm.StringParameter.valueForStringParameter(this, parameterName);

    const target = KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
      clusterName: read(sharedParameters.clusterName(plan)),
      kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
      namespace: workloadNamespace(plan),
    });
    const subscriptions = subscriptionsOf(plan, service.name);
    const messagingArns: ServiceMessagingArns | undefined =
      service.publishes.length > 0 || subscriptions.length > 0
        ? {
            topicArns: Object.fromEntries(service.publishes.map((event) => [event, read(sharedParameters.topicArn(plan, event))])),
            queueArns: Object.fromEntries(subscriptions.map((s) => [s.name, read(sharedParameters.queueArn(plan, s.name))])),
            encryptionKeyArn: read(sharedParameters.brokerKeyArn(plan)),
          }
        : undefined;
    const exposed = isRouted(plan, service.name);

    this.workload = new ServiceWorkload(this, "Workload", {
      target,
      plan,
      serviceName,
      image: imageOf(this, plan, service),
      ...(exposed ? { targetGroupArn: read(sharedParameters.targetGroupArn(plan, service.name)) } : {}),
      ...(messagingArns ? { messagingArns } : {}),
    });
  }
}

/** The spec's image when it names one; otherwise the service's own ECR repository. */
function imageOf(scope: Construct, plan: LandingZonePlan, service: ServicePlan): string {
  const explicit = specImageOf(plan, service.name);
  if (explicit) return explicit;
  const tag = service.image.slice(service.image.lastIndexOf(":") + 1);
  return ecr.Repository.fromRepositoryName(scope, "Repository", service.repository).repositoryUriForTag(tag);
}
