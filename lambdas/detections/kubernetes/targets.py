"""What the ingress detections look for in a decoded request target.

Every access line passes `worth_keeping`, so a benign target must cost little more than one
regex search: Splunk's 1,008 paths are one prefix-tree regex, and three substring tests cover
the rest (`..`, `//`, a scheme without slashes). Only the few lines it keeps get the closer
checks: traversal chains, stream wrappers, and the query parameters of remote inclusion.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from lambdas.kubernetes.records import AccessLine, Batch

PATHS_FILE = Path(__file__).with_name("local_file_inclusion_paths.csv")
# Sensitive files Splunk's list does not name. Every entry starts with "/" and matches anywhere.
EXTRA_PATHS = (
    "/proc/self/",
    "/proc/thread-self/",
    "/var/run/secrets/kubernetes.io/",
    "/run/secrets/kubernetes.io/",
    "/etc/kubernetes/",
    "/.kube/config",
    "/.aws/credentials",
    "/.ssh/id_",
    "/.ssh/authorized_keys",
    "/windows/win.ini",
    "/win.ini",
    "/boot.ini",
    "/windows/system32/",
    "/web-inf/web.xml",
)
# Two or more parent steps in a row (`../../`, `..;/..;/`, `....//....//` after naive filtering).
TRAVERSAL_CHAIN = re.compile(r"(?:\.{2,}[/;]+){2,}")
PARENT_STEP = re.compile(r"\.\.(?:[/;]|$)")
# Stream wrappers that read local files (PHP and friends); remote ones are the RFI detection's.
LOCAL_WRAPPER = re.compile(r"(?:php://filter|file:/|phar://|zip://|glob://|compress\.\w+://)")


def lfi_indicator(text: str) -> str | None:
    """What makes a decoded, lower-case target a local file inclusion attempt, or None."""
    found = sensitive_paths().search(text)
    if found:
        return found[0]
    if ".." in text:
        if TRAVERSAL_CHAIN.search(text):
            return "../ chain"
        # Clients resolve dot segments in the path before sending; only a crafted request keeps
        # one. In the query a single step is normal (`?next=../login`), so it needs a chain.
        if PARENT_STEP.search(text.partition("?")[0]):
            return "../ in path"
    if ":/" in text:
        wrapper = LOCAL_WRAPPER.search(text)
        if wrapper:
            return wrapper[0]
    return None


# Besides a listed path, what either ingress detection needs in a decoded target: parent steps
# (`..`), `//` (URLs, most wrappers) or one of these schemes, which work without `//`.
SCHEME_WITHOUT_SLASHES = re.compile(r"(?:data|expect|php|file):")
_COMPILED: dict[str, re.Pattern[str]] = {}
_PATHS_SEARCH: Callable[[str], re.Match[str] | None] | None = None


def sensitive_paths() -> re.Pattern[str]:
    """Splunk's 1,008 wildcard paths and our extras as one prefix-tree regex, compiled on first use.

    Compiling takes tens of milliseconds, so it happens in the first invocation, not at import.
    """
    if not _COMPILED:
        _COMPILED["paths"] = re.compile(_trie_pattern(load_paths() + list(EXTRA_PATHS)))
    return _COMPILED["paths"]


def _paths_search() -> Callable[[str], re.Match[str] | None]:
    """The compiled paths' search method, kept in a global for the per-line screen."""
    global _PATHS_SEARCH  # noqa: PLW0603 - filled once per process
    _PATHS_SEARCH = sensitive_paths().search
    return _PATHS_SEARCH


def worth_keeping(text: str) -> bool:
    """True when a decoded target holds anything an ingress detection looks for.

    The handler gives this to the batch as its screen. Every attack either detection finds
    holds a listed path, `..`, `//` or a scheme that works without `//`, so it drops none.
    """
    return (
        ".." in text
        or "//" in text
        or (_PATHS_SEARCH or _paths_search())(text) is not None
        or (":" in text and SCHEME_WITHOUT_SLASHES.search(text) is not None)
    )


def suspects(batch: Batch) -> list[AccessLine]:
    """The batch's access lines worth a closer look (their first item is the decoded target).

    A batch built with `worth_keeping` as its screen holds only such lines already; any other
    batch is screened here, once, for both detections (through the batch's memo).
    """
    if batch.keep is worth_keeping:
        return batch.access_lines
    found = batch.memo.get("ingress_suspects")
    if found is None:
        found = [line for line in batch.access_lines if worth_keeping(line[0])]
        batch.memo["ingress_suspects"] = found
    return found


def load_paths(path: Path = PATHS_FILE) -> list[str]:
    """The paths of Splunk's `*/<path>*` rows, lower-cased, without the wildcards.

    Splunk's file holds 11 rows per JBoss location with a literal `[JBOSS]` placeholder that can
    never match; the placeholder segment is dropped so the rest matches any JBoss home.
    """
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    paths = {
        row[0].strip().strip("*").lower().replace("/[jboss]", "")
        for row in rows[1:]
        if row and row[0].strip()
    }
    return sorted(paths)


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex matching any of `words`, factored by common prefixes (fast on long lists).

    A word that is a prefix of another ends the branch: matching anywhere, the longer word adds
    nothing.
    """
    root: dict[str, dict] = {}
    for word in sorted(set(words), key=len):
        node = root
        for char in word:
            if "" in node:
                break
            node = node.setdefault(char, {})
        else:
            node.clear()
            node[""] = {}
    return _branch(root)


def _branch(node: dict[str, dict]) -> str:
    """The regex of one prefix-tree node."""
    if "" in node:
        return ""
    options = [re.escape(char) + _branch(child) for char, child in sorted(node.items())]
    return options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"


class RemoteInclusion(NamedTuple):
    """A query parameter whose value asks the server to fetch something from elsewhere."""

    parameter: str
    value: str
    host: str


# Parameters that name the next page to show, share a link, or hold free text: a web URL to a
# named host there is navigation, not an inclusion. `url` is here because many login flows use it;
# an inclusion through one of these is still caught when it names an IP address, uses another
# scheme, or ends like a payload (`.txt`, `.sh`, a trailing `?`).
NAVIGATION_PARAMETERS = frozenset(
    "redirect redirect_uri redirect_url redirecturi redirecturl redirect_to return return_to "
    "returnto return_url returnurl returnpath next next_url continue url goto dest destination "
    "callback callback_url service relaystate post_logout_redirect_uri success_url cancel_url "
    "back backurl referer referrer origin q query search s u link href share_url shareurl".split()
)
# A web URL that still looks like an inclusion payload in a navigation parameter: a script or
# text file, or a trailing `?` that neutralises the suffix the application appends.
PAYLOAD_URL = re.compile(r"(?:\.(?:txt|inc|sh|pl|py|phtml|cgi)\??|\?)$")
# Schemes that fetch from a host, and schemes that carry or run content without one.
FETCH_SCHEMES = frozenset("http https ftp ftps sftp tftp smb gopher dict ldap ldaps ssh2".split())
INLINE_SCHEMES = frozenset("data expect php".split())
SCHEME = re.compile(r"([a-z][a-z0-9+.\-]{0,15}):")
INLINE_HINT = re.compile(r"(?:data|expect|php):")
AUTHORITY_END = re.compile(r"[/?#]")


def rfi_indicator(text: str, trusted_hosts: tuple[str, ...] = ()) -> RemoteInclusion | None:
    """The first query parameter of a decoded target that includes a remote resource, or None.

    The target is split into parameters after decoding: an encoded `&` or `=` inside a value can
    only cut what follows its start, and the start (scheme, host) is what counts. A `%3f` decoded
    in the path starts the query early: more is checked, never less.
    """
    if "?" not in text:
        return None
    query = text[text.find("?") + 1 :]
    if "//" not in query and not (":" in query and INLINE_HINT.search(query)):
        return None

    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if ":" not in value and "//" not in value:
            continue
        value = value.strip()
        host = remote_host(value)
        if host is None or _trusted(host, trusted_hosts):
            continue
        if name.strip() in NAVIGATION_PARAMETERS and _navigation(value, host):
            continue
        return RemoteInclusion(name.strip(), value[:256], host)
    return None


def remote_host(value: str) -> str | None:
    """The host a decoded value points at ("" for inline schemes), or None if it is no URL."""
    if value.startswith("//"):
        return _authority(value[2:])
    scheme = SCHEME.match(value)
    if scheme is None:
        return None
    rest = value[scheme.end() :]
    if scheme[1] in FETCH_SCHEMES:
        return _authority(rest[2:]) if rest.startswith("//") else None
    if scheme[1] in INLINE_SCHEMES and not rest.startswith("//filter"):
        return ""
    return None


def _authority(rest: str) -> str | None:
    """The host of `user@host:port/...`, None when empty."""
    end = AUTHORITY_END.search(rest)
    authority = (rest[: end.start()] if end else rest).rpartition("@")[2]
    if authority.startswith("["):
        host = authority[1:].partition("]")[0]
    else:
        host = authority.partition(":")[0]
    return host.strip(".") or None


def _trusted(host: str, trusted_hosts: tuple[str, ...]) -> bool:
    """True when `host` is a trusted host or one of its subdomains (`*.` prefixes allowed)."""
    for entry in trusted_hosts:
        name = entry.lower().removeprefix("*.")
        if host == name or host.endswith("." + name):
            return True
    return False


def _navigation(value: str, host: str) -> bool:
    """True for a web URL to a named host (or loopback, RFC 8252 sign-in) in a redirect field."""
    if not value.startswith(("http://", "https://", "//")) or PAYLOAD_URL.search(value):
        return False
    if not (host[0].isdigit() or ":" in host):
        return True  # a host name (IP literals start with a digit, or hold `:` for IPv6)
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        # Integer and hex forms (`http://3232235777/`) are IP addresses in disguise.
        return not (host.replace(".", "").isdigit() or host.startswith("0x"))
