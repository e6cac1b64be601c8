import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HTTP_API_ROUTE_QUOTA } from "../../lib/plan/gateway-paths.js";
import { gatewayLoadBalancerSubnets, MAX_RULES_PER_LOAD_BALANCER, placeGatewayRoutes, splitRoutes, type RouteOwner } from "../../lib/plan/load-balancers.js";
import { homeLoadBalancerOf, httpApiRoutesOf } from "../../lib/plan/lookup.js";
import { planLandingZone } from "../../lib/plan/planner.js";

const owner = (name: string, routes: number): RouteOwner => ({
  name,
  routes: Array.from({ length: routes }, (_, i) => ({ path: `/${name}${i === 0 ? "" : `/r${i}`}`, target: name, port: 8080, kind: "service" as const })),
});

/** Rules a load balancer carries: one per route, plus Beanstalk's host rule per environment. */
const rules = (lb: { routes: readonly unknown[]; environments?: readonly string[] }) => lb.routes.length + (lb.environments?.length ?? 0);

describe("placeGatewayRoutes", () => {
  it("splits routes by position when no environment adds a rule of its own", () => {
    const placed = placeGatewayRoutes(Array.from({ length: 200 }, (_, i) => owner(`s${i}`, 1)), { hostRulePerEnvironment: false });
    expect(placed.map((lb) => lb.routes.length)).toEqual([90, 90, 20]);
    expect(placed[1]!.routes.map((r) => r.priority)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
    expect(placed.every((lb) => lb.environments === undefined)).toBe(true);
    expect(splitRoutes([{ path: "/a" }, { path: "/b" }])).toEqual([{ index: 0, routes: [{ path: "/a", priority: 1 }, { path: "/b", priority: 2 }] }]);
  });

  it("on Beanstalk counts each environment's host rule, places unexposed environments too, and keeps an environment's routes together", () => {
    const owners = [owner("a", 1), owner("hidden", 0), owner("bff", 3), ...Array.from({ length: 60 }, (_, i) => owner(`s${i}`, 1))];
    const placed = placeGatewayRoutes(owners, { hostRulePerEnvironment: true });
    expect(placed.flatMap((lb) => lb.environments)).toEqual(owners.map((o) => o.name));
    for (const lb of placed) {
      expect(rules(lb)).toBeLessThanOrEqual(MAX_RULES_PER_LOAD_BALANCER);
      expect(new Set(lb.routes.map((r) => r.target))).toEqual(new Set(lb.routes.map((r) => r.target).filter((t) => lb.environments!.includes(t))));
    }
    // a (2) + hidden (1) + bff (4) + 41 services (2 each) = 89; the next would pass 90.
    expect(placed.map((lb) => lb.environments!.length)).toEqual([44, 19]);
    expect(() => placeGatewayRoutes([owner("huge", 90)], { hostRulePerEnvironment: true })).toThrow(/huge: 90 gateway routes.*Fix: give huge at most 89 routes/);
  });

  it("never moves a placed route when an owner is appended", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 5 }), fc.boolean(), (sizes, added, beanstalk) => {
        const owners = sizes.map((n, i) => owner(`s${i}`, n));
        const before = placeGatewayRoutes(owners, { hostRulePerEnvironment: beanstalk });
        const after = placeGatewayRoutes([...owners, owner("new", added)], { hostRulePerEnvironment: beanstalk });
        before.forEach((lb, i) => expect(after[i]!.routes.slice(0, lb.routes.length)).toEqual(lb.routes));
        for (const lb of after) expect(rules(lb)).toBeLessThanOrEqual(MAX_RULES_PER_LOAD_BALANCER);
      }),
    );
  });
});

describe("200 services on aws/paas", () => {
  const services = Array.from({ length: 200 }, (_, i) => ({ name: `svc-${i}`, expose: i % 4 !== 3 }));
  const plan = planLandingZone({ name: "shop", region: "ap-northeast-2", tier: "paas", environment: "prod", gateway: { auth: "jwt" }, services });

  it("fits every load balancer's rules quota with Beanstalk's host rules counted, and the HTTP API's route quota", () => {
    for (const lb of plan.gateway.loadBalancers) expect(rules(lb)).toBeLessThanOrEqual(MAX_RULES_PER_LOAD_BALANCER);
    expect(plan.gateway.loadBalancers.flatMap((lb) => lb.environments)).toHaveLength(200);
    // Only routes past the first load balancer have API routes of their own; the catch-all serves the rest.
    const layout = httpApiRoutesOf(plan);
    expect(layout.defaultLoadBalancer).toBe(0);
    expect(layout.routeCount).toBeLessThanOrEqual(HTTP_API_ROUTE_QUOTA);
  });

  it("homes each service on the load balancer that lists its environment, exposed or not", () => {
    for (const lb of plan.gateway.loadBalancers) for (const name of lb.environments!) expect(homeLoadBalancerOf(plan, name)).toBe(lb.index);
    expect(homeLoadBalancerOf(plan, "svc-199")).toBe(plan.gateway.loadBalancers.length - 1);
  });
});

describe("gatewayLoadBalancerSubnets", () => {
  it("puts the AWS gateway's balancers apart from the pods on EKS only, where they target pod addresses", () => {
    const services = [{ name: "orders" }];
    const subnets = (cloud: "aws", tier: "iaas" | "caas" | "paas") => planLandingZone({ name: "shop", cloud, region: "ap-northeast-2", tier, services }).gateway.loadBalancerSubnets;
    expect(subnets("aws", "caas")).toBe("public");
    // VMs and Beanstalk admit the balancers by security group, not by range.
    expect(subnets("aws", "iaas")).toBe("private");
    expect(subnets("aws", "paas")).toBe("private");
    for (const tier of ["iaas", "caas", "paas"] as const) expect(gatewayLoadBalancerSubnets("gcp", tier)).toBe("private");
  });
});
