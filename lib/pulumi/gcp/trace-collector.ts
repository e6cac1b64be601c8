import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { defaultExporter, tracingAddOn } from "../../kubernetes/tracing.js";
import { gcpLabels, gcpServiceAccountId } from "../../plan/gcp.js";
import { CENTRAL_COLLECTOR, centralCollectorAddress, usesCentralCollector } from "../../plan/trace-collector.js";
import { CLOUD_TRACE_ROLE } from "../../plan/tracing.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { applyAddOn } from "../kubernetes/add-on.js";
import { GKE_INTERNAL_LB_ANNOTATIONS } from "./log-cluster.js";
import { WORKLOAD_IDENTITY_ANNOTATION } from "./service-workload.js";
import { WorkloadIdentity } from "./workload-identity.js";

/** Arguments of {@link TraceCollector}. */
export interface TraceCollectorArgs {
  /** The landing-zone plan (`cloud: gcp`, `tier: paas`, `tracing.backend: cloud`); `plan.tracing.collectorEndpoint` is where the services export. */
  readonly plan: LandingZonePlan;
  /** Provider of the GKE cluster the collector runs on (the logging cluster's). */
  readonly provider: k8s.Provider;
  /** The services' subnet, which holds the collector's reserved address. */
  readonly subnetworkId: pulumi.Input<string>;
  /** CIDR blocks of the instances that export (the services' subnet); nothing else may connect. */
  readonly sourceRanges: readonly string[];
  /**
   * What the collector waits for (the cluster's node pool).
   * @default - nothing
   */
  readonly dependsOn?: readonly pulumi.Resource[];
  /**
   * Escape hatch: patches the address's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly address?: (args: gcp.compute.AddressArgs) => void };
}

/**
 * The central OpenTelemetry collector of services that cannot run one beside them (App Engine
 * flexible): the contrib collector (the same Helm release the caas clusters run) on an existing GKE
 * cluster, exporting to Cloud Trace as its own Google service account (Workload Identity, `cloudtrace.agent`
 * only, no key), its Service an internal passthrough load balancer at the plan's reserved private
 * address, admitting only the services' subnet. Chosen over ESP's own tracing plus direct export
 * because the OTel SDKs then need nothing but the standard OTLP variables every other tier sets.
 *
 * Cost: the internal load balancer's forwarding rule and the collector's pods on the cluster's nodes.
 *
 * @example
 * new TraceCollector("shop-traces", { plan, provider: logs.platform.provider, subnetworkId, sourceRanges: ["10.0.0.0/17"] });
 */
export class TraceCollector extends pulumi.ComponentResource {
  /** OTLP/gRPC endpoint the services export to (`plan.tracing.collectorEndpoint`). */
  readonly endpoint: string;
  readonly identity: WorkloadIdentity;
  readonly nodes: { readonly address: gcp.compute.Address; readonly release: readonly pulumi.Resource[] };

  constructor(name: string, args: TraceCollectorArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    if (!plan.tracing || !usesCentralCollector(plan)) {
      throw new Error(`TraceCollector ${name}: the plan exports to no central collector (cloud ${plan.cloud}, tier ${plan.tier}, tracing ${plan.tracing?.backend ?? "none"}). Fix: use it for gcp paas with tracing.backend: cloud`);
    }
    const exporter = defaultExporter(plan);
    if (exporter !== "googlecloud") throw new Error(`TraceCollector ${name}: tracing.backend "${plan.tracing.backend}" would export to ${exporter}, not Cloud Trace. Fix: set tracing.backend: cloud`);
    super("msa:gcp:TraceCollector", name, {}, opts);
    const parent = { parent: this };
    const address = centralCollectorAddress(plan.network);

    const addressArgs: gcp.compute.AddressArgs = {
      region: plan.region,
      addressType: "INTERNAL",
      subnetwork: args.subnetworkId,
      address,
      description: `Internal load balancer of the trace collector of ${plan.name}`,
      labels: gcpLabels(plan.tags),
    };
    args.transform?.address?.(addressArgs);
    const reserved = new gcp.compute.Address(`${name}-address`, addressArgs, parent);
    this.identity = new WorkloadIdentity(
      `${name}-identity`,
      { accountId: gcpServiceAccountId(plan.name, "otel"), kubernetesServiceAccount: CENTRAL_COLLECTOR, roles: [CLOUD_TRACE_ROLE], description: "Central OpenTelemetry collector writing to Cloud Trace" },
      parent,
    );
    const addOn = tracingAddOn(plan, { exporter, central: { annotations: GKE_INTERNAL_LB_ANNOTATIONS, address, sourceRanges: args.sourceRanges } })!;
    const release = applyAddOn(name, addOn, {
      provider: args.provider,
      parent: this,
      values: { [CENTRAL_COLLECTOR.name]: { serviceAccount: { annotations: { [WORKLOAD_IDENTITY_ANNOTATION]: this.identity.email } } } },
      dependsOn: [...(args.dependsOn ?? []), reserved, ...this.identity.ready],
    });
    this.endpoint = plan.tracing.collectorEndpoint;
    this.nodes = { address: reserved, release };
    this.registerOutputs({ endpoint: this.endpoint, email: this.identity.email });
  }
}
