import { describe, expect, it } from "vitest";
import {
  CERT_MANAGER_ADD_ON,
  clusterDatabaseEnv,
  clusterDatabaseServices,
  databaseCredentialsSecretName,
  keyValueAddOn,
  redisManifests,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { checkAddOn, one } from "./addon-helpers.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none" },
  services: [
    { name: "cart", database: { engine: "key-value", storageGiB: 30 } },
    { name: "orders" },
  ],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });
const addOn = keyValueAddOn(plan)!;
const container = (objects: readonly { kind: string }[]) => one(objects as never, "StatefulSet").spec.template.spec.containers[0];

describe("keyValueAddOn (Redis per service, TLS from cert-manager)", () => {
  it("is undefined without a key-value database", () => {
    expect(keyValueAddOn(planLandingZone({ ...spec, services: [{ name: "orders" }] }))).toBeUndefined();
  });

  it("waits for cert-manager (installed once, not here), then brings the data namespace's CA and per store a certificate, Redis and an owner-only policy", () => {
    checkAddOn(addOn);
    expect(addOn.helmReleases).toEqual([]);
    expect(addOn.dependsOn).toEqual([CERT_MANAGER_ADD_ON]);
    expect(addOn.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "Issuer/data-ca-root",
      "Certificate/data-ca",
      "Issuer/data-ca",
      "Certificate/cart-kv-tls",
      "Service/cart-kv-headless",
      "Service/cart-kv",
      "StatefulSet/cart-kv",
      "NetworkPolicy/cart-kv-owner-only",
    ]);
    for (const m of addOn.manifests) expect(m.metadata.namespace).toBe("shop-data");
    expect(one(addOn.manifests, "Certificate", "data-ca").spec).toMatchObject({ isCA: true, secretName: "data-ca", issuerRef: { name: "data-ca-root", kind: "Issuer" } });
    expect(one(addOn.manifests, "Issuer", "data-ca").spec).toEqual({ ca: { secretName: "data-ca" } });
  });

  it("serves TLS only with a certificate for the primary's Service and every pod, replicating over TLS", () => {
    expect(one(addOn.manifests, "Certificate", "cart-kv-tls").spec).toMatchObject({
      secretName: "cart-kv-tls",
      isCA: false,
      dnsNames: ["cart-kv", "cart-kv.shop-data.svc", "cart-kv.shop-data.svc.cluster.local", "*.cart-kv-headless.shop-data.svc.cluster.local", "localhost"],
      issuerRef: { name: "data-ca", kind: "Issuer", group: "cert-manager.io" },
    });
    const redis = container(addOn.manifests);
    const script = redis.command[2] as string;
    expect(script).toContain("--port 0 --tls-port 6379 --tls-cert-file /tls/tls.crt --tls-key-file /tls/tls.key --tls-ca-cert-file /tls/ca.crt --tls-auth-clients no --tls-replication yes");
    expect(script).toContain('--requirepass "$REDIS_PASSWORD"');
    expect(redis.readinessProbe.exec.command).toEqual(["redis-cli", "--tls", "--cacert", "/tls/ca.crt", "-h", "localhost", "-p", "6379", "ping"]);
    expect(redis.volumeMounts).toContainEqual({ name: "tls", mountPath: "/tls", readOnly: true });
    const pod = one(addOn.manifests, "StatefulSet").spec.template.spec;
    expect(pod.volumes).toEqual([{ name: "tls", secret: { secretName: "cart-kv-tls", defaultMode: 0o440 } }]);
    // The password comes from the owner's credentials Secret, by reference.
    expect(redis.env).toContainEqual({ name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: databaseCredentialsSecretName("cart"), key: "password" } } });
  });

  it("sizes replicas and volumes from the plan and keeps the volumes in prod only", () => {
    const set = one(addOn.manifests, "StatefulSet").spec;
    expect(set.replicas).toBe(3);
    expect(set.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("30Gi");
    expect(set.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    const dev = keyValueAddOn(planLandingZone({ ...spec, environment: "dev" }, { engine: "pulumi" }))!;
    expect(one(dev.manifests, "StatefulSet").spec).toMatchObject({ replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } });
  });

  it("admits only the owner's pods and the store's own pods (replication)", () => {
    expect(one(addOn.manifests, "NetworkPolicy").spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "cart-kv", "app.kubernetes.io/part-of": "shop" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "cart", "app.kubernetes.io/part-of": "shop" } } }],
          ports: [{ protocol: "TCP", port: 6379 }],
        },
        { from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "cart-kv", "app.kubernetes.io/part-of": "shop" } } }], ports: [{ protocol: "TCP", port: 6379 }] },
      ],
    });
  });

  it("gives the owner the DATA_ENV contract without a database name; the password stays in its Secret", () => {
    expect(clusterDatabaseEnv(plan, clusterDatabaseServices(plan)[0]!)).toEqual({ DATABASE_ENGINE: "key-value", DATABASE_HOST: "cart-kv.shop-data.svc.cluster.local", DATABASE_PORT: "6379", DATABASE_USER: "default", DATABASE_CA_FILE: "/etc/msa/data-ca/ca.crt" });
  });

  it("leaves the session store's Redis on plain connections and rejects a bad TLS Secret name or volume size", () => {
    const plain = redisManifests(plan, { name: "sessions", namespace: "shop", passwordSecretName: "s", memoryGiB: 1, replicas: 0 });
    expect(container(plain).command[2]).toContain("--port 6379 --requirepass");
    expect(() => redisManifests(plan, { name: "a", namespace: "shop", passwordSecretName: "s", memoryGiB: 1, replicas: 0, tlsSecretName: "Bad_Name" })).toThrow('redisManifests options.tlsSecretName: "Bad_Name" is not a valid Kubernetes name');
    expect(() => redisManifests(plan, { name: "a", namespace: "shop", passwordSecretName: "s", memoryGiB: 1, replicas: 0, volumeGiB: 0.5 })).toThrow("redisManifests options.volumeGiB: 0.5 is not a volume size");
  });
});
