import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { servicePolicies } from "../../kubernetes/mesh.js";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import type { ManifestObject } from "../../kubernetes/types.js";
import { type KafkaClientTls, serviceHost, serviceWorkload } from "../../kubernetes/workload.js";
import type { LandingZonePlan, ServicePlan } from "../../plan/types.js";
import { dependencyList } from "./dependencies.js";

/** Arguments of {@link ServiceWorkload}. */
export interface ServiceWorkloadArgs {
  /** The landing-zone plan. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** Provider of the cluster. */
  readonly provider: k8s.Provider;
  /**
   * Values of the service's declared `secrets`, by key; a key left out gets a generated 32-character value.
   * @default - every declared secret generated
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Secret environment variables beyond the declared ones (e.g. the session store password), kept in the same Secret.
   * @default - none
   */
  readonly extraSecrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Extra non-secret environment variables, added to the service's ConfigMap; values may be outputs (a managed cache's host).
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Container image; may be an output (e.g. a registry host known only after deployment).
   * @default - the plan's image of the service
   */
  readonly image?: pulumi.Input<string>;
  /**
   * Annotations on the service's ServiceAccount (a cloud workload identity: Azure client id, GKE service account); may be outputs.
   * @default - none
   */
  readonly serviceAccountAnnotations?: pulumi.Input<Readonly<Record<string, pulumi.Input<string>>>>;
  /**
   * A SecretProviderClass named `<service>-secrets` (Secrets Store CSI driver) that mounts the service's
   * declared secrets from the cloud secret store with the pod's own identity and mirrors them into the
   * Secret the env vars read; no value then passes through the engine. Excludes secretValues and extraSecrets.
   * @default - the engine writes the Secret from secretValues (or generated values)
   */
  readonly secretProviderClass?: pulumi.Input<ManifestObject>;
  /**
   * Extra pod labels, e.g. `azure.workload.identity/use` (never part of the selector).
   * @default - none
   */
  readonly podLabels?: Readonly<Record<string, string>>;
  /**
   * A `kubernetes.io/dockerconfigjson` Secret in the workloads namespace the service's pods pull their image with.
   * @default - none: the image is pulled anonymously or with the nodes' credentials
   */
  readonly imagePullSecretName?: pulumi.Input<string>;
  /**
   * A ConfigMap in the workloads namespace holding the CA certificates of the service's own data
   * store (`dataCaConfigMapName`, written by trust-manager), mounted read-only at `DATA_CA_DIRECTORY`.
   * @default - no CA mounted
   */
  readonly dataCaConfigMap?: string;
  /**
   * A Secret in the workloads namespace whose `ca.crt` is the CA of a TLS session store on the cluster
   * (`clusterSessionCaSecret`), mounted read-only at `SESSION_CA_DIRECTORY` (that key only).
   * @default - no session store CA mounted
   */
  readonly sessionCaSecret?: string;
  /**
   * The Secrets of a client of the cluster's Strimzi Kafka (`kafkaClientTls`): its certificate, key and
   * the brokers' CA, mounted read-only at `KAFKA_TLS_DIRECTORY`.
   * @default - nothing mounted
   */
  readonly kafkaTls?: KafkaClientTls;
  /**
   * Mount the ServiceAccount's Kubernetes API token in the pods (a saga initiator creates Workflows).
   * @default false
   */
  readonly kubernetesApiToken?: boolean;
  /**
   * Argo CD delivers the Deployment from the service's repository (`gitOpsDeployment`); this component keeps the rest.
   * @default false
   */
  readonly gitOps?: boolean;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: ServiceWorkloadTransform;
}

export interface ServiceWorkloadTransform {
  /** Called for each generated secret value with its key. */
  readonly secretValue?: (args: random.RandomPasswordArgs, key: string) => void;
  readonly secret?: (args: k8s.core.v1.SecretArgs) => void;
  readonly manifests?: (args: k8s.yaml.v2.ConfigGroupArgs) => void;
}

const SECRET_KEY = /^[A-Z][A-Z0-9_]*$/;

/**
 * One service (or BFF) on an existing cluster: a Secret `<service>-secrets` holding its declared
 * secrets (generated unless given) and `extraSecrets`, then the hardened workload of
 * `serviceWorkload` (ServiceAccount, ConfigMap, Deployment reading the Secret only through
 * secretKeyRef, Service, HorizontalPodAutoscaler, PodDisruptionBudget) and, with a mesh, its
 * circuit breaker, retries and timeout.
 *
 * @example
 * const orders = new ServiceWorkload("orders", { plan, service: "orders", provider });
 */
export class ServiceWorkload extends pulumi.ComponentResource {
  /** The Secret of the service; undefined when it has no secret. */
  readonly secret?: k8s.core.v1.Secret;
  readonly manifests: k8s.yaml.v2.ConfigGroup;
  /** Cluster DNS name of the service's Service (port 80). */
  readonly host: pulumi.Output<string>;
  /** Name of the service's Secret, or undefined. */
  readonly secretName: pulumi.Output<string | undefined>;

  constructor(name: string, args: ServiceWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:kubernetes:ServiceWorkload", name, {}, opts);
    const { plan, provider } = args;
    const declared = plan.services.find((s) => s.name === args.service);
    if (!declared) {
      throw new Error(`ServiceWorkload args.service: "${args.service}" is not in plan.services. Fix: use one of ${plan.services.map((s) => s.name).join(", ")}`);
    }
    for (const key of Object.keys(args.secretValues ?? {})) {
      if (!declared.secrets.includes(key)) {
        throw new Error(`ServiceWorkload args.secretValues: "${key}" is not a declared secret of ${declared.name}. Fix: add it to services[${declared.name}].secrets, or pass it in extraSecrets`);
      }
    }
    const extraKeys = Object.keys(args.extraSecrets ?? {});
    for (const key of extraKeys) {
      if (!SECRET_KEY.test(key) || declared.secrets.includes(key)) {
        throw new Error(`ServiceWorkload args.extraSecrets: "${key}" must be a new UPPER_SNAKE_CASE name, not one of [${declared.secrets.join(", ")}]. Fix: rename it`);
      }
    }
    if (args.secretProviderClass !== undefined && (extraKeys.length > 0 || args.secretValues !== undefined || declared.secrets.length === 0)) {
      throw new Error(
        `ServiceWorkload args.secretProviderClass: given for ${declared.name}, which ${declared.secrets.length === 0 ? "declares no secrets" : "also has secretValues or extraSecrets"}. Fix: use the class alone, for a service with declared secrets`,
      );
    }
    const service: ServicePlan = { ...declared, secrets: [...declared.secrets, ...extraKeys] };
    const namespace = workloadNamespace(plan);
    const after = dependencyList(opts?.dependsOn);
    const secretName = `${service.name}-secrets`;

    const values: Record<string, pulumi.Input<string>> = { ...args.extraSecrets };
    for (const key of args.secretProviderClass === undefined ? declared.secrets : []) {
      const given = args.secretValues?.[key];
      if (given !== undefined) {
        values[key] = given;
        continue;
      }
      const passwordArgs: random.RandomPasswordArgs = { length: 32, special: false };
      args.transform?.secretValue?.(passwordArgs, key);
      values[key] = new random.RandomPassword(`${name}-${key.toLowerCase().replace(/_/g, "-")}`, passwordArgs, { parent: this }).result;
    }
    if (service.secrets.length > 0 && args.secretProviderClass === undefined) {
      const secretArgs: k8s.core.v1.SecretArgs = {
        metadata: { name: secretName, namespace, labels: { "app.kubernetes.io/name": service.name, "app.kubernetes.io/part-of": plan.name } },
        type: "Opaque",
        // Wrapped as a Pulumi secret so user-given plain values are encrypted in state too.
        stringData: pulumi.secret(values),
      };
      args.transform?.secret?.(secretArgs);
      this.secret = new k8s.core.v1.Secret(`${name}-secret`, secretArgs, { parent: this, provider, dependsOn: after });
    }

    const options = {
      ...(service.secrets.length > 0 ? { secretName } : {}),
      ...(args.secretProviderClass !== undefined ? { secretProviderClass: secretName } : {}),
      ...(args.podLabels ? { podLabels: { ...args.podLabels } } : {}),
      ...(args.dataCaConfigMap !== undefined ? { dataCaConfigMap: args.dataCaConfigMap } : {}),
      ...(args.sessionCaSecret !== undefined ? { sessionCaSecret: args.sessionCaSecret } : {}),
      ...(args.kafkaTls !== undefined ? { kafkaTls: args.kafkaTls } : {}),
      ...(args.kubernetesApiToken ? { kubernetesApiToken: true } : {}),
    };
    const build = (image?: string, annotations?: Record<string, string>, env?: Record<string, string>) => [
      ...serviceWorkload(plan, service, { ...options, ...(image ? { image } : {}), ...(annotations ? { serviceAccountAnnotations: annotations } : {}), ...(env ? { env } : {}) }),
      ...servicePolicies(plan, service),
    ].filter((o) => !(args.gitOps && o.kind === "Deployment"));
    // Built now (env values stubbed), so bad input fails before anything is registered; rebuilt once every input resolves.
    const objects = build(undefined, undefined, args.env ? Object.fromEntries(Object.keys(args.env).map((key) => [key, ""])) : undefined);
    const imaged =
      args.image === undefined && args.serviceAccountAnnotations === undefined && args.env === undefined && args.secretProviderClass === undefined
        ? objects
        : pulumi
            .all([args.image, pulumi.output(args.serviceAccountAnnotations), pulumi.output(args.env), pulumi.output(args.secretProviderClass)])
            // The class goes first: pods mounting it must find it.
            .apply(([image, annotations, env, providerClass]) => [
              ...(providerClass ? [providerClass as ManifestObject] : []),
              ...build(image, annotations as Record<string, string> | undefined, env as Record<string, string> | undefined),
            ]);
    const objs =
      args.imagePullSecretName !== undefined
        ? withPullSecret(imaged, args.imagePullSecretName)
        : Array.isArray(imaged)
          ? imaged.map((o) => ({ ...o }))
          : pulumi.output(imaged).apply((list) => list.map((o) => ({ ...o })));
    const manifestArgs: k8s.yaml.v2.ConfigGroupArgs = { objs };
    args.transform?.manifests?.(manifestArgs);
    this.manifests = new k8s.yaml.v2.ConfigGroup(`${name}-workload`, manifestArgs, { parent: this, provider, dependsOn: [...after, ...(this.secret ? [this.secret] : [])] });

    this.host = pulumi.output(serviceHost(plan, service.name));
    this.secretName = pulumi.output(service.secrets.length > 0 ? secretName : undefined);
    this.registerOutputs({ host: this.host, secretName: this.secretName });
  }
}

/** The pull secret goes on the ServiceAccount, which hands it to every pod running as it. */
function withPullSecret(objects: pulumi.Input<readonly ManifestObject[]>, pullSecretName: pulumi.Input<string>): pulumi.Output<unknown[]> {
  return pulumi.all([objects, pullSecretName]).apply(([list, secret]) =>
    list.map((o) => (o.kind === "ServiceAccount" ? { ...o, imagePullSecrets: [{ name: secret }] } : { ...o })),
  );
}
