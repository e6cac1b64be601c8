import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CLOUD_BUILD_SETTINGS } from "../../plan/cloud-build.js";

/** Arguments of {@link BuildWorkerPool}. */
export interface BuildWorkerPoolArgs {
  /** Pool name (1-63 lowercase letters, digits and '-'). */
  readonly name: string;
  /** Region of the pool and its network attachment (the subnet's). */
  readonly region: string;
  /** The subnet the workers get their interface in; give it Cloud NAT for public egress (base images, GitHub). */
  readonly subnetworkId: pulumi.Input<string>;
  /**
   * Worker machine type.
   * @default "e2-standard-4"
   */
  readonly machineType?: string;
  /**
   * Worker disk size, in GB.
   * @default 100
   */
  readonly diskSizeGb?: number;
  /**
   * Escape hatches: patch a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly networkAttachment?: (args: gcp.compute.NetworkAttachmentArgs) => void;
    readonly workerPool?: (args: gcp.cloudbuild.WorkerPoolArgs) => void;
  };
}

/**
 * A Cloud Build private pool whose workers have no public address and send all their traffic
 * through a Private Service Connect interface in the VPC's subnet: they reach a private GKE
 * endpoint authorized for that subnet (VPC peering would not, GKE's own peering being
 * non-transitive), and the internet only through the subnet's Cloud NAT.
 *
 * Cost: private pool workers bill per build minute at their machine type's rate.
 *
 * @example
 * const pool = new BuildWorkerPool("builds", { name: "shop-prod-builds", region: "asia-northeast3", subnetworkId: network.subnetworkId });
 * // trigger: build.options.workerPool = pool.id
 */
export class BuildWorkerPool extends pulumi.ComponentResource {
  /** `projects/<p>/locations/<region>/workerPools/<name>`, as a build's `options.workerPool` takes it. */
  readonly id: pulumi.Output<string>;
  readonly nodes: { readonly networkAttachment: gcp.compute.NetworkAttachment; readonly workerPool: gcp.cloudbuild.WorkerPool };

  constructor(name: string, args: BuildWorkerPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(args.name)) throw new Error(`BuildWorkerPool ${name}: name "${args.name}" is invalid. Fix: use 1-63 lowercase letters, digits and '-', starting with a letter`);
    super("msa:gcp:BuildWorkerPool", name, {}, opts);
    const parent = { parent: this };
    const attachmentArgs: gcp.compute.NetworkAttachmentArgs = {
      name: `${args.name}-psc`.slice(0, 63),
      region: args.region,
      subnetworks: [args.subnetworkId],
      // Cloud Build's tenant project is not known in advance, so the attachment accepts its connection automatically.
      connectionPreference: "ACCEPT_AUTOMATIC",
      description: `Build workers of ${args.name}`,
    };
    args.transform?.networkAttachment?.(attachmentArgs);
    const networkAttachment = new gcp.compute.NetworkAttachment(`${name}-attachment`, attachmentArgs, parent);
    const poolArgs: gcp.cloudbuild.WorkerPoolArgs = {
      name: args.name,
      location: args.region,
      workerConfig: { machineType: args.machineType ?? CLOUD_BUILD_SETTINGS.machineType, diskSizeGb: args.diskSizeGb ?? CLOUD_BUILD_SETTINGS.diskSizeGb, noExternalIp: true },
      privateServiceConnect: { networkAttachment: networkAttachment.id, routeAllTraffic: true },
    };
    args.transform?.workerPool?.(poolArgs);
    const workerPool = new gcp.cloudbuild.WorkerPool(`${name}-pool`, poolArgs, parent);
    this.id = workerPool.id;
    this.nodes = { networkAttachment, workerPool };
    this.registerOutputs({ id: this.id });
  }
}
