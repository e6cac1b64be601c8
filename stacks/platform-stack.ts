import { RemovalPolicy, Validations, aws_ec2 as ec2, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ApiGateway, type ApiGatewayAuth } from "../lib/cdk/api-gateway.js";
import { KubernetesPlatform } from "../lib/cdk/kubernetes-platform.js";
import { PaasPlatform } from "../lib/cdk/paas-platform.js";
import { SessionStore } from "../lib/cdk/session-store.js";
import { UserDirectory } from "../lib/cdk/user-directory.js";
import { VmPlatform } from "../lib/cdk/vm-platform.js";
import { meshAddOn } from "../lib/kubernetes/mesh.js";
import { namespaceManifests } from "../lib/kubernetes/namespace.js";
import { gatewayLoadBalancerAccess } from "../lib/kubernetes/target-group-binding.js";
import { secretsStoreAddOnOf } from "../lib/kubernetes/secrets-store.js";
import { BEANSTALK_INSTANCE_PORT } from "../lib/plan/host-bootstrap.js";
import { beanstalkApplicationName } from "../lib/plan/hosts.js";
import { serviceNamed } from "../lib/plan/lookup.js";
import type { LandingZonePlan } from "../lib/plan/types.js";
import { PlanStack, acknowledgeSingleZoneRedis, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export interface PlatformStackProps extends PlanStackProps {
  /** The VPC from the network stack. */
  readonly vpc: ec2.IVpc;
}

/** The compute platform of the plan's tier. */
export type ServicePlatform = KubernetesPlatform | VmPlatform | PaasPlatform;

/**
 * `<name>-<env>-platform`: the tier's platform (EKS for caas, the VM platform with its Cloud Map
 * namespace for iaas, the Elastic Beanstalk application for paas), the API gateway's load balancers,
 * the session store and the user directory. Publishes what service stacks need as SSM parameters;
 * each service attaches its own gateway routes from its own stack and keeps its registry in its
 * delivery stack, so this stack's size does not grow with the services (only by a load balancer
 * per listener's worth of routes).
 */
export class PlatformStack extends PlanStack {
  readonly platform: ServicePlatform;
  readonly gateway: ApiGateway;
  readonly sessions?: SessionStore;
  readonly users?: UserDirectory;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { plan, vpc } = props;
    const retain = plan.protection.retain;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const publish = (id: string, parameterName: string, stringValue: string) => new ssm.StringParameter(this, id, { parameterName, stringValue });

    this.platform = this.createPlatform(plan, vpc, retain);
    const workloadSecurityGroup = this.platform.workloadSecurityGroup;

    if (plan.auth?.tokens?.provider === "user-pool") this.users = new UserDirectory(this, "Users", { retain });
    this.gateway = new ApiGateway(this, "Gateway", {
      vpc,
      ...(plan.gateway.loadBalancerSubnets === "public" ? { loadBalancerSubnets: { subnetType: ec2.SubnetType.PUBLIC } } : {}),
      loadBalancers: plan.gateway.loadBalancers.map((lb) => ({
        index: lb.index,
        routes: lb.routes.map((r) => ({ path: r.path, target: r.target, port: r.port, priority: r.priority, healthCheckPath: healthPath(plan, r.target) })),
      })),
      attachment: "services",
      sharedWithBeanstalk: plan.tier === "paas",
      auth: gatewayAuth(plan, this.users),
      waf: plan.gateway.waf,
      rateLimit: plan.gateway.rateLimit,
      accessLogs: plan.gateway.accessLogs,
      accessLogRetentionDays: plan.gateway.accessLogRetentionDays,
      workloadSecurityGroup,
      loadBalancerDeletionProtection: plan.protection.deletionProtection,
      removalPolicy,
    });
    if (this.platform instanceof KubernetesPlatform) {
      // The pods admit the balancers' subnets before the balancers are placed (or moved) there.
      const access = this.platform.addManifests("GatewayLoadBalancerAccess", gatewayLoadBalancerAccess(plan));
      for (const loadBalancer of this.gateway.loadBalancers) loadBalancer.node.addDependency(access);
    }
    if (!plan.gateway.waf) {
      for (const loadBalancer of this.gateway.loadBalancers) {
        Validations.of(loadBalancer.node.defaultChild!).acknowledge({
          id: "NIST.800.53.R5::NIST.800.53.R5-ALBWAFEnabled",
          reason: "The spec turns the gateway's web ACL off (gateway.waf, on by default in prod only); the load balancer is internal and reached only through the HTTP API's throttled stage.",
        });
      }
    }
    if (!plan.protection.deletionProtection) {
      for (const loadBalancer of this.gateway.loadBalancers) {
        Validations.of(loadBalancer.node.defaultChild!).acknowledge({
          id: "NIST.800.53.R5::NIST.800.53.R5-ELBDeletionProtectionEnabled",
          reason: `The ${plan.environment} landing zone is not deletion-protected (plan.protection), so its stacks delete cleanly; the load balancer holds no data, and prod turns protection on.`,
        });
      }
    }
    if (this.platform instanceof PaasPlatform) {
      // Services call each other through the shared load balancers, by each environment's host name.
      this.gateway.securityGroup.connections.allowFrom(workloadSecurityGroup, ec2.Port.tcp(BEANSTALK_INSTANCE_PORT), "Services calling each other");
    }

    if (plan.sessions) {
      this.sessions = new SessionStore(this, "Sessions", {
        vpc,
        allowFrom: [workloadSecurityGroup],
        nodeType: plan.sessions.nodeType,
        replicas: plan.sessions.replicas,
        multiAz: plan.sessions.multiAz,
        engineVersion: plan.sessions.engineVersion,
        port: plan.sessions.port,
        snapshotRetentionDays: plan.sessions.snapshotRetentionDays,
        removalPolicy,
      });
      if (!plan.sessions.multiAz) acknowledgeSingleZoneRedis(this.sessions, plan);
    }

    if (this.platform instanceof KubernetesPlatform) {
      publish("ClusterNameParameter", sharedParameters.clusterName(plan), this.platform.cluster.clusterName);
      publish("KubectlServiceTokenParameter", sharedParameters.kubectlServiceToken(plan), this.platform.kubectlProvider.serviceToken);
      publish("KubectlRoleArnParameter", sharedParameters.kubectlRoleArn(plan), this.platform.kubectlProvider.role!.roleArn);
    }
    publish("WorkloadSecurityGroupIdParameter", sharedParameters.workloadSecurityGroupId(plan), workloadSecurityGroup.securityGroupId);
    if (this.platform instanceof VmPlatform && this.platform.namespace) {
      publish("DiscoveryNamespaceIdParameter", sharedParameters.discoveryNamespaceId(plan), this.platform.namespace.attrId);
      publish("DiscoveryHostedZoneIdParameter", sharedParameters.discoveryHostedZoneId(plan), this.platform.namespace.attrHostedZoneId);
    }
    if (this.platform instanceof PaasPlatform) {
      if (this.platform.namespace) publish("DiscoveryNamespaceIdParameter", sharedParameters.discoveryNamespaceId(plan), this.platform.namespace.attrId);
      publish("BeanstalkServiceRoleArnParameter", sharedParameters.paasServiceRoleArn(plan), this.platform.serviceRole.roleArn);
    }
    publish("GatewayApiIdParameter", sharedParameters.gatewayApiId(plan), this.gateway.httpApi.apiId);
    publish("GatewaySecurityGroupIdParameter", sharedParameters.gatewaySecurityGroupId(plan), this.gateway.securityGroup.securityGroupId);
    if (this.gateway.authorizer) publish("GatewayAuthorizerIdParameter", sharedParameters.gatewayAuthorizerId(plan), this.gateway.authorizer.authorizerId);
    plan.gateway.loadBalancers.forEach((lb, i) => {
      publish(`GatewayLoadBalancer${lb.index}ArnParameter`, sharedParameters.gatewayLoadBalancerArn(plan, lb.index), this.gateway.loadBalancers[i]!.loadBalancerArn);
      publish(`GatewayLoadBalancer${lb.index}ListenerArnParameter`, sharedParameters.gatewayListenerArn(plan, lb.index), this.gateway.listeners[i]!.listenerArn);
      publish(`GatewayLoadBalancer${lb.index}IntegrationIdParameter`, sharedParameters.gatewayIntegrationId(plan, lb.index), this.gateway.integrations[i]!.integrationId);
      // Services' dashboards and alarms name the load balancer in front of their target groups.
      if (plan.monitoring) publish(`GatewayLoadBalancer${lb.index}MetricNameParameter`, sharedParameters.gatewayLoadBalancerMetricName(plan, lb.index), this.gateway.loadBalancers[i]!.loadBalancerFullName);
    });
    if (this.sessions) {
      publish("SessionEndpointParameter", sharedParameters.sessionEndpoint(plan), this.sessions.endpoint);
      publish("SessionPortParameter", sharedParameters.sessionPort(plan), String(this.sessions.port));
      publish("SessionAuthTokenArnParameter", sharedParameters.sessionAuthTokenArn(plan), this.sessions.authToken.secretArn);
    }
  }

  private createPlatform(plan: LandingZonePlan, vpc: ec2.IVpc, retain: boolean): ServicePlatform {
    const namespace = plan.hosts?.discovery?.namespace;
    switch (plan.tier) {
      case "caas": {
        const cluster = plan.cluster!;
        const mesh = meshAddOn(plan);
        const secretsStore = secretsStoreAddOnOf(plan);
        const addOns = [...(mesh ? [mesh] : []), ...(secretsStore ? [secretsStore] : [])];
        return new KubernetesPlatform(this, "Platform", {
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
          ...(addOns.length > 0 ? { addOns } : {}),
          logEncryptionKey: this.logKey,
          retain,
        });
      }
      case "iaas":
        return new VmPlatform(this, "Platform", { vpc, ...(namespace ? { namespace } : {}), retain });
      case "paas":
        return new PaasPlatform(this, "Platform", { vpc, applicationName: beanstalkApplicationName(plan), ...(namespace ? { namespace } : {}), retain });
    }
  }
}

function healthPath(plan: LandingZonePlan, target: string): string {
  return serviceNamed(plan, target)!.healthPath;
}

function gatewayAuth(plan: LandingZonePlan, users: UserDirectory | undefined): ApiGatewayAuth {
  const { tokens, authorizer } = plan.auth ?? {};
  if (authorizer) {
    return { kind: "authorizer", target: authorizer.service, authorizePath: authorizer.authorizePath, cacheSeconds: authorizer.cacheSeconds };
  }
  if (tokens?.provider === "external") return { kind: "jwt", issuer: tokens.issuer!, audience: tokens.audiences };
  if (tokens) return { kind: "jwt", directory: users! };
  return { kind: "none" };
}
