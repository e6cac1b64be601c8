import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LOG_BUFFER_SECRET, LOGSTASH_DOMAIN_ACTIONS, LOGSTASH_SERVICE, logBufferSecretProviderClass, logPipelineAddOn, logstashPipelineConfig, type LogBuffer } from "../../kubernetes/log-pipeline.js";
import { SECRETS_STORE_READ_ACTIONS } from "../../kubernetes/secrets-store.js";
import type { ManifestObject } from "../../kubernetes/types.js";
import { physicalName } from "../../plan/naming.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";
import { LogstashHosts } from "./logstash-hosts.js";
import { ManagedRedis, managedRedisArgsFromPlan, type ManagedRedisTransform } from "./managed-redis.js";
import { allowPolicyDocument } from "./policy-document.js";

/** Logstash on its own hosts, for service models without a cluster (iaas, paas). */
export interface LogPipelineHosts {
  /** Security group of the instances shipping their logs into the buffer. */
  readonly workloadSecurityGroupId: pulumi.Input<string>;
  /** Private subnets (NAT egress) of the Logstash hosts. */
  readonly privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
}

/** The cluster that runs the shippers and Logstash. */
export interface LogPipelineCluster {
  /** EKS cluster name, for Logstash's Pod Identity association. */
  readonly clusterName: pulumi.Input<string>;
  /** Provider of that cluster. */
  readonly provider: k8s.Provider;
  /** Security group of the cluster's pods; the only source admitted by the domain and the buffer. */
  readonly workloadSecurityGroupId: pulumi.Input<string>;
  /**
   * Resources the in-cluster part waits for (nodes, Pod Identity agent, earlier add-ons).
   * @default - none
   */
  readonly dependsOn?: readonly pulumi.Resource[];
}

/** Arguments of {@link LogPipeline}. */
export interface LogPipelineArgs {
  /** The landing-zone plan; `plan.logging` sizes the domain, the buffer, Logstash and the shippers. */
  readonly plan: LandingZonePlan;
  /** VPC of the domain and the buffer. */
  readonly vpcId: pulumi.Input<string>;
  /** Isolated subnets, one per zone, in zone order; the domain uses as many zones as its zone awareness needs. */
  readonly subnetIds: readonly pulumi.Input<string>[];
  /**
   * The cluster the shippers and Logstash run in. Give this or `hosts`.
   * @default - `hosts`
   */
  readonly cluster?: LogPipelineCluster;
  /**
   * Run Logstash on a small Auto Scaling group instead of a cluster; the services' hosts ship into the buffer. Give this or `cluster`.
   * @default - `cluster`
   */
  readonly hosts?: LogPipelineHosts;
  /**
   * Keep the domain, the buffer's key and secret and the log groups on destroy, and protect them.
   * @default plan.protection.retain
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default plan.tags
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly domain?: (args: aws.opensearch.DomainArgs) => void;
    readonly logstashRole?: (args: aws.iam.RoleArgs) => void;
    readonly buffer?: ManagedRedisTransform;
  };
}

/** The raw children of a {@link LogPipeline}. */
export interface LogPipelineNodes {
  readonly key: aws.kms.Key;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroups: readonly aws.cloudwatch.LogGroup[];
  readonly domain: aws.opensearch.Domain;
  readonly logstashRole: aws.iam.Role;
  /** The role the shippers' pods assume to read the buffer's token, with a cluster and a buffer. */
  readonly shipperRole?: aws.iam.Role;
  readonly buffer?: ManagedRedis;
  /** The in-cluster part, with a cluster. */
  readonly addOn: readonly pulumi.Resource[];
  /** The Logstash hosts, with `hosts`. */
  readonly logstashHosts?: LogstashHosts;
}

/** OpenSearch log types, each written to its own log group. */
const DOMAIN_LOG_TYPES = ["INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS"] as const;
/** TLS 1.2 with perfect forward secrecy, the strictest policy OpenSearch offers. */
const DOMAIN_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10";

/**
 * The seed's ELK stack on AWS, as the CDK `LogPipeline` builds it: an OpenSearch domain (E, with
 * Dashboards as K) in isolated subnets, encrypted at rest with KMS and node to node, HTTPS with
 * TLS 1.2 only, its logs in CloudWatch; a Redis buffer (ElastiCache, TLS, AUTH token) for the
 * shippers; and on the cluster the log-pipeline add-on (Filebeat on every node → Redis list →
 * Logstash → the domain), Logstash signing its requests with a Pod Identity role that is the only
 * principal of the domain's access policy. On a cluster, Logstash and the shippers read the buffer's
 * token with their own Pod Identity through the Secrets Store CSI driver (the cluster needs
 * `secretsStoreAddOn()`), as on CDK: the token never passes through Pulumi into the cluster.
 *
 * Cost: the domain's nodes and the buffer are billed hourly.
 *
 * @example
 * const logs = new LogPipeline("logs", {
 *   plan, vpcId: network.vpcId, subnetIds: network.isolatedSubnets.map((s) => s.id),
 *   cluster: { clusterName: platform.clusterName, provider: platform.provider, workloadSecurityGroupId: platform.workloadSecurityGroupId },
 * });
 * export const dashboards = logs.dashboardsUrl;
 */
export class LogPipeline extends pulumi.ComponentResource {
  /** HTTPS endpoint of the domain (inside the VPC). */
  readonly endpoint: pulumi.Output<string>;
  /** OpenSearch Dashboards (the K of ELK), reachable from inside the VPC. */
  readonly dashboardsUrl: pulumi.Output<string>;
  readonly domainArn: pulumi.Output<string>;
  /** ARN of the role Logstash's pods assume. */
  readonly logstashRoleArn: pulumi.Output<string>;
  /** Primary endpoint of the Redis buffer, when there is one. */
  readonly bufferEndpoint?: pulumi.Output<string>;
  readonly nodes: LogPipelineNodes;

  constructor(name: string, args: LogPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { plan } = args;
    const logging = plan.logging;
    if (!logging) throw new Error(`LogPipeline ${name}: plan.logging is undefined. Fix: set logging.stack: elk in the spec, or do not create a LogPipeline`);
    if ((args.cluster === undefined) === (args.hosts === undefined)) {
      throw new Error(`LogPipeline ${name}: ${args.cluster ? "both cluster and hosts are" : "neither cluster nor hosts is"} given. Fix: run Logstash in the cluster (cluster) or on its own hosts (hosts)`);
    }
    if (args.hosts && !logging.buffer) {
      throw new Error(`LogPipeline ${name}: hosts need the Redis buffer, the only way shippers outside a cluster reach Logstash. Fix: set logging.buffer: redis`);
    }
    const search = logging.search;
    const zones = search.zoneAwareness ? Math.min(args.subnetIds.length, 3) : 1;
    if (search.zoneAwareness && zones < 2) {
      throw new Error(`LogPipeline ${name}: plan.logging.search.zoneAwareness needs subnets in two or three zones, got ${args.subnetIds.length}. Fix: pass one isolated subnet per zone`);
    }
    if (search.instanceCount % zones !== 0) {
      throw new Error(`LogPipeline ${name}: plan.logging.search.instanceCount ${search.instanceCount} does not spread evenly over ${zones} zones. Fix: use a multiple of ${zones}`);
    }
    super("msa:aws:LogPipeline", name, {}, opts);
    const parent = { parent: this };
    const retain = args.retain ?? plan.protection.retain;
    const stateful = retain ? { parent: this, protect: true, retainOnDelete: true } : parent;
    const tags = { ...(args.tags ?? plan.tags) };
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const domainName = physicalName("opensearch", plan.name, plan.environment, "logs");

    const key = new aws.kms.Key(`${name}-key`, { description: `${name} OpenSearch domain`, enableKeyRotation: true, deletionWindowInDays: 30, tags }, stateful);

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-domain-sg`,
      { vpcId: args.vpcId, description: `${name} OpenSearch: HTTPS from the cluster only`, tags: { ...tags, Name: `${name}-domain` } },
      parent,
    );
    if (args.cluster) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-domain-https`,
        { securityGroupId: securityGroup.id, referencedSecurityGroupId: args.cluster.workloadSecurityGroupId, ipProtocol: "tcp", fromPort: 443, toPort: 443, description: "Logstash and Dashboards users in the cluster" },
        parent,
      );
    }

    const logGroups = DOMAIN_LOG_TYPES.map(
      (logType) =>
        new aws.cloudwatch.LogGroup(
          `${name}-${logType.toLowerCase().replace(/_/g, "-")}`,
          { name: `/aws/opensearch/${domainName}/${logType.toLowerCase()}`, retentionInDays: 30, tags },
          stateful,
        ),
    );
    // OpenSearch writes its logs through a resource policy scoped to this domain's groups and account.
    const logPolicy = new aws.cloudwatch.LogResourcePolicy(
      `${name}-log-policy`,
      {
        policyName: `${domainName}-logs`,
        policyDocument: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "es.amazonaws.com" },
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: logGroups.map((g) => pulumi.interpolate`${g.arn}:*`),
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
      },
      parent,
    );

    // Logstash's pods assume it through Pod Identity, or its hosts through their instance profile.
    const logstashRoleArgs: aws.iam.RoleArgs = { assumeRolePolicy: assumeRolePolicy(args.cluster ? "pods.eks.amazonaws.com" : "ec2.amazonaws.com"), description: `Logstash of ${plan.name}: writes to the log domain`, tags };
    args.transform?.logstashRole?.(logstashRoleArgs);
    const logstashRole = new aws.iam.Role(`${name}-logstash-role`, logstashRoleArgs, parent);
    const domainArn = pulumi.interpolate`arn:${partition}:es:${region}:${account}:domain/${domainName}`;
    const domainResources = [domainArn, pulumi.interpolate`${domainArn}/*`];
    const domainArgs: aws.opensearch.DomainArgs = {
      domainName,
      engineVersion: `OpenSearch_${search.engineVersion}`,
      clusterConfig: {
        instanceType: search.instanceType,
        instanceCount: search.instanceCount,
        dedicatedMasterEnabled: search.dedicatedMasters > 0,
        ...(search.dedicatedMasters > 0 ? { dedicatedMasterCount: search.dedicatedMasters, dedicatedMasterType: search.masterInstanceType } : {}),
        zoneAwarenessEnabled: zones > 1,
        ...(zones > 1 ? { zoneAwarenessConfig: { availabilityZoneCount: zones } } : {}),
      },
      ebsOptions: { ebsEnabled: true, volumeType: "gp3", volumeSize: search.volumeGiB },
      encryptAtRest: { enabled: true, kmsKeyId: key.arn },
      nodeToNodeEncryption: { enabled: true },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: DOMAIN_TLS_POLICY },
      vpcOptions: { subnetIds: args.subnetIds.slice(0, zones), securityGroupIds: [securityGroup.id] },
      logPublishingOptions: DOMAIN_LOG_TYPES.map((logType, i) => ({ logType, cloudwatchLogGroupArn: logGroups[i]!.arn })),
      // Only Logstash's role may call the domain; the security group keeps everyone else off the network path.
      accessPolicies: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: logstashRole.arn }, Action: [...LOGSTASH_DOMAIN_ACTIONS], Resource: domainResources }],
      }),
      softwareUpdateOptions: { autoSoftwareUpdateEnabled: true },
      tags,
    };
    args.transform?.domain?.(domainArgs);
    const domain = new aws.opensearch.Domain(`${name}-domain`, domainArgs, { ...stateful, dependsOn: [logPolicy] });

    let buffer: ManagedRedis | undefined;
    if (logging.buffer) {
      buffer = new ManagedRedis(
        `${name}-buffer`,
        {
          ...managedRedisArgsFromPlan(logging.buffer, { vpcId: args.vpcId, subnetIds: [...args.subnetIds], allowedSecurityGroupIds: [(args.cluster ?? args.hosts!).workloadSecurityGroupId] }, retain),
          // Log lines wait in the list for seconds; a snapshot would never hold anything worth restoring.
          snapshotRetentionDays: 0,
          description: `${name} log buffer`,
          tags,
          ...(args.transform?.buffer ? { transform: args.transform.buffer } : {}),
        },
        parent,
      );
    }

    let addOn: pulumi.Resource[] = [];
    let logstashHosts: LogstashHosts | undefined;
    let shipperRole: aws.iam.Role | undefined;
    if (args.cluster) {
      // Logstash and the shippers read the buffer's token with their own Pod Identity, through the CSI driver.
      const readToken = buffer ? [{ Sid: "ReadBufferToken", Action: [...SECRETS_STORE_READ_ACTIONS], Resource: [buffer.authTokenSecretArn] }] : [];
      new aws.iam.RolePolicy(`${name}-logstash-policy`, { role: logstashRole.name, policy: allowPolicyDocument([{ Action: [...LOGSTASH_DOMAIN_ACTIONS], Resource: domainResources }, ...readToken]) }, parent);
      const afterCluster = { parent: this, dependsOn: [...(args.cluster.dependsOn ?? [])] };
      const identities = [
        new aws.eks.PodIdentityAssociation(`${name}-logstash-identity`, { clusterName: args.cluster.clusterName, namespace: logging.namespace, serviceAccount: LOGSTASH_SERVICE, roleArn: logstashRole.arn, tags }, afterCluster),
      ];
      if (buffer) {
        shipperRole = new aws.iam.Role(`${name}-shipper-role`, { assumeRolePolicy: assumeRolePolicy("pods.eks.amazonaws.com"), description: `Log shippers of ${plan.name}: read the buffer's token`, tags }, parent);
        new aws.iam.RolePolicy(`${name}-shipper-policy`, { role: shipperRole.name, policy: allowPolicyDocument(readToken) }, parent);
        identities.push(new aws.eks.PodIdentityAssociation(`${name}-shipper-identity`, { clusterName: args.cluster.clusterName, namespace: logging.namespace, serviceAccount: logging.shipper, roleArn: shipperRole.arn, tags }, afterCluster));
      }
      addOn = this.applyInCluster(name, plan, args.cluster, domain, region, buffer, identities);
    } else {
      logstashHosts = this.addHosts(name, plan, args, args.hosts!, domain, domainArn, region, buffer!, logstashRole, securityGroup, tags);
    }

    this.endpoint = domain.endpoint;
    this.dashboardsUrl = pulumi.interpolate`https://${domain.endpoint}/_dashboards/`;
    this.domainArn = domain.arn;
    this.logstashRoleArn = logstashRole.arn;
    if (buffer) this.bufferEndpoint = buffer.endpoint;
    this.nodes = { key, securityGroup, logGroups, domain, logstashRole, ...(shipperRole ? { shipperRole } : {}), ...(buffer ? { buffer } : {}), addOn, ...(logstashHosts ? { logstashHosts } : {}) };
    this.registerOutputs({ endpoint: this.endpoint, dashboardsUrl: this.dashboardsUrl, domainArn: this.domainArn, logstashRoleArn: this.logstashRoleArn });
  }

  /** Logstash hosts draining the buffer into the domain; they and the shippers reach the buffer, only they the domain. */
  private addHosts(
    name: string,
    plan: LandingZonePlan,
    args: LogPipelineArgs,
    hosts: LogPipelineHosts,
    domain: aws.opensearch.Domain,
    domainArn: pulumi.Output<string>,
    region: pulumi.Output<string>,
    buffer: ManagedRedis,
    role: aws.iam.Role,
    domainSecurityGroup: aws.ec2.SecurityGroup,
    tags: Record<string, string>,
  ): LogstashHosts {
    const logging = plan.logging!;
    const pipeline = pulumi.all([domain.endpoint, region, buffer.endpoint]).apply(([endpoint, resolvedRegion, bufferHost]) =>
      logstashPipelineConfig(plan, { sink: { kind: "opensearch", endpoint, region: resolvedRegion }, buffer: { host: bufferHost, port: logging.buffer!.port, tls: true, passwordSecretName: LOG_BUFFER_SECRET } }),
    );
    const logstash = new LogstashHosts(
      `${name}-logstash`,
      { plan, vpcId: args.vpcId, privateSubnetIds: hosts.privateSubnetIds, pipeline, bufferSecretArn: buffer.authTokenSecretArn, domainArn, role, tags },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-domain-https`,
      { securityGroupId: domainSecurityGroup.id, referencedSecurityGroupId: logstash.securityGroupId, ipProtocol: "tcp", fromPort: 443, toPort: 443, description: "Logstash hosts" },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-buffer-from-logstash`,
      { securityGroupId: buffer.securityGroupId, referencedSecurityGroupId: logstash.securityGroupId, ipProtocol: "tcp", fromPort: logging.buffer!.port, toPort: logging.buffer!.port, description: "Logstash hosts" },
      { parent: this },
    );
    return logstash;
  }

  /**
   * The namespace first, then shippers, Logstash, policies and the buffer token's SecretProviderClass,
   * once the pods' identities exist (Pod Identity reaches only pods created after them).
   */
  private applyInCluster(
    name: string,
    plan: LandingZonePlan,
    cluster: LogPipelineCluster,
    domain: aws.opensearch.Domain,
    region: pulumi.Output<string>,
    buffer: ManagedRedis | undefined,
    identities: readonly aws.eks.PodIdentityAssociation[],
  ): pulumi.Resource[] {
    const logging = plan.logging!;
    const manifests = pulumi.all([domain.endpoint, region, buffer?.endpoint ?? pulumi.output(""), buffer?.authTokenSecretArn ?? pulumi.output("")]).apply(([endpoint, resolvedRegion, bufferHost, tokenArn]) => {
      const link: LogBuffer | undefined = buffer
        ? { host: bufferHost, port: logging.buffer!.port, tls: true, passwordSecretName: LOG_BUFFER_SECRET, passwordSecretProviderClass: logBufferSecretProviderClass(plan, tokenArn) }
        : undefined;
      return logPipelineAddOn(plan, { sink: { kind: "opensearch", endpoint, region: resolvedRegion }, ...(link ? { buffer: link } : {}) }).manifests;
    });
    const isNamespace = (m: ManifestObject) => m.kind === "Namespace";
    const applyOptions = { provider: cluster.provider, parent: this };
    const namespace = applyManifests(`${name}-namespace`, manifests.apply((list) => list.filter(isNamespace)), { ...applyOptions, dependsOn: [...(cluster.dependsOn ?? [])] });
    const before: pulumi.Resource[] = [namespace, ...identities];
    const rest = applyManifests(`${name}-manifests`, manifests.apply((list) => list.filter((m) => !isNamespace(m))), { ...applyOptions, dependsOn: before });
    return [...before, rest];
  }
}
