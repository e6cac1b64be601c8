import { RemovalPolicy, aws_iam as iam, type aws_logs as logs } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { ServiceDelivery, type ServiceDeliveryProps } from "../lib/cdk/service-delivery.js";
import { deployerRbac } from "../lib/kubernetes/delivery.js";
import { workloadNamespace } from "../lib/kubernetes/namespace.js";
import { plannedBeanstalkBundle } from "../lib/plan/beanstalk-release.js";
import { repositoryFullName, type DeliveryPlan, type ServiceDeliveryPlan } from "../lib/plan/delivery.js";
import { serviceNamed } from "../lib/plan/lookup.js";
import type { LandingZonePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { importPrivateVpc, readParameter, sharedParameters } from "./shared-parameters.js";

export interface ServiceDeliveryStackProps extends PlanStackProps {
  /** The service or BFF whose registry (and pipeline) this stack holds. */
  readonly serviceName: string;
}

/**
 * `<name>-<env>-delivery-<service>`: the service's ECR repository, and with `pipelines.perService`
 * its pipeline (or GitHub OIDC roles) and deploy project pushing to it. Every service has one, so
 * the platform stack holds no registry and stays the same size as services are added; deploy it
 * and push the first image before the service's stack, which runs that image. Reads shared values
 * (VPC, cluster, connection, OIDC provider) from SSM parameters, so adding a service adds this stack
 * and its service stack and changes no other.
 */
export class ServiceDeliveryStack extends PlanStack {
  readonly delivery: ServiceDelivery;

  constructor(scope: Construct, id: string, props: ServiceDeliveryStackProps) {
    super(scope, id, props);
    const { plan, serviceName } = props;
    const service = serviceNamed(plan, serviceName);
    if (!service) throw new Error(`ServiceDeliveryStack: serviceName "${serviceName}" is not in the plan. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    const removalPolicy = plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const delivery = plan.delivery;
    const planned = delivery?.services.find((s) => s.service === serviceName);
    if (delivery && !planned) throw new Error(`ServiceDeliveryStack: the plan has pipelines but none for "${serviceName}". Fix: plan the landing zone with planLandingZone, which gives every service one`);
    this.delivery = new ServiceDelivery(this, "Delivery", {
      serviceName,
      // Created here, under its planned name, which the pipeline, the service's image and its instances' pull rights use.
      repositoryName: service.repository,
      ...(delivery && planned ? this.pipelineOf(plan, delivery, planned) : {}),
      removalPolicy,
    });
  }

  /** The pipeline or GitHub roles and the deploy target of a planned delivery. */
  private pipelineOf(plan: LandingZonePlan, delivery: DeliveryPlan, planned: ServiceDeliveryPlan): Omit<ServiceDeliveryProps, "serviceName"> {
    const read = (name: string) => readParameter(this, name);
    const source = delivery.provider === "native" ? { connectionArn: delivery.connectionArn ?? read(sharedParameters.connectionArn(plan)), owner: planned.source.owner!, repository: planned.source.name, branch: planned.source.branch } : undefined;
    const github =
      delivery.provider === "github-actions"
        ? {
            oidcProvider: iam.OidcProviderNative.fromOidcProviderArn(this, "GitHubOidcProvider", delivery.githubOidcProviderArn ?? read(sharedParameters.githubOidcProviderArn(plan))),
            publishSubject: planned.github.publishSubject!,
            deploySubject: planned.github.deploySubject!,
            publishRoleName: planned.names.publishRole,
            deployRoleName: planned.names.deployRole,
          }
        : undefined;
    // The planner refuses an engine plan without an owner; this names the prop if the plan was built by hand.
    repositoryFullName(planned.source);
    return {
      ...(source ? { source } : {}),
      ...(github ? { github } : {}),
      deploy: this.deployTargetOf(plan, planned),
      approval: planned.approval,
      testCommand: delivery.testCommand,
      releaseParameterName: planned.releaseParameter,
      logRetention: delivery.logRetentionDays as logs.RetentionDays,
      logEncryptionKey: this.logKey,
      names: { pipeline: planned.names.pipeline, buildProject: planned.names.buildProject, deployProject: planned.names.deployProject },
    };
  }

  /** caas: the service's Deployment in the shared cluster; iaas: its Auto Scaling group; paas: its Beanstalk environment. */
  private deployTargetOf(plan: LandingZonePlan, planned: ServiceDeliveryPlan): NonNullable<ServiceDeliveryProps["deploy"]> {
    if (planned.deploy.kind === "vm-rollout" && planned.deploy.autoScalingGroup) return { autoScalingGroupName: planned.deploy.autoScalingGroup };
    if (planned.deploy.kind === "app-platform-release" && planned.deploy.beanstalk) {
      // The service stack builds its environment's first bundle from the same plan.
      const bundle = plannedBeanstalkBundle(plan, serviceNamed(plan, planned.service)!);
      return { applicationName: planned.deploy.beanstalk.application, environmentName: planned.deploy.beanstalk.environment, bundle };
    }
    if (planned.deploy.kind !== "kubernetes-rollout") {
      throw new Error(`ServiceDeliveryStack: deploying to "${planned.deploy.kind}" (tier ${plan.tier}) has no CDK implementation yet. Fix: set tier: caas, iaas or paas, or pipelines.perService: false`);
    }
    const read = (name: string) => readParameter(this, name);
    const vpc = importPrivateVpc(this, plan, "The deploy project only places its network interfaces in these subnets; nothing here reads their route tables");
    const target = KubernetesPlatform.fromPlatformAttributes(this, "Platform", {
      clusterName: read(sharedParameters.clusterName(plan)),
      kubectlServiceToken: read(sharedParameters.kubectlServiceToken(plan)),
      workloadSecurityGroupId: read(sharedParameters.workloadSecurityGroupId(plan)),
      namespace: workloadNamespace(plan),
    });
    return {
      clusterName: read(sharedParameters.clusterName(plan)),
      namespace: planned.deploy.namespace,
      deployment: planned.deploy.deployment,
      container: planned.deploy.container,
      kubernetesGroup: planned.deploy.kubernetesGroup,
      vpc,
      clusterSecurityGroup: target.workloadSecurityGroup,
      target,
      rbac: deployerRbac(plan, planned),
    };
  }
}
