import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AUTHORIZER_HANDLER_SOURCE, authorizerPolicyStatements, type AuthorizerPlan } from "../../plan/auth.js";
import { physicalName } from "../../plan/naming.js";
import type { GatewayPlan, LoadBalancerPlan, RoutePlan } from "../../plan/types.js";
import { WAF_MANAGED_RULE_GROUPS, wafRateLimit, wafRateRule } from "../../plan/waf.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";
import { dependencyList } from "../kubernetes/dependencies.js";
import { UserDirectory } from "./user-directory.js";
import { BEANSTALK_PATH_LISTENER_PORT, GATEWAY_LISTENER_PORT, HTTP_API_ACCESS_LOG_FIELDS, apiRoutePaths, httpApiRouteLayout, loadBalancerPathPatterns } from "../../plan/gateway-paths.js";

/** Where the JWT authorizer gets its tokens checked against; a {@link UserDirectory} fits. */
export interface JwtIssuer {
  /** Token issuer URL. */
  readonly issuerUrl: pulumi.Input<string>;
  /**
   * Accepted audience (app client id).
   * @default - `audiences`
   */
  readonly clientId?: pulumi.Input<string>;
  /**
   * Accepted audiences, for an issuer with several clients.
   * @default - [clientId]
   */
  readonly audiences?: readonly pulumi.Input<string>[];
}

/** Requests reach pods (ip) or instances (instance) through a target group and a path rule per route. */
export interface ApiGatewayTargetGroups {
  /** Target groups and path rules of the gateway's own. */
  readonly kind: "target-group";
  /**
   * Target type of the target groups.
   * @default "ip"
   */
  readonly targetType?: "ip" | "instance";
}

/**
 * Elastic Beanstalk environments share the load balancers (`aws:elbv2:loadbalancer`
 * `SharedLoadBalancer`). Beanstalk puts each environment's host rule on the port-80 listener and
 * numbers those rules itself, so the API and the path rules, which each environment adds from its
 * own bundle, use a listener of their own on `BEANSTALK_PATH_LISTENER_PORT`; the gateway creates no
 * target group or rule.
 */
export interface ApiGatewayBeanstalkTargets {
  /** Beanstalk environments bring their target groups and path rules. */
  readonly kind: "beanstalk";
  /** Port every environment's instances serve on; each load balancer reaches the workload security group on it. */
  readonly instancePort: number;
}

export interface ApiGatewayArgs {
  /** Routes, their split over load balancers, auth, WAF, rate limit and access logs (`plan.gateway`). */
  readonly gateway: GatewayPlan;
  /** Prefix of physical names, `<zone>-<environment>`: load balancers are `<prefix>-lb`, `<prefix>-lb-1`, ... */
  readonly namePrefix: string;
  /** VPC of the internal load balancers and the VPC link. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets for the VPC link and the authorizer, and for the internal load balancers unless `loadBalancerSubnetIds` is given. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Subnets of the internal load balancers. The landing zone puts them in the public subnets on EKS
   * (`plan.gateway.loadBalancerSubnets`), where no pod lives, so the pods they target can admit them
   * by range and nothing else (`gatewayLoadBalancerAccess`); they stay internal, with no public address.
   * @default - `privateSubnetIds`
   */
  readonly loadBalancerSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Security group of the pods the target groups reach; it gets an ingress rule from the load balancers on each target port.
   * @default - no rule (add one yourself)
   */
  readonly workloadSecurityGroupId?: pulumi.Input<string>;
  /**
   * Health check path per route target (service or BFF name).
   * @default - "/health" for every target
   */
  readonly healthCheckPaths?: Readonly<Record<string, string>>;
  /**
   * How requests reach the route targets behind the load balancers.
   * @default { kind: "target-group", targetType: "ip" }
   */
  readonly targets?: ApiGatewayTargetGroups | ApiGatewayBeanstalkTargets;
  /**
   * Token issuer for `gateway.auth: jwt`.
   * @default - a new {@link UserDirectory} child when auth is jwt
   */
  readonly jwtIssuer?: JwtIssuer;
  /**
   * The dedicated auth service for `gateway.auth: authorizer` (`plan.auth.authorizer`): a Lambda REQUEST
   * authorizer in the private subnets asks it through its internal load balancer; its own routes stay open.
   * @default - required when gateway.auth is authorizer
   */
  readonly authorizer?: AuthorizerPlan;
  /**
   * Deletion protection on the load balancers and the directory; `protect` on the access log group (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly api?: (args: aws.apigatewayv2.ApiArgs) => void;
    readonly stage?: (args: aws.apigatewayv2.StageArgs) => void;
    readonly loadBalancer?: (args: aws.lb.LoadBalancerArgs, index: number) => void;
    readonly targetGroup?: (args: aws.lb.TargetGroupArgs, target: string) => void;
    readonly webAcl?: (args: aws.wafv2.WebAclArgs) => void;
    readonly authorizerFunction?: (args: aws.lambda.FunctionArgs) => void;
  };
}

/** The Lambda REQUEST authorizer of a gateway that delegates to an auth service. */
export interface GatewayAuthorizerNodes {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly authorizer: aws.apigatewayv2.Authorizer;
}

/** One internal load balancer with its listeners and target groups. */
export interface GatewayLoadBalancerNodes {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly securityGroup: aws.ec2.SecurityGroup;
  /** The listener the API reaches, whose rules route by path. */
  readonly listener: aws.lb.Listener;
  /** Beanstalk targets: the port-80 listener, where Beanstalk's host rules go. */
  readonly environmentListener?: aws.lb.Listener;
  readonly targetGroups: Readonly<Record<string, aws.lb.TargetGroup>>;
  readonly integration: aws.apigatewayv2.Integration;
}

/**
 * The front door: an HTTP API (API Gateway v2) with a VPC link to internal Application Load
 * Balancers in private subnets, one IP target group per service or BFF (pods are bound to it by the
 * AWS Load Balancer Controller), path rules with the planned priorities, throttling, KMS-encrypted
 * access logs, a JWT authorizer (Cognito or an external issuer) or a Lambda authorizer delegating to
 * the auth service, and a WAF web ACL on each load balancer (HTTP APIs take none). The API sends
 * what it has no route for to the first load balancer (`ANY /`, `ANY /{proxy+}`), whose rules route
 * by path; only routes elsewhere get API routes of their own, so 200 services fit the API's quota of
 * 300 routes (`httpApiRouteLayout`).
 *
 * @example
 * const gateway = new ApiGateway("shop-gateway", {
 *   gateway: plan.gateway, namePrefix: "shop-dev", vpcId: network.vpcId,
 *   privateSubnetIds: network.privateSubnetIds, workloadSecurityGroupId: platform.workloadSecurityGroupId,
 * });
 */
export class ApiGateway extends pulumi.ComponentResource {
  private readonly loadBalancerDependencies: pulumi.Input<pulumi.Resource>[];
  /** Invoke URL of the `$default` stage. */
  readonly url: pulumi.Output<string>;
  readonly apiId: pulumi.Output<string>;
  /** Target group ARNs per route target, one per load balancer that routes to it (usually one). */
  readonly targetGroupArns: Readonly<Record<string, pulumi.Output<string>[]>>;
  readonly loadBalancerArns: pulumi.Output<string>[];
  /** Security group of the VPC link; only it reaches the load balancers. */
  readonly vpcLinkSecurityGroupId: pulumi.Output<string>;
  readonly nodes: {
    readonly api: aws.apigatewayv2.Api;
    readonly vpcLink: aws.apigatewayv2.VpcLink;
    readonly vpcLinkSecurityGroup: aws.ec2.SecurityGroup;
    readonly stage: aws.apigatewayv2.Stage;
    readonly accessLogGroup?: aws.cloudwatch.LogGroup;
    readonly authorizer?: aws.apigatewayv2.Authorizer;
    readonly requestAuthorizer?: GatewayAuthorizerNodes;
    readonly userDirectory?: UserDirectory;
    readonly webAcl?: aws.wafv2.WebAcl;
    readonly loadBalancers: readonly GatewayLoadBalancerNodes[];
  };

  constructor(name: string, args: ApiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { gateway } = args;
    if (gateway.auth === "authorizer") {
      const authorizer = args.authorizer;
      if (!authorizer) throw new Error(`ApiGateway ${name}: gateway.auth is "authorizer" but args.authorizer is undefined. Fix: pass plan.auth.authorizer`);
      if (!gateway.loadBalancers.some((lb) => lb.routes.some((r) => r.target === authorizer.service))) {
        throw new Error(`ApiGateway ${name}: authorizer.service "${authorizer.service}" has no route on this gateway, so the authorizer cannot reach it. Fix: expose the auth service (expose: true)`);
      }
    }
    if (args.jwtIssuer && args.jwtIssuer.clientId === undefined && (args.jwtIssuer.audiences ?? []).length === 0) {
      throw new Error(`ApiGateway ${name}: jwtIssuer has neither clientId nor audiences; an HTTP API JWT authorizer accepts only listed audiences. Fix: pass the audiences of the issuer's tokens`);
    }
    checkPriorities(name, gateway.loadBalancers);
    const targets = args.targets ?? { kind: "target-group" };
    super("msa:aws:ApiGateway", name, {}, opts);
    // Pulumi does not make a component's children wait for its dependencies; the load balancers do.
    this.loadBalancerDependencies = dependencyList(opts?.dependsOn);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;

    const vpcLinkSecurityGroup = new aws.ec2.SecurityGroup(`${name}-vpc-link`, { vpcId: args.vpcId, description: "API Gateway VPC link to the internal load balancers", tags }, parent);
    const vpcLink = new aws.apigatewayv2.VpcLink(`${name}-vpc-link`, { name: physicalName("loadBalancer", args.namePrefix, "vpc-link"), subnetIds: args.privateSubnetIds, securityGroupIds: [vpcLinkSecurityGroup.id], tags }, parent);

    const apiArgs: aws.apigatewayv2.ApiArgs = { name: `${args.namePrefix}-api`, protocolType: "HTTP", description: `Gateway of ${args.namePrefix}`, tags };
    args.transform?.api?.(apiArgs);
    const api = new aws.apigatewayv2.Api(`${name}-api`, apiArgs, parent);

    const userDirectory =
      gateway.auth === "jwt" && !args.jwtIssuer ? new UserDirectory(`${name}-users`, { userPoolName: `${args.namePrefix}-users`, retain, tags }, parent) : undefined;
    const issuer: JwtIssuer | undefined = args.jwtIssuer ?? userDirectory;
    const authorizer =
      gateway.auth === "jwt" && issuer
        ? new aws.apigatewayv2.Authorizer(
            `${name}-jwt`,
            {
              apiId: api.id,
              name: "jwt",
              authorizerType: "JWT",
              identitySources: ["$request.header.Authorization"],
              jwtConfiguration: { issuer: issuer.issuerUrl, audiences: issuer.audiences && issuer.audiences.length > 0 ? [...issuer.audiences] : [issuer.clientId!] },
            },
            parent,
          )
        : undefined;

    const webAcl = gateway.waf ? this.webAcl(name, args, tags) : undefined;

    const targetGroupArns: Record<string, pulumi.Output<string>[]> = {};
    const loadBalancers = gateway.loadBalancers.map((plan) => {
      const nodes = this.loadBalancer(name, args, plan, vpcLinkSecurityGroup, tags, retain, targets);
      for (const [target, targetGroup] of Object.entries(nodes.targetGroups)) (targetGroupArns[target] ??= []).push(targetGroup.arn);
      if (webAcl) new aws.wafv2.WebAclAssociation(`${name}-lb${plan.index}-waf`, { resourceArn: nodes.loadBalancer.arn, webAclArn: webAcl.arn }, parent);
      const integration = new aws.apigatewayv2.Integration(
        `${name}-lb${plan.index}`,
        {
          apiId: api.id,
          integrationType: "HTTP_PROXY",
          integrationMethod: "ANY",
          integrationUri: nodes.listener.arn,
          connectionType: "VPC_LINK",
          connectionId: vpcLink.id,
          payloadFormatVersion: "1.0",
        },
        parent,
      );
      return { ...nodes, integration };
    });

    const logKey = gateway.accessLogs || args.authorizer ? this.logKey(name, args, tags, retain) : undefined;
    const requestAuthorizer = args.authorizer ? this.requestAuthorizer(name, args, args.authorizer, api, loadBalancers, targets, logKey!, tags, retain) : undefined;
    const checked = authorizer
      ? { authorizationType: "JWT", authorizerId: authorizer.id }
      : requestAuthorizer
        ? { authorizationType: "CUSTOM", authorizerId: requestAuthorizer.authorizer.id }
        : { authorizationType: "NONE" };
    const layout = httpApiRouteLayout(
      gateway.loadBalancers.flatMap((lb) => lb.routes.map((route) => ({ path: route.path, target: route.target, loadBalancer: lb.index }))),
      args.authorizer ? { uncheckedTarget: args.authorizer.service } : {},
    );
    gateway.loadBalancers.forEach((plan, i) => {
      if (plan.index === layout.defaultLoadBalancer) {
        for (const routeKey of ["ANY /", "ANY /{proxy+}"]) {
          new aws.apigatewayv2.Route(`${name}-${routeResourceName(routeKey)}`, { apiId: api.id, routeKey, target: pulumi.interpolate`integrations/${loadBalancers[i]!.integration.id}`, ...checked }, parent);
        }
      }
      for (const route of plan.routes.filter((r) => layout.hasOwnRoutes({ path: r.path, target: r.target, loadBalancer: plan.index }))) {
        // The auth service's own routes (sign-in) are not checked by the authorizer they feed.
        const auth = requestAuthorizer && route.target === args.authorizer!.service ? { authorizationType: "NONE" } : checked;
        for (const routeKey of routeKeys(route.path)) {
          new aws.apigatewayv2.Route(`${name}-${routeResourceName(routeKey)}`, { apiId: api.id, routeKey, target: pulumi.interpolate`integrations/${loadBalancers[i]!.integration.id}`, ...auth }, parent);
        }
      }
    });

    const accessLogGroup = gateway.accessLogs ? this.accessLogGroup(name, args, logKey!, tags, retain) : undefined;
    const stageArgs: aws.apigatewayv2.StageArgs = {
      apiId: api.id,
      name: "$default",
      autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: gateway.rateLimit.requestsPerSecond, throttlingBurstLimit: gateway.rateLimit.burst },
      ...(accessLogGroup ? { accessLogSettings: { destinationArn: accessLogGroup.arn, format: JSON.stringify(HTTP_API_ACCESS_LOG_FIELDS) } } : {}),
      tags,
    };
    args.transform?.stage?.(stageArgs);
    const stage = new aws.apigatewayv2.Stage(`${name}-stage`, stageArgs, parent);

    this.url = stage.invokeUrl;
    this.apiId = api.id;
    this.targetGroupArns = targetGroupArns;
    this.loadBalancerArns = loadBalancers.map((lb) => lb.loadBalancer.arn);
    this.vpcLinkSecurityGroupId = vpcLinkSecurityGroup.id;
    this.nodes = {
      api,
      vpcLink,
      vpcLinkSecurityGroup,
      stage,
      loadBalancers,
      ...(accessLogGroup ? { accessLogGroup } : {}),
      ...(authorizer ? { authorizer } : {}),
      ...(requestAuthorizer ? { requestAuthorizer } : {}),
      ...(userDirectory ? { userDirectory } : {}),
      ...(webAcl ? { webAcl } : {}),
    };
    this.registerOutputs({ url: this.url, apiId: this.apiId, loadBalancerArns: this.loadBalancerArns, vpcLinkSecurityGroupId: this.vpcLinkSecurityGroupId });
  }

  private loadBalancer(
    name: string,
    args: ApiGatewayArgs,
    plan: LoadBalancerPlan,
    vpcLinkSecurityGroup: aws.ec2.SecurityGroup,
    tags: Record<string, string>,
    retain: boolean,
    targets: ApiGatewayTargetGroups | ApiGatewayBeanstalkTargets,
  ): Omit<GatewayLoadBalancerNodes, "integration"> {
    const parent = { parent: this };
    const id = `${name}-lb${plan.index}`;
    const pathPort = pathListenerPort(targets);
    const securityGroup = new aws.ec2.SecurityGroup(id, { vpcId: args.vpcId, description: `Internal load balancer ${plan.index} of the gateway`, tags }, parent);
    new aws.vpc.SecurityGroupIngressRule(
      `${id}-from-vpc-link`,
      { securityGroupId: securityGroup.id, referencedSecurityGroupId: vpcLinkSecurityGroup.id, ipProtocol: "tcp", fromPort: pathPort, toPort: pathPort, description: "Only the API Gateway VPC link", tags },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${id}-vpc-link-to-lb`,
      { securityGroupId: vpcLinkSecurityGroup.id, referencedSecurityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: pathPort, toPort: pathPort, description: `To load balancer ${plan.index}`, tags },
      parent,
    );
    // Beanstalk's target groups health-check every environment on the load balancer, exposed or not.
    const targetPorts = targets.kind === "beanstalk" ? [targets.instancePort] : [...new Set(plan.routes.map((r) => r.port))];
    for (const port of targetPorts) {
      if (!args.workloadSecurityGroupId) continue;
      new aws.vpc.SecurityGroupEgressRule(
        `${id}-to-pods-${port}`,
        { securityGroupId: securityGroup.id, referencedSecurityGroupId: args.workloadSecurityGroupId, ipProtocol: "tcp", fromPort: port, toPort: port, description: "To the service pods", tags },
        parent,
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${id}-pods-from-lb-${port}`,
        { securityGroupId: args.workloadSecurityGroupId, referencedSecurityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: port, toPort: port, description: `From gateway load balancer ${plan.index}`, tags },
        parent,
      );
    }

    const loadBalancerArgs: aws.lb.LoadBalancerArgs = {
      name: physicalName("loadBalancer", args.namePrefix, "lb", plan.index === 0 ? "" : String(plan.index)),
      internal: true,
      loadBalancerType: "application",
      subnets: args.loadBalancerSubnetIds ?? args.privateSubnetIds,
      securityGroups: [securityGroup.id],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: retain,
      tags,
    };
    args.transform?.loadBalancer?.(loadBalancerArgs, plan.index);
    const loadBalancer = new aws.lb.LoadBalancer(id, loadBalancerArgs, { ...parent, dependsOn: this.loadBalancerDependencies });
    const addListener = (suffix: string, port: number) =>
      new aws.lb.Listener(
        `${id}-${suffix}`,
        {
          loadBalancerArn: loadBalancer.arn,
          port,
          protocol: "HTTP",
          defaultActions: [{ type: "fixed-response", fixedResponse: { contentType: "application/json", statusCode: "404", messageBody: '{"message":"Not Found"}' } }],
          tags,
        },
        parent,
      );
    const http = addListener("http", GATEWAY_LISTENER_PORT);
    const listener = targets.kind === "beanstalk" ? addListener("paths", BEANSTALK_PATH_LISTENER_PORT) : http;

    const targetGroups: Record<string, aws.lb.TargetGroup> = {};
    // Beanstalk environments bring their target groups and path rules.
    const targetType = targets.kind === "target-group" ? (targets.targetType ?? "ip") : undefined;
    for (const route of targetType ? plan.routes : []) {
      const targetGroup = (targetGroups[route.target] ??= this.targetGroup(id, args, plan, route, tags, targetType!));
      new aws.lb.ListenerRule(
        `${id}-${routeResourceName(route.path)}`,
        {
          listenerArn: listener.arn,
          priority: route.priority,
          conditions: [{ pathPattern: { values: loadBalancerPathPatterns(route.path) } }],
          actions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
          tags,
        },
        parent,
      );
    }
    return { loadBalancer, securityGroup, listener, ...(listener !== http ? { environmentListener: http } : {}), targetGroups };
  }

  private targetGroup(id: string, args: ApiGatewayArgs, plan: LoadBalancerPlan, route: RoutePlan, tags: Record<string, string>, targetType: "ip" | "instance"): aws.lb.TargetGroup {
    const targetGroupArgs: aws.lb.TargetGroupArgs = {
      name: physicalName("loadBalancer", args.namePrefix, route.target, plan.index === 0 ? "" : String(plan.index)),
      vpcId: args.vpcId,
      // Pod IPs are registered directly (TargetGroupBinding), so traffic skips node ports; VMs register as instances.
      targetType,
      protocol: "HTTP",
      port: route.port,
      deregistrationDelay: 30,
      healthCheck: { enabled: true, path: args.healthCheckPaths?.[route.target] ?? "/health", protocol: "HTTP", matcher: "200-399", interval: 15, healthyThreshold: 2, unhealthyThreshold: 3, timeout: 5 },
      tags: { ...tags, "msa:target": route.target },
    };
    args.transform?.targetGroup?.(targetGroupArgs, route.target);
    return new aws.lb.TargetGroup(`${id}-${route.target}`, targetGroupArgs, { parent: this });
  }

  private webAcl(name: string, args: ApiGatewayArgs, tags: Record<string, string>): aws.wafv2.WebAcl {
    const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    const managed = (ruleGroup: string, priority: number): aws.types.input.wafv2.WebAclRule => ({
      name: ruleGroup,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: "AWS", name: ruleGroup } },
      visibilityConfig: visibility(ruleGroup),
    });
    const rate = wafRateLimit(args.gateway.rateLimit);
    const webAclArgs: aws.wafv2.WebAclArgs = {
      name: `${args.namePrefix}-gateway`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rules: [
        ...WAF_MANAGED_RULE_GROUPS.map((group, i) => managed(group, (i + 1) * 10)),
        { ...wafRateRule(rate), visibilityConfig: visibility(rate.name) },
      ],
      visibilityConfig: visibility(`${args.namePrefix}-gateway`),
      tags,
    };
    args.transform?.webAcl?.(webAclArgs);
    return new aws.wafv2.WebAcl(`${name}-waf`, webAclArgs, { parent: this });
  }

  /** The key of the gateway's log groups; CloudWatch Logs may use it only for them. */
  private logKey(name: string, args: ApiGatewayArgs, tags: Record<string, string>, retain: boolean): aws.kms.Key {
    const parent = { parent: this };
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const logGroupNames = [...(args.gateway.accessLogs ? [accessLogGroupName(args)] : []), ...(args.authorizer ? [authorizerLogGroupName(args)] : [])];
    return new aws.kms.Key(
      `${name}-access-logs-key`,
      {
        description: `Encryption of the ${args.namePrefix} gateway logs`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([partition, region, account]).apply(([p, r, a]) => JSON.stringify(logGroupKeyPolicy(p, r, a, logGroupNames))),
        tags,
      },
      { parent: this, protect: retain, retainOnDelete: retain },
    );
  }

  private accessLogGroup(name: string, args: ApiGatewayArgs, key: aws.kms.Key, tags: Record<string, string>, retain: boolean): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { name: accessLogGroupName(args), retentionInDays: args.gateway.accessLogRetentionDays, kmsKeyId: key.arn, tags },
      { parent: this, protect: retain, retainOnDelete: retain },
    );
  }

  /**
   * The Lambda REQUEST authorizer in the private subnets: it may reach only the auth service's load
   * balancer, write only its own log group and manage only its network interfaces.
   */
  private requestAuthorizer(
    name: string,
    args: ApiGatewayArgs,
    plan: AuthorizerPlan,
    api: aws.apigatewayv2.Api,
    loadBalancers: readonly GatewayLoadBalancerNodes[],
    targets: ApiGatewayTargetGroups | ApiGatewayBeanstalkTargets,
    key: aws.kms.Key,
    tags: Record<string, string>,
    retain: boolean,
  ): GatewayAuthorizerNodes {
    const parent = { parent: this };
    const pathPort = pathListenerPort(targets);
    const index = args.gateway.loadBalancers.findIndex((lb) => lb.routes.some((r) => r.target === plan.service));
    const target = loadBalancers[index]!;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const securityGroup = new aws.ec2.SecurityGroup(`${name}-authorizer`, { vpcId: args.vpcId, description: "Gateway request authorizer", tags }, parent);
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-authorizer-to-lb`,
      { securityGroupId: securityGroup.id, referencedSecurityGroupId: target.securityGroup.id, ipProtocol: "tcp", fromPort: pathPort, toPort: pathPort, description: "Auth service behind the gateway", tags },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-lb-from-authorizer`,
      { securityGroupId: target.securityGroup.id, referencedSecurityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: pathPort, toPort: pathPort, description: "Gateway request authorizer", tags },
      parent,
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-authorizer-logs`,
      { name: authorizerLogGroupName(args), retentionInDays: args.gateway.accessLogRetentionDays, kmsKeyId: key.arn, tags },
      { parent: this, protect: retain, retainOnDelete: retain },
    );
    const role = new aws.iam.Role(`${name}-authorizer`, { assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com"), description: "Gateway request authorizer: its own logs and VPC network interfaces only", tags }, parent);
    const policy = new aws.iam.RolePolicy(
      `${name}-authorizer`,
      {
        role: role.name,
        policy: pulumi
          .all([partition, region, account, logGroup.arn])
          .apply(([p, r, a, logGroupArn]) => JSON.stringify({ Version: "2012-10-17", Statement: authorizerPolicyStatements({ partition: p, region: r, account: a, logGroupArn }) })),
      },
      parent,
    );
    const functionArgs: aws.lambda.FunctionArgs = {
      name: authorizerFunctionName(args),
      description: `Asks ${plan.service} whether a call through the gateway is authorized`,
      runtime: "nodejs24.x",
      architectures: ["arm64"],
      handler: "index.handler",
      code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(AUTHORIZER_HANDLER_SOURCE) }),
      role: role.arn,
      timeout: plan.timeoutSeconds + 2,
      memorySize: 256,
      environment: { variables: { AUTHORIZE_URL: pulumi.interpolate`http://${target.loadBalancer.dnsName}${pathPort === GATEWAY_LISTENER_PORT ? "" : `:${pathPort}`}${plan.authorizePath}` } },
      vpcConfig: { subnetIds: args.privateSubnetIds, securityGroupIds: [securityGroup.id] },
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      tags,
    };
    args.transform?.authorizerFunction?.(functionArgs);
    // The network interfaces need the role's permissions before the function is created.
    const fn = new aws.lambda.Function(`${name}-authorizer`, functionArgs, { parent: this, dependsOn: [policy] });
    const authorizer = new aws.apigatewayv2.Authorizer(
      `${name}-auth-service`,
      {
        apiId: api.id,
        name: "auth-service",
        authorizerType: "REQUEST",
        authorizerUri: fn.invokeArn,
        authorizerPayloadFormatVersion: "2.0",
        enableSimpleResponses: true,
        identitySources: ["$request.header.Authorization"],
        authorizerResultTtlInSeconds: plan.cacheSeconds,
      },
      parent,
    );
    new aws.lambda.Permission(
      `${name}-authorizer-invoke`,
      { action: "lambda:InvokeFunction", function: fn.name, principal: "apigateway.amazonaws.com", sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/${authorizer.id}` },
      parent,
    );
    return { function: fn, role, securityGroup, logGroup, authorizer };
  }
}

const accessLogGroupName = (args: ApiGatewayArgs) => `/aws/apigateway/${args.namePrefix}/access`;
const authorizerFunctionName = (args: ApiGatewayArgs) => `${args.namePrefix}-authorizer`;
const authorizerLogGroupName = (args: ApiGatewayArgs) => `/aws/lambda/${authorizerFunctionName(args)}`;


/** `ANY <path>` and `ANY <path>/{proxy+}`, so a prefix and everything below it reach the same target. */
export function routeKeys(path: string): string[] {
  return apiRoutePaths(path).map((p) => `ANY ${p}`);
}

/** A logical-name fragment for a path or route key (`ANY /orders/{proxy+}` → `any-orders-proxy`). */
function routeResourceName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "root";
}

function checkPriorities(name: string, loadBalancers: readonly LoadBalancerPlan[]): void {
  for (const lb of loadBalancers) {
    const seen = new Map<number, string>();
    for (const route of lb.routes) {
      const other = seen.get(route.priority);
      if (other !== undefined) {
        throw new Error(`ApiGateway ${name}: gateway.loadBalancers[${lb.index}] gives priority ${route.priority} to both ${other} and ${route.path}. Fix: give each route of a load balancer its own priority`);
      }
      seen.set(route.priority, route.path);
    }
  }
}

/** Account administrators keep control of the key; CloudWatch Logs may use it only for these log groups. */
function logGroupKeyPolicy(partition: string, region: string, account: string, logGroupNames: readonly string[]) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministration", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
      {
        Sid: "CloudWatchLogs",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupNames.map((logGroupName) => `arn:${partition}:logs:${region}:${account}:log-group:${logGroupName}`) } },
      },
    ],
  };
}

/** The port of the listener the API reaches: Beanstalk keeps port 80 for its host rules. */
function pathListenerPort(targets: ApiGatewayTargetGroups | ApiGatewayBeanstalkTargets): number {
  return targets.kind === "beanstalk" ? BEANSTALK_PATH_LISTENER_PORT : GATEWAY_LISTENER_PORT;
}
