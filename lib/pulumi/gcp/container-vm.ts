import { stringify } from "yaml";
import { filebeatDockerRun } from "../../plan/host-bootstrap.js";
import { WORKLOAD_UID } from "../../kubernetes/workload.js";
import { HOST_COLLECTOR } from "../../plan/tracing.js";
import type { EdgeProxyHost } from "../../plan/edge-proxy.js";

/** Container-Optimized OS, stable channel: a minimal, auto-updating image whose only job is running containers. */
export const CONTAINER_VM_IMAGE = "projects/cos-cloud/global/images/family/cos-stable";

/** What runs on one service's VMs. */
export interface ContainerVmOptions {
  /** Service name: the systemd unit, the container and the directories under /etc/msa and /run/msa. */
  readonly service: string;
  /** The image to run; with `release`, the one the release secret starts from. */
  readonly image: string;
  /**
   * A Secret Manager secret (`projects/<p>/secrets/<id>`) whose latest version is the image to run, read
   * at each start with the VM's account, so a release replaces VMs without a new instance template.
   * Only `image` itself or a tag or digest of `repository` (the one the pipeline pushes to) is run.
   * @default - `image`, fixed in the template
   */
  readonly release?: { readonly secret: string; readonly repository: string };
  /** Container port, published on the same host port for the load balancer. */
  readonly port: number;
  /** Non-secret environment variables (single-line values). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Multi-line values (certificates) by the environment variable that names their file: each is written
   * to a file mounted read-only at `/etc/msa/<variable, lowercase>`, and the container gets the variable
   * set to that path (e.g. `SESSION_STORE_CA_FILE=/etc/msa/session_store_ca_file`).
   * @default - none
   */
  readonly files?: Readonly<Record<string, string>>;
  /** Secret Manager secrets by environment variable (`projects/<p>/secrets/<id>`); read at start into a root-only tmpfs file. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Artifact Registry hosts Docker authenticates to with the VM's service account (e.g. asia-northeast3-docker.pkg.dev). */
  readonly registryHosts: readonly string[];
  /**
   * An OpenTelemetry collector run beside the service (`hostCollectorConfig`, `hostCollectorImage`): the
   * service's container joins its Docker network and reaches it as `otel-collector`.
   * @default - no collector
   */
  readonly collector?: { readonly image: string; readonly config: string };
  /**
   * The edge proxy in front of the service (its config and unit, from `edgeProxyHost`), started after it.
   * @default - no proxy: the load balancer reaches the service's port
   */
  readonly edgeProxy?: EdgeProxyHost;
  /**
   * Filebeat beside the service, shipping every container's log (`hostShipperConfig`) into the log buffer.
   * @default - no shipper: logs stay in Cloud Logging
   */
  readonly shipper?: ContainerVmShipper;
}

/** Filebeat's configuration file, its non-secret variables and its secrets (the buffer's password) by variable. */
export interface ContainerVmShipper {
  readonly config: string;
  readonly env: Readonly<Record<string, string>>;
  /** Secret Manager secrets (`projects/<p>/secrets/<id>`) by environment variable; only Filebeat's container gets them. */
  readonly secrets: Readonly<Record<string, string>>;
}

/** Unit, container and directory names of the shipper on a container VM. */
export const SHIPPER_UNIT = "msa-filebeat";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ID = /^projects\/[a-z0-9-]+\/secrets\/[A-Za-z0-9_-]+$/;
const SERVICE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * The cloud-config a Container-Optimized OS VM boots with: a systemd unit that authenticates Docker
 * to Artifact Registry with the VM's service account, fetches the service's secrets from Secret
 * Manager (the token goes to curl on stdin, never on a command line) into /run, and runs the
 * container read-only, as a non-root user with every capability dropped, restarting it when it exits.
 */
export function containerVmUserData(options: ContainerVmOptions): string {
  checkOptions(options);
  const { service, image, port } = options;
  const etc = `/etc/msa/${service}`;
  const run = `/run/msa/${service}`;
  const files = Object.entries(options.files ?? {});
  const env = { ...options.env, ...Object.fromEntries(files.map(([key]) => [key, `/etc/msa/${key.toLowerCase()}`])) };
  const collector = options.collector;
  const dockerRun = [
    "/usr/bin/docker run --rm",
    `--name ${service}`,
    ...(collector ? [`--network ${HOST_COLLECTOR.network}`] : []),
    `--publish ${port}:${port}`,
    `--env-file ${etc}/config.env`,
    `--env-file ${run}/secrets.env`,
    ...files.map(([key]) => `--volume ${etc}/${key.toLowerCase()}:/etc/msa/${key.toLowerCase()}:ro`),
    "--read-only --tmpfs /tmp",
    `--user ${WORKLOAD_UID}:${WORKLOAD_UID}`,
    "--cap-drop ALL --security-opt no-new-privileges",
    // systemd turns $$ into $: bash reads the image the start fetched.
    options.release ? `"$$(cat ${run}/image)"` : image,
  ].join(" ");
  const unit = dockerUnit(`${service} container (msa-landing-zone)`, [
    // COS keeps / read-only; docker-credential-gcr writes its Docker config under HOME.
    "Environment=HOME=/home/msa",
    "ExecStartPre=/bin/mkdir -p /home/msa",
    `ExecStartPre=/usr/bin/docker-credential-gcr configure-docker --registries=${options.registryHosts.join(",")}`,
    `ExecStartPre=/bin/bash ${etc}/fetch-secrets.sh`,
    ...(collector ? [NETWORK_CREATE] : []),
    `ExecStartPre=-/usr/bin/docker rm -f ${service}`,
    options.release ? `ExecStart=/bin/bash -c 'exec ${dockerRun}'` : `ExecStart=${dockerRun}`,
    `ExecStop=/usr/bin/docker stop ${service}`,
  ]);
  const release = options.release ? { ...options.release, initial: image } : undefined;
  const config = {
    write_files: [
      { path: `${etc}/config.env`, permissions: "0644", owner: "root", content: Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join("") },
      ...files.map(([key, content]) => ({ path: `${etc}/${key.toLowerCase()}`, permissions: "0644", owner: "root", content })),
      { path: `${etc}/fetch-secrets.sh`, permissions: "0700", owner: "root", content: fetchSecretsScript(run, options.secrets, release) },
      { path: `/etc/systemd/system/${service}.service`, permissions: "0644", owner: "root", content: unit },
      ...(collector
        ? [
            { path: `${etc}/otel-collector.yaml`, permissions: "0644", owner: "root", content: collector.config },
            { path: "/etc/systemd/system/otel-collector.service", permissions: "0644", owner: "root", content: collectorUnit(`${etc}/otel-collector.yaml`, collector.image) },
          ]
        : []),
      ...(options.edgeProxy?.files ?? []).map((file) => ({ ...file, owner: "root" })),
    ],
    runcmd: [
      "systemctl daemon-reload",
      ...(collector ? ["systemctl start otel-collector.service"] : []),
      `systemctl start ${service}.service`,
      ...(options.edgeProxy ? [`systemctl start ${options.edgeProxy.unit}.service`] : []),
    ],
  };
  if (options.shipper) {
    config.write_files.push(...shipperFiles(options.shipper));
    config.runcmd.push(`systemctl start ${SHIPPER_UNIT}.service`);
  }
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/** A systemd unit running one container after Docker and the network, restarted whenever it exits. */
function dockerUnit(description: string, service: readonly string[]): string {
  return ["[Unit]", `Description=${description}`, "Wants=network-online.target", "After=network-online.target docker.service", "Requires=docker.service", "", "[Service]", ...service, "Restart=always", "RestartSec=5", "", "[Install]", "WantedBy=multi-user.target", ""].join("\n");
}

/** The app and collector units both create the shared network if it is missing (docker keeps it across reboots). */
const NETWORK_CREATE = `ExecStartPre=-/usr/bin/docker network create ${HOST_COLLECTOR.network}`;

/** The collector's unit: read-only, unprivileged (the image's own non-root user), memory-capped, on the service's network only. */
function collectorUnit(configFile: string, image: string): string {
  return dockerUnit("OpenTelemetry collector: the service's spans to Cloud Trace (msa-landing-zone)", [
    NETWORK_CREATE,
    `ExecStartPre=-/usr/bin/docker rm -f ${HOST_COLLECTOR.name}`,
    `ExecStart=/usr/bin/docker run --rm --name ${HOST_COLLECTOR.name} --network ${HOST_COLLECTOR.network} --read-only --memory 256m --cap-drop ALL --security-opt no-new-privileges --volume ${configFile}:${HOST_COLLECTOR.configPath}:ro ${image} --config=${HOST_COLLECTOR.configPath}`,
    `ExecStop=/usr/bin/docker stop ${HOST_COLLECTOR.name}`,
  ]);
}

/** Filebeat in its own unit and container: read-only, every capability dropped, root only to read Docker's root-owned log files. */
function shipperFiles(shipper: ContainerVmShipper): { path: string; permissions: string; owner: string; content: string }[] {
  const etc = `/etc/msa/${SHIPPER_UNIT}`;
  const run = `/run/msa/${SHIPPER_UNIT}`;
  const state = `/var/lib/${SHIPPER_UNIT}`;
  const dockerRun = filebeatDockerRun({ name: SHIPPER_UNIT, envFiles: [`${etc}/config.env`, `${run}/secrets.env`], configFile: `${etc}/filebeat.yml`, dataDirectory: state });
  const unit = dockerUnit("Filebeat: container logs to the log buffer (msa-landing-zone)", [
    `ExecStartPre=/bin/mkdir -p ${state}`,
    `ExecStartPre=/bin/bash ${etc}/fetch-secrets.sh`,
    `ExecStartPre=-/usr/bin/docker rm -f ${SHIPPER_UNIT}`,
    `ExecStart=${dockerRun}`,
    `ExecStop=/usr/bin/docker stop ${SHIPPER_UNIT}`,
  ]);
  return [
    { path: `${etc}/filebeat.yml`, permissions: "0644", owner: "root", content: shipper.config },
    { path: `${etc}/config.env`, permissions: "0644", owner: "root", content: Object.entries(shipper.env).map(([k, v]) => `${k}=${v}\n`).join("") },
    { path: `${etc}/fetch-secrets.sh`, permissions: "0700", owner: "root", content: fetchSecretsScript(run, shipper.secrets) },
    { path: `/etc/systemd/system/${SHIPPER_UNIT}.service`, permissions: "0644", owner: "root", content: unit },
  ];
}

/** Reads of one secret before the VM gives up; with the backoff below they span about two minutes. */
const FETCH_ATTEMPTS = 6;
/** Seconds added to the wait after each failed read (5, 10, ... 25). */
const FETCH_BACKOFF_SECONDS = 5;

function fetchSecretsScript(run: string, secrets: Readonly<Record<string, string>>, release?: { readonly secret: string; readonly repository: string; readonly initial: string }): string {
  return [
    "#!/bin/bash",
    "# Reads the service's secrets with the VM's service account into a file on tmpfs only root can read.",
    "set -euo pipefail",
    "umask 077",
    `mkdir -p ${run}`,
    `out=${run}/secrets.env`,
    ': > "$out.tmp"',
    ...(Object.keys(secrets).length > 0 || release
      ? [
          `token=$(curl -sSf -H 'Metadata-Flavor: Google' http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token | sed -E 's/.*"access_token" *: *"([^"]+)".*/\\1/')`,
          // A new VM's account may not read yet (IAM propagates in minutes): retry, then fail so the unit stops rather than start without the secret.
          "fetch() {",
          "  local attempt value",
          `  for attempt in $(seq 1 ${FETCH_ATTEMPTS}); do`,
          `    if value=$(printf 'Authorization: Bearer %s\\n' "$token" | curl -sSf -H @- "https://secretmanager.googleapis.com/v1/$1/versions/latest:access" | sed -nE 's/.*"data" *: *"([^"]+)".*/\\1/p' | base64 -d) && [ -n "$value" ]; then`,
          "      printf '%s' \"$value\"",
          "      return 0",
          "    fi",
          `    [ "$attempt" -lt ${FETCH_ATTEMPTS} ] && sleep $((attempt * ${FETCH_BACKOFF_SECONDS}))`,
          "  done",
          `  echo "fetch-secrets: cannot read $1 after ${FETCH_ATTEMPTS} attempts" >&2`,
          "  return 1",
          "}",
          // An assignment carries the fetch's status, so `set -e` stops here; inside printf's arguments a failure would pass unnoticed.
          ...Object.entries(secrets).flatMap(([key, id]) => [`value=$(fetch ${id})`, `printf '%s=%s\\n' ${key} "$value" >> "$out.tmp"`]),
        ]
      : []),
    ...(release
      ? [
          "# The released image: only the first one or a tag or digest of the service's own repository runs.",
          `image=$(fetch ${release.secret})`,
          `case "$image" in "${release.initial}"|"${release.repository}"@sha256:*|"${release.repository}":*) printf '%s' "$image" > ${run}/image ;; *) echo "Refusing image $image: not of ${release.repository}" >&2; exit 1 ;; esac`,
        ]
      : []),
    'mv "$out.tmp" "$out"',
    "",
  ].join("\n");
}

function checkOptions(options: ContainerVmOptions): void {
  if (!SERVICE.test(options.service)) throw new Error(`containerVmUserData service: "${options.service}" is not a DNS label. Fix: use lowercase letters, digits and '-'`);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new Error(`containerVmUserData port: ${options.port} is not a TCP port. Fix: use 1-65535`);
  if (/\s/.test(options.image) || options.image.length === 0) throw new Error(`containerVmUserData image: "${options.image}" is not an image reference. Fix: pass e.g. <region>-docker.pkg.dev/<project>/<repository>/<image>:<tag>`);
  if (options.registryHosts.length === 0) throw new Error(`containerVmUserData registryHosts: empty. Fix: pass the Artifact Registry host the image comes from`);
  const names = [...Object.keys(options.env), ...Object.keys(options.files ?? {}), ...Object.keys(options.secrets)];
  for (const name of names) if (!ENV_NAME.test(name)) throw new Error(`containerVmUserData: "${name}" is not an environment variable name. Fix: use letters, digits and '_'`);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice) throw new Error(`containerVmUserData: "${twice}" is given twice (env, files, secrets). Fix: give it once`);
  for (const [key, value] of Object.entries(options.env)) {
    if (/[\r\n]/.test(value)) throw new Error(`containerVmUserData env.${key}: a multi-line value cannot go into an env file. Fix: pass it in files`);
  }
  if (options.release && !SECRET_ID.test(options.release.secret)) {
    throw new Error(`containerVmUserData release.secret: "${options.release.secret}" is not a Secret Manager secret id. Fix: pass projects/<project>/secrets/<secret>`);
  }
  if (options.release && !/^[a-z0-9.-]+(\/[a-z0-9._-]+)+$/.test(options.release.repository)) {
    throw new Error(`containerVmUserData release.repository: "${options.release.repository}" is not an image repository. Fix: pass <region>-docker.pkg.dev/<project>/<repository>/<image>, without tag or digest`);
  }
  for (const [key, id] of Object.entries(options.secrets)) {
    if (!SECRET_ID.test(id)) throw new Error(`containerVmUserData secrets.${key}: "${id}" is not a Secret Manager secret id. Fix: pass projects/<project>/secrets/<secret>`);
  }
  if (options.shipper) {
    for (const name of [...Object.keys(options.shipper.env), ...Object.keys(options.shipper.secrets)]) {
      if (!ENV_NAME.test(name)) throw new Error(`containerVmUserData shipper: "${name}" is not an environment variable name. Fix: use letters, digits and '_'`);
    }
    for (const [key, value] of Object.entries(options.shipper.env)) {
      if (/[\r\n]/.test(value)) throw new Error(`containerVmUserData shipper.env.${key}: a multi-line value cannot go into an env file. Fix: pass a single-line value`);
    }
    for (const [key, id] of Object.entries(options.shipper.secrets)) {
      if (!SECRET_ID.test(id)) throw new Error(`containerVmUserData shipper.secrets.${key}: "${id}" is not a Secret Manager secret id. Fix: pass projects/<project>/secrets/<secret>`);
    }
  }
}
