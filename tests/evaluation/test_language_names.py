"""Language names come from one table (the rows of ``sandbox.languages``): every name another
module accepts resolves there, to the same language."""

from __future__ import annotations

import pytest

from codeeval_rl.errors import InputError
from codeeval_rl.evaluation.extract import LANGUAGE_TAGS, extract_code
from codeeval_rl.evaluation.quality import _extension
from codeeval_rl.sandbox.languages import ALIASES, LANGUAGES, get_language


def test_every_fence_tag_names_its_language_in_the_table():
    assert set(LANGUAGE_TAGS) == set(LANGUAGES)
    for name, tags in LANGUAGE_TAGS.items():
        for tag in tags:
            assert get_language(tag).name == name, tag
            assert get_language(f" {tag.upper()} ").name == name, tag  # case and spaces do not matter


def test_aliases_are_unique_and_never_another_languages_name():
    rows = [alias for lang in LANGUAGES.values() for alias in lang.aliases]
    assert len(rows) == len(set(rows)) == len(ALIASES)  # a duplicate would silently pick one row
    assert not set(ALIASES) & set(LANGUAGES)
    assert all(alias == alias.lower().strip() for alias in ALIASES)


def test_a_file_suffix_is_a_name_of_its_language():
    """``codeeval-rl run x.cc`` and a ```cc fence mean the same language."""
    for lang in LANGUAGES.values():
        assert lang.extensions, lang.name
        for ext in lang.extensions:
            assert get_language(ext.lstrip(".")).name == lang.name, ext
        assert _extension(lang.name) == lang.extensions[0]
    assert _extension("c++") == ".cpp" and _extension("cobol") == ".txt"


@pytest.mark.parametrize(("language", "tag"), [("python3", "py3"), ("node", "mjs"), ("c++", "hpp"),
                                                ("rs", "rust"), ("c", "h")])
def test_a_block_tagged_with_any_name_is_found_under_any_other(language, tag):
    text = f"```text\nnot code\n```\n```{tag}\nthe code\n```\n```\nuntagged\n```\n"
    assert extract_code(text, language) == "the code\n"


def test_an_unknown_name_is_an_input_error_listing_the_languages():
    with pytest.raises(InputError, match="unknown language 'cobol'; supported: c, cpp, java"):
        get_language("cobol")
