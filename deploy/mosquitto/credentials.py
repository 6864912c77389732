#!/usr/bin/env python3
"""Write the Mosquitto password file for EBC: the dispatcher account and one account per terminal.

    # the whole fleet at once (FILE is authoritative)
    python deploy/mosquitto/credentials.py --out /etc/mosquitto/ebc \\
        --dispatcher-password-file /root/dispatcher.secret --terminals terminals.txt
    # later: add or re-key some terminals, revoke one, keep every other hash as it is
    python deploy/mosquitto/credentials.py --out /etc/mosquitto/ebc --merge \\
        --terminals new.txt --remove 63415231000020314010401
    systemctl reload mosquitto          # SIGHUP: the broker rereads the file

FILE holds one terminal a line: `EBRID PASSWORD` (23-digit EBRID, the terminal's MQTT
username; `#` comments and blank lines are skipped). `--accounts FILE2` adds other service
accounts the same way, `NAME PASSWORD` (a county bridge on a provincial broker, for instance).
With --merge the existing DIR/passwd is the starting point, so plain-text passwords are needed
only for the accounts being changed and the listings can be shredded afterwards.

The result is DIR/passwd in the `$7$` (PBKDF2-SHA512) format of Mosquitto 2, replaced
atomically so a reload never reads a half-written file; owner and mode 0600 are kept from the
file it replaces (or set with --owner). `--hasher mosquitto_passwd` lets the Mosquitto tool do
the hashing instead (`mosquitto_passwd -U` on a plain-text copy, one process for all accounts).

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


def unique(accounts: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The accounts, refusing a name given twice (the broker would silently keep one)."""
    seen: set[str] = set()
    result = []
    for name, password in accounts:
        if name in seen:
            raise CredentialError(f"account {name} listed twice")
        seen.add(name)
        result.append((name, password))
    return result


def read_password_file(path: Path) -> dict[str, str]:
    """name -> hash of an existing file, in file order."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not hashed.startswith("$"):
            raise CredentialError(f"{path}:{number}: not a `name:$hash` line")
        entries[name] = hashed
    return entries


def hash_accounts(
    accounts: list[tuple[str, str]], *, directory: Path, iterations: int, hasher: str
) -> dict[str, str]:
    if hasher == "python":
        return {name: hash_password(pw, iterations=iterations) for name, pw in accounts}
    if hasher != "mosquitto_passwd":
        raise CredentialError(f"unknown hasher {hasher!r}")
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise CredentialError("mosquitto_passwd not found; use --hasher python")
    if not accounts:
        return {}
    plain = _staged(directory)
    try:
        # -U hashes a whole plain-text file in place: one process, where -b per account
        # would rewrite the file once per terminal.
        plain.write_text("".join(f"{name}:{pw}\n" for name, pw in accounts), encoding="utf-8")
        result = subprocess.run(
            [tool, "-U", str(plain)], capture_output=True, text=True, timeout=600, check=False
        )
        if result.returncode != 0:
            raise CredentialError(f"mosquitto_passwd -U failed: {result.stderr.strip()}")
        hashed = read_password_file(plain)
    finally:
        plain.unlink(missing_ok=True)
    if list(hashed) != [name for name, _ in accounts]:
        raise CredentialError("mosquitto_passwd -U left missing or reordered lines")
    if not all(value.startswith("$7$") for value in hashed.values()):
        raise CredentialError("mosquitto_passwd -U left unhashed lines")
    return hashed


def _staged(directory: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{PASSWORD_FILE}.", dir=directory)
    os.close(handle)
    os.chmod(name, 0o600)
    return Path(name)


def _owner_ids(owner: str | None, target: Path) -> tuple[int, int] | None:
    if owner is not None:
        try:
            entry = pwd.getpwnam(owner)
        except KeyError as exc:
            raise CredentialError(f"no such user {owner!r}") from exc
        return entry.pw_uid, entry.pw_gid
    if target.exists():
        # The broker, running as its own user, must still read the file after a rotation.
        stat = target.stat()
        return stat.st_uid, stat.st_gid
    return None


def write_password_file(target: Path, entries: dict[str, str], *, owner: str | None) -> None:
    """Replace `target` in one rename: a reload sees the old file or the new one."""
    ids = _owner_ids(owner, target)
    staged = _staged(target.parent)
    try:
        staged.write_text("".join(f"{n}:{h}\n" for n, h in entries.items()), encoding="utf-8")
        if ids is not None and ids != (os.geteuid(), os.getegid()):
            os.chown(staged, *ids)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the passwd file")
    parser.add_argument("--terminals", type=Path, help="`EBRID PASSWORD` lines")
    parser.add_argument("--accounts", type=Path, help="other accounts: `NAME PASSWORD` lines")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--dispatcher-password", help="visible in the process list; prefer the -file option"
    )
    secret.add_argument("--dispatcher-password-file", type=Path, help="first line is the password")
    parser.add_argument("--dispatcher-user", default=DISPATCHER_USER)
    parser.add_argument(
        "--merge", action="store_true", help="start from the existing file instead of nothing"
    )
    parser.add_argument(
        "--remove", action="append", default=[], metavar="NAME", help="drop an account (repeat)"
    )
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
    parser.add_argument("--hasher", choices=["python", "mosquitto_passwd"], default="python")
    parser.add_argument("--min-length", type=int, default=MIN_PASSWORD_LENGTH)
    parser.add_argument("--owner", help="chown the file to this user (e.g. mosquitto)")
    args = parser.parse_args(argv)

    try:
        if args.iterations < 1:
            raise CredentialError("--iterations must be at least 1")
        if not args.merge and args.terminals is None:
            raise CredentialError("--terminals is required (or --merge to edit the existing file)")
        check_account(args.dispatcher_user, where="--dispatcher-user")
        changes: list[tuple[str, str]] = []
        dispatcher_password = args.dispatcher_password
        if args.dispatcher_password_file is not None:
            lines = args.dispatcher_password_file.read_text(encoding="utf-8").splitlines()
            dispatcher_password = lines[0].strip() if lines else ""
        if dispatcher_password is not None:
            check_password(dispatcher_password, min_length=args.min_length, where="dispatcher")
            changes.append((args.dispatcher_user, dispatcher_password))
        if args.accounts is not None:
            changes += read_accounts(args.accounts, min_length=args.min_length)
        if args.terminals is not None:
            changes += read_terminals(args.terminals, min_length=args.min_length)
        changes = unique(changes)
        removed = set(args.remove)
        if clash := removed & {name for name, _ in changes}:
            raise CredentialError(f"both set and removed: {', '.join(sorted(clash))}")

        args.out.mkdir(parents=True, exist_ok=True)
        target = args.out / PASSWORD_FILE
        entries = read_password_file(target) if args.merge and target.exists() else {}
        if missing := removed - set(entries):
            raise CredentialError(f"no account to remove: {', '.join(sorted(missing))}")
        for name in removed:
            del entries[name]
        entries.update(
            hash_accounts(
                changes, directory=args.out, iterations=args.iterations, hasher=args.hasher
            )
        )
        if args.dispatcher_user not in entries:
            raise CredentialError(
                f"no {args.dispatcher_user} account: give --dispatcher-password(-file)"
            )
        # The dispatcher first, the way an operator reads the file.
        entries = {args.dispatcher_user: entries.pop(args.dispatcher_user), **entries}
        write_password_file(target, entries, owner=args.owner)
    except (CredentialError, OSError) as exc:
        print(f"credentials: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}: {len(entries)} account(s); {len(changes)} set, {len(removed)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
