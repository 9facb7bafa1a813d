#!/usr/bin/env node
// The router as kubectl kustomize k8s/ renders it, against the HAProxy
// configuration the lifecycle test runs (tests/lifecycle/router.py CONFIG):
//
//  1. the postgres-router ConfigMap's haproxy.cfg is byte-identical to CONFIG;
//  2. the postgres-router Deployment mounts that ConfigMap where its
//     container's `-f` file is, and sets every "${NAME}" the file reads;
//  3. the Services postgres-primary and postgres-replica select the router's
//     pods, on the container ports the write and read binds listen on.
//
// Writes the container's environment (Kubernetes' $(VAR) references
// expanded, with the namespace "default") to OUT, one NAME=value a line, for
// `haproxy -c`.
//
// Usage: node router.js RENDERED.yaml CONFIG OUT   Exit status 1 on failure.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const failures = [];
const fail = (m) => failures.push(m);

function main([rendered, configPath, out]) {
  if (!out) {
    console.error("usage: router.js RENDERED.yaml CONFIG OUT");
    return 2;
  }
  const objects = YAML.parseAllDocuments(fs.readFileSync(rendered, "utf8"))
    .map((d) => d.toJS())
    .filter((o) => o && o.kind);
  const config = fs.readFileSync(configPath, "utf8");
  const find = (kind, pred) => objects.filter((o) => o.kind === kind && pred(o));

  // 1. The ConfigMap (its name carries kustomize's content hash).
  const maps = find("ConfigMap", (o) => /^postgres-router-[a-z0-9]+$/.test(o.metadata.name));
  if (maps.length !== 1) {
    fail(`expected 1 ConfigMap postgres-router-<hash>, got ${maps.length}`);
    return report();
  }
  const map = maps[0];
  const keys = Object.keys(map.data || {});
  if (keys.length !== 1 || keys[0] !== "haproxy.cfg") fail(`ConfigMap ${map.metadata.name} keys: ${keys}`);
  const shipped = (map.data || {})["haproxy.cfg"];
  if (shipped !== config) {
    const a = (shipped || "").split("\n");
    const b = config.split("\n");
    let i = 0;
    while (i < Math.max(a.length, b.length) && a[i] === b[i]) i++;
    fail(`haproxy.cfg in ConfigMap ${map.metadata.name} is not byte-identical to ${configPath}:` +
         ` first difference at line ${i + 1}: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}`);
  }

  // 2. The Deployment.
  const deps = find("Deployment", (o) => o.metadata.name === "postgres-router");
  if (deps.length !== 1) {
    fail(`expected 1 Deployment postgres-router, got ${deps.length}`);
    return report();
  }
  const spec = deps[0].spec.template.spec;
  const podLabels = deps[0].spec.template.metadata.labels || {};
  const containers = spec.containers.filter((c) => (c.args || c.command || []).includes("-f"));
  if (containers.length !== 1) {
    fail(`expected 1 router container running haproxy -f, got ${containers.length}`);
    return report();
  }
  const c = containers[0];
  const argv = [...(c.command || []), ...(c.args || [])];
  const file = argv[argv.indexOf("-f") + 1];
  const volume = (spec.volumes || []).find((v) => v.configMap && v.configMap.name === map.metadata.name);
  if (!volume) fail(`no volume of the Deployment mounts ConfigMap ${map.metadata.name}`);
  const mount = volume && (c.volumeMounts || []).find((m) => m.name === volume.name);
  if (!mount) fail(`container ${c.name} does not mount volume ${volume && volume.name}`);
  else if (path.posix.join(mount.mountPath, "haproxy.cfg") !== file) {
    fail(`container ${c.name} runs -f ${file}, but the ConfigMap is at ${mount.mountPath}/haproxy.cfg`);
  }

  // The container's environment, $(VAR) expanded as Kubernetes does (a
  // variable defined earlier in the list, or the downward API's namespace).
  const env = {};
  for (const e of c.env || []) {
    if (e.value !== undefined) {
      env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (m, v) => (v in env ? env[v] : m));
    } else if (e.valueFrom && e.valueFrom.fieldRef && e.valueFrom.fieldRef.fieldPath === "metadata.namespace") {
      env[e.name] = "default";
    }
  }
  const code = config.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
  const wanted = new Set([...code.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]));
  if (wanted.size === 0) fail(`${configPath} reads no environment variable`);
  for (const v of wanted) {
    if (!(v in env)) fail(`the router container does not set ${v}, which haproxy.cfg reads`);
    else if (/\$\(/.test(env[v])) fail(`${v}=${env[v]}: unexpanded reference`);
  }

  // 3. The Services on the binds' ports.
  const portOf = (bind) => {
    const m = /:(\d+)$/.exec(env[bind] || "");
    return m ? Number(m[1]) : null;
  };
  const byName = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
  for (const [svc, bind] of [["postgres-primary", "ROUTER_WRITE_BIND"], ["postgres-replica", "ROUTER_READ_BIND"]]) {
    const s = find("Service", (o) => o.metadata.name === svc)[0];
    if (!s) {
      fail(`no Service ${svc}`);
      continue;
    }
    const sel = s.spec.selector || {};
    if (!Object.keys(sel).length || !Object.entries(sel).every(([k, v]) => podLabels[k] === v)) {
      fail(`Service ${svc} does not select the router's pods (${JSON.stringify(sel)})`);
    }
    for (const p of s.spec.ports || []) {
      const target = typeof p.targetPort === "string" ? byName[p.targetPort] : p.targetPort;
      if (target !== portOf(bind)) {
        fail(`Service ${svc} port ${p.port} targets ${p.targetPort} (${target}), but ${bind} is ${env[bind]}`);
      }
    }
  }

  fs.writeFileSync(out, [...wanted].sort().map((v) => `${v}=${env[v]}`).join("\n") + "\n");
  return report();
}

function report() {
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(`router: ${failures.length} problems`);
  return failures.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
