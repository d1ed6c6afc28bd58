"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP / ASVS minimum for argon2id: t=2, m=19 MiB, p=1.  Hashes made with
# weaker parameters are upgraded at the next successful login.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1

MIN_LENGTH = 8
MAX_LENGTH = 1024
# Shorter user names are left out of the "contains the name" rule: one or two
# letters occur in too many good passwords.
MIN_NAME_IN_PASSWORD = 3

hasher = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM, type=Type.ID
)


class PasswordRejected(ValueError):
    """The password does not meet the policy; the message says why."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = files("plinth_auth").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, username: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password has at most {MAX_LENGTH} characters")
    if not password.strip():
        raise PasswordRejected("a password cannot be only whitespace")
    if len(set(password)) == 1:
        raise PasswordRejected("a password cannot be one character repeated")
    if password.lower() in common_passwords():
        raise PasswordRejected("this password is too common: choose another")
    if username:
        name, lowered = username.lower(), password.lower()
        if lowered == name or (len(name) >= MIN_NAME_IN_PASSWORD and name in lowered):
            raise PasswordRejected("a password cannot be or contain the user name")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against for unknown users, so timing does not tell."""
    return hasher.hash("plinth-no-such-user-placeholder")
