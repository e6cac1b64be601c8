import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { frontendAppManifests, frontendImage, frontendNamespace, frontendPath } from "../../kubernetes/frontends.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { dependencyList } from "./dependencies.js";

/** Arguments of {@link FrontendApp}. */
export interface FrontendAppArgs {
  /** The landing-zone plan; `plan.frontends` names the app. */
  readonly plan: LandingZonePlan;
  /** Name of the shell or of one of its fragments. */
  readonly app: string;
  /** Provider of the cluster. */
  readonly provider: k8s.Provider;
  /** IngressClass of the landing zone's controller (`Ingress.className`). */
  readonly className: string;
  /**
   * Host the app answers on; the gateway's, so pages and their BFF share one origin.
   * @default - every host
   */
  readonly host?: string;
  /**
   * Redirect HTTP to HTTPS (the gateway serves the host with a certificate).
   * @default false
   */
  readonly httpsOnly?: boolean;
  /**
   * The app's bundle image, e.g. a new tag its pipeline pushed: only this app's Deployment rolls.
   * @default - `frontendImage(plan, app)`: `<zone>-<app>-ui:latest`
   */
  readonly image?: string;
  /**
   * A `kubernetes.io/dockerconfigjson` Secret in the frontends namespace to pull the bundle image with.
   * @default - anonymous pulls or the nodes' credentials
   */
  readonly imagePullSecretName?: string;
  /**
   * Argo CD applies the app's Deployment from its repository's `deploy/` folder (`frontendGitOpsFiles`); this component keeps the rest.
   * @default false
   */
  readonly gitOps?: boolean;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: FrontendAppTransform;
}

export interface FrontendAppTransform {
  readonly manifests?: (args: k8s.yaml.v2.ConfigGroupArgs) => void;
}

/** The raw children of a {@link FrontendApp}. */
export interface FrontendAppNodes {
  readonly manifests: k8s.yaml.v2.ConfigGroup;
}

/**
 * One micro-frontend (the shell or a fragment) on an existing cluster, on its own: the objects of
 * `frontendAppManifests` (nginx serving the bundle copied from the app's image, with the plan's
 * security headers; Service; PodDisruptionBudget; the Ingress path `/` or `/<fragment>/`) in one
 * ConfigGroup, so a new image of one app replaces only that app's pods. The frontends namespace
 * (`frontendNamespaceManifests`) and the ingress controller come first (`dependsOn`).
 * Cost note: 1 pod per app (2 in prod) requesting 50m CPU and 32 MiB.
 *
 * @example
 * new FrontendApp("catalog-ui", { plan, app: "catalog", provider, className: "shop-nginx", image: "registry.example.com/shop-catalog-ui:1.4.2" });
 */
export class FrontendApp extends pulumi.ComponentResource {
  /** Path the app answers on at the ingress. */
  readonly path: pulumi.Output<string>;
  /** The bundle image deployed. */
  readonly image: pulumi.Output<string>;
  /** Namespace of the app's objects. */
  readonly namespace: pulumi.Output<string>;
  private readonly children: FrontendAppNodes;

  constructor(name: string, args: FrontendAppArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const frontends = plan.frontends;
    if (!frontends) throw new Error(`FrontendApp args.plan: the plan has no frontends. Fix: add frontends to the spec`);
    const app = [frontends.shell, ...frontends.fragments].find((a) => a.name === args.app);
    if (!app) {
      throw new Error(`FrontendApp args.app: "${args.app}" is not the shell or a fragment of plan.frontends. Fix: use one of ${[frontends.shell, ...frontends.fragments].map((a) => a.name).join(", ")}`);
    }
    if (args.gitOps && args.image !== undefined) throw new Error(`FrontendApp args.image: "${args.image}" is set, but with gitOps Argo CD deploys the image committed to the app's deploy/ folder. Fix: leave image out`);
    const image = args.image ?? frontendImage(plan, app);
    // Built before registering, so bad input fails before anything is created.
    const objects = frontendAppManifests(plan, app, {
      className: args.className,
      image,
      ...(args.host !== undefined ? { host: args.host } : {}),
      ...(args.httpsOnly ? { httpsOnly: true } : {}),
      ...(args.imagePullSecretName !== undefined ? { imagePullSecretName: args.imagePullSecretName } : {}),
    });
    super("msa:kubernetes:FrontendApp", name, {}, opts);
    // Under GitOps the Deployment is Argo CD's alone: two owners would undo each other's image.
    const manifestArgs: k8s.yaml.v2.ConfigGroupArgs = { objs: objects.filter((o) => !(args.gitOps && o.kind === "Deployment")).map((o) => ({ ...o })) };
    args.transform?.manifests?.(manifestArgs);
    this.children = {
      manifests: new k8s.yaml.v2.ConfigGroup(`${name}-manifests`, manifestArgs, { parent: this, provider: args.provider, dependsOn: dependencyList(opts?.dependsOn) }),
    };
    this.path = pulumi.output(frontendPath(app));
    this.image = pulumi.output(image);
    this.namespace = pulumi.output(frontendNamespace(plan));
    this.registerOutputs({ path: this.path, image: this.image, namespace: this.namespace });
  }

  /** The raw children, for what the args do not cover. */
  get nodes(): FrontendAppNodes {
    return this.children;
  }
}
