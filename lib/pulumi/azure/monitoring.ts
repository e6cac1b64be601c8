import * as applicationinsights from "@pulumi/azure-native/applicationinsights/index.js";
import * as monitor from "@pulumi/azure-native/monitor/index.js";
import * as pulumi from "@pulumi/pulumi";
import { errorRateQuery, latencyQuery, saturationQuery, workbookDefinition, type AlertThresholds, type DashboardService, type SaturationSource } from "../../plan/azure-monitoring.js";
import { guidFrom } from "./roles.js";

/** Severity of the landing zone's alerts (2 = warning): pages nobody at night, notifies the action group. */
export const ALERT_SEVERITY = 2;
/** How an alert evaluates: the period of each datapoint, how many periods it looks at and how many must breach. */
export interface AlertEvaluation {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/** A monitored service: its gateway route prefixes and where its CPU is read (a resource id may be an output). */
export interface MonitoredService {
  readonly name: string;
  readonly paths: readonly string[];
  readonly saturation?: { readonly kind: "container"; readonly container: string } | { readonly kind: "resource-metric"; readonly resourceId: pulumi.Input<string>; readonly metric: "Percentage CPU" | "CpuPercentage" };
}

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Name the action group, alerts and workbook are titled with, e.g. `shop-prod`. */
  readonly title: string;
  /** Log Analytics workspace the gateway's access logs and the platforms' metrics are in. */
  readonly workspaceId: pulumi.Input<string>;
  /** The Application Gateway; an alert fires while any of its backends is unhealthy. */
  readonly gatewayId: pulumi.Input<string>;
  /** Services and BFFs: their gateway route prefixes and where their CPU is read. */
  readonly services: readonly MonitoredService[];
  /**
   * Create the per-service alerts (and the gateway's).
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Create the workbook with the per-service dashboards.
   * @default true
   */
  readonly dashboards?: boolean;
  /**
   * Where alerts are sent.
   * @default - the action group has no receiver yet (add one in the portal or through transform)
   */
  readonly alarmEmail?: string;
  /** Alert thresholds (`plan.monitoring` and CPU_ALERT_PERCENT in a landing zone). */
  readonly thresholds: AlertThresholds;
  /**
   * How alerts evaluate (Azure Monitor takes periods of 1 to 60 minutes).
   * @default { periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 }
   */
  readonly evaluation?: AlertEvaluation;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the action group's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly actionGroup?: (args: monitor.ActionGroupArgs) => void };
}

/**
 * Monitoring of the seed's golden signals on Azure Monitor: an action group every alert notifies, per
 * service log alerts on its 5xx rate and p99 latency at the gateway (and on CPU where the platform
 * reports a share), a metric alert on unhealthy gateway backends, and a workbook with each service's
 * requests, errors, latency and saturation.
 *
 * Cost: each log alert rule bills monthly per evaluation frequency (more for 1-minute rules); the workbook is free.
 *
 * @example
 * new Monitoring("monitoring", { resourceGroupName: group.name, location: "eastus", title: "shop-prod", workspaceId: logs.workspaceId,
 *   gatewayId: gateway.gatewayId, services: [{ name: "orders", paths: ["/orders"] }], alarmEmail: "ops@example.com",
 *   thresholds: { errorRatePercent: 5, latencyMs: 2000, cpuPercent: 85 } });
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly actionGroupId: pulumi.Output<string>;
  readonly nodes: {
    readonly actionGroup: monitor.ActionGroup;
    readonly alerts: readonly (monitor.ScheduledQueryRule | monitor.MetricAlert)[];
    readonly workbook?: applicationinsights.Workbook;
  };

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    const { thresholds } = args;
    if (thresholds.errorRatePercent <= 0 || thresholds.errorRatePercent > 100 || thresholds.latencyMs <= 0 || thresholds.cpuPercent <= 0 || thresholds.cpuPercent > 100) {
      throw new Error(`Monitoring ${name}: thresholds ${JSON.stringify(thresholds)} are out of range. Fix: use errorRatePercent and cpuPercent in (0, 100] and a positive latencyMs`);
    }
    const evaluation = args.evaluation ?? { periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 3 };
    const minutes = evaluation.periodSeconds / 60;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60 || evaluation.datapointsToAlarm < 1 || evaluation.datapointsToAlarm > evaluation.evaluationPeriods || evaluation.evaluationPeriods > 6) {
      throw new Error(`Monitoring ${name}: evaluation ${JSON.stringify(evaluation)} cannot be expressed in Azure Monitor. Fix: use whole minutes from 1 to 60 per period, at most 6 periods, and 1 <= datapointsToAlarm <= evaluationPeriods`);
    }
    const window = `PT${minutes}M`;
    const names = args.services.map((s) => s.name);
    if (new Set(names).size !== names.length) throw new Error(`Monitoring ${name}: services repeat a name (${names.join(", ")}). Fix: list each service once`);
    super("msa:azure:Monitoring", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName } = args;

    const groupArgs: monitor.ActionGroupArgs = {
      resourceGroupName,
      location: "Global",
      enabled: true,
      // Azure caps the short name (shown in SMS and e-mail) at 12 characters.
      groupShortName: args.title.replace(/[^A-Za-z0-9-]/g, "").slice(0, 12),
      emailReceivers: args.alarmEmail ? [{ name: "operators", emailAddress: args.alarmEmail, useCommonAlertSchema: true }] : [],
      tags,
    };
    args.transform?.actionGroup?.(groupArgs);
    const actionGroup = new monitor.ActionGroup(`${name}-action-group`, groupArgs, parent);

    const alerts: (monitor.ScheduledQueryRule | monitor.MetricAlert)[] = [];
    if (args.alarms ?? true) {
      const logAlert = (key: string, description: string, query: pulumi.Input<string>, column: string, threshold: number) =>
        new monitor.ScheduledQueryRule(
          `${name}-${key}`,
          {
            resourceGroupName,
            location: args.location,
            displayName: `${args.title} ${key}`,
            description,
            kind: "LogAlert",
            enabled: true,
            severity: ALERT_SEVERITY,
            scopes: [args.workspaceId],
            evaluationFrequency: window,
            windowSize: window,
            criteria: {
              allOf: [{ query, metricMeasureColumn: column, timeAggregation: "Maximum", operator: "GreaterThan", threshold, failingPeriods: { numberOfEvaluationPeriods: evaluation.evaluationPeriods, minFailingPeriodsToAlert: evaluation.datapointsToAlarm } }],
            },
            autoMitigate: true,
            actions: { actionGroups: [actionGroup.id] },
            tags,
          },
          parent,
        );
      for (const service of args.services) {
        if (service.paths.length > 0) {
          alerts.push(logAlert(`${service.name}-errors`, `${service.name} answers more than ${thresholds.errorRatePercent}% of requests with 5xx`, errorRateQuery(service.paths), "rate", thresholds.errorRatePercent));
          alerts.push(logAlert(`${service.name}-latency`, `${service.name}'s p99 response time passes ${thresholds.latencyMs} ms`, latencyQuery(service.paths), "p99", thresholds.latencyMs));
        }
        const saturation = service.saturation;
        if (saturation?.kind === "resource-metric") {
          const query = pulumi.output(saturation.resourceId).apply((resourceId) => saturationQuery({ kind: "resource-metric", resourceId, metric: saturation.metric }));
          alerts.push(logAlert(`${service.name}-cpu`, `${service.name} uses more than ${thresholds.cpuPercent}% CPU`, query, "cpu", thresholds.cpuPercent));
        }
      }
      alerts.push(
        new monitor.MetricAlert(
          `${name}-gateway-unhealthy`,
          {
            resourceGroupName,
            location: "global",
            description: "A gateway backend has no healthy member",
            enabled: true,
            severity: ALERT_SEVERITY,
            scopes: [args.gatewayId],
            evaluationFrequency: "PT1M",
            windowSize: window,
            criteria: {
              odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
              allOf: [{ criterionType: "StaticThresholdCriterion", name: "unhealthy-hosts", metricName: "UnhealthyHostCount", metricNamespace: "Microsoft.Network/applicationGateways", operator: "GreaterThan", threshold: 0, timeAggregation: "Maximum" }],
            },
            autoMitigate: true,
            actions: [{ actionGroupId: actionGroup.id }],
            tags,
          },
          parent,
        ),
      );
    }

    let workbook: applicationinsights.Workbook | undefined;
    if (args.dashboards ?? true) {
      workbook = new applicationinsights.Workbook(
        `${name}-workbook`,
        {
          resourceGroupName,
          location: args.location,
          // Workbook names are GUIDs; derived from the title so the workbook keeps its identity.
          resourceName: guidFrom(`workbook|${args.title}`),
          kind: "shared",
          category: "workbook",
          displayName: `${args.title} services`,
          sourceId: args.workspaceId,
          serializedData: pulumi.all(args.services.map((s) => resolveService(s))).apply((services) => workbookDefinition(`${args.title} services`, services)),
          tags,
        },
        parent,
      );
    }

    this.actionGroupId = actionGroup.id;
    this.nodes = { actionGroup, alerts, ...(workbook ? { workbook } : {}) };
    this.registerOutputs({ actionGroupId: this.actionGroupId });
  }
}

function resolveService(service: MonitoredService): pulumi.Output<DashboardService> {
  const saturation = service.saturation;
  const source: pulumi.Output<SaturationSource | undefined> =
    saturation === undefined
      ? pulumi.output(undefined)
      : saturation.kind === "container"
        ? pulumi.output(saturation)
        : pulumi.output(saturation.resourceId).apply((resourceId): SaturationSource => ({ kind: "resource-metric", resourceId, metric: saturation.metric }));
  return source.apply((resolved) => ({ name: service.name, paths: service.paths, ...(resolved ? { saturation: resolved } : {}) }));
}
