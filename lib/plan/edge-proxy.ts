/**
 * The gateway's checks where no mesh runs (GCP managed instance groups, Azure scale sets, Azure App
 * Service): an Envoy edge proxy in front of each exposed service, on the same VMs or as the app's main
 * container, validating client tokens (jwt_authn) or delegating to the auth service (ext_authz)
 * exactly as the Istio policies of CaaS do.
 * Pure: no engine import; every host writes the same bootstrap config.
 */

import { stringify } from "yaml";
import type { LandingZoneSpec } from "../spec/types.js";
import { AUTHORIZATION_HEADER } from "./auth.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** Envoy's distribution image (latest stable release, October 2026), pinned so every VM of a rollout runs the same proxy; it carries the CA bundle the JWKS fetch trusts. */
export const EDGE_PROXY_IMAGE = "envoyproxy/envoy:v1.39.6";
/** Port the edge proxy listens on; the load balancer's backend and health check target it instead of the service's port. */
export const EDGE_PROXY_PORT = 15080;
/** Port the proxy listens on as an App Service app's main container: the platform sends outside traffic to 80 or 8080 only, and 8080 is the services' default port. */
export const APP_SERVICE_EDGE_PROXY_PORT = 80;
/** Loopback port of the proxy's own listener that carries ext_authz checks to an auth service behind a front end routing by host (App Service). */
export const EDGE_PROXY_AUTH_PORT = 15081;
/** The proxy's systemd unit and container name. */
export const EDGE_PROXY_UNIT = "msa-edge-proxy";
/** Where the bootstrap config lives on the VM (mounted read-only into the container). */
export const EDGE_PROXY_CONFIG_PATH = "/etc/msa/edge-proxy/envoy.yaml";
/** CA bundle of the Envoy image, trusted for the issuer's JWKS endpoint. */
export const EDGE_PROXY_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** UID the proxy runs as: the same unprivileged user as the services' containers. */
const EDGE_PROXY_UID = 10001;
/** Name of the jwt_authn provider. */
export const JWT_PROVIDER = "gateway";
/** Seconds Envoy keeps the issuer's signing keys before fetching them again. */
export const JWKS_CACHE_SECONDS = 600;
/** Seconds a service may take to answer through the proxy (the load balancers' backend timeout). */
const UPSTREAM_TIMEOUT_SECONDS = 30;

/** The edge proxies of a landing zone on VMs; absent when the gateway checks no one or the tier runs a mesh. */
export interface EdgeProxyPlan {
  readonly image: string;
  readonly port: number;
  /** `jwt`: tokens validated against the issuer's keys; `ext-authz`: every call asked of the auth service. */
  readonly check: "jwt" | "ext-authz";
  /** Exposed services and BFFs, each of which gets a proxy in front of it. */
  readonly services: readonly string[];
}

/** An issuer the proxy validates tokens of. */
export interface EdgeProxyIssuer {
  /** `iss` claim, an https URL. */
  readonly issuer: string;
  /** Where the signing keys are published (Envoy fetches no discovery document, so it is required). */
  readonly jwksUri: string;
  /** Accepted `aud` values; empty accepts any. */
  readonly audiences: readonly string[];
}

/** How the proxy reaches the auth service: its registered DNS name and port. */
export interface EdgeProxyAuthService {
  readonly host: string;
  readonly port: number;
  /**
   * Reach it over HTTPS through a front end that routes by host name (App Service): the checks go
   * through a loopback listener of the proxy that sets the auth service's host, since ext_authz sends the caller's.
   * @default false (plain HTTP to the host, as to a service's private DNS name on VMs)
   */
  readonly tls?: boolean;
}

/** Options of {@link edgeProxyConfig}. */
export interface EdgeProxyConfigOptions {
  /** With `check: jwt`: the issuer (Identity Platform, Entra ID or `auth.issuer`). */
  readonly issuer?: EdgeProxyIssuer;
  /** With `check: ext-authz`: where the auth service answers. */
  readonly authService?: EdgeProxyAuthService;
}

/** One request path the proxy matches: exact or by prefix. */
export type PathMatch = { readonly path: string } | { readonly prefix: string };

/** Port of the edge proxy where one stands between the gateway and the services (GCP and Azure VMs, App Service); undefined where a mesh or the cloud's gateway checks. */
function edgeProxyPort(spec: LandingZoneSpec): number | undefined {
  if (spec.tier === "iaas" && (spec.cloud === "gcp" || spec.cloud === "azure")) return EDGE_PROXY_PORT;
  if (spec.tier === "paas" && spec.cloud === "azure") return APP_SERVICE_EDGE_PROXY_PORT;
  return undefined;
}

/** The edge proxy when the gateway checks callers on GCP or Azure VMs or on App Service; undefined elsewhere. */
export function planEdgeProxy(spec: LandingZoneSpec, services: readonly ServicePlan[]): EdgeProxyPlan | undefined {
  const port = edgeProxyPort(spec);
  if (port === undefined || spec.gateway.auth === "none") return undefined;
  return { image: EDGE_PROXY_IMAGE, port, check: spec.gateway.auth === "jwt" ? "jwt" : "ext-authz", services: services.filter((s) => s.expose).map((s) => s.name) };
}

/** Where Entra ID publishes the keys of a v2.0 tenant issuer, or undefined for any other issuer. */
export function entraJwksUri(issuer: string): string | undefined {
  const tenant = /^https:\/\/login\.microsoftonline\.com\/([0-9a-fA-F-]{36})\/v2\.0\/?$/.exec(issuer)?.[1];
  return tenant ? `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys` : undefined;
}

/** Spec problems the edge proxy would hit, with their fix; empty when it is not planned. */
export function edgeProxyProblems(spec: LandingZoneSpec): string[] {
  const port = edgeProxyPort(spec);
  if (port === undefined || spec.gateway.auth === "none") return [];
  const problems: string[] = [];
  const where = spec.tier === "paas" ? "App Service" : `${spec.cloud} VMs`;
  // On App Service the proxy shares the app's network namespace, its auth-service listener included.
  const taken = spec.tier === "paas" && spec.gateway.auth === "authorizer" ? [port, EDGE_PROXY_AUTH_PORT] : [port];
  for (const [i, service] of spec.services.entries()) {
    if (taken.includes(service.port)) {
      problems.push(`services[${i}].port: ${service.port} is a port of the edge proxy that checks callers on ${where}. Fix: use another port`);
    }
  }
  for (const [i, bff] of spec.bffs.entries()) {
    if (taken.includes(bff.port)) {
      problems.push(`bffs[${i}].port: ${bff.port} is a port of the edge proxy that checks callers on ${where}. Fix: use another port`);
    }
  }
  if (spec.tier === "iaas" && spec.gateway.auth === "authorizer" && !spec.discovery.enabled) {
    problems.push(`discovery.enabled: false, but on ${spec.cloud}/iaas the edge proxies reach the auth service (gateway.auth: authorizer) by its registered name. Fix: set discovery.enabled: true`);
  }
  if (spec.gateway.auth === "jwt" && spec.auth.issuer && !spec.auth.jwksUri && !entraJwksUri(spec.auth.issuer)) {
    problems.push(`auth.jwksUri: not set, and the edge proxy on ${where} does not read "${spec.auth.issuer}"'s OpenID discovery document. Fix: set auth.jwksUri to the issuer's jwks_uri`);
  }
  return problems;
}

/** The issuer of `plan.auth.tokens` when external, with its JWKS URI (given or Entra ID's); undefined when the zone creates the provider. */
export function externalEdgeProxyIssuer(plan: LandingZonePlan): EdgeProxyIssuer | undefined {
  const tokens = plan.auth?.tokens;
  if (!tokens?.issuer) return undefined;
  const jwksUri = tokens.jwksUri ?? entraJwksUri(tokens.issuer);
  if (!jwksUri) throw new Error(`auth.jwksUri: not set for issuer "${tokens.issuer}". Fix: set auth.jwksUri to the issuer's jwks_uri`);
  return { issuer: tokens.issuer, jwksUri, audiences: tokens.audiences };
}

/**
 * Paths that pass unchecked, as on CaaS: the service's health path (the load balancer's probes) and,
 * with an auth service, its own routes (so clients can sign in).
 */
export function publicPaths(plan: LandingZonePlan, service: ServicePlan): PathMatch[] {
  const own = plan.auth?.authorizer?.servicePath;
  return [{ path: service.healthPath }, ...(own && own !== "/" ? [{ path: own }, { prefix: `${own}/` }] : [])];
}

/**
 * The Envoy bootstrap of the proxy in front of `service`: one listener on the proxy port, routes that
 * send everything to the service on loopback (the VM's, or the App Service app's shared by its containers), and either jwt_authn (the issuer's keys,
 * audiences, the token forwarded) or ext_authz (the auth service asked `<authorizePath><path>` with
 * the caller's Authorization header, failing closed) for every path but {@link publicPaths}.
 * No admin listener, so nothing but the listener is reachable.
 */
export function edgeProxyConfig(plan: LandingZonePlan, service: ServicePlan, options: EdgeProxyConfigOptions): Record<string, unknown> {
  const proxy = plan.edgeProxy;
  if (!proxy) throw new Error(`edgeProxyConfig: plan.edgeProxy is undefined (tier ${plan.tier}, cloud ${plan.cloud}, gateway.auth ${plan.spec.gateway.auth}). Fix: use it only for gcp or azure iaas, or azure paas, with gateway.auth jwt or authorizer`);
  if (!proxy.services.includes(service.name)) throw new Error(`edgeProxyConfig: service "${service.name}" is not exposed, so no proxy stands in front of it. Fix: use one of ${proxy.services.join(", ")}`);
  const open = publicPaths(plan, service);
  const filters: Record<string, unknown>[] = [];
  const clusters: Record<string, unknown>[] = [staticCluster("service", "127.0.0.1", service.port)];
  const listeners: Record<string, unknown>[] = [];
  let perRoute: (open: boolean) => Record<string, unknown> = () => ({});
  if (proxy.check === "jwt") {
    const issuer = options.issuer;
    if (!issuer) throw new Error(`edgeProxyConfig options.issuer: missing, and gateway.auth: jwt validates tokens of an issuer. Fix: pass the identity provider's issuer and JWKS URI`);
    if (!/^https:\/\/[^\s/]+(\/\S*)?$/.test(issuer.issuer)) throw new Error(`edgeProxyConfig options.issuer.issuer: "${issuer.issuer}" is not an https URL. Fix: use the issuer's iss claim`);
    const jwks = new URL(issuer.jwksUri);
    if (jwks.protocol !== "https:") throw new Error(`edgeProxyConfig options.issuer.jwksUri: "${issuer.jwksUri}" is not https. Fix: use the issuer's https jwks_uri`);
    filters.push({
      name: "envoy.filters.http.jwt_authn",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
        providers: {
          [JWT_PROVIDER]: {
            issuer: issuer.issuer,
            ...(issuer.audiences.length > 0 ? { audiences: [...issuer.audiences] } : {}),
            remote_jwks: { http_uri: { uri: issuer.jwksUri, cluster: "jwks", timeout: "5s" }, cache_duration: `${JWKS_CACHE_SECONDS}s`, async_fetch: {} },
            // Only the Authorization header carries tokens (not the access_token query parameter, which leaks into logs).
            from_headers: [{ name: AUTHORIZATION_HEADER, value_prefix: "Bearer " }],
            forward: true,
          },
        },
        // First match wins: public paths need no token, every other path a valid one.
        rules: [...open.map((match) => ({ match })), { match: { prefix: "/" }, requires: { provider_name: JWT_PROVIDER } }],
      },
    });
    clusters.push(tlsCluster("jwks", jwks.hostname, jwks.port === "" ? 443 : Number(jwks.port)));
  } else {
    const authorizer = plan.auth?.authorizer;
    const target = options.authService;
    if (!authorizer || !target) throw new Error(`edgeProxyConfig options.authService: missing, and gateway.auth: authorizer asks the auth service. Fix: pass its registered host and port`);
    const timeout = `${authorizer.timeoutSeconds}s`;
    // Over TLS, ext_authz asks the proxy's own loopback listener, which sets the auth service's host (ext_authz keeps the caller's).
    const server = target.tls ? { host: "127.0.0.1", port: EDGE_PROXY_AUTH_PORT } : target;
    filters.push({
      name: "envoy.filters.http.ext_authz",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
        transport_api_version: "V3",
        http_service: {
          server_uri: { uri: `http://${server.host}:${server.port}`, cluster: "auth_service", timeout },
          path_prefix: authorizer.authorizePath,
          authorization_request: { allowed_headers: { patterns: [{ exact: AUTHORIZATION_HEADER, ignore_case: true }] } },
        },
        // An unreachable or failing auth service denies the call.
        failure_mode_allow: false,
      },
    });
    if (target.tls) {
      clusters.push(staticCluster("auth_service", server.host, server.port), { ...tlsCluster("auth_service_tls", target.host, target.port), connect_timeout: timeout });
      listeners.push(authServiceListener(target.host, timeout));
    } else {
      clusters.push({ ...strictDnsCluster("auth_service", target.host, target.port), connect_timeout: timeout });
    }
    perRoute = (isOpen) => (isOpen ? { typed_per_filter_config: { "envoy.filters.http.ext_authz": { "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute", disabled: true } } } : {});
  }
  const route = { cluster: "service", timeout: `${UPSTREAM_TIMEOUT_SECONDS}s` };
  return {
    static_resources: {
      listeners: [
        {
          name: "gateway",
          address: { socket_address: { address: "0.0.0.0", port_value: proxy.port } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "gateway",
                    // The load balancer is the one trusted hop: the client address is the last X-Forwarded-For entry it adds.
                    xff_num_trusted_hops: 1,
                    normalize_path: true,
                    merge_slashes: true,
                    path_with_escaped_slashes_action: "UNESCAPE_AND_REDIRECT",
                    route_config: {
                      name: service.name,
                      virtual_hosts: [
                        {
                          name: service.name,
                          domains: ["*"],
                          routes: [...open.map((match) => ({ match, route, ...perRoute(true) })), { match: { prefix: "/" }, route, ...perRoute(false) }],
                        },
                      ],
                    },
                    http_filters: [...filters, { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                  },
                },
              ],
            },
          ],
        },
        ...listeners,
      ],
      clusters,
    },
  };
}

/**
 * The loopback listener ext_authz asks when the auth service sits behind a front end that routes by
 * host name: it sets the auth service's host and forwards over TLS (`auth_service_tls`), bounded by the
 * authorizer's timeout. Only the proxy itself reaches 127.0.0.1.
 */
function authServiceListener(host: string, timeout: string): Record<string, unknown> {
  return {
    name: "auth_service",
    address: { socket_address: { address: "127.0.0.1", port_value: EDGE_PROXY_AUTH_PORT } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: "auth_service",
              route_config: {
                name: "auth_service",
                virtual_hosts: [{ name: "auth_service", domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: "auth_service_tls", host_rewrite_literal: host, timeout } }] }],
              },
              http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
            },
          },
        ],
      },
    ],
  };
}

/** The proxy's files and unit on a VM, the same on both clouds. */
export interface EdgeProxyHost {
  /** Files to write: the bootstrap config and the systemd unit. */
  readonly files: readonly { readonly path: string; readonly permissions: string; readonly content: string }[];
  /** The unit to enable and start. */
  readonly unit: string;
}

/**
 * The bootstrap config as YAML and a systemd unit that runs Envoy after the service's own unit, in
 * the host's network (it reaches the service on loopback) with the proxy port admitted by the host
 * firewall, read-only, unprivileged, every capability dropped.
 */
export function edgeProxyHost(plan: LandingZonePlan, service: ServicePlan, serviceUnit: string, options: EdgeProxyConfigOptions): EdgeProxyHost {
  const proxy = plan.edgeProxy!;
  const config = stringify(edgeProxyConfig(plan, service, options), { lineWidth: 0 });
  const unit = [
    "[Unit]",
    `Description=Edge proxy of ${service.name} (msa-landing-zone)`,
    `After=docker.service network-online.target ${serviceUnit}.service`,
    "Requires=docker.service",
    "",
    "[Service]",
    "Restart=always",
    "RestartSec=5",
    // Container-Optimized OS's host firewall drops inbound connections a container did not publish; the proxy uses the host's network.
    `ExecStartPre=/bin/sh -c 'iptables -w -C INPUT -p tcp --dport ${proxy.port} -j ACCEPT 2>/dev/null || iptables -w -A INPUT -p tcp --dport ${proxy.port} -j ACCEPT'`,
    `ExecStartPre=-/usr/bin/docker rm -f ${EDGE_PROXY_UNIT}`,
    [
      "ExecStart=/usr/bin/docker run --rm",
      `--name ${EDGE_PROXY_UNIT}`,
      "--network host",
      `--volume ${EDGE_PROXY_CONFIG_PATH}:${EDGE_PROXY_CONFIG_PATH}:ro`,
      `--user ${EDGE_PROXY_UID}:${EDGE_PROXY_UID}`,
      "--read-only --tmpfs /tmp",
      "--cap-drop ALL --security-opt no-new-privileges",
      `--entrypoint /usr/local/bin/envoy ${proxy.image}`,
      `--config-path ${EDGE_PROXY_CONFIG_PATH} --log-level warn --disable-hot-restart`,
    ].join(" "),
    `ExecStop=/usr/bin/docker stop ${EDGE_PROXY_UNIT}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
  return {
    files: [
      { path: EDGE_PROXY_CONFIG_PATH, permissions: "0644", content: config },
      { path: `/etc/systemd/system/${EDGE_PROXY_UNIT}.service`, permissions: "0644", content: unit },
    ],
    unit: EDGE_PROXY_UNIT,
  };
}

function endpoints(name: string, host: string, port: number): Record<string, unknown> {
  return { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] };
}

function staticCluster(name: string, host: string, port: number): Record<string, unknown> {
  return { name, type: "STATIC", connect_timeout: "2s", load_assignment: endpoints(name, host, port) };
}

/** A cluster resolved through DNS on every refresh, so a registered name follows its address. */
function strictDnsCluster(name: string, host: string, port: number): Record<string, unknown> {
  return { name, type: "STRICT_DNS", dns_lookup_family: "V4_ONLY", connect_timeout: "2s", load_assignment: endpoints(name, host, port) };
}

/** An https upstream whose certificate must chain to the image's CA bundle and name `host`. */
function tlsCluster(name: string, host: string, port: number): Record<string, unknown> {
  return {
    name,
    type: "LOGICAL_DNS",
    dns_lookup_family: "V4_ONLY",
    connect_timeout: "5s",
    load_assignment: endpoints(name, host, port),
    transport_socket: {
      name: "envoy.transport_sockets.tls",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        sni: host,
        common_tls_context: {
          validation_context: { trusted_ca: { filename: EDGE_PROXY_CA_BUNDLE }, match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: host } }] },
        },
      },
    },
  };
}
