import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { PlanError, planLandingZone } from "../../lib/plan/planner.js";
import { formatIssue, parseSpecText, SpecError, validateSpec } from "../../lib/spec/index.js";

/**
 * Thousands of random and mutated specs: every one is either accepted (and then planned, or refused
 * by the planner with a PlanError that names the fix) or rejected with path-qualified issues. Never
 * another exception.
 */

/** Mostly valid values, sometimes a bad one: specs then fail on one or two fields, as real ones do. */
function mostly<T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>, weight = 12): fc.Arbitrary<T | U> {
  return fc.oneof({ arbitrary: valid, weight }, { arbitrary: invalid, weight: 1 });
}
/** A field most specs leave out. */
function sometimes<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: value, weight: 1 });
}
/** For values repeated in lists, where one bad element in many would reject almost every spec. */
const rarely = 60;

const names = mostly(fc.constantFrom("orders", "payments", "inventory", "order-history", "web"), fc.constantFrom("Orders", "a-", "x_y", ""), rarely);
const events = mostly(fc.constantFrom("order-placed", "payment-completed", "stock-reserved"), fc.constantFrom("Order_Placed", ""), rarely);
const service = fc.record(
  {
    name: names,
    port: mostly(fc.integer({ min: 1, max: 65535 }), fc.oneof(fc.integer({ min: -5, max: 0 }), fc.constant(70000), fc.constant("8080"))),
    expose: fc.boolean(),
    publishes: fc.array(events, { maxLength: 3 }),
    subscribes: sometimes(fc.array(events, { maxLength: 2 })),
    database: fc.record({ engine: mostly(fc.constantFrom("postgres", "mysql", "key-value", "document"), fc.constant("oracle")) }),
    readModel: sometimes(fc.record({ from: fc.array(names, { minLength: 1, maxLength: 2 }) })),
    eventSourced: fc.boolean(),
    replicas: fc.record({ min: mostly(fc.integer({ min: 1, max: 4 }), fc.constant(0), rarely), max: fc.integer({ min: 1, max: 8 }) }),
    secrets: fc.uniqueArray(mostly(fc.constantFrom("DB_PASSWORD", "API_KEY"), fc.constant("lower"), rarely), { maxLength: 2 }),
    config: fc.dictionary(fc.constantFrom("A", "B"), fc.string({ maxLength: 4 })),
  },
  { requiredKeys: ["name"] },
);

const REGION: Readonly<Record<string, string>> = { aws: "ap-northeast-2", gcp: "asia-northeast3", azure: "koreacentral", kubernetes: "local" };

export const specArbitrary = fc.record(
  {
    name: mostly(fc.constantFrom("shop", "a-b"), fc.oneof(fc.constantFrom("Shop", "1shop", "averyveryverylongname-x"), fc.string({ maxLength: 8 }))),
    cloud: mostly(fc.constantFrom("aws", "gcp", "azure", "kubernetes"), fc.constant("oracle")),
    tier: mostly(fc.constantFrom("iaas", "caas", "paas"), fc.constant("faas")),
    environment: mostly(fc.constantFrom("dev", "prod"), fc.constant("staging")),
    network: fc.record(
      {
        cidr: mostly(fc.constantFrom("10.0.0.0/16", "10.0.0.0/24", "172.16.0.0/20"), fc.constantFrom("10.0.0.0/8", "10.0.0.1/16", "300.0.0.0/16", "100.64.0.0/16")),
        zones: fc.integer({ min: 1, max: 3 }),
        natGateways: fc.integer({ min: 0, max: 3 }),
      },
      { requiredKeys: [] },
    ),
    gateway: fc.record({ auth: mostly(fc.constantFrom("none", "jwt", "authorizer"), fc.constant("basic")), waf: fc.boolean() }, { requiredKeys: [] }),
    bffs: fc.array(fc.oneof(names, fc.record({ name: names, routes: fc.array(mostly(fc.constantFrom("/web", "/api"), fc.constant("web"), rarely), { maxLength: 2 }) })), { maxLength: 2 }),
    auth: fc.record({ sessions: mostly(fc.constantFrom("redis", "memcached", "none"), fc.constant("dynamo")), tokens: fc.constantFrom("jwt", "none"), service: sometimes(names) }, { requiredKeys: [] }),
    messaging: fc.record({ broker: mostly(fc.constantFrom("auto", "sns-sqs", "eventbridge", "kafka", "rabbitmq", "pubsub", "servicebus"), fc.constant("mqtt")) }, { requiredKeys: [] }),
    logging: fc.record({ stack: fc.constantFrom("elk", "none"), buffer: fc.constantFrom("redis", "none"), shipper: fc.constantFrom("filebeat", "fluent-bit") }, { requiredKeys: [] }),
    tracing: fc.record({ backend: fc.constantFrom("zipkin", "jaeger", "xray", "cloud", "none") }, { requiredKeys: [] }),
    mesh: fc.record({ kind: mostly(fc.constantFrom("istio", "none"), fc.constant("linkerd")) }, { requiredKeys: [] }),
    services: fc.array(service, { maxLength: 4 }),
    sagas: sometimes(fc.array(fc.record({ name: names, steps: fc.array(fc.record({ service: names, action: mostly(fc.constantFrom("create", "charge"), fc.constant("Bad Action"), rarely), compensate: fc.constantFrom("cancel", "refund") }, { requiredKeys: ["service", "action"] }), { minLength: 2, maxLength: 3 }) }), {
      maxLength: 1,
    })),
    retainData: fc.boolean(),
  },
  { requiredKeys: ["name"] },
).chain((s) =>
  // A region that matches the cloud most of the time, so clouds other than the default get planned too.
  mostly(fc.constant(REGION[String(s.cloud)] ?? "us-east-1"), fc.constantFrom("nowhere", "EU")).map((region) => ({ ...s, region })),
);

/** Any value at all where a spec is expected, and random keys grafted on. */
const garbage = fc.oneof(fc.anything(), fc.record({ name: fc.constant("shop") }).chain((base) => fc.dictionary(fc.string({ maxLength: 6 }), fc.anything()).map((extra) => ({ ...extra, ...base }))));

function checkOutcome(input: unknown): void {
  const result = validateSpec(input);
  if (!result.ok) {
    expect(result.issues.length).toBeGreaterThan(0);
    for (const issue of result.issues) {
      expect(typeof issue.path).toBe("string");
      expect(issue.message.length).toBeGreaterThan(0);
      // Every issue renders as "<path>: <message>[. Fix: ...]"; a whole-document issue says "(spec)".
      expect(formatIssue(issue).startsWith(issue.path === "" ? "(spec): " : `${issue.path}: `)).toBe(true);
    }
    return;
  }
  try {
    const plan = planLandingZone(result.spec);
    expect(plan.name).toBe(result.spec.name);
    for (const engine of ["cdk", "pulumi"] as const) {
      try {
        planLandingZone(result.spec, { engine });
      } catch (error) {
        expect(error).toBeInstanceOf(PlanError);
        expect((error as PlanError).problems.every((p) => p.includes("Fix:"))).toBe(true);
      }
    }
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    expect((error as PlanError).problems.every((p) => p.includes("Fix:"))).toBe(true);
  }
}

describe("fuzzed specs", () => {
  it("are accepted and planned, or refused with path-qualified problems: never another exception", () => {
    fc.assert(fc.property(specArbitrary, checkOutcome), { numRuns: 3000 });
  });

  it("survive arbitrary values where a spec is expected", () => {
    fc.assert(fc.property(garbage, checkOutcome), { numRuns: 2000 });
  });

  it("survive as YAML text, valid or mangled: parseSpecText throws only SpecError", () => {
    const text = fc.oneof(
      specArbitrary.map((s) => stringify(s)),
      fc.tuple(specArbitrary.map((s) => stringify(s)), fc.nat(), fc.string({ maxLength: 3 })).map(([yaml, at, insert]) => yaml.slice(0, at % (yaml.length + 1)) + insert + yaml.slice(at % (yaml.length + 1))),
      fc.string(),
    );
    fc.assert(
      fc.property(text, (yaml) => {
        try {
          parseSpecText(yaml, "fuzz.yaml");
        } catch (error) {
          expect(error).toBeInstanceOf(SpecError);
          expect((error as SpecError).message).toMatch(/^Invalid landing-zone spec fuzz.yaml \(\d+ problems?\):/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("find accepted specs too, on every cloud, so the property is not vacuous", () => {
    const accepted = fc.sample(specArbitrary, { numRuns: 3000, seed: 42 }).flatMap((s) => {
      const result = validateSpec(s);
      return result.ok ? [result.spec] : [];
    });
    expect(accepted.length).toBeGreaterThan(100);
    expect(new Set(accepted.map((s) => s.cloud))).toEqual(new Set(["aws", "gcp", "azure", "kubernetes"]));
  });
});
