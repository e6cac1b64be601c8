import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { LandingZonePolicy } from "../../../lib/pulumi/policy/rules.js";
import type { RegisteredResource } from "../harness.js";

export interface Violation {
  readonly policy: string;
  readonly message: string;
}

const urnOf = (r: Pick<RegisteredResource, "type" | "name">) => `urn:pulumi:test::project::${r.type}::${r.name}`;

function options(r: Pick<RegisteredResource, "protect">) {
  return { protect: r.protect, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };
}

function unsupported(): never {
  throw new Error("not used by the landing zone's policies");
}

/**
 * Runs policies the way `pulumi preview --policy-pack` would, over resources a program registered
 * under mocks: resource policies see each resource's inputs and options, stack policies every
 * resource's resolved state.
 */
export async function evaluatePolicies(resources: readonly Pick<RegisteredResource, "type" | "name" | "inputs" | "outputs" | "protect">[], policies: readonly LandingZonePolicy[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const policy of policies) {
    const report = (message: string) => violations.push({ policy: policy.name, message });
    if ("validateResource" in policy && policy.validateResource) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      for (const r of resources) {
        const args = { type: r.type, props: r.inputs, urn: urnOf(r), name: r.name, opts: options(r), stackTags: new Map(), isType: unsupported, asType: unsupported, getConfig: unsupported, notApplicable: unsupported } as unknown as ResourceValidationArgs;
        for (const validate of validations) await validate(args, report);
      }
    }
    if ("validateStack" in policy) {
      const stackResources = resources.map((r) => ({ type: r.type, props: r.outputs, urn: urnOf(r), name: r.name, opts: options(r), dependencies: [], propertyDependencies: {}, isType: unsupported, asType: unsupported }) as unknown as PolicyResource);
      await policy.validateStack({ resources: stackResources, stackTags: new Map(), getConfig: unsupported, notApplicable: unsupported } as unknown as StackValidationArgs, report);
    }
  }
  return violations;
}
