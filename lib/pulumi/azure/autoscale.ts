import * as monitor from "@pulumi/azure-native/monitor/index.js";
import type * as pulumi from "@pulumi/pulumi";

/** Average CPU the scale rules hold the instances between (the same 70% target as the Kubernetes HPA). */
export const SCALE_OUT_CPU_PERCENT = 70;
export const SCALE_IN_CPU_PERCENT = 30;

export interface CpuAutoscaleArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** The scale set or App Service plan. */
  readonly targetResourceUri: pulumi.Input<string>;
  /** Platform metric of the target's CPU: `Percentage CPU` (scale sets) or `CpuPercentage` (App Service plans). */
  readonly cpuMetric: "Percentage CPU" | "CpuPercentage";
  readonly min: number;
  readonly max: number;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Scales a target between `min` and `max` instances on average CPU: one more above 70% over five
 * minutes, one fewer below 30% over ten, with cool-downs so it does not flap. A child of `parent`.
 */
export function cpuAutoscale(name: string, args: CpuAutoscaleArgs, parent: pulumi.Resource): monitor.AutoscaleSetting {
  const trigger = (operator: "GreaterThan" | "LessThan", threshold: number, window: string) => ({
    metricName: args.cpuMetric,
    metricResourceUri: args.targetResourceUri,
    operator,
    statistic: "Average" as const,
    threshold,
    timeAggregation: "Average" as const,
    timeGrain: "PT1M",
    timeWindow: window,
  });
  return new monitor.AutoscaleSetting(
    name,
    {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      targetResourceUri: args.targetResourceUri,
      enabled: true,
      profiles: [
        {
          name: "cpu",
          capacity: { minimum: String(args.min), maximum: String(args.max), default: String(args.min) },
          rules: [
            { metricTrigger: trigger("GreaterThan", SCALE_OUT_CPU_PERCENT, "PT5M"), scaleAction: { direction: "Increase", type: "ChangeCount", value: "1", cooldown: "PT5M" } },
            { metricTrigger: trigger("LessThan", SCALE_IN_CPU_PERCENT, "PT10M"), scaleAction: { direction: "Decrease", type: "ChangeCount", value: "1", cooldown: "PT10M" } },
          ],
        },
      ],
      tags: { ...args.tags },
    },
    { parent },
  );
}
