/**
 * How the gateway's routes are split across its internal Application Load Balancers. An ALB holds at
 * most 100 rules besides its listeners' default rules (a service quota counted per load balancer,
 * over all its listeners), so routes are packed into load balancers instead of failing at deploy time.
 */
import type { Cloud, Tier } from "../spec/types.js";
import type { GatewayLoadBalancerSubnets, LoadBalancerPlan, RoutePlan } from "./types.js";

/** Rules a load balancer is given: the quota of 100, less headroom for manual additions. */
export const MAX_RULES_PER_LOAD_BALANCER = 90;

/** A route before it has a load balancer and a priority. */
export type UnplacedRoute = Omit<RoutePlan, "priority">;

/** A service or BFF with its gateway routes ([] when it is not exposed). */
export interface RouteOwner {
  readonly name: string;
  readonly routes: readonly UnplacedRoute[];
}

/**
 * Packs routes into load balancers, in spec order so appending a service never moves another one's
 * rules. Priorities count from 1 on each load balancer.
 *
 * With `hostRulePerEnvironment` (Elastic Beanstalk environments on shared load balancers) every owner,
 * exposed or not, is an environment attached to one load balancer, where Beanstalk adds a rule
 * matching its host name; so an owner costs one rule plus one per route, and all its routes stay on
 * its own load balancer, listed in `environments`.
 */
export function placeGatewayRoutes(owners: readonly RouteOwner[], options: { readonly hostRulePerEnvironment: boolean }): LoadBalancerPlan[] {
  if (!options.hostRulePerEnvironment) return splitRoutes(owners.flatMap((owner) => owner.routes));
  const placed: { routes: RoutePlan[]; environments: string[]; rules: number }[] = [];
  for (const owner of owners) {
    const cost = 1 + owner.routes.length;
    if (cost > MAX_RULES_PER_LOAD_BALANCER) {
      throw new Error(
        `${owner.name}: ${owner.routes.length} gateway routes and its environment's host rule pass the ${MAX_RULES_PER_LOAD_BALANCER} rules one load balancer is given, and a Beanstalk environment attaches to one load balancer. Fix: give ${owner.name} at most ${MAX_RULES_PER_LOAD_BALANCER - 1} routes`,
      );
    }
    const last = placed.at(-1);
    const lb = last && last.rules + cost <= MAX_RULES_PER_LOAD_BALANCER ? last : placed[placed.push({ routes: [], environments: [], rules: 0 }) - 1]!;
    lb.rules += cost;
    lb.environments.push(owner.name);
    for (const route of owner.routes) lb.routes.push({ ...route, priority: lb.routes.length + 1 });
  }
  return placed.map((lb, index) => ({ index, routes: lb.routes, environments: lb.environments }));
}

/** Routes in order, `MAX_RULES_PER_LOAD_BALANCER` per load balancer, each numbered from 1 on its own. */
export function splitRoutes<R extends object>(routes: readonly R[]): { index: number; routes: (R & { priority: number })[] }[] {
  const loadBalancers: { index: number; routes: (R & { priority: number })[] }[] = [];
  for (let start = 0; start < routes.length; start += MAX_RULES_PER_LOAD_BALANCER) {
    const index = loadBalancers.length;
    loadBalancers.push({ index, routes: routes.slice(start, start + MAX_RULES_PER_LOAD_BALANCER).map((route, i) => ({ ...route, priority: i + 1 })) });
  }
  return loadBalancers;
}

/**
 * Where the AWS gateway's internal load balancers sit. On EKS they target pod IPs directly, and the
 * VPC CNI gives pods addresses in the private subnets, so a pod's NetworkPolicy could not tell the
 * balancer from another pod there; with the mesh that port takes plaintext (the balancer has no mesh
 * certificate), which another pod could then send too. The public subnets hold only NAT gateways and
 * these balancers, which stay internal (no public address, reachable only from inside the VPC), so
 * the pods admit those ranges alone. VMs and Beanstalk admit the balancers by security group, and
 * stay behind balancers in the private subnets.
 */
export function gatewayLoadBalancerSubnets(cloud: Cloud, tier: Tier): GatewayLoadBalancerSubnets {
  return cloud === "aws" && tier === "caas" ? "public" : "private";
}
