/** What an Azure scale-set instance runs at boot: cloud-init for one service's container. Pure: no engine imports. */

import { stringify } from "yaml";
import type { EdgeProxyHost } from "./edge-proxy.js";
import { filebeatDockerRun, hostShipperConfig } from "./host-bootstrap.js";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** UID/GID the container runs as (the same non-root user as the Kubernetes workloads). */
export const VM_CONTAINER_UID = 10001;
/** Where the service's non-secret environment lives on the instance (root-only). */
export const vmEnvFile = (service: string) => `/etc/msa/${service}.env`;

/** A service's release record, which its instances read the image from at each boot. */
export interface VmReleaseRecord {
  /** Endpoint of the App Configuration store, `https://<store>.azconfig.io`. */
  readonly endpoint: string;
  /** Key of the record (`releaseRecordKey`). */
  readonly key: string;
}

export interface VmBootstrapOptions {
  /**
   * Full image reference, registry host included, or the release record the instance reads it from at
   * each boot (a pipeline then releases by writing the record and reimaging, the model unchanged).
   */
  readonly image: string | { readonly record: VmReleaseRecord };
  /** Registry host (`<name>.azurecr.io`) the instance logs in to with its managed identity. */
  readonly registry: string;
  /** Client id of the instance's user-assigned identity; also `AZURE_CLIENT_ID` for the app's SDKs. */
  readonly clientId: string;
  /** Environment beyond the service's own config (session store, Service Bus namespace). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Key Vault secret URIs by environment variable: read at every start with the instance identity,
   * into a root-only file on tmpfs, so no secret is in the VM model, the disk or the image.
   */
  readonly secrets?: Readonly<Record<string, string>>;
  /**
   * The App Configuration store the service's settings (`<service>:<KEY>`, labelled `label`) are read
   * from at every start; the settings then stay out of the VM model.
   */
  readonly appConfiguration?: { readonly endpoint: string; readonly label: string };
  /**
   * The edge proxy in front of the service (its config and unit, from `edgeProxyHost`), started after it.
   * @default - no proxy: the gateway reaches the service's port
   */
  readonly edgeProxy?: EdgeProxyHost;
  /**
   * The log buffer Filebeat ships every container's log into (`hostShipperConfig`), its password read
   * at each start from Key Vault with the instance identity into a file only Filebeat's container gets.
   * @default - no shipper: logs stay with the VM
   */
  readonly logBuffer?: VmLogBuffer;
}

/** Where an instance ships its logs. */
export interface VmLogBuffer {
  /** Private address of the buffer. */
  readonly host: string;
  readonly port: number;
  /** Key Vault secret URI of the buffer's password. */
  readonly passwordSecretUri: string;
  /** false for the in-cluster buffer, which speaks Redis with AUTH as on caas. */
  readonly tls: boolean;
}

/** Unit and container name of the shipper on an instance. */
export const VM_SHIPPER_UNIT = "msa-filebeat";

/** Where the settings and secrets fetched at start go: tmpfs, root-only, gone at reboot. */
export const vmRuntimeEnvFile = (service: string) => `/run/msa/${service}.env`;
/** Where the image read from the release record at boot goes: tmpfs, so each boot reads the record again. */
export const vmImageFile = (service: string) => `/run/msa/${service}.image`;

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY_VAULT_SECRET_URI = /^https:\/\/[a-z0-9-]+\.vault\.azure\.net\/secrets\/[A-Za-z0-9-]+(\/[0-9a-f]*)?$/;

/**
 * The cloud-config of a service's instances: Docker from the distribution, a login helper that
 * trades the instance identity's Entra ID token for an ACR refresh token (no password anywhere),
 * the environment file, and a systemd unit running the container read-only, unprivileged, with
 * every capability dropped, on the service port, restarted when it exits.
 */
/** The systemd unit of a service's container on an instance. */
export const vmServiceUnit = (service: string) => `msa-${service}`;

export function vmCloudInit(plan: LandingZonePlan, service: ServicePlan, options: VmBootstrapOptions): string {
  const env: Record<string, string> = {
    ...(options.appConfiguration ? {} : service.config),
    SERVICE_NAME: service.name,
    PORT: String(service.port),
    AZURE_CLIENT_ID: options.clientId,
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) throw new Error(`services[${service.name}].config: key "${key}" is not an environment variable name. Fix: use letters, digits and '_', not starting with a digit`);
    if (/[\r\n]/.test(value)) throw new Error(`services[${service.name}].config.${key}: the value spans lines, which an env file cannot hold. Fix: put it on one line`);
  }
  for (const [key, uri] of Object.entries(options.secrets ?? {})) {
    if (!ENV_KEY.test(key)) throw new Error(`services[${service.name}].secrets: "${key}" is not an environment variable name. Fix: use UPPER_SNAKE_CASE`);
    if (!KEY_VAULT_SECRET_URI.test(uri)) throw new Error(`vmCloudInit options.secrets.${key}: "${uri}" is not a Key Vault secret URI. Fix: pass https://<vault>.vault.azure.net/secrets/<name>`);
  }
  if (options.appConfiguration && !/^https:\/\/[a-z0-9-]+\.azconfig\.io$/.test(options.appConfiguration.endpoint)) {
    throw new Error(`vmCloudInit options.appConfiguration.endpoint: "${options.appConfiguration.endpoint}" is not an App Configuration endpoint. Fix: pass https://<store>.azconfig.io`);
  }
  const buffer = options.logBuffer;
  if (buffer && !KEY_VAULT_SECRET_URI.test(buffer.passwordSecretUri)) {
    throw new Error(`vmCloudInit options.logBuffer.passwordSecretUri: "${buffer.passwordSecretUri}" is not a Key Vault secret URI. Fix: pass https://<vault>.vault.azure.net/secrets/<name>`);
  }
  if (buffer && !/^[A-Za-z0-9.-]+$/.test(buffer.host)) throw new Error(`vmCloudInit options.logBuffer.host: "${buffer.host}" is not a host name or address. Fix: pass the buffer's private address`);
  const record = typeof options.image === "string" ? undefined : options.image.record;
  if (record && !/^https:\/\/[a-z0-9-]+\.azconfig\.io$/.test(record.endpoint)) {
    throw new Error(`vmCloudInit options.image.record.endpoint: "${record.endpoint}" is not an App Configuration endpoint. Fix: pass https://<store>.azconfig.io`);
  }
  if (record && !/^[A-Za-z0-9._-]+$/.test(record.key)) throw new Error(`vmCloudInit options.image.record.key: "${record.key}" is not a release record key. Fix: pass releaseRecordKey(service)`);
  if (!/^[a-z0-9][a-z0-9.-]*(:\d+)?$/.test(options.registry)) throw new Error(`vmCloudInit options.registry: "${options.registry}" is not a registry host. Fix: pass <name>.azurecr.io`);
  const unit = vmServiceUnit(service.name);
  const login = [
    "#!/bin/sh",
    "# Trades the instance identity's Entra ID token for an ACR refresh token; nothing is stored but Docker's login.",
    "set -eu",
    `token=$(curl -sf -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&client_id=${options.clientId}" | jq -r .access_token)`,
    `refresh=$(curl -sf -X POST -d "grant_type=access_token&service=${options.registry}&access_token=$token" "https://${options.registry}/oauth2/exchange" | jq -r .refresh_token)`,
    `echo "$refresh" | docker login ${options.registry} -u 00000000-0000-0000-0000-000000000000 --password-stdin`,
    "",
  ].join("\n");
  const token = (resource: string) => `$(curl -sf -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}&client_id=${options.clientId}" | jq -r .access_token)`;
  const runtimeEnv = vmRuntimeEnvFile(service.name);
  const fetch = [
    "#!/bin/sh",
    "# Reads the service's settings and secrets with the instance identity into a root-only file on tmpfs.",
    "set -eu",
    "umask 077",
    "mkdir -p /run/msa",
    `out=${runtimeEnv}.new`,
    ': > "$out"',
    ...(options.appConfiguration
      ? [
          `settings=${token("https://azconfig.io")}`,
          `curl -sf -H "Authorization: Bearer $settings" "${options.appConfiguration.endpoint}/kv?key=${service.name}:*&label=${options.appConfiguration.label}&api-version=1.0" | jq -r '.items[] | select((.content_type // "") | startswith("application/vnd.microsoft.appconfig.keyvaultref") | not) | "\\(.key | sub("^${service.name}:"; ""))=\\(.value)"' >> "$out"`,
        ]
      : []),
    ...(Object.keys(options.secrets ?? {}).length > 0 ? [`vault=${token("https://vault.azure.net")}`] : []),
    // Each read is checked before it is written, so a failed read stops the start under set -e instead of writing an empty secret.
    ...Object.entries(options.secrets ?? {}).flatMap(([key, uri]) => [...keyVaultRead(uri), `printf '%s=%s\\n' ${key} "$value" >> "$out"`]),
    `mv "$out" ${runtimeEnv}`,
    "",
  ].join("\n");
  const imageFile = vmImageFile(service.name);
  const fetchImage = record
    ? [
        "#!/bin/sh",
        "# Reads the image the service's pipeline released last from its release record, with the instance identity.",
        "# Any failure fails the unit, which retries: the instance never starts an image it could not read.",
        "set -eu",
        "mkdir -p /run/msa",
        `settings=${token("https://azconfig.io")}`,
        `image=$(curl -sf -H "Authorization: Bearer $settings" "${record.endpoint}/kv/${record.key}?api-version=1.0" | jq -r .value)`,
        // Only the zone's registry: a record naming another one is refused, not pulled.
        `case "$image" in ${options.registry}/*) ;; *) echo "${record.key} names \"$image\", not an image of ${options.registry}" >&2; exit 1 ;; esac`,
        `printf '%s\\n' "$image" > ${imageFile}.new`,
        `mv ${imageFile}.new ${imageFile}`,
        "",
      ].join("\n")
    : undefined;
  // With a record the image is read once per boot (a reimage), not at each container restart; `$$` is systemd's literal `$`.
  const image = record ? `"$$(cat ${imageFile})"` : options.image;
  const shell = (command: string) => (record ? `/bin/sh -c 'exec ${command}'` : command);
  const systemd = [
    "[Unit]",
    `Description=${service.name} (${plan.name} landing zone)`,
    "After=docker.service network-online.target",
    "Requires=docker.service",
    "",
    "[Service]",
    "Restart=always",
    "RestartSec=5",
    "ExecStartPre=/usr/local/bin/msa-registry-login",
    "ExecStartPre=/usr/local/bin/msa-fetch-config",
    `ExecStartPre=-/usr/bin/docker rm -f ${service.name}`,
    ...(record ? [`ExecStartPre=/bin/sh -c '[ -s ${imageFile} ] || /usr/local/bin/msa-fetch-image'`] : []),
    `ExecStartPre=${shell(`/usr/bin/docker pull ${image}`)}`,
    `ExecStart=${shell(
      [
        "/usr/bin/docker run --rm",
        `--name ${service.name}`,
        `--env-file ${vmEnvFile(service.name)}`,
        `--env-file ${runtimeEnv}`,
        `-p ${service.port}:${service.port}`,
        `--user ${VM_CONTAINER_UID}:${VM_CONTAINER_UID}`,
        "--read-only --tmpfs /tmp",
        "--cap-drop ALL --security-opt no-new-privileges",
        `--memory ${service.memoryMiB}m`,
        image,
      ].join(" "),
    )}`,
    `ExecStop=/usr/bin/docker stop ${service.name}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
  const config = {
    package_update: true,
    packages: ["docker.io", "jq", "curl"],
    write_files: [
      { path: "/usr/local/bin/msa-registry-login", permissions: "0755", content: login },
      { path: "/usr/local/bin/msa-fetch-config", permissions: "0700", content: fetch },
      ...(fetchImage ? [{ path: "/usr/local/bin/msa-fetch-image", permissions: "0700", content: fetchImage }] : []),
      { path: vmEnvFile(service.name), permissions: "0600", content: Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n" },
      { path: `/etc/systemd/system/${unit}.service`, permissions: "0644", content: systemd },
      ...(options.edgeProxy?.files ?? []),
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "docker"],
      ["systemctl", "enable", "--now", `${unit}.service`],
      ...(options.edgeProxy ? [["systemctl", "enable", "--now", `${options.edgeProxy.unit}.service`]] : []),
    ],
  };
  if (buffer) {
    config.write_files.push(...shipperFiles(plan, service, buffer, token("https://vault.azure.net")));
    config.runcmd.push(["systemctl", "enable", "--now", `${VM_SHIPPER_UNIT}.service`]);
  }
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/** Filebeat in its own unit and container: read-only, every capability dropped, root only to read Docker's root-owned log files. */
function shipperFiles(plan: LandingZonePlan, service: ServicePlan, buffer: VmLogBuffer, vaultToken: string): { path: string; permissions: string; content: string }[] {
  const etc = `/etc/msa/${VM_SHIPPER_UNIT}`;
  const secrets = `/run/msa/${VM_SHIPPER_UNIT}.env`;
  const state = `/var/lib/${VM_SHIPPER_UNIT}`;
  const env = { MSA_SERVICE: service.name, LOG_BUFFER_HOST: buffer.host, LOG_BUFFER_PORT: String(buffer.port) };
  const fetch = [
    "#!/bin/sh",
    "# Reads the buffer's password with the instance identity into a root-only file on tmpfs that only Filebeat's container gets.",
    "set -eu",
    "umask 077",
    "mkdir -p /run/msa",
    `vault=${vaultToken}`,
    ...keyVaultRead(buffer.passwordSecretUri),
    `printf 'REDIS_PASSWORD=%s\\n' "$value" > ${secrets}.new`,
    `mv ${secrets}.new ${secrets}`,
    "",
  ].join("\n");
  const systemd = [
    "[Unit]",
    `Description=Filebeat: container logs to the log buffer (${plan.name} landing zone)`,
    "After=docker.service network-online.target",
    "Requires=docker.service",
    "",
    "[Service]",
    "Restart=always",
    "RestartSec=5",
    `ExecStartPre=/bin/mkdir -p ${state}`,
    `ExecStartPre=${etc}/fetch-secrets`,
    `ExecStartPre=-/usr/bin/docker rm -f ${VM_SHIPPER_UNIT}`,
    `ExecStart=${filebeatDockerRun({ name: VM_SHIPPER_UNIT, envFiles: [`${etc}/config.env`, secrets], configFile: `${etc}/filebeat.yml`, dataDirectory: state })}`,
    `ExecStop=/usr/bin/docker stop ${VM_SHIPPER_UNIT}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
  return [
    { path: `${etc}/filebeat.yml`, permissions: "0644", content: hostShipperConfig(plan, { tls: buffer.tls }) },
    { path: `${etc}/config.env`, permissions: "0644", content: Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n" },
    { path: `${etc}/fetch-secrets`, permissions: "0700", content: fetch },
    { path: `/etc/systemd/system/${VM_SHIPPER_UNIT}.service`, permissions: "0644", content: systemd },
  ];
}

/**
 * Reads a Key Vault secret into `$value`, each step its own command so `set -e` stops on it: `jq -e`
 * fails on a null value, and the test fails on no value at all (sh has no pipefail, and jq 1.6 takes
 * empty input for success).
 */
function keyVaultRead(secretUri: string): string[] {
  return [`value="$(curl -sf -H "Authorization: Bearer $vault" "${secretUri}?api-version=7.4" | jq -er .value)"`, `[ -n "$value" ]`];
}
