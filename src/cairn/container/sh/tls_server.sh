# shellcheck shell=sh disable=SC2034,SC2154
# A container reached through qemu+tls://: CA, server certificate and key, and
# libvirtd's TLS settings.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# cairn_tls_changed is read by daemons.sh, a later part (SC2034), only when
# $cairn_tls is yes, that is when this part runs.
# These lines, down to the first blank one, are not copied into profiles.

# TLS (kvm_connection qemu+tls://): the cluster CA, this node's certificate and key
# where libvirtd looks for them, and libvirtd listening for TLS (port 16514).
cairn_tls_changed=  # yes when this part changed something (read by daemons.sh)
cairn_before=$cairn_changes
cairn_put /etc/pki/CA/cacert.pem 644 "$cairn_ca_cert"
cairn_put /etc/pki/libvirt/servercert.pem 644 "$cairn_server_cert"
cairn_put /etc/pki/libvirt/private/serverkey.pem 600 "$cairn_server_key"
cairn_conf=/etc/libvirt/libvirtd.conf
# cairn_set_conf KEY LINE: LINE is the one setting of KEY (a constant name) in $cairn_conf.
cairn_set_conf() {
  if ! grep -qxF -- "$2" "$cairn_conf" 2>/dev/null ||
    [ "$(grep -Ec "^[[:space:]]*$1[[:space:]]*=" "$cairn_conf")" != 1 ]; then
    if [ -f "$cairn_conf" ]; then
      sed -i "/^[[:space:]]*$1[[:space:]]*=/d" "$cairn_conf"
    fi
    printf '%s\n' "$2" >>"$cairn_conf"
    cairn_changed "$1 in $cairn_conf"
  fi
}
cairn_set_conf listen_tls 'listen_tls = 1'
# Only the frontend's client certificate may connect, and certificates are checked.
cairn_set_conf tls_allowed_dn_list "$cairn_tls_allowed_dn_list"
cairn_set_conf tls_no_verify_certificate 'tls_no_verify_certificate = 0'
if [ "$cairn_changes" != "$cairn_before" ]; then
  cairn_tls_changed=yes
fi
if [ "$cairn_init" != none ]; then
  cairn_enable libvirtd-tls.socket
fi
