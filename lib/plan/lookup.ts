import { httpApiRouteLayout, type HttpApiRouteLayout } from "./gateway-paths.js";
import type { LandingZonePlan, RoutePlan, ServicePlan, SubscriptionPlan, TopicPlan } from "./types.js";

/** A gateway route with the index of the load balancer that carries it. */
export interface PlacedRoute {
  readonly route: RoutePlan;
  readonly loadBalancer: number;
}

/** A topic a service subscribes to, with the service's subscription of it. */
export interface SubscribedTopic {
  readonly topic: TopicPlan;
  readonly subscription: SubscriptionPlan;
}

/** Indexes over one plan, so code run once per service looks things up instead of scanning every service. */
interface PlanLookup {
  readonly services: ReadonlyMap<string, ServicePlan>;
  /** Subscriber → its subscriptions, in topic order. */
  readonly subscriptions: ReadonlyMap<string, readonly SubscriptionPlan[]>;
  /** Service or BFF → its gateway routes, in load balancer and route order. */
  readonly routes: ReadonlyMap<string, readonly PlacedRoute[]>;
  /** Subscriber → the topics it subscribes to, with its subscription of each, in topic order. */
  readonly subscribedTopics: ReadonlyMap<string, readonly SubscribedTopic[]>;
  /** Service or BFF → the image its spec names, when it names one. */
  readonly specImages: ReadonlyMap<string, string>;
  readonly httpApiRoutes: HttpApiRouteLayout;
}

// Plans are immutable data, so an index built once per plan stays right; the WeakMap lets it go with the plan.
const lookups = new WeakMap<LandingZonePlan, PlanLookup>();

function lookup(plan: LandingZonePlan): PlanLookup {
  let found = lookups.get(plan);
  if (!found) {
    const subscriptions = new Map<string, SubscriptionPlan[]>();
    const subscribedTopics = new Map<string, SubscribedTopic[]>();
    for (const topic of plan.broker?.topics ?? []) {
      for (const s of topic.subscriptions) {
        const list = subscriptions.get(s.subscriber);
        if (list) list.push(s);
        else subscriptions.set(s.subscriber, [s]);
        const topics = subscribedTopics.get(s.subscriber);
        if (topics) topics.push({ topic, subscription: s });
        else subscribedTopics.set(s.subscriber, [{ topic, subscription: s }]);
      }
    }
    const specImages = new Map<string, string>();
    for (const s of [...plan.spec.services, ...plan.spec.bffs]) if (s.image) specImages.set(s.name, s.image);
    const routes = new Map<string, PlacedRoute[]>();
    for (const lb of plan.gateway.loadBalancers) {
      for (const route of lb.routes) {
        const list = routes.get(route.target);
        if (list) list.push({ route, loadBalancer: lb.index });
        else routes.set(route.target, [{ route, loadBalancer: lb.index }]);
      }
    }
    const httpApiRoutes = httpApiRouteLayout(
      plan.gateway.loadBalancers.flatMap((lb) => lb.routes.map((route) => ({ path: route.path, target: route.target, loadBalancer: lb.index }))),
      uncheckedTargetOf(plan) ? { uncheckedTarget: uncheckedTargetOf(plan)! } : {},
    );
    found = { services: new Map(plan.services.map((s) => [s.name, s])), subscriptions, routes, subscribedTopics, specImages, httpApiRoutes };
    lookups.set(plan, found);
  }
  return found;
}

/** The service or BFF named `name`, or undefined when the plan has none. */
export function serviceNamed(plan: LandingZonePlan, name: string): ServicePlan | undefined {
  return lookup(plan).services.get(name);
}

/** The broker subscriptions `subscriber` consumes, in topic order; [] without a broker. */
export function subscriptionsOf(plan: LandingZonePlan, subscriber: string): readonly SubscriptionPlan[] {
  return lookup(plan).subscriptions.get(subscriber) ?? [];
}

/** The topics `subscriber` subscribes to, with its subscription of each, in topic order; [] without a broker. */
export function subscribedTopicsOf(plan: LandingZonePlan, subscriber: string): readonly SubscribedTopic[] {
  return lookup(plan).subscribedTopics.get(subscriber) ?? [];
}

/** The gateway routes to the service or BFF named `name`, with their load balancers; [] when it is not exposed. */
export function routesTo(plan: LandingZonePlan, name: string): readonly PlacedRoute[] {
  return lookup(plan).routes.get(name) ?? [];
}

/**
 * The gateway load balancer a service or BFF sits on: on aws/paas the one its Beanstalk environment
 * attaches to (exposed or not), elsewhere the one of its first route; 0 when it has none.
 */
export function homeLoadBalancerOf(plan: LandingZonePlan, name: string): number {
  const lb = plan.gateway.loadBalancers.find((l) => l.environments?.includes(name)) ?? plan.gateway.loadBalancers.find((l) => l.routes.some((r) => r.target === name));
  return lb?.index ?? 0;
}

/** The HTTP API's routes on AWS: which gateway routes need their own and which the catch-all serves. */
export function httpApiRoutesOf(plan: LandingZonePlan): HttpApiRouteLayout {
  return lookup(plan).httpApiRoutes;
}

/** The service whose gateway routes the gateway's authorizer does not check: the auth service, which issues what it checks. */
export function uncheckedTargetOf(plan: LandingZonePlan): string | undefined {
  return plan.gateway.auth === "authorizer" ? plan.auth?.authorizer?.service : undefined;
}

/** The image the spec names for a service or BFF; undefined when it names none (the plan's default image is then used). */
export function specImageOf(plan: LandingZonePlan, name: string): string | undefined {
  return lookup(plan).specImages.get(name);
}
