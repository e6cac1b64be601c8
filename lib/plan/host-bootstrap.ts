/**
 * How a hosted service (iaas VM, paas Beanstalk instance) and the Logstash hosts boot, and what
 * their instance roles may do: user data, agent and shipper configuration, Beanstalk option
 * settings and source bundle, IAM statements. Pure text and data that both engines render; every
 * value comes in as a string, which may be a CDK token or a resolved Pulumi value.
 */
import { stringify } from "yaml";
import { FILEBEAT_IMAGE, LOGSTASH_DOMAIN_ACTIONS, LOGSTASH_OPENSEARCH_IMAGE } from "../kubernetes/log-pipeline.js";
import { PLATFORM_ENV } from "../kubernetes/workload.js";
import {
  BEANSTALK_ENVIRONMENT_METRICS,
  configEntries,
  discoveryNamespaceEnvironment,
  hostedServiceEnvironment,
  hostedServiceNames,
  messagingEnvName,
  metricsNamespace,
  rollingMinInService,
  serviceDataEnvNames,
} from "./hosts.js";
import { DELIVERY_ACTIONS } from "./delivery.js";
import { loadBalancerPathPatterns } from "./gateway-paths.js";
import { homeLoadBalancerOf, routesTo, subscriptionsOf } from "./lookup.js";
import { eventSource } from "./messaging.js";
import { shortHash } from "./naming.js";
import { HOST_COLLECTOR, XRAY_WRITE_ACTIONS, hostCollectorConfig, hostCollectorImage, otelEnvironment } from "./tracing.js";
import type { LandingZonePlan, RoutePlan, ServicePlan } from "./types.js";

/** The Redis list in front of Logstash, as a host sees it. */
export interface HostLogBuffer {
  readonly host: string;
  readonly port: number;
  /** Secrets Manager secret with the buffer's AUTH token. */
  readonly secretArn: string;
}

/** The central session store as a host sees it (design a of the seed): the same contract pods get. */
export interface HostSessionStore {
  /** Host name of the store. */
  readonly endpoint: string;
  readonly port: number | string;
  /** Secrets Manager secret with the store's AUTH token, read with the instance role at start. */
  readonly authTokenSecretArn: string;
}

/** `SESSION_STORE_ENDPOINT` and `SESSION_STORE_TLS`: the non-secret half of the session store's contract. */
export function sessionStoreEnvironment(store: HostSessionStore): Record<string, string> {
  return { [PLATFORM_ENV.sessionStoreEndpoint]: `${store.endpoint}:${store.port}`, [PLATFORM_ENV.sessionStoreTls]: "true" };
}

/** Deploy-time values of one VM service. */
export interface VmRuntime {
  readonly region: string;
  /** Image reference, such as the service's ECR repository URI with a tag. */
  readonly image: string;
  /**
   * SSM parameter the service's pipeline records each release in; the instance runs that image,
   * read at boot, so an instance refresh releases a new one without a new launch template.
   * @default - none: the instance runs `image`
   */
  readonly releaseParameter?: string;
  /** Cloud Map service id, when the service registers. */
  readonly discoveryServiceId?: string;
  /** Env var name → value: topic and queue ARNs. */
  readonly env: Readonly<Record<string, string>>;
  /** Secret key (env var name) → Secrets Manager ARN. */
  readonly secretArns: Readonly<Record<string, string>>;
  readonly logBuffer?: HostLogBuffer;
  /**
   * The session store the service shares with the others.
   * @default - none
   */
  readonly sessionStore?: HostSessionStore;
  /**
   * Shell command run once the service answers its health check (CDK: cfn-signal for the rolling update).
   * @default - none: the load balancer health check gates the rollout
   */
  readonly readyCommand?: string;
}

/** An IAM statement both engines render (CDK PolicyStatement, Pulumi JSON). */
export interface PolicyStatementData {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** SNS actions a publisher needs on its topics. */
export const PUBLISH_ACTIONS = ["sns:Publish"] as const;
/** SQS actions a consumer needs on its own queues. */
export const CONSUME_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"] as const;
/** Registration of the instance itself, in the service's own Cloud Map service only. */
export const REGISTRY_ACTIONS = ["servicediscovery:RegisterInstance", "servicediscovery:DeregisterInstance"] as const;
/** Looking the other services up in an HTTP namespace (paas); Cloud Map has no resource-level permission for it. */
export const DISCOVER_ACTIONS = ["servicediscovery:DiscoverInstances"] as const;
/** What Cloud Map does in the namespace's private hosted zone on the caller's behalf. */
export const REGISTRY_RECORD_ACTIONS = ["route53:ChangeResourceRecordSets", "route53:GetHostedZone"] as const;
/** Pulling the service's image: the token has no resource, the layers are the repository's. */
export const ECR_TOKEN_ACTIONS = ["ecr:GetAuthorizationToken"] as const;
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] as const;
/** The CloudWatch agent writes its metrics into the landing zone's namespace and its logs into one group. */
export const METRICS_ACTIONS = ["cloudwatch:PutMetricData"] as const;
export const AGENT_LOG_ACTIONS = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"] as const;
/** The agent tags metrics with the instance's tags. */
export const DESCRIBE_TAGS_ACTIONS = ["ec2:DescribeTags"] as const;
/** Ends the termination hook once the instance has left the registry. */
export const LIFECYCLE_ACTIONS = ["autoscaling:CompleteLifecycleAction"] as const;
export const SECRET_READ_ACTIONS = ["secretsmanager:GetSecretValue"] as const;
export const CONFIG_READ_ACTIONS = ["ssm:GetParameters", "ssm:GetParametersByPath"] as const;
/** AWS-managed policies of a VM's instance role: Session Manager access instead of SSH. */
export const VM_MANAGED_POLICIES = ["AmazonSSMManagedInstanceCore"] as const;
/** AWS-managed policies of a Beanstalk instance profile: the platform agent's uploads and Session Manager. */
export const BEANSTALK_INSTANCE_MANAGED_POLICIES = ["AWSElasticBeanstalkWebTier", "AmazonSSMManagedInstanceCore"] as const;
/** AWS-managed policies (path/name) of the Beanstalk service role: enhanced health and managed platform updates. */
export const BEANSTALK_SERVICE_MANAGED_POLICIES = ["service-role/AWSElasticBeanstalkEnhancedHealth", "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"] as const;
/** Port every Beanstalk instance serves on (the compose file maps it to the service's port). */
export const BEANSTALK_INSTANCE_PORT = 80;

export { metricsNamespace };

/** Values the statements of a hosted service's instance role are built from. */
export interface HostedServiceGrants {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The service's own repository, when its image comes from there. */
  readonly repositoryName?: string;
  /**
   * Parameter the instance reads its released image from (iaas with a pipeline).
   * @default - none
   */
  readonly releaseParameterName?: string;
  readonly secretArns: readonly string[];
  readonly topicArns: readonly string[];
  readonly queueArns: readonly string[];
  /** Key encrypting the topics and queues. */
  readonly brokerKeyArn?: string;
  readonly logBufferSecretArn?: string;
  /** The session store's AUTH token. */
  readonly sessionStoreSecretArn?: string;
  /** Registration in a private DNS namespace (iaas). */
  readonly registry?: { readonly serviceArn: string; readonly hostedZoneId: string };
  /** iaas: the instance completes its own termination hook and writes its boot log. */
  readonly vm?: boolean;
}

/**
 * Least-privilege statements of a hosted service's instance role: its image, its secrets and
 * configuration path, its topics and queues, the log buffer's token, on Beanstalk lookups in the
 * landing zone's registry, and on VMs its registry entry, termination hook, metrics and boot log.
 */
export function hostedServiceStatements(plan: LandingZonePlan, service: ServicePlan, grants: HostedServiceGrants): PolicyStatementData[] {
  const names = hostedServiceNames(plan, service);
  const arn = (svc: string, resource: string, region = grants.region) => `arn:${grants.partition}:${svc}:${region}:${grants.account}:${resource}`;
  const statements: PolicyStatementData[] = [];
  if (grants.repositoryName) {
    statements.push({ sid: "PullToken", actions: ECR_TOKEN_ACTIONS, resources: ["*"] });
    statements.push({ sid: "PullImage", actions: ECR_PULL_ACTIONS, resources: [arn("ecr", `repository/${grants.repositoryName}`)] });
  }
  if (grants.releaseParameterName) statements.push({ sid: "ReadRelease", actions: DELIVERY_ACTIONS.readRelease, resources: [arn("ssm", `parameter${grants.releaseParameterName}`)] });
  const secrets = [...grants.secretArns, ...(grants.logBufferSecretArn ? [grants.logBufferSecretArn] : []), ...(grants.sessionStoreSecretArn ? [grants.sessionStoreSecretArn] : [])];
  if (secrets.length > 0) statements.push({ sid: "ReadSecrets", actions: SECRET_READ_ACTIONS, resources: secrets });
  if (configEntries(service).length > 0) {
    statements.push({ sid: "ReadConfig", actions: CONFIG_READ_ACTIONS, resources: [arn("ssm", `parameter${names.configPath}*`)] });
  }
  if (grants.topicArns.length > 0) statements.push({ sid: "Publish", actions: PUBLISH_ACTIONS, resources: grants.topicArns });
  if (grants.queueArns.length > 0) statements.push({ sid: "Consume", actions: CONSUME_ACTIONS, resources: grants.queueArns });
  if (grants.brokerKeyArn && (grants.topicArns.length > 0 || grants.queueArns.length > 0)) {
    // SNS and SQS use a customer-managed key with the caller's permissions.
    const keyActions = grants.topicArns.length > 0 ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"];
    statements.push({ sid: "BrokerKey", actions: keyActions, resources: [grants.brokerKeyArn] });
  }
  if (grants.registry) {
    statements.push({ sid: "Register", actions: REGISTRY_ACTIONS, resources: [grants.registry.serviceArn] });
    const hostname = plan.hosts?.discovery?.services.find((s) => s.name === service.name)?.hostname ?? `${service.name}`;
    statements.push({
      sid: "RegisterRecords",
      actions: REGISTRY_RECORD_ACTIONS,
      resources: [`arn:${grants.partition}:route53:::hostedzone/${grants.registry.hostedZoneId}`],
      condition: { "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": [hostname] } },
    });
  }
  const discovery = plan.hosts?.discovery;
  // Beanstalk services find each other through the registry's API, only in the landing zone's own namespace.
  if (discovery?.kind === "http") {
    statements.push({ sid: "Discover", actions: DISCOVER_ACTIONS, resources: ["*"], condition: { StringEquals: { "servicediscovery:NamespaceName": discovery.namespace } } });
  }
  if (grants.vm) {
    statements.push({
      sid: "CompleteTerminationHook",
      actions: LIFECYCLE_ACTIONS,
      resources: [arn("autoscaling", `autoScalingGroup:*:autoScalingGroupName/${names.autoScalingGroup}`)],
    });
    statements.push({ sid: "Metrics", actions: METRICS_ACTIONS, resources: ["*"], condition: { StringEquals: { "cloudwatch:namespace": metricsNamespace(plan) } } });
    statements.push({ sid: "BootLog", actions: AGENT_LOG_ACTIONS, resources: [arn("logs", `log-group:${names.bootLogGroup}:*`)] });
    statements.push({ sid: "DescribeTags", actions: DESCRIBE_TAGS_ACTIONS, resources: ["*"] });
  }
  // The collector beside the service writes its spans to X-Ray with the instance's role.
  if (plan.tracing) statements.push({ sid: "Trace", actions: XRAY_WRITE_ACTIONS, resources: ["*"] });
  return statements;
}

/**
 * Filebeat on a container host: every container's JSON log, tagged with the landing zone and the
 * service, pushed to the Redis list Logstash drains. Host, port, service and password come from
 * environment variables, so the file is the same on every host. `tls` is false only for a buffer that,
 * as on caas, speaks plain Redis with AUTH (the in-cluster buffer GCP and Azure hosts reach privately).
 */
export function hostShipperConfig(plan: LandingZonePlan, options: { readonly tls?: boolean } = {}): string {
  const logging = plan.logging;
  if (!logging?.buffer) throw new Error(`hostShipperConfig: plan.logging.buffer is undefined. Fix: set logging.stack: elk and logging.buffer: redis`);
  return stringify(
    {
      "filebeat.inputs": [
        {
          type: "filestream",
          id: "container-logs",
          paths: ["/var/lib/docker/containers/*/*-json.log"],
          parsers: [{ container: { stream: "all" } }],
        },
      ],
      processors: [
        { add_fields: { target: "msa", fields: { landing_zone: plan.name, environment: plan.environment, service: "${MSA_SERVICE}" } } },
        { add_cloud_metadata: null },
      ],
      "output.redis": {
        hosts: ["${LOG_BUFFER_HOST}:${LOG_BUFFER_PORT}"],
        key: logging.bufferKey,
        data_type: "list",
        password: "${REDIS_PASSWORD}",
        "ssl.enabled": options.tls ?? true,
      },
    },
    { lineWidth: 0 },
  );
}

/** CloudWatch agent: memory and disk metrics per Auto Scaling group, and the boot log. */
export function cloudWatchAgentConfig(plan: LandingZonePlan, bootLogGroup: string): string {
  return JSON.stringify({
    agent: { metrics_collection_interval: 60 },
    metrics: {
      namespace: metricsNamespace(plan),
      append_dimensions: { AutoScalingGroupName: "${aws:AutoScalingGroupName}", InstanceId: "${aws:InstanceId}" },
      aggregation_dimensions: [["AutoScalingGroupName"]],
      metrics_collected: { mem: { measurement: ["mem_used_percent"] }, disk: { measurement: ["used_percent"], resources: ["/"] } },
    },
    logs: { logs_collected: { files: { collect_list: [{ file_path: "/var/log/cloud-init-output.log", log_group_name: bootLogGroup, log_stream_name: "{instance_id}" }] } } },
  });
}

/**
 * User data of a service's VM (Amazon Linux 2023): Docker and the CloudWatch agent; the container
 * as a systemd unit with its configuration (Parameter Store path) and secrets fetched by the
 * instance role; Filebeat into the log buffer; and the registry pattern: a unit registers the
 * instance in Cloud Map once the health check answers and deregisters it when stopped, and a
 * watcher deregisters, drains and completes the termination hook when the Auto Scaling group
 * retires the instance.
 */
export function vmUserData(plan: LandingZonePlan, service: ServicePlan, runtime: VmRuntime): string {
  const fleet = plan.hosts?.fleet;
  if (!fleet) throw new Error(`vmUserData: plan.hosts.fleet is undefined because tier is "${plan.tier}". Fix: use tier: iaas`);
  const names = hostedServiceNames(plan, service);
  const registers = runtime.discoveryServiceId !== undefined;
  const env = {
    ...hostedServiceEnvironment(service),
    ...runtime.env,
    ...(runtime.sessionStore ? sessionStoreEnvironment(runtime.sessionStore) : {}),
    ...(plan.tracing ? otelEnvironment(plan.tracing, service.name) : {}),
  };
  // Secrets read with the instance role at start: the service's own and the session store's AUTH token.
  const secretArns = { ...runtime.secretArns, ...(runtime.sessionStore ? { [PLATFORM_ENV.sessionStorePassword]: runtime.sessionStore.authTokenSecretArn } : {}) };
  const registryEnv: Record<string, string> = {
    IMAGE: runtime.image,
    PORT: String(service.port),
    HEALTH_PATH: service.healthPath,
    REGION: runtime.region,
    ASG: names.autoScalingGroup,
    HOOK: fleet.terminationHook.name,
    DRAIN_SECONDS: String(fleet.drainSeconds),
    ...(runtime.discoveryServiceId !== undefined ? { SERVICE_ID: runtime.discoveryServiceId } : {}),
  };
  if (runtime.releaseParameter) assertShellSafe(`${service.name}.releaseParameter`, runtime.releaseParameter);
  for (const [key, value] of [...Object.entries(env), ...Object.entries(registryEnv), ...Object.entries(secretArns)]) assertShellSafe(`${service.name}.${key}`, value);
  const config = configEntries(service);
  // A change of configuration keys or secrets rolls the fleet, as a changed image does.
  const revision = shortHash(JSON.stringify([config, service.secrets]), 12);

  const lines: string[] = [
    "#!/bin/bash",
    `# ${plan.name}/${plan.environment} ${service.name}: its container on Amazon Linux 2023, in Cloud Map while it runs.`,
    `# config-revision: ${revision}`,
    "set -euo pipefail",
    `dnf install -y docker amazon-cloudwatch-agent${runtime.readyCommand ? " aws-cfn-bootstrap" : ""}`,
    "systemctl enable --now docker",
    "install -d -m 0750 /etc/msa",
    heredoc("/opt/aws/amazon-cloudwatch-agent/etc/msa.json", cloudWatchAgentConfig(plan, names.bootLogGroup)),
    "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/msa.json",
    heredoc("/etc/msa/registry.env", shellAssignments(registryEnv)),
    ...(runtime.releaseParameter
      ? [appendRead("/etc/msa/registry.env", "IMAGE", `aws ssm get-parameter --region '${runtime.region}' --name '${runtime.releaseParameter}' --query Parameter.Value --output text`, "%q")]
      : []),
    "umask 077",
    heredoc("/etc/msa/service.env", envFile(env)),
    // Configuration comes from Parameter Store (only a service with some may read its path) and secrets from Secrets Manager, both with the instance role.
    ...(config.length > 0
      ? [
          `aws ssm get-parameters-by-path --region '${runtime.region}' --path '${names.configPath}' --recursive --with-decryption --query 'Parameters[].[Name,Value]' --output text | while IFS=$'\\t' read -r name value; do printf '%s=%s\\n' "\${name##*/}" "$value"; done >> /etc/msa/service.env`,
        ]
      : []),
    ...Object.entries(secretArns).map(([key, arn]) => appendRead("/etc/msa/service.env", key, secretValueCommand(runtime.region, arn))),
    "umask 022",
    heredoc("/usr/local/bin/msa-run", runScript(plan.tracing ? HOST_COLLECTOR.network : undefined), "0755"),
    heredoc("/usr/local/bin/msa-registry", REGISTRY_SCRIPT, "0755"),
    heredoc("/etc/systemd/system/msa-app.service", APP_UNIT.replace("%SERVICE%", service.name)),
    heredoc("/etc/systemd/system/msa-lifecycle.service", LIFECYCLE_UNIT),
    ...(registers ? [heredoc("/etc/systemd/system/msa-registry.service", REGISTRY_UNIT.replace("%SERVICE%", service.name))] : []),
  ];
  const units = ["msa-app", ...(registers ? ["msa-registry"] : []), "msa-lifecycle"];
  if (runtime.logBuffer) {
    assertShellSafe(`${service.name}.logBuffer.host`, runtime.logBuffer.host);
    assertShellSafe(`${service.name}.logBuffer.secretArn`, runtime.logBuffer.secretArn);
    lines.push(
      heredoc("/etc/msa/filebeat.yml", hostShipperConfig(plan)),
      "umask 077",
      heredoc("/etc/msa/filebeat.env", envFile({ MSA_SERVICE: service.name, LOG_BUFFER_HOST: runtime.logBuffer.host, LOG_BUFFER_PORT: String(runtime.logBuffer.port) })),
      appendRead("/etc/msa/filebeat.env", "REDIS_PASSWORD", secretValueCommand(runtime.region, runtime.logBuffer.secretArn)),
      "umask 022",
      "install -d -m 0700 /var/lib/filebeat",
      heredoc("/etc/systemd/system/msa-filebeat.service", FILEBEAT_UNIT),
    );
    units.push("msa-filebeat");
  }
  if (plan.tracing) {
    lines.push(
      // The service reaches its collector by name on this network; nothing is published on the host.
      `docker network inspect ${HOST_COLLECTOR.network} >/dev/null 2>&1 || docker network create ${HOST_COLLECTOR.network}`,
      "install -d -m 0755 /etc/otel",
      heredoc(HOST_COLLECTOR.configPath, hostCollectorConfig(plan)),
      heredoc("/etc/systemd/system/msa-otel-collector.service", collectorUnit(plan)),
    );
    units.unshift("msa-otel-collector");
  }
  lines.push(
    "systemctl daemon-reload",
    // The registry unit is a oneshot that returns once the service answers and is registered.
    `systemctl enable --now ${units.join(" ")}`,
    "timeout 600 /usr/local/bin/msa-registry wait-healthy",
    ...(runtime.readyCommand ? [runtime.readyCommand] : []),
    "",
  );
  return lines.join("\n");
}

/** Deploy-time values of the Logstash hosts. */
export interface LogstashHostRuntime {
  readonly region: string;
  /** `logstash.conf`, from `logstashPipelineConfig`, reading the password from `${REDIS_PASSWORD}`. */
  readonly pipeline: string;
  readonly bufferSecretArn: string;
  /** CloudWatch log group of the hosts' boot output. */
  readonly bootLogGroup: string;
  /** @default - none */
  readonly readyCommand?: string;
}

/** User data of a Logstash host: the OpenSearch-output Logstash image draining the Redis buffer, as a systemd unit. */
export function logstashHostUserData(plan: LandingZonePlan, runtime: LogstashHostRuntime): string {
  const hosts = plan.hosts?.logstash;
  if (!hosts) throw new Error(`logstashHostUserData: plan.hosts.logstash is undefined. Fix: use tier iaas or paas with logging.stack: elk`);
  assertShellSafe("logstash.bufferSecretArn", runtime.bufferSecretArn);
  return [
    "#!/bin/bash",
    `# ${plan.name}/${plan.environment} Logstash: drains the log buffer into OpenSearch.`,
    "set -euo pipefail",
    `dnf install -y docker amazon-cloudwatch-agent${runtime.readyCommand ? " aws-cfn-bootstrap" : ""}`,
    "systemctl enable --now docker",
    heredoc("/opt/aws/amazon-cloudwatch-agent/etc/msa.json", cloudWatchAgentConfig(plan, runtime.bootLogGroup)),
    "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/msa.json",
    "install -d -m 0755 /etc/logstash/pipeline",
    heredoc("/etc/logstash/pipeline/logstash.conf", runtime.pipeline),
    "umask 077",
    heredoc("/etc/logstash/logstash.env", envFile({ LS_JAVA_OPTS: `-Xms${hosts.heapMiB}m -Xmx${hosts.heapMiB}m` })),
    appendRead("/etc/logstash/logstash.env", "REDIS_PASSWORD", secretValueCommand(runtime.region, runtime.bufferSecretArn)),
    "umask 022",
    heredoc("/etc/systemd/system/msa-logstash.service", LOGSTASH_UNIT),
    "systemctl daemon-reload",
    "systemctl enable --now msa-logstash",
    // Logstash's API answers once its pipeline runs.
    "timeout 600 bash -c 'until docker exec logstash curl -fsS -o /dev/null http://127.0.0.1:9600/; do sleep 10; done'",
    ...(runtime.readyCommand ? [runtime.readyCommand] : []),
    "",
  ].join("\n");
}

/** Deploy-time values of one Beanstalk environment. */
export interface BeanstalkRuntime {
  readonly vpcId: string;
  /** Private subnets, comma-separated. */
  readonly privateSubnetIds: string;
  /** The gateway load balancer the environment attaches to. */
  readonly sharedLoadBalancerArn: string;
  /**
   * That load balancer's path listener (`BEANSTALK_PATH_LISTENER_PORT`), where the bundle's
   * extension adds the service's path rules.
   * @default - none: the service has no gateway routes
   */
  readonly pathListenerArn?: string;
  readonly loadBalancerSecurityGroupId: string;
  /** Security group of every service instance (sessions, log buffer and east-west access). */
  readonly workloadSecurityGroupId: string;
  readonly instanceProfileName: string;
  readonly serviceRoleArn: string;
  readonly image: string;
  /** Topic and queue ARNs, by env var name. */
  readonly env: Readonly<Record<string, string>>;
  /** Secret key → Secrets Manager ARN. */
  readonly secretArns: Readonly<Record<string, string>>;
  /** Config key → Parameter Store parameter ARN. */
  readonly configParameterArns: Readonly<Record<string, string>>;
  readonly logBuffer?: HostLogBuffer;
  /**
   * The session store the service shares with the others.
   * @default - none
   */
  readonly sessionStore?: HostSessionStore;
}

export interface BeanstalkOptionSetting {
  readonly namespace: string;
  readonly optionName: string;
  readonly value: string;
}

/**
 * Option settings of a service's Beanstalk environment: Docker on instances in the private subnets
 * behind the gateway's shared internal load balancer (routed by the environment's host name),
 * IMDSv2 only, rolling health-based updates, enhanced health, managed platform updates, logs
 * streamed to CloudWatch, and configuration and secrets fed to the environment from Parameter
 * Store and Secrets Manager.
 */
export function beanstalkOptionSettings(plan: LandingZonePlan, service: ServicePlan, runtime: BeanstalkRuntime): BeanstalkOptionSetting[] {
  const paas = plan.paas;
  const hosts = plan.hosts;
  if (!paas || !hosts) throw new Error(`beanstalkOptionSettings: plan.paas is undefined because tier is "${plan.tier}". Fix: use tier: paas`);
  const prod = plan.environment === "prod";
  const settings: BeanstalkOptionSetting[] = [];
  const set = (namespace: string, optionName: string, value: string) => settings.push({ namespace, optionName, value });
  const retention = String(hosts.platformLogRetentionDays);

  set("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced");
  set("aws:elasticbeanstalk:environment", "LoadBalancerType", "application");
  set("aws:elasticbeanstalk:environment", "LoadBalancerIsShared", "true");
  set("aws:elasticbeanstalk:environment", "ServiceRole", runtime.serviceRoleArn);
  set("aws:elbv2:loadbalancer", "SharedLoadBalancer", runtime.sharedLoadBalancerArn);
  // Naming the gateway's group keeps Beanstalk from attaching a group of its own to the shared load balancer.
  set("aws:elbv2:loadbalancer", "SecurityGroups", runtime.loadBalancerSecurityGroupId);
  set("aws:elbv2:loadbalancer", "ManagedSecurityGroup", runtime.loadBalancerSecurityGroupId);
  if (routesTo(plan, service.name).length > 0) {
    if (!runtime.pathListenerArn) throw new Error(`beanstalkOptionSettings: ${service.name} has gateway routes, but runtime.pathListenerArn is undefined. Fix: pass the path listener of load balancer ${homeLoadBalancerOf(plan, service.name)}`);
    set(PATH_LISTENER_OPTION.namespace, PATH_LISTENER_OPTION.optionName, runtime.pathListenerArn);
  }
  const process = "aws:elasticbeanstalk:environment:process:default";
  set(process, "Port", String(BEANSTALK_INSTANCE_PORT));
  set(process, "Protocol", "HTTP");
  set(process, "HealthCheckPath", service.healthPath);
  set(process, "MatcherHTTPCode", "200-399");
  set(process, "HealthCheckInterval", "15");
  set(process, "HealthyThresholdCount", "2");
  set(process, "UnhealthyThresholdCount", "3");
  set(process, "DeregistrationTimeout", "30");
  set("aws:ec2:vpc", "VPCId", runtime.vpcId);
  set("aws:ec2:vpc", "Subnets", runtime.privateSubnetIds);
  set("aws:ec2:vpc", "AssociatePublicIpAddress", "false");
  set("aws:ec2:instances", "InstanceTypes", paas.instanceType);
  set("aws:autoscaling:launchconfiguration", "IamInstanceProfile", runtime.instanceProfileName);
  set("aws:autoscaling:launchconfiguration", "SecurityGroups", runtime.workloadSecurityGroupId);
  set("aws:autoscaling:launchconfiguration", "DisableIMDSv1", "true");
  set("aws:autoscaling:launchconfiguration", "RootVolumeType", "gp3");
  set("aws:autoscaling:launchconfiguration", "RootVolumeSize", String(plan.environment === "prod" ? 30 : 20));
  set("aws:autoscaling:asg", "MinSize", String(service.replicas.min));
  set("aws:autoscaling:asg", "MaxSize", String(service.replicas.max));
  set("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateEnabled", "true");
  set("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType", "Health");
  set("aws:autoscaling:updatepolicy:rollingupdate", "MaxBatchSize", "1");
  set("aws:autoscaling:updatepolicy:rollingupdate", "MinInstancesInService", String(rollingMinInService(service.replicas)));
  set("aws:elasticbeanstalk:command", "DeploymentPolicy", prod ? "RollingWithAdditionalBatch" : "Rolling");
  set("aws:elasticbeanstalk:command", "BatchSizeType", "Fixed");
  set("aws:elasticbeanstalk:command", "BatchSize", "1");
  set("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced");
  // The environment metrics the service's dashboard and alarms read; each is a billed custom metric.
  if (plan.monitoring) {
    const period = plan.monitoring.periodSeconds;
    set("aws:elasticbeanstalk:healthreporting:system", "ConfigDocument", JSON.stringify({ Version: 1, CloudWatchMetrics: { Environment: Object.fromEntries(BEANSTALK_ENVIRONMENT_METRICS.map((m) => [m, period])) } }));
  }
  set("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled", "true");
  set("aws:elasticbeanstalk:managedactions", "PreferredStartTime", "Sun:18:00");
  set("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel", "minor");
  set("aws:elasticbeanstalk:managedactions:platformupdate", "InstanceRefreshEnabled", "true");
  set("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", "true");
  // Rotated instance logs also go to the environment's S3 bucket, kept after the instance is replaced.
  set("aws:elasticbeanstalk:hostmanager", "LogPublicationControl", "true");
  set("aws:elasticbeanstalk:cloudwatch:logs", "DeleteOnTerminate", "false");
  set("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays", retention);
  set("aws:elasticbeanstalk:cloudwatch:logs:health", "HealthStreamingEnabled", "true");
  set("aws:elasticbeanstalk:cloudwatch:logs:health", "DeleteOnTerminate", "false");
  set("aws:elasticbeanstalk:cloudwatch:logs:health", "RetentionInDays", retention);

  const properties = "aws:elasticbeanstalk:application:environment";
  const secrets = "aws:elasticbeanstalk:application:environmentsecrets";
  const forwarded = new Set(beanstalkAppVariables(plan, service, { logBuffer: runtime.logBuffer !== undefined, sessionStore: runtime.sessionStore !== undefined }));
  const dropped = Object.keys(runtime.env).filter((key) => !forwarded.has(key));
  if (dropped.length > 0) {
    throw new Error(
      `beanstalkOptionSettings ${service.name}: runtime.env has ${dropped.join(", ")}, which the bundle's compose file does not hand to the container. Fix: list ${dropped.length > 1 ? "them" : "it"} in beanstalkAppVariables, or drop ${dropped.length > 1 ? "them" : "it"} from env`,
    );
  }
  set(properties, "MSA_IMAGE", runtime.image);
  for (const [key, value] of Object.entries({ ...hostedServiceEnvironment(service), ...discoveryNamespaceEnvironment(plan), ...runtime.env })) set(properties, key, value);
  for (const [key] of configEntries(service)) set(secrets, key, required(runtime.configParameterArns, key, `configParameterArns`, service));
  for (const key of service.secrets) set(secrets, key, required(runtime.secretArns, key, "secretArns", service));
  if (runtime.sessionStore) {
    for (const [key, value] of Object.entries(sessionStoreEnvironment(runtime.sessionStore))) set(properties, key, value);
    set(secrets, PLATFORM_ENV.sessionStorePassword, runtime.sessionStore.authTokenSecretArn);
  }
  if (runtime.logBuffer) {
    set(properties, "MSA_SERVICE", service.name);
    set(properties, "LOG_BUFFER_HOST", runtime.logBuffer.host);
    set(properties, "LOG_BUFFER_PORT", String(runtime.logBuffer.port));
    set(secrets, "REDIS_PASSWORD", runtime.logBuffer.secretArn);
  }
  if (plan.tracing) {
    for (const [key, value] of Object.entries(otelEnvironment(plan.tracing, service.name))) set(properties, key, value);
  }
  return settings;
}

/** What the environment runs beside the service: Filebeat with a log buffer, the session variables with a session store. */
export interface BeanstalkBundleOptions {
  readonly logBuffer: boolean;
  readonly sessionStore?: boolean;
}

/**
 * The environment properties a service's container gets, from the plan alone (a release rebuilds the
 * same compose file): its own, its topics and queues, where its data is, its configuration and
 * secrets, the session store, the tracer and the registry's namespace. Never the platform's own
 * (`MSA_IMAGE`, Filebeat's buffer and token).
 */
export function beanstalkAppVariables(plan: LandingZonePlan, service: ServicePlan, options: BeanstalkBundleOptions): string[] {
  return [
    ...Object.keys(hostedServiceEnvironment(service)),
    ...service.publishes.map((event) => messagingEnvName("TOPIC", event)),
    ...subscriptionsOf(plan, service.name).map((s) => messagingEnvName("QUEUE", s.name)),
    ...serviceDataEnvNames(plan, service),
    ...configEntries(service).map(([key]) => key),
    ...service.secrets,
    ...(options.sessionStore ? [PLATFORM_ENV.sessionStoreEndpoint, PLATFORM_ENV.sessionStoreTls, PLATFORM_ENV.sessionStorePassword] : []),
    ...(plan.tracing ? Object.keys(otelEnvironment(plan.tracing, service.name)) : []),
    ...Object.keys(discoveryNamespaceEnvironment(plan)),
  ];
}

/**
 * The source bundle of a service's Beanstalk environment: a compose file running its image on
 * port 80 with exactly its own variables (`beanstalkAppVariables`), Filebeat beside it when logs go
 * to the buffer, and extensions that log in to ECR before the pull, make the Auto Scaling group
 * replace instances the load balancer finds unhealthy, and add the service's gateway path rules.
 */
export function beanstalkBundle(plan: LandingZonePlan, service: ServicePlan, options: BeanstalkBundleOptions): Record<string, string> {
  const variables = beanstalkAppVariables(plan, service, options);
  const logging = { driver: "json-file", options: { "max-size": "10m", "max-file": "5" } };
  const services: Record<string, unknown> = {
    app: {
      image: "${MSA_IMAGE}",
      ports: [`${BEANSTALK_INSTANCE_PORT}:${service.port}`],
      environment: Object.fromEntries(variables.map((name) => [name, `\${${name}}`])),
      cap_drop: ["ALL"],
      cap_add: ["NET_BIND_SERVICE"],
      security_opt: ["no-new-privileges:true"],
      restart: "always",
      logging,
    },
  };
  const files: Record<string, string> = {};
  if (options.logBuffer) {
    services["filebeat"] = {
      image: FILEBEAT_IMAGE,
      user: "root",
      command: ["--strict.perms=false"],
      environment: Object.fromEntries(["MSA_SERVICE", "LOG_BUFFER_HOST", "LOG_BUFFER_PORT", "REDIS_PASSWORD"].map((name) => [name, `\${${name}}`])),
      volumes: ["./filebeat.yml:/usr/share/filebeat/filebeat.yml:ro", "/var/lib/docker/containers:/var/lib/docker/containers:ro"],
      restart: "always",
      logging,
    };
    files["filebeat.yml"] = hostShipperConfig(plan);
  }
  if (plan.tracing) {
    // The compose network resolves the collector's service name, the host of the OTLP endpoint the app gets.
    services[HOST_COLLECTOR.name] = {
      image: hostCollectorImage(plan),
      command: [`--config=${HOST_COLLECTOR.configPath}`],
      volumes: [`./otel-collector.yaml:${HOST_COLLECTOR.configPath}:ro`],
      read_only: true,
      cap_drop: ["ALL"],
      security_opt: ["no-new-privileges:true"],
      mem_limit: "256m",
      restart: "always",
      logging,
    };
    files["otel-collector.yaml"] = hostCollectorConfig(plan);
  }
  files["docker-compose.yml"] = stringify({ services }, { lineWidth: 0 });
  files[".ebextensions/ecr-login.config"] = stringify(
    {
      container_commands: {
        "01_ecr_login": {
          // Images in ECR need a login before compose pulls them; the region is the registry host's fourth label.
          command:
            'image=$(/opt/elasticbeanstalk/bin/get-config environment -k MSA_IMAGE); case "$image" in *.dkr.ecr.*.amazonaws.com/*) aws ecr get-login-password --region "$(echo "$image" | cut -d. -f4)" | docker login --username AWS --password-stdin "${image%%/*}" ;; esac',
        },
      },
    },
    { lineWidth: 0 },
  );
  const routes = routesTo(plan, service.name);
  if (routes.length > 0) files[".ebextensions/gateway-routes.config"] = stringify({ Resources: gatewayRouteResources(routes.map((r) => r.route)) }, { lineWidth: 0 });
  files[".ebextensions/autoscaling.config"] = stringify(
    { Resources: { AWSEBAutoScalingGroup: { Properties: { HealthCheckType: "ELB", HealthCheckGracePeriod: 300 } } } },
    { lineWidth: 0 },
  );
  return files;
}

/** The custom option through which an environment's extension finds the path listener its rules go on. */
export const PATH_LISTENER_OPTION = { namespace: "aws:elasticbeanstalk:customoption", optionName: "GatewayPathListenerArn" } as const;

/**
 * The service's path rules on its load balancer's path listener, as resources of the environment's
 * own stack: Beanstalk adds the environment's host to every rule it manages, so the gateway's path
 * routing cannot be a Beanstalk rule. They forward to the default process's target group, and go
 * with the environment. Keyed by priority, so a changed path updates its rule in place.
 */
function gatewayRouteResources(routes: readonly RoutePlan[]): Record<string, unknown> {
  return Object.fromEntries(
    routes.map((route) => [
      `MsaGatewayRule${route.priority}`,
      {
        Type: "AWS::ElasticLoadBalancingV2::ListenerRule",
        Properties: {
          ListenerArn: { "Fn::GetOptionSetting": { Namespace: PATH_LISTENER_OPTION.namespace, OptionName: PATH_LISTENER_OPTION.optionName } },
          Priority: route.priority,
          Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: loadBalancerPathPatterns(route.path) } }],
          Actions: [{ Type: "forward", TargetGroupArn: { Ref: "AWSEBV2LoadBalancerTargetGroup" } }],
        },
      },
    ]),
  );
}

/** The Host header the shared load balancer routes a Beanstalk environment's requests by. */
export function beanstalkHost(cnamePrefix: string, region: string): string {
  return `${cnamePrefix}.${region}.elasticbeanstalk.com`;
}

/**
 * The env var names of a service's topics and queues, with their ARNs: `TOPIC_<EVENT>_ARN` per event it
 * publishes, or `EVENT_BUS_ARN` and `EVENT_SOURCE` on an EventBridge bus; `QUEUE_<SUB>_ARN` per
 * subscription that has a queue (a Kafka subscriber reads through its consumer group instead).
 */
export function messagingEnvironment(
  plan: LandingZonePlan,
  service: ServicePlan,
  arnOf: { readonly topic: (event: string) => string; readonly queue: (subscription: string) => string | undefined },
  options: { readonly publishes?: readonly string[]; readonly eventBusArn?: string } = {},
): Record<string, string> {
  const publishes = options.publishes ?? service.publishes;
  const bus = options.eventBusArn;
  const queues = subscriptionsOf(plan, service.name).flatMap((s) => {
    const arn = arnOf.queue(s.name);
    return arn === undefined ? [] : [[messagingEnvName("QUEUE", s.name), arn] as const];
  });
  return {
    ...(bus === undefined
      ? Object.fromEntries(publishes.map((event) => [messagingEnvName("TOPIC", event), arnOf.topic(event)]))
      : publishes.length > 0
        ? { EVENT_BUS_ARN: bus, EVENT_SOURCE: eventSource(plan.name, service.name) }
        : {}),
    ...Object.fromEntries(queues),
  };
}

/** CloudWatch log group of the Logstash hosts' boot output. */
export function logstashBootLogGroup(plan: LandingZonePlan): string {
  return `/msa/${plan.name}/${plan.environment}/logstash/boot`;
}

/** Least-privilege statements of the Logstash hosts' role: the buffer's token, writes to the domain, its metrics and boot log. */
export function logstashHostStatements(
  plan: LandingZonePlan,
  values: { readonly partition: string; readonly region: string; readonly account: string; readonly domainArn: string; readonly bufferSecretArn: string },
): PolicyStatementData[] {
  return [
    { sid: "ReadBufferToken", actions: SECRET_READ_ACTIONS, resources: [values.bufferSecretArn] },
    // The same actions the in-cluster Logstash gets: bulk writes and index creation, nothing else.
    { sid: "WriteLogs", actions: LOGSTASH_DOMAIN_ACTIONS, resources: [values.domainArn, `${values.domainArn}/*`] },
    { sid: "Metrics", actions: METRICS_ACTIONS, resources: ["*"], condition: { StringEquals: { "cloudwatch:namespace": metricsNamespace(plan) } } },
    { sid: "BootLog", actions: AGENT_LOG_ACTIONS, resources: [`arn:${values.partition}:logs:${values.region}:${values.account}:log-group:${logstashBootLogGroup(plan)}:*`] },
    { sid: "DescribeTags", actions: DESCRIBE_TAGS_ACTIONS, resources: ["*"] },
  ];
}

/** The VM's start script; with a network, the container joins it (where the collector is). */
function runScript(network: string | undefined): string {
  return network ? RUN_SCRIPT.replace("--name app ", `--name app --network ${network} `) : RUN_SCRIPT;
}

/** The collector beside a VM's service: read-only, unprivileged, memory-capped, on the service's network only. */
function collectorUnit(plan: LandingZonePlan): string {
  return `[Unit]
Description=OpenTelemetry collector: the service's spans to the cloud's tracer
After=docker.service network-online.target
Requires=docker.service

[Service]
ExecStartPre=-/usr/bin/docker rm -f ${HOST_COLLECTOR.name}
ExecStart=/usr/bin/docker run --rm --name ${HOST_COLLECTOR.name} --network ${HOST_COLLECTOR.network} --read-only --memory 256m \\
  --cap-drop ALL --security-opt no-new-privileges:true --log-driver json-file --log-opt max-size=10m --log-opt max-file=5 \\
  -v ${HOST_COLLECTOR.configPath}:${HOST_COLLECTOR.configPath}:ro ${hostCollectorImage(plan)} --config=${HOST_COLLECTOR.configPath}
ExecStop=/usr/bin/docker stop ${HOST_COLLECTOR.name}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target`;
}

const RUN_SCRIPT = `#!/bin/bash
set -euo pipefail
source /etc/msa/registry.env
# Images in ECR need a login; the token lasts 12 hours, so every start logs in again.
case "$IMAGE" in
  *.dkr.ecr.*.amazonaws.com/*) aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "\${IMAGE%%/*}" ;;
esac
docker pull "$IMAGE"
exec docker run --rm --name app --env-file /etc/msa/service.env -p "$PORT:$PORT" \\
  --cap-drop ALL --cap-add NET_BIND_SERVICE --security-opt no-new-privileges:true \\
  --log-driver json-file --log-opt max-size=10m --log-opt max-file=5 "$IMAGE"`;

const REGISTRY_SCRIPT = `#!/bin/bash
set -euo pipefail
source /etc/msa/registry.env
imds() {
  local token
  token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
wait_healthy() { until curl -fsS -o /dev/null "http://127.0.0.1:$PORT$HEALTH_PATH"; do sleep 5; done; }
deregister() {
  if [ -n "\${SERVICE_ID:-}" ]; then
    aws servicediscovery deregister-instance --region "$REGION" --service-id "$SERVICE_ID" --instance-id "$(imds instance-id)" || true
  fi
}
case "$1" in
  wait-healthy) wait_healthy ;;
  register)
    wait_healthy
    aws servicediscovery register-instance --region "$REGION" --service-id "$SERVICE_ID" --instance-id "$(imds instance-id)" \\
      --attributes "AWS_INSTANCE_IPV4=$(imds local-ipv4),AWS_INSTANCE_PORT=$PORT"
    ;;
  deregister) deregister ;;
  watch)
    # The Auto Scaling group sets the target state to Terminated when it starts the termination hook.
    while sleep 5; do
      if [ "$(imds autoscaling/target-lifecycle-state 2>/dev/null || true)" = "Terminated" ]; then
        deregister
        sleep "$DRAIN_SECONDS"
        systemctl stop msa-app || true
        aws autoscaling complete-lifecycle-action --region "$REGION" --auto-scaling-group-name "$ASG" \\
          --lifecycle-hook-name "$HOOK" --instance-id "$(imds instance-id)" --lifecycle-action-result CONTINUE
        exit 0
      fi
    done
    ;;
  *) echo "usage: $0 wait-healthy|register|deregister|watch" >&2; exit 2 ;;
esac`;

const APP_UNIT = `[Unit]
Description=%SERVICE% container
After=docker.service network-online.target
Requires=docker.service
Wants=network-online.target

[Service]
ExecStartPre=-/usr/bin/docker rm -f app
ExecStart=/usr/local/bin/msa-run
ExecStop=/usr/bin/docker stop -t 30 app
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target`;

const REGISTRY_UNIT = `[Unit]
Description=Registers %SERVICE% in Cloud Map while its container runs
After=msa-app.service network-online.target
Requires=msa-app.service
PartOf=msa-app.service

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=600
ExecStart=/usr/local/bin/msa-registry register
ExecStop=/usr/local/bin/msa-registry deregister

[Install]
WantedBy=multi-user.target`;

const LIFECYCLE_UNIT = `[Unit]
Description=Leaves the registry and completes the termination hook when the Auto Scaling group retires this instance
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/local/bin/msa-registry watch
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target`;

/**
 * Filebeat's container beside a service on a VM, whatever the cloud: root only to read Docker's
 * root-owned log files, every capability dropped, read-only apart from its registry directory.
 */
export function filebeatDockerRun(options: { readonly name: string; readonly envFiles: readonly string[]; readonly configFile: string; readonly dataDirectory: string }): string {
  return [
    "/usr/bin/docker run --rm",
    `--name ${options.name}`,
    ...options.envFiles.map((file) => `--env-file ${file}`),
    `--volume ${options.configFile}:/usr/share/filebeat/filebeat.yml:ro`,
    "--volume /var/lib/docker/containers:/var/lib/docker/containers:ro",
    `--volume ${options.dataDirectory}:/usr/share/filebeat/data`,
    "--read-only --tmpfs /tmp",
    "--user 0:0",
    "--cap-drop ALL --security-opt no-new-privileges",
    FILEBEAT_IMAGE,
    "--strict.perms=false -e",
  ].join(" ");
}

const FILEBEAT_UNIT = `[Unit]
Description=Filebeat: container logs to the log buffer
After=docker.service network-online.target
Requires=docker.service

[Service]
ExecStartPre=/bin/mkdir -p /var/lib/filebeat
ExecStartPre=-/usr/bin/docker rm -f filebeat
ExecStart=${filebeatDockerRun({ name: "filebeat", envFiles: ["/etc/msa/filebeat.env"], configFile: "/etc/msa/filebeat.yml", dataDirectory: "/var/lib/filebeat" })}
ExecStop=/usr/bin/docker stop filebeat
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target`;

const LOGSTASH_UNIT = `[Unit]
Description=Logstash: log buffer to OpenSearch
After=docker.service network-online.target
Requires=docker.service

[Service]
ExecStartPre=-/usr/bin/docker rm -f logstash
ExecStart=/usr/bin/docker run --rm --name logstash --env-file /etc/logstash/logstash.env \\
  -v /etc/logstash/pipeline:/usr/share/logstash/pipeline:ro ${LOGSTASH_OPENSEARCH_IMAGE}
ExecStop=/usr/bin/docker stop -t 60 logstash
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target`;

/** Writes a file through a quoted heredoc, so the shell expands nothing in it. */
function heredoc(path: string, content: string, mode?: string): string {
  const marker = "MSA_EOF";
  if (content.split("\n").includes(marker)) throw new Error(`heredoc ${path}: the content holds the line ${marker}`);
  return [`cat > ${path} <<'${marker}'`, content, marker, ...(mode ? [`chmod ${mode} ${path}`] : [])].join("\n");
}

/**
 * Appends `KEY=<what command prints>` to an env file. The value is assigned first: under `set -e` a
 * failed read then stops the boot, where inside printf's arguments it would write an empty value.
 */
function appendRead(file: string, key: string, command: string, format = "%s"): string {
  return `value="$(${command})"; printf '${key}=${format}\\n' "$value" >> ${file}`;
}

function secretValueCommand(region: string, secretArn: string): string {
  return `aws secretsmanager get-secret-value --region '${region}' --secret-id '${secretArn}' --query SecretString --output text`;
}

function shellAssignments(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}='${value}'`)
    .join("\n");
}

/** Docker's env-file format: KEY=VALUE, taken literally. */
function envFile(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n");
}

/** Values land in single-quoted shell strings and env files: no quote, no line break. */
function assertShellSafe(what: string, value: string): void {
  if (/['\n\r]/.test(value)) throw new Error(`${what}: "${value}" holds a quote or a line break, which user data cannot carry. Fix: remove it from the value`);
}

function required(values: Readonly<Record<string, string>>, key: string, prop: string, service: ServicePlan): string {
  const value = values[key];
  if (value === undefined) throw new Error(`beanstalkOptionSettings ${service.name}: ${prop}["${key}"] is undefined. Fix: pass the ARN of "${key}"`);
  return value;
}
