/** `/api/orders/` → `/api/orders`; `/` → `` (the root prefix). */
export function routePrefix(path: string): string {
  return path.replace(/\/+$/, "");
}

/** HTTP API route paths for a prefix: the prefix itself, then everything below it (`{proxy+}`). */
export function apiRoutePaths(path: string): readonly [prefix: string, proxy: string] {
  const prefix = routePrefix(path);
  return [prefix === "" ? "/" : prefix, `${prefix}/{proxy+}`];
}

/** Load balancer path patterns for a prefix: the prefix itself and everything below it. */
export function loadBalancerPathPatterns(path: string): string[] {
  const prefix = routePrefix(path);
  return prefix === "" ? ["/*"] : [prefix, `${prefix}/*`];
}

/** Port of the gateway load balancers' listener that the HTTP API reaches and whose rules route by path. */
export const GATEWAY_LISTENER_PORT = 80;

/**
 * aws/paas: port of the path listener. Beanstalk puts its environments' host rules on the port-80
 * listener and numbers them itself, so the path rules get a listener of their own to keep their
 * planned priorities free of Beanstalk's.
 */
export const BEANSTALK_PATH_LISTENER_PORT = 8080;

/** API Gateway's default (adjustable, per API) quota of routes per HTTP API. */
export const HTTP_API_ROUTE_QUOTA = 300;

/** A gateway route where the plan put it: its path prefix, its target and its load balancer's index. */
export interface PlacedGatewayRoute {
  readonly path: string;
  readonly target: string;
  readonly loadBalancer: number;
}

/** Which HTTP API routes the gateway needs; see {@link httpApiRouteLayout}. */
export interface HttpApiRouteLayout {
  /**
   * Load balancer whose integration serves the catch-all routes `ANY /` and `ANY /{proxy+}` with the
   * gateway's default authorizer; its listener then routes by path and answers 404 to the rest.
   * Undefined: every route has routes of its own.
   */
  readonly defaultLoadBalancer?: number;
  /** Whether a route needs its own `ANY <prefix>` and `ANY <prefix>/{proxy+}`, because the catch-all does not reach it. */
  hasOwnRoutes(route: PlacedGatewayRoute): boolean;
  /** HTTP API routes in all, to compare with API Gateway's routes-per-API quota. */
  readonly routeCount: number;
}

/**
 * The HTTP API's routes. Routes on the first load balancer, checked by the default authorizer, need
 * none of their own: the catch-all sends them to that load balancer, whose listener rules already
 * route by path. So the API holds two routes plus two per route elsewhere (later load balancers, the
 * auth service's unchecked sign-in routes), and 200 services fit API Gateway's 300 routes per API.
 * Every route has its own when one claims the root prefix, which the catch-all would shadow.
 */
export function httpApiRouteLayout(routes: readonly PlacedGatewayRoute[], options: { readonly uncheckedTarget?: string }): HttpApiRouteLayout {
  const catchAll = routes.length > 0 && routes.every((route) => routePrefix(route.path) !== "");
  const defaultLoadBalancer = catchAll ? Math.min(...routes.map((route) => route.loadBalancer)) : undefined;
  const hasOwnRoutes = (route: PlacedGatewayRoute) => route.loadBalancer !== defaultLoadBalancer || route.target === options.uncheckedTarget;
  const routeCount = (catchAll ? 2 : 0) + routes.filter(hasOwnRoutes).reduce((n, route) => n + apiRoutePaths(route.path).length, 0);
  return { ...(defaultLoadBalancer === undefined ? {} : { defaultLoadBalancer }), hasOwnRoutes, routeCount };
}

/** Fields of each HTTP API access log line (JSON, one request per line), the same in both engines. */
export const HTTP_API_ACCESS_LOG_FIELDS = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  method: "$context.httpMethod",
  routeKey: "$context.routeKey",
  path: "$context.path",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationStatus: "$context.integration.status",
  integrationLatency: "$context.integration.latency",
  integrationError: "$context.integrationErrorMessage",
  authorizerError: "$context.authorizer.error",
} as const;
