import { RemovalPolicy, aws_ec2 as ec2, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ApiGateway, type ApiGatewayAuth } from "../lib/cdk/api-gateway.js";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { SessionStore } from "../lib/cdk/session-store.js";
import { UserDirectory } from "../lib/cdk/user-directory.js";
import { meshAddOn } from "../lib/kubernetes/mesh.js";
import { namespaceManifests } from "../lib/kubernetes/namespace.js";
import { secretsStoreAddOn } from "../lib/kubernetes/secrets-store.js";
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
    // Pods read their secrets (their own and the session token) through the Secrets Store CSI driver.
    const secretsStore = plan.sessions || plan.services.some((s) => s.secrets.length > 0) ? secretsStoreAddOn() : undefined;
    const addOns = [...(mesh ? [mesh] : []), ...(secretsStore ? [secretsStore] : [])];

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
      ...(addOns.length > 0 ? { addOns } : {}),
      retain,
    });

    if (plan.auth?.tokens?.provider === "user-pool") this.users = new UserDirectory(this, "Users", { retain });
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
    publish("ApiIdParameter", sharedParameters.apiId(plan), this.gateway.httpApi.apiId);
    for (const monitored of plan.monitoring?.services ?? []) {
      if (monitored.loadBalancerIndex === undefined) continue;
      // The first target group of a target sits on the first load balancer routing to it, as the plan monitors.
      const targetGroup = this.gateway.targetGroups(monitored.service)[0]!;
      publish(`${pascalCase(monitored.service)}TargetGroupMetricParameter`, sharedParameters.targetGroupMetricName(plan, monitored.service), targetGroup.targetGroupFullName);
      publish(`${pascalCase(monitored.service)}LoadBalancerMetricParameter`, sharedParameters.loadBalancerMetricName(plan, monitored.service), this.gateway.loadBalancers[monitored.loadBalancerIndex]!.loadBalancerFullName);
    }
    if (this.sessions) {
      publish("SessionEndpointParameter", sharedParameters.sessionEndpoint(plan), this.sessions.endpoint);
      publish("SessionPortParameter", sharedParameters.sessionPort(plan), String(this.sessions.port));
      publish("SessionAuthTokenArnParameter", sharedParameters.sessionAuthTokenArn(plan), this.sessions.authToken.secretArn);
    }
  }
}

function healthPath(plan: LandingZonePlan, target: string): string {
  return plan.services.find((s) => s.name === target)!.healthPath;
}

function gatewayAuth(plan: LandingZonePlan, users: UserDirectory | undefined): ApiGatewayAuth {
  const { tokens, authorizer } = plan.auth ?? {};
  if (authorizer) return { kind: "authorizer", target: authorizer.service, authorizePath: authorizer.authorizePath, cacheSeconds: authorizer.cacheSeconds };
  if (tokens?.provider === "external") return { kind: "jwt", issuer: tokens.issuer!, audience: tokens.audiences };
  if (tokens) return { kind: "jwt", directory: users! };
  return { kind: "none" };
}
