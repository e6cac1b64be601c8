import type { LandingZonePlan, ServicePlan, SubscriptionPlan } from "./types.js";

/** Indexes over one plan, so code run once per service looks things up instead of scanning every service. */
interface PlanLookup {
  readonly services: ReadonlyMap<string, ServicePlan>;
  /** Subscriber → its subscriptions, in topic order. */
  readonly subscriptions: ReadonlyMap<string, readonly SubscriptionPlan[]>;
  /** Services and BFFs with at least one gateway route. */
  readonly routed: ReadonlySet<string>;
  /** Service or BFF → the image its spec names, when it names one. */
  readonly specImages: ReadonlyMap<string, string>;
}

// Plans are immutable data, so an index built once per plan stays right; the WeakMap lets it go with the plan.
const lookups = new WeakMap<LandingZonePlan, PlanLookup>();

function lookup(plan: LandingZonePlan): PlanLookup {
  let found = lookups.get(plan);
  if (!found) {
    const subscriptions = new Map<string, SubscriptionPlan[]>();
    for (const topic of plan.broker?.topics ?? []) {
      for (const s of topic.subscriptions) {
        const list = subscriptions.get(s.subscriber);
        if (list) list.push(s);
        else subscriptions.set(s.subscriber, [s]);
      }
    }
    const specImages = new Map<string, string>();
    for (const s of [...plan.spec.services, ...plan.spec.bffs]) if (s.image) specImages.set(s.name, s.image);
    found = { services: new Map(plan.services.map((s) => [s.name, s])), subscriptions, routed: new Set(plan.gateway.routes.map((r) => r.target)), specImages };
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

/** Whether the gateway routes to the service or BFF named `name`. */
export function isRouted(plan: LandingZonePlan, name: string): boolean {
  return lookup(plan).routed.has(name);
}

/** The image the spec names for a service or BFF; undefined when it names none (the plan's default image is then used). */
export function specImageOf(plan: LandingZonePlan, name: string): string | undefined {
  return lookup(plan).specImages.get(name);
}
