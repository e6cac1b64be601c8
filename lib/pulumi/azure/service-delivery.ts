import type * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ManifestObject } from "../../kubernetes/types.js";
import { AKS_RUN_COMMAND_ACTIONS, AZURE_DEVOPS_AUDIENCE, AZURE_PIPELINES } from "../../plan/azure-delivery.js";
import { SCALE_SET_RELEASE_ACTIONS } from "../../plan/azure-release.js";
import { applyManifests } from "../kubernetes/add-on.js";
import { customRole, grantCustomRole, grantRole } from "./roles.js";

/** The custom role that may run commands on one AKS cluster (AKS run command), for deploy identities to share. */
export function aksRunCommandRole(name: string, clusterId: pulumi.Output<string>, opts: pulumi.CustomResourceOptions): authorization.RoleDefinition {
  return customRole(name, { resourceId: clusterId, purpose: "AKS run command", actions: AKS_RUN_COMMAND_ACTIONS }, opts);
}

/** What the deploy identity may change: one AKS Deployment, one App Service app or one VM scale set's instances. */
export type ServiceDeliveryTarget =
  | {
      readonly kind: "aks";
      /** The cluster; in Azure the identity may only run commands on it (AKS run command), as itself. */
      readonly clusterId: pulumi.Input<string>;
      /** The custom role of {@link aksRunCommandRole}, assigned on the cluster. */
      readonly runCommandRoleId: pulumi.Input<string>;
      /** Provider of the cluster the RBAC objects are applied with. */
      readonly provider: k8s.Provider;
      /** The Role and RoleBinding (`deploymentRollerRbac(service, target, { kind: "User", name: principalId })`) that let the identity roll only its Deployment. */
      readonly rbac: (principalId: string) => ManifestObject[];
    }
  | {
      readonly kind: "app-service";
      /** The service's own web app. */
      readonly appId: pulumi.Input<string>;
    }
  | {
      readonly kind: "scale-set";
      /**
       * The service's own scale set, whose instances the pipeline reimages (a custom role of
       * `SCALE_SET_RELEASE_ACTIONS` assigned on it alone). Needs `release`: instances read the image from the record.
       */
      readonly scaleSetId: pulumi.Input<string>;
    };

/** Arguments of {@link ServiceDelivery}. */
export interface ServiceDeliveryArgs {
  /** Resource group of the identity. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region of the identity. */
  readonly location: pulumi.Input<string>;
  /** Name of the user-assigned identity the service connection signs in as. */
  readonly identityName: pulumi.Input<string>;
  /** Issuer and subject of the service's Azure DevOps service connection, as Azure DevOps shows them. */
  readonly federation: { readonly issuer: pulumi.Input<string>; readonly subject: pulumi.Input<string> };
  /** Registry the pipeline pushes to (AcrPush on it). */
  readonly registryId: pulumi.Input<string>;
  /** The one workload the pipeline deploys to: an AKS Deployment, an App Service app or a VM scale set. */
  readonly target: ServiceDeliveryTarget;
  /**
   * The store of the service's release record and the role that may write it (`ReleaseRecords.storeId`, `writerRoleId`),
   * which the pipeline writes after each successful rollout (on a scale set, before reimaging, and back on rollback).
   * Required with a `scale-set` target.
   * @default - no release record: `pulumi up` puts the planned image back
   */
  readonly release?: { readonly storeId: pulumi.Input<string>; readonly writerRoleId: pulumi.Input<string> };
  /**
   * Tags on the identity.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches a child's args before it is created.
   * @default - none
   */
  readonly transform?: {
    readonly identity?: (args: managedidentity.UserAssignedIdentityArgs) => void;
    readonly releaseRole?: (args: authorization.RoleDefinitionArgs) => void;
  };
}

/**
 * The deploy identity of one service's Azure DevOps pipeline: a user-assigned managed identity
 * trusting only that pipeline's service connection (workload identity federation, no secret), with
 * AcrPush on the registry and the right to change only the service's own workload: on AKS AKS run
 * command on the cluster (a custom role; kubectl runs as the identity) plus a Kubernetes Role on its
 * one Deployment, on App Service Website
 * Contributor on its one app, on a VM scale set a custom role on its one scale set that may list, reimage
 * and read the health of its instances and nothing that changes its model, and write on the release
 * records (`release`, see ReleaseRecords). ACR's repository-scoped permissions (ABAC) are not settable through
 * azure-native's Registry, so AcrPush covers the registry's repositories.
 *
 * Cost: none (identities and role assignments are free); the pipelines bill in Azure DevOps.
 *
 * @example
 * const delivery = new ServiceDelivery("orders-delivery", {
 *   resourceGroupName: group.name, location: "koreacentral", identityName: "shop-prod-orders-deploy",
 *   federation: { issuer: "https://vstoken.dev.azure.com/<organization id>", subject: "sc://acme/shop/shop-prod-orders" },
 *   registryId: registry.registryId, target: { kind: "app-service", appId: app.nodes.app.id },
 * });
 */
export class ServiceDelivery extends pulumi.ComponentResource {
  /** Client id of the identity, for the service connection. */
  readonly clientId: pulumi.Output<string>;
  /** Object id of the identity, which role assignments and Kubernetes RBAC name. */
  readonly principalId: pulumi.Output<string>;
  readonly nodes: {
    readonly identity: managedidentity.UserAssignedIdentity;
    readonly federation: managedidentity.FederatedIdentityCredential;
    readonly grants: readonly authorization.RoleAssignment[];
    readonly rbac?: k8s.yaml.v2.ConfigGroup;
    /** The custom role of a scale-set target. */
    readonly releaseRole?: authorization.RoleDefinition;
  };

  constructor(name: string, args: ServiceDeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.target.kind === "scale-set" && !args.release) {
      throw new Error(`ServiceDelivery ${name}: target.kind is scale-set, whose instances read the released image from the release record, but args.release is undefined. Fix: pass release: { storeId, writerRoleId } of a ReleaseRecords`);
    }
    super("msa:azure:ServiceDelivery", name, {}, opts);
    const parent = { parent: this };
    const identityArgs: managedidentity.UserAssignedIdentityArgs = { resourceGroupName: args.resourceGroupName, location: args.location, resourceName: args.identityName, tags: { ...args.tags } };
    args.transform?.identity?.(identityArgs);
    const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, identityArgs, parent);
    const federation = new managedidentity.FederatedIdentityCredential(
      `${name}-federation`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: identity.name,
        federatedIdentityCredentialResourceName: AZURE_PIPELINES.credentialName,
        issuer: args.federation.issuer,
        // Only this service's service connection may sign in as the identity.
        subject: args.federation.subject,
        audiences: [AZURE_DEVOPS_AUDIENCE],
      },
      parent,
    );
    const principalId = identity.principalId;
    const grants = [grantRole(`${name}-push`, { role: "acrPush", scope: args.registryId, principalId }, parent)];
    let rbac: k8s.yaml.v2.ConfigGroup | undefined;
    let releaseRole: authorization.RoleDefinition | undefined;
    if (args.target.kind === "aks") {
      grants.push(grantCustomRole(`${name}-run-command`, { roleDefinitionId: args.target.runCommandRoleId, scope: args.target.clusterId, principalId }, parent));
      rbac = applyManifests(`${name}-rbac`, principalId.apply(args.target.rbac), { provider: args.target.provider, parent: this });
    } else if (args.target.kind === "scale-set") {
      const scaleSetId = pulumi.output(args.target.scaleSetId);
      releaseRole = customRole(`${name}-release-role`, { resourceId: scaleSetId, purpose: "Scale set release", actions: SCALE_SET_RELEASE_ACTIONS, ...(args.transform?.releaseRole ? { transform: args.transform.releaseRole } : {}) }, parent);
      grants.push(grantCustomRole(`${name}-release`, { roleDefinitionId: releaseRole.id, scope: scaleSetId, principalId }, parent));
    } else {
      grants.push(grantRole(`${name}-release`, { role: "websiteContributor", scope: args.target.appId, principalId }, parent));
    }
    if (args.release) grants.push(grantCustomRole(`${name}-release-record`, { roleDefinitionId: args.release.writerRoleId, scope: args.release.storeId, principalId }, parent));
    this.clientId = identity.clientId;
    this.principalId = principalId;
    this.nodes = { identity, federation, grants, ...(rbac ? { rbac } : {}), ...(releaseRole ? { releaseRole } : {}) };
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId });
  }
}
