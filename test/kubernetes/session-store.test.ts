import { describe, expect, it } from "vitest";
import {
  CERT_MANAGER_CERTIFICATE_SCHEMA,
  CERT_MANAGER_ISSUER_SCHEMA,
  PLATFORM_ENV,
  SESSION_CA_DIRECTORY,
  SESSION_CA_FILE,
  clusterSessionCaSecret,
  clusterSessionStoreEnv,
  dataCaManifests,
  keyValueAddOn,
  redisDnsNames,
  redisManifests,
  redisTlsManifests,
  redisTlsSecretName,
  serviceWorkload,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { check, one } from "./addon-helpers.js";
import { revalidate } from "./fixtures.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  mesh: { kind: "none" },
  services: [{ name: "orders" }],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });

describe("redisTlsManifests (a Redis's own CA and certificate, outside the data namespace)", () => {
  const objects = redisTlsManifests(plan, { name: "sessions", namespace: "shop" });

  it("is a CA chain in the store's namespace and a server certificate for every name it answers on, each valid against the cert-manager schemas", () => {
    objects.forEach(check);
    for (const object of objects) (object.kind === "Issuer" ? CERT_MANAGER_ISSUER_SCHEMA : CERT_MANAGER_CERTIFICATE_SCHEMA).parse(object);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "Issuer/shop/sessions-ca-root",
      "Certificate/shop/sessions-ca",
      "Issuer/shop/sessions-ca",
      "Certificate/shop/sessions-tls",
    ]);
    expect(one(objects, "Certificate", "sessions-ca").spec).toMatchObject({ isCA: true, commonName: "shop-sessions-ca", usages: ["cert sign", "crl sign"], issuerRef: { name: "sessions-ca-root" } });
    expect(one(objects, "Issuer", "sessions-ca").spec).toEqual({ ca: { secretName: "sessions-ca" } });
    const server = one(objects, "Certificate", "sessions-tls");
    expect(server.spec).toMatchObject({ secretName: redisTlsSecretName("sessions"), isCA: false, issuerRef: { name: "sessions-ca", kind: "Issuer", group: "cert-manager.io" } });
    expect(server.spec.dnsNames).toEqual(["sessions", "sessions.shop.svc", "sessions.shop.svc.cluster.local", "*.sessions-headless.shop.svc.cluster.local", "localhost"]);
  });

  it("shares the key, lifetime and renewal of the key-value stores' certificates, and their CA's shape", () => {
    const keyValue = keyValueAddOn(planLandingZone({ ...spec, services: [{ name: "cart", database: { engine: "key-value" } }] }, { engine: "pulumi" }))!;
    const kvServer = one(keyValue.manifests, "Certificate", "cart-kv-tls");
    const server = one(objects, "Certificate", "sessions-tls");
    const { dnsNames: _a, secretName: _b, issuerRef: _c, ...shared } = server.spec;
    const { dnsNames: _d, secretName: _e, issuerRef: _f, ...kvShared } = kvServer.spec;
    expect(shared).toEqual(kvShared);
    expect(kvServer.spec.dnsNames).toEqual(redisDnsNames("cart-kv", "shop-data"));
    const dataCa = one(dataCaManifests(plan), "Certificate", "data-ca").spec;
    expect({ ...one(objects, "Certificate", "sessions-ca").spec, secretName: "x", commonName: "x", issuerRef: "x" }).toEqual({ ...dataCa, secretName: "x", commonName: "x", issuerRef: "x" });
  });

  it("rejects a bad name with the prop, the value and the fix", () => {
    expect(() => redisTlsManifests(plan, { name: "Sessions", namespace: "shop" })).toThrow('redisTlsManifests options.name: "Sessions" is not a valid Kubernetes name. Fix: use at most 63 lowercase letters');
    expect(() => redisTlsManifests(plan, { name: "sessions", namespace: "shop_1" })).toThrow('redisTlsManifests options.namespace: "shop_1" is not a valid Kubernetes name');
  });

  it("feeds a TLS-only Redis that keeps the plain one's Services, volumes and claims", () => {
    const options = { name: "sessions", namespace: "shop", passwordSecretName: "sessions-password", memoryGiB: 1, replicas: 2 };
    const plain = redisManifests(plan, options);
    const tls = redisManifests(plan, { ...options, tlsSecretName: redisTlsSecretName("sessions") });
    tls.forEach(check);
    expect(tls.slice(0, 2)).toEqual(plain.slice(0, 2));
    const { template, ...rest } = one(tls, "StatefulSet").spec;
    const { template: plainTemplate, ...plainRest } = one(plain, "StatefulSet").spec;
    expect(rest).toEqual(plainRest);
    expect(template.metadata).toEqual(plainTemplate.metadata);
    const container = template.spec.containers[0];
    expect(container.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }, { name: "tls", mountPath: "/tls", readOnly: true }]);
    expect(template.spec.volumes).toEqual([{ name: "tls", secret: { secretName: "sessions-tls", defaultMode: 0o440 } }]);
    // Replicas reach the primary over TLS; plain connections are refused (port 0).
    expect(container.command[2]).toContain("--replicaof sessions-0.sessions-headless.shop.svc.cluster.local 6379");
    expect(container.command[2]).toMatch(/--port 0 --tls-port 6379 .*--tls-replication yes/);
    expect(container.readinessProbe.exec.command).toEqual(["redis-cli", "--tls", "--cacert", "/tls/ca.crt", "-h", "localhost", "-p", "6379", "ping"]);
  });
});

describe("the session store's client contract on an existing cluster", () => {
  it("is its endpoint, TLS only and the CA file, mounted from the certificate's Secret", () => {
    expect(clusterSessionStoreEnv(plan)).toEqual({
      [PLATFORM_ENV.sessionStoreEndpoint]: "sessions.shop.svc.cluster.local:6379",
      [PLATFORM_ENV.sessionStoreTls]: "true",
      [PLATFORM_ENV.sessionStoreCaFile]: "/etc/msa/session-ca/ca.crt",
    });
    expect(PLATFORM_ENV.sessionStoreCaFile).toBe("SESSION_STORE_CA_FILE");
    expect(SESSION_CA_FILE).toBe(`${SESSION_CA_DIRECTORY}/ca.crt`);
    expect(clusterSessionCaSecret(plan)).toBe("sessions-tls");
  });

  it("is empty without sessions, and off the cluster (the clouds' stores are managed)", () => {
    const none = planLandingZone({ ...spec, auth: { sessions: "none" } }, { engine: "pulumi" });
    expect(clusterSessionStoreEnv(none)).toEqual({});
    expect(clusterSessionCaSecret(none)).toBeUndefined();
    const aws = planLandingZone({ ...spec, cloud: "aws", region: "eu-west-1", tier: "caas" });
    expect(clusterSessionStoreEnv(aws)).toEqual({});
    expect(clusterSessionCaSecret(aws)).toBeUndefined();
  });

  it("mounts only the Secret's ca.crt, read-only, in the service's pods", () => {
    const objects = serviceWorkload(plan, plan.services[0]!, { sessionCaSecret: "sessions-tls" });
    objects.forEach(revalidate);
    const pod = one(objects, "Deployment").spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: "session-ca", secret: { secretName: "sessions-tls", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o444 } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "session-ca", mountPath: "/etc/msa/session-ca", readOnly: true });
    expect(() => serviceWorkload(plan, plan.services[0]!, { sessionCaSecret: "Sessions" })).toThrow('options.sessionCaSecret: "Sessions" is not a valid Kubernetes name');
  });
});
