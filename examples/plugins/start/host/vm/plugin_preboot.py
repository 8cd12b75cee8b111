"""Example plugin_preboot: log each VM's serial console to a file on its container.

Adds to the domain XML

    <serial type='file'>
      <source path='/var/log/cairn/VM.serial'/>
      <target port='N'/>
    </serial>

on the next free serial port, so the guest's console output of every boot is
kept on the container (create /var/log/cairn there). Nothing is stored in the
database: preboot runs read-only, and the change lives only in this start.

Install: copy to <plugin dir>/start/host/vm/plugin_preboot.py, owned by root,
mode 0644 (see docs/plugins.md).
"""

from __future__ import annotations

from lxml import etree

LOG_DIR = "/var/log/cairn"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def run(*, session, vm, xml):
    root = etree.fromstring(xml.encode(), _PARSER)
    devices = root.find("devices")
    if devices is None:
        devices = etree.SubElement(root, "devices")
    path = f"{LOG_DIR}/{vm.host.name}.serial"
    serials = devices.findall("serial")
    if any(source.get("path") == path for source in devices.iterfind("serial/source")):
        return None  # there already: keep cairn's XML
    ports = [t.get("port", "") for s in serials for t in s.findall("target")]
    port = max((int(p) for p in ports if p.isdigit()), default=-1) + 1
    serial = etree.Element("serial", type="file")
    etree.SubElement(serial, "source", path=path)
    etree.SubElement(serial, "target", port=str(port))
    if serials:
        serials[-1].addnext(serial)  # next to the others, for whoever reads the XML
    else:
        devices.append(serial)
    return etree.tostring(root, encoding="unicode")
