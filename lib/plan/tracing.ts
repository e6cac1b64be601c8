/**
 * What the OpenTelemetry collector may do in AWS X-Ray: send segments and telemetry, and read the
 * sampling rules. X-Ray has no resource-level permissions, so these run on "*".
 */
export const XRAY_WRITE_ACTIONS = [
  "xray:GetSamplingRules",
  "xray:GetSamplingStatisticSummaries",
  "xray:GetSamplingTargets",
  "xray:PutTelemetryRecords",
  "xray:PutTraceSegments",
] as const;
