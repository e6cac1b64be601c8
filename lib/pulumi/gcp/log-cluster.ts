import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { LOG_BUFFER_NAME, logBufferExposureManifests } from "../../kubernetes/log-buffer-access.js";
import { LOGSTASH_SERVICE_ACCOUNT } from "../../kubernetes/log-pipeline.js";
import { REDIS_PORT } from "../../kubernetes/redis.js";
import { gcpLabels, gcpServiceAccountId } from "../../plan/gcp.js";
import { appEngineLogFilter } from "../../plan/log-cluster.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { LogPipeline } from "../kubernetes/log-pipeline.js";
import { KubernetesPlatform, type KubernetesPlatformArgs } from "./kubernetes-platform.js";
import { WORKLOAD_IDENTITY_ANNOTATION } from "./service-workload.js";
import { projectOf } from "./project.js";

/** GKE provisions an internal passthrough Network Load Balancer for a Service with this annotation. */
export const GKE_INTERNAL_LB_ANNOTATIONS = { "networking.gke.io/load-balancer-type": "Internal" } as const;

/** Where a host ships its logs: the buffer's private address and the Secret Manager secret with its password. */
export interface LogBufferLink {
  readonly host: pulumi.Output<string>;
  readonly port: number;
  /** `projects/<p>/secrets/<id>`; a host's service account needs `secretAccessor` on it. */
  readonly passwordSecretId: pulumi.Output<string>;
  /** The secret version holding the password: hosts that read it at start wait for it. */
  readonly passwordSecretVersion: pulumi.Resource;
  /** false: the buffer speaks Redis with AUTH, as on caas; the route never leaves the VPC. */
  readonly tls: boolean;
}

/** Arguments of {@link LogCluster}. */
export interface LogClusterArgs {
  /** The landing-zone plan; `plan.logging.cluster` sizes the cluster, `plan.logging` the pipeline. */
  readonly plan: LandingZonePlan;
  /** VPC network, subnet (with the pods and Services secondary ranges), the control plane's /28 and who may reach it (the subnet, with a private endpoint). */
  readonly placement: Pick<KubernetesPlatformArgs, "networkId" | "subnetworkId" | "secondaryRanges" | "controlPlaneCidr" | "authorizedNetworks">;
  /**
   * CIDR of the subnet the shipping hosts run in: the only source the buffer accepts.
   * @default - no host ships: the buffer stays inside the cluster (App Engine)
   */
  readonly hostsCidr?: string;
  /**
   * Export the plan's App Engine services' log entries through a Cloud Logging sink into a Pub/Sub
   * subscription that Logstash pulls as its own service account (Workload Identity, subscriber on that subscription only).
   * Cost: Pub/Sub bills per GiB of exported entries.
   * @default false
   */
  readonly appEngineLogs?: boolean;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly platform?: (args: KubernetesPlatformArgs) => void;
    readonly address?: (args: gcp.compute.AddressArgs) => void;
    readonly passwordSecret?: (args: gcp.secretmanager.SecretArgs) => void;
  };
}

/**
 * The seed's ELK pipeline for VMs and App Engine on GCP, which has no managed Elasticsearch: a small
 * private GKE cluster of its own (the same KubernetesPlatform the caas tier uses) running the same
 * LogPipeline add-on (ECK Elasticsearch and Kibana, Logstash, the Redis buffer). For VMs the buffer's
 * primary is reachable from the hosts' subnet only, through an internal load balancer at a reserved
 * private address, and keeps its generated AUTH password, copied into Secret Manager so hosts read it
 * with their own service account and never see it in their template. App Engine runs no shipper of
 * ours, so its entries reach Logstash from Cloud Logging: a sink into Pub/Sub, pulled by Logstash as
 * its own Google service account through Workload Identity (no key). Chosen over Elasticsearch on VMs
 * because ECK already handles the cluster's TLS, users, upgrades and volumes, and because hosts then
 * ship exactly as the caas nodes do. Prod deletion-protects the cluster and its secrets key.
 *
 * Cost: the GKE management fee and the nodes (`plan.logging.cluster`), the Elasticsearch volumes and
 * the internal load balancer's forwarding rule bill even when idle.
 *
 * @example
 * const logs = new LogCluster("shop-logging", { plan, placement, hostsCidr: network.layout.subnet });
 * new InstanceGroupService("shop-orders", { ...serviceArgs, logBuffer: logs.buffer });
 */
export class LogCluster extends pulumi.ComponentResource {
  readonly platform: KubernetesPlatform;
  readonly pipeline: LogPipeline;
  /** Where hosts ship; undefined without `hostsCidr`. */
  readonly buffer?: LogBufferLink;
  readonly kibanaService: pulumi.Output<string>;
  readonly nodes: {
    readonly address?: gcp.compute.Address;
    readonly passwordSecret?: gcp.secretmanager.Secret;
    readonly exposure?: pulumi.Resource;
    readonly sink?: gcp.logging.ProjectSink;
    readonly subscription?: gcp.pubsub.Subscription;
  };

  constructor(name: string, args: LogClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const logging = plan.logging;
    if (!logging?.cluster) throw new Error(`LogCluster ${name}: plan.logging.cluster is undefined (tier "${plan.tier}" on ${plan.cloud}). Fix: use the services' cluster's LogPipeline on caas, or plan a gcp iaas/paas spec with logging.stack: elk`);
    if (!logging.buffer) throw new Error(`LogCluster ${name}: plan.logging.buffer is undefined, but hosts ship only into the Redis buffer. Fix: set logging.buffer: redis`);
    super("msa:gcp:LogCluster", name, {}, opts);
    const parent = { parent: this };
    const retain = plan.protection.retain;
    const labels = gcpLabels(plan.tags);

    const platformArgs: KubernetesPlatformArgs = {
      cluster: logging.cluster,
      region: plan.region,
      zones: plan.network.availabilityZones,
      ...args.placement,
      releaseChannel: plan.environment === "prod" ? "STABLE" : "REGULAR",
      // Its own pods' logs go through the pipeline it runs.
      workloadLogs: false,
      retain,
      labels,
    };
    args.transform?.platform?.(platformArgs);
    this.platform = new KubernetesPlatform(`${name}-platform`, platformArgs, parent);
    const provider = this.platform.provider;

    const appEngine = args.appEngineLogs ? this.appEngineExport(name, plan, labels) : undefined;
    this.pipeline = new LogPipeline(
      `${name}-pipeline`,
      { plan, provider, bufferName: LOG_BUFFER_NAME, ...(appEngine ? { logstash: appEngine.logstash } : {}) },
      { parent: this, dependsOn: [...this.platform.ready, ...(appEngine?.ready ?? [])] },
    );
    this.kibanaService = this.pipeline.kibanaService;
    this.nodes = { ...(appEngine ? { sink: appEngine.sink, subscription: appEngine.subscription } : {}) };
    if (args.hostsCidr) {
      const hostsCidr = args.hostsCidr;
      const addressArgs: gcp.compute.AddressArgs = {
        region: plan.region,
        addressType: "INTERNAL",
        subnetwork: args.placement.subnetworkId,
        description: `Internal load balancer of the log buffer of ${plan.name}`,
        labels,
      };
      args.transform?.address?.(addressArgs);
      const address = new gcp.compute.Address(`${name}-buffer-address`, addressArgs, parent);
      const exposure = applyManifests(
        `${name}-buffer-exposure`,
        address.address.apply((ip) => logBufferExposureManifests(plan, { bufferName: LOG_BUFFER_NAME, annotations: GKE_INTERNAL_LB_ANNOTATIONS, address: ip, sourceRanges: [hostsCidr] })),
        { provider, parent: this, dependsOn: this.pipeline.resources },
      );
      const secretArgs: gcp.secretmanager.SecretArgs = {
        secretId: `${plan.name}-${plan.environment}-log-buffer-auth`,
        replication: { auto: {} },
        labels: { ...labels, purpose: "log-buffer-auth" },
      };
      args.transform?.passwordSecret?.(secretArgs);
      const passwordSecret = new gcp.secretmanager.Secret(`${name}-buffer-auth`, secretArgs, parent);
      const passwordSecretVersion = new gcp.secretmanager.SecretVersion(`${name}-buffer-auth`, { secret: passwordSecret.id, secretData: pulumi.secret(this.pipeline.buffer!.passwordValue) }, parent);
      this.buffer = { host: address.address, port: REDIS_PORT, passwordSecretId: passwordSecret.id, passwordSecretVersion, tls: false };
      this.nodes = { ...this.nodes, address, passwordSecret, exposure };
    }
    this.registerOutputs({ kibanaService: this.kibanaService, ...(this.buffer ? { bufferHost: this.buffer.host, passwordSecretId: this.buffer.passwordSecretId } : {}) });
  }

  /**
   * App Engine's entries go from a project sink into a topic only the sink may publish to, and from
   * its subscription to Logstash, whose service account may pull that subscription and nothing else.
   */
  private appEngineExport(name: string, plan: LandingZonePlan, labels: Record<string, string>) {
    const parent = { parent: this };
    const project = projectOf(this);
    const prefix = `${plan.name}-${plan.environment}`;
    const namespace = plan.logging!.namespace;
    const topic = new gcp.pubsub.Topic(`${name}-app-engine-logs`, { name: `${prefix}-app-engine-logs`, messageRetentionDuration: "86400s", labels }, parent);
    const subscription = new gcp.pubsub.Subscription(
      `${name}-app-engine-logs`,
      {
        name: `${prefix}-app-engine-logs-logstash`,
        topic: topic.id,
        ackDeadlineSeconds: 60,
        // A week of entries waits out a Logstash outage; the subscription never expires while idle.
        messageRetentionDuration: "604800s",
        expirationPolicy: { ttl: "" },
        labels,
      },
      parent,
    );
    const sink = new gcp.logging.ProjectSink(
      `${name}-app-engine-logs`,
      { name: `${prefix}-app-engine-logs`, destination: pulumi.interpolate`pubsub.googleapis.com/${topic.id}`, filter: appEngineLogFilter(plan), uniqueWriterIdentity: true, description: `App Engine logs of ${plan.name} to its ELK pipeline` },
      parent,
    );
    const publish = new gcp.pubsub.TopicIAMMember(`${name}-app-engine-logs-sink`, { topic: topic.id, role: "roles/pubsub.publisher", member: sink.writerIdentity }, parent);
    const account = new gcp.serviceaccount.Account(
      `${name}-logstash`,
      { accountId: gcpServiceAccountId(plan.name, "logstash"), displayName: `Logstash of ${plan.name}`, description: "Pulls the App Engine log export; nothing else" },
      parent,
    );
    const pull = new gcp.pubsub.SubscriptionIAMMember(`${name}-logstash-pull`, { subscription: subscription.id, role: "roles/pubsub.subscriber", member: account.member }, parent);
    const binding = new gcp.serviceaccount.IAMMember(
      `${name}-logstash-workload-identity`,
      { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: pulumi.interpolate`serviceAccount:${project.id}.svc.id.goog[${namespace}/${LOGSTASH_SERVICE_ACCOUNT}]` },
      parent,
    );
    const logstash = pulumi.all([project.id, topic.name, subscription.name, account.email]).apply(([projectId, topicName, subscriptionName, email]) => ({
      cloudInputs: [{ kind: "google-pubsub" as const, projectId, topic: topicName, subscription: subscriptionName }],
      logstashServiceAccountAnnotations: { [WORKLOAD_IDENTITY_ANNOTATION]: email },
    }));
    return { logstash, sink, subscription, ready: [publish, pull, binding] };
  }
}
