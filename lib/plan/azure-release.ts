/**
 * Azure's release record: per service an App Configuration key-value holding the image its pipeline
 * released last, seeded with the planned image by the engine, written by the service's deploy identity
 * after a successful rollout and read back by the workload at deploy time (`getKeyValue`), so the next
 * `pulumi up` keeps the released image. On scale sets the instances read it at each boot instead, so the
 * release writes it before reimaging and writes the previous image back on rollback (`scaleSetReleaseScript`).
 * Key Vault's ARM API returns no secret value, App Configuration's does.
 */
import { azureUniqueName } from "./azure.js";

/** ARM API version of the App Configuration key-value calls the pipelines make (azure-native's default). */
export const APP_CONFIGURATION_API_VERSION = "2024-05-01";

/** Name part of the landing zone's App Configuration store (`azureUniqueName("azureResource", zone, env, part, scope)`). */
export const RELEASE_STORE_PART = "config";

/**
 * What a deploy identity may do on the release store: read and write key-values, through ARM (`actions`,
 * the store is private so hosted agents go through ARM's private-link delegation) and, since the store
 * passes the caller through, on the data plane (`dataActions`). No delete, no snapshots, no store settings.
 */
export const RELEASE_WRITER_PERMISSIONS = {
  actions: ["Microsoft.AppConfiguration/configurationStores/keyValues/read", "Microsoft.AppConfiguration/configurationStores/keyValues/write"],
  dataActions: ["Microsoft.AppConfiguration/configurationStores/keyValues/read", "Microsoft.AppConfiguration/configurationStores/keyValues/write"],
} as const;

/** Key of a service's release record (no label: one store per landing zone and environment). */
export function releaseRecordKey(service: string): string {
  return `${service}-released-image`;
}

/** Name of the landing zone's App Configuration store, which holds the release records. */
export function releaseStoreName(zone: string, environment: string, subscriptionId: string, resourceGroup: string): string {
  return azureUniqueName("azureResource", zone, environment, RELEASE_STORE_PART, `${subscriptionId}/${resourceGroup}`);
}

/** ARM URL of a service's record under a store id (a literal or a shell/pipeline expression). */
export function releaseRecordUrl(storeId: string, service: string): string {
  return `https://management.azure.com${storeId}/keyValues/${releaseRecordKey(service)}?api-version=${APP_CONFIGURATION_API_VERSION}`;
}

/** ARM id of an App Configuration store. */
export function appConfigurationStoreId(subscriptionId: string, resourceGroup: string, storeName: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.AppConfiguration/configurationStores/${storeName}`;
}

/**
 * Shell that writes `image` (a shell or pipeline expression, e.g. `$IMAGE`) into a service's record; run it
 * only after the rollout succeeded. `az rest` goes through ARM, which reaches the private store, as the signed-in deploy identity.
 */
export function recordReleaseScript(storeId: string, service: string, image: string): string {
  return [
    `az rest --method put --url "${releaseRecordUrl(storeId, service)}" --headers "Content-Type=application/json" --body "{\\"properties\\":{\\"value\\":\\"${image}\\"}}" --output none`,
    `echo "Recorded the ${service} release ${image}"`,
  ].join("\n");
}

/** Shell that reads a service's record into `$<variable>` (the image running before a release). */
export function readReleaseScript(storeId: string, service: string, variable: string): string {
  return `${variable}="$(az rest --method get --url "${releaseRecordUrl(storeId, service)}" --query properties.value --output tsv)"`;
}

/**
 * Azure actions of a scale-set deploy identity, on its one scale set (a custom role): list its instances,
 * reimage them (per instance or through the scale set with instance ids, as `az vmss reimage` may call
 * either) and read their health. Nothing changes the scale set's model.
 */
export const SCALE_SET_RELEASE_ACTIONS = [
  "Microsoft.Compute/virtualMachineScaleSets/read",
  "Microsoft.Compute/virtualMachineScaleSets/reimage/action",
  "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
  "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/reimage/action",
  "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read",
] as const;

/** How a scale-set release proceeds. */
export const SCALE_SET_RELEASE = {
  /** Health the Application Health extension reports for an instance whose service answers. */
  healthyCode: "HealthState/healthy",
  /** How long a reimaged instance may take to boot, pull and answer its health check. */
  instanceHealthTimeoutSeconds: 600,
  /** Time a reimage itself takes (fresh OS disk, boot, extensions), which `az vmss reimage` waits for. */
  reimageMinutes: 5,
  /** Longest job Microsoft-hosted agents run. */
  maxJobMinutes: 360,
} as const;

/**
 * Timeout of a scale-set deploy job: instances are reimaged one at a time, so it grows with the largest
 * fleet the autoscaler may reach, up to the hosted agents' limit.
 */
export function scaleSetReleaseTimeoutMinutes(maxInstances: number): number {
  const perInstance = SCALE_SET_RELEASE.reimageMinutes + SCALE_SET_RELEASE.instanceHealthTimeoutSeconds / 60;
  return Math.min(SCALE_SET_RELEASE.maxJobMinutes, 15 + maxInstances * perInstance);
}

/** The scale set a service's release reimages. */
export interface ScaleSetReleaseTarget {
  readonly resourceGroup: string;
  readonly scaleSet: string;
  /** Store id of the release records (literal or expression). */
  readonly storeId: string;
  readonly service: string;
}

/**
 * A scale-set release, a rolling upgrade whose model never changes: keep the running image, record the
 * new one (instances read it at each boot), then reimage the scale set's instances one at a time, each
 * reporting healthy (Application Health extension) before the next. An instance that fails to reimage
 * or to turn healthy in time, or a cancelled job, puts the previous record back, reimages every
 * instance that booted the new image (those released and those added meanwhile by scale-out or
 * repair) so they boot the previous one again, and fails the job.
 */
export function scaleSetReleaseScript(target: ScaleSetReleaseTarget, image: string): string {
  const vmss = `--resource-group ${target.resourceGroup} --name ${target.scaleSet}`;
  const listInstances = `az vmss list-instances ${vmss} --query "[].instanceId" --output tsv`;
  const [restore, restored] = recordReleaseScript(target.storeId, target.service, "$PREVIOUS").split("\n");
  return [
    "set -euo pipefail",
    readReleaseScript(target.storeId, target.service, "PREVIOUS"),
    // Without a previous image there is nothing to roll back to.
    `[ -n "$PREVIOUS" ] || { echo "The ${releaseRecordKey(target.service)} record is empty: run pulumi up to seed it"; exit 1; }`,
    // An assignment, so a failed listing stops the job instead of releasing to no instance.
    `INSTANCES="$(${listInstances})"`,
    // Instances not reimaged yet still run the previous image.
    'UNTOUCHED=" $(echo $INSTANCES) "',
    "rollback() {",
    "  trap - INT TERM",
    `  echo "Release of ${target.service} failed ($1): restoring $PREVIOUS"`,
    `  ${restore} || echo "Restoring the record failed: set ${releaseRecordKey(target.service)} to $PREVIOUS by hand"`,
    `  ${restored}`,
    `  for ID in $(${listInstances} || echo "$INSTANCES"); do`,
    '    case "$UNTOUCHED" in *" $ID "*) continue ;; esac',
    `    az vmss reimage ${vmss} --instance-ids "$ID" --output none || echo "Reimage of instance $ID failed: reimage it by hand"`,
    "  done",
    "  exit 1",
    "}",
    "trap 'rollback \"job cancelled\"' INT TERM",
    recordReleaseScript(target.storeId, target.service, image),
    "for ID in $INSTANCES; do",
    '  UNTOUCHED="${UNTOUCHED/ $ID / }"',
    `  az vmss reimage ${vmss} --instance-ids "$ID" --output none || rollback "instance $ID did not reimage"`,
    `  DEADLINE=$((SECONDS + ${SCALE_SET_RELEASE.instanceHealthTimeoutSeconds}))`,
    `  until [ "$(az vmss get-instance-view ${vmss} --instance-id "$ID" --query vmHealth.status.code --output tsv)" = "${SCALE_SET_RELEASE.healthyCode}" ]; do`,
    `    [ "$SECONDS" -lt "$DEADLINE" ] || rollback "instance $ID not healthy after ${SCALE_SET_RELEASE.instanceHealthTimeoutSeconds}s"`,
    "    sleep 15",
    "  done",
    '  echo "Instance $ID healthy"',
    "done",
  ].join("\n");
}
