import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadBalancerAccess } from "../../kubernetes/load-balancer-access.js";
import { servicePolicies } from "../../kubernetes/mesh.js";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import type { ManifestObject } from "../../kubernetes/types.js";
import { SESSION_CA_FILE } from "../../kubernetes/session-store.js";
import { DATA_CA_KEY } from "../../kubernetes/data-ca.js";
import { PLATFORM_ENV, SERVICE_PORT, serviceWorkload } from "../../kubernetes/workload.js";
import { GCP_HEALTH_CHECK_RANGES, gcpImage } from "../../plan/gcp.js";
import { physicalName } from "../../plan/naming.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { SESSION_STORE_ENDPOINT_ENV, SESSION_STORE_PASSWORD_ENV } from "../kubernetes/landing-zone.js";
import type { GatewayBackend } from "./api-gateway.js";
import { projectOf } from "./project.js";
import { findService, ServiceIdentity, mergeAttachments, type ServiceAttachment, type PubSubGrants } from "./service-identity.js";

/** The project id, where Google's client libraries look for it. */
export const GOOGLE_CLOUD_PROJECT_ENV = "GOOGLE_CLOUD_PROJECT";
/** Annotation binding a Kubernetes ServiceAccount to a Google service account (Workload Identity). */
export const WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account";

/** The session store as a service sees it; a `SessionStore` fits. */
export interface SessionStoreLink {
  readonly endpoint: pulumi.Input<string>;
  /** The AUTH string (a Pulumi secret). */
  readonly authString: pulumi.Input<string>;
  /** Secret Manager secret holding the AUTH string. */
  readonly authSecretId: pulumi.Input<string>;
  /** The secret version holding the AUTH string: what reads it at start waits for it. */
  readonly authSecretVersion: pulumi.Resource;
  /** PEM of the CA that signed the store's server certificate. */
  readonly caCertificate: pulumi.Input<string>;
}

/** The event bus as a service sees it; a `MessageBroker` fits. */
export interface BrokerLink {
  grantsFor(service: string): PubSubGrants;
  environmentFor(service: string): Record<string, string>;
}

/** Arguments of {@link ServiceWorkload}. */
export interface ServiceWorkloadArgs {
  /** The landing-zone plan: namespace, labels, mesh and image come from it. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** Provider of the GKE cluster. */
  readonly provider: k8s.Provider;
  /** Workload Identity pool of the cluster (`KubernetesPlatform.workloadPool`). */
  readonly workloadPool: pulumi.Input<string>;
  /**
   * Artifact Registry repository URL; prefixes the plan's default image.
   * @default - the plan's image unchanged
   */
  readonly repositoryUrl?: pulumi.Input<string>;
  /**
   * The image to run, e.g. the one the service's pipeline released (`ServiceDelivery.releasedImage`).
   * @default - the plan's image, prefixed by `repositoryUrl`
   */
  readonly image?: pulumi.Input<string>;
  /**
   * The session store; the pods get its endpoint and `SESSION_STORE_TLS=true` in their ConfigMap, its
   * CA as a mounted file (`SESSION_STORE_CA_FILE`, from a Secret of its own) and its AUTH string in their Secret.
   * @default - no session store
   */
  readonly sessions?: SessionStoreLink;
  /**
   * The event bus; the service's account gets exactly its grants, the pods its topic and subscription names.
   * @default - no messaging
   */
  readonly broker?: BrokerLink;
  /**
   * Values of the service's declared `secrets`, by key.
   * @default - a generated 32-character value per secret
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Extra non-secret environment variables for the ConfigMap.
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * What the service owns or uses beyond sessions and messaging (its database, event store, read model): environment, conditioned roles, secrets.
   * @default - none
   */
  readonly attachments?: readonly ServiceAttachment[];
  /**
   * Resources the workload waits for (the node pool, the namespace, the mesh).
   * @default - none
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Labels on the service's secrets.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches the Kubernetes objects before they are applied.
   * @default - no patch
   */
  readonly transform?: { readonly manifests?: (objects: ManifestObject[]) => void };
}

/**
 * One service (or BFF) on GKE: its {@link ServiceIdentity} (a Google service account that its
 * Kubernetes ServiceAccount impersonates through Workload Identity, its own Secret Manager secrets
 * and Pub/Sub grants), a Kubernetes Secret synced from those secret values (read only through
 * secretKeyRef), the hardened workload of `serviceWorkload`, the mesh policies and, when exposed, a
 * standalone NEG named {@link negName} that the gateway's backend service targets, plus the
 * NetworkPolicy and port-level PeerAuthentication that let Google's load balancer reach the pods. The
 * gateway's caller checks (JWT, auth service) are namespace-wide policies the landing zone applies.
 *
 * @example
 * new ServiceWorkload("orders", { plan, service: "orders", provider: platform.provider, workloadPool: platform.workloadPool });
 */
export class ServiceWorkload extends pulumi.ComponentResource {
  readonly identity: ServiceIdentity;
  /** Name of the service's NEG in every zone of the cluster; undefined when not exposed. */
  readonly negName?: string;
  /** The gateway backend of this service (its zonal NEGs); undefined when not exposed. */
  readonly backend?: GatewayBackend;
  readonly nodes: { readonly secret?: k8s.core.v1.Secret; readonly sessionCa?: k8s.core.v1.Secret; readonly workload: k8s.yaml.v2.ConfigGroup };

  constructor(name: string, args: ServiceWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const service = findService(plan, args.service, `ServiceWorkload ${name}`);
    const attached = mergeAttachments(args.attachments ?? [], `${args.service} attachments`);
    if (plan.cloud !== "gcp" || !plan.cluster) throw new Error(`ServiceWorkload ${name}: plan is ${plan.cloud}/${plan.tier}, not GKE. Fix: use a gcp plan with tier: caas`);
    super("msa:gcp:ServiceWorkload", name, {}, opts);
    const namespace = workloadNamespace(plan);
    const project = projectOf(this);
    const after = args.dependsOn ?? [];

    this.identity = new ServiceIdentity(
      `${name}-identity`,
      {
        plan,
        service: service.name,
        ...(args.secretValues ? { secretValues: args.secretValues } : {}),
        sharedSecrets: { ...(args.sessions ? { [SESSION_STORE_PASSWORD_ENV]: args.sessions.authSecretId } : {}), ...Object.fromEntries(Object.entries(attached.secrets).map(([key, s]) => [key, s.secretId])) },
        sqlUsers: attached.sqlUsers,
        ...(args.broker ? { pubsub: args.broker.grantsFor(service.name) } : {}),
        projectRoles: attached.projectRoles,
        workloadIdentity: { workloadPool: args.workloadPool, namespace, serviceAccount: service.name },
        ...(args.labels ? { labels: args.labels } : {}),
      },
      { parent: this },
    );

    const secretName = `${service.name}-secrets`;
    const secretKeys = [...service.secrets, ...(args.sessions ? [SESSION_STORE_PASSWORD_ENV] : []), ...Object.keys(attached.secrets)];
    let secret: k8s.core.v1.Secret | undefined;
    if (secretKeys.length > 0) {
      const attachedValues = pulumi.all(Object.fromEntries(Object.entries(attached.secrets).map(([key, s]) => [key, s.value])));
      const data = pulumi.all([this.identity.secretValues, args.sessions?.authString ?? "", attachedValues]).apply(([declared, auth, more]) => ({
        ...declared,
        ...(args.sessions ? { [SESSION_STORE_PASSWORD_ENV]: auth } : {}),
        ...more,
      }));
      secret = new k8s.core.v1.Secret(
        `${name}-secret`,
        {
          metadata: { name: secretName, namespace, labels: { "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": plan.name } },
          type: "Opaque",
          stringData: pulumi.secret(data),
        },
        { parent: this, provider: args.provider, dependsOn: after },
      );
    }

    // The pods mount only its `ca.crt` key; the Secret holds nothing but the store's (public) CA.
    const sessionCaName = `${service.name}-session-ca`;
    const sessionCa = args.sessions
      ? new k8s.core.v1.Secret(
          `${name}-session-ca`,
          {
            metadata: { name: sessionCaName, namespace, labels: { "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": plan.name } },
            type: "Opaque",
            stringData: { [DATA_CA_KEY]: args.sessions.caCertificate },
          },
          { parent: this, provider: args.provider, dependsOn: after },
        )
      : undefined;

    const negName = service.expose ? physicalName("kubernetes", plan.name, plan.environment, service.name) : undefined;
    const env = pulumi.all({
      [GOOGLE_CLOUD_PROJECT_ENV]: project.id,
      ...(args.sessions ? { [SESSION_STORE_ENDPOINT_ENV]: args.sessions.endpoint, [PLATFORM_ENV.sessionStoreTls]: "true", [PLATFORM_ENV.sessionStoreCaFile]: SESSION_CA_FILE } : {}),
      ...(args.broker ? args.broker.environmentFor(service.name) : {}),
      ...attached.env,
      ...args.env,
    });
    const manifests = pulumi.all([env, args.repositoryUrl ?? "", this.identity.email, args.image ?? ""]).apply(([resolvedEnv, repositoryUrl, email, image]) => {
      const workloadService = { ...service, secrets: secretKeys };
      const objects = [
        ...serviceWorkload(plan, workloadService, {
          serviceAccountAnnotations: { [WORKLOAD_IDENTITY_ANNOTATION]: email },
          env: resolvedEnv,
          ...(image ? { image } : repositoryUrl ? { image: gcpImage(service, repositoryUrl) } : {}),
          ...(secret ? { secretName } : {}),
          ...(sessionCa ? { sessionCaSecret: sessionCaName } : {}),
        }).map((o) => (o.kind === "Service" && negName ? withNeg(o, negName) : o)),
        ...servicePolicies(plan, service),
        ...(service.expose ? loadBalancerAccess(plan, service, GCP_HEALTH_CHECK_RANGES) : []),
      ];
      args.transform?.manifests?.(objects);
      return objects;
    });
    // Pulumi waits until the Service has ready endpoints, by which time the NEG controller has created the NEGs.
    const workload = applyManifests(`${name}-workload`, manifests, { provider: args.provider, parent: this, dependsOn: [...after, ...this.identity.nodes.bindings, ...(secret ? [secret] : []), ...(sessionCa ? [sessionCa] : [])] });

    if (negName) {
      this.negName = negName;
      this.backend = {
        kind: "neg",
        networkEndpointGroups: plan.network.availabilityZones.map((zone) => pulumi.interpolate`projects/${project.id}/zones/${zone}/networkEndpointGroups/${negName}`),
        healthCheckPath: service.healthPath,
        dependsOn: [workload],
      };
    }
    this.nodes = { workload, ...(secret ? { secret } : {}), ...(sessionCa ? { sessionCa } : {}) };
    this.registerOutputs({ email: this.identity.email });
  }
}

/** A standalone NEG for the Service's port, named so the gateway can reference it before reading any cluster state. */
function withNeg(service: ManifestObject, negName: string): ManifestObject {
  const neg = JSON.stringify({ exposed_ports: { [String(SERVICE_PORT)]: { name: negName } } });
  return { ...service, metadata: { ...service.metadata, annotations: { ...service.metadata.annotations, "cloud.google.com/neg": neg } } };
}
