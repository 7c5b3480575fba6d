#!/usr/bin/env bash
# Runs a systemd service unit's ExecStart= the way systemd would start it, on a machine without systemd (a
# container, a CI job, a test). The unit's drop-ins in /etc/systemd/system/UNIT.d/*.conf are read after it, in
# name order, as systemd does. Applied: User=, Group=, AmbientCapabilities=, CapabilityBoundingSet=,
# NoNewPrivileges=, RuntimeDirectory= (+Mode, removed on exit unless RuntimeDirectoryPreserve=yes),
# StateDirectory= (+Mode), UMask=, Environment=, and ExecStartPre= / ExecStopPost= run with full privileges ('+'
# prefix; '-' ignores their failure, as systemd does). Not applied: the sandboxing options (ProtectSystem=,
# SystemCallFilter=, DeviceAllow=, ...), which need systemd; restarts (Restart=) are not done either.
#
# Usage (as root): run-unit.sh UNIT-FILE
#   Runs in the foreground until the service exits; SIGTERM and SIGINT are passed on to it (a graceful stop) and
#   its exit status is returned. Start it with `setsid ... &` to run it in the background.
# Fails (status 2) when the unit uses a feature this script does not understand, instead of guessing.
set -euo pipefail

die() { echo "run-unit: $*" >&2; exit 2; }

[[ $# -eq 1 ]] || die "usage: run-unit.sh UNIT-FILE"
unit=$1
[[ -r $unit ]] || die "cannot read $unit"

user="" group="" ambient="" bounding="" bounding_set=no no_new_privileges=no umask_value=""
runtime_dirs=() runtime_mode=0755 runtime_preserve=no state_dirs=() state_mode=0755 exec_start="" environment=()
exec_start_pre=() exec_stop_post=()

# parse FILE : reads the [Service] settings this script applies from one unit file or drop-in.
parse() {
  local file=$1 section="" line key value more
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line#"${line%%[![:space:]]*}"}
    [[ -z $line || $line == \#* || $line == \;* ]] && continue
    if [[ $line == \[*\] ]]; then section=$line; continue; fi
    [[ $section == "[Service]" ]] || continue
    [[ $line == *\\ ]] && die "$file: continuation lines are not supported: $line"
    key=${line%%=*} value=${line#*=}
    key=${key%"${key##*[![:space:]]}"} value=${value#"${value%%[![:space:]]*}"}
    case $key in
      User) user=$value ;;
      Group) group=$value ;;
      AmbientCapabilities) ambient+=" $value" ;;
      CapabilityBoundingSet) bounding_set=yes; if [[ -z $value ]]; then bounding=""; else bounding+=" $value"; fi ;;
      NoNewPrivileges) no_new_privileges=$value ;;
      RuntimeDirectory) read -r -a more <<<"$value"; runtime_dirs+=("${more[@]}") ;;
      RuntimeDirectoryMode) runtime_mode=$value ;;
      RuntimeDirectoryPreserve) runtime_preserve=$value ;;
      StateDirectory) read -r -a more <<<"$value"; state_dirs+=("${more[@]}") ;;
      StateDirectoryMode) state_mode=$value ;;
      UMask) umask_value=$value ;;
      Environment) read -r -a more <<<"$value"; environment+=("${more[@]}") ;;
      ExecStart)
        # An empty ExecStart= (in a drop-in) clears the command, as in systemd.
        [[ -z $value || -z $exec_start ]] || die "$file: more than one ExecStart= (only simple services are supported)"
        exec_start=$value ;;
      ExecStartPre) exec_start_pre+=("$value") ;;
      ExecStopPost) exec_stop_post+=("$value") ;;
      ExecStartPost|ExecStop|ExecReload|RootDirectory|RootImage|DynamicUser|SupplementaryGroups|PAMName|WorkingDirectory)
        [[ -z $value || $value == no ]] || die "$file: $key= is not supported by run-unit.sh" ;;
    esac
  done <"$file"
}

parse "$unit"
for dropin in /etc/systemd/system/"$(basename "$unit")".d/*.conf; do
  if [[ -r $dropin ]]; then parse "$dropin"; fi
done

[[ -n $exec_start ]] || die "$unit has no ExecStart="
[[ $exec_start == [/]* ]] || die "$unit: ExecStart= must start with an absolute path without a prefix (-, +, !, @): $exec_start"
[[ $exec_start != *[\"\'\$%\\]* ]] || die "$unit: ExecStart= with quotes, variables or specifiers is not supported: $exec_start"
read -r -a command <<<"$exec_start"
[[ $EUID -eq 0 ]] || die "must run as root (it switches to the unit's User= like systemd does)"
command -v setpriv >/dev/null || die "setpriv is missing (apt-get install util-linux)"

# CAP_NET_ADMIN CAP_NET_RAW -> +net_admin,+net_raw (setpriv's spelling).
capability_list() {
  local out="" capability
  for capability in $1; do
    [[ $capability == CAP_* ]] || die "$unit: unsupported capability syntax \"$capability\""
    capability=${capability#CAP_}
    out+=",+${capability,,}"
  done
  echo "${out#,}"
}

# Runs one ExecStartPre=/ExecStopPost= line as root: only the '+' (full privileges) form, with an optional '-'.
# Returns 0 when it succeeded or its failure is to be ignored.
run_hook() {
  local line=$1 ignore=no privileged=no
  while [[ $line == [-+]* ]]; do
    [[ $line == -* ]] && ignore=yes
    [[ $line == +* ]] && privileged=yes
    line=${line:1}
  done
  [[ $privileged == yes ]] || die "$unit: only ExecStartPre=+ / ExecStopPost=+ (run as root) are supported: $1"
  [[ $line == [/]* && $line != *[\"\'\$%\\]* ]] || die "$unit: unsupported hook command: $1"
  local hook
  read -r -a hook <<<"$line"
  if "${hook[@]}"; then return 0; fi
  [[ $ignore == yes ]]
}

owner=${user:-root}
owner_group=${group:-$(id -gn "$owner" 2>/dev/null)} || true
id "$owner" >/dev/null 2>&1 || die "user $owner (User= in $unit) does not exist"
[[ -n $owner_group ]] || die "cannot find the group of $owner"

for name in "${state_dirs[@]}"; do
  install -d -m "$state_mode" -o "$owner" -g "$owner_group" "/var/lib/$name"
done
for name in "${runtime_dirs[@]}"; do
  install -d -m "$runtime_mode" -o "$owner" -g "$owner_group" "/run/$name"
done

privileges=()
if [[ $owner != root ]]; then
  privileges+=(--reuid="$owner" --regid="$owner_group" --init-groups)
  ambient_list=$(capability_list "$ambient")
  if [[ -n $ambient_list ]]; then
    privileges+=(--inh-caps="-all,$ambient_list" --ambient-caps="-all,$ambient_list")
  else
    privileges+=(--inh-caps=-all)
  fi
fi
if [[ $bounding_set == yes ]]; then
  bounding_list=$(capability_list "$bounding")
  privileges+=(--bounding-set="-all${bounding_list:+,$bounding_list}")
fi
[[ $no_new_privileges == yes || $no_new_privileges == true ]] && privileges+=(--no-new-privs)
[[ -n $umask_value ]] && umask "$umask_value"

for hook in ${exec_start_pre[@]+"${exec_start_pre[@]}"}; do
  run_hook "$hook" || { echo "run-unit: ExecStartPre= failed: $hook" >&2; exit 1; }
done

child=""
# shellcheck disable=SC2317  # called by the trap
forward() { if [[ -n $child ]]; then kill -TERM "$child" 2>/dev/null || true; fi; }
trap forward TERM INT
env ${environment[@]+"${environment[@]}"} setpriv ${privileges[@]+"${privileges[@]}"} -- "${command[@]}" &
child=$!
status=0
while true; do
  wait "$child" && status=0 || status=$?
  kill -0 "$child" 2>/dev/null || break  # wait returned because a signal arrived: keep waiting for the child
done
for hook in ${exec_stop_post[@]+"${exec_stop_post[@]}"}; do
  run_hook "$hook" || echo "run-unit: ExecStopPost= failed: $hook" >&2
done
if [[ $runtime_preserve != yes ]]; then
  for name in "${runtime_dirs[@]}"; do rm -rf --one-file-system "/run/${name:?}"; done
fi
exit "$status"
