import { beforeAll, describe, expect, it } from "vitest";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { FrontendHosting } from "../../../lib/pulumi/gcp/frontend-hosting.js";
import { GitHubFederation } from "../../../lib/pulumi/gcp/github-federation.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, MOCK_GCP_PROJECT_NUMBER, runProgram, single, type RegisteredResource } from "../harness.js";

const SPEC: LandingZoneInput = {
  name: "shop",
  cloud: "gcp",
  region: "asia-northeast3",
  tier: "iaas",
  environment: "prod",
  gateway: { auth: "none", waf: true },
  mesh: { kind: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  logging: { stack: "none", buffer: "none" },
  auth: { sessions: "none", tokens: "none" },
  pipelines: { perService: false },
  bffs: ["web"],
  frontends: { shell: "web", fragments: ["catalog", "cart"] },
  services: [{ name: "orders" }],
};
const APPS = ["web", "catalog", "cart"];
const BUCKET = "gcp:storage/bucket:Bucket";
const BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember";

async function zone(spec: LandingZoneInput): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG })).resources;
}
const under = (resources: RegisteredResource[], component: string) => resources.filter((r) => r.path.split("/").includes(component));
type PathRule = { paths: string[]; service: string };

describe("FrontendHosting in the GCP landing zone (prod)", () => {
  let resources: RegisteredResource[];
  let hosting: RegisteredResource[];
  const outputs: Record<string, unknown> = {};
  beforeAll(async () => {
    ({ resources } = await runProgram(
      () => {
        const lz = new LandingZone("shop", { spec: SPEC });
        for (const [key, output] of Object.entries(lz.outputs)) output.apply((v) => (outputs[key] = v));
      },
      { config: GCP_CONFIG },
    ));
    hosting = under(resources, "shop-frontends");
  });

  it("keeps one private, versioned, access-logged, protected bucket per app, and the log bucket", () => {
    const buckets = byType(hosting, BUCKET);
    expect(buckets.map((b) => b.name)).toEqual(["shop-frontends-logs", ...APPS.map((a) => `shop-frontends-${a}`)]);
    for (const bucket of buckets) {
      expect(bucket.inputs, bucket.name).toMatchObject({ uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", location: "asia-northeast3", forceDestroy: false });
      expect(bucket.protect, bucket.name).toBe(true);
      expect(bucket.retainOnDelete, bucket.name).toBe(true);
    }
    const logs = buckets[0]!.outputs["name"];
    for (const app of APPS) {
      const bucket = single(hosting, BUCKET, `shop-frontends-${app}`);
      expect(bucket.inputs).toMatchObject({ versioning: { enabled: true }, logging: { logBucket: logs, logObjectPrefix: `${app}/` } });
      expect(bucket.inputs["encryption"]).toBeUndefined();
    }
    expect(single(hosting, BUCKET, "shop-frontends-web").inputs["website"]).toEqual({ mainPageSuffix: "index.html", notFoundPage: "index.html" });
    expect(single(hosting, BUCKET, "shop-frontends-logs").inputs["lifecycleRules"]).toEqual([{ action: { type: "Delete" }, condition: { age: 365 } }]);
    // No member anywhere is public; the CDN's fill account reads each app bucket, the analytics group writes the logs.
    const members = byType(hosting, BUCKET_MEMBER);
    expect(members.map((m) => m.inputs["member"])).not.toEqual(expect.arrayContaining(["allUsers"]));
    expect(members.some((m) => /^(allUsers|allAuthenticatedUsers)$/.test(String(m.inputs["member"])))).toBe(false);
    expect(single(hosting, BUCKET_MEMBER, "shop-frontends-logs-writer").inputs).toEqual({ bucket: logs, role: "roles/storage.objectCreator", member: "group:cloud-storage-analytics@google.com" });
    for (const app of APPS) {
      expect(single(hosting, BUCKET_MEMBER, `shop-frontends-${app}-cdn-read`).inputs).toEqual({
        bucket: single(hosting, BUCKET, `shop-frontends-${app}`).outputs["name"],
        role: "roles/storage.objectViewer",
        member: `serviceAccount:service-${MOCK_GCP_PROJECT_NUMBER}@cloud-cdn-fill.iam.gserviceaccount.com`,
      });
    }
  });

  it("routes each fragment by prefix to its own CDN backend bucket, the shell by default, the shell BFF's routes to the gateway's backend service", () => {
    const urlMap = single(hosting, "gcp:compute/uRLMap:URLMap", "shop-frontends-routes");
    const backend = (app: string) => single(hosting, "gcp:compute/backendBucket:BackendBucket", `shop-frontends-${app}`);
    for (const app of APPS) expect(backend(app).inputs).toMatchObject({ bucketName: single(hosting, BUCKET, `shop-frontends-${app}`).outputs["name"], enableCdn: true });
    const gatewayWeb = single(resources, "gcp:compute/backendService:BackendService", "shop-gateway-web");
    expect(urlMap.inputs["defaultService"]).toBe(backend("web").outputs["id"]);
    const matcher = (urlMap.inputs["pathMatchers"] as { name: string; defaultService: string; pathRules: PathRule[] }[])[0]!;
    expect(matcher.defaultService).toBe(backend("web").outputs["id"]);
    expect(matcher.pathRules).toEqual([
      { paths: ["/catalog/*"], service: backend("catalog").outputs["id"] },
      { paths: ["/cart/*"], service: backend("cart").outputs["id"] },
      { paths: ["/web", "/web/*"], service: gatewayWeb.outputs["id"] },
    ]);
    // The API requests meet the gateway's Cloud Armor policy on its backend service.
    expect(gatewayWeb.inputs["securityPolicy"]).toBe(single(resources, "gcp:compute/securityPolicy:SecurityPolicy", "shop-gateway-armor").outputs["selfLink"]);
    // HTTPS only with TLS 1.2+, and the URL published as an output.
    const proxy = single(hosting, "gcp:compute/targetHttpsProxy:TargetHttpsProxy");
    expect(proxy.inputs["urlMap"]).toBe(urlMap.outputs["id"]);
    expect(single(hosting, "gcp:compute/sSLPolicy:SSLPolicy").inputs).toMatchObject({ minTlsVersion: "TLS_1_2", profile: "MODERN" });
    expect(single(hosting, "gcp:compute/uRLMap:URLMap", "shop-frontends-https-redirect").inputs["defaultUrlRedirect"]).toMatchObject({ httpsRedirect: true });
    expect(byType(hosting, "gcp:compute/globalForwardingRule:GlobalForwardingRule").map((r) => [r.inputs["portRange"], r.inputs["loadBalancingScheme"]])).toEqual([
      ["443", "EXTERNAL_MANAGED"],
      ["80", "EXTERNAL_MANAGED"],
    ]);
    expect(outputs["frontendsUrl"]).toBe("https://34.120.10.20.nip.io");
  });

  it("adds the security headers to every file and guards the buckets with a Cloud Armor edge policy", () => {
    const edge = single(hosting, "gcp:compute/securityPolicy:SecurityPolicy");
    expect(edge.inputs["type"]).toBe("CLOUD_ARMOR_EDGE");
    expect((edge.inputs["rules"] as { action: string }[]).map((r) => r.action)).toEqual(["deny(403)", "allow"]);
    for (const app of APPS) {
      const backend = single(hosting, "gcp:compute/backendBucket:BackendBucket", `shop-frontends-${app}`);
      expect(backend.inputs["edgeSecurityPolicy"]).toBe(edge.outputs["selfLink"]);
      expect(backend.inputs["customResponseHeaders"]).toEqual([
        "Strict-Transport-Security: max-age=63072000; includeSubDomains",
        expect.stringMatching(/^Content-Security-Policy: default-src 'self';.*frame-ancestors 'none'/),
        "X-Content-Type-Options: nosniff",
        "X-Frame-Options: DENY",
        "Referrer-Policy: strict-origin-when-cross-origin",
      ]);
    }
  });

  it("gives each app a deploy account allowed to write only its own bucket and invalidate only the frontends' URL map", () => {
    const grants = byType(hosting, BUCKET_MEMBER).filter((m) => String(m.inputs["member"]).includes("-ui-"));
    expect(grants).toHaveLength(APPS.length * 2);
    const role = single(hosting, "gcp:projects/iAMCustomRole:IAMCustomRole", "shop-frontends-cdn-invalidate");
    expect(role.inputs).toEqual({
      roleId: "shop_prod_cdn_invalidate",
      title: "Cloud CDN cache invalidation",
      description: "Invalidates the Cloud CDN cache of URL map shop-prod-frontends",
      permissions: ["compute.urlMaps.invalidateCache"],
      stage: "GA",
    });
    expect(single(hosting, "gcp:compute/uRLMap:URLMap", "shop-frontends-routes").inputs["name"]).toBe("shop-prod-frontends");
    for (const app of APPS) {
      const account = single(hosting, "gcp:serviceaccount/account:Account", `shop-frontends-${app}-deploy`);
      expect(account.inputs["accountId"]).toBe(`shop-ui-${app}`);
      const member = `serviceAccount:shop-ui-${app}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`;
      const bucket = single(hosting, BUCKET, `shop-frontends-${app}`).outputs["name"];
      // gcloud storage rsync reads the bucket's metadata too; nothing reaches another app's bucket.
      expect(grants.filter((g) => g.inputs["member"] === member).map((g) => g.inputs)).toEqual([
        { bucket, role: "roles/storage.objectAdmin", member },
        { bucket, role: "roles/storage.legacyBucketReader", member },
      ]);
      // URL maps have no IAM policy: the project grant holds only invalidation, conditioned on this map's name.
      expect(single(hosting, "gcp:projects/iAMMember:IAMMember", `shop-frontends-${app}-invalidate`).inputs).toEqual({
        project: MOCK_GCP_PROJECT,
        role: `projects/${MOCK_GCP_PROJECT}/roles/shop_prod_cdn_invalidate`,
        member,
        condition: {
          title: "Only URL map shop-prod-frontends",
          description: `The ${app} deploy account invalidates the frontends' CDN cache and nothing else`,
          expression: `resource.name == "projects/${MOCK_GCP_PROJECT}/global/urlMaps/shop-prod-frontends"`,
        },
      });
    }
    expect(byType(resources, "gcp:projects/iAMMember:IAMMember").filter((m) => String(m.inputs["member"]).includes("-ui-"))).toHaveLength(APPS.length);
    // Without a repository owner nobody may act as them, and they have no key.
    expect(byType(resources, "gcp:serviceaccount/iAMMember:IAMMember").filter((m) => String(m.name).startsWith("shop-frontends"))).toEqual([]);
    expect(byType(resources, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")).toEqual([]);
    expect(byType(resources, "gcp:serviceaccount/key:Key")).toEqual([]);
  });
});

describe("FrontendHosting on GCP with a repository owner: GitHub deploys", () => {
  let resources: RegisteredResource[];
  const outputs: Record<string, unknown> = {};
  beforeAll(async () => {
    ({ resources } = await runProgram(
      () => {
        const lz = new LandingZone("shop", { spec: { ...SPEC, pipelines: { perService: false, repositoryOwner: "acme" } } });
        for (const [key, output] of Object.entries(lz.outputs)) output.apply((v) => (outputs[key] = v));
      },
      { config: GCP_CONFIG },
    ));
  });
  const pool = `projects/${MOCK_GCP_PROJECT_NUMBER}/locations/global/workloadIdentityPools/gh-shop-prod`;

  it("creates one pool whose GitHub provider admits only the owner's repositories", () => {
    expect(single(resources, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool", "shop-github-pool").inputs).toMatchObject({ workloadIdentityPoolId: "gh-shop-prod" });
    const provider = single(resources, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", "shop-github-provider");
    expect(provider.inputs).toMatchObject({
      workloadIdentityPoolId: "gh-shop-prod",
      workloadIdentityPoolProviderId: "github",
      attributeCondition: "assertion.repository_owner == 'acme'",
      attributeMapping: { "google.subject": "assertion.sub", "attribute.repository": "assertion.repository", "attribute.repository_owner": "assertion.repository_owner" },
      oidc: { issuerUri: "https://token.actions.githubusercontent.com" },
    });
    expect(provider.parent).toBe("shop-github");
  });

  it("lets only each app's own repository, in the zone's environment, act as its deploy account", () => {
    const bindings = byType(resources, "gcp:serviceaccount/iAMMember:IAMMember").filter((m) => m.inputs["role"] === "roles/iam.workloadIdentityUser" && m.name.startsWith("shop-frontends-"));
    expect(bindings.map((b) => [b.name, b.inputs])).toEqual(
      APPS.map((app) => [
        `shop-frontends-${app}-github`,
        {
          serviceAccountId: `projects/${MOCK_GCP_PROJECT}/serviceAccounts/shop-ui-${app}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`,
          role: "roles/iam.workloadIdentityUser",
          member: `principal://iam.googleapis.com/${pool}/subject/repo:acme/${app}-ui:environment:prod`,
        },
      ]),
    );
  });

  it("publishes what each app repository's variables need: the provider, the accounts and the buckets", () => {
    expect(outputs["githubWorkloadIdentityProvider"]).toBe(`${pool}/providers/github`);
    expect(outputs["frontendDeployAccounts"]).toEqual(Object.fromEntries(APPS.map((app) => [app, `shop-ui-${app}@${MOCK_GCP_PROJECT}.iam.gserviceaccount.com`])));
    expect(Object.keys(outputs["frontendBuckets"] as object)).toEqual(APPS);
  });
});

describe("FrontendHosting on GCP, other settings", () => {
  it("in dev: no edge policy, buckets unprotected; a custom domain gets the managed certificate", async () => {
    const resources = await zone({ ...SPEC, environment: "dev", gateway: { auth: "none", waf: false }, frontends: { shell: "web", fragments: ["catalog"], domainName: "shop.example.com" } });
    expect(byType(resources, "gcp:compute/securityPolicy:SecurityPolicy").map((p) => p.inputs["type"])).toEqual(["CLOUD_ARMOR"]);
    for (const bucket of byType(resources, BUCKET)) expect(bucket.protect).toBe(false);
    const certificates = byType(resources, "gcp:compute/managedSslCertificate:ManagedSslCertificate").filter((c) => c.name === "shop-frontends-certificate");
    expect(certificates.map((c) => c.inputs["managed"])).toEqual([{ domains: ["shop.example.com"] }]);
  });

  it("encrypts with a customer-managed key once Cloud Storage's agent may use it, and refuses missing or clashing inputs before registering anything", async () => {
    const plan = planLandingZone(SPEC, { engine: "pulumi" });
    const key = `projects/${MOCK_GCP_PROJECT}/locations/asia-northeast3/keyRings/shop/cryptoKeys/frontends`;
    const run = await runProgram(() => {
      expect(() => new FrontendHosting("missing", { frontends: plan.frontends!, location: "asia-northeast3" })).toThrow(/apiBackendServiceId is undefined, but the shell's BFF routes \(\/web, \/web\/\*\) go to the API/);
      expect(() => new FrontendHosting("clash", { frontends: plan.frontends!, location: "EU", apiBackendServiceId: "x", deployAccountId: () => "same-account" })).toThrow(/two apps would share the deploy account "same-account"/);
      expect(() => new FrontendHosting("ownerless", { frontends: plan.frontends!, location: "EU", apiBackendServiceId: "x", github: { workloadIdentityPoolName: "pool" } })).toThrow(
        /github is set, but app "web" has no GitHub subject because pipelines.repositoryOwner is undefined. Fix: set pipelines.repositoryOwner/,
      );
      new FrontendHosting("cmek", { frontends: { ...plan.frontends!, apiRoutes: [] }, location: "EU", kmsKeyName: key });
    }, { config: GCP_CONFIG });
    expect(run.resources.some((r) => r.name.startsWith("missing") || r.name.startsWith("clash") || r.name.startsWith("ownerless"))).toBe(false);
    const grant = single(run.resources, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember");
    expect(grant.inputs).toEqual({ cryptoKeyId: key, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: `serviceAccount:service-${MOCK_GCP_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com` });
    for (const bucket of byType(run.resources, BUCKET)) {
      expect(bucket.inputs["encryption"]).toEqual({ defaultKmsKeyName: key });
      expect(bucket.dependsOn).toContain("cmek-storage-key");
    }
    expect(single(run.resources, "gcp:compute/uRLMap:URLMap", "cmek-routes").inputs["pathMatchers"]).toEqual([
      expect.objectContaining({ pathRules: [{ paths: ["/catalog/*"], service: expect.any(String) }, { paths: ["/cart/*"], service: expect.any(String) }] }),
    ]);
  });
});

describe("independence (Pulumi, GCP frontends)", () => {
  const signature = (resources: RegisteredResource[]) => new Map(resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));

  it("adding a fragment adds its bucket, backend bucket, grants, account and route, and changes no other resource", async () => {
    const beforeResources = await zone(SPEC);
    const afterResources = await zone({ ...SPEC, frontends: { shell: "web", fragments: ["catalog", "cart", "account"] } });
    const [before, after] = [signature(beforeResources), signature(afterResources)];
    expect([...before.keys()].filter((k) => !after.has(k))).toEqual([]);
    const added = afterResources.filter((r) => !before.has(`${r.type}::${r.name}`));
    expect(added.every((r) => r.name.startsWith("shop-frontends-account"))).toBe(true);
    expect(added.map((r) => r.type).sort()).toEqual(
      [BUCKET, "gcp:compute/backendBucket:BackendBucket", BUCKET_MEMBER, BUCKET_MEMBER, BUCKET_MEMBER, "gcp:projects/iAMMember:IAMMember", "gcp:serviceaccount/account:Account"].sort(),
    );
    expect([...before.keys()].filter((k) => before.get(k) !== after.get(k))).toEqual(["gcp:compute/uRLMap:URLMap::shop-frontends-routes"]);
    const rules = (single(afterResources, "gcp:compute/uRLMap:URLMap", "shop-frontends-routes").inputs["pathMatchers"] as { pathRules: PathRule[] }[])[0]!.pathRules;
    expect(rules.map((r) => r.paths)).toEqual([["/catalog/*"], ["/cart/*"], ["/account/*"], ["/web", "/web/*"]]);
  });
});

describe("GitHubFederation on its own", () => {
  it("refuses an owner that could escape the CEL condition, and reserved or malformed ids, before registering anything", async () => {
    const run = await runProgram(() => {
      expect(() => new GitHubFederation("quote", { owner: "acme' || true || '", poolId: "gh-shop" })).toThrow(/owner "acme' \|\| true \|\| '" is not a GitHub user or organization name. Fix: pass a name such as acme-shop/);
      expect(() => new GitHubFederation("reserved", { owner: "acme", poolId: "gcp-shop" })).toThrow(/poolId "gcp-shop" is invalid. Fix: use 4-32 lowercase letters, digits and '-', not starting with "gcp-"/);
      expect(() => new GitHubFederation("short", { owner: "acme", poolId: "gh-shop", providerId: "gh" })).toThrow(/providerId "gh" is invalid/);
    }, { config: GCP_CONFIG });
    expect(run.resources).toEqual([]);
  });
});
