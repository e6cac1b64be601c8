import { describe, expect, it } from "vitest";
import {
  FRONTEND_BUNDLE_DIRECTORY,
  FRONTEND_SERVER_IMAGE,
  frontendAppManifests,
  frontendImage,
  frontendNamespaceManifests,
  frontendRouteConflicts,
  frontendServerConfig,
} from "../../lib/kubernetes/index.js";
import { FRONTEND_SECURITY_HEADERS } from "../../lib/plan/frontends.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { check, one } from "./addon-helpers.js";

const spec = {
  name: "shop",
  cloud: "kubernetes",
  environment: "prod",
  gateway: { auth: "none", rateLimit: { requestsPerSecond: 50, burst: 120 } },
  mesh: { kind: "istio" },
  bffs: ["web"],
  frontends: { shell: "web", fragments: ["catalog", "checkout"] },
  services: [{ name: "orders" }],
} satisfies LandingZoneInput;
const plan = planLandingZone(spec, { engine: "pulumi" });
const frontends = plan.frontends!;
const catalog = frontendAppManifests(plan, frontends.fragments[0]!, { className: "shop-nginx", host: "shop.example.com", httpsOnly: true });
const shell = frontendAppManifests(plan, frontends.shell, { className: "shop-nginx", image: "registry.example.com/shop-web-ui:1.2.3", imagePullSecretName: "registry-credentials" });

describe("frontendAppManifests", () => {
  it("builds schema-valid objects, one set per app, in the frontends namespace", () => {
    for (const o of [...catalog, ...shell, ...frontendNamespaceManifests(plan)]) check(o);
    expect(catalog.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["ConfigMap/catalog-ui", "Deployment/catalog-ui", "Service/catalog-ui", "PodDisruptionBudget/catalog-ui", "Ingress/catalog-ui"]);
    for (const o of catalog) expect(o.metadata.namespace).toBe("shop-frontends");
    // Nothing of one app names another: each deploys on its own.
    expect(JSON.stringify(catalog)).not.toContain("checkout");
    expect(JSON.stringify(catalog)).not.toContain("web-ui");
  });

  it("copies the bundle out of the app's own image and serves it read-only with the pinned unprivileged nginx", () => {
    const pod = one(catalog, "Deployment").spec.template.spec;
    expect(one(catalog, "Deployment").spec.replicas).toBe(2);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.initContainers).toEqual([
      expect.objectContaining({ name: "bundle", image: frontendImage(plan, { name: "catalog" }), command: ["cp", "-R", `${FRONTEND_BUNDLE_DIRECTORY}/.`, "/bundle/"], volumeMounts: [{ name: "bundle", mountPath: "/bundle" }] }),
    ]);
    expect(frontendImage(plan, { name: "catalog" })).toBe("shop-catalog-ui:latest");
    const [nginx] = pod.containers;
    expect(nginx.image).toBe(FRONTEND_SERVER_IMAGE);
    expect(FRONTEND_SERVER_IMAGE).toMatch(/nginx-unprivileged:\d+\.\d+\.\d+/);
    for (const container of [nginx, pod.initContainers[0]]) {
      expect(container.securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    }
    // /catalog/x maps to the file x of the bundle.
    expect(nginx.volumeMounts).toContainEqual({ name: "bundle", mountPath: "/usr/share/nginx/html/catalog", readOnly: true });
    expect(one(shell, "Deployment").spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: "bundle", mountPath: "/usr/share/nginx/html", readOnly: true });
    expect(one(shell, "Deployment").spec.template.spec.initContainers[0].image).toBe("registry.example.com/shop-web-ui:1.2.3");
    expect(one(shell, "Deployment").spec.template.spec.imagePullSecrets).toEqual([{ name: "registry-credentials" }]);
    expect(one(catalog, "Deployment").spec.template.spec.imagePullSecrets).toBeUndefined();
  });

  it("sets the CloudFront path's security headers on every response", () => {
    const config = one(catalog, "ConfigMap").data["default.conf"] as string;
    expect(config).toBe(frontendServerConfig(plan));
    for (const line of [
      `add_header Strict-Transport-Security "max-age=${FRONTEND_SECURITY_HEADERS.hstsMaxAgeSeconds}; includeSubDomains" always;`,
      `add_header Content-Security-Policy "${FRONTEND_SECURITY_HEADERS.contentSecurityPolicy}" always;`,
      'add_header X-Content-Type-Options "nosniff" always;',
      'add_header X-Frame-Options "DENY" always;',
      'add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
      "server_tokens off;",
      "listen 8080;",
    ]) {
      expect(config).toContain(line);
    }
    // A changed config rolls the pods.
    expect(one(catalog, "Deployment").spec.template.metadata.annotations["checksum/config"]).toMatch(/^[0-9a-f]{16}$/);
  });

  it("routes / to the shell and /<fragment>/ to each fragment on the gateway's class and host, rate limited, HTTPS only with a certificate", () => {
    const ingress = one(catalog, "Ingress");
    expect(ingress.spec).toEqual({
      ingressClassName: "shop-nginx",
      rules: [{ host: "shop.example.com", http: { paths: [{ path: "/catalog/", pathType: "Prefix", backend: { service: { name: "catalog-ui", port: { number: 80 } } } }] } }],
    });
    expect(ingress.metadata.annotations).toEqual({
      "nginx.ingress.kubernetes.io/limit-rps": "50",
      "nginx.ingress.kubernetes.io/limit-burst-multiplier": "3",
      "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
    });
    const shellIngress = one(shell, "Ingress");
    expect(shellIngress.spec.rules).toEqual([{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web-ui", port: { number: 80 } } } }] } }]);
    expect(shellIngress.metadata.annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"]).toBeUndefined();
    // The shell's BFF routes stay with the gateway: the plan routes them to the BFF's Service.
    expect(plan.gateway.routes.filter((r) => r.target === "web").map((r) => r.path)).toEqual(["/web"]);
    expect(one(catalog, "Service").spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
    expect(one(catalog, "PodDisruptionBudget").spec).toMatchObject({ minAvailable: 1 });
  });

  it("admits only the ingress controller's namespace, keeps the pages out of the mesh and restricted", () => {
    const [namespace, deny, allow] = frontendNamespaceManifests(plan);
    expect(namespace!.metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted", "istio-injection": "disabled" });
    expect(deny!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    expect(allow!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ namespaceSelector: { matchLabels: { "msa-landing-zone/ingress": "true" } } }], ports: [{ protocol: "TCP", port: 8080 }] }] });
  });

  it("names the collision of a fragment with a service's gateway path, and rejects apps and names it does not know", () => {
    const clash = planLandingZone({ ...spec, services: [{ name: "catalog-api", path: "/catalog" }] }, { engine: "pulumi" });
    expect(frontendRouteConflicts(clash)).toEqual([`frontends: fragment "catalog" is served at /catalog/, which the gateway routes to catalog-api. Fix: rename the fragment or change catalog-api's path`]);
    expect(frontendRouteConflicts(plan)).toEqual([]);
    expect(() => frontendAppManifests(plan, { ...frontends.fragments[0]!, name: "cart" }, { className: "shop-nginx" })).toThrow('frontendAppManifests app: "cart" is not an app of plan.frontends');
    expect(() => frontendAppManifests(plan, frontends.shell, { className: "Shop_Nginx" })).toThrow('frontendAppManifests options.className: "Shop_Nginx" is not a valid Kubernetes name');
  });
});
