import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planLandingZone } from "../../lib/plan/planner.js";
import { createLandingZone } from "../../lib/pulumi/index.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import type { LandingZoneSpec } from "../../lib/spec/types.js";
import { GCP_CONFIG, runProgram } from "./harness.js";

/**
 * An internal service (`expose: false`) with its own database, subscribing to an event, on every
 * (cloud, tier) the Pulumi engine builds: the program registers every resource it constructs (the
 * harness fails on an input whose apply threw), the service gets its workload, and nothing of the
 * gateway names it.
 */
const INTERNAL = "ledger";

type Tier = LandingZoneSpec["tier"];
interface Target {
  readonly example: string;
  readonly tier: Tier;
  readonly config?: Readonly<Record<string, string>>;
}

const TARGETS: readonly Target[] = [
  { example: "examples/aws-iaas/landing-zone.yaml", tier: "iaas" },
  { example: "examples/shop/landing-zone.yaml", tier: "caas" },
  { example: "examples/aws-paas/landing-zone.yaml", tier: "paas" },
  ...(["iaas", "caas", "paas"] as const).map((tier) => ({ example: "examples/gcp/landing-zone.yaml", tier, config: GCP_CONFIG })),
  ...(["iaas", "caas", "paas"] as const).map((tier) => ({ example: "examples/azure/landing-zone.yaml", tier })),
  { example: "examples/kubernetes/landing-zone.yaml", tier: "caas" },
];

/** The example on `tier`, with what only clusters offer turned off elsewhere, plus the internal service. */
function specOf(target: Target): LandingZoneInput {
  const example = loadSpecFile(target.example);
  const event = example.services.flatMap((s) => s.publishes)[0];
  const input = parse(readFileSync(target.example, "utf8")) as LandingZoneInput;
  return {
    ...input,
    tier: target.tier,
    ...(target.tier === "caas" ? {} : { mesh: { kind: "none" } }),
    services: [...(input.services ?? []), { name: INTERNAL, expose: false, ...(event ? { subscribes: [event] } : {}), database: { engine: "postgres" } }],
  };
}

describe("an internal service with a database and a subscription, on every Pulumi target", () => {
  for (const target of TARGETS) {
    const cloud = loadSpecFile(target.example).cloud;
    it(`${cloud} ${target.tier}`, async () => {
      const spec = specOf(target);
      const plan = planLandingZone(spec, { engine: "pulumi" });
      expect(plan.services.find((s) => s.name === INTERNAL)?.expose).toBe(false);
      const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })), target.config ? { config: target.config } : {});
      const own = new Set(resources.filter((r) => r.name.includes(INTERNAL) && r.type.startsWith("msa:")).map((r) => r.type.split(":")[2]));
      expect([...own].some((t) => /^(ServiceWorkload|VmService|PaasService|InstanceGroupService|AppEngineService)$/.test(t!))).toBe(true);
      // On an existing cluster the database is objects of the CloudNativePG operator, not a component.
      if (cloud !== "kubernetes") expect(own.has("ServiceDatabase")).toBe(true);
      const gateway = resources.find((r) => /^msa:[a-z]+:ApiGateway$/.test(r.type));
      const underGateway = gateway ? resources.filter((r) => r.path === gateway.path || r.path.startsWith(`${gateway.path}/`)) : [];
      expect(underGateway.filter((r) => JSON.stringify(r.inputs).includes(INTERNAL)).map((r) => `${r.type}::${r.name}`)).toEqual([]);
    });
  }
});
