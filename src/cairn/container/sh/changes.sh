# shellcheck shell=sh
# How a profile, and the bridges script it installs, count what they change:
# cairn_changed MESSAGE says it and remembers it in $cairn_changes.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# These lines, down to the first blank one, are not copied into profiles.

cairn_changes=
cairn_changed() {
  cairn_changes="$cairn_changes|$1"
  echo "cairn: $1"
}
