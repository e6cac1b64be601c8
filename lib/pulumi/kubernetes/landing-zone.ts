import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { databaseCredentialsSecretName, dataNamespace, dataNamespaceManifests } from "../../kubernetes/database.js";
import {
  clusterDatabaseAddOns,
  clusterDatabaseEnv,
  clusterDatabaseSecretEnv,
  clusterDatabaseServices,
  clusterDatabaseUser,
  clusterDataCaConfigMap,
  clusterDataTrustAddOn,
} from "../../kubernetes/service-databases.js";
import { clusterCertManagerAddOn } from "../../kubernetes/cert-manager.js";
import { CERT_MANAGER_ADD_ON, CERT_MANAGER_RELEASE } from "../../kubernetes/key-value.js";
import { frontendImage, frontendNamespace, frontendNamespaceManifests, frontendRouteConflicts } from "../../kubernetes/frontends.js";
import { frontendsByGitOps, gitOpsAddOn } from "../../kubernetes/gitops.js";
import { KAFKA_CLIENT_ENV, kafkaClientEnv, kafkaClientTls } from "../../kubernetes/kafka.js";
import { meshAddOn } from "../../kubernetes/mesh.js";
import { monitoringAddOn } from "../../kubernetes/monitoring.js";
import { gatewayAuthPolicies } from "../../kubernetes/gateway-auth.js";
import { ingressNamespace, namespaceManifests, workloadNamespace } from "../../kubernetes/namespace.js";
import { clusterSessionCaSecret, clusterSessionStoreEnv } from "../../kubernetes/session-store.js";
import { sagaStarterEnv, sagaWorkflowsAddOn, startsSagas } from "../../kubernetes/saga-workflows.js";
import { tracingAddOn } from "../../kubernetes/tracing.js";
import type { HelmReleaseSpec, ManifestObject } from "../../kubernetes/types.js";
import { PLATFORM_ENV } from "../../kubernetes/workload.js";
import { DATA_ENV } from "../../plan/data.js";
import { planLandingZone } from "../../plan/planner.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import type { LandingZoneInput } from "../../spec/schema.js";
import type { LandingZoneSpec } from "../../spec/types.js";
import { applyAddOn, applyManifests } from "./add-on.js";
import type { InClusterRedisTransform } from "./in-cluster-redis.js";
import { FrontendApp, type FrontendAppTransform } from "./frontend-app.js";
import { defaultIngressClass, Ingress, type IngressArgs, type IngressTransform } from "./ingress.js";
import { LogPipeline, type LogPipelineTransform } from "./log-pipeline.js";
import { MessageBroker } from "./message-broker.js";
import { ServiceWorkload, type ServiceWorkloadTransform } from "./service-workload.js";
import { SessionStore } from "./session-store.js";

/** Environment variables the landing zone adds to every service beside its own configuration. */
export const SESSION_STORE_ENDPOINT_ENV = PLATFORM_ENV.sessionStoreEndpoint;
export const SESSION_STORE_PASSWORD_ENV = PLATFORM_ENV.sessionStorePassword;
export const KAFKA_BOOTSTRAP_SERVERS_ENV = KAFKA_CLIENT_ENV.bootstrapServers;
/** The image-pull Secret created in the workloads namespace when `registry` credentials are given. */
export const REGISTRY_SECRET_NAME = "registry-credentials";

/** The private registry the services' images come from. */
export interface RegistryArgs {
  /** Registry host (and optional path), e.g. `registry.example.com/shop`; prefixes every image the spec does not set. */
  readonly server: string;
  /**
   * Pull credentials; with both set, the pods pull through a `kubernetes.io/dockerconfigjson` Secret.
   * @default - anonymous pulls or the nodes' own credentials
   */
  readonly username?: pulumi.Input<string>;
  /**
   * Password or token of `username`.
   * @default - anonymous pulls or the nodes' own credentials
   */
  readonly password?: pulumi.Input<string>;
}

/** Arguments of {@link LandingZone}. */
export interface LandingZoneArgs {
  /** The landing-zone spec (`cloud: kubernetes`, `tier: caas`), as written or already normalized. */
  readonly spec: LandingZoneInput | LandingZoneSpec;
  /**
   * Provider of the existing cluster.
   * @default - a provider from the stack configuration `kubernetes:kubeconfig` and `kubernetes:context` (the ambient kubeconfig when unset)
   */
  readonly provider?: k8s.Provider;
  /**
   * Host, TLS certificate, IngressClass and Service type of the ingress controller.
   * @default - every host, no TLS certificate, class `<name>-nginx`, a LoadBalancer Service
   */
  readonly ingress?: Pick<IngressArgs, "host" | "tlsSecretName" | "className" | "serviceType">;
  /**
   * Where the services' images come from.
   * @default - images exactly as planned (`<zone>-<service>:latest` unless the spec sets one)
   */
  readonly registry?: RegistryArgs;
  /**
   * Bundle images of the micro-frontends by app name, e.g. the tag an app's pipeline just pushed; each app rolls on its own.
   * Refused with `pipelines.perService`: Argo CD then deploys the digest each app's workflow commits.
   * @default - `<zone>-<app>-ui:latest` (behind `registry.server` when given)
   */
  readonly frontendImages?: Readonly<Record<string, string>>;
  /**
   * Values of the services' declared secrets, by service then key; missing ones are generated.
   * @default - every secret generated
   */
  readonly secretValues?: Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
  /**
   * Patches applied to the children's args before they are created.
   * @default - none
   */
  readonly transform?: LandingZoneTransform;
}

export interface LandingZoneTransform {
  readonly ingress?: IngressTransform;
  readonly sessions?: InClusterRedisTransform;
  readonly logging?: LogPipelineTransform;
  readonly broker?: { readonly release?: (args: k8s.helm.v3.ReleaseArgs) => void };
  /** Helm releases of the mesh, tracing and monitoring add-ons. */
  readonly addOnRelease?: (args: k8s.helm.v3.ReleaseArgs, release: HelmReleaseSpec) => void;
  /** Called for every service with its name. */
  readonly service?: (name: string) => ServiceWorkloadTransform | undefined;
  /** Called for every micro-frontend app with its name. */
  readonly frontend?: (app: string) => FrontendAppTransform | undefined;
}

/**
 * A whole landing zone on an existing Kubernetes cluster (private cloud, bare metal), from one spec:
 * the workloads namespace with default-deny NetworkPolicies, the ingress-nginx gateway routing
 * `plan.gateway.routes` (with JWT checks or the auth service enforced by Istio when `gateway.auth` asks), the TLS-only Redis session store
 * (its certificate from cert-manager, its CA mounted in every service), the ELK log pipeline with its Redis buffer,
 * Kafka (Strimzi) with a topic per event, Istio with per-service circuit breakers, the OpenTelemetry
 * collector and tracing backend, Prometheus and Grafana, a CloudNativePG cluster per postgres
 * database, a MariaDB (mariadb-operator) per mysql database, a TLS-only Redis per key-value
 * store and a TLS-only FerretDB on its own CloudNativePG DocumentDB cluster per document store
 * (each reachable only by its owner, which verifies the server against its store's CA that
 * trust-manager copies next to it; cert-manager and trust-manager are the cluster's own when the spec
 * sets `kubernetes.*.install: false`), event stores and choreographed sagas on Kafka, orchestrated
 * sagas as Argo Workflows templates calling the services through the mesh, every service and BFF, and with `pipelines.perService` Argo CD syncing each service's Deployment from its
 * own repository, and the micro-frontends (the shell at `/`, each fragment at `/<fragment>/`, on
 * the gateway's host beside the shell BFF's routes). The plan decides everything; a spec asking
 * for what this engine does not build is rejected before
 * any resource is registered.
 *
 * @example
 * const zone = new LandingZone("shop", { spec: loadSpecFile("landing-zone.yaml") });
 * export const sessions = zone.sessionEndpoint;
 */
export class LandingZone extends pulumi.ComponentResource {
  readonly plan: LandingZonePlan;
  readonly provider: k8s.Provider;
  readonly ingress: Ingress;
  readonly sessions?: SessionStore;
  readonly logging?: LogPipeline;
  readonly broker?: MessageBroker;
  /** Every service and BFF, by name. */
  readonly services: Readonly<Record<string, ServiceWorkload>>;
  /** The shell and every fragment, by name; empty without frontends. */
  readonly frontends: Readonly<Record<string, FrontendApp>>;
  /** The workloads namespace. */
  readonly namespace: pulumi.Output<string>;
  readonly ingressHost: pulumi.Output<string | undefined>;
  readonly ingressClass: pulumi.Output<string>;
  /** `<service>.<namespace>.svc.cluster.local:6379`, or undefined without sessions. */
  readonly sessionEndpoint: pulumi.Output<string | undefined>;
  /** Kibana's Service, or undefined without logging. */
  readonly kibanaService: pulumi.Output<string | undefined>;
  /** Kafka's TLS bootstrap address, or undefined without a broker. */
  readonly kafkaBootstrapServers: pulumi.Output<string | undefined>;
  /** Argo Workflows, the saga runner's RBAC, the sagas' WorkflowTemplates and the initiators' RBAC; empty without an orchestrated saga. */
  readonly sagaWorkflows: readonly pulumi.Resource[];

  constructor(name: string, args: LandingZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    // Planning and checks throw before anything is registered.
    const plan = planLandingZone(args.spec, { engine: "pulumi" });
    if (plan.cloud !== "kubernetes") {
      throw new Error(`LandingZone args.spec.cloud: "${plan.cloud}" is not an existing Kubernetes cluster. Fix: set cloud: kubernetes, or use the ${plan.cloud} LandingZone`);
    }
    checkArgs(plan, args);
    super("msa:kubernetes:LandingZone", name, {}, opts);
    this.plan = plan;
    const parent = { parent: this };
    const config = new pulumi.Config("kubernetes");
    this.provider = args.provider ?? new k8s.Provider(`${name}-cluster`, { kubeconfig: config.get("kubeconfig"), context: config.get("context") }, parent);
    const provider = this.provider;
    const transform = args.transform ?? {};
    const addOn = (suffix: string, definition: Parameters<typeof applyAddOn>[1], dependsOn: pulumi.Resource[] = []) =>
      applyAddOn(`${name}-${suffix}`, definition, { provider, parent: this, dependsOn, ...(transform.addOnRelease ? { transformRelease: transform.addOnRelease } : {}) });

    const namespace = applyManifests(`${name}-namespace`, namespaceManifests(plan), { provider, parent: this });
    const mesh = meshAddOn(plan);
    // Pods started before istiod would run without sidecars, and the policies need Istio's CRDs.
    const meshResources = mesh ? addOn("mesh", mesh) : [];
    const tracing = tracingAddOn(plan);
    if (tracing) addOn("tracing", tracing, meshResources);
    if (plan.decisions.some((d) => d.capability === "monitoring")) addOn("monitoring", monitoringAddOn(plan));

    const inNamespace = { parent: this, dependsOn: [namespace, ...meshResources] };
    // Tokens and the auth service are checked by the services' sidecars for calls through the ingress.
    const authPolicies = gatewayAuthPolicies(plan, { kind: "in-cluster", namespace: ingressNamespace(plan) });
    if (authPolicies.length > 0) applyManifests(`${name}-gateway-auth`, authPolicies, { provider, ...inNamespace });
    this.ingress = new Ingress(`${name}-ingress`, { plan, provider, ...args.ingress, ...(transform.ingress ? { transform: transform.ingress } : {}) }, inNamespace);
    if (plan.logging) {
      this.logging = new LogPipeline(`${name}-logging`, { plan, provider, ...(transform.logging ? { transform: transform.logging } : {}) }, parent);
    }
    if (plan.broker) {
      // The KafkaUsers, their Secrets and the operator's RoleBindings go to the workloads namespace.
      this.broker = new MessageBroker(`${name}-broker`, { plan, provider, ...(transform.broker ? { transform: transform.broker } : {}) }, { parent: this, dependsOn: [namespace] });
    }

    // One cert-manager release, before everything whose certificates it issues (data stores, trust-manager's webhook, the session store).
    const certManagerAddOn = clusterCertManagerAddOn(plan);
    const certManager = certManagerAddOn
      ? applyAddOn(`${name}-${certManagerAddOn.name}`, certManagerAddOn, {
          provider,
          parent: this,
          // The release used to come with the key-value or the document add-on: it keeps that identity.
          releaseAliases: { [CERT_MANAGER_RELEASE.name]: [`${name}-key-value-${CERT_MANAGER_RELEASE.name}`, `${name}-document-${CERT_MANAGER_RELEASE.name}`] },
          ...(transform.addOnRelease ? { transformRelease: transform.addOnRelease } : {}),
        })
      : [];
    const databases = this.databases(name, provider, certManager);
    if (plan.sessions) {
      this.sessions = new SessionStore(
        `${name}-sessions`,
        { plan, provider, ...(transform.sessions ? { transform: transform.sessions } : {}) },
        { ...inNamespace, dependsOn: [...inNamespace.dependsOn, ...certManager] },
      );
    }
    const sessionCaSecret = this.sessions ? clusterSessionCaSecret(plan) : undefined;
    // With pipelines, Argo CD rolls each service's Deployment from its repository; the rest stays here.
    const gitOps = gitOpsAddOn(plan);
    // Argo CD syncs the services' Deployments: pods started before istiod's injector would run without sidecars.
    if (gitOps) addOn("gitops", gitOps, [namespace, ...meshResources]);
    // Orchestrated sagas: Argo Workflows in the workloads namespace, inside the mesh its HTTP steps call the services through.
    const sagaWorkflows = sagaWorkflowsAddOn(plan);
    this.sagaWorkflows = sagaWorkflows ? addOn("saga-workflows", sagaWorkflows, [namespace, ...meshResources]) : [];

    const pullSecret = args.registry?.username !== undefined && args.registry.password !== undefined ? registrySecret(name, plan, args.registry, provider, this, namespace) : undefined;
    const services: Record<string, ServiceWorkload> = {};
    for (const service of plan.services) {
      const serviceTransform = transform.service?.(service.name);
      const secretValues = args.secretValues?.[service.name];
      const dataCaConfigMap = clusterDataCaConfigMap(plan, service);
      const kafkaTls = kafkaClientTls(plan, service);
      const image = args.registry && !imageSetInSpec(plan, service) ? `${args.registry.server.replace(/\/+$/, "")}/${service.image}` : undefined;
      services[service.name] = new ServiceWorkload(
        `${name}-${service.name}`,
        {
          plan,
          service: service.name,
          provider,
          env: {
            ...(this.sessions ? clusterSessionStoreEnv(plan) : {}),
            ...kafkaClientEnv(plan, service),
            ...(service.eventStore ? { [DATA_ENV.eventStore]: service.eventStore.name } : {}),
            ...(databases.secretEnv[service.name] ? clusterDatabaseEnv(plan, { ...service, database: service.database! }) : {}),
            ...sagaStarterEnv(plan, service.name),
          },
          ...(startsSagas(plan, service.name) ? { kubernetesApiToken: true } : {}),
          ...(this.sessions || databases.secretEnv[service.name]
            ? {
                extraSecrets: {
                  ...(this.sessions ? { [SESSION_STORE_PASSWORD_ENV]: this.sessions.password } : {}),
                  ...databases.secretEnv[service.name],
                },
              }
            : {}),
          ...(secretValues ? { secretValues } : {}),
          // The owner verifies its data store's server certificate against the CA trust-manager copies next to it.
          ...(dataCaConfigMap ? { dataCaConfigMap } : {}),
          // Every service verifies the session store's TLS certificate against its CA.
          ...(sessionCaSecret ? { sessionCaSecret } : {}),
          // A Kafka client authenticates with its KafkaUser's certificate and verifies the brokers against the cluster CA.
          ...(kafkaTls ? { kafkaTls } : {}),
          ...(image ? { image } : {}),
          ...(pullSecret ? { imagePullSecretName: pullSecret.metadata.name } : {}),
          ...(serviceTransform ? { transform: serviceTransform } : {}),
          ...(gitOps ? { gitOps: true } : {}),
        },
        // The pods mount the session store's CA Secret, which exists once the store's certificate is issued, and a Kafka client its KafkaUser's and the cluster CA's.
        {
          parent: this,
          dependsOn: [namespace, ...meshResources, ...(pullSecret ? [pullSecret] : []), ...databases.resources, ...(this.sessions ? [this.sessions] : []), ...(kafkaTls && this.broker ? this.broker.resources : [])],
        },
      );
    }
    this.services = services;
    this.frontends = this.frontendApps(name, args, provider);

    this.namespace = pulumi.output(workloadNamespace(plan));
    this.ingressHost = this.ingress.host;
    this.ingressClass = this.ingress.className;
    this.sessionEndpoint = this.sessions ? this.sessions.endpoint.apply((e): string | undefined => e) : pulumi.output(undefined);
    this.kibanaService = this.logging ? this.logging.kibanaService.apply((s): string | undefined => s) : pulumi.output(undefined);
    this.kafkaBootstrapServers = this.broker ? this.broker.bootstrapServers.apply((s): string | undefined => s) : pulumi.output(undefined);
    this.registerOutputs(this.outputs);
  }

  /**
   * Each service's own database in the data namespace (CloudNativePG for postgres, the
   * mariadb-operator for mysql, a TLS-only Redis with cert-manager's certificate for key-value,
   * FerretDB on a CloudNativePG DocumentDB cluster for document):
   * a generated password in a basic-auth Secret there (the owner's only copy is its own Secret),
   * then per engine the operator, the databases and their owner-only NetworkPolicies, and last
   * trust-manager with a Bundle per owner handing it its store's CA certificate. The add-ons naming
   * cert-manager wait for `certManager` (empty where the spec reuses the cluster's own); trust-manager
   * is left out where the spec reuses the cluster's own (`kubernetes.trustManager.install: false`).
   */
  private databases(
    name: string,
    provider: k8s.Provider,
    certManager: pulumi.Resource[],
  ): { secretEnv: Record<string, Record<string, pulumi.Output<string>>>; resources: pulumi.Resource[] } {
    const { plan } = this;
    const addOns = clusterDatabaseAddOns(plan);
    if (addOns.length === 0) return { secretEnv: {}, resources: [] };
    // Deleting the namespace, a Secret or a database resource would delete the data: kept and protected in prod.
    const kept = plan.protection.retain ? { protect: true, retainOnDelete: true } : {};
    const objects = (list: readonly ManifestObject[]) => ({ objs: list.map((m) => ({ ...m })) });
    const namespace = new k8s.yaml.v2.ConfigGroup(`${name}-data-namespace`, objects(dataNamespaceManifests(plan)), { parent: this, provider, ...kept });
    const secretEnv: Record<string, Record<string, pulumi.Output<string>>> = {};
    const secrets = clusterDatabaseServices(plan).map((service) => {
      const password = new random.RandomPassword(`${name}-${service.name}-db-password`, { length: 32, special: false }, { parent: this, ...kept });
      // The owner's password (and a document store's URI carrying it), secret in state, into its own Secret only.
      secretEnv[service.name] = Object.fromEntries(
        Object.keys(clusterDatabaseSecretEnv(plan, service, "")).map((key) => [key, pulumi.secret(password.result.apply((p) => clusterDatabaseSecretEnv(plan, service, p)[key]!))]),
      );
      const secret = new k8s.core.v1.Secret(
        `${name}-${service.name}-db-credentials`,
        {
          metadata: { name: databaseCredentialsSecretName(service.name), namespace: dataNamespace(plan), labels: { "app.kubernetes.io/part-of": plan.name } },
          type: "kubernetes.io/basic-auth",
          stringData: { username: clusterDatabaseUser(service), password: pulumi.secret(password.result) },
        },
        { parent: this, provider, dependsOn: [namespace], ...kept },
      );
      return { engine: service.database.engine, secret };
    });
    // Add-ons come in dependency order (one sharing another's operator names it), so `installed` holds what each waits for.
    const installed: Record<string, pulumi.Resource[]> = { [CERT_MANAGER_ADD_ON]: certManager };
    const resources = addOns.flatMap(({ key, engine, addOn }) => {
      const own = secrets.filter((s) => s.engine === engine).map((s) => s.secret);
      const shared = addOn.dependsOn.flatMap((d) => installed[d] ?? []);
      const operator = applyAddOn(`${name}-${key}`, { ...addOn, manifests: [] }, { provider, parent: this, dependsOn: [namespace, ...own, ...shared] });
      const databases = new k8s.yaml.v2.ConfigGroup(`${name}-${key}-manifests`, objects(addOn.manifests), { parent: this, provider, dependsOn: [namespace, ...own, ...shared, ...operator], ...kept });
      installed[key] = [...operator, databases];
      return installed[key];
    });
    const trust = clusterDataTrustAddOn(plan);
    // The trust namespace (the data namespace) must exist before trust-manager starts; the Bundles read the stores' CA Secrets.
    const trusted = trust ? applyAddOn(`${name}-data-trust`, trust, { provider, parent: this, dependsOn: [namespace, ...trust.dependsOn.flatMap((d) => installed[d] ?? [])] }) : [];
    return { secretEnv, resources: [...resources, ...trusted] };
  }

  /**
   * The shell and its fragments in their own namespace, each its own component after the ingress
   * controller (whose admission webhook checks their Ingresses), on the gateway's host and class.
   */
  private frontendApps(name: string, args: LandingZoneArgs, provider: k8s.Provider): Record<string, FrontendApp> {
    const { plan } = this;
    if (!plan.frontends) return {};
    const namespace = applyManifests(`${name}-frontends-namespace`, frontendNamespaceManifests(plan), { provider, parent: this });
    const registry = args.registry;
    const pullSecret =
      registry?.username !== undefined && registry.password !== undefined ? registrySecret(`${name}-frontends`, plan, registry, provider, this, namespace, frontendNamespace(plan)) : undefined;
    // With pipelines, Argo CD rolls each app's Deployment from its repository, as it does the services'.
    const gitOps = frontendsByGitOps(plan);
    const apps: Record<string, FrontendApp> = {};
    for (const app of [plan.frontends.shell, ...plan.frontends.fragments]) {
      const image = gitOps ? undefined : (args.frontendImages?.[app.name] ?? (registry ? `${registry.server.replace(/\/+$/, "")}/${frontendImage(plan, app)}` : undefined));
      const appTransform = args.transform?.frontend?.(app.name);
      apps[app.name] = new FrontendApp(
        `${name}-ui-${app.name}`,
        {
          plan,
          app: app.name,
          provider,
          className: args.ingress?.className ?? defaultIngressClass(plan),
          ...(args.ingress?.host !== undefined ? { host: args.ingress.host } : {}),
          ...(args.ingress?.tlsSecretName !== undefined ? { httpsOnly: true } : {}),
          ...(image ? { image } : {}),
          ...(pullSecret ? { imagePullSecretName: REGISTRY_SECRET_NAME } : {}),
          ...(appTransform ? { transform: appTransform } : {}),
          ...(gitOps ? { gitOps: true } : {}),
        },
        { parent: this, dependsOn: [namespace, ...this.ingress.resources, ...(pullSecret ? [pullSecret] : [])] },
      );
    }
    return apps;
  }

  /** Stack outputs, by name. */
  get outputs(): Readonly<Record<string, pulumi.Output<unknown>>> {
    return {
      namespace: this.namespace,
      ingressHost: this.ingressHost,
      ingressClass: this.ingressClass,
      sessionEndpoint: this.sessionEndpoint,
      kibanaService: this.kibanaService,
      kafkaBootstrapServers: this.kafkaBootstrapServers,
    };
  }
}

function imageSetInSpec(plan: LandingZonePlan, service: ServicePlan): boolean {
  const declared = service.kind === "bff" ? plan.spec.bffs.find((b) => b.name === service.name) : plan.spec.services.find((s) => s.name === service.name);
  return declared?.image !== undefined;
}

function checkArgs(plan: LandingZonePlan, args: LandingZoneArgs): void {
  const conflicts = frontendRouteConflicts(plan);
  if (conflicts.length > 0) throw new Error(`LandingZone args.spec: ${conflicts.join("; ")}`);
  const domainName = plan.frontends?.domainName;
  if (domainName !== undefined && args.ingress?.host !== domainName) {
    throw new Error(
      `LandingZone args.ingress.host: ${args.ingress?.host === undefined ? "undefined" : `"${args.ingress.host}"`}, but frontends.domainName is "${domainName}" and the pages share the gateway's host. Fix: pass ingress: { host: "${domainName}", tlsSecretName: <its certificate Secret> }`,
    );
  }
  const apps = plan.frontends ? [plan.frontends.shell, ...plan.frontends.fragments].map((a) => a.name) : [];
  if (frontendsByGitOps(plan) && Object.keys(args.frontendImages ?? {}).length > 0) {
    throw new Error(`LandingZone args.frontendImages: set for ${Object.keys(args.frontendImages!).join(", ")}, but with pipelines.perService Argo CD deploys each app's image from its repository's deploy/ folder. Fix: leave frontendImages out and release through the app's workflow`);
  }
  for (const app of Object.keys(args.frontendImages ?? {})) {
    if (!apps.includes(app)) throw new Error(`LandingZone args.frontendImages: "${app}" is not a micro-frontend of the spec. Fix: use one of ${apps.join(", ") || "(none: the spec has no frontends)"}`);
  }
  for (const [service, values] of Object.entries(args.secretValues ?? {})) {
    const declared = plan.services.find((s) => s.name === service);
    if (!declared) throw new Error(`LandingZone args.secretValues: "${service}" is not a service of the spec. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    for (const key of Object.keys(values)) {
      if (!declared.secrets.includes(key)) throw new Error(`LandingZone args.secretValues.${service}: "${key}" is not in services[${service}].secrets. Fix: declare it in the spec or drop it`);
    }
  }
  const registry = args.registry;
  if (registry) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)*\/?$/.test(registry.server)) {
      throw new Error(`LandingZone args.registry.server: "${registry.server}" is not a registry host. Fix: pass a host with an optional port and path, e.g. registry.example.com/shop`);
    }
    if ((registry.username === undefined) !== (registry.password === undefined)) {
      throw new Error(`LandingZone args.registry: username and password go together (one is undefined). Fix: pass both, or neither for anonymous pulls`);
    }
  }
}

function registrySecret(
  name: string,
  plan: LandingZonePlan,
  registry: RegistryArgs,
  provider: k8s.Provider,
  parent: pulumi.Resource,
  namespace: pulumi.Resource,
  inNamespace = workloadNamespace(plan),
): k8s.core.v1.Secret {
  const host = registry.server.split("/")[0]!;
  const dockerConfig = pulumi
    .all([registry.username!, registry.password!])
    .apply(([username, password]) => JSON.stringify({ auths: { [host]: { username, password, auth: Buffer.from(`${username}:${password}`).toString("base64") } } }));
  return new k8s.core.v1.Secret(
    `${name}-registry`,
    {
      metadata: { name: REGISTRY_SECRET_NAME, namespace: inNamespace, labels: { "app.kubernetes.io/part-of": plan.name } },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": pulumi.secret(dockerConfig) },
    },
    { parent, provider, dependsOn: [namespace] },
  );
}
