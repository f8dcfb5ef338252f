/**
 * The Kubernetes manifests of docs/deploy: valid against the API schemas, and agreeing with the
 * code on what matters (ports, probe paths, the drain deadline, the environment).
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { NODE_FLAGS } from "../loadtest/processes.ts";
import { loadGatewayConfig, loadNodeConfig } from "../server/config.ts";

const dir = fileURLToPath(new URL("../docs/deploy/", import.meta.url));
const documents = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(`${dir}${file}`, "utf8")).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      return { file, object: doc.toJS() as Record<string, any> };
    }),
  );

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "apps/v1 Deployment": Deployment,
  "v1 Service": Service,
  "batch/v1 Job": Job,
};

function find(kind: string, name: string): Record<string, any> {
  const found = documents.find((d) => d.object.kind === kind && d.object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in docs/deploy`);
  return found.object;
}

/** A container's environment as the process would see it, with Kubernetes' field and secret references filled in. */
function environment(container: Record<string, any>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (_: string, v: string) => env[v] ?? "");
    else if (e.valueFrom?.fieldRef?.fieldPath === "status.podIP") env[e.name] = "10.1.2.3";
    else if (e.valueFrom?.fieldRef) env[e.name] = "locus-node-7d9f8-abcde";
    else if (e.valueFrom?.secretKeyRef) env[e.name] = "a-secret-admin-token-from-k8s";
  }
  return env;
}

describe("deployment manifests", () => {
  it("are all valid against the Kubernetes API schemas", () => {
    expect(documents.length).toBeGreaterThanOrEqual(5);
    for (const { file, object } of documents) {
      const Model = MODELS[`${object.apiVersion} ${object.kind}`];
      if (!Model) throw new Error(`${file}: no schema model for ${object.apiVersion} ${object.kind}`);
      expect(() => new Model(object).validate(), `${file} ${object.kind} ${object.metadata?.name}`).not.toThrow();
    }
  });

  it("give the node an environment the node accepts, in cluster mode", () => {
    const container = find("Deployment", "locus-node").spec.template.spec.containers[0];
    const config = loadNodeConfig(environment(container), { staticDir: "/app/dist/client" });
    expect(config.redis).toMatchObject({ kind: "url", url: "redis://locus-redis:6379" });
    expect(config.adminToken).toBeDefined();
    expect(config.nodeAddress).toBe("http://10.1.2.3:2567");
    expect(config.port).toBe(2567);
    expect(config.nodeAdminAddress).toBe(`http://10.1.2.3:${config.adminPort}`);
  });

  it("start the node with the Node flags it runs with everywhere else", () => {
    const container = find("Deployment", "locus-node").spec.template.spec.containers[0];
    expect(container.command).toEqual(["node", ...NODE_FLAGS, "server/main.ts"]);
    const dockerfile = readFileSync(`${dir}Dockerfile`, "utf8");
    expect(dockerfile).toContain(`CMD ${JSON.stringify(["node", ...NODE_FLAGS, "server/main.ts"]).replaceAll(",", ", ")}`);
    const scripts = (JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.serve).toBe(`node ${NODE_FLAGS.join(" ")} server/main.ts`);
    expect(scripts.start).toBe(`npm run build && node ${NODE_FLAGS.join(" ")} server/main.ts`);
  });

  it("give the gateway an environment the gateway accepts", () => {
    const config = loadGatewayConfig(environment(find("Deployment", "locus-gateway").spec.template.spec.containers[0]));
    expect(config.redis).toMatchObject({ kind: "url", url: "redis://locus-redis:6379" });
    expect(config.relay).toBe("haproxy");
  });

  it("run the gateway in an image that has HAProxy, its data plane", () => {
    const dockerfile = readFileSync(`${dir}Dockerfile`, "utf8");
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(finalStage).toMatch(/apt-get install[^\n]* haproxy/);
    expect(find("Deployment", "locus-gateway").spec.template.spec.containers[0].image).toMatch(/^locus:/);
  });

  it("put the operator listener on a container port of its own, scraped by Prometheus and in no Service", () => {
    const publicPorts = documents.filter((d) => d.object.kind === "Service").flatMap((d) => d.object.spec.ports.map((p: any) => p.targetPort));
    for (const name of ["locus-node", "locus-gateway"]) {
      const template = find("Deployment", name).spec.template;
      const container = template.spec.containers[0];
      const env = environment(container);
      const { adminPort, adminHost } = name === "locus-node" ? loadNodeConfig(env, { staticDir: "/app/dist/client" }) : loadGatewayConfig(env);
      const admin = container.ports.find((p: any) => p.name === "admin");
      expect(admin.containerPort, name).toBe(adminPort);
      expect(adminPort, name).not.toBe(Number(env.PORT));
      // Reachable on the pod address (for Prometheus and the ops CLI in other pods), never through a Service.
      expect(adminHost, name).toBe("0.0.0.0");
      expect(publicPorts, name).not.toContain("admin");
      expect(publicPorts, name).not.toContain(adminPort);
      expect(template.metadata.annotations, name).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": String(adminPort), "prometheus.io/path": "/metrics" });
    }
  });

  it("probe the node's own routes on its own port, and drain before stopping", () => {
    const pod = find("Deployment", "locus-node").spec.template.spec;
    const container = pod.containers[0];
    const port = container.ports.find((p: any) => p.name === container.readinessProbe.httpGet.port);
    expect(port.containerPort).toBe(Number(environment(container).PORT));
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.lifecycle.preStop.exec.command).toEqual(["node", "server/ops/ops.ts", "drain", "$(NODE_ID)"]);
    const drainSeconds = loadNodeConfig(environment(container), { staticDir: "x" }).drainTimeoutMs / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drainSeconds + 10);
    const rollout = find("Deployment", "locus-node").spec.strategy.rollingUpdate;
    expect(rollout).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it("point nodes and gateways at the Redis service, and the public service at the gateways", () => {
    const redis = find("Service", "locus-redis");
    const redisUrl = `redis://${redis.metadata.name}:${redis.spec.ports[0].port}`;
    for (const name of ["locus-node", "locus-gateway"]) {
      expect(environment(find("Deployment", name).spec.template.spec.containers[0]).REDIS_URL).toBe(redisUrl);
    }
    const gateway = find("Deployment", "locus-gateway");
    const service = find("Service", "locus");
    expect(service.spec.selector).toEqual(gateway.spec.template.metadata.labels);
    const named = gateway.spec.template.spec.containers[0].ports.map((p: any) => p.name);
    expect(named).toContain(service.spec.ports[0].targetPort);
    expect(gateway.spec.template.spec.containers[0].command).toEqual(["node", "server/gateway/main.ts"]);
  });

  it("run the load tester's agents as a Job of one-run generators, one per machine, on the image that keeps the load tester's packages", () => {
    const job = find("Job", "locus-loadtest-agents").spec;
    const container = job.template.spec.containers[0];
    const redis = find("Service", "locus-redis");
    const [node, main, subcommand, ...flags] = container.command as string[];
    expect([node, main, subcommand]).toEqual(["node", "loadtest/main.ts", "agent"]);
    expect(flags).toEqual(["--coordinator", `redis://${redis.metadata.name}:${redis.spec.ports[0].port}/1`, "--workers", container.resources.requests.cpu]);
    expect(job.parallelism).toBe(job.completions);
    expect(job.template.spec.restartPolicy).toBe("Never");
    expect(job.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({ labelSelector: { matchLabels: job.template.metadata.labels }, topologyKey: "kubernetes.io/hostname" });
    const dockerfile = readFileSync(`${dir}Dockerfile`, "utf8");
    expect(container.image).toMatch(/^locus-loadtest:/);
    expect(dockerfile.indexOf("FROM build AS loadtest")).toBeGreaterThan(-1);
    expect(dockerfile.indexOf("FROM build AS loadtest")).toBeLessThan(dockerfile.indexOf("npm prune --omit=dev"));
  });
});
