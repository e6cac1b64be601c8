import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { collectorServiceAccount, defaultExporter, tracingAddOn, type TraceExporter } from "../../kubernetes/tracing.js";
import type { LandingZonePlan } from "../../plan/types.js";
import { XRAY_WRITE_ACTIONS } from "../../plan/tracing.js";
import { applyAddOn } from "../kubernetes/add-on.js";
import { assumeRolePolicy } from "./kubernetes-platform.js";

export interface TracingArgs {
  /** The landing-zone plan; `plan.tracing` names the backend and the collector's endpoint. */
  readonly plan: LandingZonePlan;
  /** EKS cluster the collector runs in (for its Pod Identity association). */
  readonly clusterName: pulumi.Input<string>;
  /** Provider of that cluster. */
  readonly provider: k8s.Provider;
  /**
   * Resources the collector waits for (the platform's nodes and add-ons).
   * @default - none
   */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Distributed tracing: the OpenTelemetry collector every service exports OTLP to, sending traces to
 * Zipkin or Jaeger (deployed beside it) or to AWS X-Ray (`tracing.backend: xray` or `cloud`), with
 * an EKS Pod Identity role that may only write to X-Ray.
 *
 * Cost: X-Ray bills traces recorded and retrieved; Zipkin and Jaeger run on the cluster's nodes.
 *
 * @example
 * new Tracing("shop-tracing", { plan, clusterName: platform.clusterName, provider: platform.provider });
 */
export class Tracing extends pulumi.ComponentResource {
  readonly exporter: TraceExporter;
  readonly nodes: { readonly role?: aws.iam.Role; readonly podIdentity?: aws.eks.PodIdentityAssociation; readonly collector: readonly pulumi.Resource[] };

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    // Bad input is rejected before anything is registered.
    const addOn = tracingAddOn(args.plan);
    if (!addOn) throw new Error(`Tracing ${name}: plan.tracing is undefined. Fix: set tracing.backend in the spec, or leave Tracing out`);
    const exporter = defaultExporter(args.plan);
    if (exporter !== "xray" && exporter !== "zipkin" && exporter !== "jaeger") {
      throw new Error(`Tracing ${name}: exporter "${exporter}" does not run on AWS. Fix: use tracing.backend xray, cloud, zipkin or jaeger`);
    }
    super("msa:aws:Tracing", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    this.exporter = exporter;

    let role: aws.iam.Role | undefined;
    let podIdentity: aws.eks.PodIdentityAssociation | undefined;
    if (exporter === "xray") {
      const account = collectorServiceAccount(args.plan);
      role = new aws.iam.Role(`${name}-collector`, { assumeRolePolicy: assumeRolePolicy("pods.eks.amazonaws.com"), description: `OpenTelemetry collector ${account.namespace}/${account.name}`, tags }, parent);
      // X-Ray actions have no resource-level permissions.
      new aws.iam.RolePolicy(
        `${name}-collector-xray`,
        { role: role.name, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "WriteTraces", Effect: "Allow", Action: [...XRAY_WRITE_ACTIONS], Resource: "*" }] }) },
        parent,
      );
      // The chart creates the ServiceAccount; the association binds the role to its name first.
      podIdentity = new aws.eks.PodIdentityAssociation(`${name}-collector`, { clusterName: args.clusterName, namespace: account.namespace, serviceAccount: account.name, roleArn: role.arn, tags }, parent);
    }
    // Pod Identity gives credentials only to pods created after the association.
    const collector = applyAddOn(`${name}-collector`, addOn, { provider: args.provider, parent: this, dependsOn: [...(args.dependsOn ?? []), ...(podIdentity ? [podIdentity] : [])] });

    this.nodes = { collector, ...(role ? { role } : {}), ...(podIdentity ? { podIdentity } : {}) };
    this.registerOutputs({});
  }
}
