/**
 * The AWS account's GitHub OIDC provider, decided once for both engines: GitHub-built services and
 * micro-frontends deploying from GitHub share it (an account holds one per URL).
 */
import type { LandingZonePlan } from "./types.js";

/** What the GitHub OIDC provider is for, and the existing one the spec names. */
export interface GithubOidcProviderPlan {
  /** `pipelines.githubOidcProviderArn`; undefined when the landing zone creates the provider. */
  readonly existingArn?: string;
  /** The services build and deploy from GitHub Actions. */
  readonly services: boolean;
  /** The micro-frontends deploy from GitHub Actions (`plan.frontends.github`). */
  readonly frontends: boolean;
}

/** The provider the plan uses, or undefined when nothing in it signs in from GitHub through AWS IAM. */
export function githubOidcProvider(plan: LandingZonePlan): GithubOidcProviderPlan | undefined {
  const services = plan.delivery?.provider === "github-actions";
  const frontends = plan.frontends?.github !== undefined;
  if (!services && !frontends) return undefined;
  const existingArn = plan.delivery?.githubOidcProviderArn ?? plan.frontends?.github?.oidcProviderArn;
  return { ...(existingArn ? { existingArn } : {}), services, frontends };
}
