"""Access tokens as JWTs, and the verifier that remembers good ones until they expire."""

from __future__ import annotations

import time

import jwt
import pytest

from versicolor.auth import tokens
from versicolor.core.errors import Unauthenticated

SECRET = "k" * 86
KEY = tokens.SigningKey("k0", SECRET)
KEYRING = tokens.Keyring([KEY])


def test_a_token_carries_the_contract_claims_signed_hs512() -> None:
    issued = tokens.issue(key=KEY, user_id=7, account_id=3, ttl=600, client_id="abc", generation=2)
    assert jwt.get_unverified_header(issued.token)["alg"] == "HS512"
    payload = jwt.decode(issued.token, SECRET, algorithms=["HS512"])
    assert payload["sub"] == "7" and payload["aid"] == 3 and payload["cid"] == "abc" and payload["gen"] == 2
    assert payload["exp"] - payload["iat"] == 600 and len(payload["jti"]) == 32
    assert tokens.verify(keyring=KEYRING, token=issued.token) == issued.claims


def test_partner_application_tokens_carry_no_generation() -> None:
    issued = tokens.issue(key=KEY, user_id=7, account_id=3, ttl=600, client_id="app")
    assert "gen" not in jwt.decode(issued.token, SECRET, algorithms=["HS512"])
    assert tokens.verify(keyring=KEYRING, token=issued.token).generation is None


def test_the_verifier_remembers_a_good_token_until_it_expires() -> None:
    verifier = tokens.Verifier(KEYRING)
    issued = tokens.issue(key=KEY, user_id=1, account_id=1, ttl=2, client_id="c")
    assert verifier.verify(issued.token) == issued.claims
    assert verifier.verify(issued.token) == issued.claims
    time.sleep(2.1)  # exp is a whole second at least 1 s after issue; now it is past
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(issued.token)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(issued.token)


def test_the_verifier_never_remembers_a_bad_token_and_stays_bounded() -> None:
    verifier = tokens.Verifier(KEYRING, capacity=3)
    forged = tokens.issue(
        key=tokens.SigningKey("k0", "another key " * 8), user_id=1, account_id=1, ttl=60, client_id="c"
    ).token
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)
    good = [tokens.issue(key=KEY, user_id=n, account_id=1, ttl=60, client_id="c") for n in range(5)]
    for issued in good:
        assert verifier.verify(issued.token).user_id == issued.claims.user_id
    assert all(verifier.verify(issued.token) == issued.claims for issued in good)  # evicted ones verify again


def test_a_token_names_its_key_and_a_rotated_keyring_verifies_old_and_new_during_the_overlap() -> None:
    old = tokens.SigningKey("old", "o" * 86, not_before=0)
    keyring = tokens.Keyring([old])
    before = tokens.issue(key=keyring.signer(), user_id=1, account_id=1, ttl=600, client_id="c")
    assert jwt.get_unverified_header(before.token)["kid"] == "old"
    now = time.time()
    retired = tokens.SigningKey("old", old.secret, not_before=0, expires_at=now + 60)
    new = tokens.SigningKey("new", "n" * 86, not_before=now)
    keyring.replace([retired, new])
    assert keyring.signer().kid == "new"
    after = tokens.issue(key=keyring.signer(), user_id=1, account_id=1, ttl=600, client_id="c")
    verifier = tokens.Verifier(keyring)
    assert verifier.verify(before.token) == before.claims and verifier.verify(after.token) == after.claims
    # Past the overlap, the old key's tokens are refused, also those the verifier remembered.
    keyring.replace([tokens.SigningKey("old", old.secret, expires_at=now - 1), new])
    with pytest.raises(Unauthenticated, match="retired"):
        verifier.verify(before.token)
    assert verifier.verify(after.token) == after.claims


def test_a_key_not_yet_in_force_verifies_but_does_not_sign() -> None:
    now = time.time()
    keyring = tokens.Keyring([tokens.SigningKey("a", "a" * 86), tokens.SigningKey("b", "b" * 86, not_before=now + 60)])
    assert keyring.signer(now).kid == "a" and keyring.signer(now + 61).kid == "b"
    early = tokens.issue(key=tokens.SigningKey("b", "b" * 86), user_id=1, account_id=1, ttl=60, client_id="c")
    assert tokens.verify(keyring=keyring, token=early.token).user_id == 1


def test_tokens_without_a_kid_are_the_first_keys_and_unknown_kids_are_refused() -> None:
    legacy = jwt.encode(
        {"sub": "1", "aid": 1, "jti": "j", "iat": int(time.time()), "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS512",
    )
    assert tokens.verify(keyring=KEYRING, token=legacy).user_id == 1
    stranger = tokens.issue(key=tokens.SigningKey("zz", SECRET), user_id=1, account_id=1, ttl=60, client_id="c")
    with pytest.raises(Unauthenticated, match="retired or unknown"):
        tokens.verify(keyring=KEYRING, token=stranger.token)
