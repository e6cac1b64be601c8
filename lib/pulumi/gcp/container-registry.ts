import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { projectOf } from "./project.js";

/** Image versions a repository always keeps; older ones are deleted once IMAGE_MAX_AGE has passed. */
export const IMAGES_KEPT = 30;
/** Age after which an image beyond the kept ones is deleted: 30 days. */
export const IMAGE_MAX_AGE = "2592000s";

const REPOSITORY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Arguments of {@link ContainerRegistry}. */
export interface ContainerRegistryArgs {
  /** Region the repositories live in (images are pulled from `<region>-docker.pkg.dev`). */
  readonly region: string;
  /** Repository ids to create, one per service (`plan.services[].repository`). */
  readonly repositories: readonly string[];
  /**
   * Members (`serviceAccount:...`) that may pull from every repository, e.g. the GKE nodes.
   * @default - none
   */
  readonly readers?: readonly pulumi.Input<string>[];
  /**
   * Protect the repositories (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Labels on every repository.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a repository's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly repository?: (args: gcp.artifactregistry.RepositoryArgs, repositoryId: string) => void };
}

/**
 * An Artifact Registry Docker repository per service: immutable tags, vulnerability scanning (with
 * the Container Scanning API on), cleanup keeping the last IMAGES_KEPT versions, and read access
 * granted per repository, so each service's pipeline and runtime can be scoped to its own images.
 *
 * Cost: Artifact Registry bills per GiB stored beyond the free tier, and per image scanned.
 *
 * @example
 * const registry = new ContainerRegistry("shop", { region: "asia-northeast3", repositories: ["shop-orders"], readers: [platform.nodeServiceAccountMember] });
 * export const ordersRepository = registry.repositoryUrls["shop-orders"];
 */
export class ContainerRegistry extends pulumi.ComponentResource {
  /** `<region>-docker.pkg.dev/<project>/<repository>` by repository id. */
  readonly repositoryUrls: Readonly<Record<string, pulumi.Output<string>>>;
  /** Full repository names (`projects/<p>/locations/<r>/repositories/<id>`) by repository id, for IAM grants. */
  readonly repositoryNames: Readonly<Record<string, pulumi.Output<string>>>;
  readonly nodes: {
    readonly repositories: Readonly<Record<string, gcp.artifactregistry.Repository>>;
    readonly readerBindings: readonly gcp.artifactregistry.RepositoryIamMember[];
  };

  constructor(name: string, args: ContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    for (const id of args.repositories) {
      if (!REPOSITORY_ID.test(id)) throw new Error(`ContainerRegistry ${name}: repository id "${id}" is invalid. Fix: use 1-63 lowercase letters, digits and '-', starting with a letter`);
    }
    const duplicate = args.repositories.find((id, i) => args.repositories.indexOf(id) !== i);
    if (duplicate) throw new Error(`ContainerRegistry ${name}: repository "${duplicate}" is listed twice. Fix: list each repository once`);
    super("msa:gcp:ContainerRegistry", name, {}, opts);
    const project = projectOf(this).id;
    const repositories: Record<string, gcp.artifactregistry.Repository> = {};
    const readerBindings: gcp.artifactregistry.RepositoryIamMember[] = [];
    const urls: Record<string, pulumi.Output<string>> = {};
    const names: Record<string, pulumi.Output<string>> = {};
    for (const repositoryId of args.repositories) {
      const repositoryArgs: gcp.artifactregistry.RepositoryArgs = {
        repositoryId,
        location: args.region,
        format: "DOCKER",
        description: `Images of ${repositoryId}`,
        dockerConfig: { immutableTags: true },
        vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
        cleanupPolicyDryRun: false,
        cleanupPolicies: [
          { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: IMAGES_KEPT } },
          { id: "delete-old", action: "DELETE", condition: { tagState: "ANY", olderThan: IMAGE_MAX_AGE } },
        ],
        labels: { ...args.labels },
      };
      args.transform?.repository?.(repositoryArgs, repositoryId);
      const repository = new gcp.artifactregistry.Repository(`${name}-${repositoryId}`, repositoryArgs, { parent: this, protect: args.retain ?? false, retainOnDelete: args.retain ?? false });
      repositories[repositoryId] = repository;
      urls[repositoryId] = pulumi.interpolate`${args.region}-docker.pkg.dev/${project}/${repository.repositoryId}`;
      names[repositoryId] = repository.name;
      (args.readers ?? []).forEach((member, i) =>
        readerBindings.push(
          new gcp.artifactregistry.RepositoryIamMember(
            `${name}-${repositoryId}-reader-${i}`,
            { location: args.region, repository: repository.name, role: "roles/artifactregistry.reader", member },
            { parent: this },
          ),
        ),
      );
    }
    this.repositoryUrls = urls;
    this.repositoryNames = names;
    this.nodes = { repositories, readerBindings };
    this.registerOutputs({ repositoryUrls: pulumi.all(urls) });
  }
}
