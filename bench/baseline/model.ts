/**
 * What the hand-written baselines build for N services, derived by hand from the benchmark's
 * generator parameters (not from lib/plan): the names, routes, topics and queues a team writing
 * the same landing zone in raw CloudFormation would list itself.
 */
import { createHash } from "node:crypto";
import { eventOf, serviceName, subscriptionsOf, topicStacksOf } from "../spec.js";

export const ZONE = "bench";
export const ENV = "prod";
export const REGION = "us-east-1";
export const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"] as const;
export const NAMESPACE = "bench";
export const TAGS = { "msa:environment": ENV, "msa:landing-zone": ZONE } as const;
/** Listener rules per load balancer, as the landing zone splits them. */
export const RULES_PER_LISTENER = 90;

export interface BaselineService {
  readonly name: string;
  /** PascalCase, for logical ids. */
  readonly id: string;
  readonly kind: "service" | "bff";
  readonly expose: boolean;
  readonly port: number;
  readonly path: string;
  readonly publishes: readonly string[];
  /** Queues this service consumes: `<service>_<event>`. */
  readonly subscriptions: readonly { readonly event: string; readonly queue: string }[];
  readonly secrets: readonly string[];
  readonly config: Readonly<Record<string, string>>;
  readonly replicas: { readonly min: number; readonly max: number };
}

export interface BaselineRoute {
  readonly target: BaselineService;
  readonly loadBalancer: number;
  readonly priority: number;
}

/** A topic of the messaging stack; its subscribers' queues live in their own service stacks. */
export interface BaselineTopic {
  readonly event: string;
  readonly id: string;
  /** Its topic stack: 0 is `-messaging` (with the key), n is `-messaging-<n>`. */
  readonly stack: number;
}

export interface BaselineModel {
  readonly services: readonly BaselineService[];
  readonly routes: readonly BaselineRoute[];
  readonly loadBalancers: number;
  readonly topics: readonly BaselineTopic[];
  /** Stacks the topics are spread over (the spec's `messaging.topicStacks`). */
  readonly topicStacks: number;
}

export const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");

export function baselineModel(n: number): BaselineModel {
  const services: BaselineService[] = [];
  for (let i = 0; i < n; i++) {
    const name = serviceName(i);
    services.push({
      name,
      id: pascal(name),
      kind: "service",
      expose: i % 10 !== 9,
      port: 8080,
      path: `/${name}`,
      publishes: i % 2 === 0 ? [eventOf(i)] : [],
      subscriptions: subscriptionsOf(i).map((j) => ({ event: eventOf(j), queue: `${name}_${eventOf(j)}` })),
      secrets: i % 3 === 0 ? ["DB_PASSWORD", "API_KEY"] : i % 3 === 1 ? ["API_KEY"] : [],
      config: { LOG_FORMAT: "json", LOG_LEVEL: i % 5 === 0 ? "debug" : "info", FEATURE_FLAGS: `flag-${i % 7}` },
      replicas: { min: 2, max: 6 },
    });
  }
  for (const bff of ["web", "mobile"]) {
    services.push({
      name: bff,
      id: pascal(bff),
      kind: "bff",
      expose: true,
      port: 8080,
      path: `/${bff}`,
      publishes: [],
      subscriptions: [],
      secrets: [],
      config: { LOG_FORMAT: "json" },
      replicas: { min: 2, max: 6 },
    });
  }
  const routes = services
    .filter((s) => s.expose)
    .map((target, i) => ({ target, loadBalancer: Math.floor(i / RULES_PER_LISTENER), priority: (i % RULES_PER_LISTENER) + 1 }));
  const topicStacks = topicStacksOf(n);
  // A team splitting its topics would pick a stable placement too: the first 4 bytes of the event name's SHA-256, modulo the stacks.
  const topics = services
    .flatMap((s) => s.publishes)
    .sort()
    .map((event) => ({ event, id: pascal(event), stack: createHash("sha256").update(event).digest().readUInt32BE(0) % topicStacks }));
  return { services, routes, loadBalancers: Math.ceil(routes.length / RULES_PER_LISTENER), topics, topicStacks };
}

/** `/msa/bench/prod/...`: where shared stacks publish what service stacks read. */
export const parameterName = (...path: string[]) => `/msa/${ZONE}/${ENV}/${path.join("/")}`;

export const envName = (kind: "TOPIC" | "QUEUE", name: string) => `${kind}_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_ARN`;
