/**
 * Azure's release record: per service an App Configuration key-value holding the image its pipeline
 * released last, seeded with the planned image by the engine, written by the service's deploy identity
 * after a successful rollout and read back by the workload at deploy time (`getKeyValue`), so the next
 * `pulumi up` keeps the released image. Key Vault's ARM API returns no secret value, App Configuration's does.
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
