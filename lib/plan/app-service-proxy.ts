/**
 * The edge proxy on App Service: Envoy as the Linux web app's main container (the one App Service sends
 * the app's traffic to), the service as a sidecar container beside it, both in the app's shared network
 * namespace so the proxy reaches the service on loopback. Pure: the Pulumi component only creates what
 * this describes.
 */

import { edgeProxyConfig, type EdgeProxyConfigOptions } from "./edge-proxy.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** `linuxFxVersion` of an app whose containers are `sitecontainers` resources (with `DOCKER|<image>` App Service ignores sidecars). */
export const SITE_CONTAINERS_FX = "sitecontainers";
/** Name of the proxy's site container. */
export const APP_SERVICE_PROXY_CONTAINER = "edge-proxy";
/** Name of the service's site container (fixed, so no service name can collide with the proxy's). */
export const APP_SERVICE_SERVICE_CONTAINER = "service";
/** App setting holding the proxy's bootstrap config; the proxy container maps it to its own environment variable of the same name. */
export const APP_SERVICE_PROXY_CONFIG_SETTING = "MSA_EDGE_PROXY_CONFIG";

/** The two site containers of an app behind the edge proxy. */
export interface AppServiceProxy {
  /** The main container: Envoy on the proxy port, started from the bootstrap in its one environment variable. */
  readonly proxy: {
    readonly name: string;
    readonly image: string;
    readonly targetPort: string;
    readonly startUpCommand: string;
    /** Environment variable → app setting it reads; the proxy inherits no other setting (secrets stay out of it). */
    readonly environment: Readonly<Record<string, string>>;
  };
  /** The sidecar running the service's image on its own port; it inherits every app setting (settings, Key Vault references, tracing). */
  readonly service: { readonly name: string; readonly targetPort: string };
  /** The value of the {@link APP_SERVICE_PROXY_CONFIG_SETTING} app setting: the bootstrap config as one line of JSON (valid YAML). */
  readonly config: string;
}

/**
 * The site containers of `service`'s app behind the edge proxy. The bootstrap travels as an app setting
 * and reaches Envoy through `--config-yaml` (sitecontainers mount no inline file), expanded by a shell
 * in the Envoy image; the config is one line of JSON without secrets.
 */
export function appServiceEdgeProxy(plan: LandingZonePlan, service: ServicePlan, options: EdgeProxyConfigOptions): AppServiceProxy {
  const proxy = plan.edgeProxy;
  if (!proxy || plan.cloud !== "azure" || plan.tier !== "paas") {
    throw new Error(`appServiceEdgeProxy: plan ${plan.cloud}/${plan.tier} has no edge proxy on App Service (gateway.auth ${plan.spec.gateway.auth}). Fix: use it only for azure paas with gateway.auth jwt or authorizer`);
  }
  const config = JSON.stringify(edgeProxyConfig(plan, service, options));
  return {
    proxy: {
      name: APP_SERVICE_PROXY_CONTAINER,
      image: proxy.image,
      targetPort: String(proxy.port),
      // Unverified without a deployment: that App Service runs startUpCommand with shell quoting, as its custom-container startup commands do.
      startUpCommand: `/bin/sh -c 'exec /usr/local/bin/envoy --config-yaml "$${APP_SERVICE_PROXY_CONFIG_SETTING}" --log-level warn --disable-hot-restart'`,
      environment: { [APP_SERVICE_PROXY_CONFIG_SETTING]: APP_SERVICE_PROXY_CONFIG_SETTING },
    },
    service: { name: APP_SERVICE_SERVICE_CONTAINER, targetPort: String(service.port) },
    config,
  };
}
