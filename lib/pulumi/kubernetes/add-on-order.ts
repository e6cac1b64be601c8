import type { AddOn } from "../../kubernetes/types.js";

/**
 * Orders add-ons so each comes after those it names in `dependsOn`; throws, naming `owner`, on an
 * unknown or circular dependency. Every cloud's Kubernetes platform installs its add-ons in this order.
 */
export function orderAddOns(addOns: readonly AddOn[], owner: string): AddOn[] {
  const byName = new Map(addOns.map((a) => [a.name, a]));
  const ordered: AddOn[] = [];
  const visiting = new Set<string>();
  const visit = (addOn: AddOn) => {
    if (ordered.includes(addOn)) return;
    if (visiting.has(addOn.name)) throw new Error(`${owner}: addOns form a cycle through "${addOn.name}". Fix: remove one of the dependsOn entries`);
    visiting.add(addOn.name);
    for (const dependency of addOn.dependsOn) {
      const found = byName.get(dependency);
      if (!found) {
        throw new Error(`${owner}: addOns["${addOn.name}"].dependsOn names "${dependency}", which is not among addOns (${[...byName.keys()].join(", ")}). Fix: add that add-on or remove the dependency`);
      }
      visit(found);
    }
    visiting.delete(addOn.name);
    ordered.push(addOn);
  };
  addOns.forEach(visit);
  return ordered;
}
