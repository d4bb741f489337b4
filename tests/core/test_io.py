"""Atomic writes, JSON files and output-folder checks."""

from __future__ import annotations

import os
import tempfile

import pytest

from genlab.core.errors import GenlabError
from genlab.core.io import atomic_write, ensure_dir, read_json, write_bytes_atomic, write_json_atomic


@pytest.mark.parametrize("fsync", [True, False])
def test_atomic_write_replaces_the_target_on_success(tmp_path, fsync):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with atomic_write(target, fsync=fsync) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.bin.") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"new contents")
        assert target.read_bytes() == b"old"  # not replaced before the block ends
    assert target.read_bytes() == b"new contents"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("exc", [ValueError("boom"), KeyboardInterrupt()])
def test_atomic_write_keeps_the_old_file_when_the_block_fails(tmp_path, exc):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(type(exc)):
        with atomic_write(target) as tmp:
            tmp.write_bytes(b"half-writ")
            raise exc
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_atomic_write_of_a_new_file_that_fails_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_write(tmp_path / "sub" / "new.txt") as tmp:
            tmp.write_text("x")
            raise RuntimeError
    assert os.listdir(tmp_path / "sub") == []


def test_atomic_write_creates_the_parent_folder(tmp_path):
    path = write_bytes_atomic(tmp_path / "a" / "b" / "c.bin", b"\x00\x01")
    assert path == tmp_path / "a" / "b" / "c.bin" and path.read_bytes() == b"\x00\x01"


def test_atomic_write_into_an_unwritable_place(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(GenlabError, match=f"^cannot write {tmp_path / 'file' / 'out.json'}: "):
        write_json_atomic(tmp_path / "file" / "out.json", {"a": 1})


def test_json_round_trip(tmp_path):
    obj = {"b": [1, 2.5, None, True], "a": {"nested": "é ü"}, "n": -3}
    path = write_json_atomic(tmp_path / "x.json", obj)
    assert path == tmp_path / "x.json"
    assert read_json(path) == obj
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.index('"a"') < text.index('"b"') < text.index('"n"')  # sorted keys
    write_json_atomic(path, {"replaced": 1})
    assert read_json(path) == {"replaced": 1}
    assert os.listdir(tmp_path) == ["x.json"]


def test_read_json_errors(tmp_path):
    with pytest.raises(GenlabError) as e:
        read_json(tmp_path / "missing.json", what="run config")
    assert str(e.value) == f"run config {tmp_path / 'missing.json'} does not exist"

    (tmp_path / "bad.json").write_text('{"a": 1,')
    with pytest.raises(GenlabError, match=r"^file .*bad\.json is unreadable or corrupt \(JSONDecodeError: "):
        read_json(tmp_path / "bad.json")

    (tmp_path / "bin.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(GenlabError, match=r"bin\.json is unreadable or corrupt \(UnicodeDecodeError: "):
        read_json(tmp_path / "bin.json")

    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(GenlabError) as e:
        read_json(tmp_path / "list.json", what="metrics")
    assert str(e.value) == f"metrics {tmp_path / 'list.json'} is corrupt (expected a JSON object)"

    (tmp_path / "folder.json").mkdir()
    with pytest.raises(GenlabError, match=r"folder\.json is unreadable or corrupt \(IsADirectoryError"):
        read_json(tmp_path / "folder.json")


def test_ensure_dir_creates_and_leaves_no_probe(tmp_path):
    path = ensure_dir(tmp_path / "a" / "b")
    assert path == tmp_path / "a" / "b" and path.is_dir()
    assert os.listdir(path) == []
    assert ensure_dir(str(path)) == path  # existing folder is fine


def test_ensure_dir_under_a_regular_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(GenlabError) as e:
        ensure_dir(tmp_path / "file" / "out")
    msg = str(e.value)
    assert msg.startswith(f"cannot write to output folder {tmp_path / 'file' / 'out'}: ")
    assert msg.endswith("; choose another --out") and "\n" not in msg


def test_ensure_dir_on_a_read_only_folder(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(GenlabError) as e:
        ensure_dir(tmp_path / "ro")
    assert str(e.value) == f"cannot write to output folder {tmp_path / 'ro'}: Permission denied; choose another --out"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_honours_the_umask_like_any_other_file(tmp_path, umask, mode):
    """B1: mkstemp makes 0600 files and os.replace keeps that mode; saved files must get 0o666 & ~umask."""
    old = os.umask(umask)
    try:
        write_bytes_atomic(tmp_path / "a.bin", b"x")
        write_json_atomic(tmp_path / "b.json", {"a": 1})
        with open(tmp_path / "plain.txt", "w") as f:  # what open() gives, for comparison
            f.write("x")
    finally:
        os.umask(old)
    for name in ("a.bin", "b.json", "plain.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
