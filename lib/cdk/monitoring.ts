import { RemovalPolicy, Stack, aws_cloudwatch as cloudwatch, aws_iam as iam, aws_kms as kms, aws_sns as sns, aws_sns_subscriptions as subscriptions } from "aws-cdk-lib";
import { Construct } from "constructs";
import {
  ALARM_TOPIC_KEY_STATEMENT,
  alarmTopicPublishStatement,
  cloudWatchDashboardBody,
  resolveDimensions,
  type CloudWatchAlarm,
  type CloudWatchDimensionValues,
  type CloudWatchMonitor,
} from "../plan/monitoring.js";
import { pascalCase } from "../plan/naming.js";

export interface MonitoringProps {
  /**
   * Dashboards and alarms to build (`cloudWatchMonitors(plan)`, or the entries of one service).
   * @default - none: only the notification topic
   */
  readonly monitors?: readonly CloudWatchMonitor[];
  /**
   * The values of the dimensions each monitor references, by monitor name (target group and load
   * balancer full names, API id, cluster name).
   * @default - none; a monitor that references a dimension then fails with its name
   */
  readonly dimensions?: Readonly<Record<string, CloudWatchDimensionValues>>;
  /**
   * Build the monitors' dashboards.
   * @default true
   */
  readonly dashboards?: boolean;
  /**
   * The topic alarms notify, e.g. one created by another stack's `Monitoring`.
   * @default - a new topic encrypted with a new KMS key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Name of the new topic.
   * @default - generated
   */
  readonly topicName?: string;
  /**
   * An email address subscribed to the topic (it confirms the subscription by mail).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * What happens to the new topic's key when the stack deletes it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Monitoring and alarms: a KMS-encrypted SNS topic every alarm notifies (with an optional email
 * subscription), and per monitor a CloudWatch dashboard (requests, errors, latency p50/p99,
 * saturation) and its alarms (5xx rate, p99 latency, unhealthy targets, memory), with the same
 * metrics, thresholds and names as the Pulumi engine (`cloudWatchMonitors` in lib/plan).
 *
 * Cost: each dashboard beyond the free three and each alarm is billed monthly; the key monthly.
 *
 * @example
 * const zone = new Monitoring(stack, "Monitoring", { topicName: "shop-prod-alarms", alarmEmail: "ops@example.com" });
 * new Monitoring(serviceStack, "Monitoring", {
 *   alarmTopic: zone.alarmTopic,
 *   monitors: cloudWatchMonitors(plan).filter((m) => m.name === "orders"),
 *   dimensions: { orders: { targetGroup, loadBalancer, clusterName } },
 * });
 */
export class Monitoring extends Construct {
  readonly alarmTopic: sns.ITopic;
  /** The new topic's key, when the topic is created here. */
  readonly topicKey?: kms.Key;
  /** Monitor name → its dashboard. */
  readonly dashboards: ReadonlyMap<string, cloudwatch.CfnDashboard>;
  /** Alarm name → the alarm. */
  readonly alarms: ReadonlyMap<string, cloudwatch.CfnAlarm>;

  constructor(scope: Construct, id: string, props: MonitoringProps = {}) {
    super(scope, id);
    const monitors = props.monitors ?? [];
    const names = new Set<string>();
    for (const monitor of monitors) {
      if (names.has(monitor.name)) throw new Error(`Monitoring: monitor "${monitor.name}" is given twice. Fix: pass each monitor once`);
      names.add(monitor.name);
    }
    const stack = Stack.of(this);

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      const key = new kms.Key(this, "TopicKey", { description: "Encrypts the alarm notifications", enableKeyRotation: true, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN });
      key.addToResourcePolicy(iam.PolicyStatement.fromJson(ALARM_TOPIC_KEY_STATEMENT));
      const topic = new sns.Topic(this, "AlarmTopic", { ...(props.topicName ? { topicName: props.topicName } : {}), masterKey: key, enforceSSL: true });
      // enforceSSL replaces SNS's default policy, so CloudWatch gets its own publish grant.
      topic.addToResourcePolicy(
        iam.PolicyStatement.fromJson(alarmTopicPublishStatement({ topicArn: topic.topicArn, partition: stack.partition, region: stack.region, account: stack.account })),
      );
      this.alarmTopic = topic;
      this.topicKey = key;
    }
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const dashboards = new Map<string, cloudwatch.CfnDashboard>();
    const alarms = new Map<string, cloudwatch.CfnAlarm>();
    for (const monitor of monitors) {
      const values = props.dimensions?.[monitor.name] ?? {};
      const missing = monitor.dimensions.filter((d) => values[d] === undefined);
      if (missing.length > 0) {
        throw new Error(`Monitoring: monitor "${monitor.name}" needs dimensions ${missing.join(", ")}, which are undefined. Fix: pass dimensions["${monitor.name}"].${missing[0]}`);
      }
      if ((props.dashboards ?? true) && monitor.widgets.length > 0) {
        dashboards.set(
          monitor.name,
          new cloudwatch.CfnDashboard(this, `${pascalCase(monitor.name)}Dashboard`, {
            dashboardName: monitor.dashboardName,
            dashboardBody: stack.toJsonString(cloudWatchDashboardBody(monitor, values, stack.region)),
          }),
        );
      }
      for (const alarm of monitor.alarms) alarms.set(alarm.name, this.alarm(monitor, alarm, values));
    }
    this.dashboards = dashboards;
    this.alarms = alarms;
  }

  private alarm(monitor: CloudWatchMonitor, alarm: CloudWatchAlarm, values: CloudWatchDimensionValues): cloudwatch.CfnAlarm {
    const metrics: cloudwatch.CfnAlarm.MetricDataQueryProperty[] = [
      ...alarm.metrics.map((m) => ({
        id: m.id,
        label: m.label,
        returnData: alarm.expression === undefined,
        metricStat: {
          metric: { namespace: m.namespace, metricName: m.metricName, dimensions: Object.entries(resolveDimensions(monitor, m, values)).map(([name, value]) => ({ name, value })) },
          period: alarm.periodSeconds,
          stat: m.statistic,
        },
      })),
      ...(alarm.expression ? [{ id: alarm.expression.id, label: alarm.expression.label, expression: alarm.expression.expression, returnData: true }] : []),
    ];
    return new cloudwatch.CfnAlarm(this, `${pascalCase(monitor.name)}${pascalCase(alarm.id)}Alarm`, {
      alarmName: alarm.name,
      alarmDescription: alarm.description,
      comparisonOperator: alarm.comparison,
      threshold: alarm.threshold,
      evaluationPeriods: alarm.evaluationPeriods,
      datapointsToAlarm: alarm.datapointsToAlarm,
      treatMissingData: alarm.treatMissingData,
      actionsEnabled: true,
      alarmActions: [this.alarmTopic.topicArn],
      okActions: [this.alarmTopic.topicArn],
      metrics,
    });
  }
}
