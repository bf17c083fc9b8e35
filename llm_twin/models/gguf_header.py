"""A fast reader of a GGUF file's metadata and tensor table (no tensor data, no vocabulary).

`gguf.GGUFReader` parses every element of every array into numpy views: for a 49k-token vocabulary that is
~10-20 s on a small CPU, and a Llama 3 vocabulary (128k tokens plus merges) takes longer. Validating a
user's file (architecture, chat template, tokenizer kind) needs none of that, so this walks the header with
`struct`, skipping string arrays (their lengths are read, their contents are not), and can read one small
tensor (Llama 3's `rope_freqs`) by its offset.

GGUF layout (v2/v3): magic, version u32, tensor count u64, KV count u64; KVs (key string, type u32,
value); tensor infos (name, n_dims u32, dims u64..., type u32, offset u64); padding to `general.alignment`.
"""

from __future__ import annotations

import struct
from collections.abc import Container
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from pydantic import BaseModel

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_F32 = 0


class GgufHeaderError(ValueError):
    """The file is not a GGUF this reader understands."""


class TensorEntry(BaseModel):
    name: str
    shape: tuple[int, ...]  # GGUF order (fastest-moving dimension first)
    ggml_type: int
    offset: int  # from the start of the data section


class GgufHeader(BaseModel):
    path: str
    metadata: dict[str, Any]  # string arrays appear as {"array_of_strings": count}
    tensors: list[TensorEntry]
    data_start: int

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def tensor(self, name: str) -> TensorEntry | None:
        return next((t for t in self.tensors if t.name == name), None)

    def read_f32(self, name: str) -> np.ndarray | None:
        """An F32 tensor's values (used for small ones such as `rope_freqs.weight`)."""
        entry = self.tensor(name)
        if entry is None:
            return None
        if entry.ggml_type != _F32:
            raise GgufHeaderError(f"tensor {name} is not F32 (type {entry.ggml_type})")
        count = int(np.prod(entry.shape))
        with open(self.path, "rb") as fh:
            fh.seek(self.data_start + entry.offset)
            return np.frombuffer(fh.read(4 * count), dtype="<f4").copy()


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise GgufHeaderError("the file ends inside its header (truncated download?)")
    return struct.unpack(fmt, data)[0]


def _string(fh: BinaryIO) -> str:
    length = _read(fh, "<Q")
    return fh.read(length).decode("utf-8", errors="replace")


def _value(fh: BinaryIO, vtype: int, keep_strings: bool = False) -> Any:
    if vtype in _SCALARS:
        return _read(fh, _SCALARS[vtype])
    if vtype == _STRING:
        return _string(fh)
    if vtype == _ARRAY:
        etype, count = _read(fh, "<I"), _read(fh, "<Q")
        if etype == _STRING and keep_strings:
            return [_string(fh) for _ in range(count)]
        if etype == _STRING:
            for _ in range(count):
                fh.seek(_read(fh, "<Q"), 1)
            return {"array_of_strings": count}
        if etype in _SCALARS:
            width = struct.calcsize(_SCALARS[etype])
            if count > 4096:  # token types / scores: only their count is of interest here
                fh.seek(width * count, 1)
                return {"array": count}
            return list(struct.unpack(f"<{count}{_SCALARS[etype][1]}", fh.read(width * count)))
        raise GgufHeaderError(f"array of value type {etype} is not supported")
    raise GgufHeaderError(f"metadata value type {vtype} is not supported")


def read_header(path: Path | str, string_arrays: Container[str] = ()) -> GgufHeader:
    """Metadata (string arrays as counts, except the keys in `string_arrays`) and the tensor table."""
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise GgufHeaderError(f"{path} does not start with the GGUF magic bytes")
        version = _read(fh, "<I")
        if version not in (2, 3):
            raise GgufHeaderError(f"{path} is GGUF version {version}; versions 2 and 3 are supported")
        n_tensors, n_kv = _read(fh, "<Q"), _read(fh, "<Q")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = _string(fh)
            metadata[key] = _value(fh, _read(fh, "<I"), key in string_arrays)
        tensors = []
        for _ in range(n_tensors):
            name = _string(fh)
            dims = tuple(_read(fh, "<Q") for _ in range(_read(fh, "<I")))
            tensors.append(TensorEntry(name=name, shape=dims, ggml_type=_read(fh, "<I"), offset=_read(fh, "<Q")))
        alignment = int(metadata.get("general.alignment", 32))
        pos = fh.tell()
    return GgufHeader(path=str(path), metadata=metadata, tensors=tensors,
                      data_start=(pos + alignment - 1) // alignment * alignment)
