import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mlz } from "./mlz-binary.js";
import { initCommand, renderSpecYaml, type Ask, type InitAnswers, type InitOptions, type PromptChoice } from "../../lib/cli/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { loadSpecFile } from "../../lib/spec/index.js";

type Answer = string | boolean | readonly string[];

/**
 * Plays a user: each prompt takes the first unused answer whose pattern matches its message, or its
 * default. An answer list is tried in turn, as a user retyping after a validation error would.
 */
function scriptedAsk(script: [RegExp, Answer][]) {
  const asked: string[] = [];
  const rejected: string[] = [];
  const take = (message: string): Answer | undefined => {
    asked.push(message);
    const i = script.findIndex(([pattern]) => pattern.test(message));
    return i < 0 ? undefined : script.splice(i, 1)[0]![1];
  };
  const ask: Ask = {
    async select<T extends string>(q: { message: string; choices: readonly PromptChoice<T>[]; default?: T }): Promise<T> {
      const answer = take(q.message) ?? q.default;
      const choice = q.choices.find((c) => c.value === answer);
      if (!choice) throw new Error(`"${String(answer)}" is not a choice of "${q.message}"`);
      return choice.value;
    },
    async input(q) {
      const answer = take(q.message);
      for (const attempt of answer === undefined ? [q.default ?? ""] : typeof answer === "string" ? [answer] : (answer as readonly string[])) {
        const verdict = q.validate ? q.validate(attempt) : true;
        if (verdict === true) return attempt;
        rejected.push(`${attempt}: ${String(verdict)}`);
      }
      throw new Error(`no valid answer for "${q.message}"`);
    },
    async confirm(q) {
      const answer = take(q.message);
      return typeof answer === "boolean" ? answer : (q.default ?? false);
    },
  };
  return { ask, asked, rejected, unused: script };
}

function buffers() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

const tempDir = () => mkdtempSync(join(tmpdir(), "mlz-init-"));

describe("mlz init wizard (scripted prompts)", () => {
  it("writes a spec holding every answer, which loads and plans", async () => {
    const file = join(tempDir(), "landing-zone.yaml");
    const user = scriptedAsk([
      [/^Landing zone name/, ["Shop!", "shop"]],
      [/^Cloud/, "azure"],
      [/^Service model/, "caas"],
      [/^Environment/, "prod"],
      [/^Region/, ["Korea Central", "koreacentral"]],
      [/^Services/, ["Orders", "orders,payments,orders", "orders,payments"]],
      [/^BFFs/, "web,mobile"],
      [/^Service mesh/, false],
      [/^Distributed tracing/, false],
      [/^Events orders publishes/, "order-placed"],
      [/^Events payments publishes/, ""],
      [/^Events payments subscribes/, ["payment-done", "order-placed"]],
    ]);
    const { io, out, err } = buffers();

    expect(await initCommand(file, {}, io, user.ask)).toBe(0);
    expect(err).toEqual([]);
    expect(user.unused).toEqual([]);
    expect(out.join("")).toContain("azure/caas, prod, koreacentral, 2 services");
    // Validation rejected the bad answers before the good ones were taken.
    expect(user.rejected).toEqual([
      expect.stringMatching(/^Shop!: name: must be lowercase/),
      expect.stringMatching(/^Korea Central: region: must be a region name/),
      expect.stringMatching(/^Orders: services\[0\]\.name: must be lowercase/),
      expect.stringMatching(/^orders,payments,orders: services\[2\]\.name: "orders" is already the name of services\[0\]/),
      "payment-done: choose among order-placed",
    ]);
    // orders cannot subscribe to its own event, so it is not asked.
    expect(user.asked.some((m) => m.startsWith("Events orders subscribes"))).toBe(false);

    const spec = loadSpecFile(file);
    expect(spec).toMatchObject({ name: "shop", cloud: "azure", tier: "caas", environment: "prod", region: "koreacentral" });
    expect(spec.services.map((s) => [s.name, s.publishes, s.subscribes])).toEqual([
      ["orders", ["order-placed"], []],
      ["payments", [], ["order-placed"]],
    ]);
    expect(spec.bffs.map((b) => b.name)).toEqual(["web", "mobile"]);
    expect(spec.mesh.kind).toBe("none");
    expect(spec.tracing.backend).toBe("none");
    expect(spec.logging).toMatchObject({ stack: "elk", buffer: "redis", shipper: "filebeat" });
    expect(spec.auth.sessions).toBe("redis");
    // Azure has no identity provider the landing zone creates, and the wizard asks for no issuer.
    expect(spec.gateway.auth).toBe("none");
    expect(user.asked.some((m) => m.startsWith("JWT authentication"))).toBe(false);
    expect(planLandingZone(spec).broker?.topics.map((t) => [t.event, t.subscriptions.map((s) => s.subscriber)])).toEqual([["order-placed", ["payments"]]]);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("cloud: azure # aws | gcp | azure | kubernetes (an existing cluster)");
    expect(text).toContain("bffs: [web, mobile]");
    expect(text).toMatch(/^# msa-landing-zone spec, written by `mlz init`/);
  });

  it("takes the defaults when every answer is Enter: aws, caas, dev, the cloud's default region, every pattern on", async () => {
    const file = join(tempDir(), "landing-zone.yaml");
    const user = scriptedAsk([[/^Services/, "orders"]]);
    expect(await initCommand(file, {}, buffers().io, user.ask)).toBe(0);
    const spec = loadSpecFile(file);
    expect(spec).toMatchObject({ cloud: "aws", tier: "caas", environment: "dev", region: "us-east-1" });
    expect(spec.name).toMatch(/^mlz-init-/);
    expect([spec.auth.sessions, spec.logging.stack, spec.mesh.kind, spec.tracing.backend, spec.gateway.auth]).toEqual(["redis", "elk", "istio", "zipkin", "jwt"]);
    expect(user.asked).toEqual(expect.arrayContaining([expect.stringMatching(/^Central session store/), expect.stringMatching(/^Central logging \(ELK/), expect.stringMatching(/^Message broker/)]));
  });

  it("does not ask for patterns the cloud and tier do not offer, and turns them off", async () => {
    const file = join(tempDir(), "zone.yaml");
    const user = scriptedAsk([
      [/^Cloud/, "azure"],
      [/^Service model/, "paas"],
    ]);
    expect(await initCommand(file, {}, buffers().io, user.ask)).toBe(0);
    expect(user.asked.some((m) => /^Service mesh/.test(m))).toBe(false);
    const spec = loadSpecFile(file);
    expect([spec.tier, spec.region, spec.logging.stack, spec.mesh.kind, spec.services]).toEqual(["paas", "eastus", "elk", "none", []]);
  });

  it("asks nothing a flag answers", async () => {
    const file = join(tempDir(), "zone.yaml");
    const user = scriptedAsk([]);
    const flags = { name: "flags", cloud: "kubernetes", environment: "dev", region: "lab", services: "a", bffs: "", sessions: false, logging: false, broker: false, mesh: true, tracing: true, gatewayAuth: false } as const;
    expect(await initCommand(file, flags, buffers().io, user.ask)).toBe(0);
    expect(user.asked).toEqual([]);
    expect(loadSpecFile(file)).toMatchObject({ name: "flags", cloud: "kubernetes", tier: "caas", region: "lab", auth: { sessions: "none" }, gateway: { auth: "none" } });
  });

  it("writes nothing when the user cancels a prompt", async () => {
    const dir = tempDir();
    const cancel = Object.assign(new Error("User force closed the prompt"), { name: "ExitPromptError" });
    const ask: Ask = { select: () => Promise.reject(cancel), input: () => Promise.reject(cancel), confirm: () => Promise.reject(cancel) };
    const { io, err } = buffers();
    expect(await initCommand(join(dir, "zone.yaml"), {}, io, ask)).toBe(1);
    expect(err.join("")).toBe("Cancelled; nothing written.\n");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("renderSpecYaml", () => {
  const answers: InitAnswers = {
    name: "shop",
    cloud: "aws",
    tier: "paas",
    environment: "dev",
    region: "eu-west-1",
    services: ["orders"],
    bffs: [],
    patterns: { sessions: false, logging: false, broker: false, mesh: false, tracing: true, gatewayAuth: true },
    publishes: {},
    subscribes: {},
  };

  it("writes explicit off-switches so the file says what it leaves out", async () => {
    const text = renderSpecYaml(answers);
    expect(text).toContain("auth:\n  sessions: none # redis | memcached | none");
    expect(text).toContain("logging:\n  stack: none # elk | none\n  buffer: none\n");
    expect(text).toContain("mesh:\n  kind: none");
    expect(text).not.toContain("messaging:");
    expect(text).not.toContain("bffs:");
    expect(text).toContain("services:\n  - name: orders\n");
  });
});

describe("mlz init flags", () => {
  it("names the flag, the value and the fix for every impossible combination, and writes nothing", async () => {
    const dir = tempDir();
    const cases: [InitOptions, RegExp][] = [
      [{ cloud: "kubernetes", tier: "paas" }, /--tier paas is not offered on kubernetes. Fix: use --tier caas/],
      [{ cloud: "azure", tier: "paas", mesh: true }, /mesh\.kind: istio needs Kubernetes, but tier is "paas"\. Fix: set tier: caas, or mesh\.kind: none/],
      [{ services: "a", publishes: "b:x" }, /"b" in --publishes\/--subscribes is not one of the services \(a\)/],
      [{ services: "a,b", subscribes: "b:x" }, /event "x" is published by no service/],
      [{ services: "a", publishes: "a" }, /--publishes "a" is not a service:event pair/],
      [{ services: "a", publishes: "a:x", broker: false }, /--publishes and --subscribes need the broker. Fix: drop --no-broker/],
      [{ region: "Seoul" }, /region: must be a region name/],
    ];
    for (const [flags, message] of cases) {
      const { io, err } = buffers();
      expect(await initCommand(join(dir, "lz.yaml"), { ...flags, yes: true }, io), JSON.stringify(flags)).toBe(1);
      expect(err.join("")).toMatch(message);
      expect(err.join("")).toMatch(/Nothing written.\n$/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("mlz init (the real binary, stdin not a terminal)", () => {
  it("builds the spec from flags without asking, into a directory it creates", async () => {
    const dir = tempDir();
    const file = join(dir, "infra", "lz.yaml");
    const run = await mlz("init", file, "--name", "shop", "--cloud", "aws", "--tier", "caas", "--environment", "prod", "--services", "orders,payments", "--publishes", "orders:order-placed", "--subscribes", "payments:order-placed", "--no-mesh", "--no-tracing");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Wrote ${file} (aws/caas, prod, us-east-1, 2 services)`);
    const spec = loadSpecFile(file);
    expect(spec).toMatchObject({ name: "shop", environment: "prod", mesh: { kind: "none" }, tracing: { backend: "none" }, logging: { stack: "elk", buffer: "redis" } });
    expect(spec.services.map((s) => s.name)).toEqual(["orders", "payments"]);
    expect(spec.services[1]!.subscribes).toEqual(["order-placed"]);
  });

  it("refuses to overwrite an existing file unless --force", async () => {
    const dir = tempDir();
    const file = join(dir, "landing-zone.yaml");
    writeFileSync(file, "name: mine\n");
    const refused = await mlz("init", file, "--services", "orders");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file} already exists; nothing written. Fix: pass --force`);
    expect(readFileSync(file, "utf8")).toBe("name: mine\n");

    const forced = await mlz("init", file, "--services", "orders", "--force");
    expect(forced.code).toBe(0);
    expect(loadSpecFile(file).services.map((s) => s.name)).toEqual(["orders"]);
  });

  it("names the file standing where its directory must go, with the fix and no stack trace", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "infra"), "a file");
    const run = await mlz("init", join(dir, "infra", "lz.yaml"), "--services", "orders");
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`cannot write ${join(dir, "infra", "lz.yaml")}: EEXIST: file already exists, mkdir '${join(dir, "infra")}'. Fix: a file stands where the path needs a directory; choose another path, or move that file\nNothing written.\n`);
    expect(readdirSync(dir)).toEqual(["infra"]);
  });

  it("rejects flags that make an invalid spec with exit 1, the problem and no stack trace, writing nothing", async () => {
    const dir = tempDir();
    const run = await mlz("init", join(dir, "lz.yaml"), "--services", "Orders");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/services\[0\]\.name: must be lowercase/);
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
