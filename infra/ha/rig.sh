#!/usr/bin/env bash
# The failover rig on one machine, loopback only: etcd (one member), two Patroni nodes
# (PostgreSQL 15 primary + synchronous streaming replica), HAProxy (a write port that follows
# the Patroni leader, a read port that prefers replicas and falls back to any readable node,
# an HTTP frontend) and three `haat serve` instances behind that frontend.
#
# Usage: infra/ha/rig.sh up|down|status|env|test
#   up      start everything (idempotent: a running rig is stopped first); state in var/ha/
#   down    stop everything the rig started (by the pids it recorded)
#   status  patronictl list and which pids are alive
#   env     print the rig's addresses as shell assignments (for scripts and tests)
#   test    up, run infra/ha/ha_test.py against it, down (always, through a trap)
#
# Environment: HAAT_BIN (default build/debug/haat), HAAT_HA_DIR (default var/ha).
# PostgreSQL and Patroni refuse root: as root they run as the system user haatpg (created if
# missing, as infra/dev/pg.sh does). Ports are fixed, in 57xxx (see "ports" below).
set -euo pipefail

prog=rig.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$repo"
dir=${HAAT_HA_DIR:-$repo/var/ha}
haat=${HAAT_BIN:-$repo/build/debug/haat}
pgbin=/usr/lib/postgresql/15/bin

# ports
etcd_client=57379 etcd_peer=57380
rest=(57008 57009) pgport=(57432 57433)
write_port=57500 read_port=57501 api_port=57080 stats_port=57081
haat_ports=(57181 57182 57183)

su_pass=ha-superuser-pass rep_pass=ha-replication-pass rw_pass=ha-rewind-pass
app_pass=ha-haat-pass
jwt=ha-rig-jwt-secret-0123456789abcdef0123456789
# HAAT_DATA_KEY seals bank account numbers at rest (64 hex digits); a fixed one for the rig.
data_key=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
sys_user=haatpg

write_url="postgresql://haat:$app_pass@127.0.0.1:$write_port/haat"
read_url="postgresql://haat:$app_pass@127.0.0.1:$read_port/haat"
admin_url="postgresql://postgres:$su_pass@127.0.0.1:$write_port/postgres"

runner=$(id -un)
if ((EUID == 0)); then runner=$sys_user; fi

# as_runner CMD...: exec CMD as the runner (setpriv execs in place: the pid is CMD's own).
as_runner() {
    if [[ "$runner" == "$(id -un)" ]]; then exec "$@"; fi
    cd / && exec setpriv --reuid="$runner" --regid="$runner" --init-groups -- "$@"
}

ensure_user() {
    ((EUID == 0)) || return 0
    id -u "$sys_user" >/dev/null 2>&1 && return 0
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "haat PostgreSQL" "$sys_user" 2>/dev/null ||
        id -u "$sys_user" >/dev/null 2>&1 || die "could not create system user $sys_user"
    say "created system user $sys_user (PostgreSQL and Patroni refuse root)"
}

# record NAME PID: the rig's processes, stopped by `down` in reverse order.
record() { echo "$2" >"$dir/pids/$1"; }

alive() { [[ -f "$dir/pids/$1" ]] && kill -0 "$(cat "$dir/pids/$1")" 2>/dev/null; }

# wait_for SECONDS WHAT CMD...: poll CMD every 0.2 s.
wait_for() {
    local end=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "timed out waiting for $what"
        sleep 0.2
    done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null -m 1 -X "${2:-GET}" "$1"; }

patroni_yml() {
    local i=$1 name=node$(($1 + 1))
    cat <<YML
scope: haat-ha
name: $name
log: {level: INFO, dir: $dir/$name/log}
restapi:
  listen: 127.0.0.1:${rest[$i]}
  connect_address: 127.0.0.1:${rest[$i]}
etcd3:
  hosts: 127.0.0.1:$etcd_client
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        shared_buffers: 64MB
        max_connections: 200
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 5
        max_replication_slots: 5
        wal_keep_size: 128MB
  initdb: [{encoding: UTF8}, {locale: C.UTF-8}]
postgresql:
  listen: 127.0.0.1:${pgport[$i]}
  connect_address: 127.0.0.1:${pgport[$i]}
  data_dir: $dir/$name/data
  bin_dir: $pgbin
  pgpass: $dir/$name/pgpass
  basebackup: [{checkpoint: fast}]
  authentication:
    superuser: {username: postgres, password: $su_pass}
    replication: {username: replicator, password: $rep_pass}
    rewind: {username: rewinder, password: $rw_pass}
  parameters:
    unix_socket_directories: $dir/$name
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
YML
}

haproxy_cfg() {
    local i
    cat <<CFG
global
    maxconn 2000
    stats socket $dir/haproxy.sock mode 600 level admin

defaults
    timeout connect 1s
    timeout check 1s
    timeout client 30m
    timeout server 30m
    default-server inter 500ms fall 2 rise 1

# Commands: the Patroni leader only. OPTIONS, not GET: a GET health check makes Patroni log
# a traceback per check. A node that stops being the leader has its sessions cut at once (a
# demoted primary must not keep taking writes); the read side keeps its sessions (a replica
# promoted to leader still answers queries correctly).
listen pg_write
    mode tcp
    bind 127.0.0.1:$write_port
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
    option httpchk OPTIONS /primary
    http-check expect status 200
CFG
    for i in 0 1; do echo "    server node$((i + 1)) 127.0.0.1:${pgport[$i]} check port ${rest[$i]}"; done
    cat <<CFG

# Queries: the replicas; when none is up, any readable node (the leader).
frontend pg_read
    mode tcp
    bind 127.0.0.1:$read_port
    use_backend pg_replicas if { nbsrv(pg_replicas) gt 0 }
    default_backend pg_readable

backend pg_replicas
    mode tcp
    option httpchk OPTIONS /replica
    http-check expect status 200
CFG
    for i in 0 1; do echo "    server node$((i + 1)) 127.0.0.1:${pgport[$i]} check port ${rest[$i]}"; done
    cat <<CFG

backend pg_readable
    mode tcp
    option httpchk OPTIONS /read-only
    http-check expect status 200
CFG
    for i in 0 1; do echo "    server node$((i + 1)) 127.0.0.1:${pgport[$i]} check port ${rest[$i]}"; done
    cat <<CFG

# The API: three haat instances, each in rotation while its /readyz answers 200.
frontend api
    mode http
    bind 127.0.0.1:$api_port
    timeout client 30s
    timeout http-request 10s
    default_backend haat

backend haat
    mode http
    timeout server 30s
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    retries 2
    option redispatch
    retry-on conn-failure empty-response
CFG
    for i in 0 1 2; do echo "    server haat$((i + 1)) 127.0.0.1:${haat_ports[$i]} check"; done
    cat <<CFG

listen stats
    mode http
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /
CFG
}

start_patroni() {
    local i=$1 name=node$(($1 + 1))
    (as_runner patroni "$dir/$name/patroni.yml" >>"$dir/$name/patroni.out" 2>&1) &
    record "patroni$((i + 1))" $!
    disown $! # ha_test.py kills it on purpose: no job notice
}

leader_rest() {
    local i
    for i in 0 1; do
        if http_ok "http://127.0.0.1:${rest[$i]}/primary" OPTIONS; then
            echo "${rest[$i]}"
            return 0
        fi
    done
    return 1
}

psql_admin() { PGCONNECT_TIMEOUT=2 psql -X -q -v ON_ERROR_STOP=1 -d "$admin_url" "$@"; }

cmd_down() {
    [[ -d "$dir/pids" ]] || return 0
    local n p
    for n in haat3 haat2 haat1 haproxy patroni2 patroni1 etcd; do
        [[ -f "$dir/pids/$n" ]] || continue
        p=$(cat "$dir/pids/$n")
        kill -TERM "$p" 2>/dev/null || true
    done
    for n in haat3 haat2 haat1 haproxy patroni2 patroni1 etcd; do
        [[ -f "$dir/pids/$n" ]] || continue
        p=$(cat "$dir/pids/$n")
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$p" 2>/dev/null || true
        rm -f "$dir/pids/$n"
    done
    # A postmaster whose Patroni was killed keeps running: stop it by its own pid file.
    local d
    for d in "$dir"/node*/data; do
        [[ -f "$d/postmaster.pid" ]] || continue
        p=$(head -1 "$d/postmaster.pid")
        kill -QUIT "$p" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    done
}

cmd_up() {
    command -v patroni >/dev/null && command -v etcd >/dev/null && command -v haproxy >/dev/null ||
        die "patroni, etcd or haproxy missing (make ha-up installs them: infra/dev/deps.sh ha)"
    [[ -x "$haat" ]] || die "$haat not built (make build)"
    ensure_user
    cmd_down
    local port
    for port in $etcd_client $etcd_peer "${rest[@]}" "${pgport[@]}" $write_port $read_port \
        $api_port $stats_port "${haat_ports[@]}"; do
        wait_for 20 "port $port to be free" port_free "$port"
    done
    rm -rf "$dir"
    mkdir -p "$dir/pids" "$dir/etcd" "$dir/node1/log" "$dir/node2/log" \
        "$dir/haat1" "$dir/haat2" "$dir/haat3"
    local i t0=$SECONDS
    for i in 0 1; do
        patroni_yml "$i" >"$dir/node$((i + 1))/patroni.yml"
        chmod 700 "$dir/node$((i + 1))"
    done
    [[ "$runner" == "$(id -un)" ]] || chown -R "$runner:" "$dir/node1" "$dir/node2"

    # A port just released by a previous rig may refuse the bind for a moment: retry.
    local try
    for try in 1 2 3 4 5; do
        etcd --name ha --data-dir "$dir/etcd" \
            --listen-client-urls "http://127.0.0.1:$etcd_client" \
            --advertise-client-urls "http://127.0.0.1:$etcd_client" \
            --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
            --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
            --initial-cluster "ha=http://127.0.0.1:$etcd_peer" \
            --log-level warn >>"$dir/etcd.log" 2>&1 &
        record etcd $!
        sleep 1
        alive etcd && break
        say "etcd did not start (attempt $try): $(tail -1 "$dir/etcd.log")"
        rm -rf "$dir/etcd"
        sleep 2
    done
    wait_for 20 etcd curl -fsS -m 1 "http://127.0.0.1:$etcd_client/health"

    start_patroni 0
    wait_for 60 "the first Patroni node to lead" http_ok "http://127.0.0.1:${rest[0]}/primary" OPTIONS
    start_patroni 1

    haproxy_cfg >"$dir/haproxy.cfg"
    haproxy -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
    record haproxy $!
    wait_for 20 "the write port" psql_admin -c 'SELECT 1'
    psql_admin <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'haat') THEN
    CREATE ROLE haat LOGIN PASSWORD '$app_pass';
  END IF;
END\$\$;
SQL
    psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'haat'" | grep -q 1 ||
        psql_admin -c 'CREATE DATABASE haat OWNER haat'
    wait_for 60 "the replica to stream" http_ok "http://127.0.0.1:${rest[1]}/replica" OPTIONS
    DATABASE_URL=$write_url HAAT_JWT_SECRET=$jwt HAAT_DATA_KEY=$data_key "$haat" migrate >"$dir/migrate.log" 2>&1 ||
        die "haat migrate failed: $(tail -3 "$dir/migrate.log")"

    for i in 0 1 2; do
        env DATABASE_URL="$write_url" DATABASE_READ_URL="$read_url" \
            HAAT_HTTP_ADDR="127.0.0.1:${haat_ports[$i]}" \
            HAAT_PUBLIC_URL="http://127.0.0.1:$api_port" \
            HAAT_JWT_SECRET="$jwt" HAAT_DATA_KEY="$data_key" HAAT_HTTP_THREADS=4 \
            HAAT_NOTIFY_LOG_DIR="$dir/haat$((i + 1))/notify" \
            HAAT_LIMIT_AUTH_PER_IP_MIN=1000000 HAAT_TRUSTED_PROXIES=127.0.0.1 \
            HAAT_LIMIT_SMS_PER_IP_HOUR=1000000 HAAT_LIMIT_EMAIL_PER_IP_HOUR=1000000 \
            HAAT_LOG_LEVEL=warn \
            "$haat" serve >"$dir/haat$((i + 1))/haat.log" 2>&1 &
        record "haat$((i + 1))" $!
    done
    for i in 0 1 2; do
        wait_for 30 "haat$((i + 1)) ready" http_ok "http://127.0.0.1:${haat_ports[$i]}/readyz"
    done
    wait_for 20 "the API frontend" http_ok "http://127.0.0.1:$api_port/readyz"
    say "up in $((SECONDS - t0)) s: API http://127.0.0.1:$api_port  write :$write_port  read :$read_port  stats http://127.0.0.1:$stats_port"
}

cmd_env() {
    cat <<ENV
HA_DIR=$dir
HA_API=http://127.0.0.1:$api_port
HA_WRITE_URL=$write_url
HA_READ_URL=$read_url
HA_ADMIN_URL=$admin_url
HA_NODE_URLS=postgresql://postgres:$su_pass@127.0.0.1:${pgport[0]}/haat,postgresql://postgres:$su_pass@127.0.0.1:${pgport[1]}/haat
HA_REST=http://127.0.0.1:${rest[0]},http://127.0.0.1:${rest[1]}
HA_HAAT=http://127.0.0.1:${haat_ports[0]},http://127.0.0.1:${haat_ports[1]},http://127.0.0.1:${haat_ports[2]}
HA_PATRONI_CONF=$dir/node1/patroni.yml
HA_RUNNER=$runner
HA_JWT_SECRET=$jwt
ENV
}

cmd_status() {
    patronictl -c "$dir/node1/patroni.yml" list 2>/dev/null || say "patronictl list failed"
    local n
    for n in etcd patroni1 patroni2 haproxy haat1 haat2 haat3; do
        if alive "$n"; then echo "$n $(cat "$dir/pids/$n") alive"; else echo "$n -"; fi
    done
}

cmd_test() {
    trap 'cmd_down' EXIT
    trap 'exit 130' INT TERM
    cmd_up
    local rc=0
    (eval "$(cmd_env)" && export "${!HA_@}" && exec /usr/bin/python3 "$repo/infra/ha/ha_test.py") || rc=$?
    return "$rc"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    test) cmd_test ;;
    restart-node)
        # restart-node N: start Patroni of node N again (after ha_test.py killed it).
        start_patroni $(($2 - 1))
        ;;
    *) die "usage: $0 up|down|status|env|test" ;;
esac
