"""A report host vm config section plugin for t6000 (cairn's plugin API; Rocks'
t6000/plugin_device.py, ported): marks where its section ends with a comment
naming the plugin, `<!-- plugin_%PLUGINNAME% -->`."""

from lxml import etree


def run(*, elements, vm):
    mark = etree.Comment(" plugin_%PLUGINNAME% ")
    if elements and elements[0].tag == "domain":  # global: the whole document
        elements[0].append(mark)
        return elements
    return [*elements, mark]
