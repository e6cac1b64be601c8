import * as operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of {@link LogWorkspace}. */
export interface LogWorkspaceArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region of the workspace. */
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /**
   * Days logs stay queryable (30-730).
   * @default 30
   */
  readonly retentionDays?: number;
  /**
   * Keep the workspace (and its logs) when the stack is destroyed, and protect it.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on the workspace.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches the workspace's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly workspace?: (args: operationalinsights.WorkspaceArgs) => void };
}

/**
 * The Log Analytics workspace every part of the landing zone sends its diagnostic logs and metrics
 * to (NSGs, VNet flow-log analytics, AKS control plane and Container Insights, gateway, data stores).
 *
 * Cost: ingestion bills per GB, retention beyond 31 days per GB per month.
 *
 * @example
 * const logs = new LogWorkspace("shop-logs", { resourceGroupName: group.name, location: "eastus", retentionDays: 90 });
 * export const workspaceId = logs.workspaceId;
 */
export class LogWorkspace extends pulumi.ComponentResource {
  /** ARM resource id, the `workspaceId` of diagnostic settings. */
  readonly workspaceId: pulumi.Output<string>;
  /** The workspace (customer) GUID agents and Traffic Analytics address. */
  readonly customerId: pulumi.Output<string>;
  readonly nodes: { readonly workspace: operationalinsights.Workspace };

  constructor(name: string, args: LogWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
    const retentionDays = args.retentionDays ?? 30;
    if (!Number.isInteger(retentionDays) || retentionDays < 30 || retentionDays > 730) {
      throw new Error(`LogWorkspace ${name}: retentionDays is ${retentionDays}. Fix: use an integer from 30 to 730`);
    }
    super("msa:azure:LogWorkspace", name, {}, opts);
    const workspaceArgs: operationalinsights.WorkspaceArgs = {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      sku: { name: "PerGB2018" },
      retentionInDays: retentionDays,
      // Readers need Azure RBAC on the workspace or its resources, never a shared workspace key.
      features: { enableLogAccessUsingOnlyResourcePermissions: true },
      tags: { ...args.tags },
    };
    args.transform?.workspace?.(workspaceArgs);
    const workspace = new operationalinsights.Workspace(`${name}-workspace`, workspaceArgs, { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) });
    this.workspaceId = workspace.id;
    this.customerId = workspace.customerId;
    this.nodes = { workspace };
    this.registerOutputs({ workspaceId: this.workspaceId, customerId: this.customerId });
  }
}
