import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { workloadNamespace } from "../../kubernetes/namespace.js";
import { azureSecretProviderClass } from "../../kubernetes/secrets-store.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { dependencyList } from "../kubernetes/dependencies.js";
import { secretName } from "./config-store.js";
import { plannedImage } from "./container-registry.js";
import { withPrincipalEnvironment } from "./service-access.js";
import { ServiceWorkload as KubernetesServiceWorkload, type ServiceWorkloadTransform as KubernetesServiceWorkloadTransform } from "../kubernetes/service-workload.js";

/** Audience of the Entra ID token exchange every workload identity federates with. */
export const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";

/**
 * Something a service may be granted access to (the broker's topics, the session cache, the
 * config store): it creates the grants of `service` for `principalId`, as children of `parent`.
 */
export interface ServiceAccess {
  /** `principalName` is the identity's resource name, for services that name principals (PostgreSQL Entra administrators). */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource, principalName?: pulumi.Input<string>): pulumi.Resource[];
  /**
   * What `service` must know of the principal it was granted access as (the PostgreSQL user its identity signs in as),
   * given the same `principalName` as {@link ServiceAccess.grantAccess}.
   * @default - nothing
   */
  principalEnvironment?(service: string, principalName: pulumi.Input<string>): Readonly<Record<string, pulumi.Input<string>>>;
}

/** A service's Azure identity: a user-assigned identity and what it was granted. */
export interface ServiceIdentity {
  readonly clientId: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;
  readonly identityId: pulumi.Output<string>;
}

/** Arguments of {@link ServiceWorkload}. */
export interface ServiceWorkloadArgs {
  /** The landing-zone plan: namespace, labels, mesh and broker topics come from it. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Issuer of the cluster's service-account tokens (`KubernetesPlatform.oidcIssuerUrl`). */
  readonly oidcIssuerUrl: pulumi.Input<string>;
  /** Provider of the AKS cluster. */
  readonly provider: k8s.Provider;
  /**
   * Registry host (`<name>.azurecr.io`); replaces the repository name in the plan's default image.
   * @default - the plan's image unchanged
   */
  readonly registryLoginServer?: pulumi.Input<string>;
  /**
   * Image the Deployment runs, e.g. the one its pipeline released (`ReleaseRecords.releasedImages`); overrides `registryLoginServer`.
   * @default - the plan's image (in `registryLoginServer`)
   */
  readonly image?: pulumi.Input<string>;
  /**
   * What the service may use; each grants exactly the service's own share (its topics, its subscriptions, its secrets).
   * @default - nothing
   */
  readonly access?: readonly ServiceAccess[];
  /**
   * Extra non-secret environment variables (session store host, Service Bus namespace), in the ConfigMap.
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The Key Vault holding the service's declared secrets (named by `secretName(service, key)`): the pods
   * mount them through the Key Vault secrets provider with their own identity, and no value passes through Pulumi.
   * @default - secrets written into a Kubernetes Secret from `secretValues` (or generated)
   */
  readonly keyVault?: { readonly name: pulumi.Input<string>; readonly tenantId: pulumi.Input<string> };
  /**
   * Values of the service's declared `secrets` when there is no `keyVault`; missing ones are generated.
   * @default - every declared secret generated
   */
  readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Tags on the identity.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to the children's args before they are created.
   * @default - none
   */
  readonly transform?: {
    readonly identity?: (args: managedidentity.UserAssignedIdentityArgs) => void;
    readonly workload?: KubernetesServiceWorkloadTransform;
  };
}

/**
 * One service on AKS with its own Azure identity: a user-assigned managed identity federated with
 * the service's Kubernetes ServiceAccount (workload identity, no secret), the grants of each
 * `access` for that identity alone, and the hardened workload of the existing-cluster
 * `ServiceWorkload` (ServiceAccount annotated with the identity's client id, pods labelled for the
 * workload-identity webhook, secrets mounted from Key Vault with that identity and read only by
 * reference, mesh policies).
 *
 * @example
 * new ServiceWorkload("orders", { plan, service: "orders", resourceGroupName: group.name, location: "eastus",
 *   oidcIssuerUrl: platform.oidcIssuerUrl, provider: platform.provider, registryLoginServer: platform.registryLoginServer });
 */
export class ServiceWorkload extends pulumi.ComponentResource implements ServiceIdentity {
  readonly clientId: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;
  readonly identityId: pulumi.Output<string>;
  /** Cluster DNS name of the service. */
  readonly host: pulumi.Output<string>;
  readonly nodes: {
    readonly identity: managedidentity.UserAssignedIdentity;
    readonly federation: managedidentity.FederatedIdentityCredential;
    readonly grants: readonly pulumi.Resource[];
    readonly workload: KubernetesServiceWorkload;
  };

  constructor(name: string, args: ServiceWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const service = plan.services.find((s) => s.name === args.service);
    if (!service) {
      throw new Error(`ServiceWorkload ${name}: service "${args.service}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
    }
    super("msa:azure:ServiceWorkload", name, {}, opts);
    const parent = { parent: this };
    const namespace = workloadNamespace(plan);

    const identityArgs: managedidentity.UserAssignedIdentityArgs = { resourceGroupName: args.resourceGroupName, location: args.location, tags: { ...args.tags } };
    args.transform?.identity?.(identityArgs);
    const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, identityArgs, parent);
    const federation = new managedidentity.FederatedIdentityCredential(
      `${name}-federation`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: identity.name,
        federatedIdentityCredentialResourceName: `${plan.name}-${service.name}`,
        issuer: args.oidcIssuerUrl,
        // Only the service's own ServiceAccount in the workloads namespace may act as this identity.
        subject: `system:serviceaccount:${namespace}:${service.name}`,
        audiences: [WORKLOAD_IDENTITY_AUDIENCE],
      },
      parent,
    );
    const grants = (args.access ?? []).flatMap((access) => access.grantAccess(service.name, identity.principalId, this, identity.name));
    const env = withPrincipalEnvironment(args.env, args.access, service.name, identity.name);

    const keyVault = args.keyVault;
    const providerClass =
      keyVault && service.secrets.length > 0
        ? pulumi.all([identity.clientId, keyVault.name, keyVault.tenantId]).apply(([clientId, keyVaultName, tenantId]) =>
            azureSecretProviderClass(plan, service, `${service.name}-secrets`, { clientId, keyVaultName, tenantId, secrets: service.secrets.map((key) => ({ key, secretName: secretName(service.name, key) })) }),
          )
        : undefined;
    const image = args.image ?? (args.registryLoginServer && service.image.startsWith(`${service.repository}:`) ? plannedImage(service, args.registryLoginServer) : undefined);
    const workload = new KubernetesServiceWorkload(
      `${name}-workload`,
      {
        plan,
        service: service.name,
        provider: args.provider,
        serviceAccountAnnotations: { "azure.workload.identity/client-id": identity.clientId },
        // The webhook mounts the federated token and sets AZURE_CLIENT_ID only in pods carrying this label.
        podLabels: { "azure.workload.identity/use": "true" },
        ...(image ? { image } : {}),
        ...(args.env || Object.keys(env).length > 0 ? { env } : {}),
        ...(providerClass ? { secretProviderClass: providerClass } : args.secretValues ? { secretValues: args.secretValues } : {}),
        ...(args.transform?.workload ? { transform: args.transform.workload } : {}),
      },
      // Pods start only once their identity can exchange tokens and use what it was granted.
      { parent: this, dependsOn: [...dependencyList(opts?.dependsOn), federation, ...grants] },
    );

    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.identityId = identity.id;
    this.host = workload.host;
    this.nodes = { identity, federation, grants, workload };
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, host: this.host });
  }
}

