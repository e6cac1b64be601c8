import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ALARM_TOPIC_KEY_STATEMENT,
  alarmTopicPublishStatement,
  cloudWatchDashboardBody,
  resolveDimensions,
  type CloudWatchAlarm,
  type CloudWatchDimensionRef,
  type CloudWatchMonitor,
} from "../../plan/monitoring.js";

/** The values of a monitor's dimensions, known once the resources exist. */
export type MonitorDimensions = Readonly<Partial<Record<CloudWatchDimensionRef, pulumi.Input<string>>>>;

export interface MonitoringArgs {
  /**
   * Dashboards and alarms to build (`cloudWatchMonitors(plan)`).
   * @default - none: only the notification topic
   */
  readonly monitors?: readonly CloudWatchMonitor[];
  /**
   * The values of the dimensions each monitor references, by monitor name (target group and load
   * balancer ARN suffixes, API id, cluster name).
   * @default - none; a monitor that references a dimension then fails with its name
   */
  readonly dimensions?: Readonly<Record<string, MonitorDimensions>>;
  /**
   * Build the monitors' dashboards.
   * @default true
   */
  readonly dashboards?: boolean;
  /**
   * ARN of an existing topic alarms notify.
   * @default - a new topic encrypted with a new KMS key
   */
  readonly alarmTopicArn?: pulumi.Input<string>;
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
   * Protect the new topic's key and keep it when the stack is destroyed (prod): notifications encrypted with it stay readable.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly alarm?: (args: aws.cloudwatch.MetricAlarmArgs, alarm: CloudWatchAlarm) => void;
    readonly dashboard?: (args: aws.cloudwatch.DashboardArgs, monitor: CloudWatchMonitor) => void;
  };
}

/**
 * Monitoring and alarms: a KMS-encrypted SNS topic every alarm notifies (with an optional email
 * subscription), and per monitor a CloudWatch dashboard (requests, errors, latency p50/p99,
 * saturation) and its alarms (5xx rate, p99 latency, unhealthy targets, memory), with the same
 * metrics, thresholds and names as the CDK engine (`cloudWatchMonitors` in lib/plan).
 *
 * Cost: each dashboard beyond the free three and each alarm is billed monthly; the key monthly.
 *
 * @example
 * const monitoring = new Monitoring("shop-monitoring", {
 *   topicName: "shop-prod-alarms",
 *   monitors: cloudWatchMonitors(plan),
 *   dimensions: { gateway: { apiId: gateway.apiId } },
 * });
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly alarmTopicArn: pulumi.Output<string>;
  readonly nodes: {
    readonly topic?: aws.sns.Topic;
    readonly topicKey?: aws.kms.Key;
    readonly dashboards: Readonly<Record<string, aws.cloudwatch.Dashboard>>;
    readonly alarms: Readonly<Record<string, aws.cloudwatch.MetricAlarm>>;
  };

  constructor(name: string, args: MonitoringArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const monitors = args.monitors ?? [];
    const seen = new Set<string>();
    for (const monitor of monitors) {
      if (seen.has(monitor.name)) throw new Error(`Monitoring ${name}: monitor "${monitor.name}" is given twice. Fix: pass each monitor once`);
      seen.add(monitor.name);
      const missing = monitor.dimensions.filter((d) => args.dimensions?.[monitor.name]?.[d] === undefined);
      if (missing.length > 0) {
        throw new Error(`Monitoring ${name}: monitor "${monitor.name}" needs dimensions ${missing.join(", ")}, which are undefined. Fix: pass dimensions["${monitor.name}"].${missing[0]}`);
      }
    }
    super("msa:aws:Monitoring", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    let topic: aws.sns.Topic | undefined;
    let topicKey: aws.kms.Key | undefined;
    if (args.alarmTopicArn === undefined) {
      topicKey = new aws.kms.Key(
        `${name}-topic-key`,
        {
          description: "Encrypts the alarm notifications",
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          policy: pulumi.all([partition, account]).apply(([p, a]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Sid: "AccountAdministration", Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${a}:root` }, Action: "kms:*", Resource: "*" }, ALARM_TOPIC_KEY_STATEMENT],
            }),
          ),
          tags,
        },
        args.retain ? { parent: this, protect: true, retainOnDelete: true } : parent,
      );
      topic = new aws.sns.Topic(`${name}-alarms`, { ...(args.topicName ? { name: args.topicName } : {}), kmsMasterKeyId: topicKey.arn, tags }, parent);
      new aws.sns.TopicPolicy(
        `${name}-alarms`,
        {
          arn: topic.arn,
          policy: pulumi.all([topic.arn, partition, region, account]).apply(([topicArn, p, r, a]) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                { Sid: "AllowPublishThroughSSLOnly", Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: topicArn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
                alarmTopicPublishStatement({ topicArn, partition: p, region: r, account: a }),
              ],
            }),
          ),
        },
        parent,
      );
    }
    const alarmTopicArn = topic ? topic.arn : pulumi.output(args.alarmTopicArn!);
    if (args.alarmEmail) new aws.sns.TopicSubscription(`${name}-email`, { topic: alarmTopicArn, protocol: "email", endpoint: args.alarmEmail }, parent);

    const dashboards: Record<string, aws.cloudwatch.Dashboard> = {};
    const alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};
    for (const monitor of monitors) {
      const values = pulumi.all({ ...args.dimensions?.[monitor.name] });
      if ((args.dashboards ?? true) && monitor.widgets.length > 0) {
        const dashboardArgs: aws.cloudwatch.DashboardArgs = {
          dashboardName: monitor.dashboardName,
          dashboardBody: pulumi.all([values, region]).apply(([resolved, r]) => JSON.stringify(cloudWatchDashboardBody(monitor, resolved, r))),
        };
        args.transform?.dashboard?.(dashboardArgs, monitor);
        dashboards[monitor.name] = new aws.cloudwatch.Dashboard(`${name}-${monitor.name}`, dashboardArgs, parent);
      }
      for (const alarm of monitor.alarms) {
        const alarmArgs: aws.cloudwatch.MetricAlarmArgs = {
          name: alarm.name,
          alarmDescription: alarm.description,
          comparisonOperator: alarm.comparison,
          threshold: alarm.threshold,
          evaluationPeriods: alarm.evaluationPeriods,
          datapointsToAlarm: alarm.datapointsToAlarm,
          treatMissingData: alarm.treatMissingData,
          actionsEnabled: true,
          alarmActions: [alarmTopicArn],
          okActions: [alarmTopicArn],
          metricQueries: values.apply((resolved) => [
            ...alarm.metrics.map((m) => ({
              id: m.id,
              label: m.label,
              returnData: alarm.expression === undefined,
              metric: { namespace: m.namespace, metricName: m.metricName, dimensions: resolveDimensions(monitor, m, resolved), period: alarm.periodSeconds, stat: m.statistic },
            })),
            ...(alarm.expression ? [{ id: alarm.expression.id, label: alarm.expression.label, expression: alarm.expression.expression, returnData: true }] : []),
          ]),
          tags,
        };
        args.transform?.alarm?.(alarmArgs, alarm);
        alarms[alarm.name] = new aws.cloudwatch.MetricAlarm(`${name}-${alarm.name}`, alarmArgs, parent);
      }
    }

    this.alarmTopicArn = alarmTopicArn;
    this.nodes = { dashboards, alarms, ...(topic ? { topic } : {}), ...(topicKey ? { topicKey } : {}) };
    this.registerOutputs({ alarmTopicArn: this.alarmTopicArn });
  }
}
