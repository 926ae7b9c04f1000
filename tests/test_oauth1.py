"""flows.oauth1 against published vectors: RFC 5849's own example (sections 3.4.1.1 and
3.4.1.3.2, with the signature from its errata), OAuth Core 1.0 appendix A.5, and X's (Twitter's)
"Creating a signature" base string. The HMAC-SHA256 answers were computed with
`openssl dgst -sha256 -hmac`, independently of this code."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import oauth1

RFC_URL = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
RFC_OAUTH = {
    "oauth_consumer_key": "9djdj82h48djs9d2",
    "oauth_token": "kkk9d7dh3k39sjv7",
    "oauth_signature_method": "HMAC-SHA1",
    "oauth_timestamp": "137131201",
    "oauth_nonce": "7d8f3e4a",
    "oauth_signature": "djosJKDKJSD8743243%2Fjdk33klY%3D",  # excluded from the base string
}
RFC_FORM = [("c2", ""), ("a3", "2 q")]  # the body "c2&a3=2+q", decoded
RFC_NORMALIZED = (
    "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2"
    "&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201"
    "&oauth_token=kkk9d7dh3k39sjv7"
)
RFC_BASE = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
    "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce"
    "%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26"
    "oauth_token%3Dkkk9d7dh3k39sjv7"
)

PHOTOS_URL = "http://photos.example.net/photos?file=vacation.jpg&size=original"
PHOTOS = oauth1.Credentials("dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk",
                            "pfkkdhi9sl3r4s00")

TWITTER_BASE = (
    "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue"
    "%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2"
    "pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
    "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26"
    "status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520"
    "request%2521"
)


def test_rfc5849_normalized_parameters():
    pairs = [*oauth1._query_pairs(RFC_URL), *RFC_FORM,
             *((k, v) for k, v in RFC_OAUTH.items() if k != "oauth_signature")]
    assert oauth1.normalized_parameters(pairs) == RFC_NORMALIZED


def test_rfc5849_signature_base_string():
    assert oauth1.signature_base_string("post", RFC_URL, RFC_OAUTH, RFC_FORM) == RFC_BASE


def test_rfc5849_hmac_sha1_signature_from_the_errata():
    assert oauth1.signature(RFC_BASE, "j49sk3j29djd", "dh893hdasih9", "HMAC-SHA1") == (
        "r6/TJjbCOr97/+UU0NsvSne7s5g="
    )


def test_x_documented_base_string():
    oauth = {
        "oauth_consumer_key": "xvz1evFS4wEEPTGEFPHBog",
        "oauth_nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "1318622958",
        "oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        "oauth_version": "1.0",
    }
    form = [("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]
    url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
    assert oauth1.signature_base_string("POST", url, oauth, form) == TWITTER_BASE


@pytest.mark.parametrize(
    ("method", "expected"),
    [("HMAC-SHA1", "tR3+Ty81lMeYAr/Fid0kMTYa/WM="),
     ("HMAC-SHA256", "WVPzl1j6ZsnkIjWr7e3OZ3jkenL57KwaLFhYsroX1hg=")],
)
def test_oauth_core_appendix_a_header(method, expected):
    header = oauth1.authorization_header(
        "GET", PHOTOS_URL, PHOTOS, signature_method=method, nonce="kllo9940pd9333jh",
        timestamp=1191242096, realm="http://photos.example.net/",
    )
    assert header.startswith('OAuth realm="http://photos.example.net/", ')
    fields = oauth1.parse_authorization_header(header)
    assert fields["oauth_signature"] == expected
    assert fields["oauth_signature_method"] == method
    assert fields["oauth_token"] == "nnch734d00sl2jdk"
    # The query is signed but stays in the URL, never in the header.
    assert "file" not in fields and "size" not in fields


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),  # RFC example
        ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),  # RFC example
        ("https://Shop.Example.com:443", "https://shop.example.com/"),
        ("http://127.0.0.1:5000/rest/V1/x", "http://127.0.0.1:5000/rest/V1/x"),
    ],
)
def test_base_string_uri(url, expected):
    assert oauth1.base_string_uri(url) == expected


def test_percent_encoding_is_rfc3986_unreserved_only():
    assert oauth1.percent_encode("a b+c/~_.-é*") == "a%20b%2Bc%2F~_.-%C3%A9%2A"


def test_fresh_nonce_each_time_and_no_secret_in_header_or_repr():
    creds = oauth1.Credentials("ck" * 16, "cs" * 16, "at" * 16, "ts" * 16)
    first = oauth1.authorization_header("GET", "https://shop.example/rest/V1/x", creds)
    second = oauth1.authorization_header("GET", "https://shop.example/rest/V1/x", creds)
    assert oauth1.parse_authorization_header(first)["oauth_nonce"] != (
        oauth1.parse_authorization_header(second)["oauth_nonce"])
    for text in (first, repr(creds)):
        assert "cs" * 16 not in text and "ts" * 16 not in text


def test_unsupported_method_and_malformed_header_are_refused():
    with pytest.raises(ValueError):
        oauth1.signature("x", "a", "b", "PLAINTEXT")
    for bad in ("Bearer abc", "OAuth oauth_token=abc", 'OAuth a="b", c'):
        with pytest.raises(ValueError):
            oauth1.parse_authorization_header(bad)


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(st.text(min_size=1), st.text(), max_size=5))
def test_header_round_trips_any_parameter_text(params):
    """Whatever the values, the header parses back to exactly what was signed."""
    query = "&".join(f"{oauth1.percent_encode(k)}={oauth1.percent_encode(v)}"
                     for k, v in params.items())
    url = "https://shop.example/rest/V1/items" + (f"?{query}" if query else "")
    creds = oauth1.Credentials("k", "s", "t", "u")
    fields = oauth1.parse_authorization_header(
        oauth1.authorization_header("GET", url, creds, nonce="n", timestamp=1))
    base = oauth1.signature_base_string("GET", url, fields)
    assert fields["oauth_signature"] == oauth1.signature(base, "s", "u", "HMAC-SHA256")
