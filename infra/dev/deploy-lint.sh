#!/usr/bin/env bash
# Checks the deploy artefacts of infra/ (make lint):
#   systemd      systemd-analyze verify of infra/systemd/*.service (ExecStart pointed at the
#                built binary, which systemd-analyze requires to exist)
#   prometheus   promtool check rules / check config
#   kubernetes   every object of infra/k8s/*.yaml against the Kubernetes OpenAPI schemas
#                (npm package kubernetes-models, pinned in package.json; infra/dev/k8s-validate.mjs)
#   haproxy      haproxy -c of infra/haproxy/haat.cfg
#   grafana      the dashboard is JSON with panels
#
# Usage: infra/dev/deploy-lint.sh HAAT_BINARY
set -euo pipefail
prog=deploy-lint.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$repo"
bin=$(realpath -- "${1:?usage: $0 HAAT_BINARY}")
[[ -x "$bin" ]] || die "$bin is not an executable"
for tool in systemd-analyze promtool haproxy node; do
    command -v "$tool" >/dev/null || die "$tool not found (infra/dev/deps.sh lint)"
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/haat-deploy-lint.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

cp infra/systemd/*.service "$tmp/"
sed -i "s|/usr/local/bin/haat|$bin|g" "$tmp"/*.service
out=$(systemd-analyze verify --man=no "$tmp"/*.service 2>&1 | grep -v 'sysinit.target' || true)
[[ -z "$out" ]] || die "systemd-analyze verify: $out"

promtool check rules infra/prometheus/haat-rules.yml >/dev/null
(cd infra/prometheus && promtool check config --syntax-only prometheus.yml >/dev/null)

if [[ ! -d node_modules/kubernetes-models || package-lock.json -nt node_modules/.package-lock.json ]]; then
    say "installing the pinned Node.js tools (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
node infra/dev/k8s-validate.mjs infra/k8s/*.yaml >/dev/null

haproxy -q -c -f infra/haproxy/haat.cfg
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"]' \
    infra/prometheus/grafana-dashboard.json
