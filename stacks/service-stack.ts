import { RemovalPolicy, aws_ecr as ecr, aws_sns as sns, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ConfigStore } from "../lib/cdk/config-store.js";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { Monitoring } from "../lib/cdk/monitoring.js";
import { ServiceWorkload, type ServiceMessagingArns } from "../lib/cdk/service-workload.js";
import { workloadNamespace } from "../lib/kubernetes/namespace.js";
import { serviceConfigOf } from "../lib/plan/config-store.js";
import { cloudWatchMonitors } from "../lib/plan/monitoring.js";
import type { LandingZonePlan, ServicePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export interface ServiceStackProps extends PlanStackProps {
  /** The service or BFF this stack deploys. */
  readonly serviceName: string;
}

/**
 * `<name>-<env>-svc-<service>`: one service, deployable on its own: its configuration store, its
 * workload, and its dashboard and alarms. Every shared value (cluster, kubectl provider, target
 * group, topics, queues, session store, alarm topic) is an SSM parameter resolved at deploy time,
 * never a CloudFormation export.
 */
export class ServiceStack extends PlanStack {
  readonly workload: ServiceWorkload;
  /** The service's parameters and secrets, when it has any. */
  readonly configStore?: ConfigStore;
  /** The service's dashboard and alarms, when the plan monitors. */
  readonly monitoring?: Monitoring;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { plan, serviceName } = props;
    const service = plan.services.find((s) => s.name === serviceName);
    if (!service) throw new Error(`ServiceStack: serviceName "${serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    const read = (parameterName: string) => ssm.StringParameter.valueForStringParameter(this, parameterName);

    const target = KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
      clusterName: read(sharedParameters.clusterName(plan)),
      kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
      namespace: workloadNamespace(plan),
    });
    const subscriptions = (plan.broker?.topics ?? []).flatMap((t) => t.subscriptions.filter((s) => s.subscriber === service.name));
    const messagingArns: ServiceMessagingArns | undefined =
      service.publishes.length > 0 || subscriptions.length > 0
        ? {
            topicArns: Object.fromEntries(service.publishes.map((event) => [event, read(sharedParameters.topicArn(plan, event))])),
            queueArns: Object.fromEntries(subscriptions.map((s) => [s.name, read(sharedParameters.queueArn(plan, s.name))])),
            encryptionKeyArn: read(sharedParameters.brokerKeyArn(plan)),
          }
        : undefined;
    const exposed = plan.gateway.routes.some((r) => r.target === service.name);
    const config = plan.configStore ? serviceConfigOf(plan.configStore, service.name) : undefined;
    if (config && (config.parameters.length > 0 || config.secrets.length > 0)) {
      this.configStore = new ConfigStore(this, "Config", { config, removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
    }

    this.workload = new ServiceWorkload(this, "Workload", {
      target,
      plan,
      serviceName,
      image: imageOf(this, plan, service),
      ...(exposed ? { targetGroupArn: read(sharedParameters.targetGroupArn(plan, service.name)) } : {}),
      ...(messagingArns ? { messagingArns } : {}),
      ...(this.configStore ? { configStore: this.configStore } : {}),
      ...(plan.sessions
        ? {
            sessionStore: {
              endpoint: read(sharedParameters.sessionEndpoint(plan)),
              port: read(sharedParameters.sessionPort(plan)),
              authTokenSecretArn: read(sharedParameters.sessionAuthTokenArn(plan)),
            },
          }
        : {}),
    });

    const monitor = cloudWatchMonitors(plan).find((m) => m.name === service.name);
    if (monitor && plan.monitoring) {
      const dimensions = {
        ...(monitor.dimensions.includes("targetGroup") ? { targetGroup: read(sharedParameters.targetGroupMetricName(plan, service.name)) } : {}),
        ...(monitor.dimensions.includes("loadBalancer") ? { loadBalancer: read(sharedParameters.loadBalancerMetricName(plan, service.name)) } : {}),
        ...(monitor.dimensions.includes("clusterName") ? { clusterName: read(sharedParameters.clusterName(plan)) } : {}),
      };
      this.monitoring = new Monitoring(this, "Monitoring", {
        alarmTopic: sns.Topic.fromTopicArn(this, "AlarmTopic", read(sharedParameters.alarmTopicArn(plan))),
        monitors: [monitor],
        dimensions: { [service.name]: dimensions },
        dashboards: plan.monitoring.dashboards,
      });
    }
  }
}

/** The spec's image when it names one; otherwise the service's own ECR repository. */
function imageOf(scope: Construct, plan: LandingZonePlan, service: ServicePlan): string {
  const explicit = [...plan.spec.services, ...plan.spec.bffs].find((s) => s.name === service.name)?.image;
  if (explicit) return explicit;
  const tag = service.image.slice(service.image.lastIndexOf(":") + 1);
  return ecr.Repository.fromRepositoryName(scope, "Repository", service.repository).repositoryUriForTag(tag);
}
