#!/usr/bin/env bash
# Hot reload for `make server`: rebuild and restart haat on every change to a .c, .h, Makefile,
# migration, config, template or the OpenAPI document. A failed build is shown and the watcher
# keeps running; the next save tries again.
set -uo pipefail
cd "$(dirname "$0")/../.."

entr_flags=(-r -d -c)
[ -t 0 ] || entr_flags+=(-n) # no terminal (e.g. under a supervisor): no keyboard commands

watched() {
    find main.c Makefile pkg internal migrations configs docs/openapi.yaml \
        -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name '*.sql' -o -name '*.json' \
        -o -name '*.txt' -o -name '*.yaml' -o -name Makefile \)
}

# shellcheck disable=SC2016 # expanded by the inner shell on every restart
cycle='make --no-print-directory build && eval "$(infra/dev/pg.sh env)" &&
       build/debug/haat migrate && exec build/debug/haat serve ||
       echo "hot-reload: build or start failed; fix the error and save again" >&2'

trap 'exit 0' INT TERM
while true; do
    # entr -d exits when a new file appears in a watched directory: list the files again.
    watched | entr "${entr_flags[@]}" bash -c "$cycle"
    status=$?
    [ "$status" -eq 2 ] || exit "$status"
    sleep 0.2
done
