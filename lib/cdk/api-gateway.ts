import {
  Annotations,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
  aws_apigateway as apigateway,
  aws_apigatewayv2 as apigwv2,
  aws_apigatewayv2_authorizers as authorizers,
  aws_apigatewayv2_integrations as integrations,
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_s3 as s3,
  aws_wafv2 as wafv2,
} from "aws-cdk-lib";
import { Construct } from "constructs";
import { AUTHORIZER_HANDLER_SOURCE, AUTHORIZER_TIMEOUT_SECONDS, AUTHORIZE_PATH, authorizerPolicyStatements } from "../plan/auth.js";
import { MAX_RULES_PER_LOAD_BALANCER, splitRoutes } from "../plan/load-balancers.js";
import { WAF_MANAGED_RULE_GROUPS, wafRateLimit, wafRateRule } from "../plan/waf.js";
import { acknowledgeInlinePolicy } from "./compliance.js";
import { createLogKey } from "./log-key.js";
import type { UserDirectory } from "./user-directory.js";
import { WebAclLogging } from "./web-acl-logging.js";
import { BEANSTALK_PATH_LISTENER_PORT, GATEWAY_LISTENER_PORT, HTTP_API_ACCESS_LOG_FIELDS, HTTP_API_ROUTE_QUOTA, apiRoutePaths, httpApiRouteLayout, loadBalancerPathPatterns, routePrefix } from "../plan/gateway-paths.js";

/** A path prefix at the gateway and the workload behind it. */
export interface ApiGatewayRoute {
  /** Path prefix, such as `/api/orders`; requests to it and below it reach the target. */
  readonly path: string;
  /** Name of the service or BFF the route reaches; routes with the same target share a target group. */
  readonly target: string;
  /** Port the target listens on. */
  readonly port: number;
  /**
   * Health check path of the target.
   * @default - the gateway's `healthCheckPath`
   */
  readonly healthCheckPath?: string;
}

/** A route with its listener-rule priority, as the plan's `RoutePlan` carries it. */
export interface ApiGatewayPlannedRoute extends ApiGatewayRoute {
  /** Listener-rule priority, unique within its load balancer (1-50000). */
  readonly priority: number;
}

/** One internal load balancer and its routes, as the plan's `LoadBalancerPlan` carries it. */
export interface ApiGatewayLoadBalancer {
  /** 0-based position; it names the load balancer's construct, so keep it stable. */
  readonly index: number;
  /** At most `MAX_RULES_PER_LOAD_BALANCER` routes. */
  readonly routes: readonly ApiGatewayPlannedRoute[];
}

/** Callers pass without a check (the workloads authenticate them). */
export interface ApiGatewayNoAuth {
  readonly kind: "none";
}

/** The gateway validates a JWT bearer token issued by `directory` or by `issuer` for `audience`. */
export interface ApiGatewayJwtAuth {
  readonly kind: "jwt";
  /**
   * The user directory issuing the tokens: its pool is the issuer and its client the audience.
   * @default - `issuer` and `audience` are required
   */
  readonly directory?: UserDirectory;
  /**
   * OIDC issuer URL (`iss` claim).
   * @default - the directory's issuer
   */
  readonly issuer?: string;
  /**
   * Accepted `aud` (or Cognito `client_id`) values.
   * @default - the directory's app client id
   */
  readonly audience?: readonly string[];
}

/**
 * The gateway asks a dedicated auth service about every call through a Lambda REQUEST authorizer in
 * the VPC: `GET <check URL><original path>` with the caller's Authorization header; a 2xx answer
 * authorizes, anything else (or no answer within 3 s) denies. Answers are cached per token.
 * Give `target` (an auth service behind this gateway) or `handlerUrl`.
 */
export interface ApiGatewayAuthorizerAuth {
  readonly kind: "authorizer";
  /**
   * The route target (service name) of the auth service behind this gateway: the authorizer reaches it
   * through its internal load balancer at `authorizePath`, and its own routes stay open (sign-in).
   * @default - `handlerUrl` is used
   */
  readonly target?: string;
  /**
   * Path prefix of the checks on `target`.
   * @default - the target's first route path followed by "/authorize"
   */
  readonly authorizePath?: string;
  /**
   * URL prefix of the checks on an auth service elsewhere, reachable from the VPC's private subnets.
   * @default - `target` is used
   */
  readonly handlerUrl?: string;
  /**
   * Seconds an answer is reused for the same Authorization header; 0 asks on every call.
   * @default 300
   */
  readonly cacheSeconds?: number;
}

export type ApiGatewayAuth = ApiGatewayNoAuth | ApiGatewayJwtAuth | ApiGatewayAuthorizerAuth;

/**
 * Where each route's target group, listener rule and API routes live: in the gateway, or in the
 * stacks of the services, which attach them with `GatewayRoutes`.
 */
export type ApiGatewayAttachment = "gateway" | "services";

/** Steady-state and burst request rates. */
export interface ApiGatewayRateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

export interface ApiGatewayProps {
  /** The VPC the load balancers, the VPC link and the authorizer run in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the VPC link and the authorizer, and of the load balancers unless `loadBalancerSubnets` is given.
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Subnets of the internal load balancers. The landing zone puts them in the public subnets on EKS
   * (`plan.gateway.loadBalancerSubnets`), where no pod lives, so the pods they target can admit them
   * by range and nothing else (`gatewayLoadBalancerAccess`); they stay internal, with no public address.
   * @default - `subnets`
   */
  readonly loadBalancerSubnets?: ec2.SubnetSelection;
  /**
   * Routes already split across load balancers with their priorities (the plan's `gateway.loadBalancers`).
   * Give this or `routes`.
   * @default - built from `routes`
   */
  readonly loadBalancers?: readonly ApiGatewayLoadBalancer[];
  /**
   * Routes in a stable order; split into load balancers of `MAX_RULES_PER_LOAD_BALANCER` routes with
   * priorities by position, as the planner does. Give this or `loadBalancers`.
   * @default - `loadBalancers` is used
   */
  readonly routes?: readonly ApiGatewayRoute[];
  /**
   * Health check path for routes that do not name one.
   * @default "/health"
   */
  readonly healthCheckPath?: string;
  /** How the gateway checks callers. */
  readonly auth: ApiGatewayAuth;
  /**
   * Attach a regional WAF web ACL (AWS common and known-bad-inputs rules, a per-client rate rule) to
   * the load balancers, logging the requests it blocks or counts (`WebAclLogging`).
   * Cost: a web ACL, its rules and requests are billed, and its logs per GB.
   * @default false
   */
  readonly waf?: boolean;
  /**
   * Turn on the load balancers' deletion protection (a stack update that would replace or delete one fails).
   * @default false
   */
  readonly loadBalancerDeletionProtection?: boolean;
  /**
   * Stage throttling; the WAF rate rule allows one client at most this rate.
   * @default { requestsPerSecond: 100, burst: 200 }
   */
  readonly rateLimit?: ApiGatewayRateLimit;
  /**
   * Write API access logs (CloudWatch Logs, JSON) and load balancer access logs (S3).
   * @default true
   */
  readonly accessLogs?: boolean;
  /**
   * Days to keep access logs; one of the CloudWatch Logs retention values.
   * @default 365
   */
  readonly accessLogRetentionDays?: number;
  /**
   * KMS key for the log groups.
   * @default - a new key with rotation, when a log group is created
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Security group of the cluster nodes or VMs the target groups point at; it gets ingress from the load balancers.
   * @default - the load balancers may reach the target ports anywhere in the VPC's CIDR, and no ingress is added
   */
  readonly workloadSecurityGroup?: ec2.ISecurityGroup;
  /**
   * What happens to logs, the log bucket and the log key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Name of the HTTP API.
   * @default - the construct path
   */
  readonly apiName?: string;
  /**
   * "gateway": the gateway creates each route's target group, listener rule and API routes.
   * "services": it creates the load balancers with their listeners, one integration per load
   * balancer and the authorizer; each service attaches its own routes with `GatewayRoutes` from its
   * own stack, so changing a service changes only its stack and the gateway's stack keeps the same
   * size whatever the number of services. The load balancers then reach the workload security
   * group on any TCP port, since each service picks its port in its own target group.
   * @default "gateway"
   */
  readonly attachment?: ApiGatewayAttachment;
  /**
   * Target type of the routes' target groups: "ip" for pods, "instance" for VMs (gateway attachment).
   * @default "ip"
   */
  readonly targetType?: "ip" | "instance";
  /**
   * The load balancers are shared with Elastic Beanstalk environments (`aws:elbv2:loadbalancer`
   * `SharedLoadBalancer`, services attachment only). Beanstalk puts each environment's host rule on the
   * port-80 listener and numbers those rules itself, so the path rules (each environment adds its own)
   * and the API's integrations get a listener of their own on `BEANSTALK_PATH_LISTENER_PORT`, whose
   * planned priorities never meet Beanstalk's. The port-80 listeners are `environmentListeners`.
   * @default false
   */
  readonly sharedWithBeanstalk?: boolean;
}

const CLOUDWATCH_RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter((v): v is number => typeof v === "number"));
const ROUTE_PATH = /^\/[A-Za-z0-9/_-]*$/;

/**
 * The single entry of the landing zone: an HTTP API that checks callers (JWT or an auth service),
 * throttles, logs, and routes path prefixes through a VPC link to internal Application Load
 * Balancers, which balance across the workloads' IP target groups. What the API has no route for
 * goes to the first load balancer, whose rules route by path, so 200 services fit
 * the API's quota of 300 routes.
 *
 * Cost: each load balancer is billed per hour and LCU; the HTTP API per request.
 *
 * @example
 * const gateway = new ApiGateway(stack, "Gateway", {
 *   vpc,
 *   routes: [{ path: "/api/orders", target: "orders", port: 8080 }],
 *   auth: { kind: "jwt", directory },
 *   waf: true,
 * });
 * gateway.targetGroup("orders"); // bind the cluster's service to it
 */
export class ApiGateway extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  /** The `$default` stage with throttling and access logs. */
  readonly stage: apigwv2.HttpStage;
  readonly vpcLink: apigwv2.VpcLink;
  /** Security group of the VPC link; the only source the load balancers admit. */
  readonly vpcLinkSecurityGroup: ec2.SecurityGroup;
  /** Internal load balancers, in `index` order. */
  readonly loadBalancers: readonly elbv2.ApplicationLoadBalancer[];
  /** The listener of each load balancer that the API reaches and whose rules route by path, in the same order. */
  readonly listeners: readonly elbv2.ApplicationListener[];
  /** With `sharedWithBeanstalk`: each load balancer's port-80 listener, where Beanstalk's host rules go, in the same order; else []. */
  readonly environmentListeners: readonly elbv2.ApplicationListener[];
  /** Security group shared by the load balancers. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Invoke URL of the API. */
  readonly url: string;
  /** API access log group, when access logs are on. */
  readonly accessLogGroup?: logs.LogGroup;
  /** Bucket of the load balancers' access logs, when access logs are on. */
  readonly loadBalancerLogBucket?: s3.Bucket;
  /** The web ACL on the load balancers, when `waf` is on. */
  readonly webAcl?: wafv2.CfnWebACL;
  /** The Lambda request authorizer, when `auth.kind` is `authorizer`. */
  readonly authorizerFunction?: lambda.Function;
  /** With the "services" attachment: one integration per load balancer (its listener through the VPC link), in `index` order. */
  readonly integrations: readonly apigwv2.HttpIntegration[];
  /** Load balancer the catch-all routes reach; its routes need no API routes of their own. Undefined when a route claims the root path. */
  readonly defaultLoadBalancer?: number;
  /** With the "services" attachment: the authorizer every attached route uses, unless auth is none. */
  readonly authorizer?: apigwv2.HttpAuthorizer;
  /** Where each route's resources live. */
  readonly attachment: ApiGatewayAttachment;

  private readonly targetGroupsByTarget = new Map<string, elbv2.ApplicationTargetGroup[]>();
  private readonly pathListenerPort: number;

  constructor(scope: Construct, id: string, props: ApiGatewayProps) {
    super(scope, id);
    const plannedLoadBalancers = resolveLoadBalancers(props);
    const defaultHealthCheckPath = props.healthCheckPath ?? "/health";
    validateHealthCheckPath("healthCheckPath", defaultHealthCheckPath);
    const rateLimit = props.rateLimit ?? { requestsPerSecond: 100, burst: 200 };
    validateRateLimit(rateLimit);
    const accessLogs = props.accessLogs ?? true;
    const retentionDays = props.accessLogRetentionDays ?? 365;
    if (!CLOUDWATCH_RETENTION_DAYS.has(retentionDays)) {
      throw new Error(`ApiGateway: accessLogRetentionDays ${retentionDays} is not a CloudWatch Logs retention. Fix: use one of ${[...CLOUDWATCH_RETENTION_DAYS].sort((a, b) => a - b).join(", ")}`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const subnets = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.attachment = props.attachment ?? "gateway";
    const attachedHere = this.attachment === "gateway";
    const sharedWithBeanstalk = props.sharedWithBeanstalk ?? false;
    if (sharedWithBeanstalk && attachedHere) {
      throw new Error(`ApiGateway: sharedWithBeanstalk is true with attachment "gateway", but Beanstalk environments bring their own target groups and path rules. Fix: use attachment: "services"`);
    }
    const pathListenerPort = sharedWithBeanstalk ? BEANSTALK_PATH_LISTENER_PORT : GATEWAY_LISTENER_PORT;
    this.pathListenerPort = pathListenerPort;

    this.vpcLinkSecurityGroup = new ec2.SecurityGroup(this, "VpcLinkSecurityGroup", {
      vpc: props.vpc,
      description: "API Gateway VPC link to the internal load balancers",
      allowAllOutbound: false,
    });
    this.vpcLink = new apigwv2.VpcLink(this, "VpcLink", { vpc: props.vpc, subnets, securityGroups: [this.vpcLinkSecurityGroup] });

    this.securityGroup = new ec2.SecurityGroup(this, "LoadBalancerSecurityGroup", {
      vpc: props.vpc,
      description: "Internal load balancers behind the API Gateway VPC link",
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowFrom(this.vpcLinkSecurityGroup, ec2.Port.tcp(pathListenerPort), "API Gateway VPC link");
    const targetPorts = attachedHere ? [...new Set(plannedLoadBalancers.flatMap((lb) => lb.routes.map((r) => r.port)))].map((port) => ec2.Port.tcp(port)) : [ec2.Port.allTcp()];
    for (const port of targetPorts) {
      if (props.workloadSecurityGroup) {
        props.workloadSecurityGroup.connections.allowFrom(this.securityGroup, port, "Gateway load balancers");
      } else {
        this.securityGroup.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), port, "Targets in the VPC");
      }
    }

    const logKey = accessLogs || props.auth.kind === "authorizer" || props.waf ? (props.logEncryptionKey ?? createLogKey(this, "LogKey", { description: "API gateway logs", removalPolicy })) : undefined;

    if (accessLogs) {
      // ALB access logs accept only SSE-S3 buckets, not SSE-KMS; versions keep a log from being overwritten.
      this.loadBalancerLogBucket = new s3.Bucket(this, "LoadBalancerLogs", {
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: true,
        lifecycleRules: [{ expiration: Duration.days(retentionDays), noncurrentVersionExpiration: Duration.days(30) }],
        removalPolicy,
      });
      const recursion = "This bucket holds access logs itself; logging its own reads to another bucket would recurse.";
      Validations.of(this.loadBalancerLogBucket.node.defaultChild!).acknowledge(
        { id: "AwsSolutions::AwsSolutions-S1", reason: recursion },
        { id: "NIST.800.53.R5::NIST.800.53.R5-S3BucketLoggingEnabled", reason: recursion },
        { id: "NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS", reason: "Elastic Load Balancing writes access logs only to buckets encrypted with S3-managed keys (SSE-S3); it rejects SSE-KMS." },
        {
          id: "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
          reason: "Load balancer access logs are diagnostics kept for a set number of days in the gateway's region; copying them to a second region would add cost and a second store of client addresses.",
        },
      );
    }

    const loadBalancers: elbv2.ApplicationLoadBalancer[] = [];
    const listeners: elbv2.ApplicationListener[] = [];
    const environmentListeners: elbv2.ApplicationListener[] = [];
    for (const planned of plannedLoadBalancers) {
      const lbScope = new Construct(this, `LoadBalancer${planned.index}`);
      const loadBalancer = new elbv2.ApplicationLoadBalancer(lbScope, "Resource", {
        vpc: props.vpc,
        vpcSubnets: props.loadBalancerSubnets ?? subnets,
        internetFacing: false,
        securityGroup: this.securityGroup,
        dropInvalidHeaderFields: true,
        deletionProtection: props.loadBalancerDeletionProtection ?? false,
      });
      if (this.loadBalancerLogBucket) loadBalancer.logAccessLogs(this.loadBalancerLogBucket, `load-balancer-${planned.index}`);
      // TLS terminates at API Gateway; the VPC link (and, on Beanstalk, the services) reach these listeners over plain HTTP inside the VPC.
      const addListener = (id: string, port: number) => {
        const added = loadBalancer.addListener(id, {
          port,
          protocol: elbv2.ApplicationProtocol.HTTP,
          open: false,
          defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: "application/json", messageBody: '{"message":"Not Found"}' }),
        });
        const reachedBy =
          port === GATEWAY_LISTENER_PORT && sharedWithBeanstalk
            ? "Only the landing zone's own services reach this internal listener, by their environments' host names (its security group admits them alone)"
            : "Only the API Gateway VPC link reaches this internal listener (its security group admits the link alone)";
        const plainHttp = `${reachedBy}; clients' TLS ends at the HTTP API, and a certificate would need a domain the zone does not own.`;
        Validations.of(added.node.defaultChild!).acknowledge(
          { id: "NIST.800.53.R5::NIST.800.53.R5-ALBHttpToHttpsRedirection", reason: plainHttp },
          { id: "NIST.800.53.R5::NIST.800.53.R5-ELBv2ACMCertificateRequired", reason: plainHttp },
        );
        return added;
      };
      const http = addListener("Http", GATEWAY_LISTENER_PORT);
      const listener = sharedWithBeanstalk ? addListener("Paths", BEANSTALK_PATH_LISTENER_PORT) : http;
      if (sharedWithBeanstalk) environmentListeners.push(http);
      const targetGroups = new Map<string, elbv2.ApplicationTargetGroup>();
      for (const route of attachedHere ? planned.routes : []) {
        let targetGroup = targetGroups.get(route.target);
        if (!targetGroup) {
          targetGroup = new elbv2.ApplicationTargetGroup(lbScope, `Target-${route.target}`, {
            vpc: props.vpc,
            port: route.port,
            protocol: elbv2.ApplicationProtocol.HTTP,
            targetType: props.targetType === "instance" ? elbv2.TargetType.INSTANCE : elbv2.TargetType.IP,
            healthCheck: { path: route.healthCheckPath ?? defaultHealthCheckPath, healthyHttpCodes: "200-399" },
          });
          targetGroups.set(route.target, targetGroup);
          this.targetGroupsByTarget.set(route.target, [...(this.targetGroupsByTarget.get(route.target) ?? []), targetGroup]);
        }
        // Keyed by priority, not path: a changed route then updates its rule in place instead of racing for the priority.
        new elbv2.ApplicationListenerRule(lbScope, `Rule${route.priority}`, {
          listener,
          priority: route.priority,
          conditions: [elbv2.ListenerCondition.pathPatterns(loadBalancerPathPatterns(route.path))],
          action: elbv2.ListenerAction.forward([targetGroup]),
        });
      }
      loadBalancers.push(loadBalancer);
      listeners.push(listener);
    }
    this.loadBalancers = loadBalancers;
    this.listeners = listeners;
    this.environmentListeners = environmentListeners;

    if (props.waf) {
      this.webAcl = this.attachWebAcl(rateLimit);
      new WebAclLogging(this, "WebAclLogs", { webAcl: this.webAcl, encryptionKey: logKey!, removalPolicy });
    }

    let defaultAuthorizer: apigwv2.IHttpRouteAuthorizer | undefined;
    // The auth service's own routes (sign-in) are not checked by the authorizer they feed.
    let openTarget: string | undefined;
    if (props.auth.kind === "jwt") {
      defaultAuthorizer = jwtAuthorizer(props.auth);
    } else if (props.auth.kind === "authorizer") {
      const check = this.authorizerCheck(props.auth, plannedLoadBalancers);
      openTarget = props.auth.target;
      this.authorizerFunction = this.createAuthorizerFunction(check, props.vpc, subnets, logKey!, retentionDays, removalPolicy);
      defaultAuthorizer = new authorizers.HttpLambdaAuthorizer("AuthService", this.authorizerFunction, {
        responseTypes: [authorizers.HttpLambdaResponseType.SIMPLE],
        identitySource: ["$request.header.Authorization"],
        resultsCacheTtl: Duration.seconds(props.auth.cacheSeconds ?? 300),
      });
    }
    this.httpApi = new apigwv2.HttpApi(this, "Resource", {
      ...(props.apiName ? { apiName: props.apiName } : {}),
      description: "Single entry of the landing zone",
      createDefaultStage: false,
      ...(defaultAuthorizer && attachedHere ? { defaultAuthorizer } : {}),
    });
    this.integrations = attachedHere ? [] : this.createIntegrations(plannedLoadBalancers, listeners);
    if (!attachedHere && props.auth.kind !== "none") this.authorizer = this.createAuthorizer(props.auth);

    if (accessLogs) {
      this.accessLogGroup = new logs.LogGroup(this, "AccessLogs", { retention: retentionDays, encryptionKey: logKey, removalPolicy });
    }
    this.stage = this.httpApi.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: rateLimit.requestsPerSecond, burstLimit: rateLimit.burst },
      ...(this.accessLogGroup
        ? { accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup), format: apigateway.AccessLogFormat.custom(JSON.stringify(HTTP_API_ACCESS_LOG_FIELDS)) } }
        : {}),
    });
    this.url = this.stage.url;

    const layout = httpApiRouteLayout(
      plannedLoadBalancers.flatMap((lb) => lb.routes.map((route) => ({ path: route.path, target: route.target, loadBalancer: lb.index }))),
      openTarget ? { uncheckedTarget: openTarget } : {},
    );
    this.defaultLoadBalancer = layout.defaultLoadBalancer;
    if (layout.routeCount > HTTP_API_ROUTE_QUOTA) {
      Annotations.of(this).addWarningV2(
        "msa:api-gateway:route-quota",
        `${layout.routeCount} API routes pass the default HTTP API quota of ${HTTP_API_ROUTE_QUOTA} routes per API; request a quota increase before deploying.`,
      );
    }
    const openReason = "The auth service's own routes (sign-in, token refresh) must be reachable without a token; the service authenticates these calls itself.";
    if (!attachedHere) {
      if (layout.defaultLoadBalancer !== undefined) {
        const integration = this.integrations[plannedLoadBalancers.findIndex((lb) => lb.index === layout.defaultLoadBalancer)]!;
        for (const [suffix, path] of [["Root", "/"], ["Proxy", "/{proxy+}"]] as const) {
          const route = new apigwv2.CfnRoute(this, `CatchAll${suffix}Route`, {
            apiId: this.httpApi.apiId,
            routeKey: `ANY ${path}`,
            target: `integrations/${integration.integrationId}`,
            ...(this.authorizer ? { authorizationType: props.auth.kind === "jwt" ? "JWT" : "CUSTOM", authorizerId: this.authorizer.authorizerId } : { authorizationType: "NONE" }),
          });
          if (!this.authorizer) Validations.of(route).acknowledge({ id: "AwsSolutions::AwsSolutions-APIG4", reason: "gateway auth is none: the gateway checks no token on any route, and each service authenticates and authorizes its own callers." });
        }
      }
      return;
    }
    plannedLoadBalancers.forEach((planned, i) => {
      const integration = new integrations.HttpAlbIntegration(`LoadBalancer${planned.index}Integration`, listeners[i]!, { vpcLink: this.vpcLink });
      const catchAll = planned.index === layout.defaultLoadBalancer ? ["/", "/{proxy+}"].map((path) => ({ path, open: false })) : [];
      const own = planned.routes
        .filter((route) => layout.hasOwnRoutes({ path: route.path, target: route.target, loadBalancer: planned.index }))
        .flatMap((route) => apiRoutePaths(route.path).map((path) => ({ path, open: route.target === openTarget })));
      for (const { path, open } of [...catchAll, ...own]) {
        const added = this.httpApi.addRoutes({ path, methods: [apigwv2.HttpMethod.ANY], integration, ...(open ? { authorizer: new apigwv2.HttpNoneAuthorizer() } : {}) });
        if (open) for (const r of added) Validations.of(r).acknowledge({ id: "AwsSolutions::AwsSolutions-APIG4", reason: openReason });
      }
    });
  }

  /** The only target group of `target`; use `targetGroups` when its routes span load balancers. */
  targetGroup(target: string): elbv2.ApplicationTargetGroup {
    const groups = this.targetGroups(target);
    if (groups.length > 1) {
      throw new Error(`ApiGateway.targetGroup: target "${target}" has routes on ${groups.length} load balancers, so it has ${groups.length} target groups. Fix: use targetGroups("${target}")`);
    }
    return groups[0]!;
  }

  /** Target groups of `target`, one per load balancer serving its routes. */
  targetGroups(target: string): readonly elbv2.ApplicationTargetGroup[] {
    const groups = this.targetGroupsByTarget.get(target);
    if (!groups) {
      throw new Error(`ApiGateway.targetGroup: no route targets "${target}". Fix: use one of ${[...this.targetGroupsByTarget.keys()].join(", ") || "(no routes)"} or add a route for it`);
    }
    return groups;
  }

  /** One integration per load balancer, created up front so service stacks can route to it by id. */
  private createIntegrations(plannedLoadBalancers: readonly ApiGatewayLoadBalancer[], listeners: readonly elbv2.ApplicationListener[]): apigwv2.HttpIntegration[] {
    return plannedLoadBalancers.map(
      (planned, i) =>
        new apigwv2.HttpIntegration(this, `LoadBalancer${planned.index}Integration`, {
          httpApi: this.httpApi,
          integrationType: apigwv2.HttpIntegrationType.HTTP_PROXY,
          integrationUri: listeners[i]!.listenerArn,
          method: apigwv2.HttpMethod.ANY,
          connectionType: apigwv2.HttpConnectionType.VPC_LINK,
          connectionId: this.vpcLink.vpcLinkId,
          payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_1_0,
        }),
    );
  }

  /** The authorizer attached routes name by id: routes in other stacks cannot bind a lazily created one. */
  private createAuthorizer(auth: ApiGatewayJwtAuth | ApiGatewayAuthorizerAuth): apigwv2.HttpAuthorizer {
    if (auth.kind === "jwt") {
      const { issuer, audience } = jwtIssuerAndAudience(auth);
      return new apigwv2.HttpAuthorizer(this, "JwtAuthorizer", {
        httpApi: this.httpApi,
        type: apigwv2.HttpAuthorizerType.JWT,
        identitySource: ["$request.header.Authorization"],
        jwtIssuer: issuer,
        jwtAudience: audience,
      });
    }
    const handler = this.authorizerFunction!;
    const stack = Stack.of(this);
    const authorizer = new apigwv2.HttpAuthorizer(this, "AuthServiceAuthorizer", {
      httpApi: this.httpApi,
      type: apigwv2.HttpAuthorizerType.LAMBDA,
      identitySource: ["$request.header.Authorization"],
      authorizerUri: `arn:${stack.partition}:apigateway:${stack.region}:lambda:path/2015-03-31/functions/${handler.functionArn}/invocations`,
      enableSimpleResponses: true,
      payloadFormatVersion: apigwv2.AuthorizerPayloadVersion.VERSION_2_0,
      resultsCacheTtl: Duration.seconds(auth.cacheSeconds ?? 300),
    });
    handler.addPermission("InvokedByGateway", {
      principal: new iam.ServicePrincipal("apigateway.amazonaws.com"),
      sourceArn: stack.formatArn({ service: "execute-api", resource: this.httpApi.apiId, resourceName: `authorizers/${authorizer.authorizerId}` }),
    });
    return authorizer;
  }

  private attachWebAcl(rateLimit: ApiGatewayRateLimit): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    const rate = wafRateLimit(rateLimit);
    // HTTP APIs cannot take a web ACL, so it guards the load balancers behind the VPC link.
    const webAcl = new wafv2.CfnWebACL(this, "WebAcl", {
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(Names.uniqueId(this).slice(-128)),
      rules: [
        ...WAF_MANAGED_RULE_GROUPS.map((name, i): wafv2.CfnWebACL.RuleProperty => ({
          name,
          priority: (i + 1) * 10,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
          visibilityConfig: visibility(name),
        })),
        { ...wafRateRule(rate), visibilityConfig: visibility(rate.name) },
      ],
    });
    this.loadBalancers.forEach((loadBalancer, i) => {
      new wafv2.CfnWebACLAssociation(this, `WebAclAssociation${i}`, { resourceArn: loadBalancer.loadBalancerArn, webAclArn: webAcl.attrArn });
    });
    return webAcl;
  }

  /** Where the authorizer sends its checks, and the security group rule that lets it. */
  private authorizerCheck(auth: ApiGatewayAuthorizerAuth, loadBalancers: readonly ApiGatewayLoadBalancer[]): AuthorizerCheck {
    if ((auth.target === undefined) === (auth.handlerUrl === undefined)) {
      throw new Error(`ApiGateway: auth { kind: "authorizer" } has ${auth.target ? "both target and handlerUrl" : "neither target nor handlerUrl"}. Fix: give target (the auth service behind this gateway) or handlerUrl (one elsewhere)`);
    }
    const cacheSeconds = auth.cacheSeconds ?? 300;
    if (!Number.isInteger(cacheSeconds) || cacheSeconds < 0 || cacheSeconds > 3600) {
      throw new Error(`ApiGateway: auth.cacheSeconds ${cacheSeconds} is outside 0-3600. Fix: use whole seconds up to an hour`);
    }
    if (auth.handlerUrl !== undefined) {
      return { url: auth.handlerUrl.replace(/\/+$/, ""), ports: authServicePorts(auth.handlerUrl) };
    }
    const index = loadBalancers.findIndex((lb) => lb.routes.some((r) => r.target === auth.target));
    if (index < 0) {
      const targets = [...new Set(loadBalancers.flatMap((lb) => lb.routes.map((r) => r.target)))];
      throw new Error(`ApiGateway: auth.target "${auth.target}" has no route on this gateway. Fix: use one of ${targets.join(", ") || "(no routes)"}, or give handlerUrl`);
    }
    const route = loadBalancers[index]!.routes.find((r) => r.target === auth.target)!;
    const path = auth.authorizePath ?? `${routePrefix(route.path)}${AUTHORIZE_PATH}`;
    if (!ROUTE_PATH.test(path)) throw new Error(`ApiGateway: auth.authorizePath "${path}" must match ${ROUTE_PATH}. Fix: use a path such as /auth/authorize`);
    const port = this.pathListenerPort === 80 ? "" : `:${this.pathListenerPort}`;
    return { url: `http://${this.loadBalancers[index]!.loadBalancerDnsName}${port}${path}`, loadBalancer: true };
  }

  private createAuthorizerFunction(
    check: AuthorizerCheck,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    logKey: kms.IKey,
    retentionDays: number,
    removalPolicy: RemovalPolicy,
  ): lambda.Function {
    const securityGroup = new ec2.SecurityGroup(this, "AuthorizerSecurityGroup", { vpc, description: "Gateway request authorizer", allowAllOutbound: false });
    if (check.loadBalancer) {
      // Only to the auth service's internal load balancer.
      securityGroup.connections.allowTo(this.securityGroup, ec2.Port.tcp(this.pathListenerPort), "Auth service behind the gateway");
    } else {
      for (const port of check.ports ?? []) securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), "Auth service");
    }
    const logGroup = new logs.LogGroup(this, "AuthorizerLogs", { retention: retentionDays, encryptionKey: logKey, removalPolicy });
    const stack = Stack.of(this);
    // Its own role: the managed Lambda policies would also let it create log groups anywhere.
    const role = new iam.Role(this, "AuthorizerRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "Gateway request authorizer: its own logs and VPC network interfaces only",
      inlinePolicies: {
        Authorizer: new iam.PolicyDocument({
          statements: authorizerPolicyStatements({ partition: stack.partition, region: stack.region, account: stack.account, logGroupArn: logGroup.logGroupArn }).map((statement) =>
            iam.PolicyStatement.fromJson(statement),
          ),
        }),
      },
    });
    const handler = new lambda.Function(this, "Authorizer", {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: "index.handler",
      code: lambda.Code.fromInline(AUTHORIZER_HANDLER_SOURCE),
      timeout: Duration.seconds(AUTHORIZER_TIMEOUT_SECONDS + 2),
      memorySize: 256,
      environment: { AUTHORIZE_URL: check.url },
      role,
      vpc,
      vpcSubnets: subnets,
      securityGroups: [securityGroup],
      logGroup,
    });
    acknowledgeInlinePolicy(role, "the gateway's request authorizer");
    Validations.of(handler.node.defaultChild!).acknowledge(
      {
        id: "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
        reason: "The authorizer scales with the gateway's traffic, which the stage's rate and burst limits already bound; a reservation would throttle sign-ins at its cap, or fail to deploy in accounts with a low concurrency quota.",
      },
      {
        id: "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
        reason: "API Gateway invokes the authorizer synchronously and denies the request when it fails; a dead-letter queue applies only to asynchronous invocations.",
      },
    );
    // cdk-nag names each wildcard resource as rendered, with tokens as <Logical.Attribute> or <AWS::Pseudo>.
    const rendered = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
    const logGroupId = stack.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup);
    Validations.of(role).acknowledge(
      {
        id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        reason: "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets, which Lambda needs to place the function in the VPC, support only Resource \"*\".",
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:${rendered(stack.partition, "Partition")}:ec2:${rendered(stack.region, "Region")}:${rendered(stack.account, "AccountId")}:*/*]`,
        reason: "Lambda creates and deletes the function's network interfaces under IDs it chooses; the account and region are the narrowest scope.",
      },
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:*]`,
        reason: "Log streams are created by Lambda under the function's own log group, whose ARN is the fixed prefix.",
      },
    );
    return handler;
  }
}

/** Where the authorizer function sends its checks. */
interface AuthorizerCheck {
  /** Prefix the request path is appended to. */
  readonly url: string;
  /** The check goes to one of this gateway's load balancers. */
  readonly loadBalancer?: boolean;
  /** Ports of an auth service elsewhere. */
  readonly ports?: readonly number[];
}

function jwtAuthorizer(auth: ApiGatewayJwtAuth): authorizers.HttpJwtAuthorizer {
  const { issuer, audience } = jwtIssuerAndAudience(auth);
  return new authorizers.HttpJwtAuthorizer("Jwt", issuer, { jwtAudience: audience });
}

function jwtIssuerAndAudience(auth: ApiGatewayJwtAuth): { issuer: string; audience: string[] } {
  const issuer = auth.issuer ?? auth.directory?.issuerUrl;
  const audience = auth.audience ?? (auth.directory ? [auth.directory.userPoolClient.userPoolClientId] : undefined);
  if (!issuer || !audience || audience.length === 0) {
    throw new Error(`ApiGateway: auth { kind: "jwt" } has no ${issuer ? "audience" : "issuer"}. Fix: pass auth.directory (a UserDirectory), or auth.issuer and a non-empty auth.audience`);
  }
  return { issuer, audience: [...audience] };
}


function resolveLoadBalancers(props: ApiGatewayProps): readonly ApiGatewayLoadBalancer[] {
  if ((props.loadBalancers === undefined) === (props.routes === undefined)) {
    throw new Error(`ApiGateway: ${props.loadBalancers ? "both loadBalancers and routes are" : "neither loadBalancers nor routes is"} set. Fix: pass exactly one (loadBalancers from the plan's gateway.loadBalancers, or routes)`);
  }
  const loadBalancers =
    props.loadBalancers ?? splitRoutes(props.routes!);
  const indexes = new Set<number>();
  const paths = new Set<string>();
  for (const lb of loadBalancers) {
    const where = `loadBalancers[index ${lb.index}]`;
    if (!Number.isInteger(lb.index) || lb.index < 0 || indexes.has(lb.index)) {
      throw new Error(`ApiGateway: ${where}: index must be a unique non-negative integer. Fix: number the load balancers 0, 1, 2...`);
    }
    indexes.add(lb.index);
    if (lb.routes.length > MAX_RULES_PER_LOAD_BALANCER) {
      throw new Error(`ApiGateway: ${where} has ${lb.routes.length} routes; a load balancer is given at most ${MAX_RULES_PER_LOAD_BALANCER} rules. Fix: split them across load balancers (planLandingZone does)`);
    }
    const priorities = new Set<number>();
    const targets = new Map<string, ApiGatewayRoute>();
    for (const route of lb.routes) {
      const at = `${where}.route "${route.path}"`;
      if (!ROUTE_PATH.test(route.path)) throw new Error(`ApiGateway: ${at}: path must match ${ROUTE_PATH}. Fix: use a path such as /api/orders`);
      const prefix = routePrefix(route.path);
      if (paths.has(prefix)) throw new Error(`ApiGateway: ${at}: path ${prefix || "/"} is routed twice. Fix: give each route its own path`);
      paths.add(prefix);
      if (!Number.isInteger(route.priority) || route.priority < 1 || route.priority > 50000 || priorities.has(route.priority)) {
        throw new Error(`ApiGateway: ${at}: priority ${route.priority} must be an integer from 1 to 50000, unique in its load balancer. Fix: renumber the routes`);
      }
      priorities.add(route.priority);
      if (!Number.isInteger(route.port) || route.port < 1 || route.port > 65535) throw new Error(`ApiGateway: ${at}: port ${route.port} is not a TCP port. Fix: use 1-65535`);
      if (route.healthCheckPath !== undefined) validateHealthCheckPath(`${at}.healthCheckPath`, route.healthCheckPath);
      const first = targets.get(route.target);
      if (first && (first.port !== route.port || (first.healthCheckPath ?? "") !== (route.healthCheckPath ?? ""))) {
        throw new Error(`ApiGateway: ${at}: target "${route.target}" already has port ${first.port} and health check ${first.healthCheckPath ?? "(default)"} from route "${first.path}". Fix: give every route of a target the same port and healthCheckPath`);
      }
      if (!first) targets.set(route.target, route);
    }
  }
  return [...loadBalancers].sort((a, b) => a.index - b.index);
}

function validateHealthCheckPath(prop: string, path: string): void {
  if (!path.startsWith("/")) throw new Error(`ApiGateway: ${prop} "${path}" must start with "/". Fix: use a path such as /health`);
}

function validateRateLimit(rateLimit: ApiGatewayRateLimit): void {
  for (const [name, value] of Object.entries(rateLimit)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`ApiGateway: rateLimit.${name} ${value} must be a positive integer. Fix: set it to 1 or more`);
  }
}

function authServicePorts(handlerUrl: string): readonly number[] {
  // A URL known only at deploy time may be either scheme.
  if (Token.isUnresolved(handlerUrl)) return [80, 443];
  let url: URL;
  try {
    url = new URL(handlerUrl);
  } catch {
    throw new Error(`ApiGateway: auth.handlerUrl "${handlerUrl}" is not a URL. Fix: use an absolute URL such as http://auth.internal:8080`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`ApiGateway: auth.handlerUrl "${handlerUrl}" must be http or https. Fix: use an http(s) URL`);
  return [url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80];
}


