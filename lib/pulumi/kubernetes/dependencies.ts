import type * as pulumi from "@pulumi/pulumi";

/**
 * A component's `dependsOn` option as a list for its children: Pulumi does not make a component's
 * children wait for the component's own dependencies, so each component forwards them.
 */
export function dependencyList(dependsOn: pulumi.ResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (dependsOn === undefined) return [];
  return Array.isArray(dependsOn) ? [...(dependsOn as pulumi.Input<pulumi.Resource>[])] : [dependsOn as pulumi.Input<pulumi.Resource>];
}
