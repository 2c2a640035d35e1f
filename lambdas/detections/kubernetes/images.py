"""Container image references, and whether one names a Kubernetes scanner."""

from __future__ import annotations

from fnmatch import fnmatchcase


def repository_path(image: str) -> str:
    """The repository path of an image reference, without registry host, tag or digest.

    `registry.example.com:5000/sec/kube-hunter:0.6@sha256:…` gives `sec/kube-hunter`. The first
    component is a registry host when it has a dot or a port, or is `localhost`, as in Docker.
    """
    reference = image.strip().lower().partition("@")[0]
    if reference.rfind(":") > reference.rfind("/"):
        reference = reference[: reference.rfind(":")]
    parts = reference.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts)


def scanner_pattern(image: str, patterns: tuple[str, ...]) -> str | None:
    """The first pattern naming this image's repository, or None.

    A pattern without `/` is compared with the last path component (the image's own name), one
    with `/` with the end of the path; both may use `*` wildcards. Matching the name rather than
    any substring keeps a registry host such as `kubesec.example.com` from flagging every image
    it serves, and keeps `myteam/kube-bench-results-viewer` apart from `aquasec/kube-bench`.
    """
    path = repository_path(image)
    name = path.rpartition("/")[2]
    for pattern in patterns:
        wanted = pattern.strip().lower()
        if "/" in wanted:
            if fnmatchcase(path, wanted) or fnmatchcase(path, "*/" + wanted):
                return pattern
        elif wanted and fnmatchcase(name, wanted):
            return pattern
    return None
