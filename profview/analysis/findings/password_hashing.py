"""Password hashing dominating an endpoint (a login, a sign-up): expected, and shown as
"info" so that it is not mistaken for a bug.

Key derivation functions are slow on purpose.  Their time is the self time of the built-ins
that do the work (hashlib's scrypt and pbkdf2_hmac, bcrypt's, argon2's): exact.
"""
from __future__ import annotations

from .base import in_module
from .share_rule import finding, measure

RULE = "password_hashing"
FIX = ("Nothing to fix: password hashes are slow on purpose. Keep the cost parameter where "
       "your security policy wants it, rate-limit login attempts, and never cache or skip "
       "the check.")
_KDF_BUILTINS = ("scrypt", "pbkdf2_hmac", "hashpw", "checkpw", "kdf", "argon2", "hash_secret",
                 "verify_secret", "crypt.crypt")
_KDF_FILES = ("bcrypt/", "argon2/", "passlib/", "nacl/pwhash")


def _is_kdf(key) -> bool:
    if key[0] == "~":
        return any(f in key[2] for f in _KDF_BUILTINS)
    # Compiled packages sometimes show their C entry as a file in the package.
    return in_module(key, *_KDF_FILES) and key[2] in ("hashpw", "checkpw", "kdf")


def _self(stats) -> float:
    return stats.tottime


def check(ctx, settings) -> list:
    out = []
    for ep in ctx.endpoints:
        m = measure(ctx, ep, _is_kdf, _self)
        if m and m.ms > 0 and m.share >= settings.hashing_share:
            out.append(finding(RULE, "info", "Password hashing in %s",
                               "hashing passwords, an expected cost", ep, m, FIX, settings))
    return out
