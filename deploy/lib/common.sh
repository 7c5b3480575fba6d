# Functions shared by provision-hub.sh and install-agent.sh (sourced, not run).

die() { echo "${0##*/}: $*" >&2; exit 1; }
say() { echo "${0##*/}: $*" >&2; }

# install_file TARGET MODE OWNER < CONTENT
# Writes standard input to TARGET with MODE and OWNER through a temporary file in the same directory and a rename:
# a reader never sees half a file, and replacing a running binary cannot fail with ETXTBSY.
install_file() {
  local target=$1 mode=$2 owner=$3 temporary
  temporary=$(mktemp "$(dirname "$target")/.$(basename "$target").XXXXXX")
  if ! cat >"$temporary" || ! chmod "$mode" "$temporary" || ! chown "$owner" "$temporary" || ! mv -f "$temporary" "$target"; then
    rm -f "$temporary"
    die "cannot write $target"
  fi
}

# install_packages PACKAGE... : apt-get installs the ones that are missing (nothing when all are there).
install_packages() {
  local package missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# install_binary SOURCE NAME : /usr/local/bin/NAME, refusing a binary whose shared libraries are missing here.
install_binary() {
  local source=$1 name=$2 missing
  [[ -x $source ]] || die "$source is missing or not executable"
  # Checked before anything is replaced, so that a failed upgrade leaves the working binary in place.
  if missing=$(ldd "$source" 2>&1 | grep "not found"); then
    die "$source cannot run here, these libraries are missing:
$missing
(build it with: swift build -c release --static-swift-stdlib, or install the matching Swift runtime)"
  fi
  install -d -m 0755 /usr/local/bin
  install_file "/usr/local/bin/$name" 0755 root:root <"$source"
}

# system_user NAME HOME : creates a system user and group NAME (no login, no home directory) unless it exists.
system_user() {
  id "$1" >/dev/null 2>&1 || useradd --system --user-group --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1"
}

# stop_direct PID-FILE : stops a service started by start_direct (SIGTERM, graceful), waiting up to 20 s.
stop_direct() {
  local pid_file=$1 pid
  [[ -f $pid_file ]] || return 0
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then die "process $pid ($pid_file) did not stop within 20 s"; fi
  fi
  rm -f "$pid_file"
}

# start_direct UNIT-FILE PID-FILE LOG : (re)starts a unit without systemd, through run-unit, in the background.
start_direct() {
  local unit_file=$1 pid_file=$2 log=$3
  stop_direct "$pid_file"
  setsid /usr/local/lib/riftgate/run-unit "$unit_file" </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
}

# install_helpers DEPLOY-DIR : run-unit (for --no-systemd) and the certbot hook in /usr/local/lib/riftgate, and the
# guides in /usr/local/share/doc/riftgate (the units' Documentation=), when DEPLOY-DIR/../docs has them.
install_helpers() {
  local doc
  install -d -m 0755 /usr/local/lib/riftgate
  install_file /usr/local/lib/riftgate/run-unit 0755 root:root <"$1/run-unit.sh"
  install_file /usr/local/lib/riftgate/certbot-deploy-hook 0755 root:root <"$1/certbot/riftgate-hub-deploy-hook"
  for doc in self-hosting.md testing-lan.md troubleshooting.md; do
    if [[ -f $1/../docs/$doc ]]; then
      install -d -m 0755 /usr/local/share/doc/riftgate
      install_file "/usr/local/share/doc/riftgate/$doc" 0644 root:root <"$1/../docs/$doc"
    fi
  done
}
