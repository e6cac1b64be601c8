import { RemovalPolicy, aws_ec2 as ec2, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ApiGateway, type ApiGatewayAuth } from "../lib/cdk/api-gateway.js";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { SessionStore } from "../lib/cdk/session-store.js";
import { UserDirectory } from "../lib/cdk/user-pool.js";
import { meshAddOn } from "../lib/kubernetes/mesh.js";
import { namespaceManifests } from "../lib/kubernetes/namespace.js";
import { serviceNamed } from "../lib/plan/lookup.js";
import { pascalCase } from "../lib/plan/naming.js";
import type { LandingZonePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export interface PlatformStackProps extends PlanStackProps {
  /** The VPC from the network stack. */
  readonly vpc: ec2.IVpc;
}

/**
 * `<name>-<env>-platform`: the EKS platform, the API gateway with its load balancers, the session
 * store and the user directory. Publishes what service stacks need as SSM parameters.
 */
export class PlatformStack extends PlanStack {
  readonly platform: KubernetesPlatform;
  readonly gateway: ApiGateway;
  readonly sessions?: SessionStore;
  readonly users?: UserDirectory;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { plan, vpc } = props;
    const cluster = plan.cluster;
    if (!cluster) throw new Error(`PlatformStack: plan.tier is "${plan.tier}", which has no cluster. Fix: set tier to caas`);
    const retain = plan.protection.retain;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const mesh = meshAddOn(plan);

    this.platform = new KubernetesPlatform(this, "Platform", {
      vpc,
      clusterName: cluster.name,
      kubernetesVersion: cluster.kubernetesVersion,
      privateEndpoint: cluster.privateEndpoint,
      nodeInstanceType: cluster.nodeInstanceType,
      minNodes: cluster.minNodes,
      desiredNodes: cluster.desiredNodes,
      maxNodes: cluster.maxNodes,
      nodeDiskGiB: cluster.nodeDiskGiB,
      namespace: cluster.namespace,
      namespaceManifests: namespaceManifests(plan),
      repositories: Object.fromEntries(plan.services.map((s) => [s.name, s.repository])),
      ...(mesh ? { addOns: [mesh] } : {}),
      retain,
    });

    if (plan.gateway.auth === "jwt") this.users = new UserDirectory(this, "Users", { retain });
    this.gateway = new ApiGateway(this, "Gateway", {
      vpc,
      loadBalancers: plan.gateway.loadBalancers.map((lb) => ({
        index: lb.index,
        routes: lb.routes.map((r) => ({ path: r.path, target: r.target, port: r.port, priority: r.priority, healthCheckPath: healthPath(plan, r.target) })),
      })),
      auth: gatewayAuth(plan, this.users),
      waf: plan.gateway.waf,
      rateLimit: plan.gateway.rateLimit,
      accessLogs: plan.gateway.accessLogs,
      accessLogRetentionDays: plan.gateway.accessLogRetentionDays,
      workloadSecurityGroup: this.platform.workloadSecurityGroup,
      removalPolicy,
    });

    if (plan.sessions) {
      this.sessions = new SessionStore(this, "Sessions", {
        vpc,
        allowFrom: [this.platform.workloadSecurityGroup],
        nodeType: plan.sessions.nodeType,
        replicas: plan.sessions.replicas,
        multiAz: plan.sessions.multiAz,
        engineVersion: plan.sessions.engineVersion,
        port: plan.sessions.port,
        snapshotRetentionDays: plan.sessions.snapshotRetentionDays,
        removalPolicy,
      });
    }

    const publish = (id: string, parameterName: string, stringValue: string) => new ssm.StringParameter(this, id, { parameterName, stringValue });
    publish("ClusterNameParameter", sharedParameters.clusterName(plan), this.platform.cluster.clusterName);
    publish("KubectlServiceTokenParameter", sharedParameters.kubectlServiceToken(plan), this.platform.kubectlProvider.serviceToken);
    publish("KubectlRoleArnParameter", sharedParameters.kubectlRoleArn(plan), this.platform.kubectlProvider.role!.roleArn);
    publish("WorkloadSecurityGroupIdParameter", sharedParameters.workloadSecurityGroupId(plan), this.platform.workloadSecurityGroup.securityGroupId);
    for (const target of new Set(plan.gateway.routes.map((r) => r.target))) {
      publish(`${pascalCase(target)}TargetGroupParameter`, sharedParameters.targetGroupArn(plan, target), this.gateway.targetGroup(target).targetGroupArn);
    }
  }
}

function healthPath(plan: LandingZonePlan, target: string): string {
  return serviceNamed(plan, target)!.healthPath;
}

function gatewayAuth(plan: LandingZonePlan, users: UserDirectory | undefined): ApiGatewayAuth {
  switch (plan.gateway.auth) {
    case "none":
      return { kind: "none" };
    case "jwt":
      return { kind: "jwt", directory: users! };
    case "authorizer":
      throw new Error(`PlatformStack: gateway.auth "authorizer" has no CDK implementation yet. Fix: use gateway.auth jwt or none`);
  }
}
