#!/usr/bin/env python3
"""Write the Mosquitto password file for EBC: the dispatcher account and one account per terminal.

    python deploy/mosquitto/credentials.py --out /etc/mosquitto/ebc \\
        --dispatcher-password-file /root/dispatcher.secret --terminals terminals.txt \\
        --owner mosquitto
    systemctl reload mosquitto          # SIGHUP: the broker rereads the file

FILE holds one terminal a line: `EBRID PASSWORD` (23-digit EBRID, the terminal's MQTT
username; `#` comments and blank lines are skipped). `--accounts FILE2` adds other service
accounts the same way, `NAME PASSWORD` (a county bridge on a provincial broker, for instance).

The result is DIR/passwd in the `$7$` (PBKDF2-SHA512) format of Mosquitto 2, replaced
atomically so a reload never reads a half-written file. `--hasher mosquitto_passwd` lets the
Mosquitto tool do the hashing instead (`mosquitto_passwd -U` on a plain-text copy, one process
for the whole fleet).

Standard library only: it runs on a broker host without the EBC package.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

PASSWORD_FILE = "passwd"
DISPATCHER_USER = "ebc-dispatcher"
# mosquitto_passwd's own default. Stretching only protects guessable passwords; terminal
# passwords are random, and every connect costs the single-threaded broker one derivation,
# which a fleet-wide reconnect after a broker restart multiplies by thousands.
DEFAULT_ITERATIONS = 101
SALT_BYTES = 12
MIN_PASSWORD_LENGTH = 16

EBRID = re.compile(r"[1-6]\d{22}")
# '+', '#' and '/' would turn the ACL's %u patterns into wildcards or extra levels.
ACCOUNT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class CredentialError(ValueError):
    pass


def hash_password(
    password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None
) -> str:
    """A Mosquitto 2 `$7$` hash: PBKDF2-HMAC-SHA512 over the raw salt, both base64."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    encoded_salt, encoded_digest = (base64.b64encode(b).decode() for b in (salt, digest))
    return f"$7${iterations}${encoded_salt}${encoded_digest}"


def verify(hashed: str, password: str) -> bool:
    """Whether `password` matches a `$7$` hash, as the broker decides it."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[:2] != ["", "7"]:
        raise CredentialError(f"not a $7$ (PBKDF2-SHA512) hash: {hashed[:12]}...")
    iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    candidate = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return hmac.compare_digest(candidate, digest)


def read_terminals(path: Path, *, min_length: int = MIN_PASSWORD_LENGTH) -> list[tuple[str, str]]:
    return _read_pairs(path, terminals=True, min_length=min_length)


def read_accounts(path: Path, *, min_length: int = MIN_PASSWORD_LENGTH) -> list[tuple[str, str]]:
    return _read_pairs(path, terminals=False, min_length=min_length)


def _read_pairs(path: Path, *, terminals: bool, min_length: int) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        where = f"{path}:{number}"
        if len(fields) != 2:
            want = "EBRID PASSWORD" if terminals else "NAME PASSWORD"
            raise CredentialError(f"{where}: want `{want}`, got {len(fields)} fields")
        name, password = fields
        if terminals and not EBRID.fullmatch(name):
            raise CredentialError(f"{where}: {name!r} is not a 23-digit EBRID")
        if not terminals:
            check_account(name, where=where)
        check_password(password, min_length=min_length, where=f"{where} ({name})")
        entries.append((name, password))
    return entries


def check_account(name: str, *, where: str) -> None:
    if not ACCOUNT.fullmatch(name):
        raise CredentialError(f"{where}: account {name!r}: letters, digits, . _ - only")
    if EBRID.fullmatch(name):
        raise CredentialError(f"{where}: account {name!r} looks like a terminal EBRID")


def check_password(password: str, *, min_length: int, where: str) -> None:
    if len(password) < min_length:
        raise CredentialError(
            f"{where}: password shorter than {min_length} characters; generate one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
        )
    if any(ch.isspace() for ch in password):
        raise CredentialError(f"{where}: password contains whitespace")


def build_accounts(
    dispatcher_user: str,
    dispatcher_password: str,
    terminals: Iterable[tuple[str, str]],
    others: Iterable[tuple[str, str]] = (),
    *,
    min_length: int = MIN_PASSWORD_LENGTH,
) -> list[tuple[str, str]]:
    """All accounts, dispatcher first; a name twice is refused (the broker would keep one)."""
    check_account(dispatcher_user, where="--dispatcher-user")
    check_password(dispatcher_password, min_length=min_length, where="dispatcher")
    accounts = [(dispatcher_user, dispatcher_password), *others, *terminals]
    seen: set[str] = set()
    for name, _ in accounts:
        if name in seen:
            raise CredentialError(f"account {name} listed twice")
        seen.add(name)
    return accounts


def _staged(directory: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{PASSWORD_FILE}.", dir=directory)
    os.close(handle)
    os.chmod(name, 0o600)
    return Path(name)


def write_password_file(
    out: Path,
    accounts: list[tuple[str, str]],
    *,
    iterations: int = DEFAULT_ITERATIONS,
    hasher: str = "python",
    owner: str | None = None,
) -> Path:
    """Write out/passwd (mode 0600, owned by `owner` when given) in one atomic rename."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / PASSWORD_FILE
    staged = _staged(out)
    try:
        if hasher == "python":
            lines = [f"{user}:{hash_password(pw, iterations=iterations)}" for user, pw in accounts]
            staged.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        elif hasher == "mosquitto_passwd":
            _hash_with_mosquitto_passwd(staged, accounts)
        else:
            raise CredentialError(f"unknown hasher {hasher!r}")
        if owner is not None:
            try:
                entry = pwd.getpwnam(owner)
            except KeyError as exc:
                raise CredentialError(f"no such user {owner!r}") from exc
            os.chown(staged, entry.pw_uid, entry.pw_gid)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target


def _hash_with_mosquitto_passwd(staged: Path, accounts: list[tuple[str, str]]) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise CredentialError("mosquitto_passwd not found; use --hasher python")
    # -U hashes a whole plain-text file in place: one process, where -b per account would
    # rewrite the file once per terminal.
    staged.write_text("".join(f"{user}:{pw}\n" for user, pw in accounts), encoding="utf-8")
    result = subprocess.run(
        [tool, "-U", str(staged)], capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise CredentialError(f"mosquitto_passwd -U failed: {result.stderr.strip()}")
    written = staged.read_text(encoding="utf-8").splitlines()
    if len(written) != len(accounts) or not all(":$7$" in line for line in written):
        raise CredentialError("mosquitto_passwd -U left unhashed or missing lines")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the passwd file")
    parser.add_argument("--terminals", type=Path, required=True, help="`EBRID PASSWORD` lines")
    parser.add_argument("--accounts", type=Path, help="other accounts: `NAME PASSWORD` lines")
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument(
        "--dispatcher-password", help="visible in the process list; prefer the -file option"
    )
    secret.add_argument("--dispatcher-password-file", type=Path, help="first line is the password")
    parser.add_argument("--dispatcher-user", default=DISPATCHER_USER)
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
    parser.add_argument("--hasher", choices=["python", "mosquitto_passwd"], default="python")
    parser.add_argument("--min-length", type=int, default=MIN_PASSWORD_LENGTH)
    parser.add_argument("--owner", help="chown the file to this user (e.g. mosquitto)")
    args = parser.parse_args(argv)

    try:
        if args.dispatcher_password_file is not None:
            lines = args.dispatcher_password_file.read_text(encoding="utf-8").splitlines()
            dispatcher_password = lines[0].strip() if lines else ""
        else:
            dispatcher_password = args.dispatcher_password
        if args.iterations < 1:
            raise CredentialError("--iterations must be at least 1")
        terminals = read_terminals(args.terminals, min_length=args.min_length)
        others = (
            []
            if args.accounts is None
            else read_accounts(args.accounts, min_length=args.min_length)
        )
        accounts = build_accounts(
            args.dispatcher_user, dispatcher_password, terminals, others, min_length=args.min_length
        )
        target = write_password_file(
            args.out, accounts, iterations=args.iterations, hasher=args.hasher, owner=args.owner
        )
    except (CredentialError, OSError) as exc:
        print(f"credentials: {exc}", file=sys.stderr)
        return 2
    extra = f", {len(others)} other account(s)" if others else ""
    print(f"wrote {target}: {args.dispatcher_user}{extra} and {len(terminals)} terminal(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
