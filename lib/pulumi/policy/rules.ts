import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";

/** The classes of rules every cloud's pack covers, as the issue and cdk-nag's packs group them. */
export type RuleClass = "encryption-at-rest" | "encryption-in-transit" | "no-public-data" | "least-privilege" | "logging" | "data-protection" | "workload-hardening";

/** A rule of the landing zone's policy packs: a @pulumi/policy policy plus the class it belongs to. */
export type LandingZonePolicy = (ResourceValidationPolicy | StackValidationPolicy) & { readonly ruleClass: RuleClass };

type Props = Record<string, unknown>;

/**
 * A mandatory resource policy applied to the given type tokens (or those a predicate accepts) only; `check` returns the violation
 * messages for one resource's inputs (an empty list when it complies).
 */
export function resourceRule(
  name: string,
  ruleClass: RuleClass,
  description: string,
  types: readonly string[] | ((type: string) => boolean),
  check: (props: Props, args: ResourceValidationArgs) => readonly string[],
): LandingZonePolicy {
  const listed = typeof types === "function" ? undefined : new Set(types);
  const applies = { has: (type: string) => (listed ? listed.has(type) : (types as (type: string) => boolean)(type)) };
  return {
    name,
    ruleClass,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      if (!applies.has(args.type)) return;
      for (const message of check(args.props as Props, args)) reportViolation(`${args.type} ${args.name}: ${message}`);
    },
  };
}

/** A mandatory stack policy; `check` returns violations as [message, urn of the offending resource]. */
export function stackRule(name: string, ruleClass: RuleClass, description: string, check: (args: StackValidationArgs) => readonly (readonly [string, string])[]): LandingZonePolicy {
  return {
    name,
    ruleClass,
    description,
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      for (const [message, urn] of check(args)) reportViolation(message, urn);
    },
  };
}

/** A property path read leniently: `get(props, "a", "b")` is `props.a?.b`. */
export function get(props: unknown, ...path: readonly (string | number)[]): unknown {
  let node = props;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** A message when `value` is not `expected`, else none: the common shape of a setting check. */
export function expectValue(value: unknown, expected: unknown, what: string): string[] {
  return value === expected ? [] : [`${what} must be ${JSON.stringify(expected)}, is ${value === undefined ? "unset" : JSON.stringify(value)}`];
}

/** A list of objects under a key, whether the provider takes one object or a list there. */
export function listOf(value: unknown): Props[] {
  if (Array.isArray(value)) return value.filter((v): v is Props => v !== null && typeof v === "object");
  return value !== null && typeof value === "object" ? [value as Props] : [];
}
