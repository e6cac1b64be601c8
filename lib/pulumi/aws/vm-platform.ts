import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { LandingZonePlan } from "../../plan/types.js";
import { serviceRepositories } from "./service-repository.js";

export interface VmPlatformArgs {
  /** VPC of the services' instances. */
  readonly vpcId: pulumi.Input<string>;
  /**
   * ECR repositories to create, by name (one per service).
   * @default - none
   */
  readonly repositories?: readonly string[];
  /**
   * Cloud Map private DNS namespace the services register in, such as `prod.shop.internal`.
   * @default - no registry
   */
  readonly namespace?: string;
  /**
   * Protect the repositories (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly securityGroup?: (args: aws.ec2.SecurityGroupArgs) => void;
    readonly repository?: (args: aws.ecr.RepositoryArgs, repositoryName: string) => void;
  };
}

/** Maps a plan (tier iaas) and its VPC to {@link VmPlatformArgs}. */
export function vmPlatformArgsFromPlan(plan: LandingZonePlan, vpcId: pulumi.Input<string>): VmPlatformArgs {
  const namespace = plan.hosts?.discovery?.namespace;
  return { vpcId, repositories: plan.services.map((s) => s.repository), ...(namespace ? { namespace } : {}), retain: plan.protection.retain, tags: plan.tags };
}

/**
 * What the VM services of a landing zone share, as the CDK `VmPlatform` builds it: the workload
 * security group every instance wears (data stores and the gateway admit it; instances reach each
 * other through it), the Cloud Map private DNS namespace they register in, and one ECR repository
 * per service. Each service's fleet is a {@link VmService}. Cost: the namespace's hosted zone is
 * billed monthly.
 *
 * @example
 * const platform = new VmPlatform("shop-platform", { vpcId: network.vpcId, namespace: "prod.shop.internal", repositories: ["shop-orders"] });
 */
export class VmPlatform extends pulumi.ComponentResource {
  readonly workloadSecurityGroupId: pulumi.Output<string>;
  /** Namespace id and its Route 53 private hosted zone, when `namespace` is given. */
  readonly namespaceId?: pulumi.Output<string>;
  readonly hostedZoneId?: pulumi.Output<string>;
  /** Repository URL by repository name. */
  readonly repositoryUrls: pulumi.Output<Record<string, string>>;
  readonly nodes: {
    readonly securityGroup: aws.ec2.SecurityGroup;
    readonly namespace?: aws.servicediscovery.PrivateDnsNamespace;
    readonly repositories: Readonly<Record<string, aws.ecr.Repository>>;
  };

  constructor(name: string, args: VmPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:aws:VmPlatform", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;
    const securityGroupArgs: aws.ec2.SecurityGroupArgs = {
      vpcId: args.vpcId,
      description: "Instances of the services of the landing zone",
      // Instances pull images and packages through NAT and call AWS APIs.
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "Registries, packages and AWS APIs through NAT" }],
      tags: { ...tags, Name: `${name}-workloads` },
    };
    args.transform?.securityGroup?.(securityGroupArgs);
    const securityGroup = new aws.ec2.SecurityGroup(`${name}-workloads`, securityGroupArgs, parent);
    // Services call each other directly on the addresses Cloud Map returns.
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-workloads-internal`,
      { securityGroupId: securityGroup.id, referencedSecurityGroupId: securityGroup.id, ipProtocol: "tcp", fromPort: 0, toPort: 65535, description: "Services of the landing zone" },
      parent,
    );
    const namespace = args.namespace
      ? new aws.servicediscovery.PrivateDnsNamespace(`${name}-namespace`, { name: args.namespace, vpc: args.vpcId, description: "Registry of the landing zone's services", tags }, parent)
      : undefined;
    const transform = args.transform?.repository;
    const repositories = serviceRepositories(this, name, args.repositories ?? [], { retain, tags, ...(transform ? { transform } : {}) });

    this.workloadSecurityGroupId = securityGroup.id;
    if (namespace) {
      this.namespaceId = namespace.id;
      this.hostedZoneId = namespace.hostedZone;
    }
    this.repositoryUrls = pulumi.all(Object.fromEntries(Object.entries(repositories).map(([n, r]) => [n, r.repositoryUrl])));
    this.nodes = { securityGroup, repositories, ...(namespace ? { namespace } : {}) };
    this.registerOutputs({ workloadSecurityGroupId: this.workloadSecurityGroupId, repositoryUrls: this.repositoryUrls });
  }
}
