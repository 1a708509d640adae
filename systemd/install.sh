#!/usr/bin/env bash
# Install printkiosk on Raspberry Pi OS / Debian 12 as a service (run as root from a clone).
# Usage: systemd/install.sh kiosk|backend|spool-agent
set -euo pipefail
role=${1:?usage: install.sh kiosk|backend|spool-agent}
case "$role" in kiosk|backend|spool-agent) ;;
    *) echo "install.sh: role must be kiosk, backend or spool-agent" >&2; exit 2;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
id printkiosk >/dev/null 2>&1 || useradd --system --home /var/lib/printkiosk --shell /usr/sbin/nologin printkiosk
install -d -o root -g root /opt/printkiosk /etc/printkiosk
install -d -o printkiosk -g printkiosk -m 0750 /var/lib/printkiosk
cp -a "$src/." /opt/printkiosk/
bash /opt/printkiosk/scripts/setup.sh
if [ "$role" = kiosk ]; then
    [ -f /etc/printkiosk/kiosk.toml ] || install -m 0644 "$src/config/kiosk-mfp.toml" /etc/printkiosk/kiosk.toml
    install -m 0644 "$src/systemd/99-printkiosk-card-reader.rules" /etc/udev/rules.d/ 2>/dev/null || true
    install -m 0644 "$src/systemd/99-printkiosk-receipt-printer.rules" /etc/udev/rules.d/ 2>/dev/null || true
    install -m 0644 "$src/systemd/99-printkiosk-voucher-scanner.rules" /etc/udev/rules.d/ 2>/dev/null || true
    udevadm control --reload-rules 2>/dev/null || true
elif [ "$role" = spool-agent ]; then
    # runs on the print server: it reads CUPS's spool, which group lp may read
    usermod -a -G lp printkiosk
    [ -f /etc/printkiosk/spool-agent.toml ] || install -m 0644 "$src/config/spool-agent.toml" /etc/printkiosk/spool-agent.toml
else
    [ -f /etc/printkiosk/backend.toml ] || install -m 0644 "$src/config/backend.toml" /etc/printkiosk/backend.toml
fi
/opt/printkiosk/.venv/bin/printkiosk doctor --config "/etc/printkiosk/$role.toml"
install -m 0644 "$src/systemd/printkiosk-$role.service" /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now "printkiosk-$role.service"
echo "printkiosk $role installed; edit /etc/printkiosk/$role.toml and restart the service."
