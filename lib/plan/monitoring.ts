import type { LandingZoneSpec } from "../spec/types.js";
import { BEANSTALK_ENVIRONMENT_METRICS, hostedServiceNames, metricsNamespace } from "./hosts.js";
import { serviceNamed } from "./lookup.js";
import type { GatewayPlan, LandingZonePlan, ServicePlan } from "./types.js";

/** Dashboards, alarms and where alarms notify; the thresholds hold on every cloud. */
export interface MonitoringPlan {
  readonly implementation: string;
  readonly dashboards: boolean;
  readonly alarms: boolean;
  /** Notification topic of every alarm. */
  readonly topicName: string;
  readonly alarmEmail?: string;
  /** Alarm when more than this share of requests fail with a 5xx status. */
  readonly errorRatePercent: number;
  /** Alarm when the p99 response time passes this many milliseconds. */
  readonly latencyMs: number;
  /** Alarm when a service's pods use more than this share of their memory limit (container platforms). */
  readonly memoryPercent: number;
  /** Period of every alarm metric, in seconds. */
  readonly periodSeconds: number;
  /** Periods an alarm looks at, and how many of them must breach. */
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** Services and BFFs monitored, in plan order. */
  readonly services: readonly MonitoredServicePlan[];
}

export interface MonitoredServicePlan {
  readonly service: string;
  /** The gateway load balancer whose target group carries the service's traffic; absent when it is not exposed. */
  readonly loadBalancerIndex?: number;
}

export function planMonitoring(spec: LandingZoneSpec, services: readonly ServicePlan[], gateway: GatewayPlan, implementation: string): MonitoringPlan {
  const { monitoring } = spec;
  return {
    implementation,
    dashboards: monitoring.dashboards,
    alarms: monitoring.alarms,
    topicName: `${spec.name}-${spec.environment}-alarms`,
    ...(monitoring.alarmEmail ? { alarmEmail: monitoring.alarmEmail } : {}),
    errorRatePercent: monitoring.errorRatePercent,
    latencyMs: monitoring.latencyMs,
    memoryPercent: 90,
    periodSeconds: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    services: services.map((s) => {
      const loadBalancer = gateway.loadBalancers.find((lb) => lb.routes.some((r) => r.target === s.name));
      return { service: s.name, ...(loadBalancer ? { loadBalancerIndex: loadBalancer.index } : {}) };
    }),
  };
}

/* ----- CloudWatch: the dashboards and alarms both AWS engines build, as data ----- */

/** A dimension whose value exists only once the resources do; each engine supplies it. */
export type CloudWatchDimensionRef = "apiId" | "targetGroup" | "loadBalancer" | "clusterName";
/** The values of the referenced dimensions for one monitor (strings, CDK tokens or resolved Pulumi outputs). */
export type CloudWatchDimensionValues = Readonly<Partial<Record<CloudWatchDimensionRef, string>>>;

export interface CloudWatchMetric {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name → a fixed value or a reference the engine resolves. */
  readonly dimensions: Readonly<Record<string, string | { readonly ref: CloudWatchDimensionRef }>>;
  readonly statistic: string;
  readonly label: string;
}

export interface CloudWatchExpression {
  readonly id: string;
  readonly expression: string;
  readonly label: string;
}

export interface CloudWatchWidget {
  readonly title: string;
  readonly metrics: readonly (CloudWatchMetric | CloudWatchExpression)[];
  /** Unit shown on the left axis. */
  readonly unit: string;
}

export interface CloudWatchAlarm {
  /** Short id, unique within the monitor: `server-errors`, `latency`, ... */
  readonly id: string;
  /** Physical name, `<zone>-<env>-<monitor>-<id>`. */
  readonly name: string;
  readonly description: string;
  /** Metrics and expressions; exactly one returns data (the one compared). */
  readonly metrics: readonly CloudWatchMetric[];
  readonly expression?: CloudWatchExpression;
  readonly threshold: number;
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly periodSeconds: number;
  /** No traffic is not an outage: the unhealthy-hosts and gateway alarms cover a silent service. */
  readonly treatMissingData: "notBreaching";
}

/** One dashboard and its alarms: the gateway's, or one service's. */
export interface CloudWatchMonitor {
  /** `gateway` or the service name. */
  readonly name: string;
  readonly dashboardName: string;
  /** Dimensions the engine must supply for this monitor. */
  readonly dimensions: readonly CloudWatchDimensionRef[];
  readonly widgets: readonly CloudWatchWidget[];
  readonly alarms: readonly CloudWatchAlarm[];
  /** Period of the dashboard's graphs, in seconds. */
  readonly periodSeconds: number;
}

const ALB = "AWS/ApplicationELB";
const EC2 = "AWS/EC2";
const BEANSTALK = "AWS/ElasticBeanstalk";
const API = "AWS/ApiGateway";
const CONTAINER_INSIGHTS = "ContainerInsights";

const isExpression = (m: CloudWatchMetric | CloudWatchExpression): m is CloudWatchExpression => "expression" in m;

/**
 * The gateway's monitor and one per service: requests, errors, latency (p50/p99) and saturation
 * from the HTTP API, the service's ALB target group (caas, iaas) or its Beanstalk environment's
 * enhanced health (paas), Container Insights (caas) or the Auto Scaling group's CPU and the agent's
 * memory (iaas), with alarms on the 5xx rate, p99 latency, unhealthy targets or instances, and memory.
 */
export function cloudWatchMonitors(plan: LandingZonePlan): CloudWatchMonitor[] {
  let monitors = monitorsByPlan.get(plan);
  if (!monitors) {
    monitors = buildCloudWatchMonitors(plan);
    monitorsByPlan.set(plan, monitors);
  }
  return [...monitors];
}

// Built once per plan: each service stack looks up its own monitor, which would otherwise rebuild every service's (O(N²)).
const monitorsByPlan = new WeakMap<LandingZonePlan, readonly CloudWatchMonitor[]>();

function buildCloudWatchMonitors(plan: LandingZonePlan): CloudWatchMonitor[] {
  const monitoring = plan.monitoring;
  if (!monitoring) return [];
  const prefix = `${plan.name}-${plan.environment}`;
  const evaluation = { evaluationPeriods: monitoring.evaluationPeriods, datapointsToAlarm: monitoring.datapointsToAlarm, periodSeconds: monitoring.periodSeconds, treatMissingData: "notBreaching" as const };
  const alarm = (monitor: string, a: Omit<CloudWatchAlarm, "name" | keyof typeof evaluation>): CloudWatchAlarm => ({ ...a, ...evaluation, name: `${prefix}-${monitor}-${a.id}` });

  const api = { ApiId: { ref: "apiId" as const } };
  const apiMetric = (id: string, metricName: string, statistic: string, label: string): CloudWatchMetric => ({ id, namespace: API, metricName, dimensions: api, statistic, label });
  const errorRate = (label: string): CloudWatchExpression => ({ id: "errorRate", expression: "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)", label });
  const gateway: CloudWatchMonitor = {
    name: "gateway",
    dashboardName: `${prefix}-gateway`,
    periodSeconds: monitoring.periodSeconds,
    dimensions: ["apiId"],
    widgets: [
      { title: "Requests", unit: "Count", metrics: [apiMetric("requests", "Count", "Sum", "Requests")] },
      { title: "Errors", unit: "Count", metrics: [apiMetric("clientErrors", "4xx", "Sum", "4xx"), apiMetric("errors", "5xx", "Sum", "5xx")] },
      { title: "Latency", unit: "Milliseconds", metrics: [apiMetric("p50", "Latency", "p50", "p50"), apiMetric("p99", "Latency", "p99", "p99"), apiMetric("integrationP99", "IntegrationLatency", "p99", "Integration p99")] },
    ],
    alarms: monitoring.alarms
      ? [
          alarm("gateway", {
            id: "server-errors",
            description: `More than ${monitoring.errorRatePercent}% of the gateway's requests fail with 5xx`,
            metrics: [apiMetric("requests", "Count", "Sum", "Requests"), apiMetric("errors", "5xx", "Sum", "5xx")],
            expression: errorRate("5xx %"),
            threshold: monitoring.errorRatePercent,
            comparison: "GreaterThanThreshold",
          }),
          alarm("gateway", {
            id: "latency",
            description: `The gateway's p99 latency passes ${monitoring.latencyMs} ms`,
            metrics: [apiMetric("p99", "Latency", "p99", "p99")],
            threshold: monitoring.latencyMs,
            comparison: "GreaterThanThreshold",
          }),
        ]
      : [],
  };

  const services = monitoring.services.map((monitored): CloudWatchMonitor => {
    const { service } = monitored;
    // Beanstalk owns its environments' target groups, so on paas the environment's own metrics tell the traffic.
    const names = plan.tier === "caas" ? undefined : hostedServiceNames(plan, planned(plan, service));
    const environment = plan.tier === "paas" ? names!.environment : undefined;
    const behindGateway = environment === undefined && monitored.loadBalancerIndex !== undefined;
    const container = plan.tier === "caas" && plan.cluster !== undefined;
    const fleet = plan.tier === "iaas" ? names!.autoScalingGroup : undefined;
    const target = { TargetGroup: { ref: "targetGroup" as const }, LoadBalancer: { ref: "loadBalancer" as const } };
    const albMetric = (id: string, metricName: string, statistic: string, label: string): CloudWatchMetric => ({ id, namespace: ALB, metricName, dimensions: target, statistic, label });
    const envMetric = (id: string, metricName: (typeof BEANSTALK_ENVIRONMENT_METRICS)[number], statistic: string, label: string): CloudWatchMetric => ({
      id,
      namespace: BEANSTALK,
      metricName,
      dimensions: { EnvironmentName: environment! },
      statistic,
      label,
    });
    const pods: CloudWatchMetric["dimensions"] = container ? { ClusterName: { ref: "clusterName" }, Namespace: plan.cluster!.namespace, Service: service } : {};
    const podMetric = (id: string, metricName: string, statistic: string, label: string): CloudWatchMetric => ({ id, namespace: CONTAINER_INSIGHTS, metricName, dimensions: pods, statistic, label });
    const widgets: CloudWatchWidget[] = [];
    const alarms: CloudWatchAlarm[] = [];
    // Requests, errors and latency (seconds), from the load balancer's target group or the Beanstalk environment.
    const traffic = behindGateway
      ? {
          requests: albMetric("requests", "RequestCount", "Sum", "Requests"),
          errors: albMetric("errors", "HTTPCode_Target_5XX_Count", "Sum", "5xx"),
          clientErrors: albMetric("clientErrors", "HTTPCode_Target_4XX_Count", "Sum", "4xx"),
          p50: albMetric("p50", "TargetResponseTime", "p50", "p50"),
          p99: albMetric("p99", "TargetResponseTime", "p99", "p99"),
        }
      : environment !== undefined
        ? {
            requests: envMetric("requests", "ApplicationRequestsTotal", "Sum", "Requests"),
            errors: envMetric("errors", "ApplicationRequests5xx", "Sum", "5xx"),
            clientErrors: envMetric("clientErrors", "ApplicationRequests4xx", "Sum", "4xx"),
            p50: envMetric("p50", "ApplicationLatencyP50", "Average", "p50"),
            p99: envMetric("p99", "ApplicationLatencyP99", "Maximum", "p99"),
          }
        : undefined;
    if (traffic) {
      widgets.push(
        { title: "Requests", unit: "Count", metrics: [traffic.requests] },
        { title: "Errors", unit: "Count", metrics: [traffic.errors, traffic.clientErrors] },
        { title: "Latency", unit: "Seconds", metrics: [traffic.p50, traffic.p99] },
      );
      if (monitoring.alarms) {
        alarms.push(
          alarm(service, {
            id: "server-errors",
            description: `More than ${monitoring.errorRatePercent}% of ${service}'s requests fail with 5xx`,
            metrics: [traffic.requests, traffic.errors],
            expression: errorRate("5xx %"),
            threshold: monitoring.errorRatePercent,
            comparison: "GreaterThanThreshold",
          }),
          alarm(service, {
            id: "latency",
            description: `${service}'s p99 response time passes ${monitoring.latencyMs} ms`,
            metrics: [traffic.p99],
            // Load balancers and Beanstalk report seconds.
            threshold: monitoring.latencyMs / 1000,
            comparison: "GreaterThanThreshold",
          }),
        );
      }
    }
    if (behindGateway) {
      widgets.push({ title: "Targets", unit: "Count", metrics: [albMetric("healthy", "HealthyHostCount", "Minimum", "Healthy"), albMetric("unhealthy", "UnHealthyHostCount", "Maximum", "Unhealthy")] });
      if (monitoring.alarms) {
        alarms.push(
          alarm(service, {
            id: "unhealthy-hosts",
            description: `${service} has targets failing their health check`,
            metrics: [albMetric("unhealthy", "UnHealthyHostCount", "Maximum", "Unhealthy")],
            threshold: 1,
            comparison: "GreaterThanOrEqualToThreshold",
          }),
        );
      }
    }
    if (environment !== undefined) {
      const degraded = envMetric("degraded", "InstancesDegraded", "Maximum", "Degraded");
      const severe = envMetric("severe", "InstancesSevere", "Maximum", "Severe");
      widgets.push({ title: "Instances", unit: "Count", metrics: [envMetric("ok", "InstancesOk", "Minimum", "OK"), degraded, severe] });
      if (monitoring.alarms) {
        alarms.push(
          alarm(service, {
            id: "unhealthy-hosts",
            description: `${service} has instances in Degraded or Severe health`,
            metrics: [degraded, severe],
            expression: { id: "unhealthy", expression: "FILL(degraded, 0) + FILL(severe, 0)", label: "Degraded or Severe" },
            threshold: 1,
            comparison: "GreaterThanOrEqualToThreshold",
          }),
        );
      }
    }
    if (container) {
      widgets.push({
        title: "Saturation",
        unit: "Percent",
        metrics: [podMetric("cpu", "pod_cpu_utilization", "Average", "CPU % of node"), podMetric("memory", "pod_memory_utilization_over_pod_limit", "Average", "Memory % of limit"), podMetric("pods", "service_number_of_running_pods", "Average", "Running pods")],
      });
      if (monitoring.alarms) {
        alarms.push(
          alarm(service, {
            id: "memory",
            description: `${service}'s pods use more than ${monitoring.memoryPercent}% of their memory limit`,
            metrics: [podMetric("memory", "pod_memory_utilization_over_pod_limit", "Average", "Memory % of limit")],
            threshold: monitoring.memoryPercent,
            comparison: "GreaterThanThreshold",
          }),
        );
      }
    }
    if (fleet !== undefined) {
      // CPU from EC2, memory from the CloudWatch agent on each instance, both per Auto Scaling group.
      const group = { AutoScalingGroupName: fleet };
      const memory: CloudWatchMetric = { id: "memory", namespace: metricsNamespace(plan), metricName: "mem_used_percent", dimensions: group, statistic: "Average", label: "Memory %" };
      widgets.push({
        title: "Saturation",
        unit: "Percent",
        metrics: [{ id: "cpu", namespace: EC2, metricName: "CPUUtilization", dimensions: group, statistic: "Average", label: "CPU %" }, memory],
      });
      if (monitoring.alarms) {
        alarms.push(
          alarm(service, {
            id: "memory",
            description: `${service}'s instances use more than ${monitoring.memoryPercent}% of their memory`,
            metrics: [memory],
            threshold: monitoring.memoryPercent,
            comparison: "GreaterThanThreshold",
          }),
        );
      }
    }
    return {
      name: service,
      dashboardName: `${prefix}-${service}`,
      periodSeconds: monitoring.periodSeconds,
      dimensions: [...(behindGateway ? (["targetGroup", "loadBalancer"] as const) : []), ...(container ? (["clusterName"] as const) : [])],
      widgets,
      alarms,
    };
  });
  return [gateway, ...services];
}

/** The planned service a monitor watches; throws naming the services when it is not in the plan. */
function planned(plan: LandingZonePlan, serviceName: string): ServicePlan {
  const service = serviceNamed(plan, serviceName);
  if (!service) throw new Error(`monitoring.services: "${serviceName}" is not a planned service. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
  return service;
}

/** The CloudWatch dashboard body of a monitor, with its dimension references resolved. */
export function cloudWatchDashboardBody(monitor: CloudWatchMonitor, values: CloudWatchDimensionValues, region: string): Record<string, unknown> {
  const width = 12;
  const height = 6;
  return {
    widgets: monitor.widgets.map((widget, i) => ({
      type: "metric",
      x: (i % 2) * width,
      y: Math.floor(i / 2) * height,
      width,
      height,
      properties: {
        title: widget.title,
        region,
        view: "timeSeries",
        stacked: false,
        period: monitor.periodSeconds,
        yAxis: { left: { label: widget.unit, showUnits: false } },
        metrics: widget.metrics.map((m) =>
          isExpression(m)
            ? [{ expression: m.expression, label: m.label, id: m.id }]
            : [m.namespace, m.metricName, ...Object.entries(resolveDimensions(monitor, m, values)).flat(), { stat: m.statistic, label: m.label, id: m.id }],
        ),
      },
    })),
  };
}

/** A metric's dimensions with references replaced by the engine's values; throws naming a missing one. */
export function resolveDimensions(monitor: CloudWatchMonitor, metric: CloudWatchMetric, values: CloudWatchDimensionValues): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metric.dimensions).map(([name, value]) => {
      if (typeof value === "string") return [name, value];
      const resolved = values[value.ref];
      if (resolved === undefined) {
        throw new Error(`monitor "${monitor.name}": dimension ${name} needs the value of "${value.ref}", which is undefined. Fix: pass dimensions.${value.ref} for this monitor`);
      }
      return [name, resolved];
    }),
  );
}

/**
 * Container Insights on EKS: the CloudWatch observability add-on, its agent's service account (Pod
 * Identity) and AWS's policy for it. Container logs stay off: the log pipeline already ships them.
 */
export const CONTAINER_INSIGHTS_ADDON = {
  name: "amazon-cloudwatch-observability",
  namespace: "amazon-cloudwatch",
  serviceAccount: "cloudwatch-agent",
  managedPolicy: "CloudWatchAgentServerPolicy",
  configuration: { containerLogs: { enabled: false } },
} as const;

/** CloudWatch alarms publish to the notification topic, and only alarms of this account and region. */
export function alarmTopicPublishStatement(arns: { readonly topicArn: string; readonly partition: string; readonly region: string; readonly account: string }) {
  return {
    Sid: "CloudWatchAlarmsPublish",
    Effect: "Allow" as const,
    Principal: { Service: "cloudwatch.amazonaws.com" },
    Action: "sns:Publish",
    Resource: arns.topicArn,
    Condition: { ArnLike: { "aws:SourceArn": `arn:${arns.partition}:cloudwatch:${arns.region}:${arns.account}:alarm:*` } },
  };
}

/** The topic's key lets CloudWatch alarms encrypt what they publish (AWS's own SNS key does not). */
export const ALARM_TOPIC_KEY_STATEMENT = {
  Sid: "CloudWatchAlarmsEncrypt",
  Effect: "Allow" as const,
  Principal: { Service: "cloudwatch.amazonaws.com" },
  Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
  Resource: "*",
};
