#!/usr/bin/env bash
# The deployment files in deploy/ are valid and agree with zetl: the Prometheus rules pass
# promtool check and their unit tests, and those tests catch a broken rule (each alert's rule is
# broken in turn and the tests must fail); every YAML file parses and holds the kinds it should,
# with names, ports, probes, secrets and the KEDA trigger matching across files; the options the
# manifests and units pass are ones the binaries' --help lists; the ConfigMap's pipeline is a
# configuration zetl accepts; the dashboard is JSON whose queries parse; the image installs every
# library the binaries link; systemd-analyze verifies the units. Needs no PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
testenv_init

deploy=$ZETL_SOURCE/deploy
rules=$deploy/prometheus/zetl-alerts.yaml
rule_tests=$deploy/prometheus/zetl-alerts.test.yaml
[ -d "$deploy" ] || testenv_fail "no $deploy; set ZETL_SOURCE to the repository"
#  These files hold no C code for the sanitizers to watch: the plain run checks them
[ "${ZETL_TEST_SHORT:-0}" != 1 ] || testenv_skip "deployment files are checked in the plain run (ZETL_TEST_SHORT)"
command -v promtool >/dev/null 2>&1 || testenv_skip "promtool is missing (apt-get install prometheus)"
"$TESTENV_PYTHON" -c 'import yaml' 2>/dev/null || testenv_skip "$TESTENV_PYTHON lacks yaml (apt-get install python3-yaml)"

#  1. The rules: promtool check and the unit tests
promtool check rules "$rules" > "$TESTENV_DIR/check_rules.log" 2>&1 \
    || testenv_fail "promtool check rules $rules failed"
promtool test rules "$rule_tests" > "$TESTENV_DIR/test_rules.log" 2>&1 \
    || testenv_fail "promtool test rules $rule_tests failed"
echo "promtool: rules check and their unit tests pass"

#  2. The unit tests can fail: break each alert's rule in a copy and expect promtool test rules
#  to fail on it. Each mutation is "alert|old text|new text" within that alert's rule.
mutants=(
    'ZetlErrorRateHigh|> 0.05|> 0.5'
    'ZetlWatermarkLagHigh|> 3600|> 36000'
    'ZetlPipelineStopped|[10m])) == 0|[10m])) >= 0'
    'ZetlCoordinatorDown|up{job="zetl-coordinator"} == 0|up{job="zetl-coordinator"} == 2'
    'ZetlCompletenessGap|> 0|> 1000'
    'ZetlDataStale|* 0 + 3600|* 0 + 360000'
    'ZetlArrivalRateChanged|) > 0.5|) > 5'
)
mkdir "$TESTENV_DIR/mutant"
for mutant in "${mutants[@]}"; do
    IFS='|' read -r alert old new <<< "$mutant"
    #  The broken rules, and the unit tests of that alert alone (promtool runs every test of a
    #  file, and the day-long ones take seconds)
    "$TESTENV_PYTHON" - "$rules" "$rule_tests" "$TESTENV_DIR/mutant" "$alert" "$old" "$new" <<'EOF' \
        || testenv_fail "cannot break $alert: '$old' is not in its rule"
import sys, yaml
rules, tests, out, alert, old, new = sys.argv[1:]
text = open(rules).read()
start = text.index("- alert: " + alert)
end = text.find("- alert: ", start + 1)
end = len(text) if end < 0 else end
rule = text[start:end]
if old not in rule:
    sys.exit(1)
open(out + "/zetl-alerts.yaml", "w").write(text[:start] + rule.replace(old, new, 1) + text[end:])
suite = yaml.safe_load(open(tests))
suite["tests"] = [t for t in suite["tests"]
                  if any(case.get("alertname") == alert for case in t.get("alert_rule_test", []))]
suite["rule_files"] = ["zetl-alerts.yaml"]
yaml.safe_dump(suite, open(out + "/zetl-alerts.test.yaml", "w"))
EOF
    promtool check rules "$TESTENV_DIR/mutant/zetl-alerts.yaml" > /dev/null 2>&1 \
        || testenv_fail "the broken $alert rule does not even parse: fix the mutation '$old'"
    if promtool test rules "$TESTENV_DIR/mutant/zetl-alerts.test.yaml" > /dev/null 2>&1; then
        testenv_fail "the unit tests still pass with $alert broken ('$old' -> '$new'): they do not test it"
    fi
done
echo "promtool: the unit tests fail on each of ${#mutants[@]} broken rules"

#  3. Every YAML file parses; kinds, names and cross-references
help_dir=$TESTENV_DIR/help
mkdir "$help_dir"
for binary in coordinator/zetl-coordinator worker/zetl-worker sink/zetl-sink ctl/zetlctl; do
    if [ -x "$ZETL_BIN/$binary" ]; then
        "$ZETL_BIN/$binary" --help > "$help_dir/$(basename "$binary")" 2>&1 \
            || testenv_fail "$ZETL_BIN/$binary --help failed"
    fi
done
[ -n "$(ls "$help_dir")" ] \
    || echo "note: no binaries under $ZETL_BIN (set ZETL_BIN to a build): options not checked against --help"
"$TESTENV_PYTHON" - "$deploy" "$help_dir" > "$TESTENV_DIR/structure.log" 2>&1 <<'EOF' \
    || testenv_fail "deploy/ files disagree: $(grep "^FAIL" "$TESTENV_DIR/structure.log" | head -n 5)"
import glob, json, os, re, sys
import yaml

deploy, help_dir = sys.argv[1:]
errors = []


def check(ok, message):
    if not ok:
        errors.append(message)
    return ok


#  Every YAML file under deploy/ parses
docs = {}
paths = sorted(glob.glob(os.path.join(deploy, "**", "*.yaml"), recursive=True)
               + glob.glob(os.path.join(deploy, "**", "*.yml"), recursive=True))
for path in paths:
    try:
        with open(path) as f:
            docs[os.path.relpath(path, deploy)] = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as error:
        errors.append(f"{path}: {error}")
print(f"parsed {len(docs)} YAML files")
kinds = {}
for name, items in docs.items():
    for item in items:
        if isinstance(item, dict) and "kind" in item:
            key = (item["kind"], item.get("metadata", {}).get("name"))
            check(key not in kinds, f"{name}: {key} is defined twice")
            kinds[key] = (name, item)
            check("namespace" not in item.get("metadata", {}),
                  f"{name}: {key} names a namespace; the manifests are namespace-agnostic")


def need(kind, name):
    found = kinds.get((kind, name))
    check(found is not None, f"no {kind} {name} in deploy/")
    return found[1] if found else {}


def help_lists(command, option):
    path = os.path.join(help_dir, os.path.basename(command))
    if not os.path.exists(path):
        return True  # not built: nothing to compare with
    return re.search(r"(^|\s)" + re.escape(option) + r"(\s|,|$)", open(path).read(), re.M) is not None


def check_options(where, command, args):
    for arg in args:
        if arg.startswith("--"):
            check(help_lists(command, arg), f"{where}: {command} --help lists no {arg}")


def container(deployment):
    spec = deployment.get("spec", {})
    template = spec.get("template", {})
    labels = template.get("metadata", {}).get("labels", {})
    selector = spec.get("selector", {}).get("matchLabels", {})
    name = deployment.get("metadata", {}).get("name")
    check(selector and all(labels.get(k) == v for k, v in selector.items()),
          f"Deployment {name}: selector {selector} does not match the pod labels {labels}")
    containers = template.get("spec", {}).get("containers", [])
    check(len(containers) == 1, f"Deployment {name}: expected one container")
    c = containers[0] if containers else {}
    command = (c.get("command") or [""])[0]
    check_options(f"Deployment {name}", command, c.get("args", []))
    for env in c.get("env", []):
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            check(ref.get("name") == "zetl-secrets", f"Deployment {name}: {env['name']} from secret {ref.get('name')}")
    return template, c


def env_of(c):
    return {e["name"]: e for e in c.get("env", [])}


def secret_env(where, c, names):
    env = env_of(c)
    for name in names:
        ref = env.get(name, {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(ref.get("key") == name, f"{where}: {name} does not come from the Secret")


#  Kubernetes: the pipeline ConfigMap, and what the coordinator listens on
configmap = need("ConfigMap", "zetl-pipeline")
pipeline = yaml.safe_load(configmap.get("data", {}).get("pipeline.yaml", "") or "{}") or {}
cluster = pipeline.get("cluster", {})
check(pipeline.get("pipelines"), "ConfigMap zetl-pipeline: pipeline.yaml has no pipelines")
ports = {}
for key, default in (("producers", 5570), ("workers", 5571), ("sinks", 5572), ("events", 5573)):
    port = int(str(cluster.get(key, f"tcp://*:{default}")).rsplit(":", 1)[1])
    ports[key] = port
    check(port == default, f"pipeline.yaml: cluster.{key} port {port}, the manifests use {default}")
http = str(cluster.get("http", "127.0.0.1:8080"))
check(http.rsplit(":", 1)[0] in ("0.0.0.0", "*", "[::]"),
      f"pipeline.yaml: cluster.http {http} is not reachable from outside the pod")
check(http.rsplit(":", 1)[1] == "8080", f"pipeline.yaml: cluster.http port is not 8080")

coordinator = need("Deployment", "zetl-coordinator")
template, c = container(coordinator)
check(coordinator.get("spec", {}).get("replicas") == 1, "coordinator: replicas must be 1")
check(c.get("command") == ["zetl-coordinator"], f"coordinator: command {c.get('command')}")
container_ports = {p.get("containerPort") for p in c.get("ports", [])}
check({5570, 5571, 5572, 5573, 8080} <= container_ports, f"coordinator: ports {sorted(container_ports)}")
check(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", "coordinator: liveness is not /healthz")
check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", "coordinator: readiness is not /readyz")
secret_env("coordinator", c, ["ZETL_POSTGRES", "ZETL_REDIS", "ZETL_API_TOKEN"])
annotations = template.get("metadata", {}).get("annotations", {})
check(annotations.get("prometheus.io/scrape") == "true" and annotations.get("prometheus.io/port") == "8080",
      f"coordinator: scrape annotations {annotations}")
args = c.get("args", [])
config_path = args[args.index("--config") + 1] if "--config" in args[:-1] else ""
mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
volumes = {v["name"]: v for v in template.get("spec", {}).get("volumes", [])}
config_volume = [n for n, v in volumes.items() if v.get("configMap", {}).get("name") == "zetl-pipeline"]
check(config_volume and os.path.join(mounts.get(config_volume[0], "?"), "pipeline.yaml") == config_path,
      f"coordinator: --config {config_path!r} is not the ConfigMap's pipeline.yaml")

service = need("Service", "zetl-coordinator")
selector = service.get("spec", {}).get("selector", {})
pod_labels = template.get("metadata", {}).get("labels", {})
check(selector and all(pod_labels.get(k) == v for k, v in selector.items()),
      "Service zetl-coordinator does not select the coordinator's pods")
check(service.get("spec", {}).get("publishNotReadyAddresses") is True,
      "Service zetl-coordinator must publish the pod before /readyz passes (workers connect through it)")
service_ports = {p.get("port") for p in service.get("spec", {}).get("ports", [])}
check({5570, 5571, 5572, 5573, 8080} <= service_ports, f"Service zetl-coordinator: ports {sorted(service_ports)}")

worker = need("Deployment", "zetl-worker")
template, c = container(worker)
args = c.get("args", [])
check(c.get("command") == ["zetl-worker"], f"worker: command {c.get('command')}")
check("--coordinator" in args and args[args.index("--coordinator") + 1] == f"tcp://zetl-coordinator:{ports['workers']}",
      f"worker: args {args}")
check(c.get("resources", {}).get("limits", {}).get("memory"), "worker: no memory limit")

sink = need("Deployment", "zetl-sink")
template, c = container(sink)
args = c.get("args", [])
check(c.get("command") == ["zetl-sink"], f"sink: command {c.get('command')}")
check("--coordinator" in args and args[args.index("--coordinator") + 1] == f"tcp://zetl-coordinator:{ports['sinks']}",
      f"sink: args {args}")
advertise = args[args.index("--advertise") + 1] if "--advertise" in args[:-1] else ""
bind = args[args.index("--bind") + 1] if "--bind" in args[:-1] else ""
check("$(POD_IP)" in advertise, f"sink: --advertise {advertise!r} does not use the pod IP")
check(bind.rsplit(":", 1)[-1] == advertise.rsplit(":", 1)[-1], f"sink: --bind {bind} and --advertise {advertise} differ in port")
check(env_of(c).get("POD_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.podIP",
      "sink: POD_IP does not come from the downward API")
secret_env("sink", c, ["ZETL_POSTGRES"])

need("Secret", "zetl-secrets")
kustomization = [item for name, items in docs.items() for item in items
                 if isinstance(item, dict) and item.get("kind") == "Kustomization"]
for item in kustomization:
    for resource in item.get("resources", []):
        check(os.path.exists(os.path.join(deploy, "kubernetes", resource)), f"kustomization: no {resource}")

#  KEDA: the worker Deployment, on zetl_desired_workers of this cluster
scaled = need("ScaledObject", "zetl-worker")
spec = scaled.get("spec", {})
check(spec.get("scaleTargetRef", {}).get("name") == "zetl-worker", "ScaledObject: target is not zetl-worker")
check(spec.get("minReplicaCount") == 1 and spec.get("maxReplicaCount") == 100, "ScaledObject: not 1..100")
triggers = spec.get("triggers", [])
check(len(triggers) == 1 and triggers[0].get("type") == "prometheus", "ScaledObject: one prometheus trigger")
query = triggers[0].get("metadata", {}).get("query", "") if triggers else ""
check("zetl_desired_workers" in query, f"ScaledObject: query {query!r}")
check(f'cluster="{cluster.get("name", "local")}"' in query,
      f"ScaledObject: query {query!r} is not for cluster {cluster.get('name')!r}")

#  Prometheus rules: group zetl, every alert with its labels and annotations
groups = docs.get("prometheus/zetl-alerts.yaml", [{}])[0].get("groups", [])
check([g.get("name") for g in groups] == ["zetl"], "zetl-alerts.yaml: one group, zetl")
alerts = {r.get("alert"): r for g in groups for r in g.get("rules", []) if "alert" in r}
for name in ("ZetlErrorRateHigh", "ZetlWatermarkLagHigh", "ZetlPipelineStopped", "ZetlCoordinatorDown",
             "ZetlCompletenessGap", "ZetlDataStale", "ZetlArrivalRateChanged"):
    rule = alerts.get(name)
    if check(rule is not None, f"zetl-alerts.yaml: no alert {name}"):
        check(rule.get("labels", {}).get("severity") in ("warning", "critical"), f"{name}: severity")
        for key in ("summary", "description", "runbook"):
            check(rule.get("annotations", {}).get(key), f"{name}: no annotation {key}")
tested = {t.get("alertname") for test in docs.get("prometheus/zetl-alerts.test.yaml", [{}])[0].get("tests", [])
          for t in test.get("alert_rule_test", [])}
check(set(alerts) <= tested, f"alerts without a unit test: {sorted(set(alerts) - tested)}")

#  systemd units: environment, restart, stop; options the binaries know
units = {"zetl-coordinator.service": "zetl-coordinator", "zetl-worker@.service": "zetl-worker",
         "zetl-sink@.service": "zetl-sink"}
for unit, binary in units.items():
    path = os.path.join(deploy, "systemd", unit)
    if not check(os.path.exists(path), f"no deploy/systemd/{unit}"):
        continue
    settings = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    for key, value in (("EnvironmentFile", "/etc/zetl/zetl.env"), ("Restart", "on-failure"), ("KillSignal", "SIGTERM")):
        check(settings.get(key) == [value], f"{unit}: {key}={settings.get(key)}, expected {value}")
    stop = settings.get("TimeoutStopSec", ["0"])[0]
    check(re.fullmatch(r"\d+s?", stop) and int(stop.rstrip("s")) >= 30,
          f"{unit}: TimeoutStopSec={stop} leaves a drain no time")
    for key in ("NoNewPrivileges", "ProtectSystem", "SystemCallFilter", "CapabilityBoundingSet"):
        check(key in settings, f"{unit}: no {key}= (hardening)")
    command = settings.get("ExecStart", [""])[0].split()
    check(command and command[0].endswith("/" + binary), f"{unit}: ExecStart runs {command[:1]}")
    check_options(unit, binary, command[1:])

#  The dashboard: JSON, and the panels the deployment promises
with open(os.path.join(deploy, "grafana", "zetl-dashboard.json")) as f:
    dashboard = json.load(f)
exprs = [t["expr"] for p in dashboard.get("panels", []) for t in p.get("targets", [])]
for metric in ("zetl_records_in_total", "zetl_watermark_lag_seconds", "zetl_queue_records",
               "zetl_desired_workers", "zetl_workers_connected", "zetl_batch_latency_seconds_bucket",
               "zetl_end_to_end_latency_seconds_bucket", "zetl_records_dead_lettered_total"):
    check(any(metric in e for e in exprs), f"dashboard: no panel reads {metric}")
#  Its queries, with the variables set, as recording rules for promtool to parse
rules = [{"record": f"zetl:panel_{i}", "expr": e.replace("$cluster", "eu").replace("$pipeline", ".*")}
         for i, e in enumerate(exprs)]
with open(os.path.join(os.environ["TESTENV_DIR"], "dashboard_queries.yaml"), "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
with open(os.path.join(os.environ["TESTENV_DIR"], "pipeline.yaml"), "w") as f:
    f.write(configmap.get("data", {}).get("pipeline.yaml", ""))

for error in errors:
    print("FAIL:", error)
print(f"{len(kinds)} objects, {len(errors)} errors")
sys.exit(1 if errors else 0)
EOF
echo "YAML: every file parses; kinds, names, ports, probes, secrets and options agree"

#  4. The dashboard: JSON, and queries that parse
"$TESTENV_PYTHON" -m json.tool "$deploy/grafana/zetl-dashboard.json" > /dev/null \
    || testenv_fail "deploy/grafana/zetl-dashboard.json is not JSON"
promtool check rules "$TESTENV_DIR/dashboard_queries.yaml" > "$TESTENV_DIR/dashboard_queries.log" 2>&1 \
    || testenv_fail "a dashboard query does not parse"
echo "dashboard: JSON, and its queries parse"

#  5. The ConfigMap's pipeline is a configuration zetl accepts. zetlctl status reads it as the
#  coordinator would, then looks for a coordinator for 1 s: exit 2 means the file was refused.
if [ -x "$TESTENV_ZETLCTL" ]; then
    rc=0
    "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/pipeline.yaml" --timeout 1 \
        > /dev/null 2> "$TESTENV_DIR/pipeline_check.log" || rc=$?
    [ "$rc" != 2 ] || testenv_fail "zetl refuses the ConfigMap's pipeline: $(cat "$TESTENV_DIR/pipeline_check.log")"
    echo "pipeline: zetl accepts the ConfigMap's configuration"
else
    echo "note: no $TESTENV_ZETLCTL: the ConfigMap's pipeline is not checked against zetl's parser"
fi

#  6. The image: two Debian 12 stages, a non-root user, and every library the built binaries
#  need is installed by the runtime stage
containerfile=$deploy/Containerfile
[ "$(grep -c '^FROM debian:12' "$containerfile")" = 2 ] || testenv_fail "Containerfile: not two Debian 12 stages"
user=$(awk '$1 == "USER" {u = $2} END {print u}' "$containerfile")
case ${user%%:*} in
    '' | 0 | root) testenv_fail "Containerfile: the image runs as root (USER '$user')" ;;
esac
runtime_packages=$(awk '/^FROM/ {stage++} stage == 2' "$containerfile" \
    | sed -n '/apt-get install/,/rm -rf/p' | tr -s ' \\' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
grep -q -- '-dev$' <<< "$runtime_packages" && testenv_fail "Containerfile: the runtime stage installs -dev packages"
if [ -x "$TESTENV_COORDINATOR" ] && command -v dpkg > /dev/null && command -v readelf > /dev/null; then
    #  library<TAB>package for the libraries the binaries name (NEEDED), each once
    : > "$TESTENV_DIR/libraries.txt"
    for binary in "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK" "$TESTENV_ZETLCTL"; do
        ldd "$binary" | awk 'NR == FNR {needed[$1] = 1; next} ($1 in needed) && $3 ~ /^\// {print $1, $3}' \
            <(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') - >> "$TESTENV_DIR/libraries.txt"
    done
    sort -u -o "$TESTENV_DIR/libraries.txt" "$TESTENV_DIR/libraries.txt"
    while read -r library path; do
        package=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1) || true
        case $package in
            #  in every Debian image; sanitizer runtimes (a sanitizer build, never the image's);
            #  or not from a package
            libc6 | libgcc-s1 | libasan* | libubsan* | '') continue ;;
        esac
        grep -qx "$package" <<< "$runtime_packages" \
            || testenv_fail "Containerfile: the binaries need $library ($package), which the runtime stage does not install"
    done < "$TESTENV_DIR/libraries.txt"
    echo "Containerfile: the runtime stage installs every library the binaries link"
else
    echo "note: no built binaries (or no dpkg/readelf): the image's libraries are not checked"
fi

#  7. systemd-analyze verify the units, where it runs: ExecStart points at stand-ins, since
#  verify insists on an executable there. Any complaint (an unknown key, a bad value) fails.
if command -v systemd-analyze > /dev/null && systemd-analyze --version > /dev/null 2>&1; then
    mkdir -p "$TESTENV_DIR/systemd/bin" "$TESTENV_DIR/systemd/units"
    for binary in zetl-coordinator zetl-worker zetl-sink; do
        printf '#!/bin/sh\nexit 0\n' > "$TESTENV_DIR/systemd/bin/$binary"
        chmod +x "$TESTENV_DIR/systemd/bin/$binary"
    done
    for unit in "$deploy"/systemd/*.service; do
        sed "s|/usr/local/bin/|$TESTENV_DIR/systemd/bin/|g" "$unit" > "$TESTENV_DIR/systemd/units/$(basename "$unit")"
    done
    #  A unit that cannot be wrong first: if verify fails on it, verify does not work here
    printf '[Service]\nExecStart=%s\n' "$TESTENV_DIR/systemd/bin/zetl-worker" > "$TESTENV_DIR/systemd/probe.service"
    cd "$TESTENV_DIR/systemd/units"
    rc=0
    systemd-analyze verify "$TESTENV_DIR/systemd/probe.service" > "$TESTENV_DIR/systemd_probe.log" 2>&1 || rc=$?
    if [ "$rc" != 0 ] || [ -s "$TESTENV_DIR/systemd_probe.log" ]; then
        echo "note: systemd-analyze verify cannot run here: $(head -n 1 "$TESTENV_DIR/systemd_probe.log")"
    else
        systemd-analyze verify ./*.service > "$TESTENV_DIR/systemd_verify.log" 2>&1 || rc=$?
        [ "$rc" = 0 ] && [ ! -s "$TESTENV_DIR/systemd_verify.log" ] \
            || testenv_fail "systemd-analyze verify complains about the units"
        echo "systemd: the units verify"
        #  systemd 250 and later rate a unit file's sandboxing offline
        if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
            for unit in ./*.service; do
                systemd-analyze security --offline=true --threshold=25 "$unit" \
                    > "$TESTENV_DIR/systemd_security_$(basename "$unit" .service).log" 2>&1 \
                    || testenv_fail "$(basename "$unit"): exposure above 2.5 in systemd-analyze security"
            done
            echo "systemd: each unit's exposure level is at most 2.5"
        fi
    fi
    cd "$TESTENV_DIR"
else
    echo "note: systemd-analyze is missing or cannot run here: the units are not verified"
fi

testenv_pass
