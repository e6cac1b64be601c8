import { aws_codestarconnections as codestarconnections, aws_iam as iam, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { GITHUB_OIDC } from "../lib/plan/delivery.js";
import { githubOidcProvider } from "../lib/plan/github-oidc.js";
import { physicalName } from "../lib/plan/naming.js";
import type { LandingZonePlan } from "../lib/plan/types.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { sharedParameters } from "./shared-parameters.js";

export type DeliveryStackProps = PlanStackProps;

/**
 * `<name>-<env>-delivery`: what every service's delivery shares and the spec did not bring: the
 * CodeConnections connection to the repository host (native pipelines) and the IAM OIDC provider
 * for GitHub Actions (GitHub-built services, or micro-frontends deploying from GitHub). Publishes their ARNs as SSM parameters. Needed only when {@link DeliveryStack.isNeeded}.
 */
export class DeliveryStack extends PlanStack {
  /** Whether the plan needs a connection or OIDC provider it does not name. */
  static isNeeded(plan: LandingZonePlan): boolean {
    return DeliveryStack.needsConnection(plan) || DeliveryStack.needsGithubOidcProvider(plan);
  }

  private static needsConnection(plan: LandingZonePlan): boolean {
    return plan.delivery?.provider === "native" && plan.delivery.connectionArn === undefined;
  }

  private static needsGithubOidcProvider(plan: LandingZonePlan): boolean {
    const oidc = githubOidcProvider(plan);
    return oidc !== undefined && oidc.existingArn === undefined;
  }

  /** The connection; its status stays PENDING until someone completes the handshake in the console once. */
  readonly connection?: codestarconnections.CfnConnection;
  /** The account's OIDC provider for GitHub Actions (an account holds one per URL). */
  readonly githubOidcProvider?: iam.OidcProviderNative;

  constructor(scope: Construct, id: string, props: DeliveryStackProps) {
    super(scope, id, props);
    const { plan } = props;
    if (!DeliveryStack.isNeeded(plan)) {
      throw new Error(`DeliveryStack: the plan needs no shared delivery resource (pipelines off and no micro-frontends deploying from GitHub, or connectionArn / githubOidcProviderArn given). Fix: leave this stack out`);
    }
    if (DeliveryStack.needsConnection(plan)) {
      this.connection = new codestarconnections.CfnConnection(this, "Connection", { connectionName: physicalName("connection", plan.name, plan.environment), providerType: "GitHub" });
      new ssm.StringParameter(this, "ConnectionArnParameter", { parameterName: sharedParameters.connectionArn(plan), stringValue: this.connection.attrConnectionArn });
    }
    if (DeliveryStack.needsGithubOidcProvider(plan)) {
      this.githubOidcProvider = new iam.OidcProviderNative(this, "GitHubOidcProvider", { url: GITHUB_OIDC.url, clientIds: [GITHUB_OIDC.audience] });
      new ssm.StringParameter(this, "GitHubOidcProviderArnParameter", { parameterName: sharedParameters.githubOidcProviderArn(plan), stringValue: this.githubOidcProvider.oidcProviderArn });
    }
  }
}
