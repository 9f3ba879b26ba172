"""Source identity, licence detection and the provenance record (codeeval_rl.datagen.provenance)."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from codeeval_rl.datagen.provenance import (
    SourceIdentity,
    detect_licence,
    generator_label,
    licence_from_name,
    licence_from_text,
    provenance_record,
    source_identity,
    tree_sha256,
)
from codeeval_rl.errors import InputError

HAS_GIT = shutil.which("git") is not None


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "core.py").write_text("def f(x):\n    return x + 1\n")
    (root / "README.md").write_text("hello\n")
    return root


def _git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(root), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


# ------------------------------------------------------------------------------ source identity


def test_plain_directory_is_identified_by_a_tree_hash(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    ident = source_identity(root)
    assert ident.kind == "sha256" and len(ident.value) == 64 and not ident.dirty
    assert source_identity(root) == ident  # re-run: same value
    kind, value = ident  # unpacks as (kind, value)
    assert (kind, value) == ("sha256", ident.value)


def test_tree_hash_follows_contents_and_paths_only(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    before = tree_sha256(root)
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\0junk")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.js").write_text("1")
    assert tree_sha256(root) == before  # ignored directories do not count
    core = root / "pkg" / "core.py"
    core.write_text("def f(x):\n    return x + 2\n")
    changed = tree_sha256(root)
    assert changed != before
    core.write_text("def f(x):\n    return x + 1\n")
    assert tree_sha256(root) == before  # back to the same contents
    core.rename(root / "pkg" / "core2.py")
    assert tree_sha256(root) != before  # a renamed file changes the hash
    (root / "pkg" / "core2.py").rename(core)
    (root / "empty.txt").write_text("")
    assert tree_sha256(root) != before  # an added empty file too


def test_tree_hash_is_independent_of_where_the_tree_is(tmp_path: Path) -> None:
    a = _tree(tmp_path / "a")
    b = _tree(tmp_path / "elsewhere" / "b")
    assert tree_sha256(a) == tree_sha256(b)


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_git_work_tree_is_identified_by_its_commit_and_dirty_flag(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    head = _git(root, "rev-parse", "HEAD")
    ident = source_identity(root)
    assert ident == SourceIdentity("commit", head, False)
    assert source_identity(root / "pkg") == ident  # a folder inside the work tree
    (root / "pkg" / "core.py").write_text("changed\n")
    assert source_identity(root) == SourceIdentity("commit", head, True)
    _git(root, "checkout", "-q", "--", ".")
    (root / "new.py").write_text("x = 1\n")  # untracked files make it dirty too
    assert source_identity(root).dirty
    (root / "new.py").unlink()
    assert source_identity(root) == ident


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_ignored_or_uncommitted_folders_in_a_repository_are_hashed(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo")
    _git(root, "init", "-q")
    assert source_identity(root).kind == "sha256"  # no commit yet
    (root / ".gitignore").write_text("vendor/\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    vendor = _tree(root / "vendor")
    ident = source_identity(vendor)
    assert ident.kind == "sha256" and ident.value == tree_sha256(vendor)


def test_source_identity_rejects_a_missing_or_file_root(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such directory"):
        source_identity(tmp_path / "missing")
    (tmp_path / "f.py").write_text("")
    with pytest.raises(InputError, match="not a directory"):
        source_identity(tmp_path / "f.py")


# ------------------------------------------------------------------------------------- licences

MIT = """MIT License

Copyright (c) 2024 Acme

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
"""
APACHE = """
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION
   1. Definitions. "License" shall mean the terms and conditions for use, reproduction,
   and distribution as defined by Sections 1 through 9 of this document.
"""
_BSD_HEAD = """Copyright (c) 2024, Acme
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
"""
BSD2 = _BSD_HEAD + "\nTHIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\"\n"
BSD3 = _BSD_HEAD + """
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
"""
GPL3_TEXT = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
                            Preamble
  The GNU General Public License is a free, copyleft license for software.
  14. Revised Versions of this License.
  If the Program specifies that a certain numbered version of the GNU General
Public License "or any later version" applies to it, you have the option...
                     END OF TERMS AND CONDITIONS
            How to Apply These Terms to Your New Programs
    This program is free software: you can redistribute it and/or modify
    it under the terms of the GNU General Public License as published by
    the Free Software Foundation, either version 3 of the License, or
    (at your option) any later version.
"""
GPL2_NOTICE = """# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 2 of the License, or
# (at your option) any later version.
"""
GPL2_TEXT = """GNU GENERAL PUBLIC LICENSE
Version 2, June 1991
(Some other Free Software Foundation software is covered by the GNU Lesser General
Public License instead.)
"""
LGPL3 = """GNU LESSER GENERAL PUBLIC LICENSE
Version 3, 29 June 2007
This version of the GNU Lesser General Public License incorporates the terms and
conditions of version 3 of the GNU General Public License.
"""
MPL2 = """Mozilla Public License Version 2.0
1.12. "Secondary License" means either the GNU General Public License, Version 2.0,
the GNU Lesser General Public License, Version 2.1, the GNU Affero General Public
License, Version 3.0, or any later versions of those licenses.
"""
ISC = """ISC License
Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.
"""
UNLICENSE = "This is free and unencumbered software released into the public domain.\n"


@pytest.mark.parametrize(("text", "spdx"), [
    (MIT, "MIT"),
    (MIT.replace("\n", "\n# "), "MIT"),  # as a comment block
    (APACHE, "Apache-2.0"),
    (BSD2, "BSD-2-Clause"),
    (BSD3, "BSD-3-Clause"),
    (GPL3_TEXT, "GPL-3.0-only"),  # the appendix's "any later version" does not count
    (GPL2_NOTICE, "GPL-2.0-or-later"),
    (GPL2_TEXT, "GPL-2.0-only"),
    (GPL2_NOTICE + GPL2_TEXT, "GPL-2.0-or-later"),
    (LGPL3, "LGPL-3.0-only"),
    (MPL2, "MPL-2.0"),
    (ISC, "ISC"),
    (UNLICENSE, "Unlicense"),
    (MIT + "\n\nBundled code:\n" + APACHE, "MIT"),  # the project's own licence comes first
    ("All rights reserved. Do not copy.", None),
])
def test_licence_texts(text: str, spdx: str | None) -> None:
    assert licence_from_text(text) == spdx


@pytest.mark.parametrize(("name", "spdx"), [
    ("MIT", "MIT"), ("mit", "MIT"), ("Apache 2.0", "Apache-2.0"), ("Apache Software License", "Apache-2.0"),
    ("GPL-3.0+", "GPL-3.0-or-later"), ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
    ("(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause"),
    ("Proprietary", "LicenseRef-Proprietary"), ("UNKNOWN", None), ("", None), (MIT, "MIT"),
])
def test_licence_names(name: str, spdx: str | None) -> None:
    assert licence_from_name(name) == spdx


@pytest.mark.parametrize(("filename", "text", "spdx"), [
    ("LICENSE", MIT, "MIT"),
    ("LICENCE.txt", APACHE, "Apache-2.0"),
    ("COPYING", GPL3_TEXT, "GPL-3.0-only"),
    ("LICENSE.md", BSD3, "BSD-3-Clause"),
    ("UNLICENSE", UNLICENSE, "Unlicense"),
])
def test_licence_file_in_the_root(tmp_path: Path, filename: str, text: str, spdx: str) -> None:
    root = tmp_path / "a" / "b" / "proj"
    _tree(root)
    (root / filename).write_text(text)
    assert detect_licence(root) == spdx


@pytest.mark.parametrize(("filename", "text", "spdx"), [
    ("pyproject.toml", '[project]\nname = "x"\nlicense = "MIT"\n', "MIT"),
    ("pyproject.toml", '[project]\nname = "x"\nlicense = {text = "Apache 2.0"}\n', "Apache-2.0"),
    ("pyproject.toml", '[project]\nname = "x"\nlicense = {file = "LEGAL.txt"}\n', "BSD-2-Clause"),
    ("pyproject.toml", '[project]\nname = "x"\nlicense-expression = "GPL-3.0-or-later"\n', "GPL-3.0-or-later"),
    ("pyproject.toml", '[project]\nname = "x"\nclassifiers = ["License :: OSI Approved :: ISC License (ISCL)"]\n',
     "ISC"),
    ("setup.cfg", "[metadata]\nname = x\nlicense = BSD-3-Clause\n", "BSD-3-Clause"),
    ("setup.cfg", "[metadata]\nname = x\nclassifiers =\n    License :: OSI Approved :: MIT License\n", "MIT"),
    ("setup.py", "from setuptools import setup\nsetup(name='x', license='MPL-2.0')\n", "MPL-2.0"),
    ("setup.py", ("import setuptools\nsetuptools.setup(name='x', classifiers=[\n"
                 "    'License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)'])\n"),
     "GPL-2.0-or-later"),
    ("PKG-INFO", "Metadata-Version: 2.4\nName: x\nLicense-Expression: Apache-2.0 OR MIT\n", "Apache-2.0 OR MIT"),
    ("PKG-INFO", ("Metadata-Version: 2.1\nName: x\nLicense: UNKNOWN\n"
                 "Classifier: License :: OSI Approved :: MIT License\n"), "MIT"),
    ("package.json", '{"name": "x", "license": "ISC"}', "ISC"),
    ("package.json", '{"name": "x", "licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}', "Apache-2.0 AND MIT"),
])
def test_licence_from_package_metadata(tmp_path: Path, filename: str, text: str, spdx: str) -> None:
    root = tmp_path / "a" / "b" / "proj"
    _tree(root)
    (root / filename).write_text(text)
    (root / "LEGAL.txt").write_text(BSD2)  # only read when pyproject points at it
    assert detect_licence(root) == spdx


def test_setup_py_is_read_not_run(tmp_path: Path) -> None:
    root = _tree(tmp_path / "a" / "b" / "proj")
    marker = tmp_path / "ran"
    (root / "setup.py").write_text(f"open({str(marker)!r}, 'w').close()\nfrom setuptools import setup\n"
                                   "setup(license='MIT')\n")
    assert detect_licence(root) == "MIT"
    assert not marker.exists()


def test_licence_file_wins_over_metadata_and_is_found_up_to_two_levels_up(tmp_path: Path) -> None:
    proj = _tree(tmp_path / "x" / "proj")
    (proj / "pyproject.toml").write_text('[project]\nname = "p"\nlicense = "MIT"\n')
    (proj / "LICENSE").write_text(APACHE)
    assert detect_licence(proj) == "Apache-2.0"
    (proj / "LICENSE").unlink()
    (proj / "pyproject.toml").unlink()
    (proj / "COPYING").write_text(BSD3)
    assert detect_licence(proj / "pkg") == "BSD-3-Clause"  # one level up
    deep = proj / "pkg" / "sub"
    deep.mkdir()
    assert detect_licence(deep) == "BSD-3-Clause"  # two levels up
    deeper = deep / "more"
    deeper.mkdir()
    assert detect_licence(deeper) == "unknown"  # three levels up is too far


def test_installed_package_uses_the_dist_info_beside_it(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "site-packages"
    pkg = site / "fancy_lib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    other = site / "other-1.0.dist-info"
    other.mkdir()
    (other / "METADATA").write_text("Name: other\nLicense-Expression: GPL-3.0-only\n")
    info = site / "Fancy_Lib-2.1.dist-info"
    (info / "licenses").mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Fancy-Lib\n")
    (info / "licenses" / "LICENSE.txt").write_text(BSD3)
    assert detect_licence(pkg) == "BSD-3-Clause"
    (info / "METADATA").write_text("Metadata-Version: 2.4\nName: Fancy-Lib\nLicense-Expression: MIT\n")
    assert detect_licence(pkg) == "MIT"  # the declared expression comes first
    # an import name that differs from the distribution's: found through top_level.txt
    yaml_pkg = site / "yamlish"
    yaml_pkg.mkdir()
    dist = site / "PyYamlish-6.0.dist-info"
    dist.mkdir()
    (dist / "top_level.txt").write_text("_yamlish\nyamlish\n")
    (dist / "METADATA").write_text("Name: PyYamlish\nClassifier: License :: OSI Approved :: MIT License\n")
    assert detect_licence(yaml_pkg) == "MIT"


def test_unknown_when_nothing_says(tmp_path: Path) -> None:
    root = _tree(tmp_path / "a" / "b" / "proj")
    (root / "LICENSE").write_text("Internal use only.\n")
    assert detect_licence(root) == "unknown"
    with pytest.raises(InputError):
        detect_licence(tmp_path / "missing")


@pytest.mark.skipif(importlib.util.find_spec("inflection") is None, reason="inflection is not installed")
def test_the_installed_inflection_package_is_mit() -> None:
    spec = importlib.util.find_spec("inflection")
    assert spec is not None and spec.origin is not None
    origin = Path(spec.origin)
    root = origin.parent if origin.name == "__init__.py" else origin.parent / "inflection"
    if not root.is_dir():  # a single-module install: its directory is site-packages itself
        root = origin.parent
    assert detect_licence(root) == "MIT"


# ---------------------------------------------------------------------------- provenance record

COMMIT = SourceIdentity("commit", "a" * 40)
TREE = SourceIdentity("sha256", hashlib.sha256(b"tree").hexdigest())


def _record(**over: object) -> dict[str, str]:
    args: dict[str, object] = {"source": "acme/billing", "identity": COMMIT, "path": "billing/charge.py",
                                   "lines": (12, 30), "licence": "MIT", "tests_kept": 7, "tests_dropped": 2,
                                   "mutation_score": 0.8756}
    args.update(over)
    return provenance_record(**args)  # type: ignore[arg-type]


def test_provenance_record_has_exactly_the_keys_as_strings() -> None:
    rec = _record()
    assert rec == {
        "source": "acme/billing", "commit": "a" * 40, "path": "billing/charge.py", "lines": "12-30",
        "licence": "MIT", "generator": "oracle", "tests_kept": "7", "tests_dropped": "2",
        "mutation_score": "0.876",
    }
    tree = _record(identity=TREE, source=Path("/src/acme"), mutation_score=1)
    assert list(tree) == ["source", "sha256", "path", "lines", "licence", "generator", "tests_kept",
                          "tests_dropped", "mutation_score"]
    assert tree["sha256"] == TREE.value and tree["source"] == "/src/acme" and tree["mutation_score"] == "1.000"
    assert all(isinstance(v, str) for v in tree.values())


def test_a_dirty_tree_never_claims_a_clean_commit() -> None:
    assert _record(identity=SourceIdentity("commit", "b" * 40, dirty=True))["commit"] == "b" * 40 + "-dirty"


def test_generator_names_model_and_prompt_hash() -> None:
    prompt = "Write tests for this function."
    label = generator_label("acme-coder-7b", prompt)
    assert label == "acme-coder-7b prompt:" + hashlib.sha256(prompt.encode()).hexdigest()[:12]
    assert generator_label("acme-coder-7b", prompt + " ") != label
    assert _record(model_id="acme-coder-7b", prompt=prompt)["generator"] == label
    assert generator_label() == "oracle"


@pytest.mark.parametrize(("over", "why"), [
    ({"source": ""}, "source"),
    ({"identity": ("commit", "a" * 40)}, "identity"),
    ({"identity": SourceIdentity("commit", "not-hex")}, "hex"),
    ({"identity": SourceIdentity("sha256", "a" * 40)}, "64"),
    ({"path": "/abs/charge.py"}, "relative"),
    ({"path": "../charge.py"}, "plain relative"),
    ({"path": "a\\b.py"}, "separators"),
    ({"lines": (30, 12)}, "lines"),
    ({"lines": (0, 3)}, "lines"),
    ({"lines": [1, 2]}, "lines"),
    ({"licence": " "}, "licence"),
    ({"tests_kept": -1}, "tests_kept"),
    ({"tests_dropped": 1.0}, "tests_dropped"),
    ({"tests_kept": True}, "tests_kept"),
    ({"mutation_score": 1.2}, "mutation_score"),
    ({"mutation_score": float("nan")}, "mutation_score"),
    ({"mutation_score": "0.5"}, "mutation_score"),
    ({"model_id": "has space", "prompt": "p"}, "model id"),
    ({"model_id": "m"}, "prompt"),
    ({"prompt": "p"}, "without the model"),
])
def test_provenance_record_validates(over: dict[str, object], why: str) -> None:
    with pytest.raises(InputError, match=why):
        _record(**over)
