"""`cairn report host profile`: what a node needs to run VMs, to apply when it is (re)installed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints what makes a node a VM container: a shell script or a kickstart part.

    A node can run VMs when its appliance is vm-container or its attribute kvm
    is true; after setting kvm, apply this profile again (on a reinstall, or
    by hand). For any other node the profile has no KVM part and says why.
    For a container it has:

      - packages: libvirt-daemon-system libvirt-clients qemu-system-x86
        qemu-utils (format=sh, with apt-get, only the missing ones);
        qemu-kvm qemu-img libvirt libvirt-client (format=kickstart, %packages);
      - /dev/kvm opened to QEMU (mode 0666, now and by a udev rule), the
        directories of kvm_disk_dir and kvm_save_dir
        (default /var/lib/libvirt/qemu/save);
      - libvirt-guests disabled and cairn-container.service enabled: a
        oneshot systemd unit that runs `<cairn_command> container boot` after
        libvirtd starts and `<cairn_command> container shutdown yes=true`
        before it stops. cairn_command defaults to the cairn executable running this
        command; it must be installed at that path on the node. Without
        systemd, nothing runs them at boot (the script says so);
      - remote access, after the host's kvm_connection: qemu+ssh:// puts root's
        SSH public key of this machine (~/.ssh/id_ed25519.pub, id_ecdsa.pub
        or id_rsa.pub; 'cairn create keys' makes one if there is none) into the
        node's /root/.ssh/authorized_keys; qemu+tls:// installs the cluster
        CA and a server certificate for the node (its name, the name in the
        URI, its interface IPs) in /etc/pki and makes libvirtd listen for TLS
        (libvirtd-tls.socket, or `libvirtd -d --listen` without systemd);
        qemu:///system needs nothing;
      - the bridges for VMs on the networks the node reaches (the plan that
        `cairn sync host network` applies): /etc/cairn/network.sh makes them,
        run now (format=sh) and at every boot before libvirtd by
        cairn-network.service.

    A report writes nothing: the cluster CA ($CAIRN_CA_DIR, else <data
    dir>/ca, /var/lib/cairn/ca for root), the certificates issued to hosts
    (kept there too, reused while they fit, so a profile made twice is the
    same) and root's SSH key are made by 'cairn create keys'; when one is
    missing, this says so. For TLS, cairn itself needs a client certificate: the profile of
    this machine's host entry (`localhost`) or of a frontend appliance host
    includes it (/etc/pki/CA/cacert.pem, /etc/pki/libvirt/clientcert.pem,
    /etc/pki/libvirt/private/clientkey.pem) whenever some container is
    reached through TLS; client=yes or client=no decides it for any host.

    format=sh prints a POSIX shell script for Debian/Ubuntu: run it as root on
    the node; a second run changes nothing. format=kickstart prints %packages
    and %post sections for a RHEL-family kickstart file. Values from the
    database are quoted once at the top of the script and never run as code;
    kvm_save_dir, kvm_disk_dir and cairn_command must be plain absolute paths.
    A profile with TLS holds private keys: keep it where only root reads it.
    """

    args = (Arg("host", "one host name, or localhost for this machine"),)
    params = (
        Param(
            "format",
            "sh: a shell script for Debian/Ubuntu; kickstart: %packages and %post for RHEL",
            "sh",
            values.choice("sh", "kickstart"),
            metavar="sh|kickstart",
        ),
        Param(
            "client",
            "include the TLS client certificate for cairn on HOST (default: for this"
            " machine and frontends, when some container uses TLS)",
            None,
            values.boolean,
            metavar="BOOL",
        ),
    )
    examples = (
        Example(
            "cairn report host profile vm-container-0-0",
            "The script that makes vm-container-0-0 a VM container: save it, run it there as root.",
        ),
        Example(
            "cairn report host profile compute-0-1",
            "compute-0-1 is no container (kvm is not true): a script with no KVM part.",
        ),
        Example(
            "cairn report host profile vm-container-0-1 format=kickstart",
            "The same for a RHEL-family node, as a kickstart fragment.",
        ),
    )
    related = ("create keys", "set host attr", "report host attr", "add host vm")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.container import profile, script
        from cairn.vms.define import inventory_host

        host = inventory_host(ctx.session, a["host"])
        made = profile.gather(ctx.session, host, client=a["client"])
        for note in made.notes:
            ctx.note(note)
        return Text(script.render(made, a["format"]))
