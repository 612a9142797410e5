"""Passwords: argon2id hashing off the event loop, and the rules a new password must meet.

argon2 is deliberately slow (tens to hundreds of milliseconds of CPU and 64 MiB a hash). Run on the event loop
it would stall every other request of the worker for that long, so hashing and verifying run in a small pool
of threads of their own (argon2-cffi releases the GIL while it hashes); its size bounds the memory a flood of
sign-ins can take, and requests beyond it wait their turn without blocking anything else.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from versicolor.core.errors import Invalid

_hasher = PasswordHasher()
_pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="versicolor-argon2")

MIN_LENGTH = 12
MAX_LENGTH = 256
# zxcvbn's estimate, 0 (a top-list password) to 4; 3 means "safely unguessable" against an online attack.
MIN_STRENGTH = 3
_ESTIMATED_PREFIX = 72  # zxcvbn refuses longer input, and its cost grows with the length


async def hash_password(password: str) -> str:
    """The argon2 hash to store for `password`."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _hasher.hash, password)


async def verify_password(password: str, stored_hash: str | None) -> bool:
    """Whether `password` matches `stored_hash`; a user without a password never matches."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, password, stored_hash)


def _verify(password: str, stored_hash: str | None) -> bool:
    if stored_hash is None:
        # Spend the same time as a real check, so that timing does not tell which emails exist.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def check_new_password(password: object, *, field: str = "password", personal: tuple[str, ...] = ()) -> str:
    """`password` if it may be set: 12 to 256 characters, not a common or easily guessed one; raises Invalid."""
    if not isinstance(password, str):
        raise Invalid.field(field, "must be a string")
    if len(password) < MIN_LENGTH:
        raise Invalid.field(field, f"must be at least {MIN_LENGTH} characters (a few unrelated words make a good one)")
    if len(password) > MAX_LENGTH:
        raise Invalid.field(field, f"must be at most {MAX_LENGTH} characters")
    # zxcvbn's dictionaries (the 30,000 most common passwords, words, names, keyboard walks) take some CPU.
    estimate = await asyncio.get_running_loop().run_in_executor(
        _pool, _strength, password[:_ESTIMATED_PREFIX], personal
    )
    if estimate is not None:
        raise Invalid.field(field, f"is too easy to guess: {estimate}")
    return password


def _strength(password: str, personal: tuple[str, ...]) -> str | None:
    result = zxcvbn(password, user_inputs=[value for value in personal if value][:8])
    if result["score"] >= MIN_STRENGTH:
        return None
    feedback = result.get("feedback") or {}
    warning = str(feedback.get("warning") or "it is, or is close to, a commonly used password").rstrip(".")
    hint = "add more unrelated words, or use a password manager's random password"
    return f"{warning[0].lower()}{warning[1:]}; {hint}"
