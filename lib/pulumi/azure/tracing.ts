import * as applicationinsights from "@pulumi/azure-native/applicationinsights/index.js";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_BY } from "../../kubernetes/labels.js";
import { tracingAddOn } from "../../kubernetes/tracing.js";
import { OTEL_ENV } from "../../plan/tracing.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyAddOn } from "../kubernetes/add-on.js";
import { dependencyList } from "../kubernetes/dependencies.js";

/** Secret (key `connection-string`) the collector reads the Application Insights connection string from. */
export const APP_INSIGHTS_SECRET = "application-insights";
/** Environment variables the Azure Monitor OpenTelemetry distribution reads in services outside a cluster. */
export const APP_INSIGHTS_ENV = { connectionString: "APPLICATIONINSIGHTS_CONNECTION_STRING", serviceName: OTEL_ENV.serviceName, sampling: OTEL_ENV.samplerArg } as const;

/** Arguments of {@link Tracing}. */
export interface TracingArgs {
  /** The landing-zone plan; `plan.tracing` gives the backend, sampling and collector address. */
  readonly plan: LandingZonePlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** Log Analytics workspace Application Insights stores its telemetry in. */
  readonly logWorkspaceId: pulumi.Input<string>;
  /**
   * Provider of the AKS cluster the OpenTelemetry collector runs in (CaaS); without it services send to Application Insights themselves.
   * @default - no collector
   */
  readonly provider?: k8s.Provider;
  /**
   * Tags on the Application Insights component.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Distributed tracing. With `tracing.backend: cloud`, a workspace-based Application Insights
 * component; on a cluster the shared OpenTelemetry collector add-on exports to it (its connection
 * string in a Secret the collector reads by reference), and services elsewhere (scale sets, App
 * Service) get the connection string for the Azure Monitor OpenTelemetry distribution. With zipkin
 * or jaeger, the collector and that backend run in the cluster.
 *
 * Cost: Application Insights bills per GB ingested into the workspace.
 *
 * @example
 * const tracing = new Tracing("tracing", { plan, resourceGroupName: group.name, location: "eastus", logWorkspaceId: logs.workspaceId, provider: platform.provider });
 */
export class Tracing extends pulumi.ComponentResource {
  /** The Application Insights connection string (a secret), with backend `cloud`. */
  readonly connectionString?: pulumi.Output<string>;
  /** Every resource of the collector, for later parts to depend on. */
  readonly resources: pulumi.Resource[];
  readonly nodes: { readonly component?: applicationinsights.Component; readonly secret?: k8s.core.v1.Secret };
  private readonly samplingRate: number;

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const tracing = plan.tracing;
    if (!tracing) throw new Error(`Tracing ${name}: plan.tracing is undefined. Fix: set tracing.backend in the spec, or do not create Tracing`);
    if (!args.provider && tracing.backend !== "cloud") {
      throw new Error(`Tracing ${name}: tracing.backend "${tracing.backend}" needs a cluster to run its collector and backend, and no provider was given. Fix: set tracing.backend: cloud (Application Insights) outside CaaS`);
    }
    super("msa:azure:Tracing", name, {}, opts);
    this.samplingRate = tracing.samplingRate;
    const after = dependencyList(opts?.dependsOn);
    let component: applicationinsights.Component | undefined;
    let secret: k8s.core.v1.Secret | undefined;
    if (tracing.backend === "cloud") {
      component = new applicationinsights.Component(
        `${name}-insights`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          kind: "web",
          applicationType: "other",
          workspaceResourceId: args.logWorkspaceId,
          ingestionMode: "LogAnalytics",
          // Sampling happens in the services (parent-based ratio); the component keeps what arrives.
          samplingPercentage: 100,
          tags: { ...args.tags },
        },
        { parent: this },
      );
      this.connectionString = pulumi.secret(component.connectionString);
    }
    this.resources = [];
    if (args.provider) {
      const namespace = /\.([a-z0-9-]+)\.svc/.exec(tracing.collectorEndpoint)![1]!;
      if (component) {
        const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespace, labels: { "app.kubernetes.io/managed-by": MANAGED_BY } } }, { parent: this, provider: args.provider, dependsOn: after });
        secret = new k8s.core.v1.Secret(
          `${name}-connection`,
          { metadata: { name: APP_INSIGHTS_SECRET, namespace }, type: "Opaque", stringData: { "connection-string": this.connectionString! } },
          { parent: this, provider: args.provider, dependsOn: [ns] },
        );
        this.resources.push(ns, secret);
      }
      const addOn = tracingAddOn(plan, component ? { exporter: "azuremonitor", azureMonitorSecretName: APP_INSIGHTS_SECRET } : {})!;
      this.resources.push(...applyAddOn(name, addOn, { provider: args.provider, parent: this, dependsOn: [...after, ...this.resources] }));
    }
    this.nodes = { ...(component ? { component } : {}), ...(secret ? { secret } : {}) };
    this.registerOutputs({});
  }

  /** What a service outside the cluster needs to send traces: the connection string, its name and the sampling ratio. */
  environment(service: string): Record<string, pulumi.Input<string>> {
    if (!this.connectionString) return {};
    return { [APP_INSIGHTS_ENV.connectionString]: this.connectionString, [APP_INSIGHTS_ENV.serviceName]: service, [APP_INSIGHTS_ENV.sampling]: String(this.samplingRate) };
  }
}
