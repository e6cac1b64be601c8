import { Aws, Fn, RemovalPolicy, Validations, aws_certificatemanager as acm, aws_cloudfront as cloudfront, aws_iam as iam, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { EdgeWebAcl } from "../lib/cdk/edge-web-acl.js";
import { FrontendHosting } from "../lib/cdk/frontend-hosting.js";
import { GITHUB_OIDC } from "../lib/plan/delivery.js";
import { FRONTEND_DEPLOY_ACTIONS } from "../lib/plan/frontends.js";
import { githubOidcProvider } from "../lib/plan/github-oidc.js";
import { pascalCase } from "../lib/plan/naming.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";
import { readParameter, sharedParameters } from "./shared-parameters.js";

export interface FrontendsStackProps extends PlanStackProps {
  /**
   * ARN of the CDN's web ACL from the us-east-1 edge stack.
   * @default - created here when this stack is in us-east-1, else none
   */
  readonly webAclArn?: string;
}

/**
 * `<name>-<env>-frontends`: the micro-frontends' buckets, deploy roles and CDN. The API origin is
 * the gateway's host, from the API id the platform publishes as an SSM parameter; each app's bucket name and the
 * distribution id are published as SSM parameters its deploy job reads.
 */
export class FrontendsStack extends PlanStack {
  readonly hosting: FrontendHosting;

  constructor(scope: Construct, id: string, props: FrontendsStackProps) {
    super(scope, id, { ...props, crossRegionReferences: props.webAclArn !== undefined });
    const { plan } = props;
    const frontends = plan.frontends;
    if (!frontends) throw new Error(`FrontendsStack: plan.frontends is undefined. Fix: add frontends to the spec, or leave this stack out`);
    const read = (name: string) => readParameter(this, name);
    let webAclArn = props.webAclArn;
    if (frontends.waf && !webAclArn) {
      if (this.region !== frontends.edgeRegion) throw new Error(`FrontendsStack: frontends need a web ACL from ${frontends.edgeRegion}. Fix: pass webAclArn from a FrontendsEdgeStack`);
      webAclArn = new EdgeWebAcl(this, "WebAcl", {
        requestsPerMinute: frontends.wafRequestsPerMinute,
        logEncryptionKey: this.logKey,
        removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      }).webAclArn;
    }
    const apps = [frontends.shell, ...frontends.fragments];
    // The apps deploy from GitHub whenever the repositories have an owner, whatever the services' pipelines.
    const oidc = frontends.github ? githubOidcProvider(plan) : undefined;
    const oidcProviderArn = oidc ? (oidc.existingArn ?? read(sharedParameters.githubOidcProviderArn(plan))) : undefined;

    this.hosting = new FrontendHosting(this, "Frontends", {
      shell: frontends.shell.name,
      fragments: frontends.fragments.map((f) => f.name),
      // The HTTP API's own host name, from the id the platform publishes.
      ...(frontends.shellBff
        ? { api: { domainName: Fn.join("", [read(sharedParameters.gatewayApiId(plan)), ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX]), pathPatterns: frontends.apiRoutes.map((r) => r.pathPattern) } }
        : {}),
      ...(oidcProviderArn
        ? {
            deployPrincipal: (name: string) => {
              const subject = apps.find((a) => a.name === name)!.deploySubject;
              if (!subject) throw new Error(`FrontendsStack: the ${name} deploy role trusts GitHub, but pipelines.repositoryOwner is undefined. Fix: set pipelines.repositoryOwner`);
              return new iam.WebIdentityPrincipal(oidcProviderArn, { StringEquals: { [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience, [`${GITHUB_OIDC.host}:sub`]: subject } });
            },
          }
        : {}),
      deployRoleName: (name) => apps.find((a) => a.name === name)!.deployRole,
      ...(webAclArn ? { webAclArn } : {}),
      ...(frontends.domain ? { domain: { names: [frontends.domain.name], certificate: acm.Certificate.fromCertificateArn(this, "Certificate", frontends.domain.certificateArn) } } : {}),
      logRetentionDays: frontends.logRetentionDays,
      priceClass: frontends.priceClass as cloudfront.PriceClass,
      removalPolicy: plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    if (!webAclArn) {
      Validations.of(this.hosting.distribution.node.defaultChild!).acknowledge({
        id: "AwsSolutions::AwsSolutions-CFR2",
        reason: "The spec turns the web ACLs off (gateway.waf, on by default in prod only); the CDN serves static files from private buckets and passes API calls to the gateway's own checks.",
      });
    }
    const distribution = new ssm.StringParameter(this, "DistributionIdParameter", { parameterName: frontends.distributionParameter, stringValue: this.hosting.distribution.distributionId });
    for (const app of apps) {
      const bucket = new ssm.StringParameter(this, `${pascalCase(app.name)}BucketParameter`, { parameterName: app.bucketParameter, stringValue: this.hosting.buckets.get(app.name)!.bucketName });
      // Its deploy job looks up where to upload and what to invalidate, and nothing else.
      this.hosting.deployRoles.get(app.name)!.addToPolicy(new iam.PolicyStatement({ actions: [...FRONTEND_DEPLOY_ACTIONS.readParameters], resources: [bucket.parameterArn, distribution.parameterArn] }));
    }
  }
}
