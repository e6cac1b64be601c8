/** What an Azure scale-set instance runs at boot: cloud-init for one service's container. Pure: no engine imports. */

import { stringify } from "yaml";
import type { LandingZonePlan, ServicePlan } from "./types.js";

/** UID/GID the container runs as (the same non-root user as the Kubernetes workloads). */
export const VM_CONTAINER_UID = 10001;
/** Where the service's non-secret environment lives on the instance (root-only). */
export const vmEnvFile = (service: string) => `/etc/msa/${service}.env`;

export interface VmBootstrapOptions {
  /** Full image reference, registry host included. */
  readonly image: string;
  /** Registry host (`<name>.azurecr.io`) the instance logs in to with its managed identity. */
  readonly registry: string;
  /** Client id of the instance's user-assigned identity; also `AZURE_CLIENT_ID` for the app's SDKs. */
  readonly clientId: string;
  /** Environment beyond the service's own config (session store, Service Bus namespace). */
  readonly env?: Readonly<Record<string, string>>;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The cloud-config of a service's instances: Docker from the distribution, a login helper that
 * trades the instance identity's Entra ID token for an ACR refresh token (no password anywhere),
 * the environment file, and a systemd unit running the container read-only, unprivileged, with
 * every capability dropped, on the service port, restarted when it exits.
 */
export function vmCloudInit(plan: LandingZonePlan, service: ServicePlan, options: VmBootstrapOptions): string {
  const env: Record<string, string> = {
    ...service.config,
    SERVICE_NAME: service.name,
    PORT: String(service.port),
    AZURE_CLIENT_ID: options.clientId,
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_KEY.test(key)) throw new Error(`services[${service.name}].config: key "${key}" is not an environment variable name. Fix: use letters, digits and '_', not starting with a digit`);
    if (/[\r\n]/.test(value)) throw new Error(`services[${service.name}].config.${key}: the value spans lines, which an env file cannot hold. Fix: put it on one line`);
  }
  if (!/^[a-z0-9][a-z0-9.-]*(:\d+)?$/.test(options.registry)) throw new Error(`vmCloudInit options.registry: "${options.registry}" is not a registry host. Fix: pass <name>.azurecr.io`);
  const unit = `msa-${service.name}`;
  const login = [
    "#!/bin/sh",
    "# Trades the instance identity's Entra ID token for an ACR refresh token; nothing is stored but Docker's login.",
    "set -eu",
    `token=$(curl -sf -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&client_id=${options.clientId}" | jq -r .access_token)`,
    `refresh=$(curl -sf -X POST -d "grant_type=access_token&service=${options.registry}&access_token=$token" "https://${options.registry}/oauth2/exchange" | jq -r .refresh_token)`,
    `echo "$refresh" | docker login ${options.registry} -u 00000000-0000-0000-0000-000000000000 --password-stdin`,
    "",
  ].join("\n");
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
    `ExecStartPre=-/usr/bin/docker rm -f ${service.name}`,
    `ExecStartPre=/usr/bin/docker pull ${options.image}`,
    [
      "ExecStart=/usr/bin/docker run --rm",
      `--name ${service.name}`,
      `--env-file ${vmEnvFile(service.name)}`,
      `-p ${service.port}:${service.port}`,
      `--user ${VM_CONTAINER_UID}:${VM_CONTAINER_UID}`,
      "--read-only --tmpfs /tmp",
      "--cap-drop ALL --security-opt no-new-privileges",
      `--memory ${service.memoryMiB}m`,
      options.image,
    ].join(" "),
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
      { path: vmEnvFile(service.name), permissions: "0600", content: Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n" },
      { path: `/etc/systemd/system/${unit}.service`, permissions: "0644", content: systemd },
    ],
    runcmd: [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "docker"], ["systemctl", "enable", "--now", `${unit}.service`]],
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}
