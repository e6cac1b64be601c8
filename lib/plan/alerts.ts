/**
 * What raises a service's alarms, on every cloud and engine: the seed's "real-time failure
 * detection" as four golden signals (traffic, errors, latency, saturation).
 */
export const SERVICE_ALERTS = {
  /** Share of 5xx responses, in percent, over the window. */
  errorRatePercent: 5,
  /** 95th percentile latency in milliseconds over the window. */
  latencyP95Ms: 1000,
  /** CPU utilization (0-1) of the service's compute, averaged over the window. */
  cpuUtilization: 0.85,
  /** Evaluation window in minutes; a condition must hold this long. */
  windowMinutes: 5,
} as const;
