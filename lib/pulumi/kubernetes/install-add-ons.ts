import type * as pulumi from "@pulumi/pulumi";
import type { AddOn } from "../../kubernetes/types.js";
import { applyAddOn, type ApplyAddOnOptions } from "./add-on.js";

/**
 * Orders add-ons so each comes after those it names in `dependsOn`; throws, naming `component`,
 * on an unknown or circular dependency. Call it before registering anything.
 */
export function addOnInstallOrder(addOns: readonly AddOn[], component: string): AddOn[] {
  const byName = new Map(addOns.map((a) => [a.name, a]));
  const ordered: AddOn[] = [];
  const visiting = new Set<string>();
  const visit = (addOn: AddOn) => {
    if (ordered.includes(addOn)) return;
    if (visiting.has(addOn.name)) throw new Error(`${component}: addOns form a cycle through "${addOn.name}". Fix: remove one of the dependsOn entries`);
    visiting.add(addOn.name);
    for (const dependency of addOn.dependsOn) {
      const found = byName.get(dependency);
      if (!found) {
        throw new Error(`${component}: addOns["${addOn.name}"].dependsOn names "${dependency}", which is not among addOns (${[...byName.keys()].join(", ")}). Fix: add that add-on or remove the dependency`);
      }
      visit(found);
    }
    visiting.delete(addOn.name);
    ordered.push(addOn);
  };
  addOns.forEach(visit);
  return ordered;
}

/**
 * Applies add-ons in install order (see {@link addOnInstallOrder}), each after `opts.dependsOn` and
 * the add-ons it depends on; returns the created resources by add-on name. Any cloud's cluster
 * component can use it.
 */
export function installAddOns(prefix: string, ordered: readonly AddOn[], opts: ApplyAddOnOptions): Record<string, pulumi.Resource[]> {
  const installed: Record<string, pulumi.Resource[]> = {};
  for (const addOn of ordered) {
    installed[addOn.name] = applyAddOn(`${prefix}-${addOn.name}`, addOn, {
      ...opts,
      dependsOn: [...(opts.dependsOn ?? []), ...addOn.dependsOn.flatMap((d) => installed[d] ?? [])],
    });
  }
  return installed;
}
