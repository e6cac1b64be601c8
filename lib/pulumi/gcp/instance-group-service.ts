import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { edgeProxyHost, type EdgeProxyAuthService, type EdgeProxyIssuer } from "../../plan/edge-proxy.js";
import { instanceGroupRollout } from "../../plan/cloud-build.js";
import { gcpImage, LOAD_BALANCER_BACKEND_TAG } from "../../plan/gcp.js";
import { CLOUD_TRACE_ROLE, hostCollectorConfig, hostCollectorImage, otelEnvironment } from "../../plan/tracing.js";
import { hostShipperConfig } from "../../plan/host-bootstrap.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { PLATFORM_ENV } from "../../kubernetes/workload.js";
import { SESSION_STORE_ENDPOINT_ENV, SESSION_STORE_PASSWORD_ENV } from "../kubernetes/landing-zone.js";
import type { GatewayBackend } from "./api-gateway.js";
import { CONTAINER_VM_IMAGE, containerVmUserData } from "./container-vm.js";
import type { LogBufferLink } from "./log-cluster.js";
import { projectOf } from "./project.js";
import { createReleaseSecret, type ReleaseSecret } from "./service-delivery.js";
import { findService, ServiceIdentity, mergeAttachments, type ServiceAttachment } from "./service-identity.js";
import type { RegistryLink } from "./service-registry.js";
import { GOOGLE_CLOUD_PROJECT_ENV, type BrokerLink, type SessionStoreLink } from "./service-workload.js";

/** What the VMs' own agents need: Container-Optimized OS ships container logs and metrics with the VM's account. */
export const VM_AGENT_ROLES = ["roles/logging.logWriter", "roles/monitoring.metricWriter"] as const;
/** Seconds a new VM has to start its container before autohealing may replace it. */
export const AUTOHEALING_INITIAL_DELAY_SECONDS = 300;
/** CPU utilization the autoscaler keeps the group at. */
export const VM_CPU_TARGET = 0.7;

/** The variable Filebeat reads the buffer's password from (`hostShipperConfig`). */
export const LOG_BUFFER_PASSWORD_ENV = "REDIS_PASSWORD";

/** Arguments of {@link InstanceGroupService}. */
export interface InstanceGroupServiceArgs {
  /** The landing-zone plan (`tier: iaas`): machine type, disk, replicas, image and health path come from it. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** VPC network of the VMs (and of the internal load balancer when registered). */
  readonly networkId: pulumi.Input<string>;
  /** Subnet the VMs get their (only, internal) address from. */
  readonly subnetworkId: pulumi.Input<string>;
  /**
   * Register the service in the registry behind an internal passthrough load balancer, so other services reach it as `<service>.<domain>`.
   * Cost: an internal forwarding rule bills hourly.
   * @default - not registered
   */
  readonly discovery?: RegistryLink;
  /** The service's Artifact Registry repository: its URL prefixes the plan's image, its name scopes the pull grant. */
  readonly repository: { readonly url: pulumi.Input<string>; readonly name: pulumi.Input<string> };
  /**
   * The session store; the VMs get its endpoint, `SESSION_STORE_TLS=true`, its CA as a file named by
   * `SESSION_STORE_CA_FILE` and its AUTH string (fetched from Secret Manager).
   * @default - no session store
   */
  readonly sessions?: SessionStoreLink;
  /**
   * The log buffer (`LogCluster.buffer`): Filebeat runs beside the service and ships every container's log there.
   * @default - no shipper: logs stay in Cloud Logging
   */
  readonly logBuffer?: LogBufferLink;
  /**
   * The event bus; the service's account gets exactly its grants, the container its topic and subscription names.
   * @default - no messaging
   */
  readonly broker?: BrokerLink;
  /**
   * Values of the service's declared `secrets`, by key.
   * @default - a generated 32-character value per secret
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Extra non-secret environment variables (single-line).
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * What the service owns or uses beyond sessions and messaging (its database, event store, read model): environment, conditioned roles, secrets.
   * @default - none
   */
  readonly attachments?: readonly ServiceAttachment[];
  /**
   * What the edge proxy in front of the service checks, when `plan.edgeProxy` lists the service: the
   * token issuer (`check: jwt`) or the auth service's registered name (`check: ext-authz`). Required then,
   * so the gateway never reaches such a service unchecked.
   * @default - no proxy (the service is not behind one in the plan)
   */
  readonly edgeProxy?: { readonly issuer?: pulumi.Input<EdgeProxyIssuer>; readonly authService?: EdgeProxyAuthService };
  /**
   * Release the service through a pipeline (`ServiceDelivery` with `deploy.kind` "instance-group"): a
   * Secret Manager secret `secretId` is created here with the plan's image, the VMs run its latest
   * version, read at boot with their own account (granted accessor on this secret only), so a release
   * adds a version and replaces the VMs, and the instance template never changes per release.
   * @default - no pipeline: the plan's image is fixed in the template
   */
  readonly release?: {
    readonly secretId: string;
    /**
     * Protect the secret and keep it when the stack deletes it (prod): losing it would put the planned image back.
     * @default false
     */
    readonly retain?: boolean;
  };
  /**
   * Name of the regional managed instance group, for pipelines that name it before it exists (GitHub
   * workflows: `instanceGroupManagerName`). Changing it replaces the group.
   * @default - generated from the component's name (Cloud Build reads the created group's name)
   */
  readonly instanceGroupManagerName?: string;
  /**
   * Labels on the template, its VMs and the service's secrets.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly instanceTemplate?: (args: gcp.compute.InstanceTemplateArgs) => void;
    readonly instanceGroupManager?: (args: gcp.compute.RegionInstanceGroupManagerArgs) => void;
    readonly autoscaler?: (args: gcp.compute.RegionAutoscalerArgs) => void;
  };
}

/**
 * One service (or BFF) on VMs: its {@link ServiceIdentity}, an instance template of Shielded
 * Container-Optimized OS VMs without external addresses, OS Login only (no project SSH keys), running
 * the service's container as described by {@link containerVmUserData}; a regional managed instance
 * group over the plan's zones with autohealing on an HTTP health check, rolling replacement when the
 * template changes, and a CPU autoscaler between the service's replica bounds. Its {@link backend}
 * is what the gateway's backend service targets; with `discovery`, an internal passthrough load
 * balancer registered in Service Directory lets other services call it by name.
 *
 * When the plan puts an edge proxy in front of the service (`gateway.auth` jwt or authorizer), an
 * Envoy container on the same VMs runs the gateway's check (`edgeProxyConfig`) and the group's `http`
 * named port and the gateway's health check point at it: the HTTPS load balancer validates no JWT
 * and calls no authorizer, and a proxy on each VM needs no fleet of its own, scales with the service
 * and reaches it on loopback, so no unchecked path leads from the load balancer to the service.
 *
 * With `plan.tracing`, an OpenTelemetry collector runs beside the container and writes its spans to Cloud Trace.
 *
 * Cost: the VMs bill per second; the group never runs fewer than `replicas.min`; Cloud Trace bills per span ingested beyond its free allotment.
 *
 * @example
 * const orders = new InstanceGroupService("orders", { plan, service: "orders", subnetworkId: network.subnetworkId, repository: { url, name } });
 */
export class InstanceGroupService extends pulumi.ComponentResource {
  readonly identity: ServiceIdentity;
  /** The instance group URL (of the regional managed group). */
  readonly instanceGroup: pulumi.Output<string>;
  readonly healthCheckId: pulumi.Output<string>;
  /** The gateway backend of this service. */
  readonly backend: GatewayBackend;
  /** `<service>.<domain>`, when registered. */
  readonly dnsName?: string;
  /** Address of the internal load balancer, when registered. */
  readonly internalAddress?: pulumi.Output<string>;
  /** Name of the regional managed instance group (what a pipeline replaces). */
  readonly instanceGroupManagerName: pulumi.Output<string>;
  /** With `release`: the release secret (`projects/<p>/secrets/<id>`) and the image released last. */
  readonly release?: Pick<ReleaseSecret, "secret" | "image">;
  readonly nodes: {
    /** With `release`: the VMs' account reading the release secret. */
    readonly releaseReader?: gcp.secretmanager.SecretIamMember;
    readonly healthCheck: gcp.compute.HealthCheck;
    /** The gateway's probe through the edge proxy, when there is one. */
    readonly edgeHealthCheck?: gcp.compute.HealthCheck;
    readonly instanceTemplate: gcp.compute.InstanceTemplate;
    readonly instanceGroupManager: gcp.compute.RegionInstanceGroupManager;
    readonly autoscaler: gcp.compute.RegionAutoscaler;
    readonly internalForwardingRule?: gcp.compute.ForwardingRule;
    readonly registration?: gcp.servicedirectory.Service;
  };

  constructor(name: string, args: InstanceGroupServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const service = findService(plan, args.service, `InstanceGroupService ${name}`);
    const attached = mergeAttachments(args.attachments ?? [], `${args.service} attachments`);
    if (!plan.vms) throw new Error(`InstanceGroupService ${name}: plan.vms is missing because tier is "${plan.tier}". Fix: set tier: iaas`);
    const proxied = plan.edgeProxy?.services.includes(service.name) ? plan.edgeProxy : undefined;
    if (proxied && !(proxied.check === "jwt" ? args.edgeProxy?.issuer : args.edgeProxy?.authService)) {
      throw new Error(`InstanceGroupService ${name} edgeProxy: plan.edgeProxy checks callers of ${service.name} (${proxied.check}), but args.edgeProxy.${proxied.check === "jwt" ? "issuer" : "authService"} is missing. Fix: pass it, as LandingZone does`);
    }
    super("msa:gcp:InstanceGroupService", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const labels = { ...args.labels, service: service.name };
    const zones = plan.network.availabilityZones;

    this.identity = new ServiceIdentity(
      `${name}-identity`,
      {
        plan,
        service: service.name,
        ...(args.secretValues ? { secretValues: args.secretValues } : {}),
        sharedSecrets: {
          ...(args.sessions ? { [SESSION_STORE_PASSWORD_ENV]: args.sessions.authSecretId } : {}),
          ...(args.logBuffer ? { [LOG_BUFFER_PASSWORD_ENV]: args.logBuffer.passwordSecretId } : {}),
          ...Object.fromEntries(Object.entries(attached.secrets).map(([key, s]) => [key, s.secretId])),
        },
        sqlUsers: attached.sqlUsers,
        ...(args.broker ? { pubsub: args.broker.grantsFor(service.name) } : {}),
        repository: { name: args.repository.name, location: plan.region },
        // The collector beside the service writes its spans to Cloud Trace as the VM's account.
        projectRoles: [...VM_AGENT_ROLES.map((role) => ({ role })), ...(plan.tracing ? [{ role: CLOUD_TRACE_ROLE }] : []), ...attached.projectRoles],
        ...(args.labels ? { labels: args.labels } : {}),
      },
      parent,
    );

    const repositoryUrl = pulumi.output(args.repository.url);
    const release = args.release
      ? createReleaseSecret(`${name}-release`, { serviceName: service.name, secretId: args.release.secretId, ...(args.release.retain ? { retain: true } : {}), initialImage: repositoryUrl.apply((url) => gcpImage(service, url)), ...(args.labels ? { labels: args.labels } : {}) }, this)
      : undefined;
    // The VMs read only their own release secret, at each boot.
    const releaseReader = release
      ? new gcp.secretmanager.SecretIamMember(`${name}-release-reader`, { secretId: release.secret, role: "roles/secretmanager.secretAccessor", member: this.identity.member }, parent)
      : undefined;

    const healthCheck = new gcp.compute.HealthCheck(
      `${name}-health`,
      { httpHealthCheck: { port: service.port, requestPath: service.healthPath }, checkIntervalSec: 10, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 3, logConfig: { enable: false } },
      parent,
    );

    const env = pulumi.all({
      ...service.config,
      SERVICE_NAME: service.name,
      PORT: String(service.port),
      [GOOGLE_CLOUD_PROJECT_ENV]: project.id,
      ...(args.sessions ? { [SESSION_STORE_ENDPOINT_ENV]: args.sessions.endpoint, [PLATFORM_ENV.sessionStoreTls]: "true" } : {}),
      ...(args.broker ? args.broker.environmentFor(service.name) : {}),
      ...(plan.tracing ? otelEnvironment(plan.tracing, service.name) : {}),
      ...attached.env,
      ...args.env,
    });
    const secretIds = pulumi.all(this.identity.secretIds);
    const logBuffer = args.logBuffer;
    const userData = pulumi
      .all([env, secretIds, repositoryUrl, args.sessions?.caCertificate ?? "", args.edgeProxy?.issuer, logBuffer?.host ?? "", release?.secret ?? ""])
      .apply(([resolvedEnv, { [LOG_BUFFER_PASSWORD_ENV]: bufferSecret, ...secrets }, url, ca, issuer, bufferHost, releaseSecret]) =>
        containerVmUserData({
          service: service.name,
          image: gcpImage(service, url),
          // A release is a digest of the image the pipeline pushes (`<repository url>/<repository>`).
          ...(releaseSecret ? { release: { secret: releaseSecret, repository: `${url}/${service.repository}` } } : {}),
          port: service.port,
          env: resolvedEnv,
          ...(args.sessions ? { files: { [PLATFORM_ENV.sessionStoreCaFile]: ca } } : {}),
          // The buffer's password goes to Filebeat's container only, never to the service's.
          secrets,
          registryHosts: [`${plan.region}-docker.pkg.dev`],
          ...(proxied
            ? { edgeProxy: edgeProxyHost(plan, service, service.name, { ...(issuer ? { issuer } : {}), ...(args.edgeProxy?.authService ? { authService: args.edgeProxy.authService } : {}) }) }
            : {}),
          ...(plan.tracing ? { collector: { image: hostCollectorImage(plan), config: hostCollectorConfig(plan) } } : {}),
          ...(logBuffer && bufferSecret
            ? {
                shipper: {
                  config: hostShipperConfig(plan, { tls: logBuffer.tls }),
                  env: { MSA_SERVICE: service.name, LOG_BUFFER_HOST: bufferHost, LOG_BUFFER_PORT: String(logBuffer.port) },
                  secrets: { [LOG_BUFFER_PASSWORD_ENV]: bufferSecret },
                },
              }
            : {}),
        }),
      );

    const templateArgs: gcp.compute.InstanceTemplateArgs = {
      description: `VMs of ${service.name}`,
      machineType: plan.vms.instanceType,
      disks: [{ boot: true, autoDelete: true, sourceImage: CONTAINER_VM_IMAGE, diskSizeGb: plan.vms.rootVolumeGiB, diskType: "pd-balanced" }],
      // No access config: the VMs have no external address and egress through Cloud NAT.
      networkInterfaces: [{ subnetwork: args.subnetworkId }],
      serviceAccount: { email: this.identity.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
      shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
      metadata: {
        "enable-oslogin": "TRUE",
        "block-project-ssh-keys": "TRUE",
        "google-logging-enabled": "true",
        "google-monitoring-enabled": "true",
        "user-data": userData,
      },
      tags: [LOAD_BALANCER_BACKEND_TAG, `${plan.name}-vm`],
      labels,
    };
    args.transform?.instanceTemplate?.(templateArgs);
    // The VMs read every secret at boot and stop on a missing one, so they wait for each secret's first version.
    const secretVersions = [
      ...this.identity.nodes.secretVersions,
      ...Object.values(attached.secrets).map((s) => s.version),
      ...(args.sessions ? [args.sessions.authSecretVersion] : []),
      ...(logBuffer ? [logBuffer.passwordSecretVersion] : []),
      ...(release ? [release.nodes.firstVersion] : []),
    ];
    // Templates are immutable: a change creates a new one, which the group then rolls out.
    const instanceTemplate = new gcp.compute.InstanceTemplate(`${name}-template`, templateArgs, {
      parent: this,
      dependsOn: [...this.identity.nodes.bindings, ...(releaseReader ? [releaseReader] : []), ...secretVersions],
    });

    const rollout = instanceGroupRollout(zones.length);
    const managerArgs: gcp.compute.RegionInstanceGroupManagerArgs = {
      ...(args.instanceGroupManagerName ? { name: args.instanceGroupManagerName } : {}),
      region: plan.region,
      baseInstanceName: `${plan.name}-${service.name}`.slice(0, 54).replace(/-+$/, ""),
      description: `VMs of ${service.name}`,
      distributionPolicyZones: [...zones],
      versions: [{ name: "primary", instanceTemplate: instanceTemplate.selfLinkUnique }],
      namedPorts: [{ name: "http", port: proxied ? proxied.port : service.port }],
      autoHealingPolicies: { healthCheck: healthCheck.id, initialDelaySec: AUTOHEALING_INITIAL_DELAY_SECONDS },
      // A new template replaces VMs zone by zone, surging one per zone and never dropping below the target (as a release does).
      updatePolicy: { type: "PROACTIVE", minimalAction: "REPLACE", maxSurgeFixed: rollout.maxSurge, maxUnavailableFixed: rollout.maxUnavailable, instanceRedistributionType: "PROACTIVE" },
      waitForInstances: false,
    };
    args.transform?.instanceGroupManager?.(managerArgs);
    const instanceGroupManager = new gcp.compute.RegionInstanceGroupManager(`${name}-group`, managerArgs, parent);

    const autoscalerArgs: gcp.compute.RegionAutoscalerArgs = {
      region: plan.region,
      target: instanceGroupManager.id,
      autoscalingPolicy: { minReplicas: service.replicas.min, maxReplicas: service.replicas.max, cooldownPeriod: 90, cpuUtilization: { target: VM_CPU_TARGET } },
    };
    args.transform?.autoscaler?.(autoscalerArgs);
    const autoscaler = new gcp.compute.RegionAutoscaler(`${name}-autoscaler`, autoscalerArgs, parent);

    let registered: { forwardingRule: gcp.compute.ForwardingRule; registration: gcp.servicedirectory.Service } | undefined;
    if (args.discovery) {
      const internal = new gcp.compute.RegionBackendService(
        `${name}-internal`,
        {
          region: plan.region,
          loadBalancingScheme: "INTERNAL",
          protocol: "TCP",
          healthChecks: healthCheck.id,
          backends: [{ group: instanceGroupManager.instanceGroup, balancingMode: "CONNECTION" }],
          connectionDrainingTimeoutSec: 30,
          description: `Internal entry of ${service.name}`,
        },
        parent,
      );
      const forwardingRule = new gcp.compute.ForwardingRule(
        `${name}-internal`,
        { region: plan.region, loadBalancingScheme: "INTERNAL", backendService: internal.id, ipProtocol: "TCP", ports: [String(service.port)], network: args.networkId, subnetwork: args.subnetworkId, allowGlobalAccess: false },
        parent,
      );
      const registration = new gcp.servicedirectory.Service(
        `${name}-registration`,
        { serviceId: service.name, namespace: args.discovery.namespaceId, metadata: { tier: "iaas", protocol: "http", port: String(service.port) } },
        parent,
      );
      new gcp.servicedirectory.Endpoint(
        `${name}-registration`,
        { endpointId: "internal-load-balancer", service: registration.id, address: forwardingRule.ipAddress, port: service.port, network: args.discovery.network },
        parent,
      );
      registered = { forwardingRule, registration };
      this.dnsName = `${service.name}.${args.discovery.domain}`;
      this.internalAddress = forwardingRule.ipAddress;
    }

    this.instanceGroup = instanceGroupManager.instanceGroup;
    this.instanceGroupManagerName = instanceGroupManager.name;
    if (release) this.release = { secret: release.secret, image: release.image };
    this.healthCheckId = healthCheck.id;
    // Through the proxy, the gateway's probe also fails when the proxy is down (the health path passes unchecked).
    const edgeHealthCheck = proxied
      ? new gcp.compute.HealthCheck(
          `${name}-edge-health`,
          { httpHealthCheck: { port: proxied.port, requestPath: service.healthPath }, checkIntervalSec: 10, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 3, logConfig: { enable: false } },
          parent,
        )
      : undefined;
    this.backend = { kind: "instanceGroup", instanceGroup: this.instanceGroup, healthCheck: edgeHealthCheck?.id ?? this.healthCheckId, dependsOn: [instanceGroupManager] };
    this.nodes = { ...(releaseReader ? { releaseReader } : {}), healthCheck, ...(edgeHealthCheck ? { edgeHealthCheck } : {}), instanceTemplate, instanceGroupManager, autoscaler, ...(registered ? { internalForwardingRule: registered.forwardingRule, registration: registered.registration } : {}) };
    this.registerOutputs({ instanceGroup: this.instanceGroup, email: this.identity.email });
  }
}
