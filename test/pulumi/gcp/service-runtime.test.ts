import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { PLATFORM_ENV } from "../../../lib/kubernetes/workload.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec, Tier } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, runProgram, single, type RegisteredResource } from "../harness.js";

type Obj = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any };
type CloudConfig = { write_files: { path: string; content: string }[] };

const example = loadSpecFile("examples/gcp/landing-zone.yaml");
/** The GCP example on `tier`, without what only GKE runs (the mesh) and without the logging cluster and tracing. */
function onTier(tier: Tier): LandingZoneSpec {
  if (tier === "caas") return example;
  return { ...example, tier, mesh: { ...example.mesh, kind: "none" }, logging: { ...example.logging, stack: "none", buffer: "none" }, tracing: { ...example.tracing, backend: "none" } };
}

async function build(tier: Tier): Promise<RegisteredResource[]> {
  return (await runProgram(() => void new LandingZone("shop", { spec: onTier(tier) }), { config: GCP_CONFIG })).resources;
}

/** The session store's CA, as the landing zone read it from Memorystore. */
const sessionCa = (resources: readonly RegisteredResource[]) =>
  (single(resources, "gcp:redis/instance:Instance").outputs["serverCaCerts"] as { cert: string }[]).map((c) => c.cert).join("\n");

/** Names of the SecretVersion resources holding the secrets `ids` (`projects/<p>/secrets/<id>`); every id must have one. */
function versionsOf(resources: readonly RegisteredResource[], ids: readonly string[]): string[] {
  const versions = byType(resources, "gcp:secretmanager/secretVersion:SecretVersion");
  return ids.map((id) => {
    const version = versions.find((v) => v.inputs["secret"] === id);
    expect(version, `a version of ${id}`).toBeDefined();
    return version!.name;
  });
}

describe("GCP services on GKE (caas)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await build("caas");
  });

  it("get SESSION_STORE_TLS=true and SESSION_STORE_CA_FILE naming the mounted Memorystore CA", () => {
    const workload = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload").inputs["objs"] as Obj[];
    const config = workload.find((o) => o.kind === "ConfigMap")!.data!;
    expect(config[PLATFORM_ENV.sessionStoreTls]).toBe("true");
    expect(config[PLATFORM_ENV.sessionStoreCaFile]).toBe("/etc/msa/session-ca/ca.crt");
    expect(config["SESSION_STORE_TLS_CA"]).toBeUndefined();
    const pod = workload.find((o) => o.kind === "Deployment")!.spec.template.spec;
    const volume = pod.volumes.find((v: any) => v.secret?.secretName === "orders-session-ca");
    expect(volume.secret.items).toEqual([{ key: "ca.crt", path: "ca.crt" }]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: volume.name, mountPath: "/etc/msa/session-ca", readOnly: true });
    const secret = single(resources, "kubernetes:core/v1:Secret", "shop-orders-session-ca");
    expect(secret.inputs).toMatchObject({ metadata: { name: "orders-session-ca", namespace: "shop" }, stringData: { "ca.crt": sessionCa(resources) } });
    // The pods start only once the CA is there.
    expect(single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-orders-workload").dependsOn).toContain("shop-orders-session-ca");
  });
});

describe("GCP services on VMs (iaas)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await build("iaas");
  });
  const cloudConfig = (service: string) => parse((single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", `shop-${service}-template`).inputs["metadata"] as Record<string, string>)["user-data"]!) as CloudConfig;
  const file = (c: CloudConfig, path: string) => c.write_files.find((f) => f.path === path)?.content;

  it("get SESSION_STORE_TLS=true and SESSION_STORE_CA_FILE naming a mounted file with the Memorystore CA", () => {
    const c = cloudConfig("orders");
    const env = file(c, "/etc/msa/orders/config.env")!.split("\n");
    expect(env).toContain(`${PLATFORM_ENV.sessionStoreTls}=true`);
    expect(env).toContain(`${PLATFORM_ENV.sessionStoreCaFile}=/etc/msa/session_store_ca_file`);
    expect(env.some((line) => line.startsWith("SESSION_STORE_TLS_CA"))).toBe(false);
    expect(file(c, "/etc/msa/orders/session_store_ca_file")).toBe(sessionCa(resources));
    expect(file(c, "/etc/systemd/system/orders.service")).toContain("--volume /etc/msa/orders/session_store_ca_file:/etc/msa/session_store_ca_file:ro");
  });

  it("boot only after every secret they read has its first version", () => {
    for (const template of byType(resources, "gcp:compute/instanceTemplate:InstanceTemplate")) {
      const script = file(parse((template.inputs["metadata"] as Record<string, string>)["user-data"]!) as CloudConfig, `/etc/msa/${template.name.replace(/^shop-|-template$/g, "")}/fetch-secrets.sh`)!;
      const ids = [...script.matchAll(/\$\(fetch (projects\/\S+)\)/g)].map((m) => m[1]!);
      // Every service reads at least the session store's AUTH string; orders its own secret and its database's admin password too.
      expect(ids.length, template.name).toBeGreaterThan(0);
      for (const version of versionsOf(resources, ids)) expect(template.dependsOn, template.name).toContain(version);
    }
    const orders = single(resources, "gcp:compute/instanceTemplate:InstanceTemplate", "shop-orders-template");
    expect(orders.dependsOn).toEqual(expect.arrayContaining(["shop-orders-identity-signing-key", "shop-orders-database-admin", "shop-sessions-auth"]));
  });
});

describe("GCP services on App Engine (paas)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await build("paas");
  });
  const version = (service: string) => single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", `shop-${service}-version`);

  it("get SESSION_STORE_TLS=true and, since a version takes no files, the Memorystore CA as PEM in SESSION_STORE_TLS_CA", () => {
    const env = version("orders").inputs["envVariables"] as Record<string, string>;
    expect(env[PLATFORM_ENV.sessionStoreTls]).toBe("true");
    expect(env["SESSION_STORE_TLS_CA"]).toBe(sessionCa(resources));
    expect(env[PLATFORM_ENV.sessionStoreCaFile]).toBeUndefined();
  });

  it("deploy only after every secret they read by reference has its first version", () => {
    for (const v of byType(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion")) {
      const env = v.inputs["envVariables"] as Record<string, string>;
      const ids = Object.entries(env)
        .filter(([key]) => key.endsWith("_SECRET"))
        .map(([, value]) => value.replace(/\/versions\/latest$/, ""));
      expect(ids.length, v.name).toBeGreaterThan(0);
      for (const name of versionsOf(resources, ids)) expect(v.dependsOn, v.name).toContain(name);
    }
    expect(version("orders").dependsOn).toEqual(expect.arrayContaining(["shop-orders-identity-signing-key", "shop-orders-database-admin", "shop-sessions-auth"]));
  });
});
