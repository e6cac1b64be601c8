import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beanstalkReleaseEnvironment, beanstalkReleaseStageSpec, plannedBeanstalkBundle } from "../../lib/plan/beanstalk-release.js";
import { describe, expect, it } from "vitest";
import { instanceRefreshEnvironment, instanceRefreshStageSpec } from "../../lib/plan/buildspec.js";
import { DELIVERY_SETTINGS } from "../../lib/plan/delivery.js";
import { beanstalkBundle, hostedServiceStatements, vmUserData } from "../../lib/plan/host-bootstrap.js";
import { hostedServiceNames } from "../../lib/plan/hosts.js";
import { buildStageSpec, deployEnvironment, deployStageSpec, MAX_CDN_BEHAVIOURS, PlanError, planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/index.js";

const shop: LandingZoneInput = {
  name: "shop",
  region: "ap-northeast-2",
  environment: "prod",
  bffs: ["web", { name: "mobile", routes: ["/m", "/mobile"] }],
  gateway: { auth: "none" },
  pipelines: { repositoryOwner: "acme", branch: "release" },
  frontends: { shell: "web", fragments: ["catalog", "cart"] },
  services: [{ name: "orders", repository: "orders-service" }, { name: "payments" }],
};

describe("delivery plan", () => {
  it("plans one pipeline per service and BFF from its own repository, stages in order", () => {
    const delivery = planLandingZone(shop).delivery!;
    expect(delivery.services.map((s) => [s.service, `${s.source.owner}/${s.source.name}@${s.source.branch}`, s.registry])).toEqual([
      ["orders", "acme/orders-service@release", "shop-orders"],
      ["payments", "acme/payments@release", "shop-payments"],
      ["web", "acme/web@release", "shop-web"],
      ["mobile", "acme/mobile@release", "shop-mobile"],
    ]);
    for (const service of delivery.services) expect(service.stages.map((s) => s.name)).toEqual(["source", "build", "approve", "deploy"]);
    expect(delivery.services[0]!.deploy).toEqual({ kind: "kubernetes-rollout", namespace: "shop", deployment: "orders", container: "orders", kubernetesGroup: "shop-orders-deployer" });
  });

  it("asks for an approval only in prod, and names the trusted GitHub subjects", () => {
    const dev = planLandingZone({ ...shop, environment: "dev" }).delivery!;
    expect(dev.services.every((s) => !s.approval && !s.stages.some((st) => st.name === "approve"))).toBe(true);
    const orders = planLandingZone(shop).delivery!.services[0]!;
    expect(orders.github).toEqual({ environment: "prod", publishSubject: "repo:acme/orders-service:ref:refs/heads/release", deploySubject: "repo:acme/orders-service:environment:prod" });
    expect(orders.names).toEqual({
      pipeline: "shop-prod-orders",
      buildProject: "shop-prod-orders-build",
      deployProject: "shop-prod-orders-deploy",
      publishRole: "shop-prod-orders-publish",
      deployRole: "shop-prod-orders-deploy",
    });
  });

  it("deploys through GitOps on an existing cluster, where Argo CD replaces the approval stage", () => {
    const delivery = planLandingZone({ ...shop, cloud: "kubernetes", region: "local", frontends: undefined }).delivery!;
    expect(delivery.implementation).toBe("argo-cd");
    expect(delivery.services[0]!.deploy.kind).toBe("gitops");
    expect(delivery.services[0]!.stages.map((s) => s.name)).toEqual(["source", "build", "deploy"]);
  });

  it("needs the repository owner only when an engine builds it", () => {
    const draft: LandingZoneInput = { ...shop, pipelines: { perService: true }, frontends: undefined, tracing: { backend: "none" }, monitoring: { dashboards: false, alarms: false } };
    expect(planLandingZone(draft).delivery!.services[0]!.source.owner).toBeUndefined();
    expect(() => planLandingZone(draft, { engine: "cdk" })).toThrow(PlanError);
    expect(() => planLandingZone(draft, { engine: "cdk" })).toThrow(/pipelines.repositoryOwner is undefined.*Fix: set pipelines.repositoryOwner/);
  });

  it("adding a service adds exactly its delivery entry", () => {
    const before = planLandingZone(shop).delivery!.services;
    const after = planLandingZone({ ...shop, services: [...shop.services!, { name: "shipping" }] }).delivery!.services;
    expect(after.filter((s) => !before.some((b) => b.service === s.service)).map((s) => s.service)).toEqual(["shipping"]);
    for (const entry of before) expect(after.find((s) => s.service === entry.service)).toEqual(entry);
  });

  it("builds, tests and pushes by commit, and deploys only digests of the service's own repository", () => {
    const delivery = planLandingZone(shop).delivery!;
    const build = JSON.stringify(buildStageSpec(delivery.testCommand));
    expect(build).toContain("docker build --target test .");
    expect(build.indexOf("docker build --target test .")).toBeLessThan(build.indexOf("docker push"));
    expect(build).toContain('IMAGE_TAG=\\"${IMAGE_TAG:-$CODEBUILD_RESOLVED_SOURCE_VERSION}\\"');
    const deploy = deployStageSpec() as { phases: { build: { commands: string[] } } };
    expect(deploy.phases.build.commands[1]).toMatch(/"\$IMAGE" != "\$REPOSITORY_URI"@sha256:\*/);
    expect(deploy.phases.build.commands).toContain('kubectl --namespace "$NAMESPACE" set image "deployment/$DEPLOYMENT" "$CONTAINER=$IMAGE"');
    expect(deployEnvironment(delivery.services[1]!, "uri", "cluster")).toEqual({
      REPOSITORY_URI: "uri",
      CLUSTER_NAME: "cluster",
      NAMESPACE: "shop",
      DEPLOYMENT: "payments",
      CONTAINER: "payments",
      RELEASE_PARAMETER: "/msa/shop/prod/delivery/payments/image",
    });
  });
});

describe("frontends plan", () => {
  it("routes each fragment under its prefix, the shell as default and the shell BFF's routes to the gateway", () => {
    const frontends = planLandingZone(shop).frontends!;
    expect(frontends.shell).toMatchObject({ name: "web", pathPattern: "*", objectPrefix: "", source: { owner: "acme", name: "web-ui" } });
    expect(frontends.fragments.map((f) => [f.name, f.pathPattern, f.objectPrefix])).toEqual([
      ["catalog", "/catalog/*", "catalog/"],
      ["cart", "/cart/*", "cart/"],
    ]);
    expect(frontends.shellBff).toBe("web");
    expect(frontends.apiRoutes).toEqual([
      { pathPattern: "/web", bff: "web" },
      { pathPattern: "/web/*", bff: "web" },
    ]);
    expect(frontends).toMatchObject({ waf: true, minimumTlsVersion: "TLSv1.2_2021", edgeRegion: "us-east-1" });
  });

  it("finds the shell's BFF by channel", () => {
    const frontends = planLandingZone({ ...shop, frontends: { shell: "phone" }, bffs: [{ name: "mobile-bff", channel: "phone", routes: ["/m"] }] }).frontends!;
    expect(frontends.apiRoutes.map((r) => r.pathPattern)).toEqual(["/m", "/m/*"]);
  });

  it("adding a fragment adds exactly its app", () => {
    const before = planLandingZone(shop).frontends!;
    const after = planLandingZone({ ...shop, frontends: { shell: "web", fragments: ["catalog", "cart", "account"] } }).frontends!;
    expect(after.fragments.slice(0, 2)).toEqual(before.fragments);
    expect(after.fragments[2]).toMatchObject({ name: "account", pathPattern: "/account/*" });
  });

  it("refuses more CDN behaviours than the quota, naming the count", () => {
    const fragments = Array.from({ length: MAX_CDN_BEHAVIOURS }, (_, i) => `f${i}`);
    expect(() => planLandingZone({ ...shop, frontends: { shell: "web", fragments } })).toThrow(/25 fragments and 2 BFF paths need 27 CDN behaviours, above the quota of 25/);
  });
});

describe("delivery plan on VMs (iaas)", () => {
  const iaas: LandingZoneInput = { ...shop, tier: "iaas", frontends: undefined };

  it("refreshes each service's own Auto Scaling group, the one its VMs run in", () => {
    const plan = planLandingZone(iaas);
    for (const service of plan.delivery!.services) {
      expect(service.deploy).toMatchObject({ kind: "vm-rollout", autoScalingGroup: hostedServiceNames(plan, { name: service.service }).autoScalingGroup });
      expect(service.stages.map((s) => s.name)).toEqual(["source", "build", "approve", "deploy"]);
    }
    expect(plan.delivery!.services[0]!.deploy.autoScalingGroup).toBe("shop-prod-orders");
    expect(planLandingZone(shop).delivery!.services[0]!.deploy).not.toHaveProperty("autoScalingGroup");
  });

  describe("instance refresh release, run in bash with a stub aws", () => {
    const repository = "111111111111.dkr.ecr.ap-northeast-2.amazonaws.com/shop-orders";
    const previous = `${repository}@sha256:${"a".repeat(64)}`;
    const image = `${repository}@sha256:${"b".repeat(64)}`;
    /**
     * Runs the deploy stage's commands as CodeBuild does (one bash, stopping at the first failing command), with an `aws`
     * whose parameter lives in a file and whose first refresh `firstRefresh` does ("refuse" to start, or end with a status);
     * every later refresh succeeds. Returns the exit status, the parameter, the image each refresh started on, and cancels.
     */
    const release = (firstRefresh: "refuse" | "Successful" | "Failed", released = image) => {
      const dir = mkdtempSync(join(tmpdir(), "msa-refresh-"));
      const file = (name: string) => join(dir, name);
      writeFileSync(file("parameter"), previous);
      writeFileSync(
        file("aws"),
        `#!/bin/bash
if [ "$1" = autoscaling ] && [[ " $* " != *" --auto-scaling-group-name shop-prod-orders "* ]]; then echo "not the service's group: $*" >&2; exit 1; fi
case "$1 $2" in
  "ssm get-parameter") cat "${file("parameter")}" ;;
  "ssm put-parameter") while [ $# -gt 0 ]; do [ "$1" = --value ] && printf '%s' "$2" > "${file("parameter")}"; shift; done ;;
  "autoscaling start-instance-refresh")
    echo start >> "${file("starts")}"; n=$(wc -l < "${file("starts")}")
    if [ $n -eq 1 ] && [ "${firstRefresh}" = refuse ]; then echo "An error occurred (InstanceRefreshInProgress)" >&2; exit 254; fi
    echo "$(cat "${file("parameter")}")" >> "${file("started")}"; echo "refresh-$n" ;;
  "autoscaling describe-instance-refreshes")
    case "$*" in
      *"--instance-refresh-ids refresh-1 "*) echo "${firstRefresh}" ;;
      *--instance-refresh-ids*) echo Successful ;;
      *) echo 0 ;;
    esac ;;
  "autoscaling cancel-instance-refresh") echo cancel >> "${file("cancelled")}" ;;
  *) echo "unexpected aws $*" >&2; exit 1 ;;
esac
`,
        { mode: 0o755 },
      );
      writeFileSync(file("sleep"), "#!/bin/sh\n", { mode: 0o755 });
      const commands = (instanceRefreshStageSpec() as { phases: { build: { commands: string[] } } }).phases.build.commands;
      const script = commands.map((command) => `${command}\nstatus=$?; [ $status -eq 0 ] || exit $status`).join("\n");
      const environment = { PATH: `${dir}:${process.env["PATH"]}`, IMAGE: released, ...instanceRefreshEnvironment({ autoScalingGroup: "shop-prod-orders", releaseParameter: "/p" }, repository) };
      const run = spawnSync("bash", ["-c", script], { env: environment, encoding: "utf8" });
      const lines = (name: string) => (existsSync(file(name)) ? readFileSync(file(name), "utf8").trim().split("\n") : []);
      const result = { status: run.status, parameter: readFileSync(file("parameter"), "utf8"), refreshedOnto: lines("started"), cancels: lines("cancelled").length, output: run.stdout };
      rmSync(dir, { recursive: true, force: true });
      return result;
    };

    it("records the digest, then refreshes the group onto it and succeeds", () => {
      expect(release("Successful")).toMatchObject({ status: 0, parameter: image, refreshedOnto: [image], cancels: 0 });
    });

    it("refuses an image that is not a digest of the service's repository, changing nothing", () => {
      const refused = release("Successful", "docker.io/evil/orders:latest");
      expect(refused).toMatchObject({ parameter: previous, refreshedOnto: [], cancels: 0 });
      expect(refused.status).not.toBe(0);
    });

    it("puts the previous release back and refreshes onto it when the refresh cannot start (one still runs)", () => {
      const failed = release("refuse");
      expect(failed).toMatchObject({ parameter: previous, refreshedOnto: [previous], cancels: 1 });
      expect(failed.status).not.toBe(0);
      expect(failed.output).toContain(`shop-prod-orders is back on ${previous}`);
    });

    it("replaces the instances the failed refresh launched by refreshing back onto the previous release", () => {
      const failed = release("Failed");
      expect(failed).toMatchObject({ parameter: previous, refreshedOnto: [image, previous], cancels: 1 });
      expect(failed.status).not.toBe(0);
    });

    it("fits both refreshes and the wait for a cancel within the deploy project's timeout", () => {
      const { instanceRefreshTimeoutSeconds: refresh, instanceRefreshCancelTimeoutSeconds: cancel, instanceRefreshReleaseTimeoutMinutes: project } = DELIVERY_SETTINGS;
      expect(2 * refresh + cancel).toBeLessThan(project * 60);
      const commands = (instanceRefreshStageSpec() as { phases: { build: { commands: string[] } } }).phases.build.commands;
      expect(commands.join("\n")).toContain(`$((SECONDS + ${refresh}))`);
      expect(commands.join("\n")).toContain(`$((SECONDS + ${cancel}))`);
    });
  });

  it("boots a VM on the release its pipeline recorded when given the parameter, and lets only that parameter be read", () => {
    const plan = planLandingZone(iaas);
    const service = plan.services[0]!;
    const runtime = { region: "ap-northeast-2", image: "repo:latest", env: {}, secretArns: {} };
    const script = vmUserData(plan, service, { ...runtime, releaseParameter: "/msa/shop/prod/delivery/orders/image" });
    const read = script.split("\n").findIndex((line) => line.includes("aws ssm get-parameter") && line.includes("--name '/msa/shop/prod/delivery/orders/image'"));
    // Appended after the baked-in image, so the recorded release wins when registry.env is sourced.
    expect(read).toBeGreaterThan(script.split("\n").findIndex((line) => line === "IMAGE='repo:latest'"));
    expect(script.split("\n")[read]).toMatch(/>> \/etc\/msa\/registry.env$/);
    expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
    expect(vmUserData(plan, service, runtime)).not.toContain("aws ssm get-parameter ");
    const grants = { partition: "aws", region: "ap-northeast-2", account: "111111111111", secretArns: [], topicArns: [], queueArns: [] };
    expect(hostedServiceStatements(plan, service, { ...grants, releaseParameterName: "/msa/shop/prod/delivery/orders/image" }).filter((s) => s.sid === "ReadRelease")).toEqual([
      { sid: "ReadRelease", actions: ["ssm:GetParameter"], resources: ["arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/delivery/orders/image"] },
    ]);
    expect(hostedServiceStatements(plan, service, grants).some((s) => s.sid === "ReadRelease")).toBe(false);
  });

});

describe("delivery plan on Elastic Beanstalk (paas)", () => {
  it("releases to the service's one Beanstalk environment on aws/paas, in both engines", () => {
    for (const engine of ["cdk", "pulumi"] as const) {
      const delivery = planLandingZone({ ...shop, tier: "paas", frontends: undefined }, { engine }).delivery!;
      expect(delivery.services.map((s) => s.deploy.beanstalk)).toEqual(["orders", "payments", "web", "mobile"].map((service) => ({ application: "shop-prod", environment: `shop-prod-${service}` })));
      expect(delivery.services[0]!.deploy.kind).toBe("app-platform-release");
      expect(delivery.services[0]!.stages.map((s) => s.name)).toEqual(["source", "build", "approve", "deploy"]);
    }
    // Other clouds' paas releases to their own platform (GCP: an App Engine version, lib/plan/cloud-build.ts), with no Beanstalk names.
    const gcp = planLandingZone({ ...shop, cloud: "gcp", region: "asia-northeast3", tier: "paas", frontends: undefined }).delivery!;
    expect(gcp.services.map((s) => [s.deploy.kind, s.deploy.beanstalk])).toEqual(["orders", "payments", "web", "mobile"].map(() => ["app-platform-release", undefined]));
  });

  it("ships the planned bundle byte for byte as the new version, then updates, waits, rolls back and records in that order", () => {
    const plan = planLandingZone({ ...shop, tier: "paas", frontends: undefined, logging: { stack: "elk", buffer: "redis", shipper: "filebeat" } });
    const bundle = plannedBeanstalkBundle(plan, plan.services[0]!);
    expect(bundle).toEqual(beanstalkBundle(plan, plan.services[0]!, { logBuffer: true, sessionStore: plan.sessions !== undefined }));
    const env = beanstalkReleaseEnvironment({ application: "shop-prod", environment: "shop-prod-orders", releaseParameter: "/msa/shop/prod/delivery/orders/image" }, "1.dkr.ecr.ap-northeast-2.amazonaws.com/shop-orders", "elasticbeanstalk-ap-northeast-2-1", bundle);
    expect(env).toMatchObject({ APPLICATION: "shop-prod", ENVIRONMENT: "shop-prod-orders", BUNDLE_BUCKET: "elasticbeanstalk-ap-northeast-2-1", BUNDLE_PREFIX: "msa-releases/shop-prod-orders/" });
    const commands = (beanstalkReleaseStageSpec() as { phases: { build: { commands: string[] } } }).phases.build.commands;
    expect(() => execFileSync("bash", ["-n"], { input: commands.join("\n") })).not.toThrow();
    // The bundle step, run for real: the zip holds exactly the planned files.
    const dir = mkdtempSync(join(tmpdir(), "mlz-release-"));
    try {
      execFileSync("bash", ["-ec", commands.find((c) => c.startsWith("mkdir -p bundle"))!], { cwd: dir, env: { ...process.env, BUNDLE_FILES: env.BUNDLE_FILES } });
      execFileSync("unzip", ["-q", "bundle.zip", "-d", "unzipped"], { cwd: dir });
      for (const [file, content] of Object.entries(bundle)) expect(readFileSync(join(dir, "unzipped", file), "utf8")).toBe(content);
      expect(Object.keys(bundle)).toContain("filebeat.yml");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const script = commands.join("\n");
    const at = (text: string) => script.indexOf(text);
    expect(at("create-application-version")).toBeGreaterThan(at('aws s3 cp bundle.zip "s3://$BUNDLE_BUCKET/$KEY"'));
    expect(at('--version-label "$LABEL" --option-settings')).toBeGreaterThan(at("create-application-version"));
    expect(at('--version-label "$PREVIOUS_LABEL" --option-settings')).toBeGreaterThan(at('--version-label "$LABEL" --option-settings'));
    expect(at('put-parameter --name "$RELEASE_PARAMETER"')).toBeGreaterThan(at('--version-label "$PREVIOUS_LABEL"'));
    expect(script).toContain(`DEADLINE=$((SECONDS + ${DELIVERY_SETTINGS.environmentUpdateTimeoutSeconds}))`);
    expect(DELIVERY_SETTINGS.environmentUpdateTimeoutSeconds).toBeLessThan(DELIVERY_SETTINGS.environmentReleaseTimeoutMinutes * 60);
  });
});
