import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import { SERVICE_ALERTS } from "../../plan/alerts.js";
import { appEngineServiceName } from "../../plan/gcp.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import { projectOf, serviceAgent } from "./project.js";

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs {
  /** The landing-zone plan: `spec.monitoring` (dashboards, alarms, alarmEmail), the services and their tier. */
  readonly plan: LandingZonePlan;
  /** The gateway's backend service name of every exposed service: requests, errors and latency come from the load balancer. */
  readonly backendServiceNames: Readonly<Record<string, pulumi.Input<string>>>;
  /** Prefix of the alert topic and the dashboards' names (the landing zone and environment). */
  readonly namePrefix: string;
  /**
   * Labels on the alert topic.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly alertPolicy?: (args: gcp.monitoring.AlertPolicyArgs, service: string, signal: string) => void;
  };
}

/** A PromQL query over the service's traffic (`https_lb_rule`), errors, latency and CPU. */
export interface ServiceQueries {
  readonly requests?: string;
  readonly errors?: string;
  readonly errorRatio?: string;
  readonly latencyP95Ms?: string;
  readonly cpu: string;
}

/**
 * Cloud Monitoring for every service: a dashboard of the four golden signals (requests, 5xx errors,
 * p95 latency from the load balancer; CPU of the service's pods, VMs or App Engine instances) and
 * alert policies on the error ratio, the latency and the CPU at SERVICE_ALERTS, notifying a Pub/Sub
 * topic (and `monitoring.alarmEmail` when set).
 *
 * Cost: dashboards are free; alerting policies bill per condition and metric read.
 *
 * @example
 * new Monitoring("monitoring", { plan, backendServiceNames: { orders: gateway.backendServiceNames.orders }, namePrefix: "shop-prod" });
 */
export class Monitoring extends pulumi.ComponentResource {
  /** The topic every alert is published to. */
  readonly alertTopicId?: pulumi.Output<string>;
  /** Notification channel ids every alert policy notifies. */
  readonly notificationChannelIds: readonly pulumi.Output<string>[];
  readonly nodes: {
    readonly dashboards: Readonly<Record<string, gcp.monitoring.Dashboard>>;
    readonly alertPolicies: readonly gcp.monitoring.AlertPolicy[];
    readonly channels: readonly gcp.monitoring.NotificationChannel[];
  };

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const exposed = plan.services.filter((s) => s.expose);
    const missing = exposed.filter((s) => args.backendServiceNames[s.name] === undefined).map((s) => s.name);
    if (missing.length > 0) throw new Error(`Monitoring ${name}: backendServiceNames has no entry for ${missing.join(", ")}. Fix: pass the gateway's backend service name of every exposed service`);
    super("msa:gcp:Monitoring", name, {}, opts);
    const parent = { parent: this };
    const { dashboards: wantDashboards, alarms, alarmEmail } = plan.spec.monitoring;

    const channels: gcp.monitoring.NotificationChannel[] = [];
    if (alarms) {
      const topic = new gcp.pubsub.Topic(`${name}-alerts`, { name: `${args.namePrefix}-alerts`, labels: { ...args.labels } }, parent);
      // Cloud Monitoring publishes as its notification service agent, on this topic only.
      new gcp.pubsub.TopicIAMMember(`${name}-alerts-publisher`, { topic: topic.id, role: "roles/pubsub.publisher", member: serviceAgent(projectOf(this), "gcp-sa-monitoring-notification.iam.gserviceaccount.com") }, parent);
      channels.push(new gcp.monitoring.NotificationChannel(`${name}-topic`, { type: "pubsub", displayName: `${args.namePrefix} alerts (Pub/Sub)`, labels: { topic: topic.id } }, parent));
      if (alarmEmail) channels.push(new gcp.monitoring.NotificationChannel(`${name}-email`, { type: "email", displayName: `${args.namePrefix} alerts (email)`, labels: { email_address: alarmEmail } }, parent));
      this.alertTopicId = topic.id;
    }
    const channelIds = channels.map((c) => c.id);

    const dashboards: Record<string, gcp.monitoring.Dashboard> = {};
    const alertPolicies: gcp.monitoring.AlertPolicy[] = [];
    for (const service of plan.services) {
      const queries = pulumi.output(args.backendServiceNames[service.name] ?? "").apply((backend) => serviceQueries(plan, service, backend || undefined));
      if (wantDashboards) {
        dashboards[service.name] = new gcp.monitoring.Dashboard(`${name}-${service.name}`, { dashboardJson: queries.apply((q) => JSON.stringify(dashboardFor(`${args.namePrefix} ${service.name}`, q))) }, parent);
      }
      if (alarms) {
        const window = `${SERVICE_ALERTS.windowMinutes * 60}s`;
        const policy = (signal: string, query: pulumi.Output<string>, summary: string) => {
          const policyArgs: gcp.monitoring.AlertPolicyArgs = {
            displayName: `${args.namePrefix} ${service.name}: ${summary}`,
            combiner: "OR",
            severity: signal === "cpu" ? "WARNING" : "ERROR",
            conditions: [{ displayName: summary, conditionPrometheusQueryLanguage: { query, duration: window, evaluationInterval: "60s" } }],
            notificationChannels: channelIds,
            alertStrategy: { autoClose: "1800s" },
            documentation: { mimeType: "text/markdown", content: `${summary} on ${service.name} for ${SERVICE_ALERTS.windowMinutes} minutes. Check its dashboard and logs.` },
          };
          args.transform?.alertPolicy?.(policyArgs, service.name, signal);
          alertPolicies.push(new gcp.monitoring.AlertPolicy(`${name}-${service.name}-${signal}`, policyArgs, parent));
        };
        if (service.expose) {
          policy("errors", queries.apply((q) => `${q.errorRatio!} > ${SERVICE_ALERTS.errorRatePercent / 100}`), `5xx responses above ${SERVICE_ALERTS.errorRatePercent}%`);
          policy("latency", queries.apply((q) => `${q.latencyP95Ms!} > ${SERVICE_ALERTS.latencyP95Ms}`), `p95 latency above ${SERVICE_ALERTS.latencyP95Ms} ms`);
        }
        policy("cpu", queries.apply((q) => `${q.cpu} > ${SERVICE_ALERTS.cpuUtilization}`), `CPU above ${SERVICE_ALERTS.cpuUtilization * 100}%`);
      }
    }
    this.notificationChannelIds = channelIds;
    this.nodes = { dashboards, alertPolicies, channels };
    this.registerOutputs({ notificationChannelIds: pulumi.all(channelIds) });
  }
}

/** PromQL of a service's signals: load-balancer metrics by backend service, CPU by the resource its tier runs on. */
export function serviceQueries(plan: LandingZonePlan, service: ServicePlan, backendServiceName: string | undefined): ServiceQueries {
  const window = `${SERVICE_ALERTS.windowMinutes}m`;
  const cpu =
    plan.tier === "caas"
      ? // No CPU limits on the pods, so utilization is measured against the request.
        `avg(kubernetes_io:container_cpu_request_utilization{monitored_resource="k8s_container",namespace_name="${workloadNamespace(plan)}",container_name="${service.name}"})`
      : plan.tier === "iaas"
        ? `avg(compute_googleapis_com:instance_cpu_utilization{monitored_resource="gce_instance",metadata_user_service="${service.name}"})`
        : `avg(appengine_googleapis_com:flex_cpu_utilization{monitored_resource="gae_app",module_id="${appEngineServiceName(plan, service.name)}"})`;
  if (!backendServiceName) return { cpu };
  const rule = `monitored_resource="https_lb_rule",backend_target_name="${backendServiceName}"`;
  const requests = `sum(rate(loadbalancing_googleapis_com:https_request_count{${rule}}[${window}]))`;
  const errors = `sum(rate(loadbalancing_googleapis_com:https_request_count{${rule},response_code_class="500"}[${window}]))`;
  return {
    requests,
    errors,
    errorRatio: `(${errors} / ${requests})`,
    latencyP95Ms: `histogram_quantile(0.95, sum by (le) (rate(loadbalancing_googleapis_com:https_backend_latencies_bucket{${rule}}[${window}])))`,
    cpu,
  };
}

function dashboardFor(title: string, q: ServiceQueries) {
  const chart = (chartTitle: string, query: string) => ({ title: chartTitle, xyChart: { dataSets: [{ timeSeriesQuery: { prometheusQuery: query }, plotType: "LINE" }] } });
  const widgets = [
    ...(q.requests ? [chart("Requests per second", q.requests)] : []),
    ...(q.errors ? [chart("5xx errors per second", q.errors)] : []),
    ...(q.latencyP95Ms ? [chart("p95 latency (ms)", q.latencyP95Ms)] : []),
    chart("CPU utilization", q.cpu),
  ];
  return {
    displayName: title,
    mosaicLayout: { columns: 12, tiles: widgets.map((widget, i) => ({ xPos: (i % 2) * 6, yPos: Math.floor(i / 2) * 4, width: 6, height: 4, widget })) },
  };
}
