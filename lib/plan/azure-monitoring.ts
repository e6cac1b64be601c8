/**
 * Azure Monitor queries per service, read from the Application Gateway's access logs (every request
 * of every service model passes the gateway) and from each platform's CPU metrics. Pure: no engine imports.
 */

/** Alert thresholds; the same values the other clouds alarm on. */
export interface AlertThresholds {
  /** Alert when more than this share of a service's requests fail with a 5xx status. */
  readonly errorRatePercent: number;
  /** Alert when a service's p99 response time passes this many milliseconds. */
  readonly latencyMs: number;
  /** Alert when a VM or App Service service's CPU stays above this share (containers are scaled by their HPA instead). */
  readonly cpuPercent: number;
}

/** CPU share a scale set or App Service plan alerts above; the other thresholds come from `plan.monitoring`. */
export const CPU_ALERT_PERCENT = 85;

/** How a service's CPU saturation is read, per service model. */
export type SaturationSource =
  | { readonly kind: "container"; readonly container: string }
  | { readonly kind: "resource-metric"; readonly resourceId: string; readonly metric: "Percentage CPU" | "CpuPercentage" };

const kqlString = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const regexEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The access-log rows of a service: its route prefixes exactly, or followed by `/` or a query. */
export function routeFilter(paths: readonly string[]): string {
  if (paths.length === 0) throw new Error("routeFilter: a service without routes has no gateway traffic to query. Fix: pass at least one path");
  const alternatives = paths.map((p) => regexEscape(p.replace(/\/+$/, "")) || "").join("|");
  return `AGWAccessLogs | where RequestUri matches regex ${kqlString(`^(${alternatives})(/|\\?|$)`)}`;
}

/** Share of a service's requests answered with 5xx, as the column `rate` (percent). */
export function errorRateQuery(paths: readonly string[]): string {
  return `${routeFilter(paths)} | summarize total = count(), errors = countif(HttpStatus >= 500) | extend rate = iff(total == 0, 0.0, 100.0 * errors / total) | project rate`;
}

/** A service's p99 response time at the gateway, as the column `p99` (milliseconds). */
export function latencyQuery(paths: readonly string[]): string {
  return `${routeFilter(paths)} | summarize p99 = percentile(TimeTaken, 99) * 1000 | project p99`;
}

/** A service's CPU use, as the column `cpu` (percent), from Container Insights or its platform metric. */
export function saturationQuery(source: SaturationSource): string {
  if (source.kind === "container") {
    // Container Insights reports nanocores per container: this is percent of one core (the HPA, not an alert, acts on it).
    return `Perf | where ObjectName == "K8SContainer" and CounterName == "cpuUsageNanoCores" and InstanceName endswith ${kqlString(`/${source.container}`)} | summarize cpu = avg(CounterValue) / 10000000.0`;
  }
  return `AzureMetrics | where ResourceId =~ ${kqlString(source.resourceId)} and MetricName == ${kqlString(source.metric)} | summarize cpu = avg(Average)`;
}

export interface DashboardService {
  readonly name: string;
  readonly paths: readonly string[];
  readonly saturation?: SaturationSource;
}

/**
 * An Azure Monitor workbook (serialized `Notebook/1.0`) with, per service, the four golden signals:
 * requests, errors, latency (p50/p95/p99) and saturation, as time charts over the workspace; a service
 * without a gateway route gets its saturation only.
 */
export function workbookDefinition(title: string, services: readonly DashboardService[]): string {
  const chart = (name: string, query: string, title: string) => ({
    type: 3,
    name,
    content: { version: "KqlItem/1.0", query, size: 1, title, timeContext: { durationMs: 3600000 }, queryType: 0, resourceType: "microsoft.operationalinsights/workspaces", visualization: "timechart" },
    customWidth: "25",
  });
  const items = services.flatMap((s) => [
    // An internal service (no gateway route) has no access-log rows: its traffic shows in its callers' and the mesh's.
    { type: 1, name: `${s.name}-title`, content: { json: s.paths.length > 0 ? `## ${s.name}` : `## ${s.name}\nInternal: no gateway route, so no requests, errors or latency at the gateway.` } },
    ...(s.paths.length > 0
      ? [
          chart(`${s.name}-requests`, `${routeFilter(s.paths)} | summarize requests = count() by bin(TimeGenerated, 1m)`, "Requests per minute"),
          chart(`${s.name}-errors`, `${routeFilter(s.paths)} | summarize errors = countif(HttpStatus >= 500) by bin(TimeGenerated, 1m)`, "5xx per minute"),
          chart(`${s.name}-latency`, `${routeFilter(s.paths)} | summarize p50 = percentile(TimeTaken, 50) * 1000, p95 = percentile(TimeTaken, 95) * 1000, p99 = percentile(TimeTaken, 99) * 1000 by bin(TimeGenerated, 1m)`, "Latency (ms)"),
        ]
      : []),
    ...(s.saturation ? [chart(`${s.name}-saturation`, `${saturationQuery(s.saturation).replace(/\| summarize cpu = (.+)$/, "| summarize cpu = $1 by bin(TimeGenerated, 1m)")}`, "CPU")] : []),
  ]);
  return JSON.stringify({ version: "Notebook/1.0", items: [{ type: 1, name: "title", content: { json: `# ${title}` } }, ...items], isLocked: false });
}
