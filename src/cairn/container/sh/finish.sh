# shellcheck shell=sh disable=SC2154
# The last line a profile prints.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

if [ -n "$cairn_changes" ]; then
  echo "cairn: profile of $cairn_host applied"
else
  echo "cairn: profile of $cairn_host: nothing to change"
fi
