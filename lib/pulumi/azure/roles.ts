import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/** Built-in Azure roles the landing zone grants, by their fixed definition GUIDs; each is the narrowest role for its use. */
export const AZURE_ROLES = {
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  acrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
  websiteContributor: "de139f84-1756-47ae-9be6-808fbbe84772",
  networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
  managedIdentityOperator: "f1a07417-d97a-45cb-824c-7a7467783830",
  aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
  serviceBusDataSender: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
  serviceBusDataReceiver: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  keyVaultSecretsOfficer: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  appConfigurationDataReader: "516239f1-63e1-4d78-a4de-a74fb236a071",
  appConfigurationDataOwner: "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b",
  eventHubsDataSender: "2b629674-e913-4c01-ae53-ef4638d8f975",
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  virtualMachineUserLogin: "fb879df8-f326-4884-b1cf-06f3ad86be52",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
} as const;

export type AzureRole = keyof typeof AZURE_ROLES;

/** The definition id of a built-in role, valid at any scope. */
export function roleDefinitionId(role: AzureRole): string {
  return `/providers/Microsoft.Authorization/roleDefinitions/${AZURE_ROLES[role]}`;
}

export interface RoleGrant {
  readonly role: AzureRole;
  /** The narrowest resource the grant applies to (a topic, a subscription, a registry, a subnet). */
  readonly scope: pulumi.Input<string>;
  readonly principalId: pulumi.Input<string>;
  /**
   * Managed identities are service principals; stating it spares Azure a directory lookup that fails
   * right after the identity is created. "Unknown" leaves it to Azure (the deployer may be a user or a service principal).
   * @default "ServicePrincipal"
   */
  readonly principalType?: "ServicePrincipal" | "User" | "Group" | "Unknown";
}

/**
 * Grants a role at a scope, named by a GUID derived from (scope, principal, role) as Bicep's
 * guid() does, so the assignment is idempotent and a second grant of the same triple is the same resource.
 */
export function grantRole(name: string, grant: RoleGrant, opts: pulumi.CustomResourceOptions): authorization.RoleAssignment {
  const assignmentName = pulumi
    .all([grant.scope, grant.principalId])
    .apply(([scope, principal]) => guidFrom(`${scope}|${principal}|${AZURE_ROLES[grant.role]}`));
  return new authorization.RoleAssignment(
    name,
    {
      roleAssignmentName: assignmentName,
      scope: grant.scope,
      principalId: grant.principalId,
      ...(grant.principalType === "Unknown" ? {} : { principalType: grant.principalType ?? "ServicePrincipal" }),
      roleDefinitionId: roleDefinitionId(grant.role),
    },
    opts,
  );
}

/** A name-based (version 5 style) GUID from text. */
export function guidFrom(text: string): string {
  const h = createHash("sha1").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** Assigns a custom role (its definition's resource id) at a scope, named as {@link grantRole} names built-in grants. */
export function grantCustomRole(name: string, grant: { readonly roleDefinitionId: pulumi.Input<string>; readonly scope: pulumi.Input<string>; readonly principalId: pulumi.Input<string> }, opts: pulumi.CustomResourceOptions): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    name,
    {
      roleAssignmentName: pulumi.all([grant.scope, grant.principalId, grant.roleDefinitionId]).apply(([scope, principal, role]) => guidFrom(`${scope}|${principal}|${role}`)),
      scope: grant.scope,
      principalId: grant.principalId,
      principalType: "ServicePrincipal",
      roleDefinitionId: grant.roleDefinitionId,
    },
    opts,
  );
}

/**
 * A custom role holding only `actions` (and `dataActions`), defined in the resource group of `resourceId` and assignable
 * there (custom roles cannot be assignable at a single resource; assign it at the resource).
 */
export function customRole(
  name: string,
  role: {
    readonly resourceId: pulumi.Output<string>;
    readonly purpose: string;
    readonly actions: readonly string[];
    readonly dataActions?: readonly string[];
    /** Patches the definition's args before it is created. */
    readonly transform?: (args: authorization.RoleDefinitionArgs) => void;
  },
  opts: pulumi.CustomResourceOptions,
): authorization.RoleDefinition {
  const resourceGroupId = role.resourceId.apply((id) => id.split("/providers/")[0]!);
  const args: authorization.RoleDefinitionArgs = {
    scope: resourceGroupId,
    roleDefinitionId: role.resourceId.apply((id) => guidFrom(`${id}|${role.purpose}`)),
    // Role names are unique in the tenant.
    roleName: role.resourceId.apply((id) => `${role.purpose} ${guidFrom(id)}`),
    description: role.resourceId.apply((id) => `${role.purpose}: ${id.split("/").pop()}`),
    permissions: [{ actions: [...role.actions], ...(role.dataActions ? { dataActions: [...role.dataActions] } : {}) }],
    assignableScopes: [resourceGroupId],
  };
  role.transform?.(args);
  return new authorization.RoleDefinition(name, args, opts);
}
