"""Fixtures of this directory: a fresh copy of the example cluster per test
(see tests/unit/commands/cluster_kit.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _kit():  # type: ignore[no-untyped-def]
    name = "_cairn_cluster_kit"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "commands" / "cluster_kit.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


kit = _kit()
cluster_templates = kit.cluster_templates
example_cluster = kit.example_cluster
sqlite_example_cluster = kit.sqlite_example_cluster
