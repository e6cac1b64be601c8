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
 * the add-ons it depends on; `opts.values` (by release name) go to the add-on owning that release.
 * Returns the created resources by add-on name. Any cloud's cluster component can use it.
 */
export function installAddOns(prefix: string, ordered: readonly AddOn[], opts: ApplyAddOnOptions): Record<string, pulumi.Resource[]> {
  checkAddOnValues(ordered, opts.values, `installAddOns(${prefix})`);
  const installed: Record<string, pulumi.Resource[]> = {};
  for (const addOn of ordered) {
    const own = Object.fromEntries(Object.entries(opts.values ?? {}).filter(([release]) => addOn.helmReleases.some((r) => r.name === release)));
    installed[addOn.name] = applyAddOn(`${prefix}-${addOn.name}`, addOn, {
      ...opts,
      values: own,
      dependsOn: [...(opts.dependsOn ?? []), ...addOn.dependsOn.flatMap((d) => installed[d] ?? [])],
    });
  }
  return installed;
}

/** Throws, naming `component`, when a key of `values` names no Helm release of `addOns`; call it before registering anything. */
export function checkAddOnValues(addOns: readonly AddOn[], values: Readonly<Record<string, unknown>> | undefined, component: string): void {
  const releases = new Set(addOns.flatMap((a) => a.helmReleases.map((r) => r.name)));
  const stray = Object.keys(values ?? {}).find((key) => !releases.has(key));
  if (stray) throw new Error(`${component}: values["${stray}"] names no Helm release of the add-ons. Fix: use one of ${[...releases].join(", ") || "(none)"}`);
}
