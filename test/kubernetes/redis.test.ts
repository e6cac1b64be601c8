import { describe, expect, it } from "vitest";
import { REDIS_PORT, redisManifests } from "../../lib/kubernetes/index.js";
import { devPlan, prodPlan, revalidate, single } from "./fixtures.js";

const options = { name: "sessions", namespace: "shop", passwordSecretName: "sessions-auth", memoryGiB: 4, replicas: 2 };
const objects = redisManifests(prodPlan, options);
const statefulSet = single(objects, "StatefulSet");
const container = statefulSet.spec.template.spec.containers[0];

describe("redisManifests", () => {
  it("returns a headless Service, a primary Service and a StatefulSet, each valid", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Service/sessions-headless", "Service/sessions", "StatefulSet/sessions"]);
    objects.forEach(revalidate);
    for (const object of objects) expect(object.metadata.namespace).toBe("shop");
  });

  it("runs a primary plus the requested replicas, the Service reaching only the primary", () => {
    expect(statefulSet.spec.replicas).toBe(3);
    expect(statefulSet.spec.serviceName).toBe("sessions-headless");
    const primary = objects.find((o) => o.metadata.name === "sessions") as Record<string, any>;
    expect(primary.spec.selector["statefulset.kubernetes.io/pod-name"]).toBe("sessions-0");
    expect(primary.spec.ports[0].port).toBe(REDIS_PORT);
    expect(container.command[2]).toContain("--replicaof sessions-0.sessions-headless.shop.svc.cluster.local 6379");
    const alone = single(redisManifests(devPlan, { ...options, replicas: 0 }), "StatefulSet");
    expect(alone.spec.replicas).toBe(1);
    expect(alone.spec.template.spec.containers[0].command[2]).not.toContain("--replicaof");
  });

  it("takes the password from the Secret, never as a literal", () => {
    expect(container.command[2]).toContain('--requirepass "$REDIS_PASSWORD"');
    expect(container.env).toEqual([
      { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "sessions-auth", key: "password" } } },
      { name: "REDISCLI_AUTH", valueFrom: { secretKeyRef: { name: "sessions-auth", key: "password" } } },
    ]);
  });

  it("runs non-root with a read-only root filesystem and data on a persistent volume", () => {
    expect(statefulSet.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(container.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }]);
    expect(statefulSet.spec.volumeClaimTemplates[0].metadata.name).toBe("data");
    expect(statefulSet.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("8Gi");
  });

  it("sizes memory from the options and caps Redis below the limit", () => {
    expect(container.resources.limits.memory).toBe("4096Mi");
    expect(container.command[2]).toContain("--maxmemory 3072mb --maxmemory-policy noeviction");
  });

  it("retains volumes only when the plan retains stateful resources", () => {
    expect(prodPlan.protection.retain).toBe(true);
    expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(devPlan.protection.retain).toBe(false);
    expect(single(redisManifests(devPlan, options), "StatefulSet").spec.persistentVolumeClaimRetentionPolicy.whenDeleted).toBe("Delete");
  });

  it("rejects bad options with the prop, the value and the fix", () => {
    expect(() => redisManifests(prodPlan, { ...options, name: "Sessions" })).toThrow('redisManifests options.name: "Sessions" is not a valid Kubernetes name. Fix:');
    expect(() => redisManifests(prodPlan, { ...options, memoryGiB: 0 })).toThrow("redisManifests options.memoryGiB: 0 is not a memory size. Fix:");
    expect(() => redisManifests(prodPlan, { ...options, replicas: -1 })).toThrow("redisManifests options.replicas: -1 is not a replica count. Fix:");
  });
});
