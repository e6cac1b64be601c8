import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  APP_SERVICE_EDGE_PROXY_PORT,
  APP_SERVICE_PROXY_CONFIG_SETTING,
  APP_SERVICE_PROXY_CONTAINER,
  appServiceEdgeProxy,
  EDGE_PROXY_AUTH_PORT,
  EDGE_PROXY_CONFIG_PATH,
  EDGE_PROXY_IMAGE,
  EDGE_PROXY_PORT,
  edgeProxyConfig,
  edgeProxyHost,
  entraJwksUri,
  externalEdgeProxyIssuer,
  PlanError,
  planLandingZone,
} from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { edgeAuthShop, IDENTITY_PLATFORM_ISSUER } from "../fixtures/edge-auth.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const base = edgeAuthShop("iaas");
const issuer = IDENTITY_PLATFORM_ISSUER;

type Json = Record<string, any>;
const listener = (config: Json) => config["static_resources"].listeners[0];
const manager = (config: Json) => listener(config).filter_chains[0].filters[0].typed_config;
const filter = (config: Json, name: string) => manager(config).http_filters.find((f: Json) => f.name === name)?.typed_config;
const cluster = (config: Json, name: string) => config["static_resources"].clusters.find((c: Json) => c.name === name);
const routes = (config: Json) => manager(config).route_config.virtual_hosts[0].routes;

describe("edge proxy plan", () => {
  it("is planned on GCP and Azure VMs with a gateway check, in front of every exposed service only", () => {
    const plan = planLandingZone({ ...base, gateway: { auth: "jwt" } });
    expect(plan.edgeProxy).toEqual({ image: EDGE_PROXY_IMAGE, port: EDGE_PROXY_PORT, check: "jwt", services: ["orders", "auth", "web"] });
    expect(planLandingZone({ ...base, gateway: { auth: "authorizer" }, auth: { service: "auth" } }).edgeProxy?.check).toBe("ext-authz");
    expect(planLandingZone({ ...base, cloud: "azure", region: "koreacentral", gateway: { auth: "jwt" }, auth: { issuer: `https://login.microsoftonline.com/${TENANT}/v2.0` } }).edgeProxy?.check).toBe("jwt");
  });

  it("is not planned where a mesh or the cloud's gateway checks, nor without a check", () => {
    expect(planLandingZone({ ...base, gateway: { auth: "none" } }).edgeProxy).toBeUndefined();
    expect(planLandingZone({ ...base, tier: "caas", gateway: { auth: "jwt" } }).edgeProxy).toBeUndefined();
    expect(planLandingZone({ ...base, cloud: "aws", region: "ap-northeast-2", gateway: { auth: "jwt" } }).edgeProxy).toBeUndefined();
  });

  it("pins the image by version", () => {
    expect(EDGE_PROXY_IMAGE).toMatch(/^envoyproxy\/envoy:v\d+\.\d+\.\d+$/);
  });
});

describe("edge proxy config, tokens", () => {
  const plan = planLandingZone({ ...base, gateway: { auth: "jwt" } });
  const orders = plan.services.find((s) => s.name === "orders")!;
  const config = edgeProxyConfig(plan, orders, { issuer }) as Json;

  it("listens on the proxy port and sends every route to the service on loopback", () => {
    expect(listener(config).address).toEqual({ socket_address: { address: "0.0.0.0", port_value: EDGE_PROXY_PORT } });
    expect(cluster(config, "service").load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: "127.0.0.1", port_value: orders.port });
    expect(routes(config).every((r: Json) => r.route.cluster === "service")).toBe(true);
    expect(config["admin"]).toBeUndefined();
  });

  it("validates tokens of the issuer, with its audiences and JWKS URI, from the Authorization header only, forwarding them", () => {
    const jwt = filter(config, "envoy.filters.http.jwt_authn");
    expect(jwt.providers.gateway).toMatchObject({
      issuer: issuer.issuer,
      audiences: ["p-1"],
      remote_jwks: { http_uri: { uri: issuer.jwksUri, cluster: "jwks" } },
      from_headers: [{ name: "authorization", value_prefix: "Bearer " }],
      forward: true,
    });
    expect(filter(config, "envoy.filters.http.ext_authz")).toBeUndefined();
    // The keys are fetched over TLS checked against the image's CA bundle and the host's name.
    const jwks = cluster(config, "jwks");
    expect(jwks.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: "www.googleapis.com", port_value: 443 });
    expect(jwks.transport_socket.typed_config).toMatchObject({ sni: "www.googleapis.com", common_tls_context: { validation_context: { trusted_ca: { filename: "/etc/ssl/certs/ca-certificates.crt" }, match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: "www.googleapis.com" } }] } } });
  });

  it("lets the health path through and requires a token on every other path, as the Istio policies do", () => {
    expect(filter(config, "envoy.filters.http.jwt_authn").rules).toEqual([{ match: { path: "/ready" } }, { match: { prefix: "/" }, requires: { provider_name: "gateway" } }]);
    // The router runs last, after the check.
    expect(manager(config).http_filters.map((f: Json) => f.name)).toEqual(["envoy.filters.http.jwt_authn", "envoy.filters.http.router"]);
  });

  it("accepts any audience when none is given", () => {
    const any = edgeProxyConfig(plan, orders, { issuer: { ...issuer, audiences: [] } }) as Json;
    expect(filter(any, "envoy.filters.http.jwt_authn").providers.gateway.audiences).toBeUndefined();
  });

  it("refuses what would leave the service unchecked or misconfigured", () => {
    expect(() => edgeProxyConfig(plan, orders, {})).toThrow(/options.issuer: missing.*Fix: pass the identity provider's issuer/);
    expect(() => edgeProxyConfig(plan, orders, { issuer: { ...issuer, issuer: "http://idp" } })).toThrow(/"http:\/\/idp" is not an https URL/);
    expect(() => edgeProxyConfig(plan, orders, { issuer: { ...issuer, jwksUri: "http://keys.example.com/jwks" } })).toThrow(/jwksUri: "http:\/\/keys.example.com\/jwks" is not https/);
    expect(() => edgeProxyConfig(plan, plan.services.find((s) => s.name === "worker")!, { issuer })).toThrow(/service "worker" is not exposed.*Fix: use one of orders, auth, web/);
    const caas = planLandingZone({ ...base, tier: "caas", gateway: { auth: "jwt" } });
    expect(() => edgeProxyConfig(caas, caas.services[0]!, { issuer })).toThrow(/plan.edgeProxy is undefined \(tier caas/);
  });
});

describe("edge proxy config, auth service", () => {
  const plan = planLandingZone({ ...base, gateway: { auth: "authorizer" }, auth: { service: "auth" } });
  const authService = { host: "auth.shop-dev.internal", port: 8080 };
  const orders = plan.services.find((s) => s.name === "orders")!;
  const config = edgeProxyConfig(plan, orders, { authService }) as Json;

  it("asks the auth service at <authorizePath><path> with the caller's Authorization header, failing closed", () => {
    expect(filter(config, "envoy.filters.http.ext_authz")).toMatchObject({
      http_service: {
        server_uri: { uri: "http://auth.shop-dev.internal:8080", cluster: "auth_service", timeout: "3s" },
        path_prefix: "/auth/authorize",
        authorization_request: { allowed_headers: { patterns: [{ exact: "authorization", ignore_case: true }] } },
      },
      failure_mode_allow: false,
    });
    expect(cluster(config, "auth_service")).toMatchObject({ type: "STRICT_DNS", load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "auth.shop-dev.internal", port_value: 8080 } } } }] }] } });
    expect(filter(config, "envoy.filters.http.jwt_authn")).toBeUndefined();
  });

  it("skips the check on the health path and the auth service's own routes, and checks every other path", () => {
    const disabled = (r: Json) => r.typed_per_filter_config?.["envoy.filters.http.ext_authz"]?.disabled === true;
    expect(routes(config).map((r: Json) => [r.match, disabled(r)])).toEqual([
      [{ path: "/ready" }, true],
      [{ path: "/auth" }, true],
      [{ prefix: "/auth/" }, true],
      [{ prefix: "/" }, false],
    ]);
  });

  it("refuses a missing auth service address", () => {
    expect(() => edgeProxyConfig(plan, orders, {})).toThrow(/options.authService: missing.*Fix: pass its registered host and port/);
  });

  it("runs Envoy after the service, in the host network, read-only and unprivileged, with the config mounted read-only", () => {
    const host = edgeProxyHost(plan, orders, "orders", { authService });
    expect(host.unit).toBe("msa-edge-proxy");
    expect(parse(host.files.find((f) => f.path === EDGE_PROXY_CONFIG_PATH)!.content)).toEqual(config);
    const unit = host.files.find((f) => f.path === "/etc/systemd/system/msa-edge-proxy.service")!.content;
    expect(unit).toContain("After=docker.service network-online.target orders.service");
    expect(unit).toContain(`iptables -w -A INPUT -p tcp --dport ${EDGE_PROXY_PORT} -j ACCEPT`);
    expect(unit).toContain(`--network host --volume ${EDGE_PROXY_CONFIG_PATH}:${EDGE_PROXY_CONFIG_PATH}:ro --user 10001:10001 --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges --entrypoint /usr/local/bin/envoy ${EDGE_PROXY_IMAGE} --config-path ${EDGE_PROXY_CONFIG_PATH}`);
  });
});

describe("edge proxy on App Service", () => {
  const onAppService = { ...base, cloud: "azure", region: "koreacentral", tier: "paas" } satisfies LandingZoneInput;
  const plan = planLandingZone({ ...onAppService, gateway: { auth: "authorizer" }, auth: { service: "auth" } });
  const orders = plan.services.find((s) => s.name === "orders")!;
  const authService = { host: "shop-dev-auth-1a2b3c.azurewebsites.net", port: 443, tls: true };
  const config = edgeProxyConfig(plan, orders, { authService }) as Json;

  it("is planned in front of every exposed service and BFF, listening on the port App Service sends the app's traffic to", () => {
    expect(plan.edgeProxy).toEqual({ image: EDGE_PROXY_IMAGE, port: APP_SERVICE_EDGE_PROXY_PORT, check: "ext-authz", services: ["orders", "auth", "web"] });
    expect(listener(config).address).toEqual({ socket_address: { address: "0.0.0.0", port_value: APP_SERVICE_EDGE_PROXY_PORT } });
    expect(planLandingZone({ ...onAppService, gateway: { auth: "none" } }).edgeProxy).toBeUndefined();
  });

  it("asks the auth service's app through a loopback listener that sets its host, over TLS checked against that name, failing closed", () => {
    expect(filter(config, "envoy.filters.http.ext_authz")).toMatchObject({
      http_service: { server_uri: { uri: `http://127.0.0.1:${EDGE_PROXY_AUTH_PORT}`, cluster: "auth_service", timeout: "3s" }, path_prefix: "/auth/authorize" },
      failure_mode_allow: false,
    });
    expect(cluster(config, "auth_service")).toMatchObject({ type: "STATIC", load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: EDGE_PROXY_AUTH_PORT } } } }] }] } });
    const egress = config["static_resources"].listeners[1];
    expect(egress.address).toEqual({ socket_address: { address: "127.0.0.1", port_value: EDGE_PROXY_AUTH_PORT } });
    const egressManager = egress.filter_chains[0].filters[0].typed_config;
    expect(egressManager.route_config.virtual_hosts[0].routes).toEqual([{ match: { prefix: "/" }, route: { cluster: "auth_service_tls", host_rewrite_literal: authService.host, timeout: "3s" } }]);
    expect(egressManager.http_filters.map((f: Json) => f.name)).toEqual(["envoy.filters.http.router"]);
    const tls = cluster(config, "auth_service_tls");
    expect(tls).toMatchObject({ connect_timeout: "3s", load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: authService.host, port_value: 443 } } } }] }] } });
    expect(tls.transport_socket.typed_config).toMatchObject({ sni: authService.host, common_tls_context: { validation_context: { match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: authService.host } }] } } });
  });

  it("runs Envoy as the main container from its config in one app setting, and the service as a sidecar on its own port", () => {
    const containers = appServiceEdgeProxy(plan, orders, { authService });
    expect(JSON.parse(containers.config)).toEqual(config);
    expect(containers.config).not.toContain("\n");
    expect(containers.proxy).toEqual({
      name: APP_SERVICE_PROXY_CONTAINER,
      image: EDGE_PROXY_IMAGE,
      targetPort: String(APP_SERVICE_EDGE_PROXY_PORT),
      startUpCommand: `/bin/sh -c 'exec /usr/local/bin/envoy --config-yaml "$${APP_SERVICE_PROXY_CONFIG_SETTING}" --log-level warn --disable-hot-restart'`,
      environment: { [APP_SERVICE_PROXY_CONFIG_SETTING]: APP_SERVICE_PROXY_CONFIG_SETTING },
    });
    expect(containers.service).toEqual({ name: "service", targetPort: String(orders.port) });
  });

  it("refuses plans with no proxy on App Service", () => {
    const vms = planLandingZone({ ...base, gateway: { auth: "jwt" } });
    expect(() => appServiceEdgeProxy(vms, vms.services[0]!, { issuer })).toThrow(/plan gcp\/iaas has no edge proxy on App Service.*Fix: use it only for azure paas/);
  });
});

describe("edge proxy planner messages", () => {
  const problems = (input: LandingZoneInput) => {
    try {
      planLandingZone(input, { engine: "pulumi" });
    } catch (error) {
      if (error instanceof PlanError) return error.problems;
      throw error;
    }
    return [];
  };

  it("refuses a service on the proxy's port", () => {
    expect(problems({ ...base, gateway: { auth: "jwt" }, services: [{ name: "orders", port: EDGE_PROXY_PORT }] })).toContain(
      `services[0].port: ${EDGE_PROXY_PORT} is a port of the edge proxy that checks callers on gcp VMs. Fix: use another port`,
    );
  });

  it("refuses a service or BFF on App Service on the proxy's port, or on its auth-service listener's port with an auth service", () => {
    const onAppService = { ...base, cloud: "azure", region: "koreacentral", tier: "paas", auth: { issuer: `https://login.microsoftonline.com/${TENANT}/v2.0` } } satisfies LandingZoneInput;
    expect(problems({ ...onAppService, gateway: { auth: "jwt" }, services: [{ name: "orders", port: APP_SERVICE_EDGE_PROXY_PORT }], bffs: [{ name: "web", port: APP_SERVICE_EDGE_PROXY_PORT }] })).toEqual(
      expect.arrayContaining([
        `services[0].port: ${APP_SERVICE_EDGE_PROXY_PORT} is a port of the edge proxy that checks callers on App Service. Fix: use another port`,
        `bffs[0].port: ${APP_SERVICE_EDGE_PROXY_PORT} is a port of the edge proxy that checks callers on App Service. Fix: use another port`,
      ]),
    );
    expect(problems({ ...onAppService, gateway: { auth: "jwt" }, services: [{ name: "orders", port: EDGE_PROXY_AUTH_PORT }] })).toEqual([]);
    expect(problems({ ...onAppService, auth: { service: "auth" }, gateway: { auth: "authorizer" }, services: [{ name: "auth", path: "/auth" }, { name: "orders", port: EDGE_PROXY_AUTH_PORT }] })).toContain(
      `services[1].port: ${EDGE_PROXY_AUTH_PORT} is a port of the edge proxy that checks callers on App Service. Fix: use another port`,
    );
  });

  it("needs no discovery on App Service, where the proxies reach the auth service's app by its host", () => {
    expect(problems({ ...base, cloud: "azure", region: "koreacentral", tier: "paas", gateway: { auth: "authorizer" }, auth: { service: "auth" }, discovery: { enabled: false } })).toEqual([]);
  });

  it("refuses the auth service on VMs without discovery", () => {
    expect(problems({ ...base, gateway: { auth: "authorizer" }, auth: { service: "auth" }, discovery: { enabled: false } })).toContain(
      "discovery.enabled: false, but on gcp/iaas the edge proxies reach the auth service (gateway.auth: authorizer) by its registered name. Fix: set discovery.enabled: true",
    );
  });

  it("refuses an external issuer without a JWKS URI unless it is Entra ID's", () => {
    expect(problems({ ...base, gateway: { auth: "jwt" }, auth: { issuer: "https://idp.example.com" } })).toContain(
      `auth.jwksUri: not set, and the edge proxy on gcp VMs does not read "https://idp.example.com"'s OpenID discovery document. Fix: set auth.jwksUri to the issuer's jwks_uri`,
    );
    const entra = planLandingZone({ ...base, cloud: "azure", region: "koreacentral", gateway: { auth: "jwt" }, auth: { issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`, audiences: ["api://shop"] } });
    expect(externalEdgeProxyIssuer(entra)).toEqual({ issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`, jwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`, audiences: ["api://shop"] });
    expect(entraJwksUri("https://idp.example.com")).toBeUndefined();
  });

  it("refuses the auth service on App Engine, which the Pulumi engine does not build (tokens are ESP's there)", () => {
    expect(problems({ ...base, tier: "paas", gateway: { auth: "authorizer" }, auth: { service: "auth" } }).join("\n")).toMatch(/authService \(asked by gateway.auth\) is not supported yet on gcp\/paas by the pulumi engine/);
    expect(problems({ ...base, tier: "paas", gateway: { auth: "jwt" } })).toEqual([]);
  });
});
