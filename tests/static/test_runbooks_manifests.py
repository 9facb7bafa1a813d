"""The documentation names only what the manifests ship.

Every kubectl command, label selector, resource name (pods, StatefulSets,
Deployments, Services and their endpoints, ConfigMaps, Secrets, PDBs,
PVCs, NetworkPolicies), container, Secret and ConfigMap name and key, and
replication slot name in the code of docs/runbooks.md, README.md and
docs/application.md must exist in the rendered manifests (kubectl kustomize
k8s/ and k8s/monitoring/, plus k8s/secrets.yaml.example). Placeholders are
allowed only from PLACEHOLDERS below, each standing for a set of real names
(<replica-pod> is one of postgres-replica-0, postgres-replica-1) or marked
as naming something outside k8s/. Prose that contradicts the manifests'
shape (one StatefulSet per replica) fails too.

The checker is proven on snippets that must fail (the mistakes the docs
once had: `-l app=postgres` without the label, slot `replica_0`,
`<db-secret>`, "its own StatefulSet") and must pass. Further checks of the
platform's contract: the ConfigMap's values, `app=postgres` selecting
exactly the three databases, a PodDisruptionBudget that cannot block every
drain, and the guard that makes `kubectl apply -f` of the database
manifests alone fail.

Needs kubectl (kustomize is built in; no cluster) and PyYAML; exits 77
(skipped) with the reason when either is missing.
"""

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import SOURCE_DIR, log, run_tests  # noqa: E402

SKIP = 77
DOCS = ["docs/runbooks.md", "README.md", "docs/application.md"]

try:
    import yaml
except ImportError:  # pragma: no cover - Debian's python3-yaml is a dependency
    yaml = None


def render():
    """The deployed objects: both kustomizations and the Secrets' example."""
    objects = []
    for d in ("k8s", "k8s/monitoring"):
        out = subprocess.run(["kubectl", "kustomize", os.path.join(SOURCE_DIR, d)],
                             text=True, capture_output=True, timeout=60, check=True)
        objects += [o for o in yaml.safe_load_all(out.stdout) if o]
    with open(os.path.join(SOURCE_DIR, "k8s", "secrets.yaml.example")) as f:
        objects += [o for o in yaml.safe_load_all(f) if o]
    return objects


class Manifests:
    """Names of the rendered objects, by kind, and what a pod has."""

    def __init__(self, objects):
        self.objects = objects
        self.names = {}
        self.labels = {}     # (kind, name) -> metadata labels
        self.data = {}       # (kind, name) -> data keys (ConfigMap, Secret)
        self.pods = {}       # pod name -> (labels, containers, owner)
        self.templates = []  # (owner kind, owner name, pod labels, containers, replicas)
        self.pvcs = set()
        for o in objects:
            kind, name = o["kind"], o["metadata"]["name"]
            self.names.setdefault(kind, set()).add(name)
            self.labels[(kind, name)] = o["metadata"].get("labels") or {}
            if kind in ("ConfigMap", "Secret"):
                keys = set(o.get("data") or {}) | set(o.get("stringData") or {})
                self.data[(kind, name)] = keys
                # configMapGenerator's names carry a content hash.
                base = re.sub(r"-[a-z0-9]{10}$", "", name)
                self.names[kind].add(base)
                self.data[(kind, base)] = keys
            if kind in ("StatefulSet", "Deployment"):
                tmpl = o["spec"]["template"]
                containers = [c["name"] for c in tmpl["spec"].get("containers", [])]
                containers += [c["name"] for c in tmpl["spec"].get("initContainers", [])]
                replicas = o["spec"].get("replicas", 1)
                labels = tmpl["metadata"].get("labels") or {}
                self.templates.append((kind, name, labels, containers, replicas))
                if kind == "StatefulSet":
                    for i in range(replicas):
                        self.pods[f"{name}-{i}"] = (labels, containers, name)
                        for claim in o["spec"].get("volumeClaimTemplates", []):
                            self.pvcs.add(f"{claim['metadata']['name']}-{name}-{i}")

    def of(self, kind):
        return self.names.get(kind, set())

    def database_pods(self):
        return sorted(p for p, (labels, _, _) in self.pods.items()
                      if labels.get("app.kubernetes.io/name") == "postgres")

    def slots(self):
        # replica-bootstrap.sh: the slot is the pod's name with '-' -> '_'
        # (test_slot_rule checks the script). Any database pod may stream
        # after a failover, so every one of them has a slot name.
        return {p.replace("-", "_") for p in self.database_pods()}

    def pod_templates_matching(self, selector):
        return [(k, n, r) for k, n, labels, _, r in self.templates
                if all(labels.get(a) == b for a, b in selector.items())]


EXTERNAL = frozenset({"(outside k8s/)"})


# Placeholders the docs may use: name -> (what it stands for, values). A
# value set of None marks a value that names no object (a namespace, a
# number, an address): it may not stand where an object's name belongs.
# EXTERNAL marks an object outside k8s/, of the given kind.
def placeholders(m):
    exporter = ("pod", {"deployment:pgrepl-exporter"})
    return {
        "<pod>": ("pod", set(m.database_pods())),
        "<primary-pod>": ("pod", {"postgres-primary-0"} & set(m.pods)),
        "<replica-pod>": ("pod", {p for p in m.database_pods() if "replica" in p}),
        "<exporter-pod>": exporter,
        "<router-pod>": ("pod", {"deployment:postgres-router"}),
        "<sts>": ("statefulset", m.of("StatefulSet")),
        "<slot>": ("slot", m.slots()),
        "<pvc>": ("pvc", set(m.pvcs)),
        "<container>": ("container", {c for t in m.templates for c in t[3]}),
        "<networkpolicy>": ("networkpolicy", m.of("NetworkPolicy")),
        "<node>": ("node", None),
        "<namespace>": ("namespace", None),
        # Named objects outside k8s/: accepted where their kind belongs.
        "<app>": ("deployment", EXTERNAL),   # an application's Deployment
        "<old-pod>": ("pod", EXTERNAL),      # the single-instance server (application.md)
        "<instance>": ("an instance label value", None),
        "<standby>": ("a standby label value", None),
        "<bigger>": ("a storage size", None),
        "<n>": ("a number", None),
        "<pid>": ("a process id", None),
        "<id>": ("a silence id", None),
        "<ip>": ("an address", None),
        "<pod-ip>": ("an address", None),
        "<replica-pod-ip>": ("an address", None),
        "<folder>": ("a Grafana folder", None),
        "<lsn>": ("an LSN", None),
    }


TYPES = {
    "pod": "pod", "pods": "pod", "po": "pod",
    "statefulset": "statefulset", "statefulsets": "statefulset", "sts": "statefulset",
    "deployment": "deployment", "deployments": "deployment", "deploy": "deployment",
    "service": "service", "services": "service", "svc": "service",
    "endpoints": "service", "ep": "service",
    "configmap": "configmap", "configmaps": "configmap", "cm": "configmap",
    "secret": "secret", "secrets": "secret",
    "pdb": "pdb", "poddisruptionbudget": "pdb", "poddisruptionbudgets": "pdb",
    "pvc": "pvc", "persistentvolumeclaim": "pvc", "persistentvolumeclaims": "pvc",
    "networkpolicy": "networkpolicy", "networkpolicies": "networkpolicy",
    "netpol": "networkpolicy",
}
KINDS = {"statefulset": "StatefulSet", "deployment": "Deployment", "service": "Service",
         "configmap": "ConfigMap", "secret": "Secret", "pdb": "PodDisruptionBudget",
         "networkpolicy": "NetworkPolicy"}
# Types whose names are not the manifests' (nodes, events, CRDs, ...).
FREE_TYPES = {"node", "nodes", "events", "event", "crd", "crds", "namespace",
              "namespaces", "all", "pv", "storageclass", "ns"}
VALUE_FLAGS = {"-l", "--selector", "-c", "--container", "-n", "--namespace", "-o",
               "--output", "-p", "--patch", "-f", "--filename", "--context",
               "--tail", "--since", "--sort-by", "--timeout", "--replicas",
               "--grace-period", "--type", "-k"}
VERBS_WITH_TYPE = {"get", "describe", "delete", "scale", "patch", "edit", "label",
                   "annotate", "top", "wait"}
# Objects of earlier versions that the docs may tell you to delete, and
# only that (k8s/pdb.yaml: one budget replaced these two).
REMOVED = {("pdb", "postgres-primary"), ("pdb", "postgres-replica")}
VERBS_WITH_POD = {"exec", "logs", "port-forward", "attach", "cp"}


def code_texts(text):
    """The code of a Markdown text: fenced blocks (continuation lines
    joined) and inline spans."""
    out = []
    fence = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.S | re.M)
    for block in fence.findall(text):
        out.append(block.replace("\\\n", " "))
    rest = fence.sub("", text)
    out += re.findall(r"``(.+?)``|`([^`\n]+)`", rest)
    return [t if isinstance(t, str) else (t[0] or t[1]) for t in out]


def kubectl_commands(code):
    """Token lists of the kubectl commands in a piece of code."""
    cmds = []
    for line in code.split("\n"):
        for m in re.finditer(r"\bkubectl\s", line):
            part = line[m.end():]
            try:
                tokens = shlex.split(part, comments=True)
            except ValueError:
                tokens = part.split()
            cut = []
            for t in tokens:
                if t in ("|", "||", "&&", ";", ")") or t.startswith("|"):
                    break
                cut.append(t)
            cmds.append(cut)
    return cmds


class Checker:
    def __init__(self, manifests):
        self.m = manifests
        self.ph = placeholders(manifests)
        self.findings = []
        self.doc_pods = set()  # pods the text itself defines (kind: Pod)

    def fail(self, where, msg):
        self.findings.append(f"{where}: {msg}")

    # A name of `kind` ("pod", "statefulset", ...), literal or placeholder.
    def need(self, where, kind, name):
        if name.startswith("<"):
            if name not in self.ph:
                self.fail(where, f"unknown placeholder {name}")
                return set()
            pkind, values = self.ph[name]
            if pkind != kind or values is None:
                self.fail(where, f"placeholder {name} ({pkind}) where a {kind} name belongs")
                return set()
            return set() if values is EXTERNAL else values
        if kind == "pod":
            ok = name in self.m.pods or name in self.doc_pods
        elif kind == "pvc":
            ok = name in self.m.pvcs
        elif kind == "slot":
            ok = name in self.m.slots()
        elif kind == "container":
            ok = any(name in t[3] for t in self.m.templates)
        else:
            ok = name in self.m.of(KINDS[kind])
        if not ok:
            self.fail(where, f"no {kind} {name} in the manifests")
            return set()
        return {name}

    def selector(self, where, kind, sel):
        pairs = {}
        for part in sel.split(","):
            if "=" not in part or "!" in part:
                self.fail(where, f"selector {sel}: only k=v terms are checked")
                return
            k, v = part.split("=", 1)
            pairs[k.strip()] = v.strip()
        if kind in (None, "pod"):
            if not self.m.pod_templates_matching(pairs):
                self.fail(where, f"-l {sel} selects no pods of the manifests")
        else:
            hits = [n for n in self.m.of(KINDS.get(kind, "")) if all(
                self.m.labels[(KINDS[kind], n)].get(a) == b for a, b in pairs.items())]
            if not hits:
                self.fail(where, f"-l {sel} selects no {kind} of the manifests")

    def command(self, where, tokens, loops=None):
        # A shell variable of a `for VAR in A B C` loop in the same code
        # stands for each of its words; another variable is not checkable.
        expanded = []
        for t in tokens:
            m = re.fullmatch(r"\$\{?([A-Za-z_]\w*)\}?", t)
            if m and loops and m.group(1) in loops:
                for word in loops[m.group(1)]:
                    self.command(where, [word if x is t else x for x in tokens], loops)
                return
            if m:
                self.fail(where, f"kubectl {' '.join(tokens)}: {t} is not a loop over known names")
                return
            expanded.append(t)
        tokens = expanded
        pos, flags = [], {}
        i = 0
        while i < len(tokens):
            t = tokens[i]
            if t == "--":
                break
            if t.startswith("-") and len(t) > 1:
                name, eq, value = t.partition("=")
                if not eq and name in VALUE_FLAGS and i + 1 < len(tokens):
                    value = tokens[i + 1]
                    i += 1
                flags[name] = value
            else:
                pos.append(t)
            i += 1
        if not pos:
            return
        verb, args = pos[0], pos[1:]
        if verb == "rollout" and args:
            args = args[1:]
            verb = "get"
        where = f"{where}: kubectl {' '.join(tokens)}"
        kind, names = None, []
        if verb in VERBS_WITH_POD and args:
            ref = args[0]
            if "/" in ref:
                t, n = ref.split("/", 1)
                kind, names = TYPES.get(t), [n]
            else:
                kind, names = "pod", [ref]
        elif verb in VERBS_WITH_TYPE and args:
            t = args[0]
            if "/" in t:
                for ref in args:
                    if "/" not in ref:
                        continue
                    rt, n = ref.split("/", 1)
                    if rt in TYPES:
                        for v in self.need(where, TYPES[rt], n):
                            pass
                kind = TYPES.get(t.split("/")[0])
            elif t in TYPES:
                kind, names = TYPES[t], args[1:]
            elif t not in FREE_TYPES and verb != "top":
                self.fail(where, f"unknown resource type {t}")
        elif verb == "apply" and flags.get("-f") not in (None, "-"):
            path = flags["-f"]
            # k8s/secrets.yaml is made from its .example (git-ignored).
            full = os.path.join(SOURCE_DIR, path)
            if path.startswith("k8s/") and not os.path.exists(full) and \
                    not os.path.exists(full + ".example"):
                self.fail(where, f"no file {path}")
        pods = set()
        for n in names:
            if kind is None or (verb == "delete" and (kind, n) in REMOVED):
                continue
            got = self.need(where, kind, n)
            if kind == "pod":
                pods |= got
        sel = flags.get("-l") or flags.get("--selector")
        if sel:
            self.selector(where, kind, sel)
        container = flags.get("-c") or flags.get("--container")
        if container:
            if container.startswith("<"):
                self.need(where, "container", container)
            else:
                for p in pods:
                    if p.startswith("deployment:"):
                        cs = [c for k, n, _, cs_, _ in self.m.templates
                              if n == p.split(":")[1] for c in cs_]
                    else:
                        cs = self.m.pods[p][1]
                    if container not in cs:
                        self.fail(where, f"pod {p} has no container {container}")
        out = flags.get("-o") or ""
        for key in re.findall(r"\{\.data\.([A-Za-z0-9_.-]+)\}", out):
            for n in names:
                if kind in ("secret", "configmap") and not n.startswith("<"):
                    if key not in self.m.data.get((KINDS[kind], n), set()):
                        self.fail(where, f"{KINDS[kind]} {n} has no key {key}")

    def slots(self, where, code):
        found = re.findall(r"pg_(?:create_physical|drop)_replication_slot\('([^']+)'", code)
        found += re.findall(r"\bslot_name\s*=\s*'([^']+)'", code)
        found += re.findall(r"\bslot=\"([^\"]+)\"", code)
        found += re.findall(r"(?:\s-S\s+|--slot=)(\S+)", code)
        if re.fullmatch(r"[a-z][a-z0-9_]*_\d+", code.strip()):
            found.append(code.strip())
        for s in found:
            self.need(where, "slot", s)

    def names_in_prose(self, where, text):
        for kind, name in re.findall(r"\b(Secret|ConfigMap)s?\s+`([^`]+)`", text) + \
                [(k, n) for n, k in re.findall(r"`([^`]+)`\s+(Secret|ConfigMap)\b", text)]:
            if name.startswith("<") or re.fullmatch(r"[a-z0-9][a-z0-9.-]*", name):
                self.need(where, kind.lower(), name)
        for key, kind, name in re.findall(
                r"`([A-Z][A-Z0-9_]+)`\s+(?:key\s+)?(?:in|of)\s+(?:the\s+)?"
                r"(Secret|ConfigMap)?\s*`([a-z<][a-z0-9<>.-]*)`", text):
            kinds = [kind] if kind else ["ConfigMap", "Secret"]
            if name.startswith("<"):
                self.need(where, (kind or "configmap").lower(), name)
                continue
            objs = [k for k in kinds if (k, name) in self.m.data]
            if objs and not any(key in self.m.data[(k, name)] for k in objs):
                self.fail(where, f"{objs[0]} {name} has no key {key}")

    def claims(self, where, text):
        replica_pods = [p for p in self.m.database_pods() if "replica" in p]
        owners = {self.m.pods[p][2] for p in replica_pods}
        flat = re.sub(r"\s+", " ", text)
        if len(owners) < len(replica_pods):
            for m in re.finditer(r"[^.]*\b(its own StatefulSet|own StatefulSets?|"
                                 r"StatefulSet (?:per|for each) replica|"
                                 r"each replica(?: has| from)? (?:a|its) StatefulSet)[^.]*",
                                 flat, re.I):
                self.fail(where, f"replicas share one StatefulSet ({', '.join(sorted(owners))}),"
                                 f" but the text says: {m.group(0).strip()!r}")

    def check(self, name, text):
        for code in code_texts(text):
            if re.search(r"^kind: Pod$", code, re.M):
                try:
                    for d in yaml.safe_load_all(code):
                        if isinstance(d, dict) and d.get("kind") == "Pod":
                            self.doc_pods.add(d["metadata"]["name"])
                except yaml.YAMLError:
                    self.fail(name, f"a Pod in the text is not YAML: {code[:60]!r}")
        for code in code_texts(text):
            for ph in re.findall(r"<[a-z][a-z0-9-]*>", code):
                if ph not in self.ph:
                    self.fail(name, f"unknown placeholder {ph} in `{code.strip()[:80]}`")
            loops = {v: words.split() for v, words in
                     re.findall(r"\bfor (\w+) in ([^;\n]+);", code)}
            for tokens in kubectl_commands(code):
                self.command(name, tokens, loops)
            self.slots(name, code)
        self.names_in_prose(name, text)
        self.claims(name, text)
        return self.findings


MANIFESTS = None


def manifests():
    global MANIFESTS
    if MANIFESTS is None:
        MANIFESTS = Manifests(render())
    return MANIFESTS


def findings(text, m=None):
    return Checker(m or manifests()).check("snippet", text)


# ---------------------------------------------------------------- tests

def test_docs_match_manifests():
    total = []
    for doc in DOCS:
        with open(os.path.join(SOURCE_DIR, doc)) as f:
            text = f.read()
        got = Checker(manifests()).check(doc, text)
        commands = sum(len(kubectl_commands(c)) for c in code_texts(text))
        log(f"{doc}: {commands} kubectl commands, {len(got)} problems")
        assert commands > 0 or doc == "docs/application.md", doc
        total += got
    assert not total, "\n".join(total)


def test_catches_each_known_mistake():
    m = manifests()
    unlabelled = copy.deepcopy(m.objects)
    for o in unlabelled:
        if o["kind"] == "StatefulSet":
            o["spec"]["template"]["metadata"]["labels"].pop("app", None)
    without_label = Manifests(unlabelled)
    bad = {
        "`kubectl get pods -l app=postgres -o wide`": (without_label, "-l app=postgres selects no pods"),
        "run `SELECT pg_drop_replication_slot('replica_0');` on the primary": (m, "no slot replica_0"),
        "slots `replica_0` and `replica_1`": (m, "no slot replica_0"),
        "`kubectl get secret <db-secret> -o jsonpath='{.data.POSTGRES_PASSWORD}'`": (m, "unknown placeholder <db-secret>"),
        "`DB_HOST` in `<db-config>`": (m, "unknown placeholder <db-config>"),
        "replica pods `postgres-replica-0` and `postgres-replica-1`, each from its\n"
        "    own StatefulSet.": (m, "replicas share one StatefulSet"),
        "`kubectl logs postgres-0 --since=30m`": (m, "no pod postgres-0"),
        "`kubectl get pods -l app=pgrepl-exporter`": (m, "-l app=pgrepl-exporter selects no pods"),
        "`kubectl get secret postgres-credentials -o jsonpath='{.data.PASSWORD}'`": (m, "has no key PASSWORD"),
        "`kubectl exec postgres-replica-0 -c sidecar -- true`": (m, "has no container sidecar"),
        "`kubectl scale statefulset postgres-replica-1 --replicas=0`": (m, "no statefulset postgres-replica-1"),
        "`kubectl exec <exporter-pod> -- psql`, `kubectl describe pdb postgres-primary`": (m, "no pdb postgres-primary"),
        "```sh\nkubectl exec -it postgres-primary-0 -- \\\n  psql -c \"SELECT pg_create_physical_replication_slot('replica_1', true);\"\n```":
            (m, "no slot replica_1"),
        "`<replica-sts>`": (m, "unknown placeholder <replica-sts>"),
        "   ```sh\n   for pod in postgres-primary-0 postgres-0; do\n     kubectl exec $pod -- true\n   done\n   ```": (m, "no pod postgres-0"),
        "`kubectl logs $POD`": (m, "$POD is not a loop over known names"),
        "the Secret `db-secret`": (m, "no secret db-secret"),
        "`PGREPL_DISCOVERY` in `pgrepl-config`": (m, "ConfigMap pgrepl-config has no key PGREPL_DISCOVERY"),
        "`kubectl delete pod <namespace>`": (m, "placeholder <namespace> (namespace) where a pod name belongs"),
        "`kubectl scale statefulset <app> --replicas=0`": (m, "placeholder <app> (deployment) where a statefulset name belongs"),
    }
    for snippet, (mf, want) in bad.items():
        got = findings(snippet, mf)
        assert any(want in f for f in got), (snippet, want, got)
    good = [
        "`kubectl get pods -l app=postgres -o wide`",
        "`SELECT pg_drop_replication_slot('postgres_replica_0');`",
        "slots `postgres_replica_0` and `postgres_replica_1`",
        "`kubectl get secret postgres-credentials -o jsonpath='{.data.POSTGRES_PASSWORD}' | base64 -d`",
        "`DB_REPLICA_HOST` in `pgrepl-config`",
        "replica pods `postgres-replica-0` and `postgres-replica-1`, both from the StatefulSet `postgres-replica`.",
        "`kubectl logs <replica-pod> -c bootstrap`, `kubectl exec <exporter-pod> -- true`",
        "`kubectl get endpoints postgres-primary postgres-replica -o wide`",
        "`kubectl delete pdb postgres-primary postgres-replica --ignore-not-found`",
        "`kubectl describe pdb postgres` and `kubectl get pvc data-postgres-replica-1`",
        "`kubectl get pods -l app.kubernetes.io/name=pgrepl-exporter`",
    ]
    for snippet in good:
        got = findings(snippet)
        assert got == [], (snippet, got)
    log(f"{len(bad)} wrong snippets caught, {len(good)} right ones passed")


def test_slot_rule():
    """The slot names the checker accepts are those replica-bootstrap.sh
    makes: the pod name, '-' -> '_'."""
    with open(os.path.join(SOURCE_DIR, "k8s", "scripts", "replica-bootstrap.sh")) as f:
        script = f.read()
    assert "tr -c 'a-z0-9_' '_'" in script and 'slot=$(printf \'%s\' "$pod"' in script, \
        "replica-bootstrap.sh names slots differently now: update Manifests.slots"
    assert manifests().slots() == {"postgres_primary_0", "postgres_replica_0", "postgres_replica_1"}


def test_configmap_contract():
    m = manifests()
    cm = next(o for o in m.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "pgrepl-config")
    assert cm["data"]["DB_HOST"] == "postgres-primary", cm["data"]
    assert cm["data"]["DB_REPLICA_HOST"] == "postgres-replica", cm["data"]
    services = {o["metadata"]["name"]: o for o in m.objects if o["kind"] == "Service"}
    # The applications' endpoints: the router's write and read ports.
    for key, port in (("DB_HOST", "write"), ("DB_REPLICA_HOST", "read")):
        svc = services[cm["data"][key]]
        assert svc["spec"]["ports"][0]["targetPort"] == port, (key, svc["spec"])
    # The exporter's discovery: a headless Service of the replica pods.
    disc = services[cm["data"]["PGREPL_DISCOVERY_HOST"]]
    assert disc["spec"].get("clusterIP") == "None", disc["spec"]
    assert disc["spec"]["selector"] == {"app.kubernetes.io/name": "postgres",
                                        "app.kubernetes.io/component": "replica"}
    # Every consumer of the ConfigMap: the exporter gets discovery as its
    # DB_REPLICA_HOST; nothing takes the whole ConfigMap with envFrom (it
    # would get the applications' DB_REPLICA_HOST instead).
    for o in m.objects:
        if o["kind"] not in ("Deployment", "StatefulSet"):
            continue
        spec = o["spec"]["template"]["spec"]
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            where = f"{o['metadata']['name']}/{c['name']}"
            assert not any("configMapRef" in e for e in c.get("envFrom", [])), where
            env = {e["name"]: e.get("valueFrom", {}).get("configMapKeyRef", {}).get("key")
                   for e in c.get("env", [])}
            if o["metadata"]["name"] == "pgrepl-exporter":
                assert env["DB_REPLICA_HOST"] == "PGREPL_DISCOVERY_HOST", env
                assert env["DB_HOST"] == "DB_HOST", env
            else:
                assert "DB_REPLICA_HOST" not in env, where


def test_app_label_lists_the_three_databases():
    m = manifests()
    hits = m.pod_templates_matching({"app": "postgres"})
    pods = sorted(f"{n}-{i}" for k, n, r in hits for i in range(r))
    assert pods == ["postgres-primary-0", "postgres-replica-0", "postgres-replica-1"], hits
    assert all(k == "StatefulSet" for k, _, _ in hits), hits
    # Not in any selector: StatefulSet selectors are immutable, and a
    # Service or policy selecting by it would change meaning.
    for o in m.objects:
        sel = (o.get("spec") or {}).get("selector") or {}
        sel = sel.get("matchLabels", sel) if isinstance(sel, dict) else {}
        assert "app" not in sel, (o["kind"], o["metadata"]["name"], sel)


def test_disruption_budgets_never_block_every_drain():
    m = manifests()
    pdbs = [o for o in m.objects if o["kind"] == "PodDisruptionBudget"]
    covered = {}
    for pdb in pdbs:
        sel = pdb["spec"]["selector"]["matchLabels"]
        hits = m.pod_templates_matching(sel)
        count = sum(r for _, _, r in hits)
        assert count > 0, pdb["metadata"]["name"]
        spec = pdb["spec"]
        # A drain can always evict one pod while the others are healthy:
        # maxUnavailable >= 1, or minAvailable below the pod count.
        if "maxUnavailable" in spec:
            assert spec["maxUnavailable"] >= 1, spec
        else:
            assert spec["minAvailable"] < count, (pdb["metadata"]["name"], spec, count)
        for _, name, r in hits:
            for i in range(r):
                covered.setdefault(f"{name}-{i}", []).append(pdb["metadata"]["name"])
    # A pod in two budgets cannot be evicted at all.
    assert all(len(v) == 1 for v in covered.values()), covered
    db = [p for p in pdbs if p["metadata"]["name"] == "postgres"][0]
    assert db["spec"] == {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow",
                          "selector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}}}
    assert sorted(p for p, v in covered.items() if v == ["postgres"]) == m.database_pods()
    with open(os.path.join(SOURCE_DIR, "docs", "runbooks.md")) as f:
        runbooks = f.read()
    section = runbooks.split("### Drain the primary's node", 1)
    assert len(section) == 2, "docs/runbooks.md has no 'Drain the primary's node'"
    body = section[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    for want in ("kubectl drain", "k8s/failover.sh switchover", "pg_is_in_recovery()"):
        assert want in body, want
    # The apply.sh removes the budgets of earlier versions.
    with open(os.path.join(SOURCE_DIR, "k8s", "apply.sh")) as f:
        assert "delete poddisruptionbudget postgres-primary postgres-replica" in f.read()


def test_database_files_refuse_plain_apply():
    """kubectl apply -f of k8s/postgres-primary.yaml or -replica.yaml alone
    would reference ConfigMaps only kustomize makes: every object there
    carries kustomizeOnly (the API server refuses an unknown field, so
    nothing is created), the rendering carries none, and the file's header
    and README say exactly what to run."""
    for name in ("postgres-primary.yaml", "postgres-replica.yaml"):
        path = os.path.join(SOURCE_DIR, "k8s", name)
        with open(path) as f:
            text = f.read()
        docs = [d for d in yaml.safe_load_all(text) if d]
        assert docs and all("kustomizeOnly" in d for d in docs), name
        assert "kubectl apply -f k8s/secrets.yaml && kubectl apply -k k8s/ && " \
               "kubectl apply -k k8s/monitoring/" in text, name
        assert text.index("kustomizeOnly") > text.index("./k8s/apply.sh"), name
    for o in manifests().objects:
        assert "kustomizeOnly" not in o, (o["kind"], o["metadata"]["name"])
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        readme = f.read()
    for want in ("kubectl apply -k k8s/", 'unknown field "kustomizeOnly"', "./k8s/apply.sh"):
        assert want in readme, want
    r = subprocess.run([os.path.join(SOURCE_DIR, "k8s", "apply.sh"), "--help"],
                       text=True, capture_output=True, timeout=30)
    assert r.returncode == 0 and "kubectl apply -k k8s/" in r.stdout, r.stdout


def test_application_secret_and_role():
    m = manifests()
    assert "POSTGRES_PASSWORD" in m.data[("Secret", "postgres-credentials")]
    sts = next(o for o in m.objects if o["kind"] == "StatefulSet"
               and o["metadata"]["name"] == "postgres-primary")
    pg = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "postgres")
    env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in pg["env"]}
    assert env["POSTGRES_PASSWORD"] == {"name": "postgres-credentials", "key": "POSTGRES_PASSWORD"}
    with open(os.path.join(SOURCE_DIR, "k8s", "config", "pg_hba.conf")) as f:
        hba = [ln.split() for ln in f if ln.strip() and not ln.startswith("#")]
    assert ["local", "app_db", "postgres_user", "scram-sha-256"] in hba, hba


def main():
    if shutil.which("kubectl") is None:
        print("SKIP: kubectl not found (needed for kubectl kustomize; no cluster)")
        return SKIP
    if yaml is None:
        print("SKIP: PyYAML not found (Debian: python3-yaml)")
        return SKIP
    return run_tests([test_catches_each_known_mistake, test_slot_rule,
                      test_configmap_contract, test_app_label_lists_the_three_databases,
                      test_disruption_budgets_never_block_every_drain,
                      test_database_files_refuse_plain_apply,
                      test_application_secret_and_role, test_docs_match_manifests])


if __name__ == "__main__":
    sys.exit(main())
