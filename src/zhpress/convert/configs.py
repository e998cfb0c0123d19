"""OpenCC configurations: the shipped ones with the extra dictionaries chained into segmentation and
conversion, written once per process into a cache folder; the loaded converters."""

from __future__ import annotations

import copy
import hashlib
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import opencc

from .. import files
from ..errors import RenderError
from .settings import Entry


def _share_dir() -> Path:
    """The opencc package's directory of shipped configs and .ocd2 dictionaries."""
    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    if not (share / "s2t.json").is_file():
        raise RenderError(f"OpenCC's dictionaries were not found in {share}", hint="reinstall the opencc package")
    return share


def _absolutize(node: Any, share: Path) -> Any:
    """A copy of an OpenCC dictionary node with its file names made absolute."""
    node = copy.deepcopy(node)
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") in ("ocd2", "text", "ocd") and "file" in item:
                item["file"] = str(share / item["file"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return node


def _text_dict(pairs: dict[str, str]) -> str:
    """OpenCC's text dictionary format: one `key<TAB>value` a line."""
    return "".join(f"{k}\t{v}\n" for k, v in sorted(pairs.items()))


def _wrap(node: dict[str, Any], refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Protected terms win outright (short circuit); book overrides, then zhpress entries, compete by length
    with OpenCC's phrases (union: the longest match wins, the earlier dictionary on a tie)."""
    extra = [refs[k] for k in ("book", "zhpress") if k in refs]
    if extra:
        node = {"type": "group", "match_policy": "union", "dicts": [*extra, node]}
    if "protected" in refs:
        node = {"type": "group", "match_policy": "short_circuit", "dicts": [refs["protected"], node]}
    return node


def build_config(config: str, extras: tuple[Entry, ...]) -> str:
    """The path (or name) of an OpenCC config: `config` with `extras` chained before its own dictionaries.

    The first conversion stage maps each source phrase to its target; every later stage maps the target to
    itself, so the regional stages leave it alone; the phrases join the segmentation dictionary, so a
    phrase such as 院内 is matched as a word before 内核 can be. Configs are cached by content hash.
    """
    if not extras:
        return f"{config}.json"
    share = _share_dir()
    base = json.loads((share / f"{config}.json").read_text(encoding="utf-8"))
    groups: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
    for origin in ("protected", "book", "zhpress"):
        chosen = [e for e in extras if (e.protected and origin == "protected") or (
            not e.protected and e.origin == origin)]
        first = {e.source: e.target for e in chosen}
        later = {e.target: e.target for e in chosen}
        if first:
            groups[origin] = (first, later)
    texts = {f"{origin}-{i}.txt": _text_dict(pairs[i]) for origin, pairs in groups.items() for i in (0, 1)}
    digest = hashlib.sha256(
        json.dumps([str(share), base, sorted(texts.items())], ensure_ascii=False).encode("utf-8")
    ).hexdigest()[:24]
    directory = files.writable_cache_dir("opencc", "OpenCC configs") / f"{config}-{digest}"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        files.write_text_once(directory / name, text)

    def refs(stage: int) -> dict[str, dict[str, Any]]:
        return {o: {"type": "text", "file": str(directory / f"{o}-{stage}.txt")} for o in groups}

    out: dict[str, Any] = dict(base)
    out["name"] = f"{base.get('name', config)} + zhpress"
    if "normalization" in base:
        out["normalization"] = [_absolutize(n, share) for n in base["normalization"]]
    chain = [_absolutize(stage, share) for stage in base["conversion_chain"]]
    seg = _absolutize(base["segmentation"], share) if "segmentation" in base else None
    seg_dict = seg["dict"] if seg is not None else chain[0]["dict"]
    seg_extra = list(refs(0).values())
    out["segmentation"] = {
        "type": seg["type"] if seg is not None else "mmseg",
        "dict": {"type": "group", "match_policy": "union", "dicts": [*seg_extra, seg_dict]},
    }
    out["conversion_chain"] = [
        {**stage, "dict": _wrap(stage["dict"], refs(min(i, 1)))}
        for i, stage in enumerate(chain)
    ]
    path = directory / "config.json"
    files.write_text_once(path, json.dumps(out, ensure_ascii=False, indent=1))
    return str(path)


@cache
def load_opencc(config_path: str) -> opencc.OpenCC:
    """One loaded OpenCC converter per config file per process (loading costs 50–70 ms)."""
    try:
        return opencc.OpenCC(config_path)
    except RuntimeError as exc:  # the binding reports every loading problem as RuntimeError
        raise RenderError(f"OpenCC could not load {config_path}: {exc}") from exc


@lru_cache(maxsize=1)
def normalizer() -> opencc.OpenCC:
    """A converter made of OpenCC's normalization stage alone (the stage before any dictionary)."""
    share = _share_dir()
    norm = json.loads((share / "s2t.json").read_text(encoding="utf-8"))["normalization"][0]["dict"]
    node = _absolutize(norm, share)
    cfg = {"name": "zhpress normalization", "segmentation": {"type": "mmseg", "dict": node},
           "conversion_chain": [{"dict": node}]}
    digest = hashlib.sha256(json.dumps(cfg).encode("utf-8")).hexdigest()[:24]
    directory = files.writable_cache_dir("opencc", "OpenCC configs") / f"normalize-{digest}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    files.write_text_once(path, json.dumps(cfg, ensure_ascii=False))
    return load_opencc(str(path))


# ---------------------------------------------------------------------------------------------------------
