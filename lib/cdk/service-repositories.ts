import { RemovalPolicy, aws_ecr as ecr } from "aws-cdk-lib";
import { Construct } from "constructs";
import { pascalCase } from "../plan/naming.js";

export interface ServiceRepositoriesProps {
  /** Service name → ECR repository name; one private repository each. */
  readonly repositories: Readonly<Record<string, string>>;
  /**
   * Keep the repositories and their images when the stack deletes them.
   * @default false
   */
  readonly retain?: boolean;
}

/**
 * One private ECR repository per service, as `KubernetesPlatform` creates them for caas: images
 * scanned on push, immutable tags, KMS encryption and the last 30 images kept.
 *
 * @example
 * const registry = new ServiceRepositories(stack, "Repositories", { repositories: { orders: "shop-orders" } });
 * registry.repositories.get("orders")!.repositoryUriForTag("1.0.0");
 */
export class ServiceRepositories extends Construct {
  /** Service name → its repository. */
  readonly repositories: ReadonlyMap<string, ecr.Repository>;

  constructor(scope: Construct, id: string, props: ServiceRepositoriesProps) {
    super(scope, id);
    const retain = props.retain ?? false;
    const repositories = new Map<string, ecr.Repository>();
    for (const [service, repositoryName] of Object.entries(props.repositories)) {
      repositories.set(
        service,
        new ecr.Repository(this, `${pascalCase(service)}Repository`, {
          repositoryName,
          imageScanOnPush: true,
          imageTagMutability: ecr.TagMutability.IMMUTABLE,
          encryption: ecr.RepositoryEncryption.KMS,
          lifecycleRules: [{ description: "Keep the last 30 images", maxImageCount: 30 }],
          removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
          emptyOnDelete: !retain,
        }),
      );
    }
    this.repositories = repositories;
  }
}
