import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  PATH_LISTENER_OPTION,
  beanstalkAppVariables,
  beanstalkBundle,
  beanstalkOptionSettings,
  hostedServiceStatements,
  hostShipperConfig,
  logstashHostUserData,
  vmUserData,
  type BeanstalkRuntime,
} from "../../lib/plan/host-bootstrap.js";
import { BEANSTALK_ENVIRONMENT_METRICS, cloudWatchMonitors, hostedServiceNames, PlanError, planLandingZone } from "../../lib/plan/index.js";
import { rollingMinInService } from "../../lib/plan/hosts.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import type { LandingZoneInput } from "../../lib/spec/index.js";

const shop = (tier: "iaas" | "caas" | "paas", environment: "dev" | "prod" = "prod"): LandingZoneInput => ({
  name: "shop",
  region: "ap-northeast-2",
  tier,
  environment,
  bffs: ["web"],
  gateway: { auth: "none" },
  tracing: { backend: "none" },
  monitoring: { dashboards: false, alarms: false },
  pipelines: { perService: false },
  config: { values: { LOG_LEVEL: "info" } },
  services: [
    { name: "orders", publishes: ["order-placed"], secrets: ["SIGNING_KEY"], config: { CURRENCY: "KRW" } },
    { name: "payments", port: 9090, subscribes: ["order-placed"], replicas: { min: 3, max: 5 } },
  ],
});

describe("planHosts", () => {
  it("plans Cloud Map DNS discovery, the VM fleet and Logstash hosts for iaas", () => {
    const plan = planLandingZone(shop("iaas"));
    expect(plan.hosts!.discovery).toEqual({
      implementation: "cloud-map",
      kind: "private-dns",
      namespace: "prod.shop.internal",
      ttlSeconds: 10,
      services: ["orders", "payments", "web"].map((name) => ({ name, hostname: `${name}.prod.shop.internal` })),
    });
    expect(plan.hosts!.fleet).toMatchObject({
      architecture: "x86_64",
      amiParameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
      metadataHopLimit: 2,
      terminationHook: { name: "msa-deregister", heartbeatSeconds: 120 },
    });
    expect(plan.hosts!.logstash).toMatchObject({ count: 2, instanceType: "m6i.large" });
    expect(plan.vms).toEqual({ instanceType: "m6i.large", rootVolumeGiB: 30 });
  });

  it("plans an HTTP namespace and no VM fleet for paas, and nothing for caas", () => {
    const paas = planLandingZone(shop("paas", "dev"));
    expect(paas.hosts!.discovery!.kind).toBe("http");
    expect(paas.hosts!.fleet).toBeUndefined();
    expect(paas.hosts!.logstash).toMatchObject({ count: 1, instanceType: "t3.medium" });
    expect(paas.paas!.platform).toMatch(/Amazon Linux 2023 .* running Docker/);
    expect(planLandingZone({ ...shop("caas"), mesh: { kind: "none" } }).hosts).toBeUndefined();
  });

  it("refuses what hosts cannot carry, naming the key and the fix", () => {
    expect(() => planLandingZone({ ...shop("iaas"), logging: { buffer: "none" } })).toThrow(PlanError);
    expect(() => planLandingZone({ ...shop("iaas"), logging: { buffer: "none" } })).toThrow(/logging.buffer "none" on aws\/iaas.*Fix: set logging.buffer: redis/);
    expect(() => planLandingZone({ ...shop("paas"), bffs: [], services: [{ name: "orders", expose: false }] })).toThrow(/no service is exposed, but on aws\/paas every Beanstalk environment attaches to a gateway load balancer\. Fix/);
    const manyRoutes = { ...shop("paas"), bffs: [{ name: "web", routes: Array.from({ length: 90 }, (_, i) => `/web${i}`) }] };
    expect(() => planLandingZone(manyRoutes)).toThrow(/bffs\[0\]\.routes: 90 routes, but on aws\/paas a BFF's environment and all its routes share one load balancer.*Fix: give web at most 89 routes/);
    const badKey = { ...shop("paas"), services: [{ name: "orders", config: { "log.level": "info" } }] };
    expect(() => planLandingZone(badKey)).toThrow(/services\[0\]\.config: key "log.level" is not an environment variable name on aws\/paas\. Fix/);
  });
});

describe("hosted service permissions", () => {
  it("grant exactly the service's image, secrets, config, topics, registry entry and termination hook", () => {
    const plan = planLandingZone(shop("iaas"));
    const orders = plan.services[0]!;
    const statements = hostedServiceStatements(plan, orders, {
      partition: "aws",
      region: "ap-northeast-2",
      account: "111111111111",
      repositoryName: orders.repository,
      secretArns: ["arn:secret:signing"],
      topicArns: ["arn:topic:order-placed"],
      queueArns: [],
      brokerKeyArn: "arn:key",
      logBufferSecretArn: "arn:secret:buffer",
      registry: { serviceArn: "arn:aws:servicediscovery:ap-northeast-2:111111111111:service/srv-1", hostedZoneId: "Z123" },
      vm: true,
    });
    const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
    expect(Object.keys(bySid)).toEqual(["PullToken", "PullImage", "ReadSecrets", "ReadConfig", "Publish", "BrokerKey", "Register", "RegisterRecords", "CompleteTerminationHook", "Metrics", "BootLog", "DescribeTags"]);
    expect(bySid["PullImage"]!.resources).toEqual(["arn:aws:ecr:ap-northeast-2:111111111111:repository/shop-orders"]);
    expect(bySid["ReadSecrets"]!.resources).toEqual(["arn:secret:signing", "arn:secret:buffer"]);
    expect(bySid["ReadConfig"]).toMatchObject({ actions: ["ssm:GetParameters", "ssm:GetParametersByPath"], resources: ["arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders/*"] });
    expect(bySid["BrokerKey"]!.actions).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(bySid["Register"]).toEqual({
      sid: "Register",
      actions: ["servicediscovery:RegisterInstance", "servicediscovery:DeregisterInstance"],
      resources: ["arn:aws:servicediscovery:ap-northeast-2:111111111111:service/srv-1"],
    });
    expect(bySid["RegisterRecords"]).toMatchObject({
      resources: ["arn:aws:route53:::hostedzone/Z123"],
      condition: { "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["orders.prod.shop.internal"] } },
    });
    expect(bySid["CompleteTerminationHook"]!.resources).toEqual(["arn:aws:autoscaling:ap-northeast-2:111111111111:autoScalingGroup:*:autoScalingGroupName/shop-prod-orders"]);
    expect(bySid["Metrics"]!.condition).toEqual({ StringEquals: { "cloudwatch:namespace": "MSA/shop/prod" } });
    // Only the token request and tag and metric reads, which take no resource, use "*".
    expect(statements.filter((s) => s.resources.includes("*")).map((s) => s.sid)).toEqual(["PullToken", "Metrics", "DescribeTags"]);
  });
});

describe("vmUserData", () => {
  const plan = planLandingZone(shop("iaas"));
  const orders = plan.services[0]!;
  const runtime = {
    region: "ap-northeast-2",
    image: "111111111111.dkr.ecr.ap-northeast-2.amazonaws.com/shop-orders:1.0.0",
    discoveryServiceId: "srv-orders",
    env: { TOPIC_ORDER_PLACED_ARN: "arn:aws:sns:ap-northeast-2:111111111111:order-placed" },
    secretArns: { SIGNING_KEY: "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:signing" },
    logBuffer: { host: "master.buffer.cache.amazonaws.com", port: 6379, secretArn: "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:buffer" },
    readyCommand: "/opt/aws/bin/cfn-signal -e 0",
  };
  const script = vmUserData(plan, orders, runtime);

  it("runs the image as a unit with its config path and secrets fetched at boot, never embedded", () => {
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("dnf install -y docker amazon-cloudwatch-agent aws-cfn-bootstrap");
    expect(script).toContain(`IMAGE='${runtime.image}'`);
    expect(script).toContain("--path '/msa/shop/prod/config/orders/'");
    expect(script).toContain(`--secret-id '${runtime.secretArns.SIGNING_KEY}'`);
    expect(script).toContain("TOPIC_ORDER_PLACED_ARN=arn:aws:sns");
    expect(script).not.toContain("KRW");
    expect(script).toContain("--cap-drop ALL");
  });

  it("registers at start, deregisters at stop and on the termination hook, then signals readiness", () => {
    expect(script).toContain("ExecStart=/usr/local/bin/msa-registry register");
    expect(script).toContain("ExecStop=/usr/local/bin/msa-registry deregister");
    expect(script).toContain("SERVICE_ID='srv-orders'");
    expect(script).toContain("autoscaling/target-lifecycle-state");
    expect(script).toContain("complete-lifecycle-action");
    expect(script).toContain("HOOK='msa-deregister'");
    expect(script).toContain("systemctl enable --now msa-app msa-registry msa-lifecycle msa-filebeat");
    expect(script.trimEnd().endsWith("/opt/aws/bin/cfn-signal -e 0")).toBe(true);
  });

  it("ships container logs into the buffer and changes when the configuration keys change", () => {
    expect(script).toContain("LOG_BUFFER_HOST=master.buffer.cache.amazonaws.com");
    const changed = planLandingZone({ ...shop("iaas"), services: [{ ...shop("iaas").services![0]!, config: { CURRENCY: "USD", REGION_CODE: "kr" } }, shop("iaas").services![1]!] });
    expect(vmUserData(changed, changed.services[0]!, runtime)).not.toBe(script);
    expect(() => vmUserData(plan, orders, { ...runtime, image: "evil'; rm -rf /" })).toThrow(/orders.IMAGE.*quote or a line break.*Fix/);
  });

  it("is refused outside iaas", () => {
    const paas = planLandingZone(shop("paas"));
    expect(() => vmUserData(paas, paas.services[0]!, runtime)).toThrow(/plan.hosts.fleet is undefined because tier is "paas"/);
  });
});

describe("Beanstalk environment", () => {
  const plan = planLandingZone(shop("paas"));
  const payments = plan.services[1]!;
  const runtime: BeanstalkRuntime = {
    vpcId: "vpc-1",
    privateSubnetIds: "subnet-a,subnet-b",
    sharedLoadBalancerArn: "arn:lb",
    pathListenerArn: "arn:lb/paths",
    loadBalancerSecurityGroupId: "sg-lb",
    workloadSecurityGroupId: "sg-workload",
    instanceProfileName: "profile",
    serviceRoleArn: "arn:role",
    image: "registry/shop-payments:latest",
    env: { QUEUE_PAYMENTS_ORDER_PLACED_ARN: "arn:queue" },
    secretArns: {},
    configParameterArns: { LOG_LEVEL: "arn:parameter/log-level" },
    logBuffer: { host: "buffer", port: 6379, secretArn: "arn:buffer-secret" },
  };
  const settings = beanstalkOptionSettings(plan, payments, runtime);
  const value = (namespace: string, optionName: string) => settings.find((s) => s.namespace === namespace && s.optionName === optionName)?.value;

  it("attaches to the gateway's shared internal load balancer in the private subnets", () => {
    expect(value("aws:elasticbeanstalk:environment", "LoadBalancerIsShared")).toBe("true");
    expect(value("aws:elbv2:loadbalancer", "SharedLoadBalancer")).toBe("arn:lb");
    expect(value("aws:ec2:vpc", "Subnets")).toBe("subnet-a,subnet-b");
    expect(value("aws:ec2:vpc", "AssociatePublicIpAddress")).toBe("false");
    expect(value("aws:autoscaling:launchconfiguration", "DisableIMDSv1")).toBe("true");
    expect(value("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath")).toBe("/health");
    expect([value("aws:autoscaling:asg", "MinSize"), value("aws:autoscaling:asg", "MaxSize")]).toEqual(["3", "5"]);
  });

  it("names the path listener to the bundle's rules, and insists on it only for services with routes", () => {
    expect(value(PATH_LISTENER_OPTION.namespace, PATH_LISTENER_OPTION.optionName)).toBe("arn:lb/paths");
    const { pathListenerArn: _, ...withoutListener } = runtime;
    expect(() => beanstalkOptionSettings(plan, payments, withoutListener)).toThrow(/payments has gateway routes, but runtime\.pathListenerArn is undefined\. Fix: pass the path listener of load balancer 0/);
    const hidden = planLandingZone({ ...shop("paas"), services: [shop("paas").services![0]!, { name: "payments", expose: false }] });
    const unexposed = beanstalkOptionSettings(hidden, hidden.services[1]!, { ...withoutListener, env: {}, configParameterArns: { LOG_LEVEL: "p" } });
    expect(unexposed.some((o) => o.optionName === PATH_LISTENER_OPTION.optionName)).toBe(false);
    expect(Object.keys(beanstalkBundle(hidden, hidden.services[1]!, { logBuffer: false }))).not.toContain(".ebextensions/gateway-routes.config");
  });

  it("adds the service's path rules to the path listener from its own bundle, forwarding to its environment", () => {
    const multi = planLandingZone({ ...shop("paas"), bffs: [{ name: "web", routes: ["/web", "/api/web"] }] });
    const web = multi.services.find((s) => s.name === "web")!;
    const config = parse(beanstalkBundle(multi, web, { logBuffer: false })[".ebextensions/gateway-routes.config"]!) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    // orders and payments hold priorities 1 and 2; the BFF's two routes follow on the same load balancer.
    expect(Object.keys(config.Resources)).toEqual(["MsaGatewayRule3", "MsaGatewayRule4"]);
    expect(config.Resources["MsaGatewayRule4"]).toEqual({
      Type: "AWS::ElasticLoadBalancingV2::ListenerRule",
      Properties: {
        ListenerArn: { "Fn::GetOptionSetting": { Namespace: "aws:elasticbeanstalk:customoption", OptionName: "GatewayPathListenerArn" } },
        Priority: 4,
        Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/api/web", "/api/web/*"] } }],
        Actions: [{ Type: "forward", TargetGroupArn: { Ref: "AWSEBV2LoadBalancerTargetGroup" } }],
      },
    });
  });

  it("turns on enhanced health, managed platform updates and log streaming", () => {
    expect(value("aws:elasticbeanstalk:healthreporting:system", "SystemType")).toBe("enhanced");
    expect(value("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")).toBe("true");
    expect(value("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel")).toBe("minor");
    expect(value("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs")).toBe("true");
    expect(value("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays")).toBe("365");
  });

  it("feeds configuration from Parameter Store and the buffer token from Secrets Manager, never as plain values", () => {
    expect(value("aws:elasticbeanstalk:application:environmentsecrets", "LOG_LEVEL")).toBe("arn:parameter/log-level");
    expect(value("aws:elasticbeanstalk:application:environmentsecrets", "REDIS_PASSWORD")).toBe("arn:buffer-secret");
    expect(value("aws:elasticbeanstalk:application:environment", "LOG_LEVEL")).toBeUndefined();
    expect(value("aws:elasticbeanstalk:application:environment", "PORT")).toBe("9090");
    expect(() => beanstalkOptionSettings(plan, payments, { ...runtime, configParameterArns: {} })).toThrow(/configParameterArns\["LOG_LEVEL"\] is undefined/);
  });

  it("bundles a compose file with the service's own variables and Filebeat beside it", () => {
    const bundle = beanstalkBundle(plan, payments, { logBuffer: true });
    const compose = parse(bundle["docker-compose.yml"]!) as { services: Record<string, { ports?: string[]; environment: Record<string, string> }> };
    expect(compose.services["app"]!.ports).toEqual(["80:9090"]);
    expect(Object.keys(compose.services["app"]!.environment).sort()).toEqual(["LOG_LEVEL", "PORT", "QUEUE_PAYMENTS_ORDER_PLACED_ARN", "SERVICE_DISCOVERY_NAMESPACE", "SERVICE_NAME"]);
    expect(compose.services["filebeat"]!.environment).toHaveProperty("REDIS_PASSWORD", "${REDIS_PASSWORD}");
    expect(Object.keys(beanstalkBundle(plan, payments, { logBuffer: false })).sort()).toEqual([".ebextensions/autoscaling.config", ".ebextensions/ecr-login.config", ".ebextensions/gateway-routes.config", "docker-compose.yml"]);
    expect(hostedServiceNames(plan, payments)).toMatchObject({ environment: "shop-prod-payments", discoveryService: "payments" });
  });
});

describe("configuration reads on VMs", () => {
  // Without landing-zone values, only orders has configuration of its own.
  const plan = planLandingZone({ ...shop("iaas"), config: { values: {} } });
  const [orders, payments] = [plan.services[0]!, plan.services[1]!];
  const grants = { partition: "aws", region: "ap-northeast-2", account: "111111111111", secretArns: [], topicArns: [], queueArns: [], vm: true };
  const runtime = { region: "ap-northeast-2", image: "registry/shop:1", env: {}, secretArns: {} };

  it("reads no parameter path, and may read none, for a service without configuration", () => {
    expect(payments.config).toEqual({});
    expect(vmUserData(plan, payments, runtime)).not.toContain("get-parameters-by-path");
    const actions = hostedServiceStatements(plan, payments, grants).flatMap((s) => s.actions);
    expect(actions.filter((a) => a.startsWith("ssm:"))).toEqual([]);
  });

  it("reads its own path with a grant on exactly that path for a service with configuration", () => {
    expect(vmUserData(plan, orders, runtime)).toContain("aws ssm get-parameters-by-path --region 'ap-northeast-2' --path '/msa/shop/prod/config/orders/' --recursive");
    expect(hostedServiceStatements(plan, orders, grants).find((s) => s.sid === "ReadConfig")).toEqual({
      sid: "ReadConfig",
      actions: ["ssm:GetParameters", "ssm:GetParametersByPath"],
      resources: ["arn:aws:ssm:ap-northeast-2:111111111111:parameter/msa/shop/prod/config/orders/*"],
    });
  });
});

describe("secret reads at boot", () => {
  const plan = planLandingZone(shop("iaas"));
  const orders = plan.services[0]!;
  const script = vmUserData(plan, orders, {
    region: "ap-northeast-2",
    image: "registry/shop-orders:1",
    releaseParameter: "/msa/shop/prod/release/orders",
    env: {},
    secretArns: { SIGNING_KEY: "arn:secret:signing" },
    logBuffer: { host: "buffer", port: 6379, secretArn: "arn:secret:buffer" },
    sessionStore: { endpoint: "sessions", port: 6379, authTokenSecretArn: "arn:secret:sessions" },
  });
  const reads = script.split("\n").filter((line) => line.startsWith('value="$(aws '));
  /** Runs the script's reads under its own shell options, with an `aws` that prints `output` or fails, writing into a scratch directory. */
  const runReads = (fragment: readonly string[], aws: string) => {
    const dir = mkdtempSync(join(tmpdir(), "msa-reads-"));
    writeFileSync(join(dir, "aws"), `#!/bin/sh\n${aws}\n`, { mode: 0o755 });
    const body = ["set -euo pipefail", ...fragment.map((line) => line.replaceAll(/\/etc\/(msa|logstash)\//g, `${dir}/`))].join("\n");
    const run = spawnSync("bash", ["-c", body], { env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` }, encoding: "utf8" });
    const file = (name: string) => {
      try {
        return readFileSync(join(dir, name), "utf8");
      } catch {
        return "";
      }
    };
    return { status: run.status, file };
  };

  it("assigns every fetched secret and the released image before printing it", () => {
    expect(reads.map((line) => line.match(/printf '(\w+)=/)?.[1])).toEqual(["IMAGE", "SIGNING_KEY", "SESSION_STORE_PASSWORD", "REDIS_PASSWORD"]);
    expect(script).not.toMatch(/printf '[A-Z_]+=%[sq]\\n' "\$\(/);
  });

  it("stops the boot when a read fails, instead of starting the service with an empty value", () => {
    const failed = runReads(reads, "exit 254");
    expect(failed.status).not.toBe(0);
    expect(failed.file("service.env")).not.toMatch(/SIGNING_KEY=/);
    expect(failed.file("registry.env")).not.toMatch(/IMAGE=/);
    const read = runReads(reads, "echo s3cret");
    expect(read.status).toBe(0);
    expect(read.file("service.env")).toContain("SIGNING_KEY=s3cret\n");
    expect(read.file("filebeat.env")).toBe("REDIS_PASSWORD=s3cret\n");
  });

  it("stops a Logstash host's boot the same way when the buffer token cannot be read", () => {
    const logstash = logstashHostUserData(plan, { region: "ap-northeast-2", pipeline: "input {}", bufferSecretArn: "arn:secret:buffer", bootLogGroup: "/boot" });
    const lines = logstash.split("\n").filter((line) => line.startsWith('value="$(aws '));
    expect(lines).toHaveLength(1);
    expect(runReads(lines, "exit 254").status).not.toBe(0);
    expect(runReads(lines, "echo s3cret").file("logstash.env")).toBe("REDIS_PASSWORD=s3cret\n");
  });
});

describe("what a Beanstalk container is handed", () => {
  const shopSpec = loadSpecFile("examples/shop/landing-zone.yaml");
  const onPaas = { ...shopSpec, tier: "paas" as const, mesh: { ...shopSpec.mesh, kind: "none" as const } };
  const plan = planLandingZone(onPaas);
  const orders = plan.services.find((s) => s.name === "orders")!;
  const runtime: BeanstalkRuntime = {
    vpcId: "vpc-1",
    privateSubnetIds: "subnet-a",
    sharedLoadBalancerArn: "arn:lb",
    pathListenerArn: "arn:lb/paths",
    loadBalancerSecurityGroupId: "sg-lb",
    workloadSecurityGroupId: "sg-workload",
    instanceProfileName: "profile",
    serviceRoleArn: "arn:role",
    image: "registry/shop-orders:1",
    env: {},
    secretArns: { SIGNING_KEY: "arn:secret:signing" },
    configParameterArns: { ORDER_TIMEOUT_SECONDS: "arn:parameter/timeout" },
  };

  it("forwards where the service's database and saga are, the names both engines' service data set", () => {
    const compose = parse(beanstalkBundle(plan, orders, { logBuffer: true, sessionStore: true })["docker-compose.yml"]!) as { services: Record<string, { environment: Record<string, string> }> };
    const app = compose.services["app"]!.environment;
    for (const name of ["DATABASE_ENGINE", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_USER", "DATABASE_SECRET_ARN", "SAGA_PLACE_ORDER_COMMAND_QUEUE_URL", "SAGA_PLACE_ORDER_STATE_MACHINE_ARN"]) {
      expect(app[name], name).toBe(`\${${name}}`);
    }
    // Filebeat's token and the platform's image stay out of the service's container.
    expect(Object.keys(app)).not.toContain("REDIS_PASSWORD");
    expect(Object.keys(app)).not.toContain("MSA_IMAGE");
    const payments = plan.services.find((s) => s.name === "payments")!;
    expect(beanstalkAppVariables(plan, payments, { logBuffer: false })).toEqual(expect.arrayContaining(["EVENT_STORE", "SAGA_PLACE_ORDER_COMMAND_QUEUE_URL"]));
    expect(beanstalkAppVariables(plan, payments, { logBuffer: false })).not.toContain("SAGA_PLACE_ORDER_STATE_MACHINE_ARN");
    const history = plan.services.find((s) => s.name === "order-history")!;
    expect(beanstalkAppVariables(plan, history, { logBuffer: false })).toContain("READ_MODEL_TABLE");
    const inventory = plan.services.find((s) => s.name === "inventory")!;
    expect(beanstalkAppVariables(plan, inventory, { logBuffer: false })).toEqual(expect.arrayContaining(["DATABASE_ENGINE", "TABLE_NAME"]));
  });

  it("sets no environment property the compose file would leave behind", () => {
    const env = { DATABASE_HOST: "db.internal", SAGA_PLACE_ORDER_STATE_MACHINE_ARN: "arn:states" };
    const settings = beanstalkOptionSettings(plan, orders, { ...runtime, env });
    const forwarded = new Set(beanstalkAppVariables(plan, orders, { logBuffer: false }));
    const properties = settings.filter((s) => s.namespace.startsWith("aws:elasticbeanstalk:application:environment")).map((s) => s.optionName);
    expect(properties.filter((name) => !forwarded.has(name))).toEqual(["MSA_IMAGE"]);
    expect(() => beanstalkOptionSettings(plan, orders, { ...runtime, env: { ...env, UNLISTED: "x" } })).toThrow(/orders: runtime\.env has UNLISTED, which the bundle's compose file does not hand to the container\. Fix/);
  });

  it("names the registry's namespace and lets the instance role look services up only there", () => {
    const settings = beanstalkOptionSettings(plan, orders, runtime);
    expect(settings.find((s) => s.optionName === "SERVICE_DISCOVERY_NAMESPACE")).toEqual({ namespace: "aws:elasticbeanstalk:application:environment", optionName: "SERVICE_DISCOVERY_NAMESPACE", value: "prod.shop.internal" });
    expect(beanstalkAppVariables(plan, orders, { logBuffer: false })).toContain("SERVICE_DISCOVERY_NAMESPACE");
    const grants = { partition: "aws", region: "ap-northeast-2", account: "111111111111", secretArns: [], topicArns: [], queueArns: [] };
    expect(hostedServiceStatements(plan, orders, grants).find((s) => s.sid === "Discover")).toEqual({
      sid: "Discover",
      actions: ["servicediscovery:DiscoverInstances"],
      resources: ["*"],
      condition: { StringEquals: { "servicediscovery:NamespaceName": "prod.shop.internal" } },
    });
    // VMs resolve each other through the namespace's DNS; without discovery there is nothing to name or query.
    const iaas = planLandingZone(shop("iaas"));
    expect(hostedServiceStatements(iaas, iaas.services[0]!, { ...grants, vm: true }).map((s) => s.sid)).not.toContain("Discover");
    const hidden = planLandingZone({ ...onPaas, discovery: { ...onPaas.discovery, enabled: false } });
    const alone = hidden.services.find((s) => s.name === "orders")!;
    expect(hostedServiceStatements(hidden, alone, grants).map((s) => s.sid)).not.toContain("Discover");
    expect(beanstalkAppVariables(hidden, alone, { logBuffer: false })).not.toContain("SERVICE_DISCOVERY_NAMESPACE");
  });

  it("keeps an instance in service during a rolling update only while one can still leave, even when min equals max", () => {
    expect([rollingMinInService({ min: 2, max: 5 }), rollingMinInService({ min: 2, max: 2 }), rollingMinInService({ min: 1, max: 1 })]).toEqual([2, 1, 0]);
    const fixed = planLandingZone({ ...onPaas, services: onPaas.services.map((s) => ({ ...s, replicas: { min: 2, max: 2 } })) });
    const settings = beanstalkOptionSettings(fixed, fixed.services.find((s) => s.name === "orders")!, runtime);
    const value = (namespace: string, name: string) => settings.find((s) => s.namespace === namespace && s.optionName === name)?.value;
    expect(value("aws:autoscaling:asg", "MaxSize")).toBe("2");
    expect(value("aws:autoscaling:updatepolicy:rollingupdate", "MinInstancesInService")).toBe("1");
  });
});

describe("hostShipperConfig", () => {
  it("pushes every container's log to the buffer list Logstash drains, over TLS", () => {
    const config = parse(hostShipperConfig(planLandingZone(shop("iaas")))) as Record<string, Record<string, unknown>>;
    expect(config["output.redis"]).toEqual({ hosts: ["${LOG_BUFFER_HOST}:${LOG_BUFFER_PORT}"], key: "logs", data_type: "list", password: "${REDIS_PASSWORD}", "ssl.enabled": true });
  });
});

describe("the session store on hosts", () => {
  const session = { endpoint: "master.sessions.cache.amazonaws.com", port: 6379, authTokenSecretArn: "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:sessions" };

  it("gives a VM the endpoint in its environment and reads the AUTH token with the instance role at start", () => {
    const plan = planLandingZone(shop("iaas"));
    const runtime = { region: "ap-northeast-2", image: "registry/shop-orders:1", env: {}, secretArns: {}, sessionStore: session };
    const script = vmUserData(plan, plan.services[1]!, runtime);
    expect(script).toContain("SESSION_STORE_ENDPOINT=master.sessions.cache.amazonaws.com:6379\nSESSION_STORE_TLS=true");
    expect(script).toContain(`value="$(aws secretsmanager get-secret-value --region 'ap-northeast-2' --secret-id '${session.authTokenSecretArn}' --query SecretString --output text)"; printf 'SESSION_STORE_PASSWORD=%s\\n' "$value" >> /etc/msa/service.env`);
    const { sessionStore: _, ...withoutSessions } = runtime;
    expect(vmUserData(plan, plan.services[1]!, withoutSessions)).not.toContain("SESSION_STORE");
  });

  it("hands a Beanstalk environment the endpoint as a property and the token by reference, and lists them in the compose file", () => {
    const plan = planLandingZone(shop("paas"));
    const payments = plan.services[1]!;
    const settings = beanstalkOptionSettings(plan, payments, {
      vpcId: "vpc-1",
      privateSubnetIds: "subnet-a",
      pathListenerArn: "arn:paths",
      sharedLoadBalancerArn: "arn:lb",
      loadBalancerSecurityGroupId: "sg-lb",
      workloadSecurityGroupId: "sg-workload",
      instanceProfileName: "profile",
      serviceRoleArn: "arn:role",
      image: "registry/shop-payments:1",
      env: {},
      secretArns: {},
      configParameterArns: { LOG_LEVEL: "arn:parameter/log-level" },
      sessionStore: session,
    });
    const value = (namespace: string, name: string) => settings.find((s) => s.namespace === namespace && s.optionName === name)?.value;
    expect(value("aws:elasticbeanstalk:application:environment", "SESSION_STORE_ENDPOINT")).toBe("master.sessions.cache.amazonaws.com:6379");
    expect(value("aws:elasticbeanstalk:application:environment", "SESSION_STORE_TLS")).toBe("true");
    expect(value("aws:elasticbeanstalk:application:environmentsecrets", "SESSION_STORE_PASSWORD")).toBe(session.authTokenSecretArn);
    const compose = parse(beanstalkBundle(plan, payments, { logBuffer: false, sessionStore: true })["docker-compose.yml"]!) as { services: Record<string, { environment: Record<string, string> }> };
    expect(compose.services["app"]!.environment).toMatchObject({ SESSION_STORE_ENDPOINT: "${SESSION_STORE_ENDPOINT}", SESSION_STORE_TLS: "${SESSION_STORE_TLS}", SESSION_STORE_PASSWORD: "${SESSION_STORE_PASSWORD}" });
  });

  it("lets the instance role read the session token with the service's own secrets", () => {
    const plan = planLandingZone(shop("iaas"));
    const statements = hostedServiceStatements(plan, plan.services[0]!, { partition: "aws", region: "ap-northeast-2", account: "111111111111", secretArns: ["arn:secret:signing"], topicArns: [], queueArns: [], sessionStoreSecretArn: session.authTokenSecretArn });
    expect(statements.find((s) => s.sid === "ReadSecrets")).toEqual({ sid: "ReadSecrets", actions: ["secretsmanager:GetSecretValue"], resources: ["arn:secret:signing", session.authTokenSecretArn] });
  });
});

describe("CloudWatch monitors of hosted services", () => {
  const monitored = (tier: "iaas" | "paas") => planLandingZone({ ...shop(tier), monitoring: { errorRatePercent: 2, latencyMs: 1500 } });
  const serviceMonitor = (tier: "iaas" | "paas", name: string) => cloudWatchMonitors(monitored(tier)).find((m) => m.name === name)!;

  it("watch a VM fleet's target group behind the gateway and its Auto Scaling group's CPU and agent memory", () => {
    const orders = serviceMonitor("iaas", "orders");
    expect(orders.dimensions).toEqual(["targetGroup", "loadBalancer"]);
    expect(orders.alarms.map((a) => [a.name, a.threshold])).toEqual([
      ["shop-prod-orders-server-errors", 2],
      ["shop-prod-orders-latency", 1.5],
      ["shop-prod-orders-unhealthy-hosts", 1],
      ["shop-prod-orders-memory", 90],
    ]);
    expect(orders.alarms[3]!.metrics).toEqual([{ id: "memory", namespace: "MSA/shop/prod", metricName: "mem_used_percent", dimensions: { AutoScalingGroupName: "shop-prod-orders" }, statistic: "Average", label: "Memory %" }]);
    const saturation = orders.widgets.find((w) => w.title === "Saturation")!;
    expect(saturation.metrics[0]).toMatchObject({ namespace: "AWS/EC2", metricName: "CPUUtilization", dimensions: { AutoScalingGroupName: "shop-prod-orders" } });
  });

  it("watch a Beanstalk environment through the enhanced-health metrics it publishes, by its name", () => {
    const plan = monitored("paas");
    const payments = serviceMonitor("paas", "payments");
    expect(payments.dimensions).toEqual([]);
    expect(payments.alarms.map((a) => a.id)).toEqual(["server-errors", "latency", "unhealthy-hosts"]);
    const used = new Set(payments.widgets.flatMap((w) => w.metrics).filter((m) => "metricName" in m).map((m) => (m as { metricName: string }).metricName));
    expect([...used].sort()).toEqual([...BEANSTALK_ENVIRONMENT_METRICS].sort());
    for (const alarm of payments.alarms) for (const metric of alarm.metrics) expect(metric).toMatchObject({ namespace: "AWS/ElasticBeanstalk", dimensions: { EnvironmentName: hostedServiceNames(plan, plan.services[1]!).environment } });
    expect(payments.alarms[2]!.expression).toEqual({ id: "unhealthy", expression: "FILL(degraded, 0) + FILL(severe, 0)", label: "Degraded or Severe" });
  });

  it("makes Beanstalk publish exactly those metrics, and only when the plan monitors", () => {
    const runtime: BeanstalkRuntime = { vpcId: "v", privateSubnetIds: "s", sharedLoadBalancerArn: "l", pathListenerArn: "pl", loadBalancerSecurityGroupId: "g", workloadSecurityGroupId: "w", instanceProfileName: "p", serviceRoleArn: "r", image: "i", env: {}, secretArns: { SIGNING_KEY: "arn:s" }, configParameterArns: { LOG_LEVEL: "a", CURRENCY: "c" } };
    const document = (tier: LandingZoneInput) => {
      const plan = planLandingZone(tier);
      return beanstalkOptionSettings(plan, plan.services[0]!, runtime).find((s) => s.optionName === "ConfigDocument")?.value;
    };
    expect(JSON.parse(document({ ...shop("paas"), monitoring: { dashboards: true } })!)).toEqual({ Version: 1, CloudWatchMetrics: { Environment: Object.fromEntries(BEANSTALK_ENVIRONMENT_METRICS.map((m) => [m, 60])) } });
    expect(document(shop("paas"))).toBeUndefined();
  });
});
