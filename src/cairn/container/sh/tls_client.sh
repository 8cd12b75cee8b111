# shellcheck shell=sh disable=SC2154
# A machine whose cairn reaches qemu+tls:// containers: the client certificate.
# Part of the shell of a profile (cairn.container.script), which joins the parts.
# Its variables are set by the quoted values block cairn writes before it, or
# by an earlier part (so shellcheck, which reads one file, is told: SC2154).
# These lines, down to the first blank one, are not copied into profiles.

# TLS client: libvirt's client certificate for root, so that cairn on this machine
# reaches the qemu+tls:// containers.
cairn_put /etc/pki/CA/cacert.pem 644 "$cairn_ca_cert"
cairn_put /etc/pki/libvirt/clientcert.pem 644 "$cairn_client_cert"
cairn_put /etc/pki/libvirt/private/clientkey.pem 600 "$cairn_client_key"
