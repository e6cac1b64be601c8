import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { securityResponseHeaders, type FrontendAppPlan } from "../plan/frontends.js";
import { physicalName, shortHash } from "../plan/naming.js";
import type { LandingZonePlan } from "../plan/types.js";
import { gatewayIngressAnnotations } from "./ingress-annotations.js";
import { assertKubernetesName, INGRESS_NAMESPACE_LABEL, labelsFor, MANAGED_BY, selectorFor } from "./labels.js";
import { isolatedNamespaceManifests, workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";
import { SERVICE_PORT } from "./workload.js";

/** The static file server, pinned: nginx's unprivileged image runs as UID 101 on port 8080, no root, no capabilities. */
export const FRONTEND_SERVER_IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.28.0-alpine";
/** Where an app's image (built by its own pipeline) holds its static bundle; it copies it out with its own `cp`. */
export const FRONTEND_BUNDLE_DIRECTORY = "/site";
/** Base of an app's bundle image, pinned: the init container needs nothing but `cp`. */
export const FRONTEND_BUNDLE_BASE_IMAGE = "docker.io/library/busybox:1.37.0";

/** Dockerfile of an app's bundle image, built with the app's build output as the context: the files land in {@link FRONTEND_BUNDLE_DIRECTORY}. */
export function frontendBundleDockerfile(): string {
  return [`FROM ${FRONTEND_BUNDLE_BASE_IMAGE}`, `COPY . ${FRONTEND_BUNDLE_DIRECTORY}/`, ""].join("\n");
}

const SERVER_PORT = 8080;
/** UID/GID of the nginx user in the unprivileged image; the bundle is copied as it so nginx can read it. */
const NGINX_UID = 101;
const WEB_ROOT = "/usr/share/nginx/html";

export interface FrontendAppOptions {
  /** IngressClass of the landing zone's controller (the gateway's). */
  readonly className: string;
  /**
   * Host the app answers on: the gateway's, so the shell, its fragments and the BFF share one origin.
   * @default - every host
   */
  readonly host?: string;
  /**
   * Redirect HTTP to HTTPS; set when the gateway's Ingresses serve `host` with a certificate, which nginx then uses for these paths too.
   * @default false
   */
  readonly httpsOnly?: boolean;
  /**
   * The app's bundle image.
   * @default frontendImage(plan, app)
   */
  readonly image?: string;
  /**
   * A `kubernetes.io/dockerconfigjson` Secret in the frontends namespace the bundle image is pulled with.
   * @default - anonymous pulls or the nodes' credentials
   */
  readonly imagePullSecretName?: string;
}

/**
 * The namespace of the micro-frontends: apart from the workloads, so the gateway's token checks
 * (mesh policies on the workloads namespace) never ask a browser loading a page for a token.
 */
export function frontendNamespace(plan: LandingZonePlan): string {
  return `${workloadNamespace(plan)}-frontends`;
}

/** The frontends namespace (restricted Pod Security, no sidecars: the pages are public) admitting only the ingress controller. */
export function frontendNamespaceManifests(plan: LandingZonePlan): ManifestObject[] {
  const namespace = frontendNamespace(plan);
  const labels = { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY };
  return [
    ...isolatedNamespaceManifests(plan, namespace),
    validatedManifest(
      new NetworkPolicy({
        metadata: { name: "allow-ingress-controller", namespace, labels },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { [INGRESS_NAMESPACE_LABEL]: "true" } } }], ports: [{ protocol: "TCP", port: SERVER_PORT }] }],
        },
      }),
    ),
  ];
}

/** Name of an app's objects: `<app>-ui`, apart from the services' names. */
export function frontendObjectName(app: Pick<FrontendAppPlan, "name">): string {
  return `${app.name}-ui`;
}

/** The app's bundle image as its pipeline tags it: `<zone>-<app>-ui:latest`, after its `<app>-ui` repository. */
export function frontendImage(plan: LandingZonePlan, app: Pick<FrontendAppPlan, "name">): string {
  return `${frontendImageName(plan, app)}:latest`;
}

/** The bundle image's name without a tag (`<zone>-<app>-ui`): what the GitOps release swaps for the pushed digest. */
export function frontendImageName(plan: LandingZonePlan, app: Pick<FrontendAppPlan, "name">): string {
  return physicalName("kubernetes", plan.name, frontendObjectName(app));
}

/** The path an app is routed at on the ingress: `/` for the shell, `/<fragment>/` for a fragment. */
export function frontendPath(app: Pick<FrontendAppPlan, "kind" | "name">): string {
  return app.kind === "shell" ? "/" : `/${app.name}/`;
}

/**
 * Gateway routes that collide with an app's path on the one ingress host (nginx refuses two
 * Ingresses with the same host and path), each as a message with its fix.
 */
export function frontendRouteConflicts(plan: LandingZonePlan): string[] {
  const frontends = plan.frontends;
  if (!frontends) return [];
  return [frontends.shell, ...frontends.fragments].flatMap((app) => {
    const trimmed = (path: string) => path.replace(/\/$/, "") || "/";
    return plan.gateway.routes
      .filter((route) => trimmed(route.path) === trimmed(frontendPath(app)))
      .map((route) => `frontends: ${app.kind} "${app.name}" is served at ${frontendPath(app)}, which the gateway routes to ${route.target}. Fix: rename the ${app.kind} or change ${route.target}'s path`);
  });
}

/** The nginx server of an app: its files, no directory listing, the plan's security headers on every response, a health path. */
export function frontendServerConfig(plan: LandingZonePlan): string {
  const headers = securityResponseHeaders(plan.frontends!.securityHeaders).map((header) => {
    const [name, ...value] = header.split(": ");
    return `  add_header ${name} "${value.join(": ")}" always;`;
  });
  return [
    "server {",
    `  listen ${SERVER_PORT};`,
    "  server_tokens off;",
    `  root ${WEB_ROOT};`,
    `  index ${plan.frontends!.defaultRootObject};`,
    ...headers,
    "  location = /healthz {",
    "    access_log off;",
    "    default_type text/plain;",
    '    return 200 "ok\\n";',
    "  }",
    "  location / {",
    "    try_files $uri $uri/ =404;",
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * One micro-frontend app (the shell or a fragment) on the cluster, deployable on its own: a
 * ConfigMap with its nginx server, a Deployment whose init container copies the bundle out of the
 * app's own image (`FRONTEND_BUNDLE_DIRECTORY`, built and tagged by the app's pipeline) into a
 * volume served read-only by the pinned unprivileged nginx, a Service, a PodDisruptionBudget, and
 * an Ingress on the gateway's controller and host routing `/` (shell) or `/<fragment>/` to it with
 * the gateway's per-client rate limit. The shell BFF's routes stay on the gateway's own Ingresses,
 * so the same host serves the pages and their API (one origin, as the CSP's `'self'` wants). All in
 * the frontends namespace (`frontendNamespaceManifests` first), whose policies admit only the
 * controller. Cost note: each app runs 1 pod (2 in prod) requesting 50m CPU.
 *
 * @example
 * const objects = frontendAppManifests(plan, plan.frontends!.fragments[0]!, { className: "shop-nginx", host: "shop.example.com" });
 */
export function frontendAppManifests(plan: LandingZonePlan, app: FrontendAppPlan, options: FrontendAppOptions): ManifestObject[] {
  assertFrontendApp("frontendAppManifests", plan, app);
  assertKubernetesName("frontendAppManifests options.className", options.className);
  const { namespace, name, labels, selector } = frontendAppIdentity(plan, app);
  const prod = plan.environment === "prod";
  const host = options.host;

  return [
    validatedManifest(new ConfigMap({ metadata: { name, namespace, labels }, data: { "default.conf": frontendServerConfig(plan) } })),
    frontendDeployment(plan, app, options),
    validatedManifest(
      new Service({
        metadata: { name, namespace, labels },
        spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP", appProtocol: "http" }] },
      }),
    ),
    // With one replica, minAvailable 1 would block every node drain; allow one pod down instead.
    validatedManifest(new PodDisruptionBudget({ metadata: { name, namespace, labels }, spec: { selector: { matchLabels: selector }, ...(prod ? { minAvailable: 1 } : { maxUnavailable: 1 }) } })),
    validatedManifest(
      new Ingress({
        metadata: {
          name,
          namespace,
          labels,
          // The certificate is the host's, from the gateway's Ingresses; these paths redirect to it too.
          annotations: { ...gatewayIngressAnnotations(plan), ...(options.httpsOnly ? { "nginx.ingress.kubernetes.io/force-ssl-redirect": "true" } : {}) },
        },
        spec: {
          ingressClassName: options.className,
          rules: [
            {
              ...(host ? { host } : {}),
              http: { paths: [{ path: frontendPath(app), pathType: "Prefix", backend: { service: { name, port: { number: SERVICE_PORT } } } }] },
            },
          ],
        },
      }),
    ),
  ];
}

/** Where an app's objects live and how they are labelled and selected; the same for each of its objects. */
function frontendAppIdentity(plan: LandingZonePlan, app: FrontendAppPlan) {
  const name = frontendObjectName(app);
  return { namespace: frontendNamespace(plan), name, labels: { ...labelsFor(plan, name), "app.kubernetes.io/component": app.kind }, selector: selectorFor(plan, name) };
}

function assertFrontendApp(where: string, plan: LandingZonePlan, app: FrontendAppPlan): void {
  const frontends = plan.frontends;
  if (!frontends) throw new Error(`${where}: the plan has no frontends. Fix: add frontends to the spec`);
  if (![frontends.shell, ...frontends.fragments].some((a) => a.name === app.name && a.kind === app.kind)) {
    throw new Error(`${where} app: "${app.name}" is not an app of plan.frontends. Fix: use the shell or one of its fragments`);
  }
}

/**
 * The app's Deployment alone (part of {@link frontendAppManifests}): an init container copies the
 * bundle out of the app's image into a volume the pinned unprivileged nginx serves read-only. On an
 * existing cluster released by GitOps, Argo CD applies it from the app's repository instead.
 *
 * @example
 * const deployment = frontendDeployment(plan, plan.frontends!.shell, { image: "ghcr.io/acme/web-ui@sha256:..." });
 */
export function frontendDeployment(plan: LandingZonePlan, app: FrontendAppPlan, options: Pick<FrontendAppOptions, "image" | "imagePullSecretName"> = {}): ManifestObject {
  assertFrontendApp("frontendDeployment", plan, app);
  if (options.imagePullSecretName !== undefined) assertKubernetesName("frontendAppManifests options.imagePullSecretName", options.imagePullSecretName);
  const { namespace, name, labels, selector } = frontendAppIdentity(plan, app);
  const prod = plan.environment === "prod";
  const config = frontendServerConfig(plan);
  // The server mounts the bundle where the app's path maps to a file: /<fragment>/x is <root>/<fragment>/x.
  const bundleMount = `${WEB_ROOT}/${app.objectPrefix}`.replace(/\/$/, "");
  const hardened = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
  const probe = (periodSeconds: number) => ({ httpGet: { path: "/healthz", port: "http" }, periodSeconds, timeoutSeconds: 3, failureThreshold: 3 });
  return validatedManifest(
    new Deployment({
      metadata: { name, namespace, labels },
      spec: {
        replicas: prod ? 2 : 1,
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels,
            // A changed server config rolls the pods, which read it only at start.
            annotations: { "checksum/config": shortHash(config, 16) },
          },
          spec: {
            automountServiceAccountToken: false,
            ...(options.imagePullSecretName ? { imagePullSecrets: [{ name: options.imagePullSecretName }] } : {}),
            securityContext: { runAsNonRoot: true, runAsUser: NGINX_UID, runAsGroup: NGINX_UID, fsGroup: NGINX_UID, seccompProfile: { type: "RuntimeDefault" } },
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
            ],
            initContainers: [
              {
                name: "bundle",
                image: options.image ?? frontendImage(plan, app),
                command: ["cp", "-R", `${FRONTEND_BUNDLE_DIRECTORY}/.`, "/bundle/"],
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                securityContext: hardened,
                volumeMounts: [{ name: "bundle", mountPath: "/bundle" }],
              },
            ],
            containers: [
              {
                name: "nginx",
                image: FRONTEND_SERVER_IMAGE,
                ports: [{ name: "http", containerPort: SERVER_PORT, protocol: "TCP" }],
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                readinessProbe: probe(10),
                livenessProbe: probe(20),
                securityContext: hardened,
                volumeMounts: [
                  { name: "bundle", mountPath: bundleMount, readOnly: true },
                  { name: "config", mountPath: "/etc/nginx/conf.d", readOnly: true },
                  // The unprivileged image keeps its pid file and temporary files in /tmp.
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "bundle", emptyDir: { sizeLimit: "256Mi" } },
              { name: "config", configMap: { name } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ],
          },
        },
      },
    }),
  );
}
