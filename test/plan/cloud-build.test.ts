import { describe, expect, it } from "vitest";
import { CLOUD_BUILD_SUBSTITUTIONS, cloudBuildNames, DIGEST_FILE, gkeRolloutSteps, gkeRolloutSubstitutions, workerPoolName } from "../../lib/plan/cloud-build.js";

const scripts = (privateEndpoint: boolean) => gkeRolloutSteps({ testCommand: "npm test", privateEndpoint }).map((s) => s.args[1]);

describe("Cloud Build steps of a GKE service", () => {
  it("runs the unit tests first, then builds, pushes and records the digest, then rolls one Deployment and waits", () => {
    const steps = gkeRolloutSteps({ testCommand: "npm test", privateEndpoint: true });
    expect(steps.map((s) => [s.id, s.waitFors])).toEqual([["test", []], ["build", ["test"]], ["push", ["build"]], ["deploy", ["push"]]]);
    expect(steps[0]!.args).toEqual(["-c", "npm test"]);
    expect(steps[1]!.args[1]).toBe('docker build --tag "${_IMAGE}:$COMMIT_SHA" .');
    expect(steps[2]!.args[1]).toContain(`> ${DIGEST_FILE}`);
    const deploy = steps[3]!.args[1];
    expect(deploy).toContain(`IMAGE="$$(cat ${DIGEST_FILE})"`);
    // Anything but a digest of the service's own image is refused before kubectl runs.
    expect(deploy.indexOf('!= "${_IMAGE}"@sha256:*')).toBeGreaterThan(-1);
    expect(deploy.indexOf('!= "${_IMAGE}"@sha256:*')).toBeLessThan(deploy.indexOf("kubectl"));
    expect(deploy).toContain('set image "deployment/${_DEPLOYMENT}" "${_CONTAINER}=$$IMAGE"');
    expect(deploy).toContain('rollout status "deployment/${_DEPLOYMENT}" --timeout=600s');
    // The release is recorded only after the rollout succeeded.
    expect(deploy.indexOf('gcloud secrets versions add "${_RELEASE_SECRET}" --data-file=-')).toBeGreaterThan(deploy.indexOf("rollout status"));
  });

  it("asks for the cluster's internal address only when its endpoint is private", () => {
    expect(scripts(true)[3]).toContain("--internal-ip");
    expect(scripts(false)[3]).not.toContain("--internal-ip");
  });

  it("leaves shell variables to bash: every single $ names a trigger substitution or COMMIT_SHA", () => {
    const allowed = new Set<string>([...Object.values(CLOUD_BUILD_SUBSTITUTIONS), "COMMIT_SHA"]);
    for (const script of scripts(true)) {
      for (const match of script.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) expect(allowed).toContain(match[1]);
    }
  });

  it("uses every substitution the trigger sets, as Cloud Build's MUST_MATCH requires", () => {
    const all = scripts(true).join("\n");
    for (const name of Object.values(CLOUD_BUILD_SUBSTITUTIONS)) expect(all).toContain(`\${${name}}`);
  });

  it("hands the test command's own $ to bash", () => {
    expect(gkeRolloutSteps({ testCommand: 'make test ARGS="$HOME"', privateEndpoint: false })[0]!.args).toEqual(["-c", 'make test ARGS="$$HOME"']);
  });

  it("substitutes the image, cluster and Deployment it is given, under the names the steps read", () => {
    expect(gkeRolloutSubstitutions({ image: "r/i", cluster: "c", location: "l", namespace: "n", deployment: "d", container: "k", release: "s" })).toEqual({
      _IMAGE: "r/i",
      _CLUSTER: "c",
      _LOCATION: "l",
      _NAMESPACE: "n",
      _DEPLOYMENT: "d",
      _CONTAINER: "k",
      _RELEASE_SECRET: "s",
    });
  });

  it("names triggers within Cloud Build's 64 characters and accounts within IAM's 30", () => {
    const long = "a-very-long-service-name-that-keeps-going-and-going";
    const names = cloudBuildNames("a-landing-zone-with-a-long-name", "prod", { service: long });
    expect(names.trigger.length).toBeLessThanOrEqual(64);
    expect(names.trigger).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(names.accountId).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    expect(names.releaseSecret).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
    expect(workerPoolName("shop", "prod")).toBe("shop-prod-builds");
  });
});
