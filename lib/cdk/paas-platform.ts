import { aws_ec2 as ec2, aws_elasticbeanstalk as elasticbeanstalk, aws_iam as iam, aws_servicediscovery as servicediscovery } from "aws-cdk-lib";
import { Construct } from "constructs";
import { BEANSTALK_SERVICE_MANAGED_POLICIES } from "../plan/host-bootstrap.js";
import { acknowledgeAwsManagedPolicies } from "./compliance.js";
import { ServiceRepositories } from "./service-repositories.js";

export interface PaasPlatformProps {
  /** VPC of the environments' instances. */
  readonly vpc: ec2.IVpc;
  /** Name of the Elastic Beanstalk application holding one environment per service. */
  readonly applicationName: string;
  /**
   * Service name → ECR repository name; one private repository each.
   * @default - no repositories
   */
  readonly repositories?: Readonly<Record<string, string>>;
  /**
   * Cloud Map HTTP namespace the services register in, such as `prod.shop.internal`.
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
 * What the Elastic Beanstalk services of a landing zone share: the application, the service role
 * Beanstalk uses for enhanced health and managed platform updates, the workload security group
 * every instance wears (data stores admit it), the Cloud Map HTTP namespace and one ECR repository
 * per service. Each service is a `PaasService` environment. Cost: none by itself; the environments'
 * instances are billed.
 *
 * @example
 * const platform = new PaasPlatform(stack, "Platform", { vpc, applicationName: "shop-prod", namespace: "prod.shop.internal" });
 * new ApiGateway(stack, "Gateway", { vpc, routes, auth, attachment: "services", workloadSecurityGroup: platform.workloadSecurityGroup });
 */
export class PaasPlatform extends Construct {
  readonly application: elasticbeanstalk.CfnApplication;
  readonly applicationName: string;
  /** Role Beanstalk assumes to monitor health and apply managed updates. */
  readonly serviceRole: iam.Role;
  readonly workloadSecurityGroup: ec2.SecurityGroup;
  /** The Cloud Map namespace, when `namespace` is given. */
  readonly namespace?: servicediscovery.CfnHttpNamespace;
  readonly repositories: ServiceRepositories;

  constructor(scope: Construct, id: string, props: PaasPlatformProps) {
    super(scope, id);
    this.applicationName = props.applicationName;
    this.application = new elasticbeanstalk.CfnApplication(this, "Application", {
      applicationName: props.applicationName,
      description: "One environment per service of the landing zone",
    });
    this.serviceRole = new iam.Role(this, "ServiceRole", {
      assumedBy: new iam.ServicePrincipal("elasticbeanstalk.amazonaws.com", { conditions: { StringEquals: { "sts:ExternalId": "elasticbeanstalk" } } }),
      description: "Elastic Beanstalk: enhanced health and managed platform updates",
      managedPolicies: BEANSTALK_SERVICE_MANAGED_POLICIES.map((name) => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
    });
    acknowledgeAwsManagedPolicies(this.serviceRole, "Elastic Beanstalk's service role");
    this.workloadSecurityGroup = new ec2.SecurityGroup(this, "WorkloadSecurityGroup", {
      vpc: props.vpc,
      description: "Instances of the services of the landing zone",
      // Instances pull images and platform updates through NAT and call AWS APIs.
      allowAllOutbound: true,
    });
    if (props.namespace) {
      this.namespace = new servicediscovery.CfnHttpNamespace(this, "Namespace", { name: props.namespace, description: "Registry of the landing zone's services" });
    }
    this.repositories = new ServiceRepositories(this, "Repositories", { repositories: props.repositories ?? {}, retain: props.retain ?? false });
  }
}
