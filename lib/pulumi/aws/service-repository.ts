import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { ecrLifecyclePolicy } from "../../plan/delivery.js";

export interface ServiceRepositoryOptions {
  /** The ECR repository's name. */
  readonly repositoryName: string;
  /** Pulumi names of the repository and of its lifecycle policy (stable: a changed name replaces the repository). */
  readonly resourceNames: { readonly repository: string; readonly lifecycle: string };
  /** Protect and keep the repository and its images when the stack deletes it. */
  readonly retain: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * ARN of the KMS key encrypting the images.
   * @default - the AWS-managed key of ECR
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /**
   * Images kept; older ones expire.
   * @default DELIVERY_SETTINGS.imagesKept
   */
  readonly imagesKept?: number;
  /**
   * Patches the repository's arguments before it is created.
   * @default - none
   */
  readonly transform?: (args: aws.ecr.RepositoryArgs) => void;
}

/** A service's private ECR repository, as every AWS component creates one: scanned on push, immutable tags, KMS, the last images kept. */
export function serviceRepository(parent: pulumi.ComponentResource, options: ServiceRepositoryOptions): aws.ecr.Repository {
  const { retain } = options;
  const repositoryArgs: aws.ecr.RepositoryArgs = {
    name: options.repositoryName,
    imageScanningConfiguration: { scanOnPush: true },
    imageTagMutability: "IMMUTABLE",
    encryptionConfigurations: [options.kmsKeyArn ? { encryptionType: "KMS", kmsKey: options.kmsKeyArn } : { encryptionType: "KMS" }],
    forceDelete: !retain,
    tags: { ...options.tags },
  };
  options.transform?.(repositoryArgs);
  const repository = new aws.ecr.Repository(options.resourceNames.repository, repositoryArgs, { parent, protect: retain, retainOnDelete: retain });
  new aws.ecr.LifecyclePolicy(options.resourceNames.lifecycle, { repository: repository.name, policy: ecrLifecyclePolicy(options.imagesKept) }, { parent });
  return repository;
}

/** Options of `serviceRepositories`: those of `serviceRepository` but the names, with a transform told which repository it patches. */
export interface ServiceRepositoriesOptions extends Omit<ServiceRepositoryOptions, "repositoryName" | "resourceNames" | "transform"> {
  /**
   * Patches a repository's arguments before it is created.
   * @default - none
   */
  readonly transform?: (args: aws.ecr.RepositoryArgs, repositoryName: string) => void;
}

/** A platform's repositories, one per name, each named `<component>-<repository>` in Pulumi (and `-lifecycle` for its policy). */
export function serviceRepositories(parent: pulumi.ComponentResource, componentName: string, repositoryNames: readonly string[], options: ServiceRepositoriesOptions): Record<string, aws.ecr.Repository> {
  const { transform, ...shared } = options;
  return Object.fromEntries(
    repositoryNames.map((repositoryName) => [
      repositoryName,
      serviceRepository(parent, {
        ...shared,
        repositoryName,
        resourceNames: { repository: `${componentName}-${repositoryName}`, lifecycle: `${componentName}-${repositoryName}-lifecycle` },
        ...(transform ? { transform: (args: aws.ecr.RepositoryArgs) => transform(args, repositoryName) } : {}),
      }),
    ]),
  );
}
