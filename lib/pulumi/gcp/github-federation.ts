import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { GITHUB_OIDC } from "../../plan/delivery.js";

/** Claims of GitHub's OIDC token copied into Google attributes: the subject (`repo:<owner>/<repo>:environment:<env>`), the repository and its owner. */
export const GITHUB_ATTRIBUTE_MAPPING = {
  "google.subject": "assertion.sub",
  "attribute.repository": "assertion.repository",
  "attribute.repository_owner": "assertion.repository_owner",
} as const;

/** Arguments of {@link GitHubFederation}. */
export interface GitHubFederationArgs {
  /** GitHub user or organization whose repositories' workflows may sign in; every other owner's token is refused. */
  readonly owner: string;
  /** Pool id (4-32 lowercase letters, digits and '-', not starting with `gcp-`), e.g. the plan's `frontends.gcp.githubPoolId`. */
  readonly poolId: string;
  /**
   * Provider id inside the pool.
   * @default "github"
   */
  readonly providerId?: string;
  /**
   * Escape hatch: patches the provider's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly provider?: (args: gcp.iam.WorkloadIdentityPoolProviderArgs) => void };
}

/** The raw children of a {@link GitHubFederation}. */
export interface GitHubFederationNodes {
  readonly pool: gcp.iam.WorkloadIdentityPool;
  readonly provider: gcp.iam.WorkloadIdentityPoolProvider;
}

/**
 * Keyless sign-in for GitHub Actions: a Workload Identity Federation pool with a GitHub OIDC
 * provider that accepts only tokens of `owner`'s repositories. It grants nothing by itself: a
 * service account lets one workflow act as it by granting `roles/iam.workloadIdentityUser` to
 * `subjectMember(subject)` of that workflow's subject. No cost.
 *
 * @example
 * const github = new GitHubFederation("shop-github", { owner: "acme", poolId: "gh-shop-prod" });
 * new gcp.serviceaccount.IAMMember("deployer-github", { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: github.subjectMember("repo:acme/web-ui:environment:prod") });
 * export const workloadIdentityProvider = github.providerName;
 */
export class GitHubFederation extends pulumi.ComponentResource {
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>`. */
  readonly poolName: pulumi.Output<string>;
  /** The provider's full name, what `google-github-actions/auth` takes as `workload_identity_provider`. */
  readonly providerName: pulumi.Output<string>;
  readonly nodes: GitHubFederationNodes;

  constructor(name: string, args: GitHubFederationArgs, opts?: pulumi.ComponentResourceOptions) {
    // The owner is written into a CEL string literal: only GitHub's own name characters may reach it.
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(args.owner)) throw new Error(`GitHubFederation ${name}: owner "${args.owner}" is not a GitHub user or organization name. Fix: pass a name such as acme-shop`);
    const providerId = args.providerId ?? "github";
    for (const [prop, id] of [["poolId", args.poolId], ["providerId", providerId]] as const) {
      if (!/^[a-z0-9-]{4,32}$/.test(id) || id.startsWith("gcp-")) throw new Error(`GitHubFederation ${name}: ${prop} "${id}" is invalid. Fix: use 4-32 lowercase letters, digits and '-', not starting with "gcp-"`);
    }
    super("msa:gcp:GitHubFederation", name, {}, opts);
    const parent = { parent: this };
    const pool = new gcp.iam.WorkloadIdentityPool(`${name}-pool`, { workloadIdentityPoolId: args.poolId, displayName: "GitHub Actions", description: `Workflows of ${args.owner}'s repositories` }, parent);
    const providerArgs: gcp.iam.WorkloadIdentityPoolProviderArgs = {
      workloadIdentityPoolId: pool.workloadIdentityPoolId,
      workloadIdentityPoolProviderId: providerId,
      displayName: "GitHub",
      description: `GitHub Actions OIDC tokens of ${args.owner}'s repositories`,
      attributeMapping: { ...GITHUB_ATTRIBUTE_MAPPING },
      // Without a condition any GitHub repository's token would be accepted into the pool.
      attributeCondition: `assertion.repository_owner == '${args.owner}'`,
      // The default audience (the provider's own URL) is what google-github-actions/auth requests.
      oidc: { issuerUri: GITHUB_OIDC.url },
    };
    args.transform?.provider?.(providerArgs);
    const provider = new gcp.iam.WorkloadIdentityPoolProvider(`${name}-provider`, providerArgs, parent);
    this.poolName = pool.name;
    this.providerName = provider.name;
    this.nodes = { pool, provider };
    this.registerOutputs({ poolName: this.poolName, providerName: this.providerName });
  }

  /** The principal of every token with this exact subject, e.g. `repo:acme/web-ui:environment:prod`. */
  subjectMember(subject: string): pulumi.Output<string> {
    return githubSubjectMember(this.poolName, subject);
  }
}

/** `principal://iam.googleapis.com/<pool>/subject/<subject>`: the workflows whose token carries exactly this subject. */
export function githubSubjectMember(poolName: pulumi.Input<string>, subject: string): pulumi.Output<string> {
  return pulumi.interpolate`principal://iam.googleapis.com/${poolName}/subject/${subject}`;
}
