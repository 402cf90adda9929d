"""Unit tests of python/picpac.py: every golden vector of test/vectors/v2 against its manifest, and
the error paths (typed exceptions naming file, record and byte offset). Standard library only;
numpy checks run when numpy is importable. Run: python3 -m unittest discover -s python -v
(test/python/reader.test.ts runs it inside `npm test`)."""

import contextlib
import glob
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import socket
import struct
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VECTORS = os.path.join(REPO, "test", "vectors", "v2")
sys.path.insert(0, HERE)

import picpac  # noqa: E402

try:
    import numpy
except ImportError:  # optional
    numpy = None


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def record_as_manifest(record):
    return {
        "index": record.index, "id": record.id, "label": record.label, "label2": record.label2,
        "fields": [{"type": f.type, "kind": f.kind, "codec": f.codec, "size": len(f.data), "sha256": sha256(f.data),
                    "width": f.width, "height": f.height} for f in record.fields],
        "annotation": record.annotation,
    }


def camel(plain):
    """FileHeader/Footer attributes with the manifest's camelCase keys (footerFlags only when set, as there)."""
    return {re.sub(r"_(.)", lambda m: m.group(1).upper(), k): v for k, v in plain._asdict().items()
            if not (k == "footer_flags" and v == 0)}


def vector(name):
    return os.path.join(VECTORS, name + ".picpac")


def manifests():
    for path in sorted(glob.glob(os.path.join(VECTORS, "*.json"))):
        with open(path, encoding="utf-8") as f:
            yield os.path.basename(path)[:-5], json.load(f)


def frame_offsets(path):
    """Offsets of the record frames of a finished file, from its index."""
    with picpac.open(path) as db:
        return [db.entry(i).frame_offset for i in range(len(db))]


def refresh_frame_crcs(buf, frame_offset):
    """After editing a payload in place: recompute that frame's payload and header CRCs."""
    length = struct.unpack_from("<I", buf, frame_offset + 4)[0]
    payload = bytes(buf[frame_offset + 16:frame_offset + 16 + length])
    struct.pack_into("<I", buf, frame_offset + 8, picpac.crc32c(payload))
    struct.pack_into("<I", buf, frame_offset + 12, picpac.crc32c(bytes(buf[frame_offset:frame_offset + 12])))


def refresh_header_crc(buf):
    struct.pack_into("<I", buf, 60, picpac.crc32c(bytes(buf[:60])))


class TempFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="picpac-py-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def copy(self, name, edit=None, length=None):
        """A copy of a golden vector, edited by edit(bytearray) and/or cut to `length` bytes."""
        with open(vector(name), "rb") as f:
            buf = bytearray(f.read())
        if edit is not None:
            edit(buf)
        if length is not None:
            del buf[length:]
        path = os.path.join(self.dir, "%s-edited.picpac" % name)
        with open(path, "wb") as f:
            f.write(buf)
        return path

    def assertNames(self, err, path, byte_offset, record_index=None):
        self.assertEqual(err.file, path)
        self.assertEqual(err.byte_offset, byte_offset)
        self.assertEqual(err.record_index, record_index)
        text = str(err)
        self.assertTrue(text.startswith(path + ": "), text)
        self.assertIn("at byte %d" % byte_offset, text)
        if record_index is not None:
            self.assertIn("(record %d)" % record_index, text)


class Crc32cTest(unittest.TestCase):
    def test_known_answers(self):  # [CRC-3]
        for crc in (picpac.crc32c, picpac._crc32c_python):
            self.assertEqual(crc(b"123456789"), 0xE3069283)
            self.assertEqual(crc(bytes(32)), 0x8A9136AA)
            self.assertEqual(crc(b""), 0)

    def test_matches_the_bitwise_definition_at_every_length(self):  # SPEC §10 pseudo-code
        def bitwise(data):
            crc = 0xFFFFFFFF
            for b in data:
                crc ^= b
                for _ in range(8):
                    crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
            return crc ^ 0xFFFFFFFF
        data = bytes((i * 37 + 11) & 0xFF for i in range(67))
        for n in range(len(data) + 1):
            self.assertEqual(picpac._crc32c_python(data[:n]), bitwise(data[:n]), n)

    def test_continues_from_a_previous_value(self):
        self.assertEqual(picpac._crc32c_python(b"6789", picpac._crc32c_python(b"12345")), 0xE3069283)


class GoldenVectorTest(unittest.TestCase):
    """Every test/vectors/v2 case: what its manifest says a conforming reader returns."""

    def test_every_vector(self):
        seen = 0
        for name, m in manifests():
            with self.subTest(vector=name):
                seen += 1
                self.check_vector(name, m)
        self.assertGreaterEqual(seen, 12)

    def check_vector(self, name, m):
        path = vector(name)
        self.assertEqual(os.path.getsize(path), m["byteLength"])
        expected = [dict(r, annotation=r.get("annotation")) for r in m["records"]]
        if m["expect"] == "ok":
            for use_index in (True, False):
                with picpac.open(path, use_index=use_index) as db:
                    self.assertEqual(camel(db.header), m["header"])
                    self.assertEqual(camel(db.footer), m["footer"])
                    self.assertEqual(len(db), m["footer"]["recordCount"])
                    self.assertEqual(db.annotated_count, m["footer"]["annotatedCount"])
                    self.assertFalse(db.recovered)
                    by_index = [record_as_manifest(db[i]) for i in range(len(db))]
                    self.assertEqual(by_index, expected)
                    self.assertEqual([record_as_manifest(r) for r in db], expected)
                    self.assertEqual([db.annotation(i) for i in range(len(db))], [r["annotation"] for r in expected])
                    for r in expected:
                        self.assertIn(r["index"], db.indices_of_id(r["id"]))
                        self.assertEqual(db.entry(r["index"]).id, r["id"])
            return
        error = getattr(picpac, m["expect"])
        if m["expect"] == "FormatError":  # [VEC-2]: found at the latest when every record and annotation is read
            with self.assertRaises(error) as caught:
                with picpac.open(path, strict=True) as db:
                    for i in range(len(db)):
                        db[i]
                        db.annotation(i)
            self.assertEqual((caught.exception.file, caught.exception.byte_offset), (path, m["error"]["byteOffset"]))
            self.assertNotIsInstance(caught.exception, picpac.UnfinishedFileError)  # [FTR-3]: corrupt, not unfinished
            return
        with self.assertRaises(error) as caught:
            picpac.open(path, strict=True)
        self.assertTrue(str(caught.exception).startswith(path + ": "), str(caught.exception))
        if "recovery" not in m:
            with self.assertRaises(error):  # [EXT-2]: also when recovering
                picpac.open(path, recover=True)
            return
        rec = m["recovery"]
        with picpac.open(path, recover=True) as db:
            self.assertTrue(db.recovered)
            self.assertEqual(len(db), rec["recordCount"])
            self.assertEqual(db.valid_byte_length, rec["validByteLength"])
            self.assertEqual(db.torn_offset, rec["tornAt"])
            self.assertEqual([record_as_manifest(r) for r in db], expected[:rec["recordCount"]])

    def test_tensor_field(self):
        with picpac.open(vector("all-field-kinds")) as db:
            field = db[0].fields[2]
        tensor = field.tensor()
        self.assertEqual((tensor.dtype, tensor.shape), ("float32", (2, 3)))
        self.assertEqual(len(tensor.values()), 6)
        with self.assertRaises(TypeError):
            picpac.Field(1, 1, b"", 0, 0).tensor()
        if numpy is not None:
            arr = field.numpy()
            self.assertEqual((arr.shape, str(arr.dtype)), ((2, 3), "float32"))
            self.assertEqual(list(arr.ravel()), list(tensor.values()))

    def test_record_helpers(self):
        with picpac.open(vector("all-field-kinds")) as db:
            r = db[0]
            self.assertEqual(r.image[:2], b"\xff\xd8")
            self.assertEqual(r.label_image[:4], b"\x89PNG")
            self.assertIsNone(db[1].image)
            self.assertEqual(db[-1].id, 2 ** 53 - 1)
            self.assertEqual([x.index for x in db[0:2]], [0, 1])
            with self.assertRaises(IndexError):
                db[2]
            with self.assertRaises(TypeError):
                db["0"]
            with self.assertRaises(KeyError):
                db.get_by_id(12345)
        with picpac.open(vector("annotated")) as db:
            self.assertEqual(db[0].annotation_json()["shapes"][0]["type"], "rect")
            self.assertEqual(db.get_by_id(3).index, 3)

    def test_iteration_reads_in_large_chunks(self):
        # appended: record 0's annotation was replaced in the second commit, far from the record.
        with picpac.open(vector("appended")) as db:
            calls = []
            read = db._source.read
            db._source.read = lambda offset, length: calls.append((offset, length)) or read(offset, length)
            self.assertEqual(len(list(db)), 4)
            self.assertEqual(calls, [(64, 4 << 20)])  # the whole file in one buffer
            del calls[:]
            db.read_chunk_bytes = 6000  # records 0-1, then 2-3 with record 3's annotation
            self.assertEqual([r.annotation is not None for r in db], [True, False, False, True])
            # record 0's replaced annotation (second commit) is read directly: header, payload
            self.assertEqual(calls, [(64, 6000), (11030, 16), (11046, 121), (6257, 6000)])

    def test_pickles_for_data_loader_workers(self):
        with picpac.open(vector("appended")) as db:
            clone = pickle.loads(pickle.dumps(db))
            self.assertEqual([record_as_manifest(r) for r in clone], [record_as_manifest(r) for r in db])
            self.assertEqual([r.index for r in db.records(start=1, step=2)], [1, 3])
            clone.close()


class HeaderErrorTest(TempFiles):
    def test_bad_signature_names_first_differing_byte(self):  # [HDR-1]
        path = self.copy("compact-basic", lambda b: b.__setitem__(3, 0x44))
        with self.assertRaises(picpac.FormatError) as caught:
            picpac.open(path)
        self.assertNames(caught.exception, path, 3)
        self.assertIn("signature", str(caught.exception))

    def test_other_major_version_is_unsupported(self):  # [HDR-2] [VER-1]
        path = self.copy("compact-basic", lambda b: b.__setitem__(8, 3))
        with self.assertRaises(picpac.UnsupportedVersionError) as caught:
            picpac.open(path)
        self.assertNames(caught.exception, path, 8)

    def test_bad_header_crc(self):  # [HDR-4]
        path = self.copy("compact-basic", lambda b: b.__setitem__(30, 1))
        with self.assertRaises(picpac.ChecksumError) as caught:
            picpac.open(path)
        self.assertNames(caught.exception, path, 60)

    def test_critical_feature_bit_refused_ancillary_ignored(self):  # [HDR-6]
        def feature(bit):
            def edit(b):
                struct.pack_into("<I", b, 16, 1 << bit)
                refresh_header_crc(b)
            return edit
        path = self.copy("compact-basic", feature(3))
        with self.assertRaises(picpac.UnsupportedVersionError) as caught:
            picpac.open(path)
        self.assertNames(caught.exception, path, 16)
        with picpac.open(self.copy("compact-basic", feature(20))) as db:
            self.assertEqual(len(db), 3)

    def test_bad_alignment(self):  # [HDR-5]
        def edit(b):
            struct.pack_into("<I", b, 12, 3)
            refresh_header_crc(b)
        with self.assertRaises(picpac.FormatError) as caught:
            picpac.open(self.copy("compact-basic", edit))
        self.assertEqual(caught.exception.byte_offset, 12)

    def test_nonzero_header_padding(self):  # [HDR-8]
        path = self.copy("aligned-4096", lambda b: b.__setitem__(100, 7))
        with self.assertRaises(picpac.FormatError) as caught:
            picpac.open(path)
        self.assertNames(caught.exception, path, 100)


class RecordErrorTest(TempFiles):
    def test_bad_payload_crc_names_record_and_offset(self):  # [FRM-6] [IDX-7]
        at = frame_offsets(vector("compact-basic"))[1]
        path = self.copy("compact-basic", lambda b: b.__setitem__(at + 500, b[at + 500] ^ 0xFF))
        with picpac.open(path) as db:  # the index is intact: open reads no record frame
            self.assertEqual(db[0].id, 0)
            with self.assertRaises(picpac.ChecksumError) as caught:
                db[1]
            self.assertNames(caught.exception, path, at + 16, 1)
            with self.assertRaises(picpac.ChecksumError):
                list(db)
        with self.assertRaises(picpac.UnfinishedFileError) as caught:  # a scanning reader stops there
            picpac.open(path, use_index=False)
        self.assertNames(caught.exception, path, at)
        with picpac.open(path, use_index=False, recover=True) as db:  # resynchronises past it [RCV-7]
            self.assertEqual((len(db), db.torn_offset, [d.record_index for d in db.dropped]), (2, None, [1]))
            self.assertIn("damaged record frame (frame: frame payload CRC mismatch", str(db.dropped[0]))
            self.assertEqual([r.id for r in db], [0, 2])

    def test_bad_frame_header_crc_and_magic(self):  # [FRM-1] [FRM-3]
        at = frame_offsets(vector("compact-basic"))[2]
        path = self.copy("compact-basic", lambda b: b.__setitem__(at + 5, b[at + 5] ^ 1))
        with picpac.open(path) as db, self.assertRaises(picpac.ChecksumError) as caught:
            db[2]
        self.assertNames(caught.exception, path, at + 12, 2)
        path = self.copy("compact-basic", lambda b: b.__setitem__(at, 0))
        with picpac.open(path) as db, self.assertRaises(picpac.FormatError) as caught:
            db[2]
        self.assertNames(caught.exception, path, at, 2)
        self.assertIn("magic", str(caught.exception))

    def test_file_truncated_after_open(self):
        path = self.copy("compact-basic")
        at = frame_offsets(path)[2]
        with picpac.open(path) as db:
            os.truncate(path, at + 100)
            with self.assertRaises(picpac.TruncatedError) as caught:
                db[2]
            self.assertNames(caught.exception, path, at + 16, 2)

    def test_record_over_the_limit(self):  # [LIM-2]
        at = frame_offsets(vector("compact-basic"))[0]
        with picpac.open(vector("compact-basic"), max_record_bytes=1000) as db:
            with self.assertRaises(picpac.LimitExceededError) as caught:
                db[0]
            self.assertNames(caught.exception, vector("compact-basic"), at + 4, 0)

    def test_bad_annotation_crc(self):
        with picpac.open(vector("annotated")) as db:
            ann_offset = db._index.annotations[1][0]
        path = self.copy("annotated", lambda b: b.__setitem__(ann_offset + 40, b[ann_offset + 40] ^ 1))
        with picpac.open(path) as db:
            self.assertIsNotNone(db[0].annotation)
            with self.assertRaises(picpac.ChecksumError) as caught:
                db.annotation(1)
            self.assertNames(caught.exception, path, ann_offset + 16, 1)

    def test_field_lengths_that_do_not_add_up(self):  # [REC-6]
        at = frame_offsets(vector("compact-basic"))[0]

        def edit(b):
            struct.pack_into("<I", b, at + 16 + 32 + 4, 10)  # field 0 byteLength
            refresh_frame_crcs(b, at)
        path = self.copy("compact-basic", edit)
        # The index keeps the old CRC: strict reads say the frame is not the one indexed.
        with picpac.open(path) as db, self.assertRaises(picpac.FormatError) as caught:
            db[0]
        self.assertEqual(caught.exception.record_index, 0)
        with self.assertRaises(picpac.FormatError) as caught:
            picpac.open(path, use_index=False)
        self.assertEqual((caught.exception.section, caught.exception.record_index), ("record", 0))


class FileErrorTest(TempFiles):
    def test_truncated_file_is_unfinished_and_recoverable(self):  # [FTR-3] [RCV-1]
        size = os.path.getsize(vector("appended"))
        offsets = frame_offsets(vector("appended"))
        with picpac.open(self.copy("appended", length=offsets[2])) as db:  # the first commit ends there
            self.assertEqual((len(db), db.footer.generation, db.recovered), (2, 1, False))
        for length in (size - 1, size - 64, offsets[3] + 20, offsets[2] + 1, offsets[1] + 3, 70, 40, 0):
            with self.subTest(length=length):
                path = self.copy("appended", length=length)
                with self.assertRaises(picpac.UnfinishedFileError) as caught:
                    picpac.open(path, strict=True)
                self.assertTrue(str(caught.exception).startswith(path + ": "))
                if length >= offsets[2]:  # the first commit is complete: the default open reads it [RCV-6]
                    with picpac.open(path) as db:
                        self.assertEqual((len(db), db.footer.generation, db.torn_tail), (2, 1, (offsets[2], length - offsets[2])))
                        self.assertIn("reading the last commit (generation 1, 2 records", db.warnings[0])
                else:
                    with self.assertRaises(picpac.UnfinishedFileError):
                        picpac.open(path)
                with picpac.open(path, recover=True) as db:
                    self.assertTrue(db.recovered)
                    self.assertEqual(len(db), sum(1 for o in offsets if o + 16 <= length and self.complete(o, length)))
                    self.assertLessEqual(db.valid_byte_length, length)

    def complete(self, frame_offset, length):
        with picpac.open(vector("appended")) as db:
            i = [db.entry(k).frame_offset for k in range(len(db))].index(frame_offset)
            return frame_offset + 16 + db.entry(i).payload_byte_length <= length

    def test_footer_with_a_wrong_generation_is_corrupt(self):  # [FTR-3] [FTR-5]
        size = os.path.getsize(vector("compact-basic"))

        def edit(b):
            struct.pack_into("<I", b, size - 64 + 16 + 24, 5)
            refresh_frame_crcs(b, size - 64)
        path = self.copy("compact-basic", edit)
        with self.assertRaises(picpac.FormatError) as caught:
            picpac.open(path, strict=True)
        self.assertNotIsInstance(caught.exception, picpac.UnfinishedFileError)
        self.assertNames(caught.exception, path, size - 64 + 16 + 24)
        with picpac.open(path) as db:  # default: the index is redundant, the frames are scanned [IDX-9]
            self.assertEqual((len(db), db.recovered), (3, True))
            self.assertIn("the index is damaged (footer: footer generation does not match", db.warnings[0])
        with picpac.open(path, recover=True) as db:
            self.assertEqual(len(db), 3)

    def test_bad_index_crc(self):
        with picpac.open(vector("compact-basic")) as db:
            index_offset = db.footer.index_offset
        path = self.copy("compact-basic", lambda b: b.__setitem__(index_offset + 70, b[index_offset + 70] ^ 1))
        with self.assertRaises(picpac.ChecksumError) as caught:
            picpac.open(path, strict=True)
        self.assertNames(caught.exception, path, index_offset + 16)
        with picpac.open(path) as db:
            self.assertEqual((len(db), len(db.warnings)), (3, 1))

    def test_nonzero_padding_before_a_record(self):  # [ALN-4]
        offsets = frame_offsets(vector("aligned-4096"))
        bad = offsets[1] - 5
        path = self.copy("aligned-4096", lambda b: b.__setitem__(bad, 9))
        with self.assertRaises(picpac.UnfinishedFileError) as caught:
            picpac.open(path, use_index=False)
        self.assertNames(caught.exception, path, bad)
        with picpac.open(path, use_index=False, recover=True) as db:  # only padding was hit: nothing lost [RCV-7]
            self.assertEqual((len(db), db.torn_offset, len(db.dropped)), (3, None, 1))
            self.assertTrue(str(db.dropped[0]).startswith("bytes %d..%d: damaged frame whose header does not check" % (bad, offsets[1])), str(db.dropped[0]))
        with picpac.open(path) as db:  # opening through the index does not read padding [ALN-5]
            self.assertEqual(len(db), 3)


class Format21Test(TempFiles):
    """What 2.1 adds (SPEC §21) beyond what the vector manifests check."""

    def test_metadata_class_table(self):  # [EXT-7] [EXT-8] [EXT-9]
        with open(vector("metadata-class-table")[:-len(".picpac")] + ".json", encoding="utf-8") as f:
            expected = json.load(f)["metadata"]
        for options in ({}, {"use_index": False}, {"recover": True}):
            with picpac.open(vector("metadata-class-table"), **options) as db:
                self.assertEqual(db.metadata, expected, options)
                self.assertEqual([c["label"] for c in db.classes], [1, 2, 3])
        with picpac.open(vector("annotated")) as db:
            self.assertEqual((db.metadata, db.metadata_json(), db.classes), (None, None, []))

    def test_extended_header_crc(self):  # [HDR-9]
        with picpac.open(vector("header-extended-crc")) as db:
            self.assertEqual((db.header.header_byte_length, len(db)), (96, 3))
        path = self.copy("header-extended-crc", lambda b: b.__setitem__(80, b[80] ^ 1))
        for options in ({}, {"strict": True}, {"recover": True}):
            with self.assertRaises(picpac.ChecksumError) as caught:
                picpac.open(path, **options)
            self.assertNames(caught.exception, path, 56)

    def test_critical_footer_flag_is_refused_from_the_footer(self):  # [FTR-8] [EXT-6]
        for check_gaps in (True, False):  # without walking the gaps, the footer flag alone refuses it
            with self.assertRaises(picpac.UnsupportedVersionError) as caught:
                picpac.open(vector("extension-critical-flagged"), check_gaps=check_gaps)
            self.assertEqual((caught.exception.section, caught.exception.byte_offset), ("footer", 8257))
        with self.assertRaises(picpac.UnsupportedVersionError):
            picpac.open(vector("extension-critical"), check_gaps=True)  # 2.0: found by walking the gaps
        with picpac.open(vector("extension-critical"), check_gaps=False) as db:
            self.assertEqual(len(db), 3)

    def test_annotation_follows_units(self):  # [REC-11] [RCV-8]
        with picpac.open(vector("unit-torn-annotation"), recover=True) as db:
            self.assertEqual((len(db), db.torn_offset), (3, 8309))
            self.assertTrue(db.torn_reason.startswith("record frame whose annotation frame is incomplete"), db.torn_reason)
        # The annotation frame of record 0 damaged, valid frames after it: record 0 is dropped and reported.
        with picpac.open(vector("unit-annotated")) as db:
            at = db._index.annotations[0][0]
        path = self.copy("unit-annotated", lambda b: b.__setitem__(at + 30, b[at + 30] ^ 1))
        with picpac.open(path, recover=True) as db:
            self.assertEqual([r.id for r in db], [1, 2, 3])
            self.assertEqual(db[0].annotation_json()["shapes"][0]["type"], "polygon")
            what = [str(d) for d in db.dropped]
            self.assertEqual(len(what), 2, what)
            self.assertIn("damaged annotation frame", what[0])
            self.assertTrue(what[1].startswith("record 0, bytes "), what)
            self.assertIn("whose annotation frame is missing or damaged", what[1])

    def test_live_writer_lock_is_named_in_the_warning(self):  # [CON-4] [RCV-6]
        with open(vector("appended"), "rb") as f:
            data = f.read()
        path = os.path.join(self.dir, "live.picpac")
        with open(path, "wb") as f:
            f.write(data[:-10])
        with picpac.open(path) as db:
            self.assertIn("no writer holds %s.lock" % path, picpac._open_warning_lines(db, path)[0])
            with open(path + ".lock", "w") as f:
                json.dump({"pid": os.getpid(), "hostname": socket.gethostname(), "createdAt": ""}, f)
            self.assertIn("is locked by pid %d (a writer is appending" % os.getpid(), picpac._open_warning_lines(db, path)[0])


class PicPac1Test(TempFiles):
    """SPEC §18: the 1.0 golden vectors (test/vectors/v1/*.db.json list every record's raw slots)."""

    def test_every_v1_vector(self):
        paths = sorted(glob.glob(os.path.join(REPO, "test", "vectors", "v1", "*.db")))
        self.assertGreaterEqual(len(paths), 5)
        for path in paths:
            with self.subTest(vector=os.path.basename(path)), open(path + ".json", encoding="utf-8") as f:
                m = json.load(f)
                crashed = "recoverable_records" in m
                if crashed:
                    with self.assertRaises(picpac.UnfinishedFileError) as caught:
                        picpac.open(path)
                    self.assertTrue(str(caught.exception).startswith(path + ": "))
                with picpac.open(path, recover=crashed) as db:
                    self.assertIsInstance(db, picpac.V1File)
                    self.assertEqual(db.recovered, crashed)
                    expected = m["records"][:m["recoverable_records"]] if crashed else m["records"]
                    self.assertEqual(len(db), len(expected))
                    for i, r in enumerate(expected):
                        rid, label, label2, slots = db.raw_slots(i)
                        self.assertEqual((rid, label, label2), (r["id"], r["label"], r["label2"]))
                        self.assertEqual([{"size": len(s), "sha256": sha256(s)} for s in slots], r["fields"])
                    records = list(db)
                    self.assertEqual([r.id for r in records], [r["id"] for r in expected])

    def test_v1_mapping_annotation_and_image(self):  # [V1-5]
        with picpac.open(os.path.join(REPO, "test", "vectors", "v1", "v1-anno.db")) as db:
            r = db[0]
            self.assertEqual([f.type for f in r.fields], ["image/jpeg"])
            self.assertEqual(r.annotation_json() is not None, True)
            self.assertEqual(db.get_by_id(r.id).index, 0)

    def test_v1_truncated_inside_a_record(self):
        source = os.path.join(REPO, "test", "vectors", "v1", "v1-compact.db")
        size = os.path.getsize(source)
        path = os.path.join(self.dir, "cut.db")
        with open(source, "rb") as f, open(path, "wb") as out:
            out.write(f.read()[:size - 100])
        with self.assertRaises(picpac.FormatError) as caught:
            picpac.open(path)
        self.assertNames(caught.exception, path, 8, 0)
        with picpac.open(path, recover=True) as db:
            self.assertEqual((len(db), db.recovered), (39, True))


class HostileBytesTest(TempFiles):
    """[SEC-1]: mutated files (bytes changed inside a frame, its CRCs then recomputed so the
    structure decoders see the damage, or plain bit flips and cuts) give a PicpacError naming the
    file and a byte offset, never another exception."""

    def test_mutations_raise_only_picpac_errors(self):
        rng = __import__("random").Random(13)
        names = [n for n, m in manifests() if m["expect"] == "ok"]
        frames = {}
        for name in names:
            with open(vector(name), "rb") as f:
                data = f.read()
            header = picpac.decode_file_header(data[:64])
            source = picpac._FileSource(vector(name))
            frames[name] = [(fr.frame_offset, fr.header.payload_byte_length) for fr in picpac.scan_frames(source, header)]
            source.close()
        for iteration in range(150):
            name = rng.choice(names)

            def mutate(buf):
                offset, length = rng.choice(frames[name])
                if iteration % 3 == 2:  # raw damage: a flipped bit or a cut
                    at = rng.randrange(len(buf))
                    buf[at] ^= 1 << rng.randrange(8)
                    return
                for _ in range(rng.randrange(1, 4)):
                    if length:
                        at = offset + 16 + rng.randrange(min(length, 96))
                        buf[at] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
                refresh_frame_crcs(buf, offset)
            path = self.copy(name, mutate)
            for options in ({}, {"recover": True}, {"use_index": False, "recover": True}):
                try:
                    with picpac.open(path, **options) as db:
                        for i in range(len(db)):
                            try:
                                for field in db[i].fields:
                                    if field.kind == 3:
                                        field.tensor()
                            except picpac.PicpacError as err:
                                self.assertEqual((err.file, err.record_index is None or err.record_index == i), (path, True))
                except picpac.PicpacError as err:
                    self.assertEqual(err.file, path)
                    self.assertIsInstance(err.byte_offset, int)


class CommandLineTest(unittest.TestCase):
    def test_dump_lines_format_numbers_like_javascript(self):
        cases = {0.0: "0", -0.0: "0", 1.5: "1.5", 1e300: "1e+300", 1e21: "1e+21", 1e20: "100000000000000000000",
                 1e-7: "1e-7", 1e-6: "0.000001", 0.1: "0.1", -2.5e-10: "-2.5e-10", 123456.789: "123456.789",
                 float("nan"): "null", 2 ** 53 - 1.0: "9007199254740991", 1.7976931348623157e308: "1.7976931348623157e+308"}
        for value, text in cases.items():
            self.assertEqual(picpac._js_number(value), text, value)


class DocsExampleTest(unittest.TestCase):
    def test_python_blocks_of_docs_python_md_run(self):
        with open(os.path.join(REPO, "docs", "python.md"), encoding="utf-8") as f:
            blocks = re.findall(r"^```python\n(.*?)^```", f.read(), flags=re.S | re.M)
        self.assertGreaterEqual(len(blocks), 1)
        cwd = os.getcwd()
        os.chdir(REPO)
        try:
            for block in blocks:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(block, "docs/python.md", "exec"), {"__name__": "docs_example"})
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    unittest.main()
