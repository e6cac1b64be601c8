import { RemovalPolicy, aws_ecr as ecr } from "aws-cdk-lib";
import { Construct } from "constructs";
import { DELIVERY_SETTINGS } from "../plan/delivery.js";
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
 * scanned on push, immutable tags, KMS encryption and the last `DELIVERY_SETTINGS.imagesKept` (30) images kept.
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
      repositories.set(service, serviceRepository(this, `${pascalCase(service)}Repository`, { repositoryName, removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY }));
    }
    this.repositories = repositories;
  }
}

/** Options of `serviceRepository`. */
export interface ServiceRepositoryOptions {
  /** The ECR repository's name. */
  readonly repositoryName: string;
  /** RETAIN keeps the repository and its images; otherwise it is emptied and deleted with the stack. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Images kept; older ones expire.
   * @default DELIVERY_SETTINGS.imagesKept
   */
  readonly imagesKept?: number;
}

/** A service's private ECR repository, as every construct creates one: scanned on push, immutable tags, KMS, the last images kept. */
export function serviceRepository(scope: Construct, id: string, options: ServiceRepositoryOptions): ecr.Repository {
  const imagesKept = options.imagesKept ?? DELIVERY_SETTINGS.imagesKept;
  return new ecr.Repository(scope, id, {
    repositoryName: options.repositoryName,
    imageScanOnPush: true,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    encryption: ecr.RepositoryEncryption.KMS,
    lifecycleRules: [{ description: `Keep the last ${imagesKept} images`, maxImageCount: imagesKept }],
    removalPolicy: options.removalPolicy,
    emptyOnDelete: options.removalPolicy !== RemovalPolicy.RETAIN,
  });
}
