"""Artifacts of a Lab session: the model, metadata, reports and their hashes.

They go to `OMC_ARTIFACTS_URL` through fsspec, so a local folder and an S3 bucket
behave the same. The model is stored with skops, whose loader rebuilds objects from
an allow-list instead of running pickled code; loading names the types it trusts and
refuses a file whose hash does not match the manifest.
"""

import hashlib
import json
import logging
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import fsspec
import skops.io as sio
from pydantic import BaseModel

from omc.lab.errors import ArtifactError

__all__ = [
    "MODEL_FILE",
    "TRUSTED_MODEL_TYPES",
    "ArtifactManifest",
    "library_versions",
    "load_model",
    "read_manifest",
    "save_artifacts",
]

logger = logging.getLogger(__name__)

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
# Types beyond skops' defaults that the Lab's own model families contain.
TRUSTED_MODEL_TYPES = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)
LIBRARIES = ("numpy", "pandas", "scikit-learn", "skops", "langgraph", "statsmodels")


class ArtifactManifest(BaseModel):
    """Where a session's artifacts live and the SHA-256 of each file."""

    location: str
    sha256: dict[str, str]


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape a model's results."""
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def save_artifacts(
    base_url: str,
    session_id: str,
    *,
    model: Any,
    metadata: dict[str, Any],
    reports: dict[str, str],
) -> ArtifactManifest:
    """Write the model, metadata and reports of one session; return their hashes.

    Raises:
        ArtifactError: the storage refused a write.
    """
    files: dict[str, bytes] = {
        MODEL_FILE: sio.dumps(model),
        METADATA_FILE: json.dumps(
            {**metadata, "created_at": datetime.now(UTC).isoformat()},
            indent=2,
            default=str,
        ).encode(),
    }
    files.update({name: text.encode() for name, text in reports.items()})
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    location = _join(base_url, session_id)
    manifest = ArtifactManifest(location=location, sha256=hashes)
    files[MANIFEST_FILE] = manifest.model_dump_json(indent=2).encode()
    try:
        fs, root = fsspec.core.url_to_fs(location)
        fs.makedirs(root, exist_ok=True)
        for name, data in files.items():
            with fs.open(_join(root, name), "wb") as handle:
                handle.write(data)
    except OSError as exc:
        raise ArtifactError(
            f"could not write artifacts of session {session_id}: {exc}; "
            "check OMC_ARTIFACTS_URL and its credentials"
        ) from exc
    logger.info(
        "lab artifacts saved", extra={"session": session_id, "files": len(files)}
    )
    return manifest


def _read(location: str, name: str) -> bytes:
    try:
        fs, root = fsspec.core.url_to_fs(location)
        with fs.open(_join(root, name), "rb") as handle:
            data: bytes = handle.read()
    except OSError as exc:
        raise ArtifactError(f"could not read {name} at {location}: {exc}") from exc
    return data


def read_manifest(base_url: str, session_id: str) -> ArtifactManifest:
    """The manifest of one session's artifacts."""
    raw = _read(_join(base_url, session_id), MANIFEST_FILE)
    return ArtifactManifest.model_validate_json(raw)


def load_model(base_url: str, session_id: str) -> Any:
    """Load a session's model after checking its hash and its types.

    Raises:
        ArtifactError: the file changed since it was saved, or holds types outside
            `TRUSTED_MODEL_TYPES`.
    """
    manifest = read_manifest(base_url, session_id)
    data = _read(manifest.location, MODEL_FILE)
    if hashlib.sha256(data).hexdigest() != manifest.sha256.get(MODEL_FILE):
        raise ArtifactError(
            f"model of session {session_id} does not match its recorded SHA-256; "
            "it was changed after saving and will not be loaded"
        )
    unknown = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_MODEL_TYPES)
    if unknown:
        raise ArtifactError(
            f"model of session {session_id} holds untrusted types {sorted(unknown)}"
        )
    return sio.loads(data, trusted=list(TRUSTED_MODEL_TYPES))
