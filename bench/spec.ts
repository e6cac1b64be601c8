import type { LandingZoneInput } from "../lib/spec/schema.js";

/** Zero-padded index, so names sort in creation order and every N shares a prefix. */
const pad = (i: number) => String(i).padStart(4, "0");

/** The name of the `i`th generated service. */
export const serviceName = (i: number) => `svc-${pad(i)}`;

/** The event the `i`th service publishes; every even service publishes one. */
export const eventOf = (i: number) => `evt-${pad(i)}`;

/**
 * Events the `i`th service subscribes to: the event of the nearest even service before it, and
 * every fourth service also the one before that, so the broker grows about 1.25 queues per service.
 */
export function subscriptionsOf(i: number): number[] {
  const nearest = i % 2 === 0 ? i - 2 : i - 1;
  const sources = i % 4 === 3 ? [nearest, nearest - 2] : [nearest];
  return sources.filter((j) => j >= 0);
}

/** Topic stacks of the `n`-service zone: one per 100 events (each near 300 resources, under CloudFormation's 500), at most the spec's 20. */
export const topicStacksOf = (n: number) => Math.min(20, Math.max(1, Math.ceil(Math.ceil(n / 2) / 100)));

/**
 * A landing zone of `n` services for the benchmark: AWS, CaaS, prod, with what a real zone has
 * (events published and subscribed, secrets, per-service config, two BFFs, some internal services),
 * deterministic so every run and every engine builds the same thing. Capabilities the CDK engine
 * does not build yet are off, so the same spec runs through both engines.
 */
export function benchSpec(n: number): LandingZoneInput {
  if (!Number.isInteger(n) || n < 1 || n > 9999) throw new Error(`benchSpec: n ${n} must be an integer from 1 to 9999`);
  return {
    name: "bench",
    cloud: "aws",
    region: "us-east-1",
    tier: "caas",
    environment: "prod",
    network: { cidr: "10.0.0.0/16", zones: 3 },
    gateway: { auth: "jwt", waf: true },
    bffs: ["web", "mobile"],
    auth: { sessions: "redis", tokens: "jwt" },
    config: { values: { LOG_FORMAT: "json" } },
    logging: { stack: "elk", buffer: "redis", shipper: "filebeat" },
    messaging: { broker: "sns-sqs", topicStacks: topicStacksOf(n) },
    mesh: { kind: "istio" },
    tracing: { backend: "none" },
    monitoring: { dashboards: false, alarms: false },
    pipelines: { perService: false },
    services: Array.from({ length: n }, (_, i) => ({
      name: serviceName(i),
      // One service in ten is internal: reached through the mesh only, not the gateway.
      expose: i % 10 !== 9,
      ...(i % 2 === 0 ? { publishes: [eventOf(i)] } : {}),
      ...(subscriptionsOf(i).length > 0 ? { subscribes: subscriptionsOf(i).map(eventOf) } : {}),
      ...(i % 3 === 0 ? { secrets: ["DB_PASSWORD", "API_KEY"] } : i % 3 === 1 ? { secrets: ["API_KEY"] } : {}),
      config: { LOG_LEVEL: i % 5 === 0 ? "debug" : "info", FEATURE_FLAGS: `flag-${i % 7}` },
    })),
  };
}
