import { RemovalPolicy, Stack, Token, Validations, aws_ec2 as ec2, aws_iam as iam, aws_kms as kms, aws_logs as logs, aws_opensearchservice as opensearch, custom_resources as cr } from "aws-cdk-lib";
import { Construct } from "constructs";
import { LOG_BUFFER_SECRET, LOGSTASH_DOMAIN_ACTIONS, LOGSTASH_SERVICE, logBufferSecretProviderClass, logPipelineAddOn, logstashPipelineConfig, type LogBuffer, type LogSink } from "../kubernetes/log-pipeline.js";
import { secretsStoreAddOn } from "../kubernetes/secrets-store.js";
import type { AddOn } from "../kubernetes/types.js";
import { SIZING, VERSIONS } from "../plan/sizing.js";
import type { LandingZonePlan } from "../plan/types.js";
import { acknowledgeInlinePolicy, awsCustomResourceProvider, hardenProviderFunction, nagValue } from "./compliance.js";
import { KubernetesPlatform } from "./kubernetes-platform.js";
import type { IKubernetesTarget } from "./kubernetes-target.js";
import { createLogKey } from "./log-key.js";
import { LogstashHosts } from "./logstash-hosts.js";
import { ManagedRedis, type ManagedRedisProps } from "./managed-redis.js";


const DEV_SEARCH = SIZING.aws.dev.search;

/** Logstash on its own hosts, for service models without a cluster (iaas, paas). */
export interface LogPipelineHostsProps {
  /** Plan whose `logging` and `hosts.logstash` sections size the hosts and render the pipeline. */
  readonly plan: LandingZonePlan;
  /** The instances shipping their logs into the buffer (the workload security group). */
  readonly shippers: ec2.IConnectable;
  /**
   * Subnets of the Logstash hosts.
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
}

/** Size of the Redis list in front of Logstash. */
export type LogBufferProps = Pick<ManagedRedisProps, "nodeType" | "replicas" | "multiAz" | "engineVersion" | "port">;

export interface LogPipelineProps {
  /** VPC of the OpenSearch domain and the buffer. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the domain and the buffer.
   * @default - the VPC's isolated subnets
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * OpenSearch version.
   * @default VERSIONS.opensearch
   */
  readonly engineVersion?: string;
  /**
   * Data node instance type. Cost note: OpenSearch nodes are billed hourly.
   * @default "t3.medium.search"
   */
  readonly instanceType?: string;
  /**
   * Data nodes; a multiple of the zones used when `zoneAwareness` is on.
   * @default 1
   */
  readonly instanceCount?: number;
  /**
   * Dedicated master nodes; 0 for none.
   * @default 0
   */
  readonly dedicatedMasters?: number;
  /**
   * Instance type of the dedicated masters.
   * @default "m6g.large.search"
   */
  readonly masterInstanceType?: string;
  /**
   * gp3 volume per data node, in GiB.
   * @default 20
   */
  readonly volumeGiB?: number;
  /**
   * Spread data nodes over two or three zones (one subnet each).
   * @default false
   */
  readonly zoneAwareness?: boolean;
  /**
   * Days the domain's slow-search, slow-index and application log groups keep records.
   * @default 30
   */
  readonly domainLogRetentionDays?: logs.RetentionDays;
  /**
   * KMS key of the domain's log groups, the Logstash hosts' boot logs and the log group of CDK's
   * provider function for the domain's policies; CloudWatch Logs must be allowed to use it.
   * @default - a new key (`createLogKey`), billed monthly
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * The Redis buffer between shippers and Logstash; `false` for none (shippers send to Logstash).
   * @default - a buffer with `ManagedRedis` sizing and no snapshots
   */
  readonly buffer?: LogBufferProps | false;
  /**
   * What happens to the domain, the buffer and their logs when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Cluster that runs the shippers and Logstash. With it, Logstash gets a workload identity allowed
   * on the domain, the cluster's workloads reach the domain and the buffer, and the log-pipeline
   * add-on is applied. Needs `plan`. With a buffer, the cluster needs the Secrets Store CSI driver
   * (`secretsStoreAddOn()`): Logstash and the shippers read the buffer's AUTH token with their own
   * Pod Identity; a `KubernetesPlatform` must have it applied before this pipeline.
   * @default - no in-cluster part
   */
  readonly target?: IKubernetesTarget;
  /**
   * Plan whose `logging` section renders the in-cluster add-on (shipper, Logstash replicas, namespace).
   * @default - none; required with `target`
   */
  readonly plan?: LandingZonePlan;
  /**
   * Run Logstash on a small Auto Scaling group instead of a cluster; the shippers reach the buffer,
   * Logstash drains it into the domain and is the only principal of the domain's policy. Exclusive
   * with `target`.
   * @default - no Logstash hosts
   */
  readonly hosts?: LogPipelineHostsProps;
}

/**
 * The seed's ELK stack on AWS: an OpenSearch domain (E, with Dashboards as K) in private subnets,
 * encrypted at rest and node to node, HTTPS with TLS 1.2 only; a Redis buffer for the shippers;
 * and, given a cluster, Logstash (L) with an IAM identity that is the only principal of the domain's
 * resource policy. Cost note: the domain and the buffer are billed hourly.
 *
 * A domain in a VPC needs the OpenSearch service-linked role in the account
 * (`aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com`).
 *
 * @example
 * new LogPipeline(stack, "Logs", { vpc, target: platform, plan });
 */
export class LogPipeline extends Construct {
  readonly domain: opensearch.Domain;
  /** The Redis list shippers push to, when there is a buffer. */
  readonly buffer?: ManagedRedis;
  /** Role of Logstash's service account or hosts, when a target or hosts are given. */
  readonly logstashRole?: iam.IRole;
  /** The Logstash hosts, when `hosts` is given. */
  readonly logstashHosts?: LogstashHosts;

  constructor(scope: Construct, id: string, props: LogPipelineProps) {
    super(scope, id);
    if (props.target && !props.plan?.logging) {
      throw new Error(`LogPipeline ${this.node.path}: target is given but plan${props.plan ? ".logging" : ""} is undefined. Fix: pass plan (a plan with logging.stack: elk) to render the in-cluster add-on, or drop target`);
    }
    if (props.target && props.hosts) {
      throw new Error(`LogPipeline ${this.node.path}: both target and hosts are given. Fix: run Logstash in the cluster (target) or on hosts (hosts), not both`);
    }
    if (props.hosts && (!props.hosts.plan.logging?.buffer || props.buffer === false)) {
      throw new Error(`LogPipeline ${this.node.path}: hosts need the Redis buffer, the only way shippers outside a cluster reach Logstash. Fix: set logging.buffer: redis and keep buffer on`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const subnetSelection = props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    const securityGroup = new ec2.SecurityGroup(this, "DomainSecurityGroup", {
      vpc: props.vpc,
      description: "OpenSearch domain: HTTPS from log writers and readers only",
      allowAllOutbound: false,
    });
    const logKey = props.logEncryptionKey ?? createLogKey(this, "LogKey", { description: `Encrypts the logs of ${this.node.path}`, removalPolicy });
    const logGroup = (logId: string) =>
      new logs.LogGroup(this, logId, { retention: props.domainLogRetentionDays ?? logs.RetentionDays.ONE_MONTH, encryptionKey: logKey, removalPolicy });
    const dedicatedMasters = props.dedicatedMasters ?? DEV_SEARCH.masters;
    const placement = this.placement(props, subnetSelection);
    this.domain = new opensearch.Domain(this, "Domain", {
      version: opensearch.EngineVersion.openSearch(props.engineVersion ?? VERSIONS.opensearch),
      vpc: props.vpc,
      vpcSubnets: [{ subnets: placement.subnets }],
      securityGroups: [securityGroup],
      capacity: {
        dataNodes: props.instanceCount ?? DEV_SEARCH.count,
        dataNodeInstanceType: props.instanceType ?? DEV_SEARCH.type,
        ...(dedicatedMasters > 0 ? { masterNodes: dedicatedMasters, masterNodeInstanceType: props.masterInstanceType ?? DEV_SEARCH.masterType } : {}),
        // Standby needs three zones and dedicated masters; the plan sizes availability through zone awareness instead.
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: placement.zoneAwareness,
      ebs: { volumeSize: props.volumeGiB ?? DEV_SEARCH.volumeGiB, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      encryptionAtRest: { enabled: true },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2,
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: logGroup("SlowSearchLogs"),
        slowIndexLogEnabled: true,
        slowIndexLogGroup: logGroup("SlowIndexLogs"),
        appLogEnabled: true,
        appLogGroup: logGroup("ApplicationLogs"),
      },
      removalPolicy,
    });
    Validations.of(this.domain.node.defaultChild!).acknowledge({
      id: "AwsSolutions::AwsSolutions-OS3",
      reason: "The domain sits in private subnets behind its own security group, and OpenSearch ignores aws:SourceIp for VPC domains; its access policy admits Logstash's role alone.",
    });

    if (props.buffer !== false) {
      this.buffer = new ManagedRedis(this, "Buffer", {
        ...props.buffer,
        vpc: props.vpc,
        subnets: subnetSelection,
        // Log lines wait in the list for seconds; a snapshot would never hold anything worth restoring.
        snapshotRetentionDays: 0,
        removalPolicy,
        description: "Log buffer",
      });
      Validations.of(this.buffer.replicationGroup).acknowledge({
        id: "NIST.800.53.R5::NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup",
        reason: "Log lines wait in this list for seconds until Logstash moves them into the OpenSearch domain, which keeps the durable copy; a snapshot would hold nothing worth restoring.",
      });
    }

    if (props.target && props.plan) this.logstashRole = this.addToCluster(props.target, props.plan);
    if (props.hosts) {
      this.logstashHosts = this.addHosts(props.vpc, props.hosts, logKey, removalPolicy);
      this.logstashRole = this.logstashHosts.role;
    }
    this.acknowledgeDomainPolicies(logKey);
  }

  /**
   * The domain's access policy and its log-publishing policy are CDK custom resources (an OpenSearch
   * or CloudWatch Logs API call each) run by the stack's singleton provider function.
   */
  private acknowledgeDomainPolicies(logKey: kms.IKey): void {
    for (const child of this.domain.node.children) {
      if (!(child instanceof cr.AwsCustomResource)) continue;
      const policy = child.node.tryFindChild("CustomResourcePolicy");
      if (!policy) continue;
      acknowledgeInlinePolicy(policy, `CDK's ${child.node.id} call for the OpenSearch domain`);
      if (child.node.id.startsWith("ESLogGroupPolicy")) {
        Validations.of(policy).acknowledge({
          id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
          reason: "logs:PutResourcePolicy and logs:DeleteResourcePolicy have no resource-level permissions; this lets OpenSearch publish into the domain's log groups.",
        });
      }
    }
    const provider = awsCustomResourceProvider(this);
    if (provider) hardenProviderFunction(provider, "CDK's provider for the OpenSearch domain's access and log-publishing policies", logKey);
  }

  /** Logstash hosts draining the buffer into the domain, the only principal the domain admits. */
  private addHosts(vpc: ec2.IVpc, hosts: LogPipelineHostsProps, logKey: kms.IKey, removalPolicy: RemovalPolicy): LogstashHosts {
    const buffer = this.buffer!;
    const lateBound = new LateBoundValues();
    const pipeline = logstashPipelineConfig(hosts.plan, {
      sink: { kind: "opensearch", endpoint: lateBound.host("domain", this.domain.domainEndpoint), region: lateBound.region(Stack.of(this).region) },
      buffer: { host: lateBound.host("buffer", buffer.endpoint), port: buffer.port, tls: true, passwordSecretName: LOG_BUFFER_SECRET },
    });
    const logstash = new LogstashHosts(this, "LogstashHosts", {
      plan: hosts.plan,
      vpc,
      ...(hosts.subnets ? { subnets: hosts.subnets } : {}),
      pipeline: lateBound.resolveText(pipeline),
      bufferSecretArn: buffer.authToken.secretArn,
      domainArn: this.domain.domainArn,
      logEncryptionKey: logKey,
      removalPolicy,
    });
    this.domain.addAccessPolicies(
      new iam.PolicyStatement({
        principals: [new iam.ArnPrincipal(logstash.role.roleArn)],
        actions: [...LOGSTASH_DOMAIN_ACTIONS],
        resources: [this.domain.domainArn, `${this.domain.domainArn}/*`],
      }),
    );
    this.domain.connections.allowFrom(logstash, ec2.Port.tcp(443), "Logstash hosts");
    buffer.allowFrom(logstash);
    buffer.allowFrom(hosts.shippers);
    return logstash;
  }

  /** One subnet per zone used: two or three with zone awareness, else one. */
  private placement(props: LogPipelineProps, selection: ec2.SubnetSelection): { subnets: ec2.ISubnet[]; zoneAwareness: opensearch.ZoneAwarenessConfig } {
    const subnets = props.vpc.selectSubnets({ ...selection, onePerAz: true }).subnets;
    const instanceCount = props.instanceCount ?? DEV_SEARCH.count;
    if (!(props.zoneAwareness ?? false)) return { subnets: subnets.slice(0, 1), zoneAwareness: { enabled: false } };
    if (subnets.length < 2) {
      throw new Error(`LogPipeline ${this.node.path}: zoneAwareness is true but the subnets span ${subnets.length} zone. Fix: select subnets in two or three zones, or set zoneAwareness to false`);
    }
    const zones = Math.min(subnets.length, 3);
    if (instanceCount % zones !== 0) {
      throw new Error(`LogPipeline ${this.node.path}: instanceCount is ${instanceCount} over ${zones} zones. Fix: use a multiple of ${zones}`);
    }
    return { subnets: subnets.slice(0, zones), zoneAwareness: { enabled: true, availabilityZoneCount: zones } };
  }

  /**
   * Logstash's identity and network access, and the add-on. With a buffer, Logstash and the shipper
   * each get a Pod Identity allowed to read the AUTH token, which the Secrets Store CSI driver mirrors
   * into the Secret they read: no token value or dynamic reference reaches the kubectl custom resource,
   * where CloudFormation would not resolve it.
   */
  private addToCluster(target: IKubernetesTarget, plan: LandingZonePlan): iam.IRole {
    const logging = plan.logging!;
    if (logging.buffer && !this.buffer) {
      throw new Error(`LogPipeline ${this.node.path}: buffer is false but plan.logging.buffer asks for a Redis buffer. Fix: drop buffer: false, or set logging.buffer: none in the spec`);
    }
    if (!logging.buffer && this.buffer) {
      throw new Error(`LogPipeline ${this.node.path}: plan.logging.buffer is undefined but a buffer is created. Fix: set buffer: false, or logging.buffer: redis in the spec`);
    }
    const namespace = logging.namespace;
    // The add-on creates Logstash's ServiceAccount (as the shipper's); the identity only binds a role to it.
    const identity = target.addWorkloadIdentity("LogstashIdentity", { name: LOGSTASH_SERVICE, namespace, createServiceAccount: false });
    const domainResources = [this.domain.domainArn, `${this.domain.domainArn}/*`];
    identity.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...LOGSTASH_DOMAIN_ACTIONS], resources: domainResources }));
    Validations.of(identity.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagValue(identity.role, `${this.domain.domainArn}/*`)}]`,
      reason: "OpenSearch index and document paths exist only at write time; the wildcard stays below this one domain's ARN, which admits Logstash alone.",
    });
    this.domain.addAccessPolicies(
      new iam.PolicyStatement({ principals: [new iam.ArnPrincipal(identity.role.roleArn)], actions: [...LOGSTASH_DOMAIN_ACTIONS], resources: domainResources }),
    );
    this.domain.connections.allowFrom(target.workloadSecurityGroup, ec2.Port.tcp(443), "Logstash and Dashboards users in the cluster");

    const lateBound = new LateBoundValues();
    const sink: LogSink = { kind: "opensearch", endpoint: lateBound.host("domain", this.domain.domainEndpoint), region: lateBound.region(Stack.of(this).region) };
    let buffer: LogBuffer | undefined;
    let shipperIdentity: Construct | undefined;
    if (this.buffer) {
      this.buffer.allowFrom(target.workloadSecurityGroup);
      const shipper = target.addWorkloadIdentity("ShipperIdentity", { name: logging.shipper, namespace, createServiceAccount: false });
      this.buffer.authToken.grantRead(identity.role);
      this.buffer.authToken.grantRead(shipper.role);
      shipperIdentity = shipper.role.node.scope ?? shipper.role;
      buffer = {
        host: lateBound.host("buffer", this.buffer.endpoint),
        port: this.buffer.port,
        tls: true,
        passwordSecretName: LOG_BUFFER_SECRET,
        passwordSecretProviderClass: logBufferSecretProviderClass(plan, this.buffer.authToken.secretArn),
      };
    }
    const rendered = lateBound.resolve(logPipelineAddOn(plan, { sink, ...(buffer ? { buffer } : {}) }));
    // A platform built here knows its add-ons: the CSI driver and its CRD come first (another stack's platform deploys before this one).
    const addOn = target.addAddOn("LogPipelineAddOn", buffer && target instanceof KubernetesPlatform ? { ...rendered, dependsOn: [...rendered.dependsOn, secretsStoreAddOn().name] } : rendered);
    // Pod Identity reaches only pods created after the association exists.
    addOn.node.addDependency(identity.role.node.scope ?? identity.role);
    if (shipperIdentity) addOn.node.addDependency(shipperIdentity);
    return identity.role;
  }
}

/**
 * `logPipelineAddOn` validates hosts and regions, which CDK knows only as tokens at synthesis: it gets
 * well-formed stand-ins, and the tokens replace them in the returned objects.
 */
class LateBoundValues {
  private readonly values = new Map<string, string>();

  host(name: string, value: string): string {
    return this.standIn(`${name}.late-bound.invalid`, value);
  }

  region(value: string): string {
    return this.standIn("xx-lateboundregion-1", value);
  }

  resolve(addOn: AddOn): AddOn {
    return this.replaceIn(addOn) as AddOn;
  }

  resolveText(text: string): string {
    return this.replaceIn(text) as string;
  }

  private standIn(standIn: string, value: string): string {
    if (!Token.isUnresolved(value)) return value;
    this.values.set(standIn, value);
    return standIn;
  }

  private replaceIn(node: unknown): unknown {
    if (typeof node === "string") {
      let text = node;
      for (const [standIn, value] of this.values) text = text.replaceAll(standIn, value);
      return text;
    }
    if (Array.isArray(node)) return node.map((item) => this.replaceIn(item));
    if (node !== null && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, this.replaceIn(value)]));
    return node;
  }
}
