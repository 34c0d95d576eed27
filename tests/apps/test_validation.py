"""The registration rules as a pure function: each rule with a passing and a failing case."""

from __future__ import annotations

import pytest

from gateway.apps.models import AuthMethod
from gateway.apps.validation import AppDraft, check, redirect_origin, redirect_uri_problem, web_url_problem
from gateway.errors import InvalidInput


def draft(**overrides: object) -> AppDraft:
    values: dict[str, object] = {
        "name": "Homework Planner",
        "description": "",
        "redirect_uris": ("https://planner.example.com/cb",),
        "required_scopes": "school groups",
        "optional_scopes": "",
        "token_endpoint_auth_method": AuthMethod.NONE,
        "privacy_policy_url": "https://planner.example.com/privacy",
        "support_url": "https://planner.example.com/support",
        "webhook_url": None,
    }
    values.update(overrides)
    return AppDraft(**values)  # type: ignore[arg-type]


def errors_of(bad: AppDraft) -> list[dict[str, str]]:
    with pytest.raises(InvalidInput) as raised:
        check(bad)
    return raised.value.errors


def pointers(bad: AppDraft) -> list[str]:
    return [entry["pointer"] for entry in errors_of(bad)]


@pytest.mark.parametrize(
    "uri",
    [
        "https://planner.example.com/cb",
        "https://planner.example.com:8443/cb?tenant=a",
        "HTTPS://Planner.Example.com/cb",
        "http://127.0.0.1:8765/callback",
        "http://127.5.6.7/callback",
        "http://[::1]:9000/cb",
        "http://localhost:3000/cb",
        "https://planner.example.com/" + "a" * 1972,
        # Hosts: punycode (IDNA 2008 A-labels) in any case, a single label, loopback literals over http.
        "https://xn--plnner-cua.example.com/cb",
        "https://XN--PLNNER-CUA.example.com/cb",
        "https://intranet/cb",
        "https://" + ".".join(["a" * 63] * 3) + "/cb",
        "http://127.0.0.1/cb",
        "http://[::1]/cb",
        "http://[0:0:0:0:0:0:0:1]:8080/cb",
        "https://203.0.113.5/cb",
        "https://[2001:db8::1]:8443/cb",
        "https://planner.example.com:/cb",
    ],
)
def test_acceptable_redirect_uris(uri: str) -> None:
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        # Characters no host may contain: each would otherwise reach the consent page's CSP.
        "https://a;b.example/cb",
        "https://a,b.example/cb",
        "https://a'b.example/cb",
        "https://planner.example.com;script-src/cb",
        "https://a!b.example/cb",
        "https://a=b.example/cb",
        "https://a(b).example/cb",
        "https://a+b.example/cb",
        "https://a$b.example/cb",
        "https://a&b.example/cb",
        "https://my_app.example/cb",
        "https://ex%41mple.com/cb",
        # Names that are not LDH labels (RFC 1123, IDNA 2008).
        "https://-planner.example.com/cb",
        "https://planner-.example.com/cb",
        "https://ab--cd.example.com/cb",
        "https://planner..example.com/cb",
        "https://.example.com/cb",
        "https://xn--zz.example/cb",
        "https://" + "a" * 64 + ".example/cb",
        "https://" + ".".join(["a" * 63] * 4) + "/cb",
        # Numbers that a browser would read as an IPv4 address, but not a dotted quad.
        "https://127.1/cb",
        "https://1.2.3.256/cb",
        "https://0x7f.0.0.1/cb",
        "https://example.0x10/cb",
        "https://1.2.3.04/cb",
        # IPv6 literals: only an address, in brackets, with no zone and nothing after the bracket.
        "http://[::1]x/cb",
        "http://[fe80::1%25eth0]/cb",
        "http://[v1.abc]/cb",
    ],
)
def test_hosts_that_are_not_hosts(uri: str) -> None:
    problem = redirect_uri_problem(uri)
    assert problem is not None
    assert "host" in problem or "IPv" in problem or "port" in problem, problem


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("https://exa mple.com/cb", "ASCII"),
        ("https://a b.example/cb", "ASCII"),
        ("https://[::1;]/cb", "valid"),
        ("http://[::1;]/cb", "valid"),
        ("https://[::1/cb", "valid"),
        ("https://[2001:db8::1]:84x3/cb", "valid"),
        ("https://bücher.example/cb", "ASCII"),
    ],
)
def test_hosts_refused_before_the_host_is_read(uri: str, words: str) -> None:
    problem = redirect_uri_problem(uri)
    assert problem is not None
    assert words in problem


def test_problems_never_echo_the_host() -> None:
    problem = redirect_uri_problem("https://evil;default-src.example/cb")
    assert problem is not None
    assert "evil" not in problem
    assert "default-src" not in problem


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://planner.example.com/oauth/callback?x=1", "https://planner.example.com"),
        ("HTTPS://Planner.Example.com:8443/cb", "https://Planner.Example.com:8443"),
        ("https://planner.example.com:/cb", "https://planner.example.com"),
        ("http://127.0.0.1:8765/callback", "http://127.0.0.1:8765"),
        ("http://[::1]:9000/cb", "http://[::1]:9000"),
        ("https://xn--plnner-cua.example.com/cb", "https://xn--plnner-cua.example.com"),
        ("https://a;b.example/cb", None),
        ("https://planner.example.com;script-src 'unsafe-inline'/cb", None),
        ("http://planner.example.com/cb", None),
        ("https://planner.example.com/cb#top", None),
        ("https://me@planner.example.com/cb", None),
        ("not a url", None),
    ],
)
def test_redirect_origin_only_from_a_uri_that_passes_the_rules(uri: str, origin: str | None) -> None:
    assert redirect_origin(uri) == origin


def test_other_app_urls_need_real_hosts_too() -> None:
    assert pointers(draft(privacy_policy_url="https://a;b.example/privacy")) == ["#/privacy_policy_url"]
    assert pointers(draft(support_url="https://a,b.example/help")) == ["#/support_url"]
    assert pointers(draft(webhook_url="https://a'b.example/hook")) == ["#/webhook_url"]


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("http://planner.example.com/cb", "loopback"),
        ("http://10.0.0.1/cb", "loopback"),
        ("http://127.0.0.1.example.com/cb", "loopback"),
        ("https://planner.example.com/cb#top", "fragment"),
        ("https://planner.example.com/cb#", "fragment"),
        ("https://*.example.com/cb", "wildcard"),
        ("https://planner.example.com/*", "wildcard"),
        ("https://user:pass@planner.example.com/cb", "user"),
        ("https://evil.example@planner.example.com/cb", "user"),
        ("/oauth/callback", "absolute"),
        ("planner.example.com/cb", "absolute"),
        ("https:///cb", "absolute"),
        ("https:callback", "absolute"),
        ("", "empty"),
        ("ftp://planner.example.com/cb", "https"),
        ("javascript:alert(1)", "absolute"),
        ("com.example.planner:/cb", "absolute"),
        ("https://planner.example.com/c b", "ASCII"),
        ("https://planner.example.com\\@evil.example/", "ASCII"),
        ("https://plänner.example.com/cb", "ASCII"),
        ("https://planner.example.com:99999/cb", "valid"),
        ("https://" + "a" * 1995 + ".example", "2000"),
    ],
)
def test_unacceptable_redirect_uris(uri: str, words: str) -> None:
    problem = redirect_uri_problem(uri)
    assert problem is not None
    assert words in problem


def test_webhooks_are_https_only_even_on_loopback() -> None:
    assert web_url_problem("https://hooks.example.com/x", loopback_http=False) is None
    assert web_url_problem("http://127.0.0.1:9000/x", loopback_http=False) == "must be an https URL"
    assert pointers(draft(webhook_url="http://hooks.example.com/x")) == ["#/webhook_url"]
    assert pointers(draft(webhook_url="https://hooks.example.com/x#frag")) == ["#/webhook_url"]


def test_a_valid_draft_is_normalised() -> None:
    clean = check(
        draft(
            name="  Planner  ", required_scopes="students.basic school", optional_scopes="exclusions groups"
        )
    )
    assert clean.name == "Planner"
    assert clean.required_scopes == "school students.basic"
    assert clean.optional_scopes == "groups exclusions"
    assert clean.redirect_uris == ("https://planner.example.com/cb",)


def test_school_may_be_listed_as_required_or_left_out_but_never_optional() -> None:
    assert check(draft(required_scopes="groups")).required_scopes == "groups"
    assert check(draft(required_scopes="school groups")).required_scopes == "school groups"
    assert check(draft(required_scopes="", optional_scopes="")).required_scopes == ""
    assert pointers(draft(required_scopes="groups", optional_scopes="school")) == ["#/optional_scopes"]


@pytest.mark.parametrize(
    ("required", "optional", "pointer", "words"),
    [
        ("school nonsense", "", "#/required_scopes", "unknown scope: nonsense"),
        ("school", "students.everything", "#/optional_scopes", "unknown scope"),
        ("school groups groups", "", "#/required_scopes", "duplicated scope: groups"),
        ("school", "groups groups", "#/optional_scopes", "duplicated scope"),
        ("school  groups", "", "#/required_scopes", "malformed scope"),
        ("school groups", "groups students.sen", "#/optional_scopes", "also in required_scopes: groups"),
        ("students.sen", "students.basic", "#/optional_scopes", "implied by required_scopes: students.basic"),
        ("contacts.details", "contacts.basic", "#/optional_scopes", "implied"),
        ("school", "school", "#/optional_scopes", "also in required_scopes: school"),
    ],
)
def test_scope_rules(required: str, optional: str, pointer: str, words: str) -> None:
    [entry] = errors_of(draft(required_scopes=required, optional_scopes=optional))
    assert entry["pointer"] == pointer
    assert words in entry["detail"]


def test_redirect_uri_count_and_duplicates() -> None:
    assert pointers(draft(redirect_uris=())) == ["#/redirect_uris"]
    eleven = tuple(f"https://planner.example.com/cb{n}" for n in range(11))
    assert pointers(draft(redirect_uris=eleven)) == ["#/redirect_uris"]
    assert check(draft(redirect_uris=eleven[:10])).redirect_uris == eleven[:10]
    twice = ("https://a.example/cb", "https://b.example/cb", "https://a.example/cb")
    assert pointers(draft(redirect_uris=twice)) == ["#/redirect_uris/2"]


def test_text_fields() -> None:
    assert pointers(draft(name="   ")) == ["#/name"]
    assert pointers(draft(name="a" * 81)) == ["#/name"]
    assert check(draft(name="a" * 80)).name == "a" * 80
    assert pointers(draft(name="Planner\x00")) == ["#/name"]
    assert pointers(draft(description="x" * 1001)) == ["#/description"]
    assert check(draft(description="Line one.\nLine two.\tTabbed.")).description.startswith("Line one.")
    assert pointers(draft(description="bell\x07")) == ["#/description"]


def test_every_bad_field_is_reported_at_once_by_pointer() -> None:
    bad = draft(
        name="",
        redirect_uris=("https://ok.example/cb", "http://planner.example.com/cb", "https://x.example/#f"),
        required_scopes="school bogus",
        privacy_policy_url="http://planner.example.com/privacy",
        support_url="mailto:help@planner.example.com",
        webhook_url="http://planner.example.com/hook",
    )
    assert pointers(bad) == [
        "#/name",
        "#/redirect_uris/1",
        "#/redirect_uris/2",
        "#/privacy_policy_url",
        "#/support_url",
        "#/webhook_url",
        "#/required_scopes",
    ]


def test_merging_a_patch() -> None:
    base = draft()
    assert base.merged({"redirect_uris": ["https://new.example/cb"]}).redirect_uris == (
        "https://new.example/cb",
    )
    assert base.merged({"webhook_url": None}).webhook_url is None
    with pytest.raises(ValueError, match="not editable"):
        base.merged({"client_id": "gw_app_x"})
