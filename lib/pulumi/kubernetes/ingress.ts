import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Ingress as IngressModel } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { assertKubernetesName, INGRESS_NAMESPACE_LABEL, labelsFor, MANAGED_BY } from "../../kubernetes/labels.js";
import { ingressNamespace, workloadNamespace } from "../../kubernetes/namespace.js";
import { validatedManifest } from "../../kubernetes/render.js";
import type { AddOn, ManifestObject } from "../../kubernetes/types.js";
import { gatewayIngressAnnotations } from "../../kubernetes/ingress-annotations.js";
import { SERVICE_PORT } from "../../kubernetes/workload.js";
import { physicalName } from "../../plan/naming.js";
import type { LandingZonePlan, RoutePlan } from "../../plan/types.js";
import { applyAddOn, applyManifests, type HelmValues } from "./add-on.js";
import { dependencyList } from "./dependencies.js";

/** The ingress-nginx chart, pinned; the controller is v1.13.3. */
export const INGRESS_NGINX_CHART = { chart: "ingress-nginx", repository: "https://kubernetes.github.io/ingress-nginx", version: "4.13.3" } as const;

/** Arguments of {@link Ingress}. */
export interface IngressArgs {
  /** The landing-zone plan; `plan.gateway` gives the routes, rate limit, WAF and access-log settings. */
  readonly plan: LandingZonePlan;
  /** Provider of the cluster. */
  readonly provider: k8s.Provider;
  /**
   * Host name the routes answer on.
   * @default - every host (rules without a host)
   */
  readonly host?: string;
  /**
   * A `kubernetes.io/tls` Secret in the workloads namespace holding the certificate of `host` (e.g. from cert-manager); HTTP then redirects to HTTPS.
   * @default - no TLS: the controller serves its self-signed default certificate on 443
   */
  readonly tlsSecretName?: string;
  /**
   * IngressClass of this landing zone's controller.
   * @default `<plan.name>-nginx`
   */
  readonly className?: string;
  /**
   * How the controller is exposed; bare-metal clusters without a load-balancer implementation use NodePort.
   * @default "LoadBalancer"
   */
  readonly serviceType?: "LoadBalancer" | "NodePort";
  /**
   * Helm values deep-merged over the controller release's own, keyed by release name.
   * @default - the release's values
   */
  readonly values?: Readonly<Record<string, HelmValues>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: IngressTransform;
}

export interface IngressTransform {
  readonly namespace?: (args: k8s.core.v1.NamespaceArgs) => void;
  readonly release?: (args: k8s.helm.v3.ReleaseArgs) => void;
}

/**
 * The API gateway of an existing cluster: an ingress-nginx controller in its own namespace
 * (labelled so the workloads' NetworkPolicies admit it), with the plan's per-client rate limit,
 * ModSecurity with the OWASP core rules when `plan.gateway.waf`, and one Ingress per target
 * routing exactly `plan.gateway.routes` to the services' ClusterIP Services. With a mesh the
 * controller joins it (outbound only) so calls to the services carry Istio mutual TLS.
 *
 * @example
 * const ingress = new Ingress("gateway", { plan, provider, host: "shop.example.com", tlsSecretName: "shop-tls" });
 */
export class Ingress extends pulumi.ComponentResource {
  /** The controller's namespace. */
  readonly namespace: k8s.core.v1.Namespace;
  readonly className: pulumi.Output<string>;
  /** The configured host, or undefined when the routes answer on every host. */
  readonly host: pulumi.Output<string | undefined>;
  /** The routes applied, in plan order. */
  readonly routes: pulumi.Output<RoutePlan[]>;
  /** Every resource of the gateway, for later parts to depend on. */
  readonly resources: pulumi.Resource[];

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:kubernetes:Ingress", name, {}, opts);
    const { plan, provider } = args;
    const className = args.className ?? defaultIngressClass(plan);
    assertKubernetesName("Ingress args.className", className);
    if (args.tlsSecretName !== undefined) {
      assertKubernetesName("Ingress args.tlsSecretName", args.tlsSecretName);
      if (args.host === undefined) throw new Error(`Ingress args.host: undefined, but args.tlsSecretName "${args.tlsSecretName}" needs the host its certificate is for. Fix: pass host`);
    }
    if (args.host !== undefined && !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(args.host)) {
      throw new Error(`Ingress args.host: "${args.host}" is not a DNS name. Fix: pass a lowercase host such as shop.example.com`);
    }
    const after = dependencyList(opts?.dependsOn);
    const controllerNamespace = ingressNamespace(plan);

    const namespaceArgs: k8s.core.v1.NamespaceArgs = {
      metadata: {
        name: controllerNamespace,
        labels: {
          [INGRESS_NAMESPACE_LABEL]: "true",
          "app.kubernetes.io/part-of": plan.name,
          "app.kubernetes.io/managed-by": MANAGED_BY,
          // The controller adds NET_BIND_SERVICE and, with a mesh, its sidecar's init container needs NET_ADMIN.
          "pod-security.kubernetes.io/enforce": "baseline",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/audit": "restricted",
        },
      },
    };
    args.transform?.namespace?.(namespaceArgs);
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, namespaceArgs, { parent: this, provider, dependsOn: after });

    const controller = applyAddOn(name, ingressControllerAddOn(plan, controllerNamespace, className, args.serviceType ?? "LoadBalancer"), {
      provider,
      parent: this,
      dependsOn: [...after, this.namespace],
      ...(args.values ? { values: args.values } : {}),
      ...(args.transform?.release ? { transformRelease: args.transform.release } : {}),
    });
    // The controller's admission webhook validates Ingresses, so they wait for it.
    const routes = applyManifests(`${name}-routes`, ingressManifests(plan, className, args.host, args.tlsSecretName), { provider, parent: this, dependsOn: [...after, ...controller] });

    this.resources = [this.namespace, ...controller, routes];
    this.className = pulumi.output(className);
    this.host = pulumi.output(args.host);
    this.routes = pulumi.output(plan.gateway.routes.map((r) => ({ ...r })));
    this.registerOutputs({ className: this.className, host: this.host, routes: this.routes });
  }
}

/** The ingress-nginx release of a landing zone; its IngressClass and cluster-scoped names carry the plan's name. */
export function ingressControllerAddOn(plan: LandingZonePlan, namespace: string, className: string, serviceType: "LoadBalancer" | "NodePort"): AddOn {
  const gateway = plan.gateway;
  const prod = plan.environment === "prod";
  const values: Record<string, unknown> = {
    controller: {
      ingressClass: className,
      ingressClassResource: { name: className, enabled: true, default: false, controllerValue: `k8s.io/${className}` },
      // Ingresses of other controllers are not this landing zone's.
      watchIngressWithoutClass: false,
      replicaCount: prod ? 2 : 1,
      minAvailable: 1,
      // Snippets allow arbitrary nginx configuration from any Ingress author (CVE-2025-1974 class).
      allowSnippetAnnotations: false,
      config: {
        "ssl-protocols": "TLSv1.2 TLSv1.3",
        hsts: "true",
        "log-format-escape-json": "true",
        ...(gateway.accessLogs ? {} : { "disable-access-log": "true" }),
        ...(gateway.waf ? { "enable-modsecurity": "true", "enable-owasp-modsecurity-crs": "true", "modsecurity-snippet": "SecRuleEngine On" } : {}),
      },
      service: { type: serviceType, externalTrafficPolicy: "Local" },
      metrics: { enabled: true },
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "ScheduleAnyway",
          labelSelector: { matchLabels: { "app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": ingressReleaseName(plan) } },
        },
      ],
      // With a mesh the controller gets a sidecar for outbound mutual TLS; inbound client traffic bypasses it.
      ...(plan.mesh
        ? { podLabels: { "sidecar.istio.io/inject": "true" }, podAnnotations: { "traffic.sidecar.istio.io/includeInboundPorts": "" } }
        : {}),
    },
  };
  return {
    name: "ingress-nginx",
    namespace,
    helmReleases: [
      {
        name: ingressReleaseName(plan),
        namespace,
        chart: INGRESS_NGINX_CHART.chart,
        repository: INGRESS_NGINX_CHART.repository,
        version: INGRESS_NGINX_CHART.version,
        values,
        createNamespace: false,
      },
    ],
    manifests: [],
    dependsOn: [],
  };
}

/** The IngressClass of a landing zone's controller unless `className` is given. */
export function defaultIngressClass(plan: LandingZonePlan): string {
  return `${plan.name}-nginx`;
}

/** Release name; the chart names its cluster-scoped objects after it, so two landing zones never collide. */
export function ingressReleaseName(plan: LandingZonePlan): string {
  return physicalName("kubernetes", plan.name, "ingress-nginx");
}

/** One Ingress per target Service holding that target's routes of `plan.gateway.routes`, in plan order. */
export function ingressManifests(plan: LandingZonePlan, className: string, host?: string, tlsSecretName?: string): ManifestObject[] {
  const namespace = workloadNamespace(plan);
  const gateway = plan.gateway;
  const targets = [...new Set(gateway.routes.map((r) => r.target))];
  return targets.map((target) => {
    const routes = gateway.routes.filter((r) => r.target === target);
    return validatedManifest(
      new IngressModel({
        metadata: {
          name: target,
          namespace,
          labels: labelsFor(plan, target),
          annotations: gatewayIngressAnnotations(plan, target),
        },
        spec: {
          ingressClassName: className,
          ...(tlsSecretName && host ? { tls: [{ hosts: [host], secretName: tlsSecretName }] } : {}),
          rules: [
            {
              ...(host ? { host } : {}),
              http: {
                paths: routes.map((r) => ({ path: r.path, pathType: "Prefix", backend: { service: { name: target, port: { number: SERVICE_PORT } } } })),
              },
            },
          ],
        },
      }),
    );
  });
}
