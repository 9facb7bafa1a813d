#!/usr/bin/env node
// Offline checks of rendered Kubernetes manifests (kubectl kustomize output
// and k8s/secrets.yaml.example), all files taken as one deployment:
//
//  1. Schema: every object is validated by its kubernetes-models /
//     @kubernetes-models/prometheus-operator class (apiVersion + kind); an
//     object of a kind neither package knows fails.
//  2. References: every ConfigMap/Secret key a pod reads exists; every
//     Service, PodDisruptionBudget and NetworkPolicy selects pods; named
//     target ports exist; a NetworkPolicy's ports are container ports of
//     the pods it selects; $(VAR) in args names a variable of the container.
//  3. Pod policy: non-root, seccomp RuntimeDefault, no privilege escalation,
//     all capabilities dropped, read-only root file system, resources,
//     probes, pinned images, spread across nodes.
//  4. No password in any ConfigMap.
//
// Usage: node validate.js FILE...   Exit status 1 on any failure.
"use strict";

const fs = require("fs");
const YAML = require("yaml");

const failures = [];
let checked = 0;

function fail(where, message) {
  failures.push(`${where}: ${message}`);
}

// ---------------------------------------------------------------- schema

const GROUPS = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "monitoring.coreos.com/v1":
    "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

function modelClass(obj) {
  const module = GROUPS[obj.apiVersion];
  if (!module) return null;
  const cls = require(module)[obj.kind];
  return typeof cls === "function" && cls.kind === obj.kind ? cls : null;
}

function name(obj) {
  return `${obj.kind}/${(obj.metadata || {}).name}`;
}

function validateSchema(obj) {
  const cls = modelClass(obj);
  if (!cls) {
    fail(name(obj), `no model for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
    return;
  }
  try {
    new cls(obj).validate();
  } catch (e) {
    fail(name(obj), `schema: ${e.message}`);
  }
}

// ---------------------------------------------------------------- helpers

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job"]);

function podSpecOf(obj) {
  if (WORKLOADS.has(obj.kind)) return obj.spec.template.spec;
  if (obj.kind === "Pod") return obj.spec;
  return null;
}

function podLabelsOf(obj) {
  if (WORKLOADS.has(obj.kind)) return obj.spec.template.metadata.labels || {};
  if (obj.kind === "Pod") return obj.metadata.labels || {};
  return null;
}

function matches(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels[k] === v);
}

function containersOf(spec) {
  return [
    ...(spec.initContainers || []).map((c) => ({ c, init: true })),
    ...(spec.containers || []).map((c) => ({ c, init: false })),
  ];
}

// Data keys of ConfigMaps and Secrets, by kind and name.
function keysOf(objects, kind, objName) {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === objName);
  if (!obj) return null;
  return new Set([...Object.keys(obj.data || {}), ...Object.keys(obj.stringData || {})]);
}

// ---------------------------------------------------------------- references

function checkReferences(objects) {
  const pods = objects
    .filter((o) => podSpecOf(o))
    .map((o) => ({ obj: o, labels: podLabelsOf(o), spec: podSpecOf(o) }));

  for (const { obj, spec } of pods) {
    const where = name(obj);
    const need = (kind, ref, key, what) => {
      const keys = keysOf(objects, kind, ref);
      if (!keys) fail(where, `${what}: no ${kind} ${ref}`);
      else if (key !== undefined && !keys.has(key)) fail(where, `${what}: ${kind} ${ref} has no key ${key}`);
    };
    for (const v of spec.volumes || []) {
      if (v.configMap) for (const it of v.configMap.items || [{}]) need("ConfigMap", v.configMap.name, it.key, `volume ${v.name}`);
      if (v.secret) for (const it of v.secret.items || [{}]) need("Secret", v.secret.secretName, it.key, `volume ${v.name}`);
    }
    const volumeNames = new Set((spec.volumes || []).map((v) => v.name));
    const claimNames = new Set(((obj.spec || {}).volumeClaimTemplates || []).map((t) => t.metadata.name));
    for (const { c } of containersOf(spec)) {
      const cw = `${where} container ${c.name}`;
      const vars = new Set();
      for (const e of c.env || []) {
        vars.add(e.name);
        const vf = e.valueFrom || {};
        if (vf.configMapKeyRef) need("ConfigMap", vf.configMapKeyRef.name, vf.configMapKeyRef.key, `${c.name} env ${e.name}`);
        if (vf.secretKeyRef) need("Secret", vf.secretKeyRef.name, vf.secretKeyRef.key, `${c.name} env ${e.name}`);
      }
      for (const ef of c.envFrom || []) {
        const kind = ef.configMapRef ? "ConfigMap" : "Secret";
        const ref = (ef.configMapRef || ef.secretRef).name;
        need(kind, ref, undefined, `${c.name} envFrom`);
        for (const k of keysOf(objects, kind, ref) || []) vars.add(k);
      }
      for (const arg of [...(c.command || []), ...(c.args || [])]) {
        for (const m of String(arg).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          if (!vars.has(m[1])) fail(cw, `$(${m[1]}) is not a variable of the container`);
        }
      }
      for (const vm of c.volumeMounts || []) {
        if (!volumeNames.has(vm.name) && !claimNames.has(vm.name)) fail(cw, `mounts unknown volume ${vm.name}`);
      }
    }
  }

  const portNames = (labels) => {
    const out = new Set();
    for (const p of pods.filter((p) => matches(labels, p.labels))) {
      for (const { c } of containersOf(p.spec)) for (const port of c.ports || []) if (port.name) out.add(port.name);
    }
    return out;
  };
  for (const o of objects) {
    const where = name(o);
    if (o.kind === "Service") {
      const sel = o.spec.selector || {};
      if (!pods.some((p) => matches(sel, p.labels))) fail(where, "selects no pods");
      const names = portNames(sel);
      for (const p of o.spec.ports || []) {
        if (typeof p.targetPort === "string" && !names.has(p.targetPort)) fail(where, `target port ${p.targetPort} is not a named container port`);
      }
    }
    if (o.kind === "PodDisruptionBudget" || o.kind === "NetworkPolicy") {
      const sel = (o.kind === "NetworkPolicy" ? o.spec.podSelector : o.spec.selector).matchLabels;
      if (!pods.some((p) => matches(sel, p.labels))) fail(where, "selects no pods");
    }
    // A NetworkPolicy that opens a port nothing listens on protects nothing.
    if (o.kind === "NetworkPolicy") {
      const selected = pods.filter((p) => matches(o.spec.podSelector.matchLabels, p.labels));
      const numbers = new Set();
      for (const p of selected) {
        for (const { c } of containersOf(p.spec)) for (const port of c.ports || []) numbers.add(port.containerPort);
      }
      for (const rule of o.spec.ingress || []) {
        for (const port of rule.ports || []) {
          if (typeof port.port === "number" && !numbers.has(port.port)) {
            fail(where, `allows port ${port.port}, which no pod it selects listens on`);
          }
        }
      }
    }
    if ((o.kind === "StatefulSet" || o.kind === "Deployment") && !matches(o.spec.selector.matchLabels, podLabelsOf(o))) {
      fail(where, "selector does not match the pod template");
    }
    // Selectors are immutable: kustomize's common labels (includeSelectors:
    // false) must stay out of them.
    if (WORKLOADS.has(o.kind) || o.kind === "Service") {
      const sel = o.kind === "Service" ? o.spec.selector || {} : o.spec.selector.matchLabels || {};
      for (const k of ["app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"]) {
        if (k in sel) fail(where, `selector carries the common label ${k}`);
      }
    }
    if (o.kind === "StatefulSet") {
      const svc = objects.find((s) => s.kind === "Service" && s.metadata.name === o.spec.serviceName);
      if (!svc || svc.spec.clusterIP !== "None") fail(where, `serviceName ${o.spec.serviceName} is not a headless Service`);
    }
    if (o.kind === "ServiceMonitor") {
      const svcs = objects.filter((s) => s.kind === "Service" && matches(o.spec.selector.matchLabels, s.metadata.labels || {}));
      if (svcs.length === 0) fail(where, "selects no Service");
      for (const ep of o.spec.endpoints || []) {
        if (!svcs.some((s) => s.spec.ports.some((p) => p.name === ep.port))) fail(where, `no Service port named ${ep.port}`);
      }
    }
  }
}

// ---------------------------------------------------------------- pod policy

function checkPodPolicy(obj) {
  const spec = podSpecOf(obj);
  if (!spec) return;
  const where = name(obj);
  const psc = spec.securityContext || {};
  if (psc.runAsNonRoot !== true) fail(where, "pod securityContext.runAsNonRoot is not true");
  if ((psc.seccompProfile || {}).type !== "RuntimeDefault") fail(where, "pod seccompProfile is not RuntimeDefault");
  if (spec.automountServiceAccountToken !== false) fail(where, "automountServiceAccountToken is not false");
  const replicas = obj.spec.replicas === undefined ? 1 : obj.spec.replicas;
  if (obj.kind === "StatefulSet" && !(spec.topologySpreadConstraints || []).length && !(spec.affinity || {}).podAntiAffinity) {
    fail(where, "no topologySpreadConstraints or podAntiAffinity");
  }
  let readiness = false;
  for (const { c, init } of containersOf(spec)) {
    const cw = `${where} container ${c.name}`;
    const sc = c.securityContext || {};
    if (sc.allowPrivilegeEscalation !== false) fail(cw, "allowPrivilegeEscalation is not false");
    if (!((sc.capabilities || {}).drop || []).includes("ALL")) fail(cw, "capabilities do not drop ALL");
    if (sc.readOnlyRootFilesystem !== true) fail(cw, "readOnlyRootFilesystem is not true");
    if (sc.privileged) fail(cw, "privileged");
    if (sc.runAsUser === 0) fail(cw, "runs as root");
    const r = c.resources || {};
    for (const [k, v] of [["requests.cpu", (r.requests || {}).cpu], ["requests.memory", (r.requests || {}).memory], ["limits.memory", (r.limits || {}).memory]]) {
      if (v === undefined) fail(cw, `no resources.${k}`);
    }
    if (!/:[A-Za-z0-9][A-Za-z0-9._-]*$|@sha256:[0-9a-f]{64}$/.test(c.image || "") || /:latest$/.test(c.image)) {
      fail(cw, `image ${c.image} is not pinned to a tag or digest`);
    }
    if (!init) {
      if (!c.livenessProbe) fail(cw, "no livenessProbe");
      if (c.readinessProbe) readiness = true;
    }
  }
  if (!readiness) fail(where, "no container has a readinessProbe");
  if (replicas < 1) fail(where, "no replicas");
}

// ---------------------------------------------------------------- secrets

// Patterns of a secret value written into text. `$`-values (shell or
// Kubernetes expansions) and psql variables (:'var') are references, not
// secrets.
const SECRET_PATTERNS = [
  [/\b\w*pass(word|wd)\s*=\s*(?!["']?[$:])["']?[^\s"'$;)]/i, "a password assigned (NAME=value, password=value)"],
  [/\b\w*pass(word|wd)["']?:\s+(?!["']?\$)["']?[^\s"'$]/i, "a password as a YAML value"],
  [/\bpassword\s+'[^']/i, "SQL PASSWORD 'literal'"],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i, "user:password@ in a URI"],
];

function secretFindings(text) {
  const out = [];
  text.split("\n").forEach((line, i) => {
    for (const [re, what] of SECRET_PATTERNS) if (re.test(line)) out.push(`line ${i + 1}: ${what}`);
  });
  return out;
}

function checkConfigMapSecrets(obj) {
  if (obj.kind !== "ConfigMap") return;
  for (const [key, value] of Object.entries({ ...(obj.data || {}), ...(obj.binaryData || {}) })) {
    if (/pass(word|wd)|secret|token/i.test(key)) fail(name(obj), `key ${key} looks like a secret`);
    for (const f of secretFindings(String(value))) fail(name(obj), `key ${key} ${f}`);
  }
}

// The guard must catch what it is for, and pass the project's own scripts.
function selfTestGuard() {
  const planted = [
    "PGPASSWORD=hunter2 psql",
    "export POSTGRES_PASSWORD='s3cret'",
    "primary_conninfo = 'host=a user=r password=s3cret'",
    "PGREPL_PASSWORD: s3cret",
    "url: postgresql://monitor:s3cret@db:5432/postgres",
    "ALTER ROLE x PASSWORD 'hunter2';",
  ];
  const benign = [
    "PGREPL_PASSWORD=$(<\"$PGREPL_PASSWORD_FILE\")",
    "[[ -n ${POSTGRES_REPLICATION_PASSWORD:-} ]] || die \"POSTGRES_REPLICATION_PASSWORD is not set\"",
    "ALTER ROLE :\"repl_user\" WITH LOGIN PASSWORD :'repl_password';",
    "conninfo+=\" passfile=$(conninfo_quote \"$PGPASSFILE\")\"",
    "password_encryption = scram-sha-256",
  ];
  for (const s of planted) if (secretFindings(s).length === 0) fail("password guard", `misses: ${s}`);
  for (const s of benign) if (secretFindings(s).length !== 0) fail("password guard", `flags: ${s}`);
}

// ---------------------------------------------------------------- main

function main(files) {
  if (files.length === 0) {
    console.error("usage: validate.js FILE...");
    return 2;
  }
  const objects = [];
  for (const file of files) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    for (const doc of docs) {
      if (doc.errors.length) {
        fail(file, `YAML: ${doc.errors[0].message}`);
        continue;
      }
      const obj = doc.toJS();
      if (obj === null || obj === undefined) continue;
      if (!obj.apiVersion || !obj.kind || !(obj.metadata || {}).name) {
        fail(file, "object without apiVersion, kind or metadata.name");
        continue;
      }
      objects.push(obj);
    }
  }
  selfTestGuard();
  for (const obj of objects) {
    validateSchema(obj);
    checkPodPolicy(obj);
    checkConfigMapSecrets(obj);
    checked++;
  }
  checkReferences(objects);
  const seen = new Map();
  for (const o of objects) {
    const k = `${o.kind}/${o.metadata.name}`;
    if (seen.has(k)) fail(k, "defined twice");
    seen.set(k, true);
  }
  for (const o of objects) console.log(`checked ${o.apiVersion} ${name(o)}`);
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(`${checked} objects checked, ${failures.length} problems`);
  return failures.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
