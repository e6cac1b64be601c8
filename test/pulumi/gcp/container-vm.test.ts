import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { WORKLOAD_UID } from "../../../lib/kubernetes/workload.js";
import { CONTRIB_COLLECTOR_IMAGE } from "../../../lib/plan/tracing.js";
import { containerVmUserData, type ContainerVmOptions } from "../../../lib/pulumi/gcp/container-vm.js";

const options: ContainerVmOptions = {
  service: "orders",
  image: "asia-northeast3-docker.pkg.dev/p/shop-orders/shop-orders:latest",
  port: 8080,
  env: { SERVICE_NAME: "orders", PUBSUB_TOPICS: '{"order-placed":"shop-prod-order-placed"}' },
  files: { SESSION_STORE_CA_FILE: "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----" },
  secrets: { SIGNING_KEY: "projects/p/secrets/shop-orders-SIGNING_KEY" },
  registryHosts: ["asia-northeast3-docker.pkg.dev"],
};

type CloudConfig = { write_files: { path: string; permissions: string; content: string }[]; runcmd: string[] };
const config = (text: string): CloudConfig => {
  expect(text.startsWith("#cloud-config\n")).toBe(true);
  return parse(text) as CloudConfig;
};
const file = (c: CloudConfig, path: string) => c.write_files.find((f) => f.path === path)!.content;

describe("containerVmUserData", () => {
  const c = config(containerVmUserData(options));
  const unit = file(c, "/etc/systemd/system/orders.service");

  it("runs the container read-only, non-root, without capabilities, on the service port, restarting it", () => {
    const run = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
    expect(run).toContain("--publish 8080:8080");
    expect(run).toContain("--read-only --tmpfs /tmp");
    expect(run).toContain(`--user ${WORKLOAD_UID}:${WORKLOAD_UID}`);
    expect(run).toContain("--cap-drop ALL --security-opt no-new-privileges");
    expect(run.endsWith(options.image)).toBe(true);
    expect(unit).toContain("Restart=always");
    expect(unit).toContain("ExecStartPre=/usr/bin/docker-credential-gcr configure-docker --registries=asia-northeast3-docker.pkg.dev");
    expect(c.runcmd).toEqual(["systemctl daemon-reload", "systemctl start orders.service"]);
  });

  it("puts configuration in an env file, certificates in mounted files, and secrets only in a root-only tmpfs file", () => {
    expect(file(c, "/etc/msa/orders/config.env")).toBe(
      `SERVICE_NAME=orders\nPUBSUB_TOPICS={"order-placed":"shop-prod-order-placed"}\nSESSION_STORE_CA_FILE=/etc/msa/session_store_ca_file\n`,
    );
    expect(file(c, "/etc/msa/orders/session_store_ca_file")).toBe(options.files!["SESSION_STORE_CA_FILE"]);
    expect(unit).toContain("--volume /etc/msa/orders/session_store_ca_file:/etc/msa/session_store_ca_file:ro");
    const script = file(c, "/etc/msa/orders/fetch-secrets.sh");
    expect(c.write_files.find((f) => f.path.endsWith("fetch-secrets.sh"))!.permissions).toBe("0700");
    expect(script).toContain("umask 077");
    expect(script).toContain("value=$(fetch projects/p/secrets/shop-orders-SIGNING_KEY)");
    // The access token reaches curl on stdin, never as an argument another process could read.
    expect(script).toContain("curl -sSf -H @-");
    expect(script).not.toMatch(/-H "Authorization/);
    expect(unit).toContain("--env-file /run/msa/orders/secrets.env");
    expect(JSON.stringify(c)).not.toContain("SIGNING_KEY=");
  });

  it("writes an empty secrets file when the service has no secret", () => {
    const script = file(config(containerVmUserData({ ...options, secrets: {} })), "/etc/msa/orders/fetch-secrets.sh");
    expect(script).not.toContain("metadata.google.internal");
    expect(script).toContain('mv "$out.tmp" "$out"');
  });

  it("rejects what would break the env file or the unit", () => {
    expect(() => containerVmUserData({ ...options, env: { CA: "a\nb" } })).toThrow(/env.CA: a multi-line value cannot go into an env file. Fix: pass it in files/);
    expect(() => containerVmUserData({ ...options, env: { "BAD-NAME": "x" } })).toThrow(/"BAD-NAME" is not an environment variable name/);
    expect(() => containerVmUserData({ ...options, secrets: { SIGNING_KEY: "shop-orders-SIGNING_KEY" } })).toThrow(/is not a Secret Manager secret id/);
    expect(() => containerVmUserData({ ...options, env: { SIGNING_KEY: "x" } })).toThrow(/"SIGNING_KEY" is given twice/);
    expect(() => containerVmUserData({ ...options, image: "bad image" })).toThrow(/is not an image reference/);
  });
});

describe("containerVmUserData fetching secrets at start", () => {
  const script = file(config(containerVmUserData({ ...options, secrets: { SIGNING_KEY: "projects/p/secrets/shop-orders-SIGNING_KEY", API_KEY: "projects/p/secrets/shop-orders-API_KEY" } })), "/etc/msa/orders/fetch-secrets.sh");

  /** Runs the script with fake curl and sleep: Secret Manager answers `answer` ("fail", "empty" or a value) for API_KEY, "k" for the rest. */
  function start(answer: string): { status: number; secrets?: string; calls: string[]; sleeps: string[] } {
    const dir = mkdtempSync(join(tmpdir(), "container-vm-secrets-"));
    const tool = (name: string, lines: string[]) => {
      writeFileSync(join(dir, name), ["#!/bin/bash", ...lines, ""].join("\n"));
      chmodSync(join(dir, name), 0o755);
    };
    tool("curl", [
      'url="${@: -1}"',
      `echo "$url" >> ${dir}/calls`,
      `if [[ "$url" == *metadata* ]]; then echo '{"access_token": "t"}'; exit 0; fi`,
      `if [[ "$url" == *API_KEY* ]]; then case '${answer}' in fail) echo "curl: (22) 403" >&2; exit 22 ;; empty) echo '{}'; exit 0 ;; *) echo "{\\"data\\": \\"$(printf '%s' '${answer}' | base64 -w0)\\"}"; exit 0 ;; esac; fi`,
      `echo "{\\"data\\": \\"$(printf k | base64 -w0)\\"}"`,
    ]);
    tool("sleep", [`echo "$1" >> ${dir}/sleeps`]);
    const run = join(dir, "run");
    const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8").trim().split("\n") : []);
    try {
      execFileSync("bash", ["-c", script.split("/run/msa/orders").join(run)], { env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` }, stdio: "pipe" });
    } catch (error) {
      expect(existsSync(join(run, "secrets.env")), "no secrets file after a failed start").toBe(false);
      return { status: (error as { status: number }).status, calls: read("calls"), sleeps: read("sleeps") };
    }
    return { status: 0, secrets: readFileSync(join(run, "secrets.env"), "utf8"), calls: read("calls"), sleeps: read("sleeps") };
  }

  it("writes every secret when Secret Manager answers", () => {
    expect(start("s3cret")).toMatchObject({ status: 0, secrets: "SIGNING_KEY=k\nAPI_KEY=s3cret\n", sleeps: [] });
  });

  it("fails closed, after a bounded retry, when a secret cannot be read: the service never starts with an empty value", () => {
    for (const answer of ["fail", "empty"]) {
      const result = start(answer);
      expect(result.status, answer).not.toBe(0);
      expect(result.calls.filter((url) => url.includes("API_KEY")), answer).toHaveLength(6);
      expect(result.sleeps, answer).toEqual(["5", "10", "15", "20", "25"]);
    }
  });
});

describe("containerVmUserData with a collector", () => {
  const collector = { image: CONTRIB_COLLECTOR_IMAGE, config: "exporters:\n  googlecloud: {}\n" };
  const c = config(containerVmUserData({ ...options, collector }));
  const unit = file(c, "/etc/systemd/system/orders.service");
  const collectorUnit = file(c, "/etc/systemd/system/otel-collector.service");

  it("runs the collector read-only and memory-capped on the service's network with its config, started before the service", () => {
    expect(file(c, "/etc/msa/orders/otel-collector.yaml")).toBe(collector.config);
    const run = collectorUnit.split("\n").find((l) => l.startsWith("ExecStart="))!;
    expect(run).toBe(
      `ExecStart=/usr/bin/docker run --rm --name otel-collector --network msa --read-only --memory 256m --cap-drop ALL --security-opt no-new-privileges --volume /etc/msa/orders/otel-collector.yaml:/etc/otel/config.yaml:ro ${CONTRIB_COLLECTOR_IMAGE} --config=/etc/otel/config.yaml`,
    );
    // Nothing is published on the host: only containers on the network reach the collector.
    expect(run).not.toContain("--publish");
    expect(c.runcmd).toEqual(["systemctl daemon-reload", "systemctl start otel-collector.service", "systemctl start orders.service"]);
  });

  it("puts the service's container on the collector's network, which either unit creates when missing", () => {
    expect(unit.split("\n").find((l) => l.startsWith("ExecStart="))).toContain("--name orders --network msa ");
    for (const u of [unit, collectorUnit]) expect(u).toContain("ExecStartPre=-/usr/bin/docker network create msa");
    expect(containerVmUserData(options)).not.toContain("--network");
  });
});


describe("containerVmUserData with a release secret", () => {
  const released = { ...options, image: "docker.io/library/nginx:1.27", release: { secret: "projects/p/secrets/shop-prod-orders-release", repository: "asia-northeast3-docker.pkg.dev/p/shop-orders/shop-orders" } };
  const c = config(containerVmUserData(released));
  const unit = file(c, "/etc/systemd/system/orders.service");
  const fetch = file(c, "/etc/msa/orders/fetch-secrets.sh");

  /** Runs the fetch script with a fake curl whose release secret holds `image`; returns its exit status and the image file it wrote. */
  function boot(image: string): { status: number; image?: string } {
    const dir = mkdtempSync(join(tmpdir(), "container-vm-"));
    writeFileSync(
      join(dir, "curl"),
      [
        "#!/bin/bash",
        'url="${@: -1}"',
        `if [[ "$url" == *metadata* ]]; then echo '{"access_token": "t"}'; exit 0; fi`,
        `if [[ "$url" == *shop-prod-orders-release* ]]; then echo "{\\"data\\": \\"$(printf '%s' '${image}' | base64 -w0)\\"}"; exit 0; fi`,
        `echo "{\\"data\\": \\"$(printf x | base64 -w0)\\"}"`,
        "",
      ].join("\n"),
    );
    chmodSync(join(dir, "curl"), 0o755);
    const script = fetch.split("/run/msa/orders").join(join(dir, "run"));
    try {
      execFileSync("bash", ["-c", script], { env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` }, stdio: "pipe" });
    } catch (error) {
      return { status: (error as { status: number }).status };
    }
    return { status: 0, image: readFileSync(join(dir, "run", "image"), "utf8") };
  }

  it("runs the image read at each start from the secret, through bash, with nothing fixed in the template", () => {
    const start = unit.split("\n").find((l) => l.startsWith("ExecStart="))!;
    expect(start.startsWith("ExecStart=/bin/bash -c 'exec /usr/bin/docker run --rm")).toBe(true);
    expect(start.endsWith(`"$$(cat /run/msa/orders/image)"'`)).toBe(true);
    expect(unit).not.toContain(released.image);
    expect(fetch).toContain("image=$(fetch projects/p/secrets/shop-prod-orders-release)");
  });

  it("writes the first image or a released digest or tag of the service's own repository, and refuses any other image", () => {
    const digest = `asia-northeast3-docker.pkg.dev/p/shop-orders/shop-orders@sha256:${"1".repeat(64)}`;
    expect(boot(digest)).toEqual({ status: 0, image: digest });
    expect(boot("asia-northeast3-docker.pkg.dev/p/shop-orders/shop-orders:latest").status).toBe(0);
    expect(boot("docker.io/library/nginx:1.27")).toEqual({ status: 0, image: "docker.io/library/nginx:1.27" });
    expect(boot("docker.io/library/nginx:latest").status).toBe(1);
    expect(boot(`asia-northeast3-docker.pkg.dev/p/shop-payments/shop-payments@sha256:${"1".repeat(64)}`).status).toBe(1);
    expect(boot("docker.io/evil/shop-orders:latest").status).toBe(1);
  });

  it("refuses a release secret that is not a secret id, or a repository with a tag, naming the fix", () => {
    expect(() => containerVmUserData({ ...released, release: { ...released.release, secret: "shop-prod-orders-release" } })).toThrow(/release.secret: "shop-prod-orders-release" is not a Secret Manager secret id\. Fix: pass projects\/<project>\/secrets\/<secret>/);
    expect(() => containerVmUserData({ ...released, release: { ...released.release, repository: "r.io/p/orders:latest" } })).toThrow(/release.repository: "r.io\/p\/orders:latest" is not an image repository\. Fix:/);
  });
});
