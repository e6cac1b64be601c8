import { Duration, Validations, aws_apigatewayv2 as apigwv2, aws_elasticloadbalancingv2 as elbv2 } from "aws-cdk-lib";
import { Construct } from "constructs";
import { apiRoutePaths, loadBalancerPathPatterns } from "../plan/gateway-paths.js";

/** One route of the service, on the load balancer the plan put it on. */
export interface GatewayRoutesRoute {
  /** Path prefix at the gateway, such as `/orders`. */
  readonly path: string;
  /** Index of the gateway load balancer (the plan's `gateway.loadBalancers[].index`). */
  readonly loadBalancer: number;
  /** Listener-rule priority, unique on that load balancer. */
  readonly priority: number;
  /**
   * Whether the route needs HTTP API routes of its own. False when the gateway's catch-all routes
   * reach its load balancer under the same authorizer (`ApiGateway.defaultLoadBalancer`), so only
   * the listener rule is added.
   * @default true
   */
  readonly ownApiRoutes?: boolean;
}

/** What the service needs of one gateway load balancer, typically read from SSM parameters. */
export interface GatewayLoadBalancerAttachment {
  /** Index of the load balancer (the plan's `gateway.loadBalancers[].index`). */
  readonly index: number;
  /**
   * ARN of its path listener (the target-group kind adds its rules there).
   * @default - none: the environment kind adds no rule here
   */
  readonly listenerArn?: string;
  /**
   * Id of the HTTP API integration forwarding to that listener, which routes with their own API routes use.
   * @default - none: every route on it has `ownApiRoutes: false`
   */
  readonly integrationId?: string;
}

/** Requests reach the service's pods (ip) or instances (instance) through a target group per load balancer. */
export interface GatewayRoutesTargetGroups {
  /** Target groups and path rules of the gateway's own. */
  readonly kind: "target-group";
  /** Pods register by IP (caas), instances by id (iaas). */
  readonly targetType: "ip" | "instance";
  /** VPC of the target group. */
  readonly vpcId: string;
  /** Port the targets listen on. */
  readonly port: number;
  /** Health check path of the targets. */
  readonly healthCheckPath: string;
}

/**
 * Requests reach an Elastic Beanstalk environment on a shared load balancer. Its own stack adds its
 * target group and its path rules (the extension `beanstalkBundle` writes), so only HTTP API routes
 * are added here, to the load balancer's integration.
 */
export interface GatewayRoutesEnvironment {
  /** The environment brings target group and path rules. */
  readonly kind: "environment";
}

export interface GatewayRoutesProps {
  /**
   * Id of the gateway's HTTP API.
   * @default - none: every route has `ownApiRoutes: false`
   */
  readonly apiId?: string;
  /** The service's routes, as the plan's `gateway.routes` give them. */
  readonly routes: readonly GatewayRoutesRoute[];
  /** The gateway load balancers its routes are on. */
  readonly loadBalancers: readonly GatewayLoadBalancerAttachment[];
  /** How requests reach the service behind the load balancer. */
  readonly target: GatewayRoutesTargetGroups | GatewayRoutesEnvironment;
  /**
   * Authorizer of the routes: JWT or a Lambda request authorizer, by id.
   * @default - no authorization at the gateway
   */
  readonly authorizer?: { readonly kind: "jwt" | "lambda"; readonly authorizerId: string };
  /**
   * Without an authorizer: why the routes may be called without a token, recorded as the
   * acknowledgement of AWS Solutions' APIG4 on each route.
   * @default - none: unauthenticated routes are reported by the compliance checks
   */
  readonly unauthenticatedReason?: string;
}

/**
 * One service's share of the `ApiGateway` (built with `attachment: "services"`): its target group
 * on each load balancer its routes use, a listener rule per route at the planned priority, and the
 * HTTP API routes (`ANY <path>` and `ANY <path>/{proxy+}`) to the load balancer's integration,
 * unless the gateway's catch-all routes already reach it (`ownApiRoutes: false`). An Elastic
 * Beanstalk environment brings its own target group and rules (`kind: "environment"`), so it gets
 * only the API routes. Living in the service's stack, it changes only with the service.
 *
 * @example
 * new GatewayRoutes(stack, "Gateway", {
 *   apiId, routes: [{ path: "/orders", loadBalancer: 0, priority: 1 }],
 *   loadBalancers: [{ index: 0, listenerArn, integrationId }],
 *   target: { kind: "target-group", targetType: "instance", vpcId, port: 8080, healthCheckPath: "/health" },
 * });
 */
export class GatewayRoutes extends Construct {
  /** Target group per load balancer index (target-group kind). */
  readonly targetGroups: ReadonlyMap<number, elbv2.CfnTargetGroup>;

  constructor(scope: Construct, id: string, props: GatewayRoutesProps) {
    super(scope, id);
    if (props.routes.length === 0) throw new Error(`GatewayRoutes ${this.node.path}: routes is empty. Fix: give the service's routes, or leave GatewayRoutes out`);
    const apiId = props.apiId;
    if (apiId === undefined && props.routes.some((r) => r.ownApiRoutes !== false)) {
      throw new Error(`GatewayRoutes ${this.node.path}: apiId is undefined, but routes need HTTP API routes of their own. Fix: pass the gateway's API id, or set ownApiRoutes: false on routes the catch-all serves`);
    }
    const byIndex = new Map(props.loadBalancers.map((lb) => [lb.index, lb]));
    const loadBalancerOf = (route: GatewayRoutesRoute) => {
      const lb = byIndex.get(route.loadBalancer);
      if (!lb) throw new Error(`GatewayRoutes ${this.node.path}: route "${route.path}" is on load balancer ${route.loadBalancer}, which loadBalancers lacks. Fix: pass its listener and integration`);
      return lb;
    };
    const targetGroups = new Map<number, elbv2.CfnTargetGroup>();
    const { target } = props;

    for (const route of props.routes) {
      const lb = loadBalancerOf(route);
      if (target.kind === "target-group") {
        if (lb.listenerArn === undefined) {
          throw new Error(`GatewayRoutes ${this.node.path}: loadBalancers[index ${lb.index}].listenerArn is undefined, but target-group routes add their rules to it. Fix: pass the load balancer's path listener`);
        }
        let targetGroup = targetGroups.get(lb.index);
        if (!targetGroup) {
          targetGroup = new elbv2.CfnTargetGroup(this, `TargetGroup${lb.index}`, {
            vpcId: target.vpcId,
            port: target.port,
            protocol: "HTTP",
            targetType: target.targetType,
            healthCheckEnabled: true,
            healthCheckPath: target.healthCheckPath,
            healthCheckProtocol: "HTTP",
            healthCheckIntervalSeconds: 15,
            healthyThresholdCount: 2,
            unhealthyThresholdCount: 3,
            matcher: { httpCode: "200-399" },
            targetGroupAttributes: [{ key: "deregistration_delay.timeout_seconds", value: String(Duration.seconds(30).toSeconds()) }],
          });
          targetGroups.set(lb.index, targetGroup);
        }
        new elbv2.CfnListenerRule(this, `Rule${lb.index}x${route.priority}`, {
          listenerArn: lb.listenerArn,
          priority: route.priority,
          conditions: [{ field: "path-pattern", pathPatternConfig: { values: loadBalancerPathPatterns(route.path) } }],
          actions: [{ type: "forward", targetGroupArn: targetGroup.ref }],
        });
      }
      if (route.ownApiRoutes === false) continue;
      if (lb.integrationId === undefined) {
        throw new Error(`GatewayRoutes ${this.node.path}: loadBalancers[index ${lb.index}].integrationId is undefined, but route "${route.path}" has API routes of its own to the load balancer's integration. Fix: pass the integration id`);
      }
      for (const [suffix, path] of apiRoutePaths(route.path).map((p, k) => [k === 0 ? "" : "Proxy", p] as const)) {
        const apiRoute = new apigwv2.CfnRoute(this, `Route${routeId(route.path)}${suffix}`, {
          apiId: apiId!,
          routeKey: `ANY ${path}`,
          target: `integrations/${lb.integrationId}`,
          ...(props.authorizer
            ? { authorizationType: props.authorizer.kind === "jwt" ? "JWT" : "CUSTOM", authorizerId: props.authorizer.authorizerId }
            : { authorizationType: "NONE" }),
        });
        if (!props.authorizer && props.unauthenticatedReason) Validations.of(apiRoute).acknowledge({ id: "AwsSolutions::AwsSolutions-APIG4", reason: props.unauthenticatedReason });
      }
    }
    this.targetGroups = targetGroups;
  }

  /** ARNs of the service's target groups, to register its instances or pods in. */
  get targetGroupArns(): string[] {
    return [...this.targetGroups.values()].map((t) => t.ref);
  }
}


/** `/api/orders` → `ApiOrders`: stable per path, so a route's resources keep their logical ids. */
function routeId(path: string): string {
  const id = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
  return id === "" ? "Root" : id;
}
