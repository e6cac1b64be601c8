import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GITHUB_OIDC } from "../../plan/delivery.js";
import {
  CLOUDFRONT_MANAGED_POLICIES,
  FRONTEND_DEPLOY_ACTIONS,
  FRONTEND_SECURITY_HEADERS,
  FRONTEND_WAF_MANAGED_RULES,
  MAX_CDN_BEHAVIOURS,
  type FrontendsPlan,
} from "../../plan/frontends.js";
import { bucketPolicy, privateBucket, type PrivateBucketNodes } from "./private-bucket.js";

/** Who may assume the apps' deploy roles. */
export type FrontendDeployTrust =
  /** Principals of this account allowed sts:AssumeRole on the role. */
  | { readonly kind: "account" }
  /** A GitHub repository's environment, through the account's OIDC provider (each app's `deploySubject`). */
  | { readonly kind: "github"; readonly oidcProviderArn: pulumi.Input<string> };

export interface FrontendHostingArgs {
  /** The frontends plan: apps, CDN routes, headers, WAF, logging (`plan.frontends`). */
  readonly frontends: FrontendsPlan;
  /**
   * Host name of the API the shell BFF's routes go to (no scheme).
   * @default - no API behaviour; required when the plan has API routes
   */
  readonly apiDomainName?: pulumi.Input<string>;
  /**
   * Who assumes the deploy roles.
   * @default { kind: "account" }
   */
  readonly deployTrust?: FrontendDeployTrust;
  /**
   * Protect and keep the buckets (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly distribution?: (args: aws.cloudfront.DistributionArgs) => void;
    readonly webAcl?: (args: aws.wafv2.WebAclArgs) => void;
  };
}

/** The raw children of a {@link FrontendHosting}. */
export interface FrontendHostingNodes {
  readonly logBucket: aws.s3.Bucket;
  /** App name → its bucket. */
  readonly buckets: Readonly<Record<string, aws.s3.Bucket>>;
  /** App name → its deploy role. */
  readonly deployRoles: Readonly<Record<string, aws.iam.Role>>;
  readonly originAccessControl: aws.cloudfront.OriginAccessControl;
  readonly responseHeadersPolicy: aws.cloudfront.ResponseHeadersPolicy;
  readonly distribution: aws.cloudfront.Distribution;
  readonly webAcl?: aws.wafv2.WebAcl;
}

/**
 * Micro-frontend hosting, as the CDK construct builds it: a private, versioned, encrypted,
 * TLS-only bucket per app (the shell and each fragment) with access logs, read by one CloudFront
 * distribution through Origin Access Control; a path behaviour per fragment, the shell as default,
 * the shell's BFF routes to the API, security headers on every response, CDN logs, a us-east-1 web
 * ACL when the plan asks, and a deploy role per app that may write only its own files.
 *
 * Cost: CloudFront bills per request and transfer, S3 per GB stored, WAF per ACL, rule and request.
 *
 * @example
 * new FrontendHosting("shop-frontends", { frontends: plan.frontends!, apiDomainName: "abc123.execute-api.eu-west-1.amazonaws.com" });
 */
export class FrontendHosting extends pulumi.ComponentResource {
  readonly distributionId: pulumi.Output<string>;
  readonly domainName: pulumi.Output<string>;
  /** App name → bucket name. */
  readonly bucketNames: pulumi.Output<Record<string, string>>;
  readonly nodes: FrontendHostingNodes;

  constructor(name: string, args: FrontendHostingArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { frontends } = args;
    const behaviours = frontends.fragments.length + frontends.apiRoutes.length;
    if (behaviours > MAX_CDN_BEHAVIOURS) throw new Error(`FrontendHosting ${name}: ${behaviours} behaviours pass CloudFront's default quota of ${MAX_CDN_BEHAVIOURS}. Fix: fewer fragments or API paths`);
    if (frontends.apiRoutes.length > 0 && args.apiDomainName === undefined) {
      throw new Error(`FrontendHosting ${name}: apiDomainName is undefined, but the shell's BFF routes (${frontends.apiRoutes.map((r) => r.pathPattern).join(", ")}) go to the API. Fix: pass the gateway's domain`);
    }
    const apps = [frontends.shell, ...frontends.fragments];
    const trust = args.deployTrust ?? { kind: "account" as const };
    if (trust.kind === "github") {
      const missing = apps.find((a) => !a.deploySubject);
      if (missing) throw new Error(`FrontendHosting ${name}: app "${missing.name}" has no GitHub subject because pipelines.repositoryOwner is undefined. Fix: set pipelines.repositoryOwner`);
    }
    super("msa:aws:FrontendHosting", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const retain = args.retain ?? false;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const logs = privateBucket(`${name}-logs`, {
      expirationDays: frontends.logRetentionDays,
      // CloudFront standard logs are delivered through an ACL grant, so ACLs stay enabled here only.
      objectOwnership: "BucketOwnerPreferred",
      statements: (arn) => [
        {
          Sid: "ServerAccessLogs",
          Effect: "Allow",
          Principal: { Service: "logging.s3.amazonaws.com" },
          Action: "s3:PutObject",
          Resource: pulumi.interpolate`${arn}/s3/*`,
          Condition: { StringEquals: { "aws:SourceAccount": account } },
        },
      ],
      retain,
      tags,
      parent: this,
    });

    const originAccessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      { description: `Reads the ${frontends.shell.name} micro-frontends`, originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" },
      parent,
    );
    // Their policies name the distribution, so they are added once it exists.
    const appBuckets: Record<string, PrivateBucketNodes> = {};
    for (const app of apps) {
      appBuckets[app.name] = privateBucket(`${name}-${app.name}`, {
        versioned: true,
        accessLogs: { bucket: logs.bucket.id, prefix: `s3/${app.name}/` },
        noncurrentExpirationDays: 30,
        deferPolicy: true,
        retain,
        tags,
        parent: this,
      });
    }
    const buckets = Object.fromEntries(Object.entries(appBuckets).map(([app, nodes]) => [app, nodes.bucket]));

    const headers = FRONTEND_SECURITY_HEADERS;
    const responseHeadersPolicy = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-security-headers`,
      {
        comment: "HSTS, CSP, frame options, nosniff and referrer policy on every response",
        securityHeadersConfig: {
          strictTransportSecurity: { accessControlMaxAgeSec: headers.hstsMaxAgeSeconds, includeSubdomains: headers.hstsIncludeSubdomains, override: true },
          contentSecurityPolicy: { contentSecurityPolicy: headers.contentSecurityPolicy, override: true },
          frameOptions: { frameOption: headers.frameOptions, override: true },
          contentTypeOptions: { override: true },
          referrerPolicy: { referrerPolicy: headers.referrerPolicy, override: true },
        },
      },
      parent,
    );

    let webAcl: aws.wafv2.WebAcl | undefined;
    if (frontends.waf) {
      const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
      const webAclArgs: aws.wafv2.WebAclArgs = {
        // CloudFront reads web ACLs only from us-east-1, whatever the landing zone's region.
        region: frontends.edgeRegion,
        scope: "CLOUDFRONT",
        description: `Guards the ${frontends.shell.name} micro-frontends`,
        defaultAction: { allow: {} },
        visibilityConfig: visibility(`${name}-frontends`),
        rules: [
          ...FRONTEND_WAF_MANAGED_RULES.map((rule, i) => ({
            name: rule,
            priority: (i + 1) * 10,
            overrideAction: { none: {} },
            statement: { managedRuleGroupStatement: { vendorName: "AWS", name: rule } },
            visibilityConfig: visibility(rule),
          })),
          {
            name: "RateLimitPerClient",
            priority: (FRONTEND_WAF_MANAGED_RULES.length + 1) * 10,
            action: { block: {} },
            statement: { rateBasedStatement: { aggregateKeyType: "IP", evaluationWindowSec: 60, limit: frontends.wafRequestsPerMinute } },
            visibilityConfig: visibility("RateLimitPerClient"),
          },
        ],
        tags,
      };
      args.transform?.webAcl?.(webAclArgs);
      webAcl = new aws.wafv2.WebAcl(`${name}-waf`, webAclArgs, parent);
    }

    const originId = (app: string) => `app-${app}`;
    const staticBehaviour = (app: string) => ({
      targetOriginId: originId(app),
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD"],
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: CLOUDFRONT_MANAGED_POLICIES.cachingOptimized,
      responseHeadersPolicyId: responseHeadersPolicy.id,
      compress: true,
    });
    const distributionArgs: aws.cloudfront.DistributionArgs = {
      enabled: true,
      comment: `Micro-frontends: ${frontends.shell.name} shell, ${frontends.fragments.length} fragments`,
      origins: [
        ...apps.map((app) => ({ originId: originId(app.name), domainName: buckets[app.name]!.bucketRegionalDomainName, originAccessControlId: originAccessControl.id })),
        ...(args.apiDomainName !== undefined && frontends.apiRoutes.length > 0
          ? [{ originId: "api", domainName: args.apiDomainName, customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] } }]
          : []),
      ],
      defaultCacheBehavior: staticBehaviour(frontends.shell.name),
      orderedCacheBehaviors: [
        ...frontends.fragments.map((fragment) => ({ pathPattern: fragment.pathPattern, ...staticBehaviour(fragment.name) })),
        ...frontends.apiRoutes.map((route) => ({
          pathPattern: route.pathPattern,
          targetOriginId: "api",
          viewerProtocolPolicy: "https-only",
          allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: CLOUDFRONT_MANAGED_POLICIES.cachingDisabled,
          // API Gateway routes by its own host name; every other viewer header (Authorization) passes.
          originRequestPolicyId: CLOUDFRONT_MANAGED_POLICIES.allViewerExceptHostHeader,
          responseHeadersPolicyId: responseHeadersPolicy.id,
        })),
      ],
      defaultRootObject: frontends.defaultRootObject,
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: frontends.priceClass,
      loggingConfig: { bucket: logs.bucket.bucketDomainName, prefix: "cdn/", includeCookies: false },
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: frontends.domain
        ? { acmCertificateArn: frontends.domain.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: frontends.minimumTlsVersion }
        : { cloudfrontDefaultCertificate: true },
      ...(frontends.domain ? { aliases: [frontends.domain.name] } : {}),
      ...(webAcl ? { webAclId: webAcl.arn } : {}),
      tags,
    };
    args.transform?.distribution?.(distributionArgs);
    const distribution = new aws.cloudfront.Distribution(`${name}-cdn`, distributionArgs, { parent: this, dependsOn: logs.policy ? [logs.policy] : [] });
    for (const app of apps) {
      bucketPolicy(
        `${name}-${app.name}`,
        appBuckets[app.name]!,
        (arn) => [
          {
            Sid: "CloudFrontReads",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: pulumi.interpolate`${arn}/*`,
            Condition: { StringEquals: { "AWS:SourceArn": distribution.arn } },
          },
        ],
        this,
      );
    }

    const deployRoles: Record<string, aws.iam.Role> = {};
    const parameters = { distribution: new aws.ssm.Parameter(`${name}-distribution-id`, { name: frontends.distributionParameter, type: "String", value: distribution.id, tags }, parent) };
    for (const app of apps) {
      const bucket = buckets[app.name]!;
      const assumeRolePolicy =
        trust.kind === "github"
          ? pulumi.jsonStringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { Federated: trust.oidcProviderArn },
                  Action: "sts:AssumeRoleWithWebIdentity",
                  Condition: { StringEquals: { [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience, [`${GITHUB_OIDC.host}:sub`]: app.deploySubject! } },
                },
              ],
            })
          : pulumi.jsonStringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` }, Action: "sts:AssumeRole" }] });
      const role = new aws.iam.Role(`${name}-${app.name}-deploy`, { name: app.deployRole, assumeRolePolicy, maxSessionDuration: 3600, description: `Deploys the ${app.name} micro-frontend`, tags }, parent);
      const bucketParameter = new aws.ssm.Parameter(`${name}-${app.name}-bucket`, { name: app.bucketParameter, type: "String", value: bucket.bucket, tags }, parent);
      new aws.iam.RolePolicy(
        `${name}-${app.name}-deploy-policy`,
        {
          role: role.id,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Action: [...FRONTEND_DEPLOY_ACTIONS.listBucket], Resource: bucket.arn },
              { Effect: "Allow", Action: [...FRONTEND_DEPLOY_ACTIONS.writeFiles], Resource: pulumi.interpolate`${bucket.arn}/${app.objectPrefix}*` },
              { Effect: "Allow", Action: [...FRONTEND_DEPLOY_ACTIONS.invalidate], Resource: distribution.arn },
              { Effect: "Allow", Action: [...FRONTEND_DEPLOY_ACTIONS.readParameters], Resource: [bucketParameter.arn, parameters.distribution.arn] },
            ],
          }),
        },
        parent,
      );
      deployRoles[app.name] = role;
    }

    this.distributionId = distribution.id;
    this.domainName = distribution.domainName;
    this.bucketNames = pulumi.all(Object.fromEntries(Object.entries(buckets).map(([app, bucket]) => [app, bucket.bucket])));
    this.nodes = { logBucket: logs.bucket, buckets, deployRoles, originAccessControl, responseHeadersPolicy, distribution, ...(webAcl ? { webAcl } : {}) };
    this.registerOutputs({ distributionId: this.distributionId, domainName: this.domainName, bucketNames: this.bucketNames });
  }
}
