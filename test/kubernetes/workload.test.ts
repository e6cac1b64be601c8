import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HPA_CPU_UTILIZATION_PERCENT, SERVICE_PORT, labelsFor, serviceWorkload, type ManifestObject } from "../../lib/kubernetes/index.js";
import { planLandingZone, type ServicePlan } from "../../lib/plan/index.js";
import { devPlan, prodPlan, revalidate, single } from "./fixtures.js";

const orders = prodPlan.services.find((s) => s.name === "orders")!;
const payments = prodPlan.services.find((s) => s.name === "payments")!;
const workload = serviceWorkload(prodPlan, orders, { secretName: "orders-secrets", env: { AWS_REGION: "ap-northeast-2" } });
const deployment = single(workload, "Deployment");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];

describe("serviceWorkload", () => {
  it("returns the objects in apply order, each valid against its schema", () => {
    expect(workload.map((o) => o.kind)).toEqual(["ServiceAccount", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]);
    workload.forEach(revalidate);
    for (const object of workload) {
      expect(object.metadata.namespace).toBe(prodPlan.cluster!.namespace);
      expect(object.metadata.labels).toMatchObject(labelsFor(prodPlan, "orders"));
    }
  });

  it("labels with app.kubernetes.io name, part-of and managed-by", () => {
    expect(labelsFor(prodPlan, "orders")).toEqual({
      "app.kubernetes.io/name": "orders",
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "msa-landing-zone",
    });
  });

  it("runs non-root with a read-only root filesystem, no capabilities and the RuntimeDefault seccomp profile", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe("orders");
  });

  it("probes the plan's healthPath on the http port and sizes resources from the plan", () => {
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      expect(container[probe].httpGet).toEqual({ path: orders.healthPath, port: "http" });
    }
    expect(container.ports).toEqual([{ name: "http", containerPort: orders.port, protocol: "TCP" }]);
    expect(container.resources.requests).toEqual({ cpu: `${orders.cpuMillicores}m`, memory: `${orders.memoryMiB}Mi` });
    expect(container.resources.limits.memory).toBe(`${orders.memoryMiB}Mi`);
    expect(container.image).toBe(orders.image);
  });

  it("uses a custom healthPath, image and pod labels when given", () => {
    const custom = { ...payments, healthPath: "/actuator/health" };
    const d = single(serviceWorkload(prodPlan, custom, { image: "registry.example/payments@sha256:abc", podLabels: { "azure.workload.identity/use": "true" } }), "Deployment");
    const c = d.spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe("/actuator/health");
    expect(c.image).toBe("registry.example/payments@sha256:abc");
    expect(d.spec.template.metadata.labels["azure.workload.identity/use"]).toBe("true");
    expect(d.spec.selector.matchLabels["azure.workload.identity/use"]).toBeUndefined();
  });

  it("puts config and platform settings in the ConfigMap and references secrets through secretKeyRef only", () => {
    const configMap = single(workload, "ConfigMap");
    expect(configMap.metadata.name).toBe("orders-config");
    expect(configMap.data).toMatchObject({
      FEATURE_X: "on",
      SERVICE_NAME: "orders",
      PORT: String(orders.port),
      OTEL_EXPORTER_OTLP_ENDPOINT: prodPlan.tracing!.collectorEndpoint,
      AWS_REGION: "ap-northeast-2",
    });
    expect(container.envFrom).toEqual([{ configMapRef: { name: "orders-config" } }]);
    expect(container.env).toEqual([{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "DB_PASSWORD" } } }]);
    expect(configMap.data.DB_PASSWORD).toBeUndefined();
    for (const variable of container.env) expect(variable.value).toBeUndefined();
  });

  it("refuses secrets without a Secret to read them from", () => {
    expect(() => serviceWorkload(prodPlan, orders)).toThrow(/services\[orders\]\.secrets: \[DB_PASSWORD\] need options\.secretName.*Fix:/);
    expect(() => serviceWorkload(prodPlan, orders, { secretName: "Orders_Secrets" })).toThrow(/options\.secretName: "Orders_Secrets" is not a valid Kubernetes name/);
  });

  it("rejects bad ports, replica ranges and config keys with the prop, the value and the fix", () => {
    expect(() => serviceWorkload(prodPlan, { ...payments, port: 70000 })).toThrow("services[payments].port: 70000 is not a TCP port. Fix:");
    expect(() => serviceWorkload(prodPlan, { ...payments, replicas: { min: 3, max: 2 } })).toThrow("services[payments].replicas: {min: 3, max: 2} is not a valid range");
    expect(() => serviceWorkload(prodPlan, { ...payments, config: { "bad key": "x" } })).toThrow('services[payments].config: key "bad key" is not a valid ConfigMap key');
  });

  it("exposes a ClusterIP Service on port 80 to the container port", () => {
    const service = single(workload, "Service");
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.spec.ports).toEqual([{ name: "http", port: SERVICE_PORT, targetPort: orders.port, protocol: "TCP", appProtocol: "http" }]);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(SERVICE_PORT).toBe(80);
  });

  it("autoscales between the plan's replica bounds at 70% CPU and leaves the count to the autoscaler", () => {
    const hpa = single(workload, "HorizontalPodAutoscaler");
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.minReplicas).toBe(orders.replicas.min);
    expect(hpa.spec.maxReplicas).toBe(orders.replicas.max);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "orders" });
    expect(hpa.spec.metrics[0].resource.target).toEqual({ type: "Utilization", averageUtilization: HPA_CPU_UTILIZATION_PERCENT });
    expect(HPA_CPU_UTILIZATION_PERCENT).toBe(70);
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it("keeps one pod available when min > 1 and allows one down when min = 1", () => {
    expect(orders.replicas.min).toBeGreaterThan(1);
    const prodPdb = single(workload, "PodDisruptionBudget");
    expect(prodPdb.spec).toMatchObject({ minAvailable: 1 });
    expect(prodPdb.spec.maxUnavailable).toBeUndefined();
    const devPayments = devPlan.services.find((s) => s.name === "payments")!;
    expect(devPayments.replicas.min).toBe(1);
    const devPdb = single(serviceWorkload(devPlan, devPayments), "PodDisruptionBudget");
    expect(devPdb.spec).toMatchObject({ maxUnavailable: 1 });
    expect(devPdb.spec.minAvailable).toBeUndefined();
  });

  it("spreads pods across zones", () => {
    expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", labelSelector: { matchLabels: deployment.spec.selector.matchLabels } });
  });

  it("annotates the ServiceAccount for cloud identity", () => {
    const sa = single(serviceWorkload(prodPlan, payments, { serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/payments" } }), "ServiceAccount");
    expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/payments" });
  });

  it("generates a valid workload for any service name, port and replica bounds", () => {
    const name = fc.stringMatching(/^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/);
    const service = fc.record({
      name,
      port: fc.integer({ min: 1, max: 65535 }),
      min: fc.integer({ min: 1, max: 100 }),
      extra: fc.integer({ min: 0, max: 900 }),
      secrets: fc.uniqueArray(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(service, ({ name, port, min, extra, secrets }) => {
        const plan = planLandingZone({ name: "prop", services: [{ name, port, replicas: { min, max: min + extra }, secrets }] });
        const objects: ManifestObject[] = serviceWorkload(plan, plan.services[0] as ServicePlan, { secretName: `${name}-secrets` });
        objects.forEach(revalidate);
        const hpa = single(objects, "HorizontalPodAutoscaler");
        expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([min, min + extra]);
        expect(single(objects, "Service").spec.ports[0].targetPort).toBe(port);
      }),
      { numRuns: 60 },
    );
  });
});
