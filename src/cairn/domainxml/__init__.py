"""Pure builders of libvirt domain XML with lxml.

Nothing here touches the database, the attributes or libvirt: callers hand in
plain specs (see `spec`), and get lxml elements back. Policy (which disk, which
boot order) belongs in `cairn.designer`.
"""
