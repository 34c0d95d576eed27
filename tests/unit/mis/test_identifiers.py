"""UK identifier checks: UPN, ULN, NHS number, postcode and LA number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.mis.identifiers import (
    UPN_LETTERS,
    is_uk_postcode,
    is_valid_la_code,
    is_valid_nhs_number,
    is_valid_uln,
    is_valid_upn,
    make_temporary_upn,
    make_upn,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    upn_check_letter,
)
from gateway.mis.la_codes import LA_CODES

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
la_codes = st.sampled_from(sorted(LA_CODES))
establishments = st.from_regex(r"[0-9]{4}", fullmatch=True)
years = st.from_regex(r"[0-9]{2}", fullmatch=True)
serials = st.from_regex(r"[0-9]{3}", fullmatch=True)
upn_letters = st.sampled_from(UPN_LETTERS)


# --- LA numbers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "201",  # City of London
        "001",
        "005",  # pseudo-LA codes
        "660",
        "681",  # Wales
        "701",
        "702",
        "708",  # pseudo-LA codes
        "420",  # Isles of Scilly
        "820",
        "875",  # Bedfordshire and Cheshire, abolished 2009: old UPNs still carry them
        "835",
        "836",
        "837",
        "838",
        "839",  # Dorset before and after 2019
        "928",
        "940",
        "941",  # Northamptonshire before and after 2021
        "909",
        "942",
        "943",  # Cumbria before and after 2023
        "815",
        "933",
        "825",  # North Yorkshire, Somerset, Buckinghamshire: unitary, same number
    ],
)
def test_recognised_la_codes(code: str) -> None:
    assert is_valid_la_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "000",
        "006",
        "200",
        "214",
        "321",
        "400",
        "700",
        "709",
        "804",
        "809",
        "897",
        "939",
        "944",
        "999",
        "20",
        "2010",
        "",
        " 201",
        "201 ",
        "\uff12\uff10\uff11",
        "2O1",
        "abc",
    ],
)
def test_unrecognised_la_codes(code: str) -> None:
    assert not is_valid_la_code(code)


def test_la_codes_are_three_ascii_digits() -> None:
    assert all(len(code) == 3 and code.isascii() and code.isdigit() for code in LA_CODES)
    assert len(LA_CODES) == 195


def test_la_codes_cover_the_2011_list() -> None:
    # The January 2011 list (python-stdnum's stdnum/gb/upn.py) must be a subset of ours.
    list_2011 = (
        "201 201 202 203 204 205 206 207 208 209 210 211 212 213 301 302 303 304 305 306 307 308 309 310 "
        "311 312 313 314 315 316 317 318 319 320 330 331 332 333 334 335 336 340 341 342 343 344 350 351 "
        "352 353 354 355 356 357 358 359 370 371 372 373 380 381 382 383 384 390 391 392 393 394 420 800 "
        "801 802 803 805 806 807 808 810 811 812 813 815 816 821 822 823 825 826 830 831 835 836 837 840 "
        "841 845 846 850 851 852 855 856 857 860 861 865 866 867 868 869 870 871 872 873 874 876 877 878 "
        "879 880 881 882 883 884 885 886 887 888 889 890 891 892 893 894 895 896 908 909 916 919 921 925 "
        "926 928 929 931 933 935 936 937 938"
    )
    assert set(list_2011.split()) <= LA_CODES


# --- UPN ---------------------------------------------------------------------------------------------------


def test_worked_example_from_the_reference() -> None:
    # 2*2 + 7*4 + 1*9 + 6*10 + 4*12 + 9*13 = 266; 266 mod 23 = 13 -> P
    assert upn_check_letter("207000016049") == "P"
    assert is_valid_upn("P207000016049")


def test_the_vendor_misprint_of_the_example_is_invalid() -> None:
    assert not is_valid_upn("Q207000016049")
    assert not is_valid_upn("B207000016049")


def test_temporary_upn_final_letter_counts_by_its_table_value() -> None:
    # T = 16: 2*2 + 7*4 + 1*9 + 6*10 + 4*12 + 16*13 = 357; 357 mod 23 = 12 -> N
    assert upn_check_letter("20700001604T") == "N"
    assert is_valid_upn("N20700001604T")
    # A = 0: the letter adds nothing, 4 + 28 + 9 + 60 + 48 = 149; 149 mod 23 = 11 -> M
    assert upn_check_letter("20700001604A") == "M"
    assert is_valid_upn("M20700001604A")
    # Z = 22 (not 25: I, O and S are skipped): 149 + 22*13 = 435; 435 mod 23 = 21 -> Y
    assert upn_check_letter("20700001604Z") == "Y"
    assert is_valid_upn("Y20700001604Z")


@pytest.mark.parametrize("letter", ["I", "O", "S"])
def test_letters_i_o_and_s_are_never_used(letter: str) -> None:
    assert not is_valid_upn(f"{letter}207000016049")
    with pytest.raises(ValueError, match="letter other than I, O and S"):
        upn_check_letter(f"20700001604{letter}")
    for check in UPN_LETTERS:
        assert not is_valid_upn(f"{check}20700001604{letter}")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "P20700001604",  # 12 characters
        "P2070000160490",  # 14 characters
        "P207000016049 ",
        " P207000016049",
        "P207 0000 16049",
        "p207000016049",  # lower case: not canonical, see normalise_upn
        "N20700001604t",
        "7207000016049",  # check character is a digit
        "P20700001604-",
        "P2070000A6049",  # letter in the middle
        "P20700001604TT",
        "PP07000016049",
        "P\uff1207000016049",  # full-width digit two
        "P207000016\uff1049",
        "P20700001604²",
        "A000000016049",  # LA 000 is not recognised
        "Q999000016049",  # LA 999 is not recognised
        "J944000016049",  # LA 944 does not exist (yet)
    ],
)
def test_invalid_upns(value: str) -> None:
    assert not is_valid_upn(value)


def test_unknown_la_is_invalid_even_with_a_correct_check_letter() -> None:
    body = "999000016049"
    assert not is_valid_upn(upn_check_letter(body) + body)


def test_every_wrong_check_letter_is_rejected() -> None:
    wrong = [letter for letter in UPN_LETTERS if letter != "P"]
    assert not any(is_valid_upn(f"{letter}207000016049") for letter in wrong)


@pytest.mark.parametrize(
    "body",
    ["", "20700001604", "2070000160490", "20700001604-", "2O7000016049", "20700001604s", "207000016 49"],
)
def test_check_letter_needs_a_well_formed_body(body: str) -> None:
    with pytest.raises(ValueError, match="UPN body"):
        upn_check_letter(body)


def test_normalise_upn() -> None:
    assert normalise_upn(" p207 0000 16049\n") == "P207000016049"
    assert is_valid_upn(normalise_upn("p207000016049"))
    assert normalise_upn("P207000016049") == "P207000016049"
    # Non-ASCII text is left alone, so no look-alike becomes a letter (long s, U+017F, upper-cases to "S").
    assert normalise_upn("\u017f207000016049") == "\u017f207000016049"


def test_make_upn_matches_the_worked_example() -> None:
    assert make_upn("207", "0000", "16", "049") == "P207000016049"


def test_make_temporary_upn() -> None:
    assert make_temporary_upn("207", "0000", "16", "04", "T") == "N20700001604T"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("999", "0000", "16", "049"), "LA number"),
        (("20", "0000", "16", "049"), "LA number"),
        (("207", "000", "16", "049"), "establishment"),
        (("207", "00a0", "16", "049"), "establishment"),
        (("207", "0000", "6", "049"), "year"),
        (("207", "0000", "16", "49"), "serial"),
        (("207", "0000", "16", "0490"), "serial"),
        (("207", "0000", "16", "04A"), "serial"),
    ],
)
def test_make_upn_rejects_bad_parts(parts: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_upn(*parts)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("999", "0000", "16", "04", "T"), "LA number"),
        (("207", "0000", "16", "049", "T"), "serial"),
        (("207", "0000", "16", "04", "S"), "letter"),
        (("207", "0000", "16", "04", "t"), "letter"),
        (("207", "0000", "16", "04", "TT"), "letter"),
        (("207", "0000", "16", "04", ""), "letter"),
    ],
)
def test_make_temporary_upn_rejects_bad_parts(parts: tuple[str, str, str, str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_temporary_upn(*parts)


@given(la_codes, establishments, years, serials)
def test_made_upns_are_valid(la_code: str, establishment: str, year2: str, serial3: str) -> None:
    upn = make_upn(la_code, establishment, year2, serial3)
    assert len(upn) == 13
    assert upn[1:] == la_code + establishment + year2 + serial3
    assert is_valid_upn(upn)


@given(la_codes, establishments, years, serials, st.integers(min_value=1, max_value=12), digits)
def test_changing_any_one_digit_invalidates_a_upn(
    la_code: str, establishment: str, year2: str, serial3: str, position: int, digit: str
) -> None:
    upn = make_upn(la_code, establishment, year2, serial3)
    changed = upn[:position] + digit + upn[position + 1 :]
    # Weights 2-13 are all below the prime 23, so no single-digit change keeps the sum mod 23.
    assert is_valid_upn(changed) == (changed == upn)


@given(la_codes, establishments, years, serials, upn_letters)
def test_changing_the_check_letter_invalidates_a_upn(
    la_code: str, establishment: str, year2: str, serial3: str, letter: str
) -> None:
    upn = make_upn(la_code, establishment, year2, serial3)
    assert is_valid_upn(letter + upn[1:]) == (letter == upn[0])


@given(la_codes, establishments, years, st.from_regex(r"[0-9]{2}", fullmatch=True), upn_letters, upn_letters)
def test_made_temporary_upns_are_valid_and_their_letter_matters(
    la_code: str, establishment: str, year2: str, serial2: str, letter: str, other: str
) -> None:
    upn = make_temporary_upn(la_code, establishment, year2, serial2, letter)
    assert is_valid_upn(upn)
    assert is_valid_upn(upn[:12] + other) == (other == letter)


# --- ULN ---------------------------------------------------------------------------------------------------


def test_uln_worked_example() -> None:
    # 9*10 + 2*9 + 7*8 + 6*7 + 3*6 + 0*5 + 8*4 + 6*3 + 8*2 + 6*1 = 296; 296 mod 11 = 10
    assert is_valid_uln("9276308686")


@pytest.mark.parametrize(
    "value",
    [
        "1000000000",  # 1*10 = 10
        "2000000001",  # 2*10 + 1*1 = 21; 21 mod 11 = 10
        "1234567899",  # 10+18+24+28+30+30+28+24+18+9 = 219; 219 mod 11 = 10
        "9999999998",  # 9*54 + 8 = 494; 494 mod 11 = 10
    ],
)
def test_other_valid_ulns(value: str) -> None:
    assert is_valid_uln(value)


@pytest.mark.parametrize(
    "value",
    [
        "9276308687",  # wrong check
        "9276308685",
        "2976308686",  # transposed digits
        "0000000000",  # sum 0
        "0276308686",  # first digit 0
        "927630868",  # 9 digits
        "92763086860",  # 11 digits
        "9276 308686",
        "927630868A",
        "\uff19276308686",
        "",
    ],
)
def test_invalid_ulns(value: str) -> None:
    assert not is_valid_uln(value)


@given(st.from_regex(r"[1-9][0-9]{9}", fullmatch=True))
def test_uln_check_agrees_with_the_weighted_sum(value: str) -> None:
    total = sum(int(digit) * (10 - index) for index, digit in enumerate(value))
    assert is_valid_uln(value) == (total % 11 == 10)


# --- NHS number -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9434765919",  # 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9
        "4010232137",
        "9990000018",  # a test-range number: 9*10+9*9+9*8+1*2 = 245; 245 mod 11 = 3; 11-3 = 8
        "0000000000",  # remainder 0 -> check 11 -> 0
    ],
)
def test_valid_nhs_numbers(value: str) -> None:
    assert is_valid_nhs_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "9434765918",  # wrong check digit
        "9434765910",
        "4934765919",  # transposed digits
        "1000000011",  # 10 + 1*2 = 12; 12 mod 11 = 1 -> check 10: no valid number has these nine digits
        "1000000061",  # 10 + 6*2 = 22; 22 mod 11 = 0 -> check 0, not 1
        "943476591",
        "94347659190",
        "943 476 5919",
        "943-476-5919",
        "943476591X",
        "\uff19434765919",
        "",
    ],
)
def test_invalid_nhs_numbers(value: str) -> None:
    assert not is_valid_nhs_number(value)


def test_check_digit_edge_cases() -> None:
    # remainder 0 -> 11 - 0 = 11 -> check digit 0: 1*10 + 6*2 = 22
    assert is_valid_nhs_number("1000000060")
    # remainder 10 -> check digit 1: 5*2 = 10
    assert is_valid_nhs_number("0000000051")
    # remainder 1 -> 11 - 1 = 10, which is no digit: every final digit is rejected (6*2 = 12)
    assert not any(is_valid_nhs_number(f"000000006{last}") for last in "0123456789")


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_each_nine_digits_have_at_most_one_valid_check_digit(body: str) -> None:
    valid = [last for last in "0123456789" if is_valid_nhs_number(body + last)]
    total = sum(int(digit) * (10 - index) for index, digit in enumerate(body))
    assert len(valid) == (0 if total % 11 == 1 else 1)


def test_normalise_nhs_number() -> None:
    assert normalise_nhs_number(" 943 476 5919 ") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"
    assert is_valid_nhs_number(normalise_nhs_number("943 476 5919"))


# --- postcodes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "M1 1AE",  # A9
        "B33 8TH",  # A99
        "CR2 6XH",  # AA9
        "DN55 1PT",  # AA99
        "W1A 0AX",  # A9A
        "EC1A 1BB",  # AA9A
        "SW1A 1AA",
        "GIR 0AA",
        "YO10 5DD",
        "LS1 4AP",
    ],
)
def test_valid_postcodes(value: str) -> None:
    assert is_uk_postcode(value)


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("M11AE", "M1 1AE"),
        ("ec1a\t1bb", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
        ("S W1A1AA", "SW1A 1AA"),  # whitespace anywhere is spacing, not content
        ("SW1A\u00a01AA", "SW1A 1AA"),
    ],
)
def test_postcodes_are_normalised_before_the_check(value: str, canonical: str) -> None:
    assert normalise_postcode(value) == canonical
    assert is_uk_postcode(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "SW1A",
        "1AA",
        "SW1A 1A",
        "SW1A 1AAA",
        "SW1AA 1AA",
        "QA1 1AA",  # Q never first
        "VA1 1AA",  # V never first
        "XA1 1AA",  # X never first
        "AI1 1AA",  # I never second
        "AZ1 1AA",  # Z never second
        "W1I 0AX",  # I not allowed third in A9A
        "EC1C 1BB",  # C not allowed fourth in AA9A
        "SW1A 1CA",  # C never in the inward code
        "SW1A 1AI",
        "SW1A 1KA",
        "SW1A 1MA",
        "SW1A 1OA",
        "SW1A 1VA",
        "SW1A AAA",
        "111 1AA",
        "\u017fw1a 1aa",  # a non-ASCII look-alike (long s) is not upper-cased into a letter
        "SW1A-1AA",
    ],
)
def test_invalid_postcodes(value: str) -> None:
    assert not is_uk_postcode(value)


def test_short_text_is_only_compacted() -> None:
    assert normalise_postcode(" m1 ") == "M1"
    assert normalise_postcode("") == ""
