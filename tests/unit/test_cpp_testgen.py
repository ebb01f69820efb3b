"""The C++ test build's pure parts (sandbox_images/cpp/testgen.py): a function's
type as c++filt -t spells it, and the generic stubs the build server keeps."""

from __future__ import annotations

import pytest

from tests.conftest import image_script

testgen = image_script("cpp", "testgen")


STRING = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"


@pytest.mark.parametrize(
    ("spelled", "params", "returns", "noexcept"),
    [
        ("bool (std::vector<float, std::allocator<float> >, float)",
         "(std::vector<float, std::allocator<float> >, float)", "bool", False),
        (f"std::vector<{STRING}, std::allocator<{STRING} > > ({STRING})", f"({STRING})", "std::vector<std::string>",
         False),
        ("void (int) noexcept", "(int)", "void", True),
        ("long long ()", "()", "long long", False),
        ("std::pair<int, int> (std::vector<int, std::allocator<int> > const&)",
         "(std::vector<int, std::allocator<int> > const&)", "std::pair<int, int>", False),
        ("std::map<int, std::function<int (int)>, std::less<int> > (int)", "(int)", None, False),  # not on the wire
        ("int& (int)", "(int)", None, False),  # a reference
        ("long (*(int))(long)", "(int)", None, False),  # a function pointer (red team: read as `long`)
        ("long (*(long))(long)", "(long)", None, False),  # ... whose own parameters are the function's
        ("int (&(int))(long)", "(int)", None, False),
        ("long (*(int))(long) noexcept", "(int)", None, False),
        ("int (A::*(int))(long)", "(int)", None, False),
        ("int (int) const", "(int)", None, False),
        ("int (long)", "(int)", None, False),  # not the symbol's parameters
        ("int", "(int)", None, False),  # not a function type
    ],
)  # fmt: skip
def test_the_return_type_comes_from_the_function_type(
    spelled: str, params: str, returns: str | None, noexcept: bool
) -> None:
    headers: set[str] = set()
    if returns is None:
        with pytest.raises(testgen.Unsupported):
            testgen.function_type(spelled, params, headers)
        return
    assert testgen.function_type(spelled, params, headers) == (returns, noexcept)


def test_a_stub_depends_on_its_type_alone() -> None:
    """The build server's key: two functions of one type share one compiled stub (each
    linked as a renamed copy), and a stub's text names neither function nor test."""
    _, params_f = testgen.function("f(std::vector<int, std::allocator<int> >, int)", set())
    _, params_g = testgen.function("g(std::vector<int, std::allocator<int> >, int)", set())
    a = testgen.stub_source("int", params_f, False)
    assert a == testgen.stub_source("int", params_g, False)
    assert "rlce_stub(" in a and "(rlce_stub_sig" in a and "f(" not in a
    assert testgen.stub_source("long", params_f, False) != a
    assert testgen.stub_source("int", params_f, True) != a


@pytest.mark.parametrize(
    ("text", "placed"),
    [
        ("f(std::vector<std::string>,const char*)", '.asciz "f(std::vector<std::string>,const char*)"'),
        ("caf\u00e9(int)", '.asciz "caf\\303\\251(int)"'),  # UTF-8, byte for byte
        ('f(int)"\n.globl x', '.asciz "f(int)\\042\\012.globl x"'),  # never the end of the string
        ("a\\b", '.asciz "a\\134b"'),
    ],
)
def test_strings_are_placed_byte_for_byte(text: str, placed: str) -> None:
    assert testgen.asciz(text) == placed


def test_a_const_reference_to_a_const_char_pointer_is_spelled_so_it_compiles() -> None:
    """Review: ``const char* const&`` was spelled ``const const char*&``, which no compiler takes."""
    assert testgen.function("f(char const* const&, int)", set())[1] == [
        ("const char* const&", "const char*"),
        ("int", "int"),
    ]
    assert testgen.function("f(std::vector<int, std::allocator<int> > const&)", set())[1] == [
        ("const std::vector<int>&", "std::vector<int>")
    ]
