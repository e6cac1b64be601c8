import * as web from "@pulumi/azure-native/web/index.js";
import * as pulumi from "@pulumi/pulumi";
import { appServiceTier } from "../../plan/azure.js";
import type { PaasPlan } from "../../plan/types.js";
import { cpuAutoscale } from "./autoscale.js";
import { sendDiagnostics } from "./diagnostics.js";

/** Arguments of {@link PaasPlatform}. */
export interface PaasPlatformArgs {
  /** Plan size (`plan.paas.instanceType`, e.g. P1v3). */
  readonly paas: PaasPlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Instances the plan's apps share, at least and at most (CPU autoscaling between them). */
  readonly instances: { readonly min: number; readonly max: number };
  /**
   * Spread the instances over zones (needs at least 2 instances and a zonal region).
   * @default false
   */
  readonly zoneRedundant?: boolean;
  /**
   * Log Analytics workspace of the plan's metrics.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Tags on the plan.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the plan's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly plan?: (args: web.AppServicePlanArgs) => void };
}

/**
 * The App Service plan the PaaS services run on: Linux (containers), Premium v3, zone-redundant
 * in prod, CPU-autoscaled between the services' replica bounds.
 *
 * Cost: every instance of the plan bills hourly whether or not its apps take traffic.
 *
 * @example
 * const platform = new PaasPlatform("shop", { paas: plan.paas!, resourceGroupName: group.name, location: "eastus", instances: { min: 3, max: 6 }, zoneRedundant: true });
 */
export class PaasPlatform extends pulumi.ComponentResource {
  readonly planId: pulumi.Output<string>;
  readonly nodes: { readonly plan: web.AppServicePlan };

  constructor(name: string, args: PaasPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const tier = appServiceTier(args.paas.instanceType);
    const { min, max } = args.instances;
    if (!Number.isInteger(min) || min < 1 || max < min || max > 30) throw new Error(`PaasPlatform ${name}: instances { min: ${min}, max: ${max} } are invalid. Fix: use 1 <= min <= max <= 30`);
    if (args.zoneRedundant && min < 2) throw new Error(`PaasPlatform ${name}: zoneRedundant needs instances.min of 2 or more, got ${min}. Fix: raise min or turn zoneRedundant off`);
    super("msa:azure:PaasPlatform", name, {}, opts);
    const planArgs: web.AppServicePlanArgs = {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      kind: "linux",
      // Linux plans are "reserved" in the App Service API.
      reserved: true,
      sku: { name: args.paas.instanceType, tier, capacity: min },
      zoneRedundant: args.zoneRedundant ?? false,
      tags: { ...args.tags },
    };
    args.transform?.plan?.(planArgs);
    const plan = new web.AppServicePlan(`${name}-plan`, planArgs, { parent: this, ignoreChanges: ["sku.capacity"] });
    cpuAutoscale(`${name}-autoscale`, { resourceGroupName: args.resourceGroupName, location: args.location, targetResourceUri: plan.id, cpuMetric: "CpuPercentage", min, max, ...(args.tags ? { tags: args.tags } : {}) }, this);
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, plan.id, args.logWorkspaceId, this, { logs: "none" });
    this.planId = plan.id;
    this.nodes = { plan };
    this.registerOutputs({ planId: this.planId });
  }
}
