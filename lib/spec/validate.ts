import { cidrsOverlap, parseCidr } from "../plan/cidr.js";
import { APP_ENGINE_PORT } from "../plan/gcp.js";
import type { SpecIssue } from "./errors.js";
import type { LandingZoneSpec } from "./types.js";

const REGION_PATTERN: Record<LandingZoneSpec["cloud"], { pattern: RegExp; example: string }> = {
  aws: { pattern: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, example: "ap-northeast-2" },
  gcp: { pattern: /^[a-z]+-[a-z]+\d$/, example: "asia-northeast3" },
  azure: { pattern: /^[a-z]+[a-z0-9]*$/, example: "koreacentral" },
  kubernetes: { pattern: /^[a-z0-9-]+$/, example: "local" },
};

const MAX_ZONES: Record<LandingZoneSpec["cloud"], number> = { aws: 6, gcp: 4, azure: 3, kubernetes: 6 };

/** Cross-field rules the schema cannot express. Returns every issue found, in spec order. */
export function checkSpecRules(spec: LandingZoneSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string, fix?: string) => issues.push(fix ? { path, message, fix } : { path, message });

  const region = REGION_PATTERN[spec.cloud];
  if (!region.pattern.test(spec.region)) {
    add("region", `"${spec.region}" is not a ${spec.cloud} region name`, `use a region such as "${region.example}"`);
  }

  checkNetwork(spec, add);
  if (spec.kubernetes !== undefined && spec.cloud !== "kubernetes") {
    add("kubernetes", `sets the add-ons of an existing cluster, but cloud is ${spec.cloud}`, "remove the kubernetes section, or set cloud: kubernetes");
  }

  const serviceNames = new Map<string, number>();
  spec.services.forEach((s, i) => {
    const first = serviceNames.get(s.name);
    if (first !== undefined) add(`services[${i}].name`, `"${s.name}" is already the name of services[${first}]`, "give every service a unique name");
    else serviceNames.set(s.name, i);
    if (s.replicas.min > s.replicas.max) {
      add(`services[${i}].replicas`, `min ${s.replicas.min} is above max ${s.replicas.max}`, "set min ≤ max");
    }
    const secrets = new Set<string>();
    s.secrets.forEach((secret, k) => {
      if (secrets.has(secret)) add(`services[${i}].secrets[${k}]`, `"${secret}" is listed twice`, "list each secret once");
      secrets.add(secret);
    });
  });

  if (spec.cloud === "gcp" && spec.tier === "paas") {
    const checkPort = (port: number, path: string) => {
      if (port !== APP_ENGINE_PORT) add(path, `${port}: App Engine flexible (gcp paas) sends requests only to port ${APP_ENGINE_PORT} of the container, so the version would never become ready`, `set port: ${APP_ENGINE_PORT} and have the service listen on it, or use tier: caas or iaas`);
    };
    spec.services.forEach((s, i) => checkPort(s.port, `services[${i}].port`));
    spec.bffs.forEach((b, i) => checkPort(b.port, `bffs[${i}].port`));
  }

  spec.bffs.forEach((b, i) => {
    if (serviceNames.has(b.name)) add(`bffs[${i}].name`, `"${b.name}" is also a service name`, "name BFFs after their channel, e.g. web-bff");
    if (spec.bffs.findIndex((o) => o.name === b.name) !== i) add(`bffs[${i}].name`, `"${b.name}" is listed twice`, "give every BFF a unique name");
  });

  const routes = new Map<string, string>();
  const claimRoute = (route: string, owner: string, path: string) => {
    const holder = routes.get(route);
    if (holder) add(path, `route "${route}" is already served by ${holder}`, "give each service and BFF its own route prefix");
    else routes.set(route, owner);
  };
  spec.services.forEach((s, i) => s.expose && claimRoute(s.path, `service "${s.name}"`, `services[${i}].path`));
  spec.bffs.forEach((b, i) => b.routes.forEach((r, k) => claimRoute(r, `BFF "${b.name}"`, `bffs[${i}].routes[${k}]`)));

  const published = new Set(spec.services.flatMap((s) => s.publishes));
  spec.services.forEach((s, i) => {
    s.subscribes.forEach((event, k) => {
      if (!published.has(event)) {
        add(`services[${i}].subscribes[${k}]`, `event "${event}" is published by no service`, `add "${event}" to the publishes of the service that owns it, or remove the subscription`);
      }
      if (s.publishes.includes(event)) {
        add(`services[${i}].subscribes[${k}]`, `"${s.name}" subscribes to its own event "${event}"`, "handle the change inside the service instead of through the broker");
      }
    });
    s.readModel?.from.forEach((source, k) => {
      if (source === s.name) add(`services[${i}].readModel.from[${k}]`, `a read model cannot project its own service "${source}"`, "list the services whose events it projects");
      else if (!serviceNames.has(source)) add(`services[${i}].readModel.from[${k}]`, `"${source}" is not a service`, `use one of: ${[...serviceNames.keys()].join(", ")}`);
      else if (spec.services[serviceNames.get(source)!]!.publishes.length === 0) {
        add(`services[${i}].readModel.from[${k}]`, `"${source}" publishes no events, so there is nothing to project`, `add the change events of "${source}" to its publishes, or remove it from readModel.from`);
      }
    });
  });

  spec.sagas.forEach((saga, i) => {
    if (spec.sagas.findIndex((o) => o.name === saga.name) !== i) add(`sagas[${i}].name`, `"${saga.name}" is listed twice`, "give every saga a unique name");
    saga.steps.forEach((step, k) => {
      if (!serviceNames.has(step.service)) {
        add(`sagas[${i}].steps[${k}].service`, `"${step.service}" is not a service`, `use one of: ${[...serviceNames.keys()].join(", ") || "(no services declared)"}`);
      }
      if (saga.steps.findIndex((o) => o.service === step.service && o.action === step.action) !== k) {
        add(`sagas[${i}].steps[${k}]`, `"${step.service}.${step.action}" is already a step of saga "${saga.name}"`, "give each step its own action");
      }
      if (step.compensate !== undefined && step.compensate === step.action) {
        add(`sagas[${i}].steps[${k}].compensate`, `the compensation of "${step.action}" is "${step.action}" itself`, "name the action that undoes it (e.g. cancel, refund)");
      }
      const last = k === saga.steps.length - 1;
      if (saga.mode === "orchestration" && !last && !step.compensate) {
        add(`sagas[${i}].steps[${k}].compensate`, `step "${step.action}" on "${step.service}" has no compensating action`, "name the action that undoes it (e.g. cancel, refund); only the last step may omit it");
      }
    });
  });

  if (spec.mesh.kind === "istio" && spec.tier !== "caas" && spec.cloud !== "kubernetes") {
    add("mesh.kind", `istio needs Kubernetes, but tier is "${spec.tier}"`, 'set tier: caas, or mesh.kind: none');
  }

  if (spec.auth.service !== undefined && !serviceNames.has(spec.auth.service)) {
    add("auth.service", `"${spec.auth.service}" is not a service`, "declare the auth service under services, or remove auth.service");
  }
  if (spec.gateway.auth === "authorizer" && spec.auth.service === undefined) {
    add("gateway.auth", "authorizer delegates to a dedicated auth service, but auth.service is not set", "set auth.service to the name of your auth service");
  }
  if (spec.gateway.auth === "jwt" && spec.auth.tokens === "none") {
    add("gateway.auth", "jwt validation needs client tokens, but auth.tokens is none", "set auth.tokens: jwt, or gateway.auth: none");
  }
  checkAuthProvider(spec, add);
  checkConfigValues(spec, add);

  if (spec.frontends && spec.bffs.length > 0 && !spec.bffs.some((b) => b.name === spec.frontends!.shell || b.channel === spec.frontends!.shell)) {
    add("frontends.shell", `"${spec.frontends.shell}" matches no BFF name or channel`, `use one of: ${spec.bffs.map((b) => b.channel).join(", ")}`);
  }
  spec.frontends?.fragments.forEach((f, k) => {
    if (f === spec.frontends!.shell || spec.frontends!.fragments.indexOf(f) !== k) {
      add(`frontends.fragments[${k}]`, `"${f}" is listed twice (fragments and the shell need unique names)`, "rename or remove the duplicate");
    }
  });

  checkDelivery(spec, add);
  const pubsub = spec.cloud === "gcp" && (spec.messaging.broker === "auto" || spec.messaging.broker === "pubsub");
  if (pubsub && (spec.messaging.maxReceiveCount < 5 || spec.messaging.maxReceiveCount > 100)) {
    add("messaging.maxReceiveCount", `Pub/Sub dead-letters after 5 to 100 delivery attempts, got ${spec.messaging.maxReceiveCount}`, "use a value from 5 to 100");
  }
  const snsSqs = spec.cloud === "aws" && (spec.messaging.broker === "auto" || spec.messaging.broker === "sns-sqs");
  if (spec.messaging.topicStacks > 1 && !snsSqs) {
    add(
      "messaging.topicStacks",
      `is ${spec.messaging.topicStacks}, but only AWS sns-sqs has a stack per topic to spread (${spec.cloud} ${spec.messaging.broker} has ${spec.messaging.broker === "eventbridge" ? "one bus and no per-event resources" : "no per-event stack resources"})`,
      "remove messaging.topicStacks (or set it to 1), or use cloud aws with messaging.broker sns-sqs",
    );
  }

  if (spec.logging.buffer === "redis" && spec.logging.stack === "none") {
    add("logging.buffer", "a log buffer needs a log stack, but logging.stack is none", "set logging.stack: elk, or logging.buffer: none");
  }

  if (spec.logging.buffer === "redis" && spec.logging.shipper === "fluent-bit") {
    add("logging.shipper", "Fluent Bit has no Redis output, so it cannot feed the Redis buffer", "use shipper: filebeat, or buffer: none");
  }

  return issues;
}

/** Source repositories and micro-frontend routes: what pipelines and the CDN need to be unambiguous. */
function checkDelivery(spec: LandingZoneSpec, add: (path: string, message: string, fix?: string) => void): void {
  const repositories = new Map<string, string>();
  const claimRepository = (repository: string, owner: string, path: string) => {
    const holder = repositories.get(repository.toLowerCase());
    if (holder) add(path, `repository "${repository}" is already the source of ${holder}`, "give every service and BFF its own repository");
    else repositories.set(repository.toLowerCase(), owner);
  };
  // Each pipeline builds its repository's root, so two pipelines cannot share one.
  if (spec.pipelines.perService) {
    spec.services.forEach((s, i) => claimRepository(s.repository, `service "${s.name}"`, `services[${i}].repository`));
    spec.bffs.forEach((b, i) => claimRepository(b.repository, `BFF "${b.name}"`, `bffs[${i}].repository`));
  }

  const devOps = spec.pipelines.azureDevOps;
  if (devOps && spec.cloud !== "azure") add("pipelines.azureDevOps", `Azure DevOps pipelines deploy to Azure, not ${spec.cloud}`, "remove pipelines.azureDevOps");
  if (devOps && spec.cloud === "azure") {
    const names = [...spec.services, ...spec.bffs].map((s) => s.name);
    for (const name of Object.keys(devOps.subjects)) {
      if (!names.includes(name)) add(`pipelines.azureDevOps.subjects.${name}`, `"${name}" is no service or BFF (${names.join(", ")})`, "key each subject by a service or BFF name");
    }
    // Entra-issued subjects embed the service connection's id, so they cannot be derived from names.
    if (devOps.issuer.startsWith("https://login.microsoftonline.com/") && spec.pipelines.perService) {
      for (const name of names.filter((n) => devOps.subjects[n] === undefined)) {
        add(`pipelines.azureDevOps.subjects.${name}`, `issuer "${devOps.issuer}" issues subjects that embed the service connection id, and ${name} has none`, `copy the subject Azure DevOps shows for ${name}'s service connection into pipelines.azureDevOps.subjects.${name}`);
      }
    }
  }

  const frontends = spec.frontends;
  if (!frontends) return;
  if (spec.cloud !== "aws" && frontends.certificateArn !== undefined) {
    add("frontends.certificateArn", `an ACM certificate is for AWS only; ${spec.cloud} issues a managed certificate for domainName`, "remove certificateArn and keep domainName");
  } else if (spec.cloud === "aws" && (frontends.domainName === undefined) !== (frontends.certificateArn === undefined)) {
    add(frontends.domainName ? "frontends.certificateArn" : "frontends.domainName", "domainName and certificateArn go together (one is undefined)", "set both, or neither to use the CDN's own domain");
  }
  const routePrefixes = new Set(spec.bffs.flatMap((b) => b.routes).map((r) => r.split("/")[1]));
  frontends.fragments.forEach((f, k) => {
    if (routePrefixes.has(f)) add(`frontends.fragments[${k}]`, `fragment "${f}" would be served at /${f}/, which a BFF route already uses`, "rename the fragment or the BFF route");
  });
}

function checkNetwork(spec: LandingZoneSpec, add: (path: string, message: string, fix?: string) => void): void {
  const { network } = spec;
  const parsed: Record<string, ReturnType<typeof parseCidr>> = {};
  for (const key of ["cidr", "podsCidr", "servicesCidr"] as const) {
    try {
      parsed[key] = parseCidr(network[key]);
    } catch (error) {
      add(`network.${key}`, (error as Error).message, "write the network address, e.g. 10.0.0.0/16");
    }
  }
  const vpc = parsed.cidr;
  if (vpc && (vpc.prefix < 16 || vpc.prefix > 24)) {
    add("network.cidr", `/${vpc.prefix} is outside /16–/24`, "use a prefix between /16 (65,536 addresses) and /24");
  }
  // GCP peers a quarter of the range with managed services, and they need at least a /24.
  if (vpc && spec.cloud === "gcp" && vpc.prefix > 22) {
    add("network.cidr", `/${vpc.prefix} is too small on gcp: private service access (Memorystore, Cloud SQL) needs a /24 quarter`, "use a prefix between /16 and /22");
  }
  const pairs = [
    ["cidr", "podsCidr"],
    ["cidr", "servicesCidr"],
    ["podsCidr", "servicesCidr"],
  ] as const;
  for (const [a, b] of pairs) {
    const x = parsed[a];
    const y = parsed[b];
    if (x && y && cidrsOverlap(x, y)) add(`network.${b}`, `${network[b]} overlaps network.${a} ${network[a]}`, "choose ranges that do not overlap");
  }
  const maxZones = MAX_ZONES[spec.cloud];
  if (network.zones > maxZones) add("network.zones", `${spec.cloud} offers at most ${maxZones} zones, got ${network.zones}`, `use ${maxZones} or fewer`);
  if (network.availabilityZones.length !== network.zones) {
    add("network.availabilityZones", `lists ${network.availabilityZones.length} zones but network.zones is ${network.zones}`, "list exactly network.zones zone names, or drop one of the two keys");
  }
  if (new Set(network.availabilityZones).size !== network.availabilityZones.length) {
    add("network.availabilityZones", "lists a zone twice", "list each zone once");
  }
  if (network.natGateways > network.zones) {
    add("network.natGateways", `${network.natGateways} NAT gateways for ${network.zones} zones`, "use at most one NAT gateway per zone");
  }
  if (spec.cloud === "aws" && network.zones < 2) {
    add("network.zones", "AWS needs subnets in at least 2 zones: an EKS cluster, a load balancer and a database subnet group each refuse a single zone", "set network.zones: 2 or more");
  } else if (spec.environment === "prod" && network.zones < 2 && spec.cloud !== "kubernetes") {
    add("network.zones", "prod needs at least 2 zones to survive a zone failure", "set network.zones: 2 or more, or environment: dev");
  }
  if (spec.environment === "prod" && network.natGateways === 0 && spec.cloud === "aws") {
    add("network.natGateways", "prod private subnets need outbound access through NAT", "set network.natGateways to 1 or more");
  }
}

/** Where client tokens come from, and how the gateway reaches a delegated auth service. */
function checkAuthProvider(spec: LandingZoneSpec, add: (path: string, message: string, fix?: string) => void): void {
  const { auth, gateway, cloud } = spec;
  if (auth.jwksUri !== undefined && auth.issuer === undefined) {
    add("auth.jwksUri", "names the keys of an issuer, but auth.issuer is not set", "set auth.issuer to the token issuer, or remove auth.jwksUri");
  }
  if (auth.audiences.length > 0 && auth.issuer === undefined) {
    add("auth.audiences", "restricts the tokens of an external issuer, but auth.issuer is not set", "set auth.issuer, or remove auth.audiences (the user pool's client is the audience)");
  }
  if (gateway.auth === "jwt" && cloud === "kubernetes" && auth.issuer === undefined) {
    add("auth.issuer", "an existing cluster has no identity provider of its own, so Istio needs the issuer whose tokens it validates", "set auth.issuer (and auth.jwksUri unless the issuer serves OpenID discovery), or gateway.auth: none");
  }
  if (gateway.auth === "jwt" && cloud === "azure" && auth.issuer === undefined) {
    add(
      "auth.issuer",
      "the landing zone cannot register an Entra ID application, so the gateway's checks (Istio on AKS, the edge proxies on VMs and App Service) need the issuer whose tokens they validate",
      "set auth.issuer (e.g. https://login.microsoftonline.com/<tenant-id>/v2.0) and auth.audiences (your app registration's client id), or gateway.auth: none",
    );
  }
  if (gateway.auth !== "none" && cloud === "kubernetes" && spec.mesh.kind !== "istio") {
    add("gateway.auth", `on an existing cluster the services' Istio sidecars enforce gateway.auth "${gateway.auth}", but mesh.kind is none`, "set mesh.kind: istio, or gateway.auth: none");
  }
  if (gateway.auth === "jwt" && cloud === "aws" && auth.issuer !== undefined && auth.audiences.length === 0) {
    add("auth.audiences", "an API Gateway JWT authorizer accepts only listed audiences, and none is given for auth.issuer", "list the aud (or client_id) values your issuer puts in the tokens");
  }
  if (gateway.auth === "authorizer" && cloud === "aws" && auth.service !== undefined) {
    const index = spec.services.findIndex((s) => s.name === auth.service);
    if (index >= 0 && !spec.services[index]!.expose) {
      add(
        `services[${index}].expose`,
        `the gateway's authorizer reaches the auth service "${auth.service}" through the gateway's internal load balancer, but the service is not exposed`,
        "set expose: true on the auth service (its own routes stay open so clients can sign in)",
      );
    }
  }
}

const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;
/** SSM Parameter Store's standard tier holds at most 4 KB per value. */
const MAX_PARAMETER_VALUE = 4096;

/** Configuration keys become environment variables, ConfigMap keys and parameter names alike. */
function checkConfigValues(spec: LandingZoneSpec, add: (path: string, message: string, fix?: string) => void): void {
  const check = (values: Readonly<Record<string, string>>, at: string) => {
    for (const [key, value] of Object.entries(values)) {
      if (!CONFIG_KEY.test(key)) {
        add(`${at}.${key}`, `"${key}" cannot be an environment variable, ConfigMap key and parameter name at once`, "use letters, digits, '_', '.' and '-', starting with a letter or '_' (at most 100 characters)");
      }
      if (spec.cloud === "aws" && (value.length === 0 || value.length > MAX_PARAMETER_VALUE)) {
        add(`${at}.${key}`, `a Parameter Store value holds 1 to ${MAX_PARAMETER_VALUE} characters, got ${value.length}`, value.length === 0 ? "give it a value, or remove the key" : "keep large configuration in a file or bucket and put its location here");
      }
    }
  };
  check(spec.config.values, "config.values");
  spec.services.forEach((s, i) => check(s.config, `services[${i}].config`));
}
