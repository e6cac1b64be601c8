import { CATALOG, ENGINE_SUPPORT } from "../plan/catalog.js";
import { CAPABILITIES, type Capability, type Engine } from "../plan/types.js";
import { CLOUDS, TIERS } from "../spec/schema.js";
import type { Cloud, Tier } from "../spec/types.js";

/** The seed's name for each capability, so the table reads in the patterns' own words. */
export const CAPABILITY_PATTERNS: Readonly<Record<Capability, string>> = {
  network: "Network (VPC / VNet, subnets, NAT)",
  compute: "Compute platform (VMs, Kubernetes, app platform)",
  registry: "Container registry per service",
  gateway: "API gateway and load balancing",
  bff: "Backend for frontend per channel",
  discovery: "Service registry and discovery",
  config: "External configuration store",
  sessions: "Central session store (Redis)",
  tokens: "Client tokens (JWT) checked at the gateway",
  authService: "Gateway + dedicated auth service",
  mesh: "Service mesh and circuit breaker (Istio)",
  monitoring: "Monitoring: dashboards and alarms",
  tracing: "Distributed tracing",
  logging: "Centralized logs: ELK with a Redis buffer",
  broker: "Message broker (event-driven)",
  database: "Database per service",
  saga: "Saga (orchestration or choreography)",
  readModel: "CQRS read model",
  eventStore: "Event sourcing",
  pipeline: "Build/deploy pipeline per service",
  frontends: "Micro-frontends",
};

/** The engine and cloud pairs the README reports, in column order. */
export const FEATURE_TARGETS: readonly { readonly engine: Engine; readonly cloud: Cloud; readonly label: string }[] = [
  { engine: "cdk", cloud: "aws", label: "AWS · CDK" },
  { engine: "pulumi", cloud: "aws", label: "AWS · Pulumi" },
  { engine: "pulumi", cloud: "gcp", label: "GCP · Pulumi" },
  { engine: "pulumi", cloud: "azure", label: "Azure · Pulumi" },
  { engine: "pulumi", cloud: "kubernetes", label: "Kubernetes · Pulumi" },
];

function supportedTiers(engine: Engine, cloud: Cloud, capability: Capability): Tier[] {
  const built = ENGINE_SUPPORT[engine][cloud]?.[capability] ?? [];
  return TIERS.filter((tier) => built.includes(tier) && CATALOG[cloud][capability][tier] !== undefined);
}

/**
 * The README's feature table: one row per seed pattern, one column per engine and cloud; a cell
 * lists the service models in which it is built (with the implementation), or "—".
 */
export function renderFeatureTable(): string {
  const header = `| Pattern | ${FEATURE_TARGETS.map((t) => t.label).join(" | ")} |`;
  const rule = `|---|${FEATURE_TARGETS.map(() => "---").join("|")}|`;
  const rows = CAPABILITIES.map((capability) => {
    const cells = FEATURE_TARGETS.map(({ engine, cloud }) => {
      const tiers = supportedTiers(engine, cloud, capability);
      if (tiers.length === 0) return "—";
      const implementations = [...new Set(tiers.map((tier) => CATALOG[cloud][capability][tier]!))];
      return `${tiers.join(", ")}: ${implementations.join(" / ")}`;
    });
    return `| ${CAPABILITY_PATTERNS[capability]} | ${cells.join(" | ")} |`;
  });
  return [header, rule, ...rows].join("\n");
}

/**
 * Which (cloud, tier) pairs give a landing zone (network and compute built), per engine: "✓" when
 * built, "offered, not built yet" when the catalog has it, "—" where the cloud has no such model.
 */
export function renderCoverageTable(): string {
  const header = `| Cloud | ${TIERS.map((t) => t).join(" | ")} |`;
  const rule = `|---|${TIERS.map(() => "---").join("|")}|`;
  const rows = CLOUDS.map((cloud) => {
    const cells = TIERS.map((tier) => {
      if (CATALOG[cloud].compute[tier] === undefined) return "—";
      const engines = (["cdk", "pulumi"] as const).filter((engine) => ["network", "compute"].every((c) => ENGINE_SUPPORT[engine][cloud]?.[c as Capability]?.includes(tier)));
      return engines.length > 0 ? `✓ ${engines.map((e) => (e === "cdk" ? "CDK" : "Pulumi")).join(", ")}` : "offered, not built yet";
    });
    return `| ${cloud} | ${cells.join(" | ")} |`;
  });
  return [header, rule, ...rows].join("\n");
}

const START = "<!-- generated:features -->";
const END = "<!-- /generated:features -->";

/** The README with its generated section replaced by the current tables. */
export function withFeatureTables(readme: string): string {
  const begin = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${START} … ${END} section. Fix: add both markers where the feature tables go`);
  const body = ["", "Which (cloud, service model) pairs give a whole landing zone:", "", renderCoverageTable(), "", "Each pattern of the seed, per engine and cloud (the service models it is built in, and what it becomes):", "", renderFeatureTable(), ""].join("\n");
  return `${readme.slice(0, begin + START.length)}\n${body}\n${readme.slice(end)}`;
}
