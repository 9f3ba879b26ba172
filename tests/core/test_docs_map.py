"""The repository documents itself: docstrings and docs point only at files it contains, and
the architecture page's package layout lists modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "src" / "codeeval_rl"
ARCH = ROOT / "docs" / "architecture.md"


def _texts() -> dict[Path, str]:
    files = [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py"),
             *ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md"]
    return {p: p.read_text(encoding="utf-8") for p in files}


def test_no_file_cites_a_design_document_outside_the_repository():
    name = "DESIGN" + ".md"
    assert not [p for p, text in _texts().items() if name in text]


def test_every_cited_docs_page_exists():
    for path, text in _texts().items():
        for page in re.findall(r"docs/([\w-]+\.md)", text):
            assert (ROOT / "docs" / page).is_file(), f"{path.relative_to(ROOT)} cites docs/{page}"
    for page in [ROOT / "README.md", *ROOT.joinpath("docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_the_package_layout_lists_real_modules():
    block = ARCH.read_text(encoding="utf-8").split("```\nsrc/codeeval_rl/\n", 1)[1].split("```", 1)[0]
    folder, listed = PKG, 0
    for line in block.splitlines():
        m = re.match(r"( +)([\w./]+(?:, [\w./]+)*)", line)
        if not m or len(m.group(1)) > 4:  # a description's continuation line
            continue
        names = m.group(2).split(", ")
        if len(m.group(1)) == 2:  # a top-level entry: a package folder or a module
            folder = PKG
            if names[0].endswith("/"):
                folder = PKG / names[0].rstrip("/")
                assert folder.is_dir(), names[0]
                continue
        for name in names:
            listed += 1
            if name.endswith("/"):  # a subpackage inside a package folder
                assert (folder / name).is_dir(), f"{folder.relative_to(PKG)}/{name}"
            else:
                assert (folder / name).is_file(), f"{folder.relative_to(PKG)}/{name}"
    assert listed >= 40
