#!/usr/bin/env bash
# Real servers on loopback for faucet's integration tests, on non-default ports, with all their
# files in one temporary directory and their downloads in a cache that outlives `stop`.
#
#   scripts/services.sh start [NAME…]    install what is missing, start them (all when none is named), wait
#   scripts/services.sh env [NAME…]      print `export FAUCET_TEST_…` lines for those that run:
#                                        eval "$(scripts/services.sh env)"
#   scripts/services.sh status [NAME…]   say what runs; exit 0 only when every named one answers
#   scripts/services.sh stop [NAME…]     stop them; with no NAME stop all and remove the directory
#   scripts/services.sh list             the services this script knows
#
# One file per service in scripts/services/ (see lib.sh there for what each defines).
# Settings (environment): FAUCET_SERVICES_DIR (default /tmp/faucet-services),
# FAUCET_SERVICES_CACHE (default ~/.cache/faucet-services), FAUCET_SERVICES_TIMEOUT (seconds, 30),
# FAUCET_SERVICES_BACKGROUND (names of services launched without waiting for them; their tests
# wait), and each service's port variable (see `list` and scripts/SERVICES.md).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=services/lib.sh
. "$HERE/services/lib.sh"

ALL=()
for file in "$HERE"/services/*.sh; do
  name=$(basename "$file" .sh)
  [ "$name" = lib ] && continue
  # shellcheck disable=SC1090
  . "$file"
  ALL+=("$name")
done

# Every named service must exist; no name means all of them, except for start/status/env those
# marked NAME_ON_DEMAND=1 (started only by the tests that need them, when they need them).
select_services() {
  SELECTED=()
  if [ "$#" -eq 0 ]; then
    local s flag
    for s in "${ALL[@]}"; do
      flag="${s}_ON_DEMAND"
      [ "$cmd" != stop ] && [ -n "${!flag:-}" ] && continue
      SELECTED+=("$s")
    done
    return
  fi
  local name known
  for name in "$@"; do
    known=
    for k in "${ALL[@]}"; do [ "$k" = "$name" ] && known=1; done
    [ -n "$known" ] || die "unknown service '$name' (known: ${ALL[*]})"
    SELECTED+=("$name")
  done
}

# Two engineers (or two CI steps) running start/stop at once would race on the same directory.
# The lock is held until this script exits.
take_lock() {
  mkdir -p "$(dirname "${DIR%/}")"
  exec 9>"${DIR%/}.lock"
  flock -w 600 9 || die "another services.sh is still running (lock ${DIR%/}.lock)"
}

cmd=${1:-}
[ "$#" -gt 0 ] && shift
case "$cmd" in
  start)
    select_services "$@"
    take_lock
    mkdir -p "$DIR" "$CACHE"
    for s in "${SELECTED[@]}"; do "${s}_install"; done
    for s in "${SELECTED[@]}"; do "${s}_start"; done
    # What `env` will export is what `status` sees: a server that answered during its start but is
    # not seen running now (it died, or its pid file names another process) would leave its tests
    # without an address. Say so here, with its name, and start it once more before giving up.
    for s in "${SELECTED[@]}"; do
      declare -F "${s}_starting" >/dev/null && "${s}_starting" && continue
      "${s}_status" >/dev/null 2>&1 && continue
      "${s}_status" || true
      log "$s was started but is not seen running; starting it once more"
      "${s}_stop"
      "${s}_start"
      "${s}_status" >/dev/null 2>&1 || die "$s was started twice but is not seen running; see its log under $DIR"
    done
    ;;
  stop)
    select_services "$@"
    take_lock
    for s in "${SELECTED[@]}"; do "${s}_stop"; done
    if [ "$#" -eq 0 ]; then
      rm -rf "$DIR"
      log "stopped; removed $DIR"
    fi
    ;;
  status)
    select_services "$@"
    rc=0
    for s in "${SELECTED[@]}"; do "${s}_status" || rc=3; done
    exit "$rc"
    ;;
  env)
    select_services "$@"
    for s in "${SELECTED[@]}"; do
      # A service still starting in the background (NAME_starting) is exported too: its tests wait.
      if "${s}_status" 2>/dev/null ||
        { declare -F "${s}_starting" >/dev/null && "${s}_starting"; }; then
        "${s}_env"
      else
        log "$s does not run: nothing exported for it (start it with: $0 start $s)"
      fi
    done
    ;;
  list)
    for s in "${ALL[@]}"; do
      desc="${s}_DESCRIPTION"
      eval "printf '%-22s %s\n' \"$s\" \"${!desc:-}\""
    done
    ;;
  *)
    echo "usage: $0 start|stop|status|env [NAME…] | list   (services: ${ALL[*]})" >&2
    exit 2
    ;;
esac
