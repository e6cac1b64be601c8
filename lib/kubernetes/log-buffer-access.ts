import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { Service } from "kubernetes-models/v1/Service";
import type { LandingZonePlan } from "../plan/types.js";
import { labelsFor, selectorFor } from "./labels.js";
import { REDIS_PORT } from "./redis.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";

/** Name of the buffer Redis in the logging namespace of a logging cluster that hosts outside it ship to. */
export const LOG_BUFFER_NAME = "log-buffer";

/** How hosts outside the logging cluster reach its Redis buffer: a private load balancer the cloud provisions. */
export interface LogBufferExposure {
  /** Name of the buffer's StatefulSet; writes go to its pod 0, the primary. */
  readonly bufferName: string;
  /** Annotations that make the cloud's load balancer internal (GKE, AKS). */
  readonly annotations: Readonly<Record<string, string>>;
  /** Private address reserved for the load balancer, so hosts know it before it exists. */
  readonly address: string;
  /** CIDR blocks of the hosts that ship logs; nothing else may connect. */
  readonly sourceRanges: readonly string[];
}

const CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

/**
 * The buffer's primary behind an internal load balancer at a reserved address, accepting only the
 * shippers' ranges, and the NetworkPolicy that lets those ranges past the logging namespace's
 * default deny. The buffer keeps its AUTH password, so a host needs the secret as well as the route.
 */
export function logBufferExposureManifests(plan: LandingZonePlan, exposure: LogBufferExposure): ManifestObject[] {
  const logging = plan.logging;
  if (!logging?.buffer) throw new Error(`logBufferExposureManifests: plan.logging.buffer is undefined. Fix: set logging.stack: elk and logging.buffer: redis`);
  if (exposure.sourceRanges.length === 0) throw new Error(`logBufferExposureManifests sourceRanges: empty, so no host could ship logs. Fix: pass the CIDR of the hosts' subnet`);
  const stray = exposure.sourceRanges.find((cidr) => !CIDR.test(cidr));
  if (stray) throw new Error(`logBufferExposureManifests sourceRanges: "${stray}" is not an IPv4 CIDR. Fix: pass e.g. 10.0.0.0/20`);
  const namespace = logging.namespace;
  const name = `${exposure.bufferName}-internal`;
  const labels = labelsFor(plan, exposure.bufferName);
  const selector = selectorFor(plan, exposure.bufferName);
  return [
    validatedManifest(
      new Service({
        metadata: { name, namespace, labels, annotations: { ...exposure.annotations } },
        spec: {
          type: "LoadBalancer",
          loadBalancerIP: exposure.address,
          loadBalancerSourceRanges: [...exposure.sourceRanges],
          // Shippers keep one connection each; their source addresses stay visible to the policy below.
          externalTrafficPolicy: "Local",
          selector: { ...selector, "statefulset.kubernetes.io/pod-name": `${exposure.bufferName}-0` },
          ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis", protocol: "TCP" }],
        },
      }),
    ),
    validatedManifest(
      new NetworkPolicy({
        metadata: { name: `allow-hosts-to-${exposure.bufferName}`, namespace, labels },
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ["Ingress"],
          ingress: [{ from: exposure.sourceRanges.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: REDIS_PORT }] }],
        },
      }),
    ),
  ];
}
