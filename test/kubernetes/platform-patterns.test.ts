import { describe, expect, it } from "vitest";
import {
  SECRETS_MOUNT_PATH,
  SECRETS_STORE_PROVIDER_AWS_CHART,
  awsSecretProviderClass,
  secretProviderClass,
  extAuthzProvider,
  gatewayAuthPolicies,
  meshAddOn,
  namespaceManifests,
  secretsStoreAddOn,
  serviceWorkload,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { prodPlan, revalidate, single } from "./fixtures.js";

const cluster = {
  name: "shop",
  cloud: "kubernetes",
  region: "local",
  environment: "prod",
  services: [{ name: "orders" }, { name: "auth", path: "/auth" }],
} satisfies LandingZoneInput;
const tokensPlan = planLandingZone({ ...cluster, auth: { issuer: "https://login.example.com/realms/shop", jwksUri: "https://login.example.com/realms/shop/certs", audiences: ["shop-web"] } });
const authorizerPlan = planLandingZone({ ...cluster, gateway: { auth: "authorizer" }, auth: { service: "auth" } });
const INGRESS = { kind: "in-cluster", namespace: "shop-ingress" } as const;

describe("gatewayAuthPolicies (tokens)", () => {
  const policies = gatewayAuthPolicies(tokensPlan, INGRESS);

  it("validates the issuer's tokens in the workloads namespace, each object valid against the Istio schemas", () => {
    expect(policies.map((p) => p.kind)).toEqual(["RequestAuthentication", "AuthorizationPolicy"]);
    policies.forEach(revalidate);
    const authn = single(policies, "RequestAuthentication");
    expect(authn.metadata.namespace).toBe("shop");
    expect(authn.spec.jwtRules).toEqual([
      { issuer: "https://login.example.com/realms/shop", jwksUri: "https://login.example.com/realms/shop/certs", audiences: ["shop-web"], forwardOriginalToken: true },
    ]);
  });

  it("denies calls through the gateway that carry no valid token, and leaves service-to-service calls to mutual TLS", () => {
    const deny = single(policies, "AuthorizationPolicy");
    expect(deny.spec).toEqual({ action: "DENY", rules: [{ from: [{ source: { namespaces: ["shop-ingress"], notRequestPrincipals: ["*"] } }] }] });
  });

  it("is empty when the gateway checks no one, and refuses a plan without a mesh", () => {
    expect(gatewayAuthPolicies(planLandingZone(cluster), INGRESS)).toEqual([]);
    const withoutMesh = { ...tokensPlan, mesh: undefined };
    expect(() => gatewayAuthPolicies(withoutMesh, INGRESS)).toThrow(/plan.mesh is undefined and these checks are Istio policies. Fix: set mesh.kind: istio/);
  });
});

describe("gatewayAuthPolicies behind a cloud load balancer reaching the pods (GKE NEGs)", () => {
  const gcpTokens = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", services: [{ name: "orders" }, { name: "ledger", expose: false, healthPath: "/ready" }] });
  const identityPlatform = { issuer: "https://securetoken.google.com/p", jwksUri: "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com", audiences: ["p"] };

  it("checks callers from outside the namespace, lets the balancer's health checks through, and takes an issuer known only at deployment", () => {
    const policies = gatewayAuthPolicies(gcpTokens, { kind: "load-balancer" }, { issuer: identityPlatform });
    policies.forEach(revalidate);
    expect(single(policies, "RequestAuthentication").spec).toEqual({ jwtRules: [{ ...identityPlatform, forwardOriginalToken: true }] });
    expect(single(policies, "AuthorizationPolicy").spec).toEqual({
      action: "DENY",
      rules: [{ from: [{ source: { notNamespaces: ["shop"], notRequestPrincipals: ["*"] } }], to: [{ operation: { notPaths: ["/health"] } }] }],
    });
  });

  it("refuses a token check without an issuer, or with a plain-HTTP one", () => {
    expect(() => gatewayAuthPolicies(gcpTokens, { kind: "load-balancer" })).toThrow(/has no issuer.*Fix: set auth.issuer in the spec, or pass options.issuer/);
    expect(() => gatewayAuthPolicies(gcpTokens, { kind: "load-balancer" }, { issuer: { ...identityPlatform, issuer: "http://idp" } })).toThrow(/"http:\/\/idp" is not an https URL/);
  });
});

describe("gatewayAuthPolicies (auth service)", () => {
  it("delegates gateway calls to the auth service through a CUSTOM policy, except its own sign-in routes", () => {
    const policies = gatewayAuthPolicies(authorizerPlan, INGRESS);
    policies.forEach(revalidate);
    expect(single(policies, "AuthorizationPolicy").spec).toEqual({
      action: "CUSTOM",
      provider: { name: "shop-auth-service" },
      rules: [{ from: [{ source: { namespaces: ["shop-ingress"] } }], to: [{ operation: { notPaths: ["/auth", "/auth/*"] } }] }],
    });
  });

  it("registers the auth service as istiod's ext-authz provider, asking the same check as the AWS authorizer", () => {
    const provider = { name: "shop-auth-service", envoyExtAuthzHttp: { service: "auth.shop.svc.cluster.local", port: 80, pathPrefix: "/auth/authorize", includeRequestHeadersInCheck: ["authorization"], timeout: "3s" } };
    expect(extAuthzProvider(authorizerPlan)).toEqual(provider);
    const istiod = meshAddOn(authorizerPlan)!.helmReleases.find((r) => r.chart === "istiod")!;
    expect((istiod.values as { meshConfig: Record<string, unknown> }).meshConfig).toEqual({ accessLogFile: "/dev/stdout", extensionProviders: [provider] });
    // Without an auth service (or where the gateway is an AWS Lambda authorizer), istiod gets no provider.
    expect((meshAddOn(tokensPlan)!.helmReleases[1]!.values as { meshConfig: Record<string, unknown> }).meshConfig).toEqual({ accessLogFile: "/dev/stdout" });
    const awsAuthorizer = planLandingZone({ name: "shop", gateway: { auth: "authorizer" }, auth: { service: "auth" }, services: [{ name: "auth" }] });
    expect((meshAddOn(awsAuthorizer)!.helmReleases[1]!.values as { meshConfig: Record<string, unknown> }).meshConfig).not.toHaveProperty("extensionProviders");
  });
});

describe("the mesh on every target", () => {
  it("labels the workloads namespace for sidecar injection and turns mTLS STRICT on mesh-wide", () => {
    for (const plan of [prodPlan, tokensPlan]) {
      expect(single(namespaceManifests(plan), "Namespace").metadata.labels["istio-injection"]).toBe("enabled");
      expect(single(meshAddOn(plan)!.manifests, "PeerAuthentication").spec).toEqual({ mtls: { mode: "STRICT" } });
    }
  });
});

describe("secrets store (AWS)", () => {
  const orders = prodPlan.services.find((s) => s.name === "orders")!;
  const arn = "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:msa/shop/prod/orders/DB_PASSWORD-AbCdEf";

  it("installs the AWS provider with the CSI driver, mirroring secrets into Kubernetes Secrets and rotating them", () => {
    const addOn = secretsStoreAddOn();
    expect(addOn.helmReleases).toHaveLength(1);
    const release = addOn.helmReleases[0]!;
    expect(release).toMatchObject({ chart: SECRETS_STORE_PROVIDER_AWS_CHART.chart, repository: "https://aws.github.io/secrets-store-csi-driver-provider-aws", version: "2.2.0", namespace: "kube-system" });
    expect(release.values).toEqual({ "secrets-store-csi-driver": { install: true, syncSecret: { enabled: true }, enableSecretRotation: true, rotationPollInterval: "2m" } });
  });

  it("reads each secret with the pod's own identity and mirrors it under its env var name", () => {
    const spc = awsSecretProviderClass(prodPlan, orders, "orders-secrets", [
      { key: "DB_PASSWORD", secretArn: arn },
      { key: "SESSION_STORE_PASSWORD", secretArn: "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:token-1" },
    ]) as unknown as { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: { provider: string; parameters: { usePodIdentity: string; objects: string }; secretObjects: unknown[] } };
    expect(spc).toMatchObject({ apiVersion: "secrets-store.csi.x-k8s.io/v1", kind: "SecretProviderClass", metadata: { name: "orders-secrets", namespace: "shop" } });
    expect(spc.spec.provider).toBe("aws");
    expect(spc.spec.parameters.usePodIdentity).toBe("true");
    expect(JSON.parse(spc.spec.parameters.objects)).toEqual([
      { objectName: arn, objectType: "secretsmanager", objectAlias: "DB_PASSWORD" },
      { objectName: "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:token-1", objectType: "secretsmanager", objectAlias: "SESSION_STORE_PASSWORD" },
    ]);
    expect(spc.spec.secretObjects).toEqual([
      {
        secretName: "orders-secrets",
        type: "Opaque",
        labels: { "app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "msa-landing-zone" },
        data: [
          { objectName: "DB_PASSWORD", key: "DB_PASSWORD" },
          { objectName: "SESSION_STORE_PASSWORD", key: "SESSION_STORE_PASSWORD" },
        ],
      },
    ]);
    expect(() => awsSecretProviderClass(prodPlan, orders, "orders-secrets", [])).toThrow(/secrets is empty/);
    expect(() => awsSecretProviderClass(prodPlan, orders, "orders-secrets", [{ key: "A", secretArn: arn }, { key: "A", secretArn: arn }])).toThrow(/key "A" is not a unique UPPER_SNAKE_CASE name/);
  });

  it("builds the same class for a workload that is not a service, with any Secret key", () => {
    const labels = { "app.kubernetes.io/name": "filebeat" };
    const spc = secretProviderClass({ name: "agent-auth", namespace: "logging", labels, secrets: [{ key: "password", secretArn: arn }] }) as unknown as { metadata: unknown; spec: { parameters: { objects: string }; secretObjects: unknown[] } };
    expect(spc.metadata).toEqual({ name: "agent-auth", namespace: "logging", labels });
    expect(JSON.parse(spc.spec.parameters.objects)).toEqual([{ objectName: arn, objectType: "secretsmanager", objectAlias: "password" }]);
    expect(spc.spec.secretObjects).toEqual([{ secretName: "agent-auth", type: "Opaque", labels, data: [{ objectName: "password", key: "password" }] }]);
    expect(() => secretProviderClass({ name: "agent-auth", namespace: "logging", labels, secrets: [{ key: "pass word", secretArn: arn }] })).toThrow(/key "pass word" is not a unique Kubernetes Secret key. Fix/);
    expect(() => secretProviderClass({ name: "agent-auth", namespace: "Logging", labels, secrets: [{ key: "password", secretArn: arn }] })).toThrow(/secretProviderClass namespace: "Logging" is not a valid Kubernetes name/);
  });

  it("mounts the class read-only so the mirror exists, while env vars still come only through secretKeyRef", () => {
    const objects = serviceWorkload(prodPlan, orders, { secretName: "orders-secrets", secretProviderClass: "orders-secrets" });
    objects.forEach(revalidate);
    const pod = single(objects, "Deployment").spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: "orders-secrets" } } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "secrets-store", mountPath: SECRETS_MOUNT_PATH, readOnly: true });
    expect(pod.containers[0].env).toEqual([{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "orders-secrets", key: "DB_PASSWORD" } } }]);
    expect(() => serviceWorkload(prodPlan, orders, { secretName: "orders-secrets", secretProviderClass: "Bad_Name" })).toThrow(/options.secretProviderClass: "Bad_Name" is not a valid Kubernetes name/);
  });
});
