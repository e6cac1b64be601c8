import type * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as pulumi from "@pulumi/pulumi";
import { LOG_BUFFER_NAME, logBufferExposureManifests } from "../../kubernetes/log-buffer-access.js";
import { REDIS_PORT } from "../../kubernetes/redis.js";
import { AKS_SYSTEM_POOL } from "../../plan/azure.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { LogPipeline } from "../kubernetes/log-pipeline.js";
import type { AppServiceLogExport } from "./app-service-log-export.js";
import type { ContainerRegistry } from "./container-registry.js";
import { KubernetesPlatform, type KubernetesPlatformArgs } from "./kubernetes-platform.js";
import { grantRole } from "./roles.js";
import type { ServiceAccess } from "./service-workload.js";

/** Key Vault secret holding the log buffer's password. */
export const LOG_BUFFER_SECRET_NAME = "log-buffer-auth";

/** Where an instance ships its logs: the buffer's private address and the Key Vault secret with its password. */
export interface AzureLogBufferLink {
  readonly host: string;
  readonly port: number;
  /** Versionless URI of the password secret; a host's identity gets Key Vault Secrets User on it (`grantAccess`). */
  readonly passwordSecretUri: pulumi.Output<string>;
  /** false: the buffer speaks Redis with AUTH, as on caas; the route never leaves the VNet. */
  readonly tls: boolean;
}

/** Arguments of {@link LogCluster}. */
export interface LogClusterArgs {
  /** The landing-zone plan; `plan.logging.cluster` sizes the cluster, `plan.logging` the pipeline. */
  readonly plan: LandingZonePlan;
  /** Resource group the cluster and the secret's grants are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** The subnet the cluster's nodes join: the hosts' workloads subnet on scale sets, a subnet of its own beside App Service. */
  readonly subnetId: pulumi.Input<string>;
  /**
   * The shipping scale sets: their subnet (whose name AKS places the buffer's internal load balancer
   * in, and whose CIDR is the only source the buffer accepts), a free address of it for that load
   * balancer (`logBufferPrivateIp`), and the vault the buffer's password is kept in (Azure RBAC authorization).
   * @default - no host ships: the buffer stays inside the cluster (App Service)
   */
  readonly hosts?: {
    readonly subnetName: string;
    readonly hostsCidr: string;
    readonly bufferAddress: string;
    readonly vault: { readonly resourceGroupName: pulumi.Input<string>; readonly vaultName: pulumi.Input<string> };
  };
  /**
   * A managed platform's log export Logstash reads beside the buffer (`AppServiceLogExport`): its
   * input and the Secret with its connection strings, created in the logging namespace.
   * @default - none
   */
  readonly cloudLogs?: Pick<AppServiceLogExport, "logstashInput" | "logstashSecret">;
  /** Zones the nodes spread over. */
  readonly zones: readonly string[];
  /** Overlay range of the cluster's pods. */
  readonly podsCidr: string;
  /** Range of the cluster's Services. */
  readonly servicesCidr: string;
  /**
   * Egress of the nodes.
   * @default "natGateway"
   */
  readonly outbound?: "natGateway" | "loadBalancer";
  /**
   * Registry the nodes may pull from.
   * @default - none: the pipeline's images come from public registries
   */
  readonly registry?: Pick<ContainerRegistry, "grantPull">;
  /**
   * Log Analytics workspace of the control plane's logs.
   * @default - none
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly platform?: (args: KubernetesPlatformArgs) => void };
}

/**
 * The seed's ELK pipeline for scale sets and App Service on Azure, which has no managed Elasticsearch:
 * a small private AKS cluster of its own (the same KubernetesPlatform the caas tier uses) running the
 * same LogPipeline add-on (ECK Elasticsearch and Kibana, Logstash, the Redis buffer). For scale sets
 * the buffer's primary answers on a fixed private address of the workloads subnet behind an internal
 * load balancer that accepts only that subnet, and keeps its generated AUTH password, copied into Key
 * Vault, which each host's identity may read (`grantAccess`: Key Vault Secrets User on that one
 * secret). App Service runs no shipper of ours, so its logs reach Logstash from diagnostic settings
 * through an event hub (`cloudLogs`, see AppServiceLogExport). Chosen over Elasticsearch on VMs
 * because ECK already handles the cluster's TLS, users, upgrades and volumes, and hosts then ship
 * exactly as the caas nodes do. Prod keeps the cluster's uptime SLA and retains what it retains on caas.
 *
 * Cost: the nodes (`plan.logging.cluster` plus the system pool), the Elasticsearch disks, the internal
 * load balancer (with hosts) and, in prod, the AKS uptime SLA bill even when idle.
 *
 * @example
 * const logs = new LogCluster("shop-logging", { plan, resourceGroupName, location, subnetId, zones: ["1", "2", "3"], podsCidr, servicesCidr,
 *   hosts: { subnetName: "workloads", hostsCidr: "10.0.64.0/18", bufferAddress: "10.0.127.250", vault: { resourceGroupName, vaultName: config.vaultName } } });
 */
export class LogCluster extends pulumi.ComponentResource implements ServiceAccess {
  readonly platform: KubernetesPlatform;
  readonly pipeline: LogPipeline;
  /** Where hosts ship; undefined without `hosts`. */
  readonly buffer?: AzureLogBufferLink;
  readonly kibanaService: pulumi.Output<string>;
  readonly nodes: { readonly passwordSecret?: keyvault.Secret; readonly exposure?: pulumi.Resource };

  constructor(name: string, args: LogClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const logging = plan.logging;
    if (!logging?.cluster) throw new Error(`LogCluster ${name}: plan.logging.cluster is undefined (tier "${plan.tier}" on ${plan.cloud}). Fix: use the services' cluster's LogPipeline on caas, or plan an azure iaas or paas spec with logging.stack: elk`);
    if (!logging.buffer) throw new Error(`LogCluster ${name}: plan.logging.buffer is undefined, but the pipeline's shippers write only into the Redis buffer. Fix: set logging.buffer: redis`);
    super("msa:azure:LogCluster", name, {}, opts);
    const parent = { parent: this };
    const retain = plan.protection.retain;
    const tags = { ...args.tags };

    const platformArgs: KubernetesPlatformArgs = {
      cluster: logging.cluster,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      subnetId: args.subnetId,
      zones: args.zones,
      podsCidr: args.podsCidr,
      servicesCidr: args.servicesCidr,
      systemPool: AKS_SYSTEM_POOL[plan.environment],
      outbound: args.outbound ?? "natGateway",
      ...(args.registry ? { registry: args.registry } : {}),
      ...(args.logWorkspaceId ? { logWorkspaceId: args.logWorkspaceId } : {}),
      uptimeSla: plan.environment === "prod",
      retain,
      tags,
    };
    args.transform?.platform?.(platformArgs);
    this.platform = new KubernetesPlatform(`${name}-platform`, platformArgs, parent);
    const provider = this.platform.provider;

    const cloudLogs = args.cloudLogs;
    this.pipeline = new LogPipeline(
      `${name}-pipeline`,
      { plan, provider, bufferName: LOG_BUFFER_NAME, ...(cloudLogs ? { logstash: { cloudInputs: [cloudLogs.logstashInput] }, secrets: [cloudLogs.logstashSecret] } : {}) },
      { parent: this, dependsOn: [...this.platform.ready] },
    );
    this.kibanaService = this.pipeline.kibanaService;
    this.nodes = {};
    const hosts = args.hosts;
    if (hosts) {
      const annotations = {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
        "service.beta.kubernetes.io/azure-load-balancer-internal-subnet": hosts.subnetName,
        "service.beta.kubernetes.io/azure-load-balancer-ipv4": hosts.bufferAddress,
      };
      const exposure = applyManifests(
        `${name}-buffer-exposure`,
        logBufferExposureManifests(plan, { bufferName: LOG_BUFFER_NAME, annotations, address: hosts.bufferAddress, sourceRanges: [hosts.hostsCidr] }),
        { provider, parent: this, dependsOn: this.pipeline.resources },
      );
      const passwordSecret = new keyvault.Secret(
        `${name}-buffer-auth`,
        {
          resourceGroupName: hosts.vault.resourceGroupName,
          vaultName: hosts.vault.vaultName,
          secretName: LOG_BUFFER_SECRET_NAME,
          properties: { value: pulumi.secret(this.pipeline.buffer!.passwordValue), contentType: "text/plain" },
          tags,
        },
        parent,
      );
      this.buffer = { host: hosts.bufferAddress, port: REDIS_PORT, passwordSecretUri: passwordSecret.properties.apply((p) => p.secretUri), tls: false };
      this.nodes = { passwordSecret, exposure };
    }
    this.registerOutputs({ kibanaService: this.kibanaService, ...(this.buffer ? { bufferHost: this.buffer.host, passwordSecretUri: this.buffer.passwordSecretUri } : {}) });
  }

  /** Key Vault Secrets User on the buffer's password secret only: what a shipping host needs. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): authorization.RoleAssignment[] {
    if (!this.nodes.passwordSecret) return [];
    return [grantRole(`${service}-read-log-buffer-auth`, { role: "keyVaultSecretsUser", scope: this.nodes.passwordSecret.id, principalId }, { parent })];
  }
}
