import type * as pulumi from "@pulumi/pulumi";
import type { ServiceAccess } from "./service-workload.js";

/** The service's environment: `env`, then what each access says of the principal it granted (which wins, so the user matches the grant). */
export function withPrincipalEnvironment(
  env: Readonly<Record<string, pulumi.Input<string>>> | undefined,
  access: readonly ServiceAccess[] | undefined,
  service: string,
  principalName: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> {
  return Object.assign({}, env, ...(access ?? []).map((a) => a.principalEnvironment?.(service, principalName) ?? {}));
}
