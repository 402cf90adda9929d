"""Read .picpac 2.x files (and PicPac 1.0 .db files) from Python: standard library only, numpy optional.

Written from SPEC.md (the section and requirement ids in comments, e.g. [FRM-3], point there).
One module, no build step: copy it next to a training script, or put this folder on sys.path.

    import picpac
    with picpac.open("train.picpac") as db:          # header, footer, index chain
        print(len(db), db.header.alignment)
        record = db[0]                               # random access by record index
        jpeg = record.image                          # bytes of the first image field
        shapes = record.annotation_json()            # dict, or None when not annotated
        classes = db.classes                         # the class table of the metadata frame (2.1)
        for record in db:                            # file order, large sequential reads
            ...

    picpac.open("live.picpac")                       # end torn: the last valid commit, see db.warnings
    picpac.open("train.picpac", strict=True)         # refuse a torn end or a damaged index instead
    picpac.open("crashed.picpac", recover=True)      # scan every frame, past damage (db.dropped)
    picpac.open("train.picpac", use_index=False)     # sequential scan instead of the index

Errors are PicpacError subclasses naming the file, the structure, the byte offset and, when
known, the record index (the message template of the reference implementation, src/errors.ts).
`python3 picpac.py dump FILE [--recover | --strict]` prints the same lines (and warnings) as
`picpac dump` (docs/cli.md).
"""

from __future__ import annotations

import array
import hashlib
import json
import builtins
import os
import socket
import struct
import sys
from decimal import Decimal

# `open` is left out on purpose: `from picpac import *` must not shadow the builtin; call picpac.open.
__all__ = [
    "PicpacFile", "Record", "Field", "Tensor", "FileHeader", "Footer", "IndexEntry",
    "PicpacError", "FormatError", "ChecksumError", "TruncatedError", "UnfinishedFileError",
    "UnsupportedVersionError", "LimitExceededError", "crc32c", "scan_frames", "dump_line", "V1File",
    "DroppedItem", "SkippedRange", "rebuild_index", "find_last_footer",
]

# --- Layout constants (SPEC §4, §5, §6, §7, §8) -----------------------------------------------

SIGNATURE = b"\x89PPC\r\n\x1a\n"
MAJOR_VERSION = 2
HEADER_BYTES = 64
HEADER_CRC_COVERED = 60
MAX_ALIGNMENT = 1 << 20
FRAME_HEADER_BYTES = 16
FRAME_MAGIC = 0x50F7
KIND_RECORD, KIND_ANNOTATION, KIND_INDEX, KIND_FOOTER = 1, 2, 3, 4
FLAG_CRITICAL = 1
FOOTER_PAYLOAD_BYTES = 48
FOOTER_FRAME_BYTES = FRAME_HEADER_BYTES + FOOTER_PAYLOAD_BYTES
RECORD_HEAD_BYTES = 32
FIELD_DESCRIPTOR_BYTES = 16
MAX_FIELDS = 255
ANNOTATION_HEAD_BYTES = 16
ANNOTATION_FORMAT_JSON = 1
INDEX_HEAD_BYTES = 48
RECORD_ENTRY_BYTES = 64
ANNOTATION_ENTRY_BYTES = 24
MAX_FRAME_PAYLOAD_BYTES = (1 << 31) - 1
MAX_SAFE_INTEGER = (1 << 53) - 1
CRITICAL_FEATURE_BITS = 0xFFFF
FEATURE_EXTENDED_HEADER_CRC = 1 << 17  # [HDR-9] (2.1, ancillary)
EXTENDED_HEADER_CRC_OFFSET = 56
CRITICAL_FOOTER_FLAGS = 0xFFFF  # [FTR-8]
FOOTER_FLAG_CRITICAL_FRAMES = 1
KIND_METADATA = 5  # [EXT-7]
METADATA_HEAD_BYTES = 8
METADATA_FORMAT_JSON = 1
RECORD_FLAG_ANNOTATION_FOLLOWS = 1  # [REC-11]

FIELD_KINDS = {1: "image", 2: "label", 3: "tensor", 4: "bytes"}
IMAGE_CODECS = {0: "unknown", 1: "jpeg", 2: "png", 3: "webp", 4: "gif", 5: "tiff", 6: "bmp", 7: "avif", 8: "v1raw"}
# TensorDType code -> (name, struct/array typecode, element bytes) [REC-8]
TENSOR_DTYPES = {
    1: ("uint8", "B", 1), 2: ("int8", "b", 1), 3: ("uint16", "H", 2), 4: ("int16", "h", 2),
    5: ("uint32", "I", 4), 6: ("int32", "i", 4), 7: ("float32", "f", 4), 8: ("float64", "d", 8),
}

# Reader limits [LIM-2], overridable per open().
DEFAULT_MAX_RECORD_BYTES = 1 << 30
DEFAULT_MAX_ANNOTATION_BYTES = 64 << 20
DEFAULT_MAX_INDEX_BYTES = 1 << 30

_SCAN_CHUNK_BYTES = 4 << 20
_GAP_READ_BYTES = 1 << 20


# --- Errors ("<file>: <section>: <problem> at byte <offset> (record <i>): expected <x>, got <y>") ----

class PicpacError(Exception):
    """Base of every error bad bytes can cause. Attributes: file, section, byte_offset,
    record_index (or None), expected, actual, problem."""

    def __init__(self, problem, section, byte_offset, record_index=None, expected=None, actual=None, file=None):
        self.problem = problem
        self.section = section
        self.byte_offset = byte_offset
        self.record_index = record_index
        self.expected = expected
        self.actual = actual
        self.file = file
        super().__init__(problem)

    def with_file(self, file):
        if self.file is None:
            self.file = file
        return self

    def __str__(self):
        text = "%s: %s at byte %d" % (self.section, self.problem, self.byte_offset)
        if self.record_index is not None:
            text += " (record %d)" % self.record_index
        if self.expected is not None or self.actual is not None:
            text += ": expected %s, got %s" % (self.expected, self.actual)
        return "%s: %s" % (self.file, text) if self.file is not None else text


class FormatError(PicpacError):
    """Corrupt or malformed bytes."""


class ChecksumError(FormatError):
    """A CRC-32C does not match: the bytes changed after they were written [FRM-6]."""


class TruncatedError(FormatError):
    """A structure extends past the end of the file."""


class UnfinishedFileError(FormatError):
    """No valid footer: the writer died or is still writing [FTR-3]. open(..., recover=True) reads it."""


class UnsupportedVersionError(FormatError):
    """Unknown major version, critical feature bit or critical extension frame [VER-1] [EXT-2]."""


class LimitExceededError(FormatError):
    """A frame larger than the reader's limit, reported before it is read [LIM-2]."""


# --- CRC-32C (SPEC §10) -------------------------------------------------------------------------

def _make_crc_tables():
    """Slicing-by-8 tables: _CRC_TABLES[k][b] is the CRC state after byte b and k zero bytes."""
    first = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        first.append(c)
    tables = [first]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[n] >> 8) ^ first[prev[n] & 0xFF] for n in range(256)])
    return tuple(tuple(t) for t in tables)


_CRC_TABLES = _make_crc_tables()
_CRC_TABLE = _CRC_TABLES[0]


def _crc32c_python(data, crc=0):
    """CRC-32C (Castagnoli, reflected 0x82F63B78) of `data`, continuing from `crc` [CRC-1].
    Eight bytes per step (slicing-by-8): about 1.5x the byte-at-a-time loop in CPython."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _CRC_TABLES
    data = bytes(data)
    c = crc ^ 0xFFFFFFFF
    whole = len(data) & ~7
    for lo, hi in struct.iter_unpack("<II", data[:whole]) if whole else ():
        c ^= lo
        c = (t7[c & 0xFF] ^ t6[(c >> 8) & 0xFF] ^ t5[(c >> 16) & 0xFF] ^ t4[c >> 24]
             ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for b in data[whole:]:
        c = t0[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _native_crc32c():
    """A C implementation when one is installed (pip `crc32c` or `google-crc32c`); pure Python otherwise.
    Set PICPAC_PURE_PYTHON_CRC=1 to force the table version."""
    if os.environ.get("PICPAC_PURE_PYTHON_CRC"):
        return None
    try:
        import crc32c as _c  # type: ignore
        return lambda data, crc=0: _c.crc32c(bytes(data), crc)
    except Exception:
        pass
    try:
        import google_crc32c as _g  # type: ignore
        return lambda data, crc=0: _g.extend(crc, bytes(data))
    except Exception:
        return None


crc32c = _native_crc32c() or _crc32c_python


# --- Decoded structures --------------------------------------------------------------------------

class _Plain:
    """Small value objects: attributes from __slots__, equality and repr by value."""
    __slots__ = ()

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)

    def _asdict(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other):
        return type(self) is type(other) and self._asdict() == other._asdict()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self._asdict().items()))


class FileHeader(_Plain):
    """SPEC §4."""
    __slots__ = ("major_version", "minor_version", "header_byte_length", "alignment", "feature_flags")

    @property
    def first_frame_offset(self):
        return _align_up(self.header_byte_length, self.alignment)  # [HDR-8]


class FrameHeader(_Plain):
    """SPEC §5 (magic and CRC already checked)."""
    __slots__ = ("kind", "flags", "payload_byte_length", "payload_crc")


class Footer(_Plain):
    """SPEC §8.2."""
    __slots__ = ("index_offset", "record_count", "annotated_count", "generation", "footer_offset", "footer_flags")


class IndexEntry(_Plain):
    """What the index knows of a record without reading it (SPEC §8.1 record entry)."""
    __slots__ = ("frame_offset", "payload_byte_length", "payload_crc", "id", "label", "label2",
                 "width", "height", "field_count", "first_image_codec")


class Tensor(_Plain):
    """A decoded tensor field: dtype name, shape tuple and little-endian row-major data bytes."""
    __slots__ = ("dtype", "shape", "data")

    def values(self):
        """The elements as a flat array.array in native byte order (standard library only)."""
        _, code, _ = _DTYPE_BY_NAME[self.dtype]
        out = array.array(code)
        out.frombytes(self.data)
        if sys.byteorder == "big":
            out.byteswap()
        return out

    def numpy(self):
        """A numpy array of this shape and dtype (needs numpy; a read-only view of the bytes)."""
        import numpy  # optional dependency, imported only here
        return numpy.frombuffer(self.data, dtype=numpy.dtype(self.dtype).newbyteorder("<")).reshape(self.shape)


_DTYPE_BY_NAME = {name: (name, code, size) for name, code, size in TENSOR_DTYPES.values()}


class Field(_Plain):
    """One record field (SPEC §6): kind 1 image, 2 label image, 3 tensor, 4 bytes."""
    __slots__ = ("kind", "codec", "data", "width", "height")

    @property
    def kind_name(self):
        return FIELD_KINDS[self.kind]

    @property
    def type(self):
        """'image/jpeg', 'label/png', 'tensor/float32', 'bytes' (the type strings of `picpac dump`)."""
        if self.kind in (1, 2):
            return "%s/%s" % (self.kind_name, IMAGE_CODECS.get(self.codec, "unknown"))
        if self.kind == 3:
            return "tensor/%s" % TENSOR_DTYPES.get(self.codec, ("unknown",))[0]
        return "bytes"

    def tensor(self):
        """Decode a tensor field (kind 3) [REC-9]; raises FormatError on a bad layout."""
        if self.kind != 3:
            raise TypeError("field of type %s is not a tensor" % self.type)
        return _decode_tensor(self.data, self.codec, 0, None)

    def numpy(self):
        """Tensor fields as numpy arrays (needs numpy)."""
        return self.tensor().numpy()


class Record(_Plain):
    """A record (SPEC §6) with its live annotation text (§7), or None when it has none."""
    __slots__ = ("index", "id", "label", "label2", "fields", "annotation")

    def fields_of(self, kind_name):
        return [f for f in self.fields if f.kind_name == kind_name]

    @property
    def image(self):
        """Encoded bytes of the first image field (JPEG, PNG, ...), or None."""
        found = self.fields_of("image")
        return found[0].data if found else None

    @property
    def label_image(self):
        """Encoded bytes of the first label image field (mask), or None."""
        found = self.fields_of("label")
        return found[0].data if found else None

    def annotation_json(self):
        """The annotation parsed as JSON (a dict with "shapes"), or None. [SEC-4]: parsed as data."""
        return None if self.annotation is None else json.loads(self.annotation)


# --- Small helpers -------------------------------------------------------------------------------

def _align_up(value, alignment):
    return (value + alignment - 1) // alignment * alignment


def _u64(bytes_, at, what, section, byte_offset, record_index=None):
    """A u64 that must be at most 2^53-1 [CNV-2]."""
    value = struct.unpack_from("<Q", bytes_, at)[0]
    if value > MAX_SAFE_INTEGER:
        raise FormatError("%s larger than 2^53-1" % what, section, byte_offset + at, record_index,
                          "<= %d" % MAX_SAFE_INTEGER, value)
    return value


def _hex32(value):
    return "0x%08x" % value


# --- File header (SPEC §4) -----------------------------------------------------------------------

def decode_file_header(bytes_):
    """Decode and check the first 64 bytes of a file [HDR-1]..[HDR-7]. Returns FileHeader."""
    if len(bytes_) < HEADER_BYTES and SIGNATURE.startswith(bytes(bytes_[:8])):
        raise UnfinishedFileError("file shorter than its header", "header", len(bytes_), None,
                                  ">= %d bytes" % HEADER_BYTES, len(bytes_))
    for i, expected in enumerate(SIGNATURE):  # [HDR-1]: report the first differing byte
        if i >= len(bytes_) or bytes_[i] != expected:
            got = "end of file" if i >= len(bytes_) else "0x%02x" % bytes_[i]
            raise FormatError("bad signature (not a .picpac 2.0 file)", "header", i, None, "0x%02x" % expected, got)
    major = bytes_[8]
    if major != MAJOR_VERSION:  # [HDR-2] [VER-1]: checked before any other field
        raise UnsupportedVersionError("unsupported major version", "header", 8, None, MAJOR_VERSION, major)
    minor = bytes_[9]
    header_byte_length, alignment, feature_flags = struct.unpack_from("<HII", bytes_, 10)
    stored_crc = struct.unpack_from("<I", bytes_, 60)[0]
    actual_crc = crc32c(bytes_[:HEADER_CRC_COVERED])
    if stored_crc != actual_crc:  # [HDR-4]
        raise ChecksumError("header CRC mismatch", "header", 60, None, _hex32(stored_crc), _hex32(actual_crc))
    if header_byte_length < HEADER_BYTES:  # [HDR-3]
        raise FormatError("header length below 64", "header", 10, None, ">= 64", header_byte_length)
    if alignment < 1 or alignment > MAX_ALIGNMENT or alignment & (alignment - 1):  # [HDR-5]
        raise FormatError("invalid alignment", "header", 12, None, "1 or a power of two <= 1048576", alignment)
    if feature_flags & CRITICAL_FEATURE_BITS:  # [HDR-6]: ancillary bits 16-31 are ignored
        raise UnsupportedVersionError("unknown critical feature flag", "header", 16, None,
                                      "no critical bits", _hex32(feature_flags))
    return FileHeader(major, minor, header_byte_length, alignment, feature_flags)


# --- Frames (SPEC §5, §9, §11) ---------------------------------------------------------------------

def decode_frame_header(bytes_, byte_offset, max_payload_bytes=MAX_FRAME_PAYLOAD_BYTES, record_index=None):
    """Check magic and header CRC before trusting kind, flags or length [FRM-1] [FRM-3] [FRM-4]."""
    if len(bytes_) < FRAME_HEADER_BYTES:
        raise TruncatedError("truncated frame header", "frame", byte_offset, record_index,
                             "%d bytes" % FRAME_HEADER_BYTES, len(bytes_))
    magic, kind, flags, length, payload_crc, header_crc = struct.unpack_from("<HBBIII", bytes_, 0)
    if magic != FRAME_MAGIC:
        raise FormatError("bad frame magic", "frame", byte_offset, record_index, "0x%x" % FRAME_MAGIC, "0x%04x" % magic)
    actual = crc32c(bytes_[:12])
    if actual != header_crc:
        raise ChecksumError("frame header CRC mismatch", "frame", byte_offset + 12, record_index,
                            _hex32(header_crc), _hex32(actual))
    if kind == 0:  # [FRM-7]
        raise FormatError("frame kind 0 is invalid", "frame", byte_offset + 2, record_index, "1..255", 0)
    if length > MAX_FRAME_PAYLOAD_BYTES:
        raise FormatError("frame payload longer than the format allows", "frame", byte_offset + 4,
                          record_index, "<= %d" % MAX_FRAME_PAYLOAD_BYTES, length)
    if length > max_payload_bytes:
        raise LimitExceededError("frame payload exceeds the reader limit", "frame", byte_offset + 4,
                                 record_index, "<= %d" % max_payload_bytes, length)
    return FrameHeader(kind, flags, length, payload_crc)


def check_frame_payload(header, payload, frame_offset, record_index=None):
    """The payload is complete and matches its CRC [FRM-6]."""
    if len(payload) != header.payload_byte_length:
        raise TruncatedError("frame extends past the end of the file", "frame", frame_offset + FRAME_HEADER_BYTES,
                             record_index, "%d bytes" % header.payload_byte_length, len(payload))
    actual = crc32c(payload)
    if actual != header.payload_crc:
        raise ChecksumError("frame payload CRC mismatch", "frame", frame_offset + FRAME_HEADER_BYTES,
                            record_index, _hex32(header.payload_crc), _hex32(actual))


def is_critical_unknown_frame(header):
    """Kinds other than 1-4 are extensions; a critical one makes the reader refuse [EXT-1] [EXT-2]."""
    return not (KIND_RECORD <= header.kind <= KIND_FOOTER) and bool(header.flags & FLAG_CRITICAL)


def _critical_frame_error(header, frame_offset):
    return UnsupportedVersionError("unknown critical frame kind", "frame", frame_offset + 2, None,
                                   "a known kind or an ancillary extension", header.kind)


def frame_placement_problem(kind, frame_offset, after_padding, alignment):
    """[ALN-1] [ALN-4]: a record frame must be aligned; padding precedes only a record frame.
    The problem as the reference reader words it, or None."""
    if kind == KIND_RECORD and frame_offset % alignment:
        return str(FormatError("record frame not at a multiple of the alignment", "frame", frame_offset, None,
                               "a multiple of %d" % alignment, frame_offset))
    if after_padding and kind != KIND_RECORD:
        return str(FormatError("padding before a frame that is not a record frame", "frame", frame_offset, None,
                               "kind %d" % KIND_RECORD, kind))
    return None


# --- Record, tensor, annotation, index and footer payloads (SPEC §6-§8) -------------------------------

def decode_record_payload(payload, payload_offset, record_index):
    """Returns (id, label, label2, [Field]) [REC-1]..[REC-9]; payload_offset is absolute, for messages."""
    if len(payload) < RECORD_HEAD_BYTES:
        raise FormatError("record payload shorter than its head", "record", payload_offset, record_index,
                          ">= 32 bytes", len(payload))
    record_id = _u64(payload, 0, "record id", "record", payload_offset, record_index)
    label, label2, field_count = struct.unpack_from("<ddH", payload, 8)
    if field_count > MAX_FIELDS:  # [REC-3]
        raise FormatError("too many fields", "record", payload_offset + 24, record_index, "<= 255", field_count)
    data_start = RECORD_HEAD_BYTES + FIELD_DESCRIPTOR_BYTES * field_count
    if data_start > len(payload):
        raise FormatError("field descriptors do not fit the payload", "record", payload_offset + 24, record_index,
                          "<= %d bytes" % len(payload), data_start)
    descriptors = [struct.unpack_from("<BBHIII", payload, RECORD_HEAD_BYTES + FIELD_DESCRIPTOR_BYTES * i)
                   for i in range(field_count)]
    total = sum(d[3] for d in descriptors)
    if total != len(payload) - data_start:  # [REC-6]: before any field is returned
        raise FormatError("field lengths do not add up to the payload", "record", payload_offset + RECORD_HEAD_BYTES,
                          record_index, len(payload) - data_start, total)
    fields = []
    at = data_start
    for i, (kind, codec, _flags, length, width, height) in enumerate(descriptors):
        where = payload_offset + RECORD_HEAD_BYTES + FIELD_DESCRIPTOR_BYTES * i
        if kind not in FIELD_KINDS:  # [REC-4]
            raise FormatError("unknown field kind", "record", where, record_index, "1..4", kind)
        if kind == 3:  # [REC-8] [REC-9]: checked now, so a returned record is fully valid
            _decode_tensor(payload[at:at + length], codec, payload_offset + at, record_index)
        elif kind == 4 and codec != 0:
            raise FormatError("bytes field with a codec", "record", where + 1, record_index, 0, codec)
        fields.append(Field(kind, codec, bytes(payload[at:at + length]), width, height))
        at += length
    return record_id, label, label2, fields


def _decode_tensor(data, codec, byte_offset, record_index):
    """Tensor field bytes: u8 rank, 3 reserved, u32 dims[rank], elements [REC-9]."""
    if codec not in TENSOR_DTYPES:
        raise FormatError("unknown tensor dtype", "record", byte_offset, record_index, "1..8", codec)
    name, _, element_bytes = TENSOR_DTYPES[codec]
    if len(data) < 4 or not 1 <= data[0] <= 8:
        raise FormatError("tensor rank out of range", "record", byte_offset, record_index, "1..8",
                          data[0] if len(data) else "no bytes")
    rank = data[0]
    if len(data) < 4 + 4 * rank:
        raise FormatError("tensor dims do not fit the field", "record", byte_offset, record_index,
                          ">= %d bytes" % (4 + 4 * rank), len(data))
    shape = struct.unpack_from("<%dI" % rank, data, 4)
    count = 1
    for d in shape:
        count *= d
    data_bytes = len(data) - 4 - 4 * rank
    if count * element_bytes != data_bytes:
        raise FormatError("tensor data length does not match its shape", "record", byte_offset + 4 + 4 * rank,
                          record_index, count * element_bytes, data_bytes)
    return Tensor(name, tuple(shape), bytes(data[4 + 4 * rank:]))


def decode_annotation_payload(payload, payload_offset):
    """Returns (record_index, annotation_format, text_bytes) [ANN-1] [ANN-2]."""
    if len(payload) < ANNOTATION_HEAD_BYTES:
        raise FormatError("annotation payload shorter than its head", "annotation", payload_offset, None,
                          ">= 16 bytes", len(payload))
    record_index = _u64(payload, 0, "annotation record index", "annotation", payload_offset)
    annotation_format = struct.unpack_from("<I", payload, 8)[0]
    if annotation_format == 0:
        raise FormatError("annotation format 0 is invalid", "annotation", payload_offset + 8, record_index, ">= 1", 0)
    return record_index, annotation_format, bytes(payload[ANNOTATION_HEAD_BYTES:])


def _annotation_text(text_bytes, text_offset=0, record_index=None):
    """[ANN-8]: the text must be valid UTF-8 (no overlong forms, surrogates, > U+10FFFF; a BOM is
    kept); anything else is a format error naming the text's offset, never replaced."""
    try:
        return text_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("annotation text is not valid UTF-8", "annotation", text_offset, record_index) from None


def decode_footer_payload(payload, payload_offset):
    """[FTR-1]: indexOffset, recordCount, annotatedCount, generation, footerOffset."""
    index_offset = _u64(payload, 0, "indexOffset", "footer", payload_offset)
    record_count = _u64(payload, 8, "recordCount", "footer", payload_offset)
    annotated_count = _u64(payload, 16, "annotatedCount", "footer", payload_offset)
    generation = struct.unpack_from("<I", payload, 24)[0]
    footer_offset = _u64(payload, 32, "footerOffset", "footer", payload_offset)
    footer_flags = struct.unpack_from("<I", payload, 28)[0]  # [FTR-8] (2.1; zero in 2.0)
    return Footer(index_offset, record_count, annotated_count, generation, footer_offset, footer_flags)


# frameOffset, payloadByteLength, payloadCrc, id, label, label2, width, height, fieldCount,
# firstImageCodec, entryFlags + 12 reserved bytes (SPEC §8.1 record entry)
_RECORD_ENTRY = struct.Struct("<QIIQddIIHBx12x")
# recordIndex, frameOffset, payloadByteLength, payloadCrc (SPEC §8.1 annotation entry)
_ANNOTATION_ENTRY = struct.Struct("<QQII")


class _IndexBlock(_Plain):
    __slots__ = ("frame_offset", "payload_byte_length", "first_record_index", "previous_index_offset",
                 "records", "annotations", "metadata_offset")


def decode_index_payload(payload, frame_offset):
    """SPEC §8.1 [IDX-1]..[IDX-3]. records: one tuple per IndexEntry field (columns); annotations:
    (recordIndex, frameOffset, length, crc, entry byte offset)."""
    at0 = frame_offset + FRAME_HEADER_BYTES
    if len(payload) < INDEX_HEAD_BYTES:
        raise FormatError("index block shorter than its head", "index", at0, None, ">= 48 bytes", len(payload))
    first = _u64(payload, 0, "firstRecordIndex", "index", at0)
    record_count = _u64(payload, 8, "recordCount", "index", at0)
    annotation_count = _u64(payload, 16, "annotationEntryCount", "index", at0)
    previous = _u64(payload, 24, "previousIndexOffset", "index", at0)
    record_entry_bytes, annotation_entry_bytes = struct.unpack_from("<II", payload, 32)
    metadata_offset = _u64(payload, 40, "metadataOffset", "index", at0)  # [EXT-8] (2.1; reserved in 2.0)
    if metadata_offset and metadata_offset >= frame_offset:
        raise FormatError("metadata offset does not point backwards", "index", at0 + 40, None, "< %d" % frame_offset,
                          metadata_offset)
    if record_entry_bytes < RECORD_ENTRY_BYTES or annotation_entry_bytes < ANNOTATION_ENTRY_BYTES:  # [IDX-2]
        raise FormatError("index entry size below the minimum", "index", at0 + 32, None,
                          ">= 64 and >= 24", "%d and %d" % (record_entry_bytes, annotation_entry_bytes))
    expected = INDEX_HEAD_BYTES + record_count * record_entry_bytes + annotation_count * annotation_entry_bytes
    if expected != len(payload):  # [IDX-3]: before any entry is read
        raise FormatError("index block length does not match its counts", "index", at0, None, expected, len(payload))
    # Record entries as tuples in IndexEntry field order; larger (newer) entries are cut to 64 bytes.
    entries = payload[INDEX_HEAD_BYTES:INDEX_HEAD_BYTES + record_count * record_entry_bytes]
    if record_entry_bytes == RECORD_ENTRY_BYTES:
        rows = _RECORD_ENTRY.iter_unpack(entries)
    else:
        rows = (_RECORD_ENTRY.unpack_from(entries, i * record_entry_bytes) for i in range(record_count))
    records = list(zip(*rows)) or [()] * len(IndexEntry.__slots__)  # columns, in IndexEntry order
    for column in (records[0], records[3]):  # frameOffset, id [CNV-2]
        if column and max(column) > MAX_SAFE_INTEGER:
            i = next(k for k, v in enumerate(column) if v > MAX_SAFE_INTEGER)
            raise FormatError("index entry value larger than 2^53-1", "index", at0 + INDEX_HEAD_BYTES + i * record_entry_bytes,
                              first + i, "<= %d" % MAX_SAFE_INTEGER, column[i])
    base = INDEX_HEAD_BYTES + record_count * record_entry_bytes
    annotations = [_ANNOTATION_ENTRY.unpack_from(payload, base + i * annotation_entry_bytes) + (at0 + base + i * annotation_entry_bytes,)
                   for i in range(annotation_count)]
    for record_index, offset, _, _, where in annotations:
        if record_index > MAX_SAFE_INTEGER or offset > MAX_SAFE_INTEGER:  # [CNV-2]
            raise FormatError("annotation entry value larger than 2^53-1", "index", where, None,
                              "<= %d" % MAX_SAFE_INTEGER, max(record_index, offset))
    return _IndexBlock(frame_offset, len(payload), first, previous, records, annotations, metadata_offset)


# --- Byte source -----------------------------------------------------------------------------------

class _FileSource:
    """Positional reads (os.pread) of a file whose length is fixed at open: a reader sees a
    consistent prefix while a writer appends [CON-2]. Safe after fork (no shared file position);
    pickles as its path, so DataLoader workers reopen the file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._fd = None
        self._pid = None
        self.byte_length = os.fstat(self._handle()).st_size

    def _handle(self):
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            self._pid = os.getpid()
        return self._fd

    def read(self, byte_offset, byte_length):
        """Up to byte_length bytes at byte_offset (fewer only at the end of the file)."""
        byte_length = max(0, min(byte_length, self.byte_length - byte_offset))
        if byte_length == 0:
            return b""
        fd = self._handle()
        if hasattr(os, "pread"):
            parts = []
            while byte_length > 0:
                chunk = os.pread(fd, byte_length, byte_offset)
                if not chunk:
                    break
                parts.append(chunk)
                byte_offset += len(chunk)
                byte_length -= len(chunk)
            return parts[0] if len(parts) == 1 else b"".join(parts)
        os.lseek(fd, byte_offset, os.SEEK_SET)
        return os.read(fd, byte_length)

    def close(self):
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None

    def __getstate__(self):
        return {"path": self.path, "byte_length": self.byte_length}

    def __setstate__(self, state):
        self.path = state["path"]
        self.byte_length = state["byte_length"]
        self._fd = None
        self._pid = None


class _BufferedSource:
    """Reads of a source through one large buffer: sequential record reads (and the annotation
    frames that follow their records) cost one read per 4 MiB."""

    def __init__(self, source, chunk_bytes=_SCAN_CHUNK_BYTES):
        self.source = source
        self.byte_length = source.byte_length
        self.chunk_bytes = chunk_bytes
        self.buffer = b""
        self.buffer_start = 0

    def holds(self, byte_offset, byte_length):
        at = byte_offset - self.buffer_start
        return 0 <= at and at + byte_length <= len(self.buffer)

    def read(self, byte_offset, byte_length):
        at = byte_offset - self.buffer_start
        if at < 0 or at + byte_length > len(self.buffer):
            if byte_length > self.chunk_bytes:
                return self.source.read(byte_offset, byte_length)
            self.buffer = self.source.read(byte_offset, self.chunk_bytes)
            self.buffer_start, at = byte_offset, 0
        return self.buffer[at:at + byte_length]


class _ChunkReader:
    """Sequential reads in large chunks for the frame scan."""

    def __init__(self, source, end_offset, chunk_bytes=_SCAN_CHUNK_BYTES):
        self.source = source
        self.end_offset = end_offset
        self.chunk_bytes = chunk_bytes
        self.chunk = b""
        self.chunk_start = 0

    def view(self, byte_offset, byte_length):
        want = max(0, min(byte_length, self.end_offset - byte_offset))
        if byte_offset < self.chunk_start or byte_offset + want > self.chunk_start + len(self.chunk):
            self.chunk = self.source.read(byte_offset, min(max(self.chunk_bytes, want), self.end_offset - byte_offset))
            self.chunk_start = byte_offset
        at = byte_offset - self.chunk_start
        return memoryview(self.chunk)[at:at + want]


# --- Recovery scan (SPEC §13 [RCV-1], scan rule [ALN-4], resync [RCV-7], units [RCV-8]) -----------

class ScanResult(_Plain):
    """Where a frame scan ended: end_offset = end of the last valid frame; torn_offset = the first
    bad byte (None when the scan reached the end of the file cleanly); torn_reason = why;
    skipped = the SkippedRange list of a resynchronising scan."""
    __slots__ = ("end_offset", "torn_offset", "torn_reason", "skipped")

    def __init__(self, end_offset=0, torn_offset=None, torn_reason=None, skipped=None):
        _Plain.__init__(self, end_offset, torn_offset, torn_reason, [] if skipped is None else skipped)


class SkippedRange(_Plain):
    """Bytes a resynchronising scan skipped [RCV-7]: from the rejected frame (or bad padding byte)
    to the next valid frame. frame_kind/frame_end: the rejected frame's kind and end when its
    16-byte header still checks (then exactly that frame was lost), else None."""
    __slots__ = ("byte_offset", "byte_length", "reason", "after_offset", "frame_kind", "frame_end")


class DroppedItem(_Plain):
    """Something recovery did not keep (printed by `dump --recover` as a `dropped:` line)."""
    __slots__ = ("byte_offset", "byte_length", "record_index", "what")

    def __str__(self):
        record = "record %d, " % self.record_index if self.record_index is not None else ""
        return "%sbytes %d..%d: %s" % (record, self.byte_offset, self.byte_offset + self.byte_length, self.what)


class ScannedFrame(_Plain):
    __slots__ = ("frame_offset", "header", "payload")

    @property
    def kind(self):
        return self.header.kind

    @property
    def end_offset(self):
        return self.frame_offset + FRAME_HEADER_BYTES + self.header.payload_byte_length


def _locate_next_frame(reader, end, file_end, alignment):
    """[ALN-4] from `end` (end of the previous frame): returns (frame_offset, after_padding) or
    (None, (bad_offset, reason)) for non-zero padding or padding cut short by the end of the file."""
    if end % alignment == 0:
        return end, False
    if bytes(reader.view(end, 1)) != b"\x00":
        return end, False
    pad_end = _align_up(end, alignment)
    padding = bytes(reader.view(end, min(pad_end, file_end) - end))
    stripped = padding.lstrip(b"\x00")
    if stripped:
        bad = end + len(padding) - len(stripped)
        err = FormatError("non-zero padding byte", "frame", bad, None, 0, stripped[0])
        return None, (bad, "%s at byte %d" % (err, bad))
    if pad_end >= file_end:
        return None, (end, "file ends inside the padding before a record frame")
    return pad_end, True


def _check_frame_at(reader, at, file_end, verify_checksums, max_payload_bytes):
    """Is there a complete, valid frame at `at`? Returns (FrameHeader, payload) or (None, reason).
    A frame over the reader's limit raises LimitExceededError: that is not damage."""
    if file_end - at < FRAME_HEADER_BYTES:
        return None, "incomplete frame header"
    try:
        header = decode_frame_header(reader.view(at, FRAME_HEADER_BYTES), at)
    except FormatError as err:
        return None, str(err)
    if at + FRAME_HEADER_BYTES + header.payload_byte_length > file_end:
        return None, "frame extends past the end of the file"
    if header.payload_byte_length > max_payload_bytes:
        raise LimitExceededError("frame payload exceeds the reader limit", "frame", at + 4, None,
                                 "<= %d" % max_payload_bytes, header.payload_byte_length)
    payload = reader.view(at + FRAME_HEADER_BYTES, header.payload_byte_length)
    if verify_checksums:
        try:
            check_frame_payload(header, payload, at)
        except FormatError as err:
            return None, str(err)
    return header, payload


def _bad_frame_extent(reader, at, file_end):
    """Kind and end of a rejected frame whose header still checks (its payload is what is bad)."""
    if file_end - at < FRAME_HEADER_BYTES:
        return None, None
    try:
        header = decode_frame_header(bytes(reader.view(at, FRAME_HEADER_BYTES)), at)
    except FormatError:
        return None, None
    return header.kind, at + FRAME_HEADER_BYTES + header.payload_byte_length


def _find_next_frame(source, bad_offset, file_end, alignment, verify_checksums, max_payload_bytes):
    """The first offset after `bad_offset` holding a fully valid frame that may sit there (a
    record frame only at a multiple of the alignment) [RCV-7], or None."""
    probe = _ChunkReader(source, file_end)
    start = bad_offset + 1
    while start + FRAME_HEADER_BYTES <= file_end:
        window = source.read(start, min(1 << 20, file_end - start))
        if not window:
            break
        i = window.find(b"\xf7")
        while i >= 0 and start + i + FRAME_HEADER_BYTES <= file_end:
            if i + 1 >= len(window) or window[i + 1] == 0x50:
                at = start + i
                try:
                    header, _ = _check_frame_at(probe, at, file_end, verify_checksums, max_payload_bytes)
                    if header is not None and (header.kind != KIND_RECORD or at % alignment == 0):
                        return at
                except LimitExceededError:
                    pass
            i = window.find(b"\xf7", i + 1)
        start += len(window)
    return None


def scan_frames(source, header, start_offset=None, end_offset=None, verify_checksums=True,
                max_payload_bytes=MAX_FRAME_PAYLOAD_BYTES, result=None, resync=False):
    """Yield every valid frame (ScannedFrame) in file order from the first frame, by the scan rule
    [ALN-4]; stop at the first invalid or misplaced frame, non-zero padding or padding cut short
    by the end of the file [RCV-1], or with `resync` skip to the next valid frame [RCV-7].
    `result` (a ScanResult) receives where the scan ended. Unknown critical extension frames
    raise UnsupportedVersionError [EXT-2]; ancillary ones are yielded.
    Payloads are memoryviews into a chunk: copy what you keep."""
    if isinstance(source, (str, bytes, os.PathLike)):
        source = _FileSource(source)
    result = result if result is not None else ScanResult()
    file_end = source.byte_length if end_offset is None else end_offset
    alignment = header.alignment
    reader = _ChunkReader(source, file_end)
    end = header.first_frame_offset if start_offset is None else start_offset
    result.torn_offset = result.torn_reason = None
    del result.skipped[:]
    while end < file_end:
        at, after_padding = _locate_next_frame(reader, end, file_end, alignment)
        if at is None:
            at, reason = after_padding
            frame_header = None
        else:
            frame_header, payload = _check_frame_at(reader, at, file_end, verify_checksums, max_payload_bytes)
            reason = payload if frame_header is None else frame_placement_problem(frame_header.kind, at, after_padding, alignment)
        if reason is not None:
            following = _find_next_frame(source, at, file_end, alignment, verify_checksums, max_payload_bytes) if resync else None
            if following is None:
                result.torn_offset, result.torn_reason = at, reason
                break
            kind, frame_end = _bad_frame_extent(reader, at, file_end)
            result.skipped.append(SkippedRange(at, following - at, reason, end, kind, frame_end))
            at = following
            frame_header, payload = _check_frame_at(reader, at, file_end, verify_checksums, max_payload_bytes)
        if is_critical_unknown_frame(frame_header):
            raise _critical_frame_error(frame_header, at)
        yield ScannedFrame(at, frame_header, payload)
        end = at + FRAME_HEADER_BYTES + frame_header.payload_byte_length
    result.end_offset = end
    return result


# --- The in-memory index -------------------------------------------------------------------------------

class _Index:
    """Columns of the record index (compact arrays, picklable) and the live annotations."""

    # One array per IndexEntry field, in IndexEntry order: 48 bytes per record.
    _COLUMNS = (("frame_offset", "q"), ("payload_byte_length", "I"), ("payload_crc", "I"), ("ids", "q"),
                ("label", "d"), ("label2", "d"), ("width", "I"), ("height", "I"), ("field_count", "H"),
                ("first_image_codec", "B"))

    def __init__(self):
        for name, code in self._COLUMNS:
            setattr(self, name, array.array(code))
        # record index -> (frame offset, payload length, payload crc) of its live annotation frame
        self.annotations = {}
        self.original_index = {}  # record index -> index in the file, where recovery renumbered [RCV-7]
        self.metadata_offset = 0  # frame offset of the file's metadata frame [EXT-8] [EXT-9]; 0 = none

    def __len__(self):
        return len(self.frame_offset)

    def extend(self, columns):
        """Append entries given as columns (one sequence per IndexEntry field, in order)."""
        for (name, _), values in zip(self._COLUMNS, columns):
            getattr(self, name).extend(values)

    def entry(self, i):
        return IndexEntry(*(getattr(self, name)[i] for name, _ in self._COLUMNS))


def _entry_from_record(frame_offset, header, record_id, label, label2, fields):
    """The index entry a writer would store for this record [IDX-5]."""
    image = next((f for f in fields if f.kind == 1), None)
    return (frame_offset, header.payload_byte_length, header.payload_crc, record_id, label, label2,
            image.width if image else 0, image.height if image else 0, len(fields), image.codec if image else 0)


class RebuiltIndex(_Plain):
    """What a recovery scan found: the index, where the valid frames end, what it dropped."""
    __slots__ = ("index", "end_offset", "torn_offset", "torn_reason", "skipped", "dropped", "footers")


_KIND_NAMES = {KIND_RECORD: "record frame", KIND_ANNOTATION: "annotation frame", KIND_INDEX: "index block",
               KIND_FOOTER: "footer frame"}


def _kind_name(kind):
    if kind is None:
        return "frame whose header does not check"
    return _KIND_NAMES.get(kind, "extension frame (kind %d)" % kind)


def _records_lost_in(skip, alignment):
    """Records known lost in a skipped range: 0 or 1 when only one frame (or padding) was hit, else None."""
    end = skip.byte_offset + skip.byte_length
    if skip.frame_kind is not None and skip.frame_end is not None and end in (skip.frame_end, _align_up(skip.frame_end, alignment)):
        return 1 if skip.frame_kind == KIND_RECORD else 0
    if skip.byte_offset >= skip.after_offset and end == _align_up(skip.after_offset, alignment) and end - skip.after_offset < alignment:
        return 0  # only the zero padding before an aligned record frame was damaged
    return None


def _resolve_units(events, index_ordinals, alignment):
    """Which scanned records and annotations recovery returns [RCV-7] [RCV-8]. events: ("skip",
    SkippedRange) | ("record", dict) | ("annotation", dict) in file order. Returns (kept records as
    (event, original index), annotation placements, dropped, held-back record or None)."""
    dropped = []
    ordinals, own = {}, {}  # id(record event) -> original index / its own annotation event
    previous, lost_since, last_record = -1, 0, None
    for kind, e in events:
        if kind == "skip":
            lost = _records_lost_in(e, alignment)
            end = e.byte_offset + e.byte_length
            listed = [o for off, o in index_ordinals.items() if e.byte_offset <= off < end]
            what = "damaged %s (%s)" % (_kind_name(e.frame_kind), e.reason)
            record_index = None
            if lost == 1 and previous is not None and lost_since is not None:
                record_index = previous + lost_since + 1
            if len(listed) == 1:
                record_index = listed[0]
            if len(listed) > 1:
                what += "; it held records %d..%d" % (listed[0], listed[-1])
            elif lost is None and not listed:
                what += "; the records it held, if any, are unknown"
            dropped.append(DroppedItem(e.byte_offset, e.byte_length, record_index, what))
            lost_since = None if lost is None or lost_since is None else lost_since + lost
            last_record = None
        elif kind == "annotation":
            if e["adjacent"] and last_record is not None and id(last_record) not in own:
                ordinal = ordinals.get(id(last_record))
                if ordinal == e["record_index"] or (ordinal is None and last_record["follows"]):
                    own[id(last_record)] = e
                    if ordinal is None:  # the annotation written with a record names it [REC-11]
                        ordinals[id(last_record)] = e["record_index"]
                        previous, lost_since = e["record_index"], 0
            last_record = None
        else:
            ordinal = index_ordinals.get(e["frame_offset"])
            if ordinal is None and previous is not None and lost_since is not None:
                ordinal = previous + lost_since + 1
            ordinals[id(e)] = ordinal
            previous, lost_since, last_record = ordinal, 0, e
    kept, kept_index, by_original, held_back = [], {}, {}, None
    last_event = events[-1][1] if events else None
    for kind, e in events:
        if kind != "record":
            continue
        original = ordinals.get(id(e))
        annotation = own.get(id(e))
        if e["follows"] and (annotation is None or not annotation["live"]):
            if e is last_event:
                held_back = e  # its annotation frame is still being written, or was cut off
                continue
            dropped.append(DroppedItem(e["frame_offset"], e["entry"][1] + FRAME_HEADER_BYTES, original,
                                       "record frame (id %d) whose annotation frame is missing or damaged: dropped with "
                                       "it, so it does not become an unannotated sample" % e["entry"][3]))
            continue
        kept_index[id(e)] = len(kept)
        if original is not None:
            by_original[original] = (len(kept), e["frame_offset"])
        kept.append((e, original))
    owner_of = {id(a): r for r, a in own.items()}
    placements = []
    for kind, e in events:
        if kind != "annotation":
            continue
        owner = owner_of.get(id(e))
        record_index = None
        if owner is not None:
            record_index = kept_index.get(owner)
            if record_index is None:
                continue  # dropped with its record (reported there)
        else:
            target = by_original.get(e["record_index"])
            if target is not None and target[1] < e["frame_offset"]:  # [ANN-5]
                record_index = target[0]
        if record_index is None:
            dropped.append(DroppedItem(e["frame_offset"], e["payload_byte_length"] + FRAME_HEADER_BYTES, e["record_index"],
                                       "annotation change for record %d, whose record frame was not recovered" % e["record_index"]))
            continue
        placements.append((record_index, e))
    return kept, placements, dropped, held_back


def rebuild_index(source, header, verify_checksums=True, max_payload_bytes=MAX_FRAME_PAYLOAD_BYTES, resync=True):
    """Recovery [RCV-4]: records numbered in file order, newest annotation frame wins [ANN-3],
    annotations of records not recovered ignored [ANN-5], unknown annotation formats ignored
    [ANN-2], a record flagged "annotation follows" kept only with that annotation [RCV-8], damaged
    ranges skipped with `resync` [RCV-7], the last metadata frame is the file's [EXT-9]. Returns a
    RebuiltIndex."""
    index = _Index()
    result = ScanResult()
    footers, events, index_ordinals = [], [], {}
    skips_seen = 0
    previous_end = header.first_frame_offset
    last_record_end = -1
    record_frames = 0
    for frame in scan_frames(source, header, verify_checksums=verify_checksums, max_payload_bytes=max_payload_bytes,
                             result=result, resync=resync):
        while skips_seen < len(result.skipped):
            events.append(("skip", result.skipped[skips_seen]))
            skips_seen += 1
            last_record_end = -1
        payload_offset = frame.frame_offset + FRAME_HEADER_BYTES
        end = frame.end_offset
        if frame.kind == KIND_RECORD:
            try:
                record = decode_record_payload(frame.payload, payload_offset, record_frames)
            except FormatError as err:
                if not resync or isinstance(err, (UnsupportedVersionError, LimitExceededError)):
                    raise
                events.append(("skip", SkippedRange(frame.frame_offset, end - frame.frame_offset, str(err), previous_end,
                                                    KIND_RECORD, end)))
                previous_end, last_record_end = end, -1
                continue
            record_frames += 1
            flags = struct.unpack_from("<H", frame.payload, 26)[0]
            events.append(("record", {"frame_offset": frame.frame_offset, "previous_end": previous_end,
                                      "entry": _entry_from_record(frame.frame_offset, frame.header, *record),
                                      "follows": bool(flags & RECORD_FLAG_ANNOTATION_FOLLOWS)}))
            last_record_end = end
        elif frame.kind == KIND_ANNOTATION:
            record_index, annotation_format, text = decode_annotation_payload(frame.payload, payload_offset)
            events.append(("annotation", {"frame_offset": frame.frame_offset, "payload_byte_length": frame.header.payload_byte_length,
                                          "payload_crc": frame.header.payload_crc, "record_index": record_index,
                                          "live": bool(text), "format": annotation_format,
                                          "adjacent": frame.frame_offset == last_record_end}))
            last_record_end = -1
        else:
            if frame.kind == KIND_FOOTER and frame.header.payload_byte_length == FOOTER_PAYLOAD_BYTES:
                footers.append((frame.frame_offset, decode_footer_payload(frame.payload, payload_offset)))
            elif frame.kind == KIND_METADATA:
                index.metadata_offset = frame.frame_offset  # the newest in file order wins [EXT-9]
            elif frame.kind == KIND_INDEX and resync:
                try:  # an intact index block names the original index of its records
                    block = decode_index_payload(bytes(frame.payload), frame.frame_offset)
                    for k, offset in enumerate(block.records[0]):
                        index_ordinals[offset] = block.first_record_index + k
                except FormatError:
                    pass
            last_record_end = -1
        previous_end = end
    while skips_seen < len(result.skipped):
        events.append(("skip", result.skipped[skips_seen]))
        skips_seen += 1
    kept, placements, dropped, held_back = _resolve_units(events, index_ordinals, header.alignment)
    for event, original in kept:
        if original is not None and original != len(index):
            index.original_index[len(index)] = original
        index.extend([(v,) for v in event["entry"]])
    for record_index, e in placements:
        if e["format"] != ANNOTATION_FORMAT_JSON:
            continue  # [ANN-2]: a format this reader does not know is ignored
        if e["live"]:
            index.annotations[record_index] = (e["frame_offset"], e["payload_byte_length"], e["payload_crc"])
        else:
            index.annotations.pop(record_index, None)  # empty text removes it [ANN-4]
    end_offset, torn_offset, torn_reason = result.end_offset, result.torn_offset, result.torn_reason
    if held_back is not None:  # [RCV-8]: the torn tail starts at the record whose annotation is incomplete
        end_offset, torn_offset = held_back["previous_end"], held_back["frame_offset"]
        if result.torn_offset is not None:
            torn_reason = "record frame whose annotation frame is incomplete (%s)" % result.torn_reason
        elif torn_reason is None:
            torn_reason = "record frame whose annotation frame (written with it) is not complete yet"
    return RebuiltIndex(index, end_offset, torn_offset, torn_reason, result.skipped, dropped, footers)


# --- Strict open: footer, index chain, gaps (SPEC §8, [RCV-1], [IDX-7], [ALN-5], [EXT-2]) ---------------

def _read_footer(source, header):
    """The last 64 bytes must be a valid footer naming itself [FTR-1]..[FTR-4]; else the file is
    unfinished [FTR-3] (UnfinishedFileError, worded as the reference reader words it)."""
    file_length = source.byte_length
    first = header.first_frame_offset
    at = file_length - FOOTER_FRAME_BYTES
    if at < first:
        raise UnfinishedFileError("no footer: file ends before its first frame could hold one", "footer", file_length,
                                  None, ">= %d bytes" % (first + FOOTER_FRAME_BYTES), file_length)
    return decode_footer_frame(source.read(at, FOOTER_FRAME_BYTES), at)


def decode_footer_frame(frame, at):
    """A 64-byte footer frame at offset `at` [FTR-1]..[FTR-4] [FTR-6] [FTR-8]: any failure is
    UnfinishedFileError; a critical footer flag is UnsupportedVersionError."""
    def fail(problem, delta=0, expected=None, actual=None):
        raise UnfinishedFileError("no valid footer: %s" % problem, "footer", at + delta, None, expected, actual)
    magic, kind, _flags, length, payload_crc, header_crc = struct.unpack_from("<HBBIII", frame, 0)
    if magic != FRAME_MAGIC:
        fail("bad frame magic", 0, FRAME_MAGIC, magic)
    if crc32c(frame[:12]) != header_crc:
        fail("frame header CRC mismatch", 12)
    if kind != KIND_FOOTER:
        fail("last frame is not a footer", 2, KIND_FOOTER, kind)
    if length != FOOTER_PAYLOAD_BYTES:
        fail("wrong footer payload length", 4, FOOTER_PAYLOAD_BYTES, length)
    payload = frame[FRAME_HEADER_BYTES:]
    if crc32c(payload) != payload_crc:
        fail("footer payload CRC mismatch", FRAME_HEADER_BYTES)
    try:
        footer = decode_footer_payload(payload, at + FRAME_HEADER_BYTES)
    except FormatError as err:
        fail(str(err), err.byte_offset - at, err.expected, err.actual)
    if footer.footer_offset != at:  # [FTR-4]
        fail("footer offset does not match its position", 16 + 32, at, footer.footer_offset)
    if footer.generation < 1:
        fail("generation 0", 16 + 24, ">= 1", 0)
    if footer.index_offset >= at:
        fail("index offset not before the footer", 16, "< %d" % at, footer.index_offset)
    if footer.annotated_count > footer.record_count:
        fail("more annotated records than records", 32, "<= %d" % footer.record_count, footer.annotated_count)
    critical = footer.footer_flags & CRITICAL_FOOTER_FLAGS  # [FTR-8]: this reader implements none
    if critical:
        what = ("the file holds critical extension frames (footer flag bit 0)" if critical & FOOTER_FLAG_CRITICAL_FRAMES
                else "unknown critical footer flag")
        raise UnsupportedVersionError(what, "footer", at + 16 + 28, None, "0x0000 in bits 0-15", "0x%04x" % critical)
    return footer


def _read_frame(source, frame_offset, expected_kind, section, limit, record_index=None, end_limit=None):
    """Read and verify one whole frame named by the footer or an index (header, kind, length, CRC)."""
    end_limit = source.byte_length if end_limit is None else end_limit
    head = source.read(frame_offset, FRAME_HEADER_BYTES)
    fh = decode_frame_header(head, frame_offset, limit, record_index)
    if fh.kind != expected_kind:
        raise FormatError("frame of the wrong kind", section, frame_offset + 2, record_index, expected_kind, fh.kind)
    end = frame_offset + FRAME_HEADER_BYTES + fh.payload_byte_length
    if end > end_limit:
        cls = TruncatedError if end > source.byte_length else FormatError
        raise cls("%s frame extends past %s" % (section, "the end of the file" if end > source.byte_length else "the footer"),
                  section, frame_offset, record_index, "<= %d" % end_limit, end)
    payload = source.read(frame_offset + FRAME_HEADER_BYTES, fh.payload_byte_length)
    check_frame_payload(fh, payload, frame_offset, record_index)
    return fh, payload


def _load_index_chain(source, header, footer, max_index_bytes):
    """Walk previousIndexOffset from the newest block to the oldest [IDX-4] [IDX-8]; returns blocks oldest first."""
    blocks = []
    offset = footer.index_offset
    while True:
        if offset < header.first_frame_offset:
            raise FormatError("index block offset before the first frame", "index", offset, None,
                              ">= %d" % header.first_frame_offset, offset)
        _, payload = _read_frame(source, offset, KIND_INDEX, "index", max_index_bytes,
                                 end_limit=footer.footer_offset)
        block = decode_index_payload(payload, offset)
        blocks.append(block)
        if block.previous_index_offset == 0:
            break
        if block.previous_index_offset >= offset:  # [IDX-8]: rules out cycles
            raise FormatError("previousIndexOffset not before its block", "index", offset + FRAME_HEADER_BYTES + 24,
                              None, "< %d" % offset, block.previous_index_offset)
        offset = block.previous_index_offset
    blocks.reverse()
    return blocks


def _index_from_blocks(blocks, footer, header):
    """Apply the blocks oldest to newest [IDX-4] [IDX-6] and check them against the footer [FTR-5] [FTR-6]."""
    index = _Index()
    alignment = header.alignment
    previous_end = header.first_frame_offset
    for block in blocks:
        if block.first_record_index != len(index):
            raise FormatError("firstRecordIndex does not continue the previous block", "index",
                              block.frame_offset + FRAME_HEADER_BYTES, None, len(index), block.first_record_index)
        for k, (frame_offset, payload_byte_length) in enumerate(zip(block.records[0], block.records[1])):
            if frame_offset < previous_end or frame_offset % alignment:  # [REC-10] [ALN-1]
                raise FormatError("record entry out of file order or unaligned", "index", block.frame_offset,
                                  len(index) + k, ">= %d and a multiple of %d" % (previous_end, alignment), frame_offset)
            previous_end = frame_offset + FRAME_HEADER_BYTES + payload_byte_length
        index.extend(block.records)
        _apply_annotation_entries(index, block)
    problem = None
    if len(index) != footer.record_count:
        problem = ("index record count does not match the footer", 8, footer.record_count, len(index))
    elif len(index.annotations) != footer.annotated_count:
        problem = ("annotated record count does not match the footer", 16, footer.annotated_count, len(index.annotations))
    elif footer.generation != len(blocks):
        problem = ("footer generation does not match the number of index blocks (one per commit)", 24, len(blocks),
                   footer.generation)
    if problem:  # [FTR-3] [FTR-5] [FTR-6]: a valid footer that disagrees with its index is corrupt, not unfinished
        raise FormatError(problem[0], "footer", footer.footer_offset + FRAME_HEADER_BYTES + problem[1], None,
                          problem[2], problem[3])
    index.metadata_offset = blocks[-1].metadata_offset if blocks else 0
    return index


def _apply_annotation_entries(index, block):
    """[IDX-6] [ANN-4] [ANN-5]: sorted, unique, naming an existing record, frame after its record."""
    previous = -1
    for record_index, offset, length, crc, entry_offset in block.annotations:
        if record_index >= len(index):  # [IDX-10]
            raise FormatError("annotation entry names a record that does not exist", "index", entry_offset, None,
                              "< %d" % len(index), record_index)
        if record_index <= previous:
            raise FormatError("duplicate annotation entry in one index block" if record_index == previous
                              else "annotation entries not sorted by record index", "index", entry_offset, record_index,
                              "> %d" % previous, record_index)
        previous = record_index
        if offset == 0:
            index.annotations.pop(record_index, None)
            continue
        if offset < index.frame_offset[record_index]:  # [ANN-5]
            raise FormatError("annotation frame precedes the frame of its record", "annotation", offset, record_index,
                              "an annotation frame after byte %d" % index.frame_offset[record_index], offset)
        index.annotations[record_index] = (offset, length, crc)


def _other_extents(index, blocks):
    """(start, end) of the indexed frames that are not records: annotation frames not directly
    after their record, and index blocks; sorted by offset."""
    extents = []
    for i, (offset, length, _) in index.annotations.items():
        if offset != index.frame_offset[i] + FRAME_HEADER_BYTES + index.payload_byte_length[i]:
            extents.append((offset, offset + FRAME_HEADER_BYTES + length))
    for b in blocks:
        extents.append((b.frame_offset, b.frame_offset + FRAME_HEADER_BYTES + b.payload_byte_length))
    extents.sort()
    return extents


def _check_gaps(source, header, index, blocks, footer):
    """Walk the frame headers between indexed frames (superseded annotations, old index blocks and
    footers, extension frames): they must tile the file by [ALN-4], and none may be an unknown
    critical extension [EXT-2]. Padding before an aligned record frame is not read [ALN-5].
    Records (ascending, checked when the index was loaded) are merged with the other frames."""
    alignment = header.alignment
    cursor = header.first_frame_offset
    others = _other_extents(index, blocks)
    k = 0
    offsets, lengths, annotations = index.frame_offset, index.payload_byte_length, index.annotations

    def visit(cursor, start, end, is_record):
        if start < cursor:
            raise FormatError("indexed frames overlap", "index", start, None, "a frame at or after %d" % cursor, start)
        if start > cursor and not (is_record and start == _align_up(cursor, alignment)):
            _walk_gap(source, cursor, start, is_record, alignment)
        return end

    record_count, other_count = len(index), len(others)
    for i in range(record_count + 1):
        start = offsets[i] if i < record_count else footer.footer_offset
        while k < other_count and others[k][0] < start:
            cursor = visit(cursor, others[k][0], others[k][1], False)
            k += 1
        if i == record_count:
            visit(cursor, start, start, False)
            break
        end = start + FRAME_HEADER_BYTES + lengths[i]
        live = annotations.get(i)
        if live is not None and live[0] == end:  # its annotation frame directly follows it
            end += FRAME_HEADER_BYTES + live[1]
        cursor = visit(cursor, start, end, True)


def _walk_gap(source, gap_start, gap_end, ends_at_record, alignment):
    """Frame headers in [gap_start, gap_end) by the scan rule; payloads of large gaps are not read."""
    whole = source.read(gap_start, gap_end - gap_start) if gap_end - gap_start <= _GAP_READ_BYTES else None
    at = gap_start
    while at < gap_end:
        head = whole[at - gap_start:at - gap_start + FRAME_HEADER_BYTES] if whole is not None else source.read(at, FRAME_HEADER_BYTES)
        if at % alignment and head[:1] == b"\x00":
            if _align_up(at, alignment) != gap_end or not ends_at_record:
                raise FormatError("padding before a frame that is not a record frame", "frame", at, None,
                                  "a frame header", "zero padding")
            return
        fh = decode_frame_header(head, at)
        if fh.kind == KIND_RECORD:
            raise FormatError("record frame missing from the index", "frame", at, None, "an indexed record", "an unindexed one")
        if is_critical_unknown_frame(fh):
            raise _critical_frame_error(fh, at)
        at += FRAME_HEADER_BYTES + fh.payload_byte_length
    if at != gap_end:
        raise FormatError("unindexed frames do not line up with the indexed ones", "frame", gap_start, None, gap_end, at)


# --- The reader ----------------------------------------------------------------------------------------

def open(path, recover=False, strict=False, use_index=True, verify_checksums=True, check_gaps=True,
         max_record_bytes=DEFAULT_MAX_RECORD_BYTES, max_annotation_bytes=DEFAULT_MAX_ANNOTATION_BYTES,
         max_index_bytes=DEFAULT_MAX_INDEX_BYTES):
    """Open a .picpac 2.x file (a PicpacFile, see there for the options), or a PicPac 1.0 file
    (a V1File, recognised by its first segment header; `recover` and `strict` apply to it)."""
    source = _FileSource(path)
    try:
        first = source.read(0, 4)
    finally:
        source.close()
    if first == V1_MAGIC_BYTES:
        return V1File(path, recover=recover)
    return PicpacFile(path, recover=recover, strict=strict, use_index=use_index, verify_checksums=verify_checksums,
                      check_gaps=check_gaps, max_record_bytes=max_record_bytes,
                      max_annotation_bytes=max_annotation_bytes, max_index_bytes=max_index_bytes)


class _PrefixSource:
    """The first `byte_length` bytes of a source: the file as its last valid commit left it [RCV-6]."""

    def __init__(self, source, byte_length):
        self.source = source
        self.byte_length = byte_length

    def read(self, byte_offset, byte_length):
        return self.source.read(byte_offset, max(0, min(byte_length, self.byte_length - byte_offset)))


_FOOTER_PREFIX = struct.pack("<HBBI", FRAME_MAGIC, KIND_FOOTER, 0, FOOTER_PAYLOAD_BYTES)


def find_last_footer(source, first_frame, before_end):
    """Offset of the newest valid footer frame (naming its own offset, [FTR-4]) that ends at or
    before `before_end`, or None [RCV-6]. Searches backwards in 1 MiB windows."""
    window_end = before_end
    while window_end - first_frame >= FOOTER_FRAME_BYTES:
        window_start = max(first_frame, window_end - (1 << 20))
        data = source.read(window_start, min(before_end, window_end + FOOTER_FRAME_BYTES) - window_start)
        i = data.rfind(_FOOTER_PREFIX, 0, min(len(data), window_end - window_start) - 1 + len(_FOOTER_PREFIX))
        while i >= 0:
            at = window_start + i
            if at + FOOTER_FRAME_BYTES <= before_end:
                frame = data[i:i + FOOTER_FRAME_BYTES]
                if len(frame) < FOOTER_FRAME_BYTES:
                    frame = source.read(at, FOOTER_FRAME_BYTES)
                try:
                    decode_footer_frame(frame, at)
                    return at
                except UnfinishedFileError:
                    pass
            i = data.rfind(_FOOTER_PREFIX, 0, i + len(_FOOTER_PREFIX) - 1) if i > 0 else -1
        window_end = window_start
    return None


def _lock_holder(path):
    """The live writer named by `<path>.lock` [CON-1] (a dict), or None: a lock of another host
    cannot be checked and counts as live; a pid that does not exist here is a stale lock."""
    try:
        with builtins.open(os.fspath(path) + ".lock", "r", encoding="utf-8") as f:
            held = json.loads(f.read())
        pid, hostname = held["pid"], held["hostname"]
        if not isinstance(pid, int) or pid <= 0 or not isinstance(hostname, str):
            return None
    except Exception:
        return None
    if hostname != socket.gethostname():
        return held
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return held


class PicpacFile:
    """A .picpac 2.x file opened for reading: a sequence of Record (len, [i], iteration).

    Default: header, footer and index chain are read [RCV-1]. A file whose end is not a valid
      footer (a writer is appending, or died mid-append) opens at its last valid commit [RCV-6]
      (`torn_tail` = (offset, length) of the bytes after it, `torn_offset`, `warnings`); without
      one it raises UnfinishedFileError. A valid footer whose index is damaged is read by
      scanning the frames instead [IDX-9] (`recovered`, `warnings`). This is what `picpac dump`
      does by default.
    strict=True: refuse both instead (UnfinishedFileError / FormatError).
    recover=True: rebuild the index by scanning every frame, past damaged ones [RCV-7], a record
      with the annotation written with it or not at all [RCV-8]; `recovered`, `torn_offset`
      (the torn offset of [RCV-1]), `torn_reason`, `dropped` and `valid_byte_length` say what
      happened.
    use_index=False: build the index by scanning every frame (reads the whole file, verifies every
      CRC) instead of reading the footer's index chain; strict about damage.
    verify_checksums: check payload CRCs of every frame returned (SPEC [FRM-6] requires it; turn
      off only for speed on trusted media).
    check_gaps: walk the frame headers between indexed frames to refuse unknown critical
      extension frames of 2.0 files [EXT-2] (few reads; none for a freshly written file).
    """

    read_chunk_bytes = _SCAN_CHUNK_BYTES  # bytes per read when iterating in file order

    def __init__(self, path, recover=False, strict=False, use_index=True, verify_checksums=True, check_gaps=True,
                 max_record_bytes=DEFAULT_MAX_RECORD_BYTES, max_annotation_bytes=DEFAULT_MAX_ANNOTATION_BYTES,
                 max_index_bytes=DEFAULT_MAX_INDEX_BYTES):
        self.path = os.fspath(path)
        self.verify_checksums = verify_checksums
        self.max_record_bytes = max_record_bytes
        self.max_annotation_bytes = max_annotation_bytes
        self.max_index_bytes = max_index_bytes
        self.recovered = False
        self.torn_offset = None
        self.torn_reason = None
        self.torn_tail = None
        self.dropped = []
        self.warnings = []
        self.footer = None
        self._ids = None
        self._source = _FileSource(self.path)
        try:
            self._open(recover, strict, use_index, check_gaps)
        except PicpacError as err:
            self._source.close()
            raise err.with_file(self.path)
        except BaseException:
            self._source.close()
            raise

    def _open(self, recover, strict, use_index, check_gaps):
        source = self._source
        head = source.read(0, HEADER_BYTES)
        try:
            self.header = decode_file_header(head)
        except UnfinishedFileError:
            if not recover:
                raise
            # The writer died before its header reached the disk: nothing to recover.
            self.header = FileHeader(MAJOR_VERSION, 0, HEADER_BYTES, 1, 0)
            self._index = _Index()
            self.recovered = True
            self.torn_offset = 0 if source.byte_length else None
            self.torn_reason = "file shorter than its header"
            self.valid_byte_length = 0
            return
        self._check_extended_header()
        if recover:  # the scan starts at the first frame; what lies before it is not data
            self._open_by_scan(strict=False)
            return
        self._check_header_padding()
        if not use_index:
            self._open_by_scan(strict=True)
            return
        try:
            self._open_commit(source, check_gaps)
            return
        except (UnsupportedVersionError, LimitExceededError):
            raise  # not damage: no fallback reads around it
        except FormatError as err:
            if strict:
                raise
            strict_error = err
        if isinstance(strict_error, UnfinishedFileError):
            # The end is not a valid footer: open the last valid commit, warn about the bytes after it [RCV-6].
            byte_length = source.byte_length
            footer_offset = find_last_footer(source, self.header.first_frame_offset, byte_length - 1)
            if footer_offset is not None:
                commit_end = footer_offset + FOOTER_FRAME_BYTES
                try:
                    self._open_commit(_PrefixSource(source, commit_end), check_gaps)
                except (UnsupportedVersionError, LimitExceededError):
                    raise
                except FormatError:
                    pass
                else:
                    self.torn_tail = (commit_end, byte_length - commit_end)
                    self.torn_offset = commit_end
                    self.torn_reason = str(strict_error)
                    self.warnings.append(
                        "reading the last commit (generation %d, %d records, bytes 0..%d); the %d bytes after it "
                        "(bytes %d..%d) are not committed (%s): a writer is appending, or one stopped before its commit"
                        % (self.footer.generation, len(self), commit_end, byte_length - commit_end, commit_end,
                           byte_length, strict_error))
                    return
            problem = str(strict_error)
            problem = problem[len("footer: "):] if problem.startswith("footer: ") else problem
            raise UnfinishedFileError(
                "no committed data to read: %s; the file has no valid commit (its first writer has not committed yet, "
                "or stopped before committing, or the end of the file is damaged). If no writer is running, "
                "`picpac repair FILE OUT` saves every intact record, and `--recover` reads them" % problem,
                strict_error.section, strict_error.byte_offset)
        # The footer is valid but the index (or the frames between indexed ones) is damaged: the
        # index is redundant [IDX-9], so the records are found by scanning the frames.
        self.footer = None
        self._open_by_scan(strict=False)
        self.warnings.append("the index is damaged (%s); read %d records by scanning the frames instead "
                             "(`picpac repair` writes a file with a sound index)" % (strict_error, len(self)))

    def _open_commit(self, source, check_gaps):
        """Strict open of the commit whose footer is the last 64 bytes of `source` [RCV-1]."""
        footer = _read_footer(source, self.header)
        first = self.header.first_frame_offset
        most = (footer.footer_offset - first) // (FRAME_HEADER_BYTES + RECORD_HEAD_BYTES)
        if footer.record_count > most:  # every record frame takes at least 48 bytes
            raise FormatError("footer record count larger than the file can hold", "footer",
                              footer.footer_offset + FRAME_HEADER_BYTES + 8, None, "<= %d" % most, footer.record_count)
        blocks = _load_index_chain(source, self.header, footer, self.max_index_bytes)
        index = _index_from_blocks(blocks, footer, self.header)
        if check_gaps:
            _check_gaps(source, self.header, index, blocks, footer)
        self.footer, self._index = footer, index
        self.valid_byte_length = source.byte_length

    def _check_extended_header(self):
        """[HDR-9]: with feature bit 17, bytes 56..59 hold the CRC32C of header bytes 64..headerByteLength-1."""
        header = self.header
        if not header.feature_flags & FEATURE_EXTENDED_HEADER_CRC:
            return
        grown = self._source.read(0, header.header_byte_length)
        if len(grown) < header.header_byte_length:
            raise FormatError("file too short for its grown header", "header", len(grown),
                              None, ">= %d bytes" % header.header_byte_length, len(grown))
        stored = struct.unpack_from("<I", grown, EXTENDED_HEADER_CRC_OFFSET)[0]
        actual = crc32c(grown[HEADER_BYTES:])
        if stored != actual:
            raise ChecksumError("extended header CRC mismatch (bytes 64 to headerByteLength-1)", "header",
                                EXTENDED_HEADER_CRC_OFFSET, None, _hex32(stored), _hex32(actual))

    def _check_header_padding(self):
        """[HDR-8]: bytes from the end of the header to the first frame are zero."""
        start = self.header.header_byte_length
        padding = self._source.read(start, self.header.first_frame_offset - start)
        stripped = padding.lstrip(b"\x00")
        if stripped:
            at = start + len(padding) - len(stripped)
            raise FormatError("non-zero byte between the header and the first frame", "header", at, None, 0,
                              stripped[0])

    def _open_by_scan(self, strict):
        limit = max(self.max_record_bytes, self.max_annotation_bytes, self.max_index_bytes)
        result = rebuild_index(self._source, self.header, self.verify_checksums, limit, resync=not strict)
        index, footers = result.index, result.footers
        self._index = index
        self.valid_byte_length = result.end_offset
        # [RCV-1]: the torn offset is the end of the last valid frame, before any padding.
        self.torn_offset = result.end_offset if result.torn_offset is not None else None
        self.torn_reason = result.torn_reason
        self.dropped = result.dropped
        self._scanned = True
        last_footer = footers[-1] if footers else None
        finished = (result.torn_offset is None and not result.dropped and last_footer is not None
                    and last_footer[0] + FOOTER_FRAME_BYTES == self._source.byte_length)
        if finished:
            self.footer = last_footer[1]
        if not strict:
            self.recovered = True
            return
        if result.torn_offset is not None:
            raise UnfinishedFileError("frame scan stopped: %s" % result.torn_reason, "frame", result.torn_offset)
        if not finished:
            raise UnfinishedFileError("no footer at the end of the file", "footer", result.end_offset)
        if self.footer.record_count != len(index) or self.footer.annotated_count != len(index.annotations):
            raise UnfinishedFileError("footer counts do not match the frames", "footer", last_footer[0] + FRAME_HEADER_BYTES,
                                      None, "%d records, %d annotated" % (len(index), len(index.annotations)),
                                      "%d, %d" % (self.footer.record_count, self.footer.annotated_count))

    # -- sequence protocol (a torch.utils.data.Dataset needs only these) --

    def __len__(self):
        return len(self._index)

    def __getitem__(self, record_index):
        if isinstance(record_index, slice):
            return [self[i] for i in range(*record_index.indices(len(self)))]
        return self._read_record(self._check_index(record_index), self._source)

    def __iter__(self):
        return self.records()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._source.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_ids"] = None
        return state

    def __repr__(self):
        return "PicpacFile(%r, records=%d%s)" % (self.path, len(self), ", recovered" if self.recovered else "")

    # -- public helpers --

    @property
    def record_count(self):
        return len(self._index)

    @property
    def annotated_count(self):
        return len(self._index.annotations)

    def entry(self, record_index):
        """The index entry of a record (id, labels, first image size) without reading the record."""
        return self._index.entry(self._check_index(record_index))

    def indices_of_id(self, record_id):
        """Record indices holding this id, in file order (ids need not be unique)."""
        if self._ids is None:
            ids = {}
            for i, rid in enumerate(self._index.ids):
                ids.setdefault(rid, []).append(i)
            self._ids = ids
        return list(self._ids.get(record_id, ()))

    def get_by_id(self, record_id):
        """The first record with this id; KeyError when there is none."""
        found = self.indices_of_id(record_id)
        if not found:
            raise KeyError("no record with id %r in %s" % (record_id, self.path))
        return self[found[0]]

    @property
    def metadata(self):
        """The file's metadata text (SPEC §9.1: a JSON object, e.g. {"classes": [...]}, the class
        table), or None when the file has none or its format is unknown. Named by the newest index
        block [EXT-8], or the last metadata frame found by a recovery scan [EXT-9]; one read."""
        offset = self._index.metadata_offset
        if not offset:
            return None
        try:
            _, payload = _read_frame(self._source, offset, KIND_METADATA, "metadata", self.max_annotation_bytes)
            if len(payload) < METADATA_HEAD_BYTES:
                raise FormatError("metadata payload shorter than its head", "metadata", offset + FRAME_HEADER_BYTES, None,
                                  ">= %d bytes" % METADATA_HEAD_BYTES, len(payload))
            metadata_format = struct.unpack_from("<I", payload, 0)[0]
            if metadata_format == 0:
                raise FormatError("metadata format 0 is invalid", "metadata", offset + FRAME_HEADER_BYTES, None, ">= 1", 0)
            if metadata_format != METADATA_FORMAT_JSON:
                return None  # [EXT-7]: a format this reader does not know is ignored
            try:
                return bytes(payload[METADATA_HEAD_BYTES:]).decode("utf-8")
            except UnicodeDecodeError:
                raise FormatError("metadata text is not valid UTF-8", "metadata",
                                  offset + FRAME_HEADER_BYTES + METADATA_HEAD_BYTES) from None
        except PicpacError as err:
            raise err.with_file(self.path)

    def metadata_json(self):
        """The metadata parsed as JSON (a dict), or None. [SEC-4]: parsed as data."""
        text = self.metadata
        return None if text is None else json.loads(text)

    @property
    def classes(self):
        """The class table of the metadata [EXT-7] (a list of {"label", "name", "coco"?}), or []."""
        return (self.metadata_json() or {}).get("classes", [])

    def annotation(self, record_index):
        """The live annotation text of a record, or None (reads only the annotation frame) [ANN-7]."""
        return self._read_annotation(self._check_index(record_index), self._source)

    def records(self, start=0, stop=None, step=1):
        """Records in file order (start/stop/step like range, e.g. one shard per DataLoader worker).
        Consecutive records are fetched with large sequential reads."""
        source = _BufferedSource(self._source, self.read_chunk_bytes) if step == 1 else self._source
        for i in range(*slice(start, stop, step).indices(len(self))):
            yield self._read_record(i, source)

    # -- internals --

    def _check_index(self, record_index):
        if not isinstance(record_index, int) or isinstance(record_index, bool):
            raise TypeError("record index must be an int, got %s" % type(record_index).__name__)
        n = len(self._index)
        i = record_index + n if record_index < 0 else record_index
        if not 0 <= i < n:
            raise IndexError("record index %d out of range (%d records in %s)" % (record_index, n, self.path))
        return i

    def _read_record(self, i, source):
        """One record read through `source` (the file, or a buffered view of it), and its annotation."""
        frame = source.read(self._index.frame_offset[i], FRAME_HEADER_BYTES + self._index.payload_byte_length[i])
        try:
            payload = self._check_record_frame(i, frame)
        except PicpacError as err:
            raise err.with_file(self.path)
        return self._record(i, payload, self._read_annotation(i, source))

    def _check_record_frame(self, i, frame):
        """[IDX-7]: verify the frame before returning its data, and that it is the one the index names."""
        offset = self._index.frame_offset[i]
        fh = decode_frame_header(bytes(frame[:FRAME_HEADER_BYTES]), offset, self.max_record_bytes, i)
        if fh.kind != KIND_RECORD:
            raise FormatError("index names a frame that is not a record", "frame", offset + 2, i, KIND_RECORD, fh.kind)
        if fh.payload_byte_length != self._index.payload_byte_length[i] or fh.payload_crc != self._index.payload_crc[i]:
            raise FormatError("record frame does not match its index entry", "frame", offset + 4, i,
                              "%d bytes, crc %s" % (self._index.payload_byte_length[i], _hex32(self._index.payload_crc[i])),
                              "%d bytes, crc %s" % (fh.payload_byte_length, _hex32(fh.payload_crc)))
        payload = frame[FRAME_HEADER_BYTES:]
        if len(payload) != fh.payload_byte_length:
            raise TruncatedError("record frame extends past the end of the file", "frame", offset + FRAME_HEADER_BYTES, i,
                                 "%d bytes" % fh.payload_byte_length, len(payload))
        if self.verify_checksums:
            check_frame_payload(fh, payload, offset, i)
        return payload

    def _record(self, i, payload, annotation):
        """Decode a verified record payload."""
        try:
            record_id, label, label2, fields = decode_record_payload(payload, self._index.frame_offset[i] + FRAME_HEADER_BYTES, i)
            if record_id != self._index.ids[i] or len(fields) != self._index.field_count[i]:  # [IDX-5]
                raise FormatError("record does not match its index entry", "record", self._index.frame_offset[i] + FRAME_HEADER_BYTES,
                                  i, "id %d, %d fields" % (self._index.ids[i], self._index.field_count[i]),
                                  "id %d, %d fields" % (record_id, len(fields)))
        except PicpacError as err:
            raise err.with_file(self.path)
        return Record(i, record_id, label, label2, fields, annotation)

    def _read_annotation(self, i, source):
        live = self._index.annotations.get(i)
        if live is None:
            return None
        offset, length, crc = live
        if isinstance(source, _BufferedSource) and not source.holds(offset, FRAME_HEADER_BYTES + length):
            source = self._source  # a replaced annotation far from its record: do not move the buffer
        try:
            fh, payload = _read_frame(source, offset, KIND_ANNOTATION, "annotation", self.max_annotation_bytes,
                                      record_index=i)
            if fh.payload_crc != crc or fh.payload_byte_length != length:
                raise FormatError("annotation frame does not match its index entry", "annotation", offset + 4, i,
                                  "%d bytes, crc %s" % (length, _hex32(crc)),
                                  "%d bytes, crc %s" % (fh.payload_byte_length, _hex32(fh.payload_crc)))
            record_index, annotation_format, text = decode_annotation_payload(payload, offset + FRAME_HEADER_BYTES)
            named = self._index.original_index.get(i, i)  # recovery renumbers records after damage [RCV-7]
            if record_index != named:
                raise FormatError("annotation frame names another record", "annotation", offset + FRAME_HEADER_BYTES, i,
                                  named, record_index)
            if annotation_format != ANNOTATION_FORMAT_JSON or not text:
                return None
            return _annotation_text(text, offset + FRAME_HEADER_BYTES + ANNOTATION_HEAD_BYTES, i)
        except PicpacError as err:
            raise err.with_file(self.path)


# --- PicPac 1.0 (SPEC §18, REFERENCE §1.1) ------------------------------------------------------------

V1_MAGIC_BYTES = b"\xac\x59\x00\x01"  # u16 magic 0x59AC, u16 version 0x0100
V1_SEGMENT_HEADER_BYTES = 8192
V1_MAX_SEGMENT_RECORDS = 1020
V1_RECORD_ALIGN = 4096
V1_MAX_FIELDS = 6
V1_RECORD_HEAD_BYTES = 64
V1_MAX_RECORD_BYTES = 512 << 20
_CV_DEPTH_BYTES = (1, 1, 2, 2, 4, 4, 8)


def sniff_image_codec(data):
    """ImageCodec of encoded image bytes by their signature (0 = not recognised) [V1-5]."""
    d = bytes(data[:32])
    if d.startswith(b"\x89PNG\r\n\x1a\n"):
        return 2
    if d.startswith(b"\xff\xd8\xff"):
        return 1
    if d.startswith(b"GIF8"):
        return 4
    if d.startswith(b"RIFF") and d[8:12] == b"WEBP":
        return 3
    if d.startswith(b"BM") and len(data) >= 26:
        dib = struct.unpack_from("<I", d, 14)[0]
        if dib == 12 or 40 <= dib <= 124:
            return 6
    if d.startswith(b"II*\x00") or d.startswith(b"MM\x00*"):
        return 5
    if d[4:8] == b"ftyp" and d[8:12] in (b"avif", b"avis"):
        return 7
    if _is_raw_matrix(data):
        return 8
    return 0


def _is_raw_matrix(data):
    """The 1.0 raw matrix: i32 OpenCV type, rows, cols, elemSize, then rows*cols*elemSize bytes."""
    if len(data) < 16:
        return False
    cv_type, rows, cols, elem_size = struct.unpack_from("<iiii", data, 0)
    if cv_type < 0 or rows < 1 or cols < 1:
        return False
    depth, channels = cv_type & 7, (cv_type >> 3) + 1
    if depth > 6 or channels > 512 or _CV_DEPTH_BYTES[depth] * channels != elem_size:
        return False
    return rows * cols * elem_size == len(data) - 16


def _v1_annotation_text(data):
    """Slot 1 is the annotation when it is valid UTF-8 whose first non-blank byte is '{' [V1-5]."""
    stripped = bytes(data).lstrip(b" \t\n\v\f\r")
    if not stripped.startswith(b"{"):
        return None
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def map_v1_slots(slots):
    """[V1-5]: the typed fields and annotation of a 1.0 record's slots."""
    fields, annotation = [], None
    for slot, data in enumerate(slots):
        if slot == 1 and annotation is None:
            text = _v1_annotation_text(data)
            if text is not None:
                annotation = text
                continue
        codec = sniff_image_codec(data) if data else 0
        kind = (2 if slot == 1 else 1) if codec else 4
        fields.append(Field(kind, codec, bytes(data), 0, 0))
    return fields, annotation


def _v1_segment(head, at, record_index):
    """Decode a segment header: (record count, link, sizes) [V1-1] [V1-3]."""
    if len(head) < V1_SEGMENT_HEADER_BYTES:
        raise TruncatedError("truncated segment header", "v1-segment", at, record_index,
                             "%d bytes" % V1_SEGMENT_HEADER_BYTES, len(head))
    magic, version, count = struct.unpack_from("<HHH", head, 0)
    if magic != 0x59AC:
        raise FormatError("bad segment magic", "v1-segment", at, record_index, "0x59ac", "0x%04x" % magic)
    if version != 0x0100:
        raise UnsupportedVersionError("unsupported PicPac 1.x version", "v1-segment", at + 2, record_index, "0x0100", "0x%04x" % version)
    if count > V1_MAX_SEGMENT_RECORDS:
        raise FormatError("segment record count too large", "v1-segment", at + 4, record_index, "<= 1020", count)
    link = struct.unpack_from("<Q", head, 8)[0]
    return count, link, struct.unpack_from("<%dI" % count, head, 32)


def _v1_plausible_length(head, left):
    """Length (64 + field sizes) of a record head found by scanning an unclosed segment, or -1."""
    if len(head) < V1_RECORD_HEAD_BYTES or left < V1_RECORD_HEAD_BYTES:
        return -1
    rid, label_bits, width, reserved1, label2, reserved2 = struct.unpack_from("<IIBBhI", head, 0)
    if width > V1_MAX_FIELDS or reserved1 or reserved2:
        return -1
    total = V1_RECORD_HEAD_BYTES
    for k in range(V1_MAX_FIELDS):
        size, ftype, r1, r2 = struct.unpack_from("<IBBH", head, 16 + 8 * k)
        if r1 or r2 or ftype > 3 or (k >= width and (size or ftype)):
            return -1
        total += size
    if rid == 0 and label_bits == 0 and width == 0 and label2 == 0:
        return -1
    return total if total < V1_MAX_RECORD_BYTES and total <= left else -1


class V1File:
    """A PicPac 1.0 file (SPEC §18) with the PicpacFile reading interface: len, [i], iteration,
    get_by_id; records mapped to typed fields by [V1-5] (width/height 0: not sniffed). recover=True
    reads what a crashed 1.0 writer left ([V1-4]: closed segments, then the unclosed one's heads)."""

    header = None
    footer = None

    def __init__(self, path, recover=False):
        self.path = os.fspath(path)
        self._source = _FileSource(self.path)
        self.recovered = False
        self.torn_offset = None
        self.torn_reason = None
        self._ids = None
        try:
            self._locators = self._discover(recover)
        except PicpacError as err:
            self._source.close()
            raise err.with_file(self.path)

    def _discover(self, recover):
        source, file_length = self._source, self._source.byte_length
        locators, segment, mode = [], 0, None
        while segment < file_length or (segment == 0 and not recover):
            try:
                count, link, sizes = _v1_segment(source.read(segment, V1_SEGMENT_HEADER_BYTES), segment, len(locators))
            except FormatError as err:
                if not recover:
                    raise
                self._torn(segment, str(err))
                break
            if count:
                mode = mode or ("aligned" if all(size % V1_RECORD_ALIGN == 0 for size in sizes) else "compact")
            at = segment + V1_SEGMENT_HEADER_BYTES
            end = at + sum(sizes)
            if count == 0 and link == 0:  # never closed: the writer died [V1-4]
                if not recover:
                    raise UnfinishedFileError("unclosed segment (the writer did not finish; open with recover=True)",
                                              "v1-segment", segment, len(locators), "a closed segment", "size 0, link 0")
                found, mode = self._scan_unclosed(at, mode)
                locators.extend(found)
                self._torn(found[-1][0] + found[-1][1] if found else at, "unclosed segment")
                if len(found) < V1_MAX_SEGMENT_RECORDS:
                    break
                segment = found[-1][0] + found[-1][1]
                continue
            if link != end or end > file_length:
                problem = "segment link does not match the end of its records" if link != end else "segment extends past the end of the file"
                if not recover:
                    raise FormatError(problem, "v1-segment", segment + 8, len(locators), end, link)
                for size in sizes:  # take the records that are complete
                    if at + size > file_length:
                        break
                    locators.append((at, size))
                    at += size
                self._torn(at, problem)
                break
            locators.extend(zip(_running_offsets(at, sizes), sizes))
            segment = link
        return locators

    def _torn(self, offset, reason):
        """Recovered; bytes from `offset` on are not records (none when that is the end of the file)."""
        self.recovered, self.torn_reason = True, reason
        self.torn_offset = offset if offset < self._source.byte_length else None

    def _scan_unclosed(self, start, mode):
        """Record heads after an unclosed segment header; without closed records both layouts are
        tried and the one that explains more records wins."""
        results = {m: self._scan_heads(start, m) for m in ((mode,) if mode else ("compact", "aligned"))}
        best = mode or ("aligned" if len(results["aligned"]) > len(results["compact"]) else "compact")
        return results[best], best

    def _scan_heads(self, at, mode):
        found, file_length = [], self._source.byte_length
        while len(found) < V1_MAX_SEGMENT_RECORDS and at + V1_RECORD_HEAD_BYTES <= file_length:
            length = _v1_plausible_length(self._source.read(at, V1_RECORD_HEAD_BYTES), file_length - at)
            if length < 0:
                break
            disk = _align_up(length, V1_RECORD_ALIGN) if mode == "aligned" else length
            found.append((at, min(disk, file_length - at)))
            at += disk
        return found

    def __len__(self):
        return len(self._locators)

    def __getitem__(self, record_index):
        if isinstance(record_index, slice):
            return [self[i] for i in range(*record_index.indices(len(self)))]
        i = self._check_index(record_index)
        rid, label, label2, slots = self.raw_slots(i)
        fields, annotation = map_v1_slots(slots)
        return Record(i, rid, label, label2, fields, annotation)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def records(self, start=0, stop=None, step=1):
        return (self[i] for i in range(*slice(start, stop, step).indices(len(self))))

    def raw_slots(self, i):
        """(id, label, label2, [slot bytes]) exactly as stored [V1-2] [V1-3]."""
        at, size = self._locators[i]
        data = self._source.read(at, size)
        try:
            if len(data) < V1_RECORD_HEAD_BYTES:
                raise TruncatedError("truncated record head", "v1-record", at, i, ">= 64 bytes", len(data))
            rid, label, width, _, label2 = struct.unpack_from("<IfBBh", data, 0)
            if width > V1_MAX_FIELDS:
                raise FormatError("record width too large", "v1-record", at + 8, i, "<= 6", width)
            slots, cursor = [], V1_RECORD_HEAD_BYTES
            for k in range(width):
                length = struct.unpack_from("<I", data, 16 + 8 * k)[0]
                if length > len(data) - cursor:  # an empty last field at the very end is fine [V1-3]
                    raise FormatError("field overruns the record", "v1-record", at + 16 + 8 * k, i,
                                      "<= %d" % (len(data) - cursor), length)
                slots.append(data[cursor:cursor + length])
                cursor += length
        except PicpacError as err:
            raise err.with_file(self.path)
        return rid, label, label2, slots

    indices_of_id = PicpacFile.indices_of_id
    get_by_id = PicpacFile.get_by_id
    _check_index = PicpacFile._check_index

    @property
    def _index(self):  # indices_of_id reads ids from here
        return self

    @property
    def ids(self):
        return [struct.unpack_from("<I", self._source.read(at, 4))[0] for at, _ in self._locators]

    def close(self):
        self._source.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _running_offsets(start, sizes):
    for size in sizes:
        yield start
        start += size


# --- `picpac dump` lines (docs/cli.md), for comparing with the reference tool -----------------------

def _js_number(value):
    """A float formatted as JavaScript's Number#toString / JSON.stringify (NaN, ±Infinity -> null)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    k = len(text)
    n = exponent + k  # value = 0.text × 10^n
    if k <= n <= 21:
        out = text + "0" * (n - k)
    elif 0 < n <= 21:
        out = text[:n] + "." + text[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + text
    else:
        e = n - 1
        mantissa = text[0] + ("." + text[1:] if k > 1 else "")
        out = "%se%s%d" % (mantissa, "+" if e >= 0 else "-", abs(e))
    return ("-" if sign else "") + out


def dump_line(record, annotation_slot=None):
    """One `picpac dump` line: the fields, with the annotation as a field of type 'annotation/json'
    last (2.0), or at its stored slot (1.0 files: annotation_slot=1)."""
    parts = [(f.type, f.data) for f in record.fields]
    if record.annotation is not None:
        annotation = ("annotation/json", record.annotation.encode("utf-8"))
        parts.insert(len(parts) if annotation_slot is None else annotation_slot, annotation)
    fields = ",".join('{"type":%s,"size":%d,"sha256":"%s"}' % (json.dumps(t), len(b), hashlib.sha256(b).hexdigest())
                      for t, b in parts)
    return '{"index":%d,"id":%d,"label":%s,"label2":%s,"fields":[%s]}' % (
        record.index, record.id, _js_number(record.label), _js_number(record.label2), fields)


def _open_warning_lines(db, path):
    """The `warning:` lines `picpac dump` prints on stderr for what the open found (src/cli/open-warnings.ts)."""
    lines = []
    for warning in getattr(db, "warnings", ()):
        after = ""
        if db.torn_tail is not None:
            holder = _lock_holder(path)
            if holder is not None:
                after = (" \u2014 %s is locked by pid %d (a writer is appending; its records appear when it commits)"
                         % (path, holder["pid"]))
            else:
                after = (" \u2014 no writer holds %s.lock: the writer stopped before committing; `picpac import ... %s "
                         "--append` continues from the last commit (the torn bytes are kept in a side file), "
                         "`picpac repair %s OUT` also saves the records they hold" % (path, path, path))
        lines.append("warning: %s: %s%s" % (path, warning, after))
    return lines


def _main(argv):
    usage = "usage: python3 picpac.py dump FILE [--recover | --strict]"
    if len(argv) < 2 or argv[0] != "dump" or any(a not in ("--recover", "--strict") for a in argv[2:]):
        print(usage, file=sys.stderr)
        return 2
    path, recover, strict = argv[1], "--recover" in argv[2:], "--strict" in argv[2:]
    try:
        with open(path, recover=recover, strict=strict and not recover) as db:
            for line in _open_warning_lines(db, path):
                print(line, file=sys.stderr)
            if recover:
                tail = "no torn tail"
                if db.torn_offset is not None:
                    # The reason of a frame scan ([RCV-1] wording); a file without a header was not scanned.
                    reason = db.torn_reason if getattr(db, "_scanned", False) else None
                    tail = "torn tail at byte %d%s" % (db.torn_offset, " (%s)" % reason if reason else "")
                dropped = getattr(db, "dropped", [])
                count = (("; dropped %d damaged item%s" % (len(dropped), "" if len(dropped) == 1 else "s"))
                         if dropped else "")
                print("%s: recovered %d records; %s%s" % (path, len(db), tail, count), file=sys.stderr)
                for item in dropped:
                    print("dropped: %s" % item, file=sys.stderr)
            out = sys.stdout
            for record in db:
                out.write(dump_line(record, 1 if isinstance(db, V1File) else None) + "\n")
    except PicpacError as err:
        print("picpac.py dump: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
