#!/usr/bin/env bash
# Install printkiosk as a service on Raspberry Pi OS Bookworm or Debian 12 (arm64, amd64).
# Run as root from a clone; running it again changes nothing that is already right.
#
#   systemd/install.sh [--root DIR] kiosk|backend|spool-agent
#
# kiosk:       the touch kiosk under cage (Wayland kiosk compositor) on tty1
# backend:     the accounting server
# spool-agent: the held-job analyser, on the CUPS print server
#
# --root DIR writes every file under DIR instead of / and starts nothing (for tests and
# for preparing an image: the user goes into DIR's /etc/passwd, useradd --prefix). The
# commands it runs can be replaced for the same reason:
# SYSTEMCTL, UDEVADM, USERADD, USERMOD, APT_GET, PYTHON3 (environment variables).
# Secrets from the environment, never the command line (`ps` shows it to everyone):
#   PRINTKIOSK_TERMINAL_TOKEN   written to /etc/printkiosk/terminal-token (0600)
#   PRINTKIOSK_TECHNICIAN_PIN   the offline technician PIN, hashed by
#                               `printkiosk technician set-pin` (file 0600)
# See docs/raspberry-pi.md.
set -euo pipefail

usage() { echo "usage: install.sh [--root DIR] kiosk|backend|spool-agent" >&2; exit 2; }

ROOT=""
role=""
while [ $# -gt 0 ]; do
    case "$1" in
        --root) [ $# -ge 2 ] || usage; ROOT=$(realpath -m "$2"); shift 2 ;;
        --root=*) ROOT=$(realpath -m "${1#--root=}"); shift ;;
        kiosk|backend|spool-agent) role=$1; shift ;;
        *) echo "install.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
[ -n "$role" ] || usage

SYSTEMCTL=${SYSTEMCTL:-systemctl}
UDEVADM=${UDEVADM:-udevadm}
USERADD=${USERADD:-useradd}
USERMOD=${USERMOD:-usermod}
APT_GET=${APT_GET:-apt-get}
PYTHON3=${PYTHON3:-python3}

src=$(cd "$(dirname "$0")/.." && pwd)
USER_NAME=printkiosk
OPT=/opt/printkiosk
ETC=/etc/printkiosk
STATE=/var/lib/printkiosk
VENV=$OPT/.venv

say() { echo "install.sh: $*"; }
die() { echo "install.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || [ -n "$ROOT" ] || die "run as root (or with --root DIR)"
case "$(uname -m)" in
    aarch64|x86_64) ;;
    *) die "$(uname -m) is not supported: Raspberry Pi OS / Debian 12 on arm64 or amd64 only" ;;
esac
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ "$codename" = bookworm ] || say "warning: made for Debian 12 bookworm, this is '${codename:-unknown}'"
fi

# Whether the user exists (in DIR's /etc/passwd with --root). With a stubbed useradd it
# may not: then root keeps what it would own.
user_known() {
    if [ -n "$ROOT" ]; then grep -q "^$USER_NAME:" "$ROOT/etc/passwd" 2>/dev/null
    else getent passwd "$USER_NAME" >/dev/null 2>&1; fi
}
# user:group to chown to: numeric from DIR's passwd with --root (the host may not know it)
owner_of() {
    if [ -n "$ROOT" ]; then awk -F: -v u="$1" '$1 == u { print $3 ":" $4 }' "$ROOT/etc/passwd"
    else echo "$1:$1"; fi
}

# put SRC DEST MODE [OWNER]: install a file only when its content or mode differs, so a
# second run rewrites nothing (same bytes, same times, no daemon reload for nothing).
changed=0
put() {
    local from=$1 to=$ROOT$2 mode=$3 owner=${4:-root}
    [ -d "$(dirname "$to")" ] || install -d -m 0755 "$(dirname "$to")"
    if ! cmp -s "$from" "$to" || [ "$(stat -c %a "$to")" != "${mode#0}" ]; then
        install -m "$mode" "$from" "$to"
        changed=1
        say "wrote $2"
    fi
    own "$owner" "$to"
}
# own OWNER PATH: chown to OWNER and its group if that user exists.
own() {
    local who=$1 path=$2
    if [ "$who" = root ]; then chown root:root "$path" 2>/dev/null || true; return; fi
    if user_known; then chown "$(owner_of "$who")" "$path"; fi
}
# dir PATH MODE OWNER
dir() {
    install -d -m "$2" "$ROOT$1"
    chmod "$2" "$ROOT$1"
    own "$3" "$ROOT$1"
}
# secret DEST VALUE: a 0600 file of the service's user, written only when it differs.
secret() {
    local to=$ROOT$1 value=$2 tmp
    if [ ! -f "$to" ] || [ "$(cat "$to")" != "$value" ]; then
        tmp=$(mktemp "$(dirname "$to")/.secret.XXXXXX")
        printf '%s\n' "$value" >"$tmp"
        chmod 0600 "$tmp"
        mv -f "$tmp" "$to"
        say "wrote $1 (0600)"
    fi
    chmod 0600 "$to"
    own "$USER_NAME" "$to"
}

# toml_get FILE TABLE KEY: a string value of the kiosk file ("" when absent), by tomllib
toml_get() {
    "$PYTHON3" -c 'import sys, tomllib
with open(sys.argv[1], "rb") as f: data = tomllib.load(f)
value = data.get(sys.argv[2], {}).get(sys.argv[3], "")
print(value if isinstance(value, str) else "")' "$@"
}
# The offline technician PIN: hashed into [technician] local_pin_file by the kiosk's own
# command (scrypt, 0600), once: a PIN already set is kept (a new hash has a new salt, and
# changing it is `printkiosk technician set-pin`). A file without the key gets the table.
set_technician_pin() {
    local file=$ROOT$ETC/$conf pin_file config_for_pin
    pin_file=$(toml_get "$file" technician local_pin_file)
    if [ -z "$pin_file" ]; then
        if "$PYTHON3" -c 'import sys, tomllib
with open(sys.argv[1], "rb") as f: sys.exit(0 if "technician" in tomllib.load(f) else 1)' "$file"; then
            die "$ETC/$conf: [technician] has no local_pin_file: add local_pin_file = \"$ETC/technician-pin\""
        fi
        printf '\n# added by install.sh (PRINTKIOSK_TECHNICIAN_PIN): the offline technician PIN\n[technician]\nlocal_pin_file = "%s"\n' \
            "$ETC/technician-pin" >>"$file"
        say "added [technician] local_pin_file to $ETC/$conf"
        pin_file=$ETC/technician-pin
    fi
    case "$pin_file" in /*) ;; *) die "$ETC/$conf: technician.local_pin_file must be absolute" ;; esac
    if [ -e "$ROOT$pin_file" ]; then
        say "kept the technician PIN in $pin_file (change it: printkiosk technician set-pin --config $ETC/$conf)"
        return
    fi
    config_for_pin=$file
    if [ -n "$ROOT" ]; then
        # the command writes where the file says: under --root, a copy that says DIR/...
        config_for_pin=$(mktemp "$ROOT$ETC/.pin-config.XXXXXX")
        sed -E "s#^([[:space:]]*local_pin_file[[:space:]]*=[[:space:]]*)\"([^\"]*)\"#\\1\"$ROOT\\2\"#" \
            "$file" >"$config_for_pin"
    fi
    PRINTKIOSK_TECHNICIAN_PIN=$PRINTKIOSK_TECHNICIAN_PIN \
        "$ROOT$VENV/bin/printkiosk" technician set-pin --config "$config_for_pin" ||
        { [ "$config_for_pin" = "$file" ] || rm -f "$config_for_pin"; die "the technician PIN was not set"; }
    [ "$config_for_pin" = "$file" ] || rm -f "$config_for_pin"
    own "$USER_NAME" "$ROOT$pin_file"
    say "set the offline technician PIN ($pin_file, 0600)"
}

# -- Debian packages: what the venv builds against, and what runs beside it ---------------
packages=(python3-venv python3-dev build-essential libffi-dev ghostscript)
case "$role" in
    kiosk) packages+=(cage xwayland libgl1 libegl1 libgl1-mesa-dri libmtdev1 pcscd
                      libpcsclite-dev libcups2-dev linux-libc-dev libusb-1.0-0 xclip
                      fonts-dejavu-core) ;;
    backend) packages+=(fonts-dejavu-core libzbar0) ;;
    spool-agent) packages+=(libcups2-dev) ;;
esac
if [ -z "$ROOT" ]; then
    "$APT_GET" update -q
    DEBIAN_FRONTEND=noninteractive "$APT_GET" install -y -q --no-install-recommends "${packages[@]}"
else
    say "--root: not installing Debian packages (${packages[*]})"
fi

# -- the system user ----------------------------------------------------------------------
if ! user_known; then
    "$USERADD" ${ROOT:+--prefix "$ROOT"} --system --user-group --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "printkiosk service" "$USER_NAME"
fi
case "$role" in
    # the display, the GPU and the touch screen (cage opens them through logind as well)
    kiosk) groups=video,input,render ;;
    # CUPS's spool files are root:lp
    spool-agent) groups=lp ;;
    *) groups="" ;;
esac
# only the groups it is not in yet: usermod rewrites /etc/group even for nothing
missing=$(awk -F: -v u="$USER_NAME" -v want="$groups" '
    BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) need[w[i]] = 1 }
    $1 in need { split($4, m, ","); for (j in m) if (m[j] == u) delete need[$1] }
    END { s = ""; for (i = 1; i <= n; i++) if (w[i] in need) s = s (s ? "," : "") w[i]; print s }' \
    "$ROOT/etc/group" 2>/dev/null ||
    echo "$groups")
if [ -n "$groups" ] && [ -n "$missing" ]; then
    "$USERMOD" ${ROOT:+--prefix "$ROOT"} -a -G "$missing" "$USER_NAME"
fi

# -- directories ----------------------------------------------------------------------------
dir "$OPT" 0755 root
dir "$STATE" 0750 "$USER_NAME"
if [ "$role" = kiosk ]; then
    # the technician menu saves kiosk.toml and the terminal token here (atomic renames)
    dir "$ETC" 0750 "$USER_NAME"
else
    dir "$ETC" 0755 root
fi

# -- the virtual environment in /opt/printkiosk ------------------------------------------
if [ ! -x "$ROOT$VENV/bin/python" ]; then
    "$PYTHON3" -m venv "$ROOT$VENV"
    say "created the venv $VENV"
fi
# pip compares versions: an unchanged checkout installs nothing new
"$ROOT$VENV/bin/pip" install --quiet --disable-pip-version-check \
    --constraint "$src/constraints.txt" "$src"
for doc in "$src"/docs/*.md; do
    put "$doc" "$OPT/docs/$(basename "$doc")" 0644
done

# -- configuration (a site's file is never overwritten) and secrets -----------------------
case "$role" in
    kiosk) example=config/kiosk-mfp.toml; conf=kiosk.toml ;;
    backend) example=config/backend.toml; conf=backend.toml ;;
    spool-agent) example=config/spool-agent.toml; conf=spool-agent.toml ;;
esac
if [ ! -e "$ROOT$ETC/$conf" ]; then
    put "$src/$example" "$ETC/$conf" 0640 "$USER_NAME"
else
    say "kept $ETC/$conf"
fi
if [ -n "${PRINTKIOSK_TERMINAL_TOKEN:-}" ] && [ "$role" = kiosk ]; then
    secret "$ETC/terminal-token" "$PRINTKIOSK_TERMINAL_TOKEN"
fi
if [ -n "${PRINTKIOSK_TECHNICIAN_PIN:-}" ] && [ "$role" = kiosk ]; then
    set_technician_pin
fi

# -- units, udev rules, the kiosk session, polkit, journald --------------------------------
put "$src/systemd/printkiosk-$role.service" "/etc/systemd/system/printkiosk-$role.service" 0644
put "$src/systemd/journald-printkiosk.conf" /etc/systemd/journald.conf.d/printkiosk.conf 0644
if [ "$role" = kiosk ]; then
    for rules in card-reader receipt-printer voucher-scanner; do
        put "$src/systemd/99-printkiosk-$rules.rules" "/etc/udev/rules.d/99-printkiosk-$rules.rules" 0644
    done
    put "$src/systemd/printkiosk-kiosk.pam" /etc/pam.d/printkiosk-kiosk 0644
    put "$src/systemd/50-printkiosk.rules" /etc/polkit-1/rules.d/50-printkiosk.rules 0644
fi

if [ -n "$ROOT" ]; then
    "$SYSTEMCTL" --root="$ROOT" enable "printkiosk-$role.service"
    say "--root: enabled printkiosk-$role.service under $ROOT, started nothing"
    exit 0
fi
if [ "$role" = kiosk ]; then
    "$UDEVADM" control --reload-rules
    "$UDEVADM" trigger --subsystem-match=input --subsystem-match=usb --action=change
fi
# (journald reads its new limits at the next boot: restarting it would cut the services'
# log streams)
[ "$changed" = 0 ] || "$SYSTEMCTL" daemon-reload
"$SYSTEMCTL" enable --now "printkiosk-$role.service"
"$VENV/bin/printkiosk" doctor --config "$ETC/$conf" ||
    say "printkiosk doctor found problems: edit $ETC/$conf, then systemctl restart printkiosk-$role"
say "printkiosk $role installed; the journal: journalctl -u printkiosk-$role"
