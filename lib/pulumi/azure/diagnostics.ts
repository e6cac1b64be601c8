import * as monitor from "@pulumi/azure-native/monitor/index.js";
import type * as pulumi from "@pulumi/pulumi";

/** Name of every diagnostic setting the landing zone creates, so a resource has at most one of ours. */
export const DIAGNOSTIC_SETTING_NAME = "msa-landing-zone";

export interface DiagnosticsOptions {
  /**
   * Log categories; "allLogs" is the category group of every resource log.
   * @default "allLogs"
   */
  readonly logs?: "allLogs" | readonly string[] | "none";
  /**
   * Send the platform metrics too.
   * @default true
   */
  readonly metrics?: boolean;
}

/**
 * Sends a resource's logs and metrics to a Log Analytics workspace (resource-specific tables), as
 * a child of `parent`. Shared by every Azure component; not a component itself.
 */
export function sendDiagnostics(
  name: string,
  resourceUri: pulumi.Input<string>,
  workspaceId: pulumi.Input<string>,
  parent: pulumi.Resource,
  options: DiagnosticsOptions = {},
): monitor.DiagnosticSetting {
  const logs = options.logs ?? "allLogs";
  return new monitor.DiagnosticSetting(
    name,
    {
      name: DIAGNOSTIC_SETTING_NAME,
      resourceUri,
      workspaceId,
      logAnalyticsDestinationType: "Dedicated",
      logs: logs === "none" ? [] : logs === "allLogs" ? [{ categoryGroup: "allLogs", enabled: true }] : logs.map((category) => ({ category, enabled: true })),
      metrics: options.metrics === false ? [] : [{ category: "AllMetrics", enabled: true }],
    },
    { parent },
  );
}
