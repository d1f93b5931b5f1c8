"""Read YAML (files, folders, text, stdin) into config models, a Mesh and a source map.

Three steps, one module each: :mod:`.yaml` turns text into documents of plain data with the
position of every field (the only module that imports ``yaml``), :mod:`.errors` turns pydantic
validation errors into diagnostics at those positions, and :mod:`.assemble` validates the
documents into a :class:`ConfigSet` and builds its Mesh.
"""

from __future__ import annotations

from .assemble import MAX_REPLICAS as MAX_REPLICAS
from .assemble import ConfigSet as ConfigSet
from .assemble import ObjectKey as ObjectKey
from .assemble import load_config as load_config
from .errors import validation_diagnostics as validation_diagnostics
from .yaml import MAX_DEPTH as MAX_DEPTH
from .yaml import MAX_FILE_BYTES as MAX_FILE_BYTES
from .yaml import MAX_NODES as MAX_NODES
from .yaml import YAML_SUFFIXES as YAML_SUFFIXES
from .yaml import SourceMap as SourceMap
from .yaml import load_yaml_documents as load_yaml_documents
