import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { JwtIssuer } from "../../kubernetes/gateway-auth.js";
import { projectOf } from "./project.js";

/** Where Identity Platform publishes the keys that sign its ID tokens. */
export const IDENTITY_PLATFORM_JWKS_URI = "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

/** The issuer of Identity Platform ID tokens of a project: `iss` https://securetoken.google.com/<project>, `aud` the project id. */
export function identityPlatformIssuer(projectId: pulumi.Input<string>): pulumi.Output<JwtIssuer> {
  return pulumi.output(projectId).apply((id) => ({ issuer: `https://securetoken.google.com/${id}`, jwksUri: IDENTITY_PLATFORM_JWKS_URI, audiences: [id] }));
}

/** Arguments of {@link UserDirectory}. */
export interface UserDirectoryArgs {
  /**
   * Domains allowed to sign users in (redirects, OAuth), e.g. the gateway's.
   * @default - Identity Platform's defaults (localhost and the project's Firebase domains)
   */
  readonly authorizedDomains?: readonly pulumi.Input<string>[];
  /**
   * Protect the configuration, which holds the users (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Escape hatch: patches the configuration's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly config?: (args: gcp.identityplatform.ConfigArgs) => void };
}

/**
 * The client-token identity provider on GCP: Identity Platform turned on for the project with
 * email and password sign-in (no duplicate accounts, anonymous users cleaned up), issuing the JWTs
 * the services' Istio policies validate ({@link issuer}).
 *
 * Cost: Identity Platform bills per monthly active user beyond the free tier.
 *
 * @example
 * const users = new UserDirectory("users", { authorizedDomains: ["shop.example.com"] });
 * // gatewayAuthPolicies(plan, { kind: "load-balancer" }, { issuer }) with users.issuer
 */
export class UserDirectory extends pulumi.ComponentResource {
  readonly issuer: pulumi.Output<JwtIssuer>;
  readonly config: gcp.identityplatform.Config;

  constructor(name: string, args: UserDirectoryArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("msa:gcp:UserDirectory", name, {}, opts);
    const configArgs: gcp.identityplatform.ConfigArgs = {
      signIn: { email: { enabled: true, passwordRequired: true }, allowDuplicateEmails: false },
      autodeleteAnonymousUsers: true,
      ...(args.authorizedDomains ? { authorizedDomains: [...args.authorizedDomains] } : {}),
    };
    args.transform?.config?.(configArgs);
    this.config = new gcp.identityplatform.Config(`${name}-config`, configArgs, { parent: this, protect: args.retain ?? false, retainOnDelete: args.retain ?? false });
    this.issuer = identityPlatformIssuer(projectOf(this).id);
    this.registerOutputs({ issuer: this.issuer });
  }
}
