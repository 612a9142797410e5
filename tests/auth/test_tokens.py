"""Access tokens as JWTs, and the verifier that remembers good ones until they expire."""

from __future__ import annotations

import time

import jwt
import pytest

from versicolor.auth import tokens
from versicolor.core.errors import Unauthenticated

KEY = "k" * 86


def test_a_token_carries_the_contract_claims_signed_hs512() -> None:
    issued = tokens.issue(key=KEY, user_id=7, account_id=3, ttl=600, client_id="abc", generation=2)
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS512"
    payload = jwt.decode(issued.token, KEY, algorithms=["HS512"])
    assert payload["sub"] == "7" and payload["aid"] == 3 and payload["cid"] == "abc" and payload["gen"] == 2
    assert payload["exp"] - payload["iat"] == 600 and len(payload["jti"]) == 32
    assert tokens.verify(key=KEY, token=issued.token) == issued.claims


def test_partner_application_tokens_carry_no_generation() -> None:
    issued = tokens.issue(key=KEY, user_id=7, account_id=3, ttl=600, client_id="app")
    assert "gen" not in jwt.decode(issued.token, KEY, algorithms=["HS512"])
    assert tokens.verify(key=KEY, token=issued.token).generation is None


def test_the_verifier_remembers_a_good_token_until_it_expires() -> None:
    verifier = tokens.Verifier(KEY)
    issued = tokens.issue(key=KEY, user_id=1, account_id=1, ttl=2, client_id="c")
    assert verifier.verify(issued.token) == issued.claims
    assert verifier.verify(issued.token) == issued.claims
    time.sleep(2.1)  # exp is a whole second at least 1 s after issue; now it is past
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(issued.token)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(issued.token)


def test_the_verifier_never_remembers_a_bad_token_and_stays_bounded() -> None:
    verifier = tokens.Verifier(KEY, capacity=3)
    forged = tokens.issue(key="another key " * 8, user_id=1, account_id=1, ttl=60, client_id="c").token
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    good = [tokens.issue(key=KEY, user_id=n, account_id=1, ttl=60, client_id="c") for n in range(5)]
    for issued in good:
        assert verifier.verify(issued.token).user_id == issued.claims.user_id
    assert all(verifier.verify(issued.token) == issued.claims for issued in good)  # evicted ones verify again
