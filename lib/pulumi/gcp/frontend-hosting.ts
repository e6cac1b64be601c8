import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CDN_INVALIDATE_PERMISSIONS, MAX_CDN_BEHAVIOURS, securityResponseHeaders, type FrontendsPlan } from "../../plan/frontends.js";
import { gcpServiceAccountId } from "../../plan/gcp.js";
import { githubSubjectMember } from "./github-federation.js";
import { projectOf, serviceAgent } from "./project.js";

// Decided once for every cloud; re-exported where GCP callers always found it.
export { securityResponseHeaders } from "../../plan/frontends.js";

/** Role of an app's deploy account on its own bucket: write and delete its objects, nothing on the bucket itself. */
export const FRONTEND_DEPLOY_ROLE = "roles/storage.objectAdmin";
/** Role of an app's deploy account on its own bucket besides: `gcloud storage rsync` reads the bucket's metadata (storage.buckets.get), which objectAdmin lacks. */
export const FRONTEND_BUCKET_READ_ROLE = "roles/storage.legacyBucketReader";
/** Role by which a GitHub workflow acts as an app's deploy account. */
export const WORKLOAD_IDENTITY_USER_ROLE = "roles/iam.workloadIdentityUser";
/** Role through which Cloud CDN reads a private bucket (private bucket access). */
export const CDN_READ_ROLE = "roles/storage.objectViewer";
/** Google group that writes Cloud Storage usage and storage logs into a log bucket. */
export const STORAGE_LOG_WRITER = "group:cloud-storage-analytics@google.com";
/** Days a replaced object version is kept, so a bad deploy can be rolled back. */
export const NONCURRENT_VERSION_DAYS = 30;
/** Priority of Cloud Armor's default rule (the lowest). */
const DEFAULT_RULE_PRIORITY = 2147483647;

/** Arguments of {@link FrontendHosting}. */
export interface FrontendHostingArgs {
  /** The frontends plan: apps, routes, headers, WAF, log retention (`plan.frontends`). */
  readonly frontends: FrontendsPlan;
  /** Location of the buckets (a region such as `asia-northeast3`, or a multi-region such as `EU`). */
  readonly location: string;
  /**
   * Backend service the shell BFF's routes go to (e.g. the landing zone's `ApiGateway.backendServiceIds[bff]`), so
   * those requests meet the gateway's own Cloud Armor policy.
   * @default - no API routes; required when the plan has them
   */
  readonly apiBackendServiceId?: pulumi.Input<string>;
  /**
   * Account id of an app's deploy service account.
   * @default - `gcpServiceAccountId(name, "ui-<app>")`
   */
  readonly deployAccountId?: (app: string) => string;
  /**
   * Lets each app's GitHub workflow act as its deploy account: `roles/iam.workloadIdentityUser` for the
   * pool's principal of the app's `deploySubject` (its repository and environment), nothing broader.
   * @default - no GitHub sign-in: grant the deploy accounts to your own pipeline
   */
  readonly github?: {
    /** `projects/<number>/locations/global/workloadIdentityPools/<pool>` (`GitHubFederation.poolName`). */
    readonly workloadIdentityPoolName: pulumi.Input<string>;
  };
  /**
   * Cloud KMS key (CMEK) the buckets encrypt objects with; Cloud Storage's service agent is granted use of it.
   * @default - Google-managed encryption
   */
  readonly kmsKeyName?: pulumi.Input<string>;
  /**
   * Host names of the Google-managed certificate; point their DNS at {@link FrontendHosting.address}.
   * @default - `[frontends.domainName]`, else `<address>.nip.io`, a wildcard-DNS name for trying the CDN without a domain
   */
  readonly domains?: readonly string[];
  /**
   * Protect and keep the buckets (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Labels on every labelled child.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly bucket?: (args: gcp.storage.BucketArgs, app: string) => void;
    readonly backendBucket?: (args: gcp.compute.BackendBucketArgs, app: string) => void;
    readonly edgePolicy?: (args: gcp.compute.SecurityPolicyArgs) => void;
    readonly urlMap?: (args: gcp.compute.URLMapArgs) => void;
  };
}

/** The raw children of a {@link FrontendHosting}. */
export interface FrontendHostingNodes {
  readonly logBucket: gcp.storage.Bucket;
  /** App name → its bucket. */
  readonly buckets: Readonly<Record<string, gcp.storage.Bucket>>;
  /** App name → its Cloud CDN backend bucket. */
  readonly backendBuckets: Readonly<Record<string, gcp.compute.BackendBucket>>;
  /** App name → its deploy service account. */
  readonly deployAccounts: Readonly<Record<string, gcp.serviceaccount.Account>>;
  /** Project custom role holding only the URL map's cache invalidation. */
  readonly invalidateRole: gcp.projects.IAMCustomRole;
  readonly edgePolicy?: gcp.compute.SecurityPolicy;
  readonly address: gcp.compute.GlobalAddress;
  readonly urlMap: gcp.compute.URLMap;
  readonly certificate: gcp.compute.ManagedSslCertificate;
  readonly httpsForwardingRule: gcp.compute.GlobalForwardingRule;
}

/**
 * Micro-frontend hosting on Google Cloud: a private bucket per app (the shell and each fragment;
 * uniform access, public access prevention enforced, versioned, optional CMEK, usage logs to a log
 * bucket) read by Cloud CDN through private bucket access, behind its own global external
 * Application Load Balancer: the shell's backend bucket is the default, each fragment has a path
 * rule `/<fragment>/*`, the shell BFF's routes go to the gateway's backend service, security
 * headers on every file, a Cloud Armor edge policy when the plan asks for a WAF, TLS 1.2+ with a
 * Google-managed certificate, HTTP redirected; and a deploy service account per app that may write
 * only its own bucket and invalidate the URL map's cache (a custom role bound with a condition on the
 * URL map's name), which with `github` only the app's own repository and environment may act as.
 *
 * Cost: the forwarding rules bill hourly, Cloud CDN per GB served and per cache fill, Cloud Storage
 * per GB stored, Cloud Armor per policy and rule.
 *
 * @example
 * const frontends = new FrontendHosting("shop-frontends", {
 *   frontends: plan.frontends!, location: "asia-northeast3", apiBackendServiceId: gateway.backendServiceIds["web"],
 * });
 * export const frontendsUrl = frontends.url;
 */
export class FrontendHosting extends pulumi.ComponentResource {
  /** `https://<first domain>`. */
  readonly url: pulumi.Output<string>;
  /** The load balancer's global IPv4 address. */
  readonly address: pulumi.Output<string>;
  /** App name → bucket name. */
  readonly bucketNames: pulumi.Output<Record<string, string>>;
  /** App name → deploy service account email. */
  readonly deployAccountEmails: pulumi.Output<Record<string, string>>;
  /** Name of the URL map whose cache the deploy accounts invalidate (`frontends.gcp.urlMapName`). */
  readonly urlMapName: pulumi.Output<string>;
  readonly nodes: FrontendHostingNodes;

  constructor(name: string, args: FrontendHostingArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const { frontends } = args;
    const rules = frontends.fragments.length + (frontends.apiRoutes.length > 0 ? 1 : 0);
    if (rules > MAX_CDN_BEHAVIOURS) throw new Error(`FrontendHosting ${name}: ${rules} path rules pass the plan's CDN quota of ${MAX_CDN_BEHAVIOURS}. Fix: fewer fragments`);
    if (frontends.apiRoutes.length > 0 && args.apiBackendServiceId === undefined) {
      throw new Error(`FrontendHosting ${name}: apiBackendServiceId is undefined, but the shell's BFF routes (${frontends.apiRoutes.map((r) => r.pathPattern).join(", ")}) go to the API. Fix: pass the gateway's backend service of ${frontends.shellBff ?? "the BFF"}`);
    }
    if (args.domains?.length === 0) throw new Error(`FrontendHosting ${name}: domains is empty. Fix: pass at least one host name, or leave domains out`);
    const apps = [frontends.shell, ...frontends.fragments];
    const accountId = args.deployAccountId ?? ((app: string) => gcpServiceAccountId(name, `ui-${app}`));
    const accountIds = apps.map((app) => accountId(app.name));
    const repeated = accountIds.find((id, i) => accountIds.indexOf(id) !== i);
    if (repeated) throw new Error(`FrontendHosting ${name}: two apps would share the deploy account "${repeated}". Fix: give deployAccountId a distinct id per app`);
    const unsubjected = args.github ? apps.find((a) => !a.deploySubject) : undefined;
    if (unsubjected) throw new Error(`FrontendHosting ${name}: github is set, but app "${unsubjected.name}" has no GitHub subject because pipelines.repositoryOwner is undefined. Fix: set pipelines.repositoryOwner`);
    super("msa:gcp:FrontendHosting", name, {}, opts);
    const parent = { parent: this };
    const retain = args.retain ?? false;
    const stateful = { parent: this, protect: retain, retainOnDelete: retain };
    const labels = { ...args.labels };
    const project = projectOf(this);

    let keyGrant: gcp.kms.CryptoKeyIAMMember | undefined;
    if (args.kmsKeyName !== undefined) {
      // Cloud Storage encrypts with the key as its own service agent, which must be allowed to first.
      keyGrant = new gcp.kms.CryptoKeyIAMMember(
        `${name}-storage-key`,
        { cryptoKeyId: args.kmsKeyName, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: serviceAgent(project, "gs-project-accounts.iam.gserviceaccount.com") },
        parent,
      );
    }
    const privateBucket = (id: string, extra: Partial<gcp.storage.BucketArgs>): gcp.storage.BucketArgs => ({
      location: args.location,
      storageClass: "STANDARD",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      forceDestroy: false,
      ...(args.kmsKeyName !== undefined ? { encryption: { defaultKmsKeyName: args.kmsKeyName } } : {}),
      labels: { ...labels, "msa-frontend": id },
      ...extra,
    });
    const bucketOpts = { ...stateful, dependsOn: keyGrant ? [keyGrant] : [] };

    const logBucket = new gcp.storage.Bucket(
      `${name}-logs`,
      privateBucket("logs", { lifecycleRules: [{ action: { type: "Delete" }, condition: { age: frontends.logRetentionDays } }] }),
      bucketOpts,
    );
    const logWriter = new gcp.storage.BucketIAMMember(`${name}-logs-writer`, { bucket: logBucket.name, role: "roles/storage.objectCreator", member: STORAGE_LOG_WRITER }, parent);

    const buckets: Record<string, gcp.storage.Bucket> = {};
    for (const app of apps) {
      const bucketArgs = privateBucket(app.name, {
        versioning: { enabled: true },
        lifecycleRules: [{ action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: NONCURRENT_VERSION_DAYS, withState: "ARCHIVED" } }],
        logging: { logBucket: logBucket.name, logObjectPrefix: `${app.name}/` },
        // Directory paths serve their index; the shell's router answers every unknown path.
        website: { mainPageSuffix: frontends.defaultRootObject, ...(app.kind === "shell" ? { notFoundPage: frontends.defaultRootObject } : {}) },
      });
      args.transform?.bucket?.(bucketArgs, app.name);
      buckets[app.name] = new gcp.storage.Bucket(`${name}-${app.name}`, bucketArgs, { ...bucketOpts, dependsOn: [...bucketOpts.dependsOn, logWriter] });
    }

    let edgePolicy: gcp.compute.SecurityPolicy | undefined;
    if (frontends.waf) {
      const policyArgs: gcp.compute.SecurityPolicyArgs = {
        // Backend buckets take only edge policies, evaluated before the cache so cached files are guarded too.
        type: "CLOUD_ARMOR_EDGE",
        description: `Guards the ${frontends.shell.name} micro-frontends' files`,
        rules: [
          {
            priority: 1000,
            action: "deny(403)",
            description: "Static files are only read: any other method is refused at the edge",
            match: { expr: { expression: "!(request.method == 'GET' || request.method == 'HEAD')" } },
          },
          { priority: DEFAULT_RULE_PRIORITY, action: "allow", description: "Default: allow what no rule above stopped", match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } } },
        ],
      };
      args.transform?.edgePolicy?.(policyArgs);
      edgePolicy = new gcp.compute.SecurityPolicy(`${name}-edge-armor`, policyArgs, parent);
    }

    const headers = securityResponseHeaders(frontends.securityHeaders);
    const backendBuckets: Record<string, gcp.compute.BackendBucket> = {};
    const cdnReaders: gcp.storage.BucketIAMMember[] = [];
    for (const app of apps) {
      const bucket = buckets[app.name]!;
      const backendArgs: gcp.compute.BackendBucketArgs = {
        bucketName: bucket.name,
        description: `The ${app.name} ${app.kind}`,
        enableCdn: true,
        compressionMode: "AUTOMATIC",
        cdnPolicy: { cacheMode: "CACHE_ALL_STATIC", defaultTtl: 3600, maxTtl: 86400, clientTtl: 3600, negativeCaching: true, serveWhileStale: 86400, requestCoalescing: true },
        customResponseHeaders: headers,
        ...(edgePolicy ? { edgeSecurityPolicy: edgePolicy.selfLink } : {}),
      };
      args.transform?.backendBucket?.(backendArgs, app.name);
      backendBuckets[app.name] = new gcp.compute.BackendBucket(`${name}-${app.name}`, backendArgs, parent);
      // Private bucket access: Cloud CDN's fill account reads the objects; nobody else is granted anything public.
      cdnReaders.push(
        new gcp.storage.BucketIAMMember(
          `${name}-${app.name}-cdn-read`,
          { bucket: bucket.name, role: CDN_READ_ROLE, member: serviceAgent(project, "cloud-cdn-fill.iam.gserviceaccount.com") },
          { parent: this, dependsOn: [backendBuckets[app.name]!] },
        ),
      );
    }

    const { urlMapName } = frontends.gcp;
    // URL maps have no IAM policy of their own: a project binding whose condition names this map.
    const invalidateRole = new gcp.projects.IAMCustomRole(
      `${name}-cdn-invalidate`,
      { roleId: frontends.gcp.invalidateRoleId, title: "Cloud CDN cache invalidation", description: `Invalidates the Cloud CDN cache of URL map ${urlMapName}`, permissions: [...CDN_INVALIDATE_PERMISSIONS], stage: "GA" },
      parent,
    );
    const deployAccounts: Record<string, gcp.serviceaccount.Account> = {};
    for (const app of apps) {
      const account = new gcp.serviceaccount.Account(
        `${name}-${app.name}-deploy`,
        { accountId: accountId(app.name), displayName: `Deploys the ${app.name} micro-frontend`, description: `Writes the files of the ${app.name} ${app.kind} and invalidates their cache, and nothing else` },
        parent,
      );
      const bucket = buckets[app.name]!.name;
      new gcp.storage.BucketIAMMember(`${name}-${app.name}-deploy`, { bucket, role: FRONTEND_DEPLOY_ROLE, member: account.member }, parent);
      new gcp.storage.BucketIAMMember(`${name}-${app.name}-deploy-bucket-read`, { bucket, role: FRONTEND_BUCKET_READ_ROLE, member: account.member }, parent);
      new gcp.projects.IAMMember(
        `${name}-${app.name}-invalidate`,
        {
          project: project.id,
          role: invalidateRole.name,
          member: account.member,
          condition: {
            title: `Only URL map ${urlMapName}`,
            description: `The ${app.name} deploy account invalidates the frontends' CDN cache and nothing else`,
            expression: pulumi.interpolate`resource.name == "projects/${project.id}/global/urlMaps/${urlMapName}"`,
          },
        },
        parent,
      );
      if (args.github) {
        new gcp.serviceaccount.IAMMember(
          `${name}-${app.name}-github`,
          { serviceAccountId: account.name, role: WORKLOAD_IDENTITY_USER_ROLE, member: githubSubjectMember(args.github.workloadIdentityPoolName, app.deploySubject!) },
          parent,
        );
      }
      deployAccounts[app.name] = account;
    }

    const address = new gcp.compute.GlobalAddress(`${name}-address`, { addressType: "EXTERNAL", ipVersion: "IPV4", description: `Entry of the ${frontends.shell.name} micro-frontends` }, parent);
    const shellService = backendBuckets[frontends.shell.name]!.id;
    const urlMapArgs: gcp.compute.URLMapArgs = {
      // Named by the plan: the apps' workflows invalidate its cache by this name.
      name: urlMapName,
      description: `Micro-frontends: ${frontends.shell.name} shell, ${frontends.fragments.length} fragments`,
      defaultService: shellService,
      hostRules: [{ hosts: ["*"], pathMatcher: "frontends" }],
      pathMatchers: [
        {
          name: "frontends",
          defaultService: shellService,
          pathRules: [
            ...frontends.fragments.map((fragment) => ({ paths: [fragment.pathPattern], service: backendBuckets[fragment.name]!.id })),
            ...(frontends.apiRoutes.length > 0 ? [{ paths: frontends.apiRoutes.map((r) => r.pathPattern), service: args.apiBackendServiceId! }] : []),
          ],
        },
      ],
    };
    args.transform?.urlMap?.(urlMapArgs);
    const urlMap = new gcp.compute.URLMap(`${name}-routes`, urlMapArgs, { parent: this, dependsOn: cdnReaders });

    const domainList = args.domains ?? (frontends.domainName ? [frontends.domainName] : undefined);
    const domains = domainList ? domainList.map((d) => pulumi.output(d)) : [pulumi.interpolate`${address.address}.nip.io`];
    const certificate = new gcp.compute.ManagedSslCertificate(`${name}-certificate`, { type: "MANAGED", managed: { domains } }, parent);
    const sslPolicy = new gcp.compute.SSLPolicy(`${name}-tls`, { minTlsVersion: "TLS_1_2", profile: "MODERN", description: "TLS 1.2 or later with modern ciphers" }, parent);
    const httpsProxy = new gcp.compute.TargetHttpsProxy(`${name}-https`, { urlMap: urlMap.id, sslCertificates: [certificate.id], sslPolicy: sslPolicy.id }, parent);
    // The gateway's backend service is EXTERNAL_MANAGED, and a URL map serves one scheme.
    const httpsForwardingRule = new gcp.compute.GlobalForwardingRule(
      `${name}-https`,
      { target: httpsProxy.id, ipAddress: address.address, portRange: "443", ipProtocol: "TCP", loadBalancingScheme: "EXTERNAL_MANAGED", labels },
      parent,
    );
    // Port 80 only redirects, so no file is ever served in plain text.
    const redirect = new gcp.compute.URLMap(
      `${name}-https-redirect`,
      { description: `HTTP to HTTPS redirect of ${name}`, defaultUrlRedirect: { httpsRedirect: true, stripQuery: false, redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT" } },
      parent,
    );
    const httpProxy = new gcp.compute.TargetHttpProxy(`${name}-http`, { urlMap: redirect.id }, parent);
    new gcp.compute.GlobalForwardingRule(`${name}-http`, { target: httpProxy.id, ipAddress: address.address, portRange: "80", ipProtocol: "TCP", loadBalancingScheme: "EXTERNAL_MANAGED", labels }, parent);

    this.address = address.address;
    this.url = pulumi.interpolate`https://${domains[0]!}`;
    this.bucketNames = pulumi.all(Object.fromEntries(Object.entries(buckets).map(([app, bucket]) => [app, bucket.name])));
    this.deployAccountEmails = pulumi.all(Object.fromEntries(Object.entries(deployAccounts).map(([app, account]) => [app, account.email])));
    this.urlMapName = urlMap.name;
    this.nodes = { logBucket, buckets, backendBuckets, deployAccounts, invalidateRole, ...(edgePolicy ? { edgePolicy } : {}), address, urlMap, certificate, httpsForwardingRule };
    this.registerOutputs({ url: this.url, address: this.address, bucketNames: this.bucketNames, deployAccountEmails: this.deployAccountEmails, urlMapName: this.urlMapName });
  }
}
