import { aws_ec2 as ec2, aws_servicediscovery as servicediscovery } from "aws-cdk-lib";
import { Construct } from "constructs";
import { ServiceRepositories } from "./service-repositories.js";

export interface VmPlatformProps {
  /** VPC of the services' instances. */
  readonly vpc: ec2.IVpc;
  /**
   * Service name → ECR repository name; one private repository each.
   * @default - no repositories
   */
  readonly repositories?: Readonly<Record<string, string>>;
  /**
   * Cloud Map private DNS namespace the services register in, such as `prod.shop.internal`.
   * @default - no registry
   */
  readonly namespace?: string;
  /**
   * Keep the repositories when the stack deletes them.
   * @default false
   */
  readonly retain?: boolean;
}

/**
 * What the VM services of a landing zone share: the workload security group every instance wears
 * (data stores and the gateway admit it; instances reach each other through it), the Cloud Map
 * private DNS namespace they register in, and one ECR repository per service. Each service's fleet
 * is a `VmService`. Cost: the namespace's hosted zone is billed monthly; instances per `VmService`.
 *
 * @example
 * const platform = new VmPlatform(stack, "Platform", { vpc, namespace: "prod.shop.internal", repositories: { orders: "shop-orders" } });
 * new VmService(stack, "Orders", { plan, serviceName: "orders", vpc, workloadSecurityGroup: platform.workloadSecurityGroup, image });
 */
export class VmPlatform extends Construct {
  readonly workloadSecurityGroup: ec2.SecurityGroup;
  /** The Cloud Map namespace, when `namespace` is given. */
  readonly namespace?: servicediscovery.CfnPrivateDnsNamespace;
  /** Service name → its repository. */
  readonly repositories: ServiceRepositories;

  constructor(scope: Construct, id: string, props: VmPlatformProps) {
    super(scope, id);
    this.workloadSecurityGroup = new ec2.SecurityGroup(this, "WorkloadSecurityGroup", {
      vpc: props.vpc,
      description: "Instances of the services of the landing zone",
      // Instances pull images and packages through NAT and call AWS APIs.
      allowAllOutbound: true,
    });
    // Services call each other directly on the addresses Cloud Map returns.
    this.workloadSecurityGroup.addIngressRule(this.workloadSecurityGroup, ec2.Port.allTcp(), "Services of the landing zone");
    if (props.namespace) {
      this.namespace = new servicediscovery.CfnPrivateDnsNamespace(this, "Namespace", {
        name: props.namespace,
        vpc: props.vpc.vpcId,
        description: "Registry of the landing zone's services",
      });
    }
    this.repositories = new ServiceRepositories(this, "Repositories", { repositories: props.repositories ?? {}, retain: props.retain ?? false });
  }
}
