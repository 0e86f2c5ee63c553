"""Secrets at rest: a derived key, old values still readable, the key file created atomically."""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from opencams.secretbox import SecretBox, load_or_create_key, secure_directory


def test_sealed_values_are_versioned_and_open_again() -> None:
    box = SecretBox("deployment key")
    sealed = box.seal("my-secret")
    assert sealed.startswith("v2:") and SecretBox.is_current(sealed)
    assert box.open(sealed) == "my-secret"


def test_the_key_is_derived_with_a_kdf_not_a_bare_hash() -> None:
    sealed = SecretBox("deployment key").seal("x")
    bare = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"deployment key").digest()))
    with pytest.raises(Exception):  # noqa: B017 - any failure to decrypt will do
        bare.decrypt(sealed[3:].encode())


def test_values_sealed_the_old_way_still_open() -> None:
    legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"deployment key").digest())).encrypt(b"old").decode()
    box = SecretBox("deployment key")
    assert not SecretBox.is_current(legacy)
    assert box.open(legacy) == "old"


def test_a_wrong_key_says_so_without_the_value() -> None:
    with pytest.raises(ValueError) as info:
        SecretBox("other").open(SecretBox("deployment key").seal("my-secret"))
    assert "OPENCAMS_SECRET_KEY" in str(info.value) and "my-secret" not in str(info.value)


def _load(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(load_or_create_key(Path(path)))


def test_processes_starting_together_agree_on_one_complete_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for attempt in range(10):
        data = tmp_path / f"data{attempt}"
        queue: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
        workers = [ctx.Process(target=_load, args=(str(data), queue)) for _ in range(8)]
        for w in workers:
            w.start()
        keys = [queue.get(timeout=30) for _ in workers]
        for w in workers:
            w.join()
        assert len(set(keys)) == 1 and len(keys[0]) >= 40, keys
        assert stat.S_IMODE((data / "secret.key").stat().st_mode) == 0o600
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert [p.name for p in data.iterdir()] == ["secret.key"]  # no temporary file left behind


def test_an_empty_key_file_is_an_error_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("")
    with pytest.raises(ValueError) as info:
        load_or_create_key(tmp_path)
    assert "empty" in str(info.value)


def test_a_wide_data_directory_is_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    secure_directory(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
