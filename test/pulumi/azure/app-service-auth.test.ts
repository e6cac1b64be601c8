import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { APP_SERVICE_PROXY_CONFIG_SETTING, APP_SERVICE_PROXY_CONTAINER, APP_SERVICE_SERVICE_CONTAINER } from "../../../lib/plan/app-service-proxy.js";
import { APP_SERVICE_EDGE_PROXY_PORT, EDGE_PROXY_AUTH_PORT, EDGE_PROXY_IMAGE } from "../../../lib/plan/edge-proxy.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, runProgram, single, type RegisteredResource } from "../harness.js";

type Json = Record<string, any>;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

/** The Azure example on App Service with a worker the gateway never reaches, and what Azure offers only on clusters turned off. */
function onAppService(change: Partial<LandingZoneInput>): LandingZoneInput {
  const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
  return {
    ...example,
    tier: "paas",
    mesh: { kind: "none" },
    logging: { stack: "none", buffer: "none" },
    services: [...example.services!, { name: "worker", expose: false }],
    ...change,
  };
}

const appOf = (resources: readonly RegisteredResource[], service: string) => byType(resources, "azure-native:web:WebApp").find((a) => a.parent === `shop-${service}`)!;
const settingsOf = (app: RegisteredResource) => Object.fromEntries((app.inputs["siteConfig"] as { appSettings: { name: string; value: string }[] }).appSettings.map((s) => [s.name, s.value]));
const containersOf = (resources: readonly RegisteredResource[], service: string) => byType(resources, "azure-native:web:WebAppSiteContainer").filter((c) => c.parent === `shop-${service}`);
/** The proxy's Envoy bootstrap, read back from the app setting its container maps. */
const proxyConfig = (resources: readonly RegisteredResource[], service: string): Json => parse(String(settingsOf(appOf(resources, service))[APP_SERVICE_PROXY_CONFIG_SETTING])) as Json;
const manager = (config: Json, listener = 0) => config["static_resources"].listeners[listener].filter_chains[0].filters[0].typed_config;
const httpFilter = (config: Json, name: string) => manager(config).http_filters.find((f: Json) => f.name === name)?.typed_config;

describe("App Service, Entra ID tokens checked by an edge proxy container in front of each exposed service", async () => {
  const spec = onAppService({ gateway: { auth: "jwt" }, auth: { sessions: "redis", issuer: ISSUER, audiences: ["api://shop"] } });
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const exposed = plan.services.filter((s) => s.expose);
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));

  it("runs Envoy as the main container on port 80 and the service's image as a sidecar pulled with the app's identity", () => {
    expect(exposed.map((s) => s.name)).toEqual(expect.arrayContaining(["orders", "web", "mobile"]));
    for (const service of exposed) {
      const app = appOf(resources, service.name);
      expect((app.inputs["siteConfig"] as Json)["linuxFxVersion"], service.name).toBe("sitecontainers");
      const identity = resources.find((r) => r.name === `shop-${service.name}-identity`)!;
      const containers = containersOf(resources, service.name);
      expect(containers.map((c) => c.inputs["containerName"]).sort()).toEqual([APP_SERVICE_PROXY_CONTAINER, APP_SERVICE_SERVICE_CONTAINER].sort());
      const proxy = containers.find((c) => c.inputs["isMain"] === true)!;
      expect(proxy.inputs).toMatchObject({ name: app.inputs["name"], containerName: APP_SERVICE_PROXY_CONTAINER, image: EDGE_PROXY_IMAGE, targetPort: String(APP_SERVICE_EDGE_PROXY_PORT), authType: "Anonymous" });
      const sidecar = containers.find((c) => c.inputs["isMain"] === false)!;
      expect(sidecar.inputs).toMatchObject({ name: app.inputs["name"], targetPort: String(service.port), authType: "UserAssigned", userManagedIdentityClientId: identity.outputs["clientId"], inheritAppSettingsAndConnectionStrings: true });
      expect(String(sidecar.inputs["image"])).toMatch(new RegExp(`^shopprodregistry[0-9a-f]{6}\\.azurecr\\.io/shop-${service.name}:latest$`));
      // With site containers the image and port live on the containers, not in the app's settings.
      expect(settingsOf(app)["WEBSITES_PORT"], service.name).toBeUndefined();
      expect((app.inputs["siteConfig"] as Json)["acrUseManagedIdentityCreds"]).toBeUndefined();
    }
  });

  it("gives the proxy its config and nothing else: the service's secrets and settings never enter its environment", () => {
    const proxy = containersOf(resources, "orders").find((c) => c.inputs["isMain"] === true)!;
    expect(proxy.inputs["inheritAppSettingsAndConnectionStrings"]).toBe(false);
    expect(proxy.inputs["environmentVariables"]).toEqual([{ name: APP_SERVICE_PROXY_CONFIG_SETTING, value: APP_SERVICE_PROXY_CONFIG_SETTING }]);
    expect(String(proxy.inputs["startUpCommand"])).toBe(`/bin/sh -c 'exec /usr/local/bin/envoy --config-yaml "$${APP_SERVICE_PROXY_CONFIG_SETTING}" --log-level warn --disable-hot-restart'`);
  });

  it("validates the tenant's tokens with Entra ID's keys and the audiences, leaving the health path open for App Service and Application Gateway probes", () => {
    for (const service of exposed) {
      const config = proxyConfig(resources, service.name);
      expect(config["static_resources"].listeners[0].address.socket_address, service.name).toEqual({ address: "0.0.0.0", port_value: APP_SERVICE_EDGE_PROXY_PORT });
      const jwt = httpFilter(config, "envoy.filters.http.jwt_authn");
      expect(jwt.providers.gateway, service.name).toMatchObject({
        issuer: ISSUER,
        audiences: ["api://shop"],
        remote_jwks: { http_uri: { uri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys` } },
      });
      expect(jwt.rules, service.name).toEqual([{ match: { path: service.healthPath } }, { match: { prefix: "/" }, requires: { provider_name: "gateway" } }]);
      const upstream = config["static_resources"].clusters.find((c: Json) => c.name === "service");
      expect(upstream.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: "127.0.0.1", port_value: service.port });
      expect((appOf(resources, service.name).inputs["siteConfig"] as Json)["healthCheckPath"]).toBe(service.healthPath);
    }
    const gateway = single(resources, "azure-native:network:ApplicationGateway");
    const probes = gateway.inputs["probes"] as { name: string; path: string }[];
    expect(probes.find((p) => p.name === "orders")!.path).toBe(plan.services.find((s) => s.name === "orders")!.healthPath);
  });

  it("still hands the service its secrets by Key Vault reference and its tracing settings, through the inherited app settings", () => {
    const settings = settingsOf(appOf(resources, "orders"));
    expect(settings["SIGNING_KEY"]).toMatch(/^@Microsoft\.KeyVault\(SecretUri=https:\/\/shop-prod-kv-[0-9a-f]{6}\.vault\.azure\.net\/secrets\/orders-signing-key\)$/);
    const insights = single(resources, "azure-native:applicationinsights:Component");
    expect(settings).toMatchObject({ APPLICATIONINSIGHTS_CONNECTION_STRING: insights.outputs["connectionString"], OTEL_SERVICE_NAME: "orders", PORT: "8080" });
  });

  it("puts no proxy in front of a service the gateway never reaches", () => {
    const worker = appOf(resources, "worker");
    expect(containersOf(resources, "worker")).toEqual([]);
    expect(String((worker.inputs["siteConfig"] as Json)["linuxFxVersion"])).toMatch(/^DOCKER\|shopprodregistry[0-9a-f]{6}\.azurecr\.io\/shop-worker:latest$/);
    expect(settingsOf(worker)).toMatchObject({ WEBSITES_PORT: "8080" });
    expect(settingsOf(worker)[APP_SERVICE_PROXY_CONFIG_SETTING]).toBeUndefined();
  });
});

describe("App Service, the gateway delegating to the auth service", async () => {
  const base = onAppService({});
  const spec = onAppService({ gateway: { auth: "authorizer" }, auth: { sessions: "redis", service: "auth" }, services: [...base.services!, { name: "auth", path: "/auth" }] });
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const authHost = String(appOf(resources, "auth").inputs["name"]) + ".azurewebsites.net";

  it("has each proxy ask the auth service's app over HTTPS by its own host, failing closed, skipping the health path and sign-in routes", () => {
    expect(authHost).toMatch(/^shop-prod-auth-[0-9a-f]{6}\.azurewebsites\.net$/);
    for (const service of plan.services.filter((s) => s.expose)) {
      const config = proxyConfig(resources, service.name);
      expect(httpFilter(config, "envoy.filters.http.ext_authz"), service.name).toMatchObject({
        http_service: { server_uri: { uri: `http://127.0.0.1:${EDGE_PROXY_AUTH_PORT}`, cluster: "auth_service" }, path_prefix: "/auth/authorize" },
        failure_mode_allow: false,
      });
      // The loopback listener sets the auth app's host, which App Service's front end routes by, and goes on over TLS checked against that name.
      const egress = config["static_resources"].listeners[1];
      expect(egress.address.socket_address).toEqual({ address: "127.0.0.1", port_value: EDGE_PROXY_AUTH_PORT });
      expect(manager(config, 1).route_config.virtual_hosts[0].routes[0].route).toMatchObject({ cluster: "auth_service_tls", host_rewrite_literal: authHost });
      const tls = config["static_resources"].clusters.find((c: Json) => c.name === "auth_service_tls");
      expect(tls.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: authHost, port_value: 443 });
      expect(tls.transport_socket.typed_config).toMatchObject({ sni: authHost, common_tls_context: { validation_context: { match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: authHost } }] } } });
      const routes = manager(config).route_config.virtual_hosts[0].routes as Json[];
      expect(routes.filter((r) => r.typed_per_filter_config).map((r) => r.match)).toEqual([{ path: service.healthPath }, { path: "/auth" }, { prefix: "/auth/" }]);
    }
  });
});

describe("PaasService behind an edge proxy", () => {
  it("refuses to be built without what its proxy checks, so the gateway never reaches it unchecked", async () => {
    const plan = planLandingZone(onAppService({ gateway: { auth: "jwt" }, auth: { sessions: "redis", issuer: ISSUER } }), { engine: "pulumi" });
    const { PaasService } = await import("../../../lib/pulumi/azure/paas-service.js");
    const registry = { loginServer: pulumi.output("r.azurecr.io"), grantPull: () => { throw new Error("not reached"); } };
    const args = {
      plan,
      service: "orders",
      resourceGroupName: "g",
      location: "koreacentral",
      appName: "a",
      planId: "p",
      integrationSubnetId: "s",
      privateEndpoint: { subnetId: "e", privateDnsZoneId: "z" },
      registry,
      secretUris: { SIGNING_KEY: "https://v.vault.azure.net/secrets/k" },
    };
    expect(() => new PaasService("orders", { ...args, edgeProxy: { authService: { host: "a.azurewebsites.net", port: 443, tls: true } } })).toThrow(/args\.edgeProxy\.issuer is missing/);
    expect(() => new PaasService("orders", args)).toThrow("PaasService orders edgeProxy: plan.edgeProxy checks callers of orders (jwt), but args.edgeProxy.issuer is missing. Fix: pass it, as LandingZone does");
  });
});
