import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ESP_SECURITY_DEFINITION } from "../../../lib/plan/endpoints-proxy.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { AppEngineService } from "../../../lib/pulumi/gcp/app-engine-service.js";
import { LandingZone } from "../../../lib/pulumi/gcp/landing-zone.js";
import { IDENTITY_PLATFORM_JWKS_URI } from "../../../lib/pulumi/gcp/user-directory.js";
import { loadSpecFile } from "../../../lib/spec/parse.js";
import type { LandingZoneSpec } from "../../../lib/spec/types.js";
import { byType, GCP_CONFIG, MOCK_GCP_PROJECT, runProgram, single, type RegisteredResource } from "../harness.js";

type Json = Record<string, any>;

/** The GCP example on App Engine with the gateway checking client tokens, inventory kept off the gateway, and what App Engine does not run turned off. */
function onAppEngine(auth: Pick<LandingZoneSpec, "gateway" | "auth">): LandingZoneSpec {
  const spec = loadSpecFile("examples/gcp/landing-zone.yaml");
  return {
    ...spec,
    services: spec.services.map((s) => (s.name === "inventory" ? { ...s, expose: false } : s)),
    tier: "paas",
    mesh: { ...spec.mesh, kind: "none" },
    logging: { ...spec.logging, stack: "none", buffer: "none" },
    tracing: { ...spec.tracing, backend: "none" },
    gateway: auth.gateway,
    auth: auth.auth,
  };
}
const openApi = (resource: RegisteredResource) => parse(String(resource.inputs["openapiConfig"])) as Json;

describe("LandingZone on GCP App Engine, client tokens checked by ESP beside each exposed service", () => {
  const example = loadSpecFile("examples/gcp/landing-zone.yaml");
  const spec = onAppEngine({ gateway: { ...example.gateway, auth: "jwt" }, auth: example.auth });
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const exposed = plan.services.filter((s) => s.expose);
  const internal = plan.services.filter((s) => !s.expose);
  let resources: RegisteredResource[];
  beforeAll(async () => {
    ({ resources } = await runProgram(() => void new LandingZone("shop", { spec }), { config: GCP_CONFIG }));
  });

  it("creates the Identity Platform directory whose tokens ESP accepts", () => {
    expect(single(resources, "gcp:identityplatform/config:Config", "shop-users-config").inputs).toMatchObject({ signIn: { email: { enabled: true, passwordRequired: true } } });
  });

  it("gives every exposed service its own Endpoints service, and names it in the version with a managed rollout", () => {
    expect(exposed.length).toBeGreaterThan(1);
    for (const service of exposed) {
      const endpoints = single(resources, "gcp:endpoints/service:Service", `shop-${service.name}-endpoints`);
      const name = `shop-prod-${service.name}.endpoints.${MOCK_GCP_PROJECT}.cloud.goog`;
      expect(endpoints.inputs["serviceName"], service.name).toBe(name);
      const version = single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", `shop-${service.name}-version`);
      expect(version.inputs["endpointsApiService"], service.name).toEqual({ name: endpoints.outputs["serviceName"], rolloutStrategy: "MANAGED" });
      expect(version.dependsOn, service.name).toEqual(expect.arrayContaining([`shop-${service.name}-endpoints-enabled`, `shop-${service.name}-endpoints-controller`]));
      expect(single(resources, "gcp:projects/service:Service", `shop-${service.name}-endpoints-enabled`).inputs).toMatchObject({ service: name, disableOnDestroy: false });
    }
    expect(byType(resources, "gcp:endpoints/service:Service")).toHaveLength(exposed.length);
  });

  it("validates Identity Platform tokens of the project on every path but the service's health path", () => {
    for (const service of exposed) {
      const doc = openApi(single(resources, "gcp:endpoints/service:Service", `shop-${service.name}-endpoints`));
      expect(doc["host"]).toBe(`shop-prod-${service.name}.endpoints.${MOCK_GCP_PROJECT}.cloud.goog`);
      expect(doc["securityDefinitions"][ESP_SECURITY_DEFINITION]).toMatchObject({
        "x-google-issuer": `https://securetoken.google.com/${MOCK_GCP_PROJECT}`,
        "x-google-jwks_uri": IDENTITY_PLATFORM_JWKS_URI,
        "x-google-audiences": MOCK_GCP_PROJECT,
      });
      expect(doc["security"]).toEqual([{ [ESP_SECURITY_DEFINITION]: [] }]);
      expect(Object.keys(doc["paths"]), service.name).toEqual([service.healthPath, "/**"]);
      expect(doc["paths"][service.healthPath].get.security).toEqual([]);
      expect(doc["paths"]["/**"].post.security).toBeUndefined();
    }
  });

  it("grants each runtime account Service Control on its own Endpoints service only, and Cloud Trace", () => {
    for (const service of exposed) {
      const account = single(resources, "gcp:serviceaccount/account:Account", `shop-${service.name}-identity-account`);
      const controllers = byType(resources, "gcp:endpoints/serviceIamMember:ServiceIamMember").filter((r) => r.inputs["member"] === account.outputs["member"]);
      expect(controllers.map((r) => r.inputs), service.name).toEqual([
        { serviceName: `shop-prod-${service.name}.endpoints.${MOCK_GCP_PROJECT}.cloud.goog`, role: "roles/servicemanagement.serviceController", member: account.outputs["member"] },
      ]);
      const projectRoles = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((r) => r.inputs["member"] === account.outputs["member"]).map((r) => r.inputs["role"]);
      expect(projectRoles, service.name).toContain("roles/cloudtrace.agent");
    }
  });

  it("puts no proxy, Endpoints service or extra grant on a service the gateway does not expose", () => {
    expect(internal.length).toBeGreaterThan(0);
    for (const service of internal) {
      const version = single(resources, "gcp:appengine/flexibleAppVersion:FlexibleAppVersion", `shop-${service.name}-version`);
      expect(version.inputs["endpointsApiService"]).toBeUndefined();
      const account = single(resources, "gcp:serviceaccount/account:Account", `shop-${service.name}-identity-account`);
      const roles = byType(resources, "gcp:projects/iAMMember:IAMMember").filter((r) => r.inputs["member"] === account.outputs["member"]).map((r) => r.inputs["role"]);
      expect(roles).not.toContain("roles/cloudtrace.agent");
    }
  });

  it("trusts auth.issuer with its audiences instead, creating no directory; without auth.jwksUri ESP reads the issuer's discovery", async () => {
    const external = onAppEngine({ gateway: { ...example.gateway, auth: "jwt" }, auth: { ...example.auth, issuer: "https://issuer.example.com/", audiences: ["shop-api", "shop-web"] } });
    const { resources: own } = await runProgram(() => void new LandingZone("shop", { spec: external }), { config: GCP_CONFIG });
    expect(byType(own, "gcp:identityplatform/config:Config")).toHaveLength(0);
    const security = openApi(single(own, "gcp:endpoints/service:Service", `shop-${exposed[0]!.name}-endpoints`))["securityDefinitions"][ESP_SECURITY_DEFINITION];
    expect(security).toEqual({ type: "oauth2", flow: "implicit", authorizationUrl: "", "x-google-issuer": "https://issuer.example.com/", "x-google-audiences": "shop-api,shop-web" });
  });

  it("refuses an Endpoints proxy for a service the plan does not put one in front of, naming the prop and the fix", async () => {
    const internalName = internal[0]!.name;
    const program = () =>
      void new AppEngineService("x", {
        plan,
        service: internalName,
        network: { name: "n", subnetwork: "s" },
        repository: { url: "u", name: "r" },
        endpoints: { issuer: { issuer: "https://issuer.example.com/", audiences: ["a"] } },
      });
    await expect(runProgram(program, { config: GCP_CONFIG })).rejects.toThrow(new RegExp(`AppEngineService x args.endpoints: the plan puts no Endpoints proxy in front of "${internalName}".*Fix: drop args.endpoints`));
  });
});
