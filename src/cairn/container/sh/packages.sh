# shellcheck shell=sh disable=SC2154
# The Debian/Ubuntu packages a container needs ($cairn_packages), when missing.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# Packages (Debian/Ubuntu), installed only when missing.
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "cairn: this script is for Debian/Ubuntu; use format=kickstart for RHEL-family nodes" >&2
  exit 1
fi
cairn_missing=
for cairn_pkg in $cairn_packages; do
  if ! dpkg-query -W -f='${Status}\n' "$cairn_pkg" 2>/dev/null | grep -q 'ok installed$'; then
    cairn_missing="$cairn_missing $cairn_pkg"
  fi
done
if [ -n "$cairn_missing" ]; then
  apt-get update -q
  # shellcheck disable=SC2086 # one word per package: $cairn_missing is split on purpose
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $cairn_missing
  cairn_changed "installed$cairn_missing"
fi
