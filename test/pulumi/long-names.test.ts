import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { fittedAutoname, NAME_RULES, PULUMI_AUTONAME_SUFFIX_LENGTH } from "../../lib/plan/naming.js";
import { AWS_AUTONAMED } from "../../lib/pulumi/aws/fit-autonames.js";
import type { AutonamedTypes } from "../../lib/pulumi/autonames.js";
import { GCP_AUTONAMED } from "../../lib/pulumi/gcp/fit-autonames.js";
import { createLandingZone } from "../../lib/pulumi/index.js";
import { parseSpecText } from "../../lib/spec/parse.js";
import { runProgram, single, type RegisteredResource } from "./harness.js";

/** An example with the longest names the schema allows: a 20-character zone, 40-character services. */
function withLongestNames(example: string): string {
  const spec = parse(readFileSync(example, "utf8")) as { name: string; services: { name: string }[] };
  let text = stringify({ ...spec, name: "a".repeat(20) });
  for (const { name } of spec.services) text = text.replace(new RegExp(`\\b${name}\\b`, "g"), `${name}-${"x".repeat(40)}`.slice(0, 40));
  return text;
}

async function resourcesOf(specText: string, source: string): Promise<RegisteredResource[]> {
  const spec = parseSpecText(specText, source);
  const { resources } = await runProgram(async () => {
    await createLandingZone(spec.name, { spec });
  });
  return resources;
}

describe("fittedAutoname", () => {
  it("leaves a name Pulumi can autoname alone", () => {
    const fits = "x".repeat(NAME_RULES.iamRole.maxLength - PULUMI_AUTONAME_SUFFIX_LENGTH);
    expect(fittedAutoname("iamRole", fits, "project", "prod")).toBeUndefined();
  });

  it("cuts a longer one to the limit, keeping its start, with a hash that differs per stack", () => {
    const logical = `${"a".repeat(20)}-orders-${"x".repeat(33)}-delivery-pipeline-role`;
    const prod = fittedAutoname("iamRole", logical, "project", "prod")!;
    const dev = fittedAutoname("iamRole", logical, "project", "dev")!;
    expect(prod.length).toBeLessThanOrEqual(64);
    expect(prod.startsWith(logical.slice(0, 40))).toBe(true);
    expect(prod).not.toBe(dev);
    expect(fittedAutoname("iamRole", logical, "project", "prod")).toBe(prod);
    expect(fittedAutoname("elasticache", `${"A".repeat(20)}-sessions-cache-redis`, "project", "prod")).toMatch(/^[a-z][a-z0-9-]{0,39}$/);
  });
});

/** Resources of `types` whose name, given or autonamed, passes its limit. */
function tooLong(resources: readonly RegisteredResource[], types: AutonamedTypes): string[] {
  return resources.flatMap((r) => {
    const rule = types[r.type];
    if (!rule) return [];
    const max = NAME_RULES[rule.kind].maxLength;
    const given = r.inputs[rule.property];
    const length = typeof given === "string" ? given.length : r.name.length + PULUMI_AUTONAME_SUFFIX_LENGTH;
    return length > max ? [`${r.type} ${r.name}: ${length} > ${max}`] : [];
  });
}

describe("the landing zones with the longest names the spec allows (Pulumi)", () => {
  it.each(["examples/shop/landing-zone.yaml", "examples/aws-iaas/landing-zone.yaml", "examples/aws-paas/landing-zone.yaml"])(
    "%s: every role, queue, bucket, cache, pipe, function and rule has a name AWS accepts, given or autonamed",
    async (example) => {
      const resources = await resourcesOf(withLongestNames(example), example);
      expect(tooLong(resources, AWS_AUTONAMED)).toEqual([]);
      // What the check covers: roles of 40-character services, named to fit.
      expect(resources.filter((r) => r.type === "aws:iam/role:Role" && r.inputs["name"] !== undefined).length).toBeGreaterThan(0);
    },
  );

  it("examples/gcp: every backend service, health check, firewall rule and URL map has a name Compute Engine accepts", async () => {
    const resources = await resourcesOf(withLongestNames("examples/gcp/landing-zone.yaml"), "gcp");
    expect(tooLong(resources, GCP_AUTONAMED)).toEqual([]);
    expect(resources.filter((r) => r.type === "gcp:compute/healthCheck:HealthCheck" && r.inputs["name"] !== undefined).length).toBeGreaterThan(0);
  });

  it("names only what would not fit: the shop's own names keep autonaming, a 20-character zone's session cache gets a fitted id", async () => {
    const shop = await resourcesOf(readFileSync("examples/shop/landing-zone.yaml", "utf8"), "shop");
    expect(single(shop, "aws:elasticache/replicationGroup:ReplicationGroup", "shop-sessions-cache-redis").inputs["replicationGroupId"]).toBeUndefined();
    expect(single(shop, "aws:iam/role:Role", "shop-orders-role").inputs["name"]).toBeUndefined();
    const long = await resourcesOf(withLongestNames("examples/shop/landing-zone.yaml"), "long");
    const cache = single(long, "aws:elasticache/replicationGroup:ReplicationGroup", `${"a".repeat(20)}-sessions-cache-redis`);
    expect(cache.inputs["replicationGroupId"]).toBe(fittedAutoname("elasticache", cache.name, "project", "test"));
  });
});
