/**
 * Micro-frontend hosting, engine- and cloud-neutral: the shell and each fragment as separately
 * deployed static apps behind one CDN, each fragment under its own path prefix, the shell as the
 * default, and the shell's BFF routes forwarded to the API gateway.
 */
import type { LandingZoneSpec } from "../spec/types.js";
import { physicalName } from "./naming.js";
import type { SourceRepositoryPlan } from "./delivery.js";
import { githubPoolId } from "./gcp-github-delivery.js";

/** CloudFront's default quota of cache behaviours per distribution (besides the default one). */
export const MAX_CDN_BEHAVIOURS = 25;

/** Response headers every page carries (HSTS, CSP, frame options, nosniff, referrer policy). */
export const FRONTEND_SECURITY_HEADERS = {
  hstsMaxAgeSeconds: 63_072_000,
  hstsIncludeSubdomains: true,
  /** Same-origin everything: fragments and the BFF are served from the one CDN domain. */
  contentSecurityPolicy: "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; img-src 'self' data:; connect-src 'self'",
  frameOptions: "DENY",
  referrerPolicy: "strict-origin-when-cross-origin",
} as const;

/** Response headers on every file (`Name: value`), from the plan's security headers. */
export function securityResponseHeaders(headers: typeof FRONTEND_SECURITY_HEADERS): string[] {
  return [
    `Strict-Transport-Security: max-age=${headers.hstsMaxAgeSeconds}${headers.hstsIncludeSubdomains ? "; includeSubDomains" : ""}`,
    `Content-Security-Policy: ${headers.contentSecurityPolicy}`,
    "X-Content-Type-Options: nosniff",
    `X-Frame-Options: ${headers.frameOptions}`,
    `Referrer-Policy: ${headers.referrerPolicy}`,
  ];
}

/** CloudFront's managed policies (fixed ids): cache static files, never cache the API, forward all but Host to it. */
export const CLOUDFRONT_MANAGED_POLICIES = {
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

/** IAM actions of an app's deploy role: its files, the CDN's invalidations, its parameters. */
export const FRONTEND_DEPLOY_ACTIONS = {
  listBucket: ["s3:ListBucket"],
  writeFiles: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
  invalidate: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
  readParameters: ["ssm:GetParameter"],
} as const;

/** Azure actions of an app's deploy identity on the Front Door endpoint (a custom role; no built-in role narrower than CDN Profile Contributor purges). */
export const FRONT_DOOR_PURGE_ACTIONS = ["Microsoft.Cdn/profiles/afdendpoints/read", "Microsoft.Cdn/profiles/afdendpoints/purge/action"] as const;

/** GCP permissions of an app's deploy account on the URL map (a custom role; `--async` needs no read of the operation). */
export const CDN_INVALIDATE_PERMISSIONS = ["compute.urlMaps.invalidateCache"] as const;

/** AWS-managed WAF rule groups in front of the CDN, in priority order. */
export const FRONTEND_WAF_MANAGED_RULES = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"] as const;

export interface FrontendAppPlan {
  readonly name: string;
  readonly kind: "shell" | "fragment";
  /** CDN path pattern: `/<fragment>/*` for a fragment, `*` (the default) for the shell. */
  readonly pathPattern: string;
  /** Key prefix the app's files are uploaded under, so the CDN path maps to the object key. */
  readonly objectPrefix: string;
  readonly source: SourceRepositoryPlan;
  /** Role that uploads the app's files and invalidates its paths. */
  readonly deployRole: string;
  /** GitHub OIDC subject the deploy role trusts (`repo:<owner>/<repo>:environment:<env>`); undefined without an owner. */
  readonly deploySubject?: string;
  /** Parameters naming the app's bucket, for its deploy job. */
  readonly bucketParameter: string;
}

/** A path the CDN forwards to the API gateway: one of the shell BFF's routes. */
export interface FrontendApiRoutePlan {
  readonly pathPattern: string;
  readonly bff: string;
}

export interface FrontendsPlan {
  readonly implementation: string;
  readonly shell: FrontendAppPlan;
  readonly fragments: readonly FrontendAppPlan[];
  /** The BFF the shell talks to; undefined when the spec has no BFF for its channel. */
  readonly shellBff?: string;
  /** The shell BFF's routes (each route and everything under it), in spec order. */
  readonly apiRoutes: readonly FrontendApiRoutePlan[];
  readonly securityHeaders: typeof FRONTEND_SECURITY_HEADERS;
  /** Custom domain and its certificate; without them the CDN's own domain is used. */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /** Custom domain on any cloud (`frontends.domainName`); GCP and Azure issue a managed certificate for it. */
  readonly domainName?: string;
  readonly minimumTlsVersion: "TLSv1.2_2021";
  readonly waf: boolean;
  /** Requests per client address per minute before WAF blocks it. */
  readonly wafRequestsPerMinute: number;
  readonly logRetentionDays: number;
  readonly priceClass: "PriceClass_100" | "PriceClass_All";
  readonly defaultRootObject: string;
  /** Parameter naming the distribution, for the deploy jobs' invalidations. */
  readonly distributionParameter: string;
  /** CDN web ACLs must live in us-east-1. */
  readonly edgeRegion: "us-east-1";
  /** GCP names the hosting and the deploy workflows share. */
  readonly gcp: GcpFrontendNames;
  /**
   * The apps deploy from GitHub Actions (each role trusts its `deploySubject`) whatever the services'
   * pipelines; undefined without `pipelines.repositoryOwner`, when the roles trust the account.
   */
  readonly github?: {
    /** The account's existing GitHub OIDC provider (AWS); undefined when the landing zone creates it. */
    readonly oidcProviderArn?: string;
  };
}

/** GCP resource names decided once for the hosting and the apps' workflows. */
export interface GcpFrontendNames {
  /** The load balancer's URL map, whose Cloud CDN cache the workflows invalidate. */
  readonly urlMapName: string;
  /** Project custom role holding only {@link CDN_INVALIDATE_PERMISSIONS}. */
  readonly invalidateRoleId: string;
  /** Workload Identity Federation pool GitHub Actions signs in through. */
  readonly githubPoolId: string;
  /** The pool's GitHub OIDC provider. */
  readonly githubProviderId: string;
}

/** Plans the CDN and its apps; `problems` names what keeps it from being built (the behaviour quota). */
export function planFrontends(spec: LandingZoneSpec, implementation: string): { plan?: FrontendsPlan; problems: string[] } {
  const frontends = spec.frontends;
  if (!frontends) return { problems: [] };
  const prod = spec.environment === "prod";
  const owner = spec.pipelines.repositoryOwner;
  const app = (name: string, kind: "shell" | "fragment"): FrontendAppPlan => {
    const source: SourceRepositoryPlan = { ...(owner ? { owner } : {}), name: `${name}-ui`, branch: spec.pipelines.branch };
    return {
      name,
      kind,
      pathPattern: kind === "shell" ? "*" : `/${name}/*`,
      objectPrefix: kind === "shell" ? "" : `${name}/`,
      source,
      deployRole: physicalName("iamRole", spec.name, spec.environment, "ui", name, "deploy"),
      ...(owner ? { deploySubject: `repo:${owner}/${source.name}:environment:${spec.environment}` } : {}),
      bucketParameter: `/msa/${spec.name}/${spec.environment}/frontends/${name}/bucket`,
    };
  };
  const shellBff = spec.bffs.find((b) => b.name === frontends.shell) ?? spec.bffs.find((b) => b.channel === frontends.shell);
  const apiRoutes = (shellBff?.routes ?? []).flatMap((route) => [route, `${route}/*`].map((pathPattern) => ({ pathPattern, bff: shellBff!.name })));
  const behaviours = frontends.fragments.length + apiRoutes.length;
  if (behaviours > MAX_CDN_BEHAVIOURS) {
    return {
      problems: [
        `frontends: ${frontends.fragments.length} fragments and ${apiRoutes.length} BFF paths need ${behaviours} CDN behaviours, above the quota of ${MAX_CDN_BEHAVIOURS}. Fix: fewer fragments or BFF routes, or raise the quota and split the shell's routes`,
      ],
    };
  }
  return {
    problems: [],
    plan: {
      implementation,
      shell: app(frontends.shell, "shell"),
      fragments: frontends.fragments.map((f) => app(f, "fragment")),
      ...(shellBff ? { shellBff: shellBff.name } : {}),
      apiRoutes,
      securityHeaders: FRONTEND_SECURITY_HEADERS,
      ...(frontends.domainName && frontends.certificateArn ? { domain: { name: frontends.domainName, certificateArn: frontends.certificateArn } } : {}),
      ...(frontends.domainName ? { domainName: frontends.domainName } : {}),
      minimumTlsVersion: "TLSv1.2_2021",
      waf: spec.gateway.waf,
      wafRequestsPerMinute: Math.max(100, spec.gateway.rateLimit.requestsPerSecond * 60),
      logRetentionDays: prod ? 365 : 30,
      priceClass: prod ? "PriceClass_All" : "PriceClass_100",
      defaultRootObject: "index.html",
      distributionParameter: `/msa/${spec.name}/${spec.environment}/frontends/distribution-id`,
      edgeRegion: "us-east-1",
      gcp: {
        urlMapName: physicalName("gcpResource", spec.name, spec.environment, "frontends"),
        // Role ids take letters, digits, '_' and '.' only.
        invalidateRoleId: physicalName("gcpResource", spec.name, spec.environment, "cdn-invalidate").replace(/-/g, "_"),
        // The services' GitHub workflows sign in through the same pool.
        githubPoolId: githubPoolId(spec.name, spec.environment),
        githubProviderId: "github",
      },
      ...(owner ? { github: spec.pipelines.githubOidcProviderArn ? { oidcProviderArn: spec.pipelines.githubOidcProviderArn } : {} } : {}),
    },
  };
}
