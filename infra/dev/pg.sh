#!/usr/bin/env bash
# Private PostgreSQL 15 cluster for haat development and tests.
#
# Usage: infra/dev/pg.sh COMMAND [ARGS]
#   start          initdb on first use, start if not running, create database "haat"
#   stop           stop (fast mode); no-op when not running
#   restart        stop, then start (re-applies the settings below)
#   status         print state; exit 0 when running, 3 when not
#   env            print `export` lines: DATABASE_URL, HAAT_PG_ADMIN_URL,
#                  HAAT_JWT_SECRET, HAAT_SANDBOX_WEBHOOK_SECRET, HAAT_DATA_KEY
#                  (use: eval "$(infra/dev/pg.sh env)")
#   createdb NAME  create database NAME unless it exists
#   dropdb NAME    drop database NAME if it exists (WITH (FORCE))
#   psql [ARGS]    run psql on the "haat" database
#
# Environment:
#   HAAT_PG_DIR    cluster directory (default: <repo>/var/pg); holds data/, log/,
#                  run/ (unix socket) and secrets/
#   HAAT_PG_PORT   TCP port on 127.0.0.1 (default: the one remembered in
#                  <HAAT_PG_DIR>.port, i.e. var/pg.port; a new cluster takes the first
#                  free port from a per-checkout start in 55432..55931)
#
# Trust authentication, superuser "haat", listening on 127.0.0.1 only: a local
# development cluster, never a server.  As root, PostgreSQL runs as the system
# user "haatpg" (created on first use), since initdb refuses to run as root; if
# that user cannot reach HAAT_PG_DIR (e.g. a checkout under /root), the cluster
# lives in /var/tmp/haat-pg-<hash>/ and HAAT_PG_DIR becomes a symlink to it.
set -euo pipefail

readonly prog=pg.sh
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}
usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$script_dir/../.." && pwd -P)
readonly script_dir repo

readonly pgbin=${HAAT_PG_BIN:-/usr/lib/postgresql/15/bin}
readonly db_role=haat   # bootstrap superuser and owner of everything
readonly db_name=haat
readonly sys_user=haatpg # OS user that runs the server when we are root
readonly start_timeout=30

# Client-side libpq variables from the caller's shell must not redirect us.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE PGOPTIONS \
    PGSSLMODE PGREQUIRESSL PGTARGETSESSIONATTRS PGDATA

# ---------------------------------------------------------------------------
# Paths
#
#   cdir    HAAT_PG_DIR as an absolute path (may be a symlink to real)
#   real    the physical cluster directory
#   data    $real/data        PGDATA (owned by the server's OS user, 0700)
#   logf    $real/log/postgres.log
#   sockdir $real/run, or /tmp/haat-pg-sock-<hash> when that path is too long
#   secrets $real/secrets     per-cluster random secrets (0700/0600)
# ---------------------------------------------------------------------------
raw_dir=${HAAT_PG_DIR:-$repo/var/pg}
[[ -n "$raw_dir" ]] || die "HAAT_PG_DIR is empty"
[[ "$raw_dir" == /* ]] || raw_dir=$PWD/$raw_dir
raw_dir=${raw_dir%"${raw_dir##*[!/]}"} # strip trailing slashes
[[ -n "$raw_dir" ]] || die "HAAT_PG_DIR must not be /"
case "${raw_dir##*/}" in
. | ..) cdir=$(realpath -m -- "$raw_dir") ;;
*) cdir="$(realpath -m -- "$(dirname -- "$raw_dir")")/${raw_dir##*/}" ;;
esac
readonly cdir
readonly parent=${cdir%/*}
readonly lockfile="${parent:-}/.${cdir##*/}.lock"

short_hash() { printf '%s' "$1" | sha256sum | cut -c1-12; }

# ---------------------------------------------------------------------------
# The port: HAAT_PG_PORT when set; else the one this cluster remembers in
# <cluster dir>.port (var/pg.port); else, for a new cluster, the first free port
# from a start derived from the checkout's path (55432..55931), remembered there.
# So two checkouts on one machine get two clusters on two ports, and each keeps
# its own. A cluster made before ports were remembered keeps 55432.
# ---------------------------------------------------------------------------
readonly portfile="${parent:-}/${cdir##*/}.port"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    local start p i
    start=$((0x$(short_hash "$repo" | cut -c1-6) % 500))
    for ((i = 0; i < 500; i++)); do
        p=$((55432 + (start + i) % 500))
        port_in_use "$p" || {
            printf '%s' "$p"
            return 0
        }
    done
    die "no free port in 55432..55931; set HAAT_PG_PORT"
}

if [[ -n "${HAAT_PG_PORT:-}" ]]; then
    port=$HAAT_PG_PORT
elif [[ -s "$portfile" ]]; then
    port=$(<"$portfile")
else
    if [[ -e "$cdir" ]]; then port=55432; else port=$(pick_port); fi
    mkdir -p -- "$parent" && printf '%s\n' "$port" >"$portfile" ||
        die "cannot remember the port in $portfile"
fi
if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65535)); then
    die "the PostgreSQL port must be a TCP port number, got '$port' (HAAT_PG_PORT or $portfile)"
fi
readonly port

# Where the cluster physically is, without creating anything ("" if nowhere).
physical_dir() {
    if [[ -L "$cdir" ]]; then
        readlink -f -- "$cdir" || true
    elif [[ -d "$cdir" ]]; then
        (cd -- "$cdir" && pwd -P)
    fi
}

set_paths() {
    real=$1
    data=$real/data
    logdir=$real/log
    logf=$logdir/postgres.log
    secrets=$real/secrets
    sockdir=$real/run
    # sun_path holds 108 bytes including "/.s.PGSQL.<port>" and a NUL.
    if ((${#sockdir} + ${#port} + 12 > 100)); then
        sockdir=/tmp/haat-pg-sock-$(short_hash "$real")
    fi
}

display_dir() {
    local d=$cdir
    [[ "$d" == "$repo"/* ]] && d=${d#"$repo"/}
    if [[ -n "${real:-}" && "$real" != "$cdir" ]]; then
        d="$d -> $real"
    fi
    printf '%s' "$d"
}

# ---------------------------------------------------------------------------
# Who runs the server
# ---------------------------------------------------------------------------
me=$(id -un)
readonly me
runner=$me

# as_runner CMD...: run CMD as the server's OS user (from /, which it can read).
as_runner() {
    if [[ "$runner" == "$me" ]]; then
        "$@"
    else
        (cd / && runuser -u "$runner" -- "$@")
    fi
}

ensure_sys_user() {
    local i
    for i in 1 2 3 4 5; do
        id -u "$sys_user" >/dev/null 2>&1 && return 0
        if useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --comment "haat dev PostgreSQL" "$sys_user" 2>/dev/null; then
            say "created system user '$sys_user' to run PostgreSQL (initdb refuses root)"
            return 0
        fi
        sleep "$i" # /etc/passwd locked by a concurrent useradd?
    done
    id -u "$sys_user" >/dev/null 2>&1 || die "could not create system user '$sys_user' (useradd failed)"
}

# Decide the runner: the owner of an existing data dir; otherwise ourselves,
# or haatpg when we are root.
pick_runner() {
    local owner
    if [[ -n "${data:-}" && -d "$data" ]]; then
        owner=$(stat -c %U -- "$data")
        if ((EUID == 0)); then
            [[ "$owner" != root ]] ||
                die "$data is owned by root; PostgreSQL cannot run as root (remove it to re-create)"
            [[ "$owner" != UNKNOWN ]] || die "$data is owned by an unknown uid"
            runner=$owner
        else
            [[ "$owner" == "$me" ]] ||
                die "$data belongs to '$owner'; run pg.sh as '$owner' or root, or use another HAAT_PG_DIR"
            runner=$me
        fi
    elif ((EUID == 0)); then
        command -v runuser >/dev/null 2>&1 || die "runuser not found (apt-get install util-linux)"
        ensure_sys_user
        runner=$sys_user
    else
        runner=$me
    fi
}

# mkdir_owned DIR MODE: create DIR (if missing) owned by the runner.
mkdir_owned() {
    local dir=$1 mode=$2 owner
    if [[ ! -d "$dir" ]]; then
        mkdir -m "$mode" -- "$dir"
        [[ "$runner" == "$me" ]] || chown "$runner:" -- "$dir"
    fi
    owner=$(stat -c %U -- "$dir")
    [[ "$owner" == "$runner" ]] || die "$dir is owned by '$owner', expected '$runner'"
}

# Create the cluster directory layout (under the lock).  Sets the paths.
ensure_layout() {
    local p target extra
    mkdir -p -- "$parent" || die "cannot create $parent"
    p=$(physical_dir)
    if [[ -n "$p" ]]; then
        set_paths "$p"
    else
        set_paths "$cdir"
    fi
    pick_runner

    if [[ -L "$cdir" ]]; then
        if [[ ! -d "$p" ]]; then # dangling (e.g. /var/tmp was cleaned): re-create
            mkdir -m 755 -- "$p" || die "cannot create $p (target of $cdir)"
        fi
    elif [[ -d "$cdir" ]]; then
        if [[ "$runner" != "$me" ]] && ! as_runner test -x "$p"; then
            # A cluster dir the runner cannot reach (made before this check
            # existed, or by hand).  Move it aside if it holds no data yet.
            [[ ! -e "$p/data" ]] ||
                die "user '$runner' cannot access $p; move the repo or set HAAT_PG_DIR elsewhere"
            extra=$(find "$p" -mindepth 1 -maxdepth 1 ! -name secrets ! -name log ! -name run -print -quit)
            [[ -z "$extra" ]] || die "user '$runner' cannot access $p, which holds unexpected files ($extra)"
            target=$(fallback_dir)
            if [[ -d "$p/secrets" && ! -e "$target/secrets" ]]; then
                mv -- "$p/secrets" "$target/secrets"
            fi
            rm -rf -- "$p/log" "$p/run" "$p/secrets"
            rmdir -- "$p"
            ln -s -- "$target" "$cdir"
            say "user '$runner' cannot reach $p; cluster moved to $target"
            set_paths "$target"
        fi
    else
        if [[ "$runner" != "$me" ]] && ! as_runner test -x "$parent"; then
            target=$(fallback_dir)
            discard_orphan "$target"
            ln -s -- "$target" "$cdir"
            say "user '$runner' cannot traverse $parent; keeping the cluster in $target"
            set_paths "$target"
        else
            mkdir -m 755 -- "$cdir"
            set_paths "$(cd -- "$cdir" && pwd -P)"
        fi
    fi

    [[ "$runner" == "$me" ]] || chmod 755 -- "$real" # the runner must traverse it
    mkdir_owned "$logdir" 750
    mkdir_owned "$sockdir" 755
}

# /var/tmp/haat-pg-<hash of the cluster path>, root-owned, created if missing.
fallback_dir() {
    local d
    d=/var/tmp/haat-pg-$(short_hash "$cdir")
    [[ -d "$d" ]] || mkdir -m 755 -- "$d"
    [[ "$(stat -c %u -- "$d")" == 0 ]] || die "$d exists but is not owned by root; remove it"
    chmod 755 -- "$d"
    printf '%s' "$d"
}

# discard_orphan DIR: DIR (a fallback dir) is about to be linked from a new
# HAAT_PG_DIR, so anything in it belongs to a checkout (or a var/pg) that has
# since been deleted: stop its server, if one still runs, and empty it, so that
# a fresh checkout or `rm -rf var/pg` means a fresh cluster, as without the
# fallback.
discard_orphan() {
    local d=$1 pid owner
    [[ "$d" =~ ^/var/tmp/haat-pg-[0-9a-f]{12}$ ]] || die "refusing to discard $d"
    [[ -n "$(ls -A -- "$d")" ]] || return 0
    say "discarding $d, left by a deleted $(display_dir)"
    if [[ -f "$d/data/postmaster.pid" ]]; then
        pid=$(head -n 1 -- "$d/data/postmaster.pid" 2>/dev/null || true)
        if is_postgres_pid "$pid" "$d/data"; then
            owner=$(stat -c %U -- "$d/data")
            (cd / && runuser -u "$owner" -- "$pgbin/pg_ctl" stop -D "$d/data" -m immediate -w -s) 9>&- ||
                die "could not stop the server (pid $pid) still running in $d"
        fi
    fi
    find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
}

# Resolve paths for read-only commands.  Returns 1 if there is no cluster.
load_paths() {
    local p
    p=$(physical_dir)
    [[ -n "$p" && -d "$p" ]] || return 1
    set_paths "$p"
    [[ -d "$data" ]]
}

with_lock() {
    mkdir -p -- "$parent" || die "cannot create $parent"
    exec 9>>"$lockfile" || die "cannot open lock file $lockfile"
    flock -w 300 9 || die "timed out waiting for $lockfile (another pg.sh still running?)"
}

# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------

# is_postgres_pid PID DIR: is PID a live postgres whose cwd is DIR?
is_postgres_pid() {
    local pid=$1 dir=$2 comm stat cwd
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
    [[ "$comm" == postgres || "$comm" == postmaster ]] || return 1
    # A killed postmaster may linger as a zombie until its parent reaps it.
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }
    [[ "${stat:0:1}" != [ZX] ]] || return 1
    [[ -z "$dir" ]] && return 0
    # Unreadable cwd (someone else's process): trust the name.
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 0
    [[ "$cwd" == "$dir" ]]
}

server_pid=
server_port=
# Is the postmaster of $data running?  Sets server_pid / server_port.
is_running() {
    local pidfile=$data/postmaster.pid lines
    server_pid='' server_port=
    [[ -f "$pidfile" ]] || return 1
    mapfile -t -n 4 lines <"$pidfile" || return 1
    ((${#lines[@]} >= 1)) || return 1
    is_postgres_pid "${lines[0]}" "$(cd -- "$data" && pwd -P)" || return 1
    server_pid=${lines[0]}
    server_port=${lines[3]:-}
}

# PIDs of live postgres processes working in directory $1.
pids_in_dir() {
    local d=$1 f pid
    for f in /proc/[0-9]*/comm; do
        pid=${f#/proc/}
        pid=${pid%/comm}
        is_postgres_pid "$pid" "$d" 2>/dev/null && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$d" ]] &&
            printf '%s ' "$pid"
    done
    return 0
}

# Remove lock files left by a server that died without cleaning up, in case
# their PID now belongs to another process or a zombie (PostgreSQL would then
# refuse to start) -- but only once no backend of it still uses the data dir.
clear_stale_locks() {
    local f pid data_phys orphans deadline=$((SECONDS + 10))
    data_phys=$(cd -- "$data" && pwd -P)
    for f in "$data/postmaster.pid" "$sockdir/.s.PGSQL.$port.lock"; do
        [[ -f "$f" ]] || continue
        pid=$(head -n 1 -- "$f" 2>/dev/null || true)
        is_postgres_pid "$pid" "$data_phys" && continue
        while orphans=$(pids_in_dir "$data_phys") && [[ -n "$orphans" ]]; do
            ((SECONDS < deadline)) ||
                die "postgres processes still use $data after their postmaster died: ${orphans% }"
            sleep 0.2
        done
        say "removing stale ${f##*/} (pid ${pid:-?} is not a running postgres)"
        rm -f -- "$f"
        [[ "$f" != *.lock ]] || rm -f -- "${f%.lock}"
    done
}

psql_admin() {
    "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${server_port:-$port}" \
        -U "$db_role" -d postgres "$@"
}

wait_ready() {
    local deadline=$((SECONDS + start_timeout))
    until "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$db_role" -d postgres; do
        ((SECONDS < deadline)) || die "postgres did not accept connections on 127.0.0.1:$port within ${start_timeout}s; see $logf"
        sleep 0.2
    done
}

show_log_tail() {
    local f=${1:-$logf}
    if [[ -r "$f" ]]; then
        say "last lines of $f:"
        tail -n 15 -- "$f" | sed 's/^/    /' >&2
    fi
}

# ---------------------------------------------------------------------------
# Cluster creation and configuration
# ---------------------------------------------------------------------------
conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

# Settings, rewritten on every start so that changes here reach old clusters.
write_conf() {
    local tmp
    tmp=$(mktemp "$real/.haat.conf.XXXXXX")
    cat >"$tmp" <<EOF
# Written by infra/dev/pg.sh on every start; local edits are overwritten.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = $(conf_quote "$sockdir")
max_connections = 300
shared_buffers = '256MB'
fsync = on
synchronous_commit = off
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
EOF
    chmod 644 -- "$tmp"
    [[ "$runner" == "$me" ]] || chown "$runner:" -- "$tmp"
    mv -f -- "$tmp" "$data/haat.conf"
}

init_cluster() {
    local tmp=$real/data.init
    rm -rf -- "$tmp" # left by an interrupted initdb
    mkdir_owned "$tmp" 700
    say "initializing PostgreSQL cluster in $(display_dir)"
    if ! as_runner "$pgbin/initdb" -D "$tmp" -U "$db_role" --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync --no-instructions >"$logdir/initdb.log" 2>&1; then
        show_log_tail "$logdir/initdb.log"
        die "initdb failed"
    fi
    printf '\n# haat dev settings (infra/dev/pg.sh)\ninclude_if_exists = %s\n' "'haat.conf'" |
        as_runner tee -a "$tmp/postgresql.conf" >/dev/null
    mv -- "$tmp" "$data"
}

rotate_log() {
    local size
    [[ -f "$logf" ]] || return 0
    size=$(stat -c %s -- "$logf")
    if ((size > 64 * 1024 * 1024)); then
        mv -f -- "$logf" "$logf.1"
    fi
}

ensure_database() {
    local name=$1 err
    if err=$(psql_admin -v name="$name" 2>&1 >/dev/null <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') AS missing \gset
\if :missing
CREATE DATABASE :"name";
\endif
SQL
    ); then
        return 0
    fi
    # Lost a race with a concurrent CREATE DATABASE of the same name?
    [[ "$(psql_admin -tA -v name="$name" <<<"SELECT 1 FROM pg_database WHERE datname = :'name'" 2>/dev/null)" == 1 ]] &&
        return 0
    printf '%s\n' "$err" >&2
    die "could not create database '$name'"
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
do_start() {
    ensure_layout
    [[ -x "$pgbin/postgres" ]] ||
        die "$pgbin/postgres not found; run infra/dev/deps.sh (postgresql-15)"

    if is_running; then
        [[ "$server_port" == "$port" ]] ||
            die "the cluster in $(display_dir) is running on port ${server_port:-?}, not $port; use: $prog restart"
    else
        if [[ ! -d "$data" ]]; then
            init_cluster
        elif [[ "$(cat "$data/PG_VERSION" 2>/dev/null)" != 15 ]]; then
            die "$data is not a PostgreSQL 15 data directory; remove it to re-create"
        fi
        clear_stale_locks
        write_conf
        rotate_log
        # 9>&-: the server must not inherit (and so hold) our lock.
        if ! as_runner "$pgbin/pg_ctl" start -D "$data" -l "$logf" -w -t "$start_timeout" -s \
            >/dev/null 2>"$real/.pg_ctl.err" 9>&-; then
            cat -- "$real/.pg_ctl.err" >&2
            show_log_tail
            die "could not start PostgreSQL on 127.0.0.1:$port"
        fi
        rm -f -- "$real/.pg_ctl.err"
        is_running || true
    fi
    wait_ready
    ensure_database "$db_name"
    printf 'postgres: running on 127.0.0.1:%s (%s)\n' "$port" "$(display_dir)"
}

do_stop() {
    if ! load_paths || ! is_running; then
        printf 'postgres: not running (%s)\n' "$(display_dir)"
        return 0
    fi
    pick_runner
    if ! as_runner "$pgbin/pg_ctl" stop -D "$data" -m fast -w -t 60 -s 9>&-; then
        show_log_tail
        die "could not stop PostgreSQL (pid $server_pid)"
    fi
    printf 'postgres: stopped (%s)\n' "$(display_dir)"
}

do_status() {
    if load_paths && is_running; then
        printf 'postgres: running on 127.0.0.1:%s, pid %s (%s)\n' \
            "${server_port:-?}" "$server_pid" "$(display_dir)"
        return 0
    fi
    if [[ -n "${data:-}" && -d "$data" ]]; then
        printf 'postgres: not running (%s)\n' "$(display_dir)"
    else
        printf 'postgres: not running, no cluster in %s\n' "$(display_dir)"
    fi
    return 3
}

# secret NAME: print the stored secret NAME, generating it on first use.
read_secret() {
    local f=$secrets/$1 v
    [[ -r "$f" ]] || return 1
    v=$(<"$f")
    [[ "$v" =~ ^[0-9a-f]{64}$ ]] || return 1
    printf '%s' "$v"
}

new_secret() {
    local f=$secrets/$1 tmp v
    v=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
    [[ "$v" =~ ^[0-9a-f]{64}$ ]] || die "could not read /dev/urandom"
    [[ ! -e "$f" ]] || say "warning: $f was malformed; generating a new secret"
    tmp=$(umask 077 && mktemp "$secrets/.$1.XXXXXX")
    printf '%s\n' "$v" >"$tmp"
    mv -f -- "$tmp" "$f"
}

do_env() {
    local names=(jwt_secret sandbox_webhook_secret data_key) n p jwt hook data
    p=$(physical_dir)
    [[ -z "$p" ]] || set_paths "$p"
    if [[ -z "$p" ]] || ! read_secret jwt_secret >/dev/null || ! read_secret sandbox_webhook_secret >/dev/null ||
        ! read_secret data_key >/dev/null; then
        with_lock
        ensure_layout
        (umask 077 && mkdir -p -- "$secrets")
        chmod 700 -- "$secrets"
        for n in "${names[@]}"; do
            read_secret "$n" >/dev/null || new_secret "$n"
        done
    fi
    jwt=$(read_secret jwt_secret) || die "cannot read $secrets/jwt_secret"
    hook=$(read_secret sandbox_webhook_secret) || die "cannot read $secrets/sandbox_webhook_secret"
    data=$(read_secret data_key) || die "cannot read $secrets/data_key"
    printf "export DATABASE_URL='postgresql://%s@127.0.0.1:%s/%s'\n" "$db_role" "$port" "$db_name"
    printf "export HAAT_PG_ADMIN_URL='postgresql://%s@127.0.0.1:%s/postgres'\n" "$db_role" "$port"
    printf "export HAAT_JWT_SECRET='%s'\n" "$jwt"
    printf "export HAAT_SANDBOX_WEBHOOK_SECRET='%s'\n" "$hook"
    printf "export HAAT_DATA_KEY='%s'\n" "$data"
}

require_running() {
    if ! load_paths || ! is_running; then
        die "PostgreSQL is not running ($(display_dir)); run: infra/dev/pg.sh start"
    fi
}

check_db_name() {
    local name=${1:-}
    [[ -n "$name" ]] || usage
    (($(printf %s "$name" | wc -c) <= 63)) || die "database name longer than 63 bytes: $name"
}

do_createdb() {
    check_db_name "${1:-}"
    require_running
    ensure_database "$1"
}

do_dropdb() {
    check_db_name "${1:-}"
    case "$1" in
    postgres | template0 | template1) die "refusing to drop '$1'" ;;
    esac
    require_running
    psql_admin -v name="$1" >/dev/null <<<'DROP DATABASE IF EXISTS :"name" WITH (FORCE);' ||
        die "could not drop database '$1'"
}

do_psql() {
    require_running
    exec "$pgbin/psql" -h 127.0.0.1 -p "$server_port" -U "$db_role" -d "$db_name" "$@"
}

cmd=${1:-}
(($# == 0)) || shift
case "$cmd" in
start)
    (($# == 0)) || usage
    with_lock
    do_start
    ;;
stop)
    (($# == 0)) || usage
    with_lock
    do_stop
    ;;
restart)
    (($# == 0)) || usage
    with_lock
    do_stop >/dev/null
    do_start
    ;;
status)
    (($# == 0)) || usage
    do_status
    ;;
env)
    (($# == 0)) || usage
    do_env
    ;;
createdb)
    (($# == 1)) || usage
    do_createdb "$1"
    ;;
dropdb)
    (($# == 1)) || usage
    do_dropdb "$1"
    ;;
psql) do_psql "$@" ;;
-h | --help | help) usage 0 ;;
"") usage ;;
*)
    say "unknown command '$cmd'"
    usage
    ;;
esac
