"""The raw-XML examples of the Rocks 6.2 KVM roll guide, as the code receives them.

The strings are what bash hands to `rocks set host attr` for the guide's commands
(checked with printf): inside single quotes the `\\ ` line continuations survive, and
the kvm_device_0 example's nested single quotes are eaten by the shell.
"""

SEED_PINNING = (
    '<cputune>\\ <vcpupin vcpu="0" cpuset="4"/>\\ <vcpupin vcpu="1" cpuset="5"/>\\'
    ' <vcpupin vcpu="2" cpuset="6"/>\\ <vcpupin vcpu="3" cpuset="7"/>\\ </cputune>'
)
SEED_DEVICE_AS_BASH_GIVES_IT = (
    "<hostdev mode=subsystem type=pci managed=yes>\\ <source>\\"
    " <address bus=0x06 slot=0x02 function=0x0/>\\ </source>\\ </hostdev>"
)
# The same device quoted as it should be: value="<hostdev mode='subsystem' ...>".
SEED_DEVICE_QUOTED = (
    "<hostdev mode='subsystem' type='pci' managed='yes'>\\ <source>\\"
    " <address bus='0x06' slot='0x02' function='0x0'/>\\ </source>\\ </hostdev>"
)
SEED_CPU_MODE = (
    "exact: <model fallback='allow'>core2duo</model><vendor>Intel</vendor>"
    "<topology sockets='1' cores='2'/>"
)
