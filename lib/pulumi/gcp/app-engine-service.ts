import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { appEngineVersionId, appEngineVersionSettings, type AppEngineVersionSettings } from "../../plan/app-engine-version.js";
import { endpointsOpenApi, endpointsServiceName, ESP_PROJECT_ROLES, ESP_SERVICE_ROLE, type EndpointsIssuer } from "../../plan/endpoints-proxy.js";
import { appEngineServiceName, gcpImage } from "../../plan/gcp.js";
import { otelEnvironment } from "../../plan/tracing.js";
import { stringify } from "yaml";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import { PLATFORM_ENV } from "../../kubernetes/workload.js";
import { SESSION_STORE_ENDPOINT_ENV, SESSION_STORE_PASSWORD_ENV } from "../kubernetes/landing-zone.js";
import type { GatewayBackend } from "./api-gateway.js";
import { projectOf, serviceAgent } from "./project.js";
import { createReleaseSecret, type ReleaseSecret } from "./service-delivery.js";
import { findService, ServiceIdentity, mergeAttachments, type ServiceAttachment } from "./service-identity.js";
import type { RegistryLink } from "./service-registry.js";
import { GOOGLE_CLOUD_PROJECT_ENV, type BrokerLink, type SessionStoreLink } from "./service-workload.js";

/**
 * PEM of the CA that signed the session store's certificate, on App Engine in place of
 * `SESSION_STORE_CA_FILE`: a flexible version takes only environment variables, with no way to add a
 * file to the container, so the service writes it to a file or loads the PEM itself.
 */
export const SESSION_STORE_TLS_CA_ENV = "SESSION_STORE_TLS_CA";
/** Suffix of the variables naming a secret's Secret Manager version (`<KEY>_SECRET`): App Engine env values are visible in the version's config, so secrets go by reference. */
export const SECRET_REFERENCE_SUFFIX = "_SECRET";
/** The App Engine flexible service agent, which pulls the services' images at deployment. */
export const APP_ENGINE_FLEX_AGENT_DOMAIN = "gae-api-prod.google.com.iam.gserviceaccount.com";
export { APP_ENGINE_CPU_TARGET } from "../../plan/app-engine-version.js";

/** Arguments of {@link AppEngineService}. */
export interface AppEngineServiceArgs {
  /** The landing-zone plan (`tier: paas`). */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`; the plan's first service becomes App Engine's `default`. */
  readonly service: string;
  /** VPC network and subnet names the instances join (private addresses only), to reach Memorystore and other private endpoints. */
  readonly network: { readonly name: pulumi.Input<string>; readonly subnetwork: pulumi.Input<string> };
  /** The service's Artifact Registry repository: its URL prefixes the plan's image, its name scopes the pull grant. */
  readonly repository: { readonly url: pulumi.Input<string>; readonly name: pulumi.Input<string> };
  /**
   * The session store; the service gets its endpoint, `SESSION_STORE_TLS=true`, its CA as PEM text in
   * `SESSION_STORE_TLS_CA` (App Engine cannot mount the file `SESSION_STORE_CA_FILE` names elsewhere),
   * and a reference to its AUTH string.
   * @default - no session store
   */
  readonly sessions?: SessionStoreLink;
  /**
   * The event bus; the service's account gets exactly its grants, the service its topic and subscription names.
   * @default - no messaging
   */
  readonly broker?: BrokerLink;
  /**
   * Register the service and its URL (`https://<service>-dot-<app hostname>`) in the registry; App Engine has no VPC address, so callers look it up by name in Service Directory.
   * @default - not registered
   */
  readonly discovery?: { readonly registry: RegistryLink; readonly defaultHostname: pulumi.Input<string> };
  /**
   * Validate callers' JWTs in front of the app with Google's Extensible Service Proxy, which App Engine
   * flexible runs beside it (the plan's `endpointsProxy`, for an exposed service): a Cloud Endpoints
   * service per service with the OpenAPI document of `endpointsOpenApi` (every path checked but the
   * service's public paths), enabled in the project and named by the version (managed rollout, so a
   * new document reaches running instances). The runtime account gets Service Control on that service
   * only and Cloud Trace. Instances reach Service Control and the JWKS through the VPC's Cloud NAT; the
   * project needs the Service Management, Service Control and Endpoints APIs on.
   * @default - no token check in front of the app
   */
  readonly endpoints?: { readonly issuer: pulumi.Input<EndpointsIssuer> };
  /**
   * Values of the service's declared `secrets`, by key.
   * @default - a generated 32-character value per secret
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Extra non-secret environment variables.
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * What the service owns or uses beyond sessions and messaging (its database, event store, read model): environment, conditioned roles, secrets.
   * @default - none
   */
  readonly attachments?: readonly ServiceAttachment[];
  /**
   * Release the service through a pipeline (`ServiceDelivery` with `deploy.kind` "app-engine"): a Secret
   * Manager secret `secretId` is created here with the plan's image, and the version runs its latest
   * version, so `pulumi up` keeps (and names the same as) the version the pipeline released.
   * @default - no pipeline: the version runs the plan's image
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
   * Labels on the service's secrets.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches the version's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly version?: (args: gcp.appengine.FlexibleAppVersionArgs) => void; readonly endpointsService?: (args: gcp.endpoints.ServiceArgs) => void };
}

/**
 * One service (or BFF) on App Engine flexible, the App Engine environment that runs any container:
 * its {@link ServiceIdentity} as the runtime account, a version running the service's image on the
 * VPC without external addresses, health-checked on the plan's path and autoscaled between its
 * replica bounds, reachable only from inside and through the load balancer (ingress settings), and a
 * serverless NEG for the gateway. Secrets reach the service as Secret Manager references
 * (`<KEY>_SECRET`), which it reads with its account at start, never as values in the version.
 *
 * Cost: App Engine flexible bills per instance-hour and keeps at least `replicas.min` instances up.
 *
 * @example
 * new AppEngineService("orders", { plan, service: "orders", network: { name, subnetwork }, repository: { url, name } });
 */
export class AppEngineService extends pulumi.ComponentResource {
  readonly identity: ServiceIdentity;
  /** App Engine service name (`default` for the plan's first service). */
  readonly appEngineService: string;
  /** The gateway backend of this service. */
  readonly backend: GatewayBackend;
  /** `https://...appspot.com` URL of the service, when the application's hostname is known (`discovery`). */
  readonly url?: pulumi.Output<string>;
  /** What every version of the service runs with but its image: Pulumi's and the pipeline's alike. */
  readonly versionSettings: pulumi.Output<AppEngineVersionSettings>;
  /** With `release`: the release secret (`projects/<p>/secrets/<id>`) and the image released last. */
  readonly release?: Pick<ReleaseSecret, "secret" | "image">;
  readonly nodes: {
    readonly version: gcp.appengine.FlexibleAppVersion;
    readonly ingress: gcp.appengine.ServiceNetworkSettings;
    readonly networkEndpointGroup: gcp.compute.RegionNetworkEndpointGroup;
    /** The Endpoints service ESP checks tokens for, with `endpoints`. */
    readonly endpointsService?: gcp.endpoints.Service;
  };

  constructor(name: string, args: AppEngineServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const service = findService(plan, args.service, `AppEngineService ${name}`);
    const attached = mergeAttachments(args.attachments ?? [], `${args.service} attachments`);
    if (!plan.paas) throw new Error(`AppEngineService ${name}: plan.paas is missing because tier is "${plan.tier}". Fix: set tier: paas`);
    if (args.endpoints && !plan.endpointsProxy?.services.includes(service.name)) {
      throw new Error(`AppEngineService ${name} args.endpoints: the plan puts no Endpoints proxy in front of "${service.name}" (it is planned for exposed services with gateway.auth: jwt). Fix: drop args.endpoints, or expose the service and set gateway.auth: jwt`);
    }
    super("msa:gcp:AppEngineService", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const appEngineService = appEngineServiceName(plan, service.name);

    this.identity = new ServiceIdentity(
      `${name}-identity`,
      {
        plan,
        service: service.name,
        ...(args.secretValues ? { secretValues: args.secretValues } : {}),
        sharedSecrets: { ...(args.sessions ? { [SESSION_STORE_PASSWORD_ENV]: args.sessions.authSecretId } : {}), ...Object.fromEntries(Object.entries(attached.secrets).map(([key, s]) => [key, s.secretId])) },
        sqlUsers: attached.sqlUsers,
        ...(args.broker ? { pubsub: args.broker.grantsFor(service.name) } : {}),
        // App Engine flexible runs on VMs whose agents write logs and metrics with the runtime account.
        projectRoles: [
          { role: "roles/logging.logWriter" },
          { role: "roles/monitoring.metricWriter" },
          ...(args.endpoints ? ESP_PROJECT_ROLES.map((role) => ({ role })) : []),
          ...attached.projectRoles,
        ],
        ...(args.labels ? { labels: args.labels } : {}),
      },
      parent,
    );
    const imagePull = new gcp.artifactregistry.RepositoryIamMember(
      `${name}-image-pull`,
      { repository: args.repository.name, location: plan.region, role: "roles/artifactregistry.reader", member: serviceAgent(project, APP_ENGINE_FLEX_AGENT_DOMAIN) },
      parent,
    );

    const env = pulumi.all({
      ...service.config,
      SERVICE_NAME: service.name,
      PORT: String(service.port),
      [GOOGLE_CLOUD_PROJECT_ENV]: project.id,
      ...(args.sessions ? { [SESSION_STORE_ENDPOINT_ENV]: args.sessions.endpoint, [PLATFORM_ENV.sessionStoreTls]: "true", [SESSION_STORE_TLS_CA_ENV]: args.sessions.caCertificate } : {}),
      ...(args.broker ? args.broker.environmentFor(service.name) : {}),
      // App Engine runs no collector beside the app: the plan's endpoint is the central one (TraceCollector).
      ...(plan.tracing ? otelEnvironment(plan.tracing, service.name) : {}),
      ...attached.env,
      ...args.env,
      ...Object.fromEntries(Object.entries(this.identity.secretIds).map(([key, id]) => [`${key}${SECRET_REFERENCE_SUFFIX}`, pulumi.interpolate`${id}/versions/latest`])),
    });
    const planned = pulumi.output(args.repository.url).apply((url) => gcpImage(service, url));
    const release = args.release ? createReleaseSecret(`${name}-release`, { serviceName: service.name, secretId: args.release.secretId, ...(args.release.retain ? { retain: true } : {}), initialImage: planned, ...(args.labels ? { labels: args.labels } : {}) }, this) : undefined;
    const image = release ? release.image : planned;
    const proxy = args.endpoints ? this.endpointsProxy(name, plan, service, project.id, args.endpoints.issuer, args.transform?.endpointsService) : undefined;
    const settings = pulumi
      .all([this.identity.email, env, args.network.name, args.network.subnetwork, proxy?.service.serviceName])
      .apply(([serviceAccount, envVariables, network, subnetwork, endpointsService]) =>
        appEngineVersionSettings(plan, service.name, { serviceAccount, envVariables, network: { name: network, subnetwork }, ...(endpointsService ? { endpointsService } : {}) }),
      );
    // A new image or configuration deploys a new version; the pipeline names its versions by the same rule.
    const versionId = pulumi.all([image, settings]).apply(([i, s]) => appEngineVersionId(i, s));

    const versionArgs: gcp.appengine.FlexibleAppVersionArgs = {
      service: appEngineService,
      versionId,
      runtime: "custom",
      deployment: { container: { image } },
      serviceAccount: settings.serviceAccount,
      envVariables: settings.envVariables,
      livenessCheck: settings.apply((s) => ({ path: s.healthPath, checkInterval: `${s.liveness.checkIntervalSeconds}s`, failureThreshold: s.liveness.failureThreshold, initialDelay: `${s.liveness.initialDelaySeconds}s` })),
      readinessCheck: settings.apply((s) => ({ path: s.healthPath, checkInterval: `${s.readiness.checkIntervalSeconds}s`, failureThreshold: s.readiness.failureThreshold, appStartTimeout: `${s.readiness.appStartTimeoutSeconds}s` })),
      automaticScaling: settings.apply((s) => ({
        minTotalInstances: s.scaling.minInstances,
        maxTotalInstances: s.scaling.maxInstances,
        coolDownPeriod: `${s.scaling.coolDownSeconds}s`,
        cpuUtilization: { targetUtilization: s.scaling.cpuTarget },
      })),
      resources: settings.resources,
      network: settings.network.apply((n) => ({ name: n.name, subnetwork: n.subnetwork, instanceIpMode: "INTERNAL" })),
      ...(proxy ? { endpointsApiService: { name: proxy.service.serviceName, rolloutStrategy: "MANAGED" } } : {}),
      // Older versions are stopped by the new one taking all traffic, not deleted, so a rollback stays one command.
      noopOnDestroy: true,
      deleteServiceOnDestroy: false,
    };
    args.transform?.version?.(versionArgs);
    // The service reads its secrets by reference at start, so the version waits for each secret's first version.
    const secretVersions = [...this.identity.nodes.secretVersions, ...Object.values(attached.secrets).map((s) => s.version), ...(args.sessions ? [args.sessions.authSecretVersion] : [])];
    const version = new gcp.appengine.FlexibleAppVersion(`${name}-version`, versionArgs, {
      parent: this,
      dependsOn: [imagePull, ...this.identity.nodes.bindings, ...secretVersions, ...(proxy?.ready ?? [])],
    });

    const ingress = new gcp.appengine.ServiceNetworkSettings(
      `${name}-ingress`,
      { service: appEngineService, networkSettings: { ingressTrafficAllowed: "INGRESS_TRAFFIC_ALLOWED_INTERNAL_AND_LB" } },
      { parent: this, dependsOn: [version] },
    );
    const networkEndpointGroup = new gcp.compute.RegionNetworkEndpointGroup(
      `${name}-neg`,
      { region: plan.region, networkEndpointType: "SERVERLESS", appEngine: { service: appEngineService } },
      { parent: this, dependsOn: [version] },
    );

    if (args.discovery) {
      const url = pulumi.interpolate`https://${appEngineService === "default" ? "" : `${appEngineService}-dot-`}${args.discovery.defaultHostname}`;
      new gcp.servicedirectory.Service(
        `${name}-registration`,
        { serviceId: service.name, namespace: args.discovery.registry.namespaceId, metadata: { tier: "paas", protocol: "https", url } },
        { parent: this, dependsOn: [version] },
      );
      this.url = url;
    }

    this.appEngineService = appEngineService;
    this.versionSettings = settings;
    if (release) this.release = { secret: release.secret, image: release.image };
    this.backend = { kind: "serverless", networkEndpointGroup: networkEndpointGroup.id, dependsOn: [ingress] };
    this.nodes = { version, ingress, networkEndpointGroup, ...(proxy ? { endpointsService: proxy.service } : {}) };
    this.registerOutputs({ email: this.identity.email });
  }

  /** The Endpoints service of the service's ESP, enabled in the project, and the runtime account's Service Control grant on it. */
  private endpointsProxy(
    name: string,
    plan: LandingZonePlan,
    service: ServicePlan,
    projectId: pulumi.Output<string>,
    issuer: pulumi.Input<EndpointsIssuer>,
    transform: ((args: gcp.endpoints.ServiceArgs) => void) | undefined,
  ): { readonly service: gcp.endpoints.Service; readonly ready: readonly pulumi.Resource[] } {
    const serviceName = projectId.apply((id) => endpointsServiceName(plan, service.name, id));
    const serviceArgs: gcp.endpoints.ServiceArgs = {
      serviceName,
      openapiConfig: pulumi.all([serviceName, issuer]).apply(([host, i]) => stringify(endpointsOpenApi(plan, service, i, host), { lineWidth: 0 })),
    };
    transform?.(serviceArgs);
    const endpointsService = new gcp.endpoints.Service(`${name}-endpoints`, serviceArgs, { parent: this });
    // A managed service is a project API: ESP's Service Control calls fail until the project has it enabled.
    const enabled = new gcp.projects.Service(`${name}-endpoints-enabled`, { service: endpointsService.serviceName, disableOnDestroy: false }, { parent: this });
    const controller = new gcp.endpoints.ServiceIamMember(`${name}-endpoints-controller`, { serviceName: endpointsService.serviceName, role: ESP_SERVICE_ROLE, member: this.identity.member }, { parent: this });
    return { service: endpointsService, ready: [enabled, controller] };
  }
}
