import pytest

from pamiq_core.console._access import (
    TOKEN_ENV_VAR,
    carries_token,
    configured_token,
    is_loopback_host,
    is_same_site,
    resolve_token,
)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
    ],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.1", "example.com", "myhost"]
)
def test_hosts_that_other_machines_may_reach(host: str) -> None:
    assert not is_loopback_host(host)


class TestResolveToken:
    def test_loopback_needs_no_token(self) -> None:
        assert resolve_token("localhost", None) is None

    def test_other_addresses_need_one(self) -> None:
        with pytest.raises(ValueError, match=TOKEN_ENV_VAR) as info:
            resolve_token("0.0.0.0", None)
        assert "token=" in str(info.value)
        assert "'localhost'" in str(info.value)

    @pytest.mark.parametrize("token", ["", "  ", "\n"])
    def test_a_blank_token_is_refused(self, token: str) -> None:
        for host in ("0.0.0.0", "localhost"):
            with pytest.raises(ValueError, match="access token is blank"):
                resolve_token(host, token)

    def test_surrounding_whitespace_is_removed(self) -> None:
        assert resolve_token("0.0.0.0", " s3cret\n") == "s3cret"
        assert configured_token("\ts3 cret ") == "s3 cret"

    def test_explicit_token(self) -> None:
        assert resolve_token("0.0.0.0", "s3cret") == "s3cret"
        assert resolve_token("localhost", "s3cret") == "s3cret"

    def test_falls_back_to_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(TOKEN_ENV_VAR, "from-env")
        assert resolve_token("0.0.0.0", None) == "from-env"
        assert resolve_token("localhost", None) == "from-env"
        assert resolve_token("localhost", "explicit") == "explicit"
        assert configured_token(None) == "from-env"
        assert configured_token("explicit") == "explicit"

    def test_a_blank_environment_variable_is_no_token(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(TOKEN_ENV_VAR, " \n")
        assert configured_token(None) is None
        assert resolve_token("localhost", None) is None
        with pytest.raises(ValueError, match=TOKEN_ENV_VAR):
            resolve_token("0.0.0.0", None)


class TestCarriesToken:
    @pytest.mark.parametrize(
        ("authorization", "query"),
        [
            (b"Bearer s3cret", b""),
            (b"bearer  s3cret ", b""),
            (None, b"token=s3cret"),
            (None, b"a=1&token=s3cret"),
            (None, b"token=%20s3cret%0A"),
            (b"Bearer wrong", b"token=s3cret"),
        ],
    )
    def test_accepted(self, authorization: bytes | None, query: bytes) -> None:
        assert carries_token("s3cret", authorization, query)

    @pytest.mark.parametrize(
        ("authorization", "query"),
        [
            (None, b""),
            (b"Bearer wrong", b""),
            (b"Bearer s3cret2", b""),
            (b"Basic s3cret", b""),
            (b"s3cret", b""),
            (b"Bearer", b""),
            (None, b"token=wrong"),
            (None, b"xtoken=s3cret"),
            (b"Bearer \xff\xfe", b"token=%ff"),
        ],
    )
    def test_refused(self, authorization: bytes | None, query: bytes) -> None:
        assert not carries_token("s3cret", authorization, query)

    def test_non_ascii_tokens(self) -> None:
        assert carries_token("jeton-é", "Bearer jeton-é".encode(), b"")
        assert carries_token("jeton-é", None, b"token=jeton-%C3%A9")


class TestIsSameSite:
    @pytest.mark.parametrize(
        ("host", "origin"),
        [
            (b"localhost:8391", None),
            (b"127.0.0.1:8391", None),
            (b"[::1]:8391", None),
            (b"localhost", None),
            (b"localhost:8391", b"http://localhost:8391"),
            (None, None),
        ],
    )
    def test_requests_from_this_machine(
        self, host: bytes | None, origin: bytes | None
    ) -> None:
        assert is_same_site(host, origin)

    @pytest.mark.parametrize(
        ("host", "origin"),
        [
            (b"evil.example:8391", None),  # DNS rebinding: a foreign name on 127.0.0.1
            (b"", None),
            (b"localhost:8391", b"http://evil.example"),  # cross-site form or fetch
            (b"localhost:8391", b"http://localhost:3000"),  # another local site
            (b"localhost:8391", b"null"),  # sandboxed page or file://
            (None, b"http://evil.example"),
        ],
    )
    def test_requests_a_web_page_of_another_site_could_make(
        self, host: bytes | None, origin: bytes | None
    ) -> None:
        assert not is_same_site(host, origin)
