import { describe, expect, it } from "vitest";
import { HTTP_API_ROUTE_QUOTA, apiRoutePaths, httpApiRouteLayout, loadBalancerPathPatterns, type PlacedGatewayRoute } from "../../lib/plan/gateway-paths.js";

const placed = (n: number, perLoadBalancer: number): PlacedGatewayRoute[] =>
  Array.from({ length: n }, (_, i) => ({ path: `/s${i}`, target: `s${i}`, loadBalancer: Math.floor(i / perLoadBalancer) }));

describe("gateway paths", () => {
  it("gives a prefix and everything below it, to the HTTP API and to the load balancer", () => {
    expect(apiRoutePaths("/api/orders/")).toEqual(["/api/orders", "/api/orders/{proxy+}"]);
    expect(loadBalancerPathPatterns("/api/orders")).toEqual(["/api/orders", "/api/orders/*"]);
    expect(loadBalancerPathPatterns("/")).toEqual(["/*"]);
  });
});

describe("httpApiRouteLayout", () => {
  it("serves the first load balancer's routes through the catch-all and gives the others their own", () => {
    const routes = placed(200, 90);
    const layout = httpApiRouteLayout(routes, {});
    expect(layout.defaultLoadBalancer).toBe(0);
    expect(routes.filter((r) => layout.hasOwnRoutes(r)).map((r) => r.loadBalancer)).toEqual(Array(110).fill(0).map((_, i) => (i < 90 ? 1 : 2)));
    // 2 for the catch-all, 2 for each of the 110 routes past the first load balancer: within the quota.
    expect(layout.routeCount).toBe(2 + 2 * 110);
    expect(layout.routeCount).toBeLessThanOrEqual(HTTP_API_ROUTE_QUOTA);
  });

  it("gives the unchecked auth service its own open routes even on the first load balancer", () => {
    const routes = placed(3, 90);
    const layout = httpApiRouteLayout(routes, { uncheckedTarget: "s1" });
    expect(routes.map((r) => layout.hasOwnRoutes(r))).toEqual([false, true, false]);
    expect(layout.routeCount).toBe(4);
  });

  it("gives every route its own when one claims the root prefix, which the catch-all would shadow", () => {
    const routes = [...placed(2, 90), { path: "/", target: "shell", loadBalancer: 0 }];
    const layout = httpApiRouteLayout(routes, {});
    expect(layout.defaultLoadBalancer).toBeUndefined();
    expect(routes.every((r) => layout.hasOwnRoutes(r))).toBe(true);
    expect(layout.routeCount).toBe(2 * routes.length);
    expect(httpApiRouteLayout([], {})).toMatchObject({ routeCount: 0 });
  });
});
