"""YAML policy files → validated specs, with errors that name the file, line and field.

policies/packs/high-risk.yaml:14: checks[1].type: unknown check type 'fairnes'
  (known: drift, explainability, fairness, kpi, quality; did you mean 'fairness'?)
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from policies.schema import CheckSpec, EffectivePolicy, PolicyFile

Loc = tuple[str | int, ...]


class PolicyError(Exception):
    """One or more problems in policy files; `issues` holds one line each."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues


@dataclass(frozen=True)
class LoadedPolicy:
    path: Path
    text: str
    spec: PolicyFile
    lines: dict[Loc, int]

    def where(self, loc: Loc) -> str:
        return f"{display_path(self.path)}:{_line_for(self.lines, loc)}"


def display_path(path: Path) -> str:
    """Relative to the working directory when the file is under it (as people type it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _line_map(
    node: yaml.Node, loc: Loc, out: dict[Loc, int], issues: list[str], path: Path
) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                issues.append(
                    f"{path}:{key_node.start_mark.line + 1}: {_dotted(loc + (key,))}: "
                    "duplicate key (the later value would silently win)"
                )
            seen.add(key)
            _line_map(value_node, loc + (key,), out, issues, path)
            out[loc + (key,)] = key_node.start_mark.line + 1  # point at the key, not the value
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, loc + (i,), out, issues, path)


def _line_for(lines: dict[Loc, int], loc: Loc) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return 1


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown field"
    if err["type"] == "literal_error" and "ctx" in err:
        return f"must be one of {err['ctx'].get('expected', '')}"
    return msg.removeprefix("Value error, ")


def _issues(
    exc: ValidationError, loaded_lines: dict[Loc, int], path: Path, prefix: Loc = ()
) -> list[str]:
    out = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        out.append(f"{path}:{_line_for(loaded_lines, loc)}: {_dotted(loc)}: {_describe(err)}")
    return out


def _check_params(raw_checks: Any, lines: dict[Loc, int], path: Path) -> list[str]:
    """Each check's type and params, judged by the check's own schema (on the raw data, so
    these problems are reported even when the rest of the file has errors too)."""
    from checks.registry import CHECKS

    issues: list[str] = []
    if not isinstance(raw_checks, list):
        return issues
    for i, check in enumerate(raw_checks):
        if not isinstance(check, dict) or not isinstance(check.get("type"), str):
            continue
        impl = CHECKS.get(check["type"])
        if impl is None:
            known = ", ".join(sorted(CHECKS))
            close = difflib.get_close_matches(check["type"], CHECKS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.append(
                f"{path}:{_line_for(lines, ('checks', i, 'type'))}: "
                f"checks[{i}].type: unknown check type {check['type']!r} "
                f"(known: {known}){hint}"
            )
            continue
        try:
            impl.Params.model_validate(check.get("params") or {})
        except ValidationError as exc:
            issues.extend(_issues(exc, lines, path, ("checks", i, "params")))
    return issues


def load_policy_file(path: Path) -> LoadedPolicy:
    """Parse and validate one file; raises PolicyError listing every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"{path}: cannot read: {exc}"]) from None
    return parse_policy(text, path)


def parse_policy(text: str, path: Path) -> LoadedPolicy:
    """Validate policy text; `path` names it in messages (a file, or e.g. `<request>`)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([f"{path}{line}: not valid YAML: {problem}"]) from None
    lines: dict[Loc, int] = {}
    issues: list[str] = []
    if node is not None:
        _line_map(node, (), lines, issues, path)
    if not isinstance(data, dict):
        raise PolicyError([f"{path}:1: a policy file must be a mapping with at least `name:`"])
    issues += _check_params(data.get("checks"), lines, path)
    try:
        spec = PolicyFile.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_issues(exc, lines, path) + issues) from None
    if issues:
        raise PolicyError(issues)
    return LoadedPolicy(path=path, text=text, spec=spec, lines=lines)


def policy_files(paths: Iterable[Path]) -> list[Path]:
    """The *.yaml / *.yml files under the given files and directories, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
        elif p.exists():
            out.append(p)
    return out


def load_policies(paths: Iterable[Path]) -> list[LoadedPolicy]:
    """Load every policy file; raises one PolicyError with the problems of all files."""
    loaded, issues = [], []
    names: dict[str, Path] = {}
    for path in policy_files(paths):
        try:
            policy = load_policy_file(path)
        except PolicyError as exc:
            issues += exc.issues
            continue
        if policy.spec.name in names:
            issues.append(
                f"{path}:{policy.lines.get(('name',), 1)}: name: policy "
                f"{policy.spec.name!r} is also defined in {names[policy.spec.name]}"
            )
        names[policy.spec.name] = path
        loaded.append(policy)
    if issues:
        raise PolicyError(issues)
    return loaded


def effective_policy(
    policies: Sequence[LoadedPolicy], *, model: str, risk_tier: str, tags: list[str]
) -> EffectivePolicy:
    """Merge the policies that apply to a model, lowest priority first.

    A later policy's check with the same name replaces the earlier one (`enabled: false`
    removes it); approvals are replaced per stage; schedule and on_insufficient_data are
    replaced when given.
    """
    matching = sorted(
        (
            p
            for p in policies
            if p.spec.applies_to.matches(name=model, risk_tier=risk_tier, tags=tags)
        ),
        key=lambda p: (p.spec.priority, str(p.path)),
    )
    checks: dict[str, CheckSpec] = {}
    sources: dict[str, str] = {}
    approvals: dict[str, Any] = {}
    schedule = None
    on_insufficient = "warn"
    digest = hashlib.sha256()
    for p in matching:
        digest.update(str(p.path.name).encode() + b"\0" + p.text.encode("utf-8") + b"\0")
        for i, check in enumerate(p.spec.checks):
            checks.pop(check.key, None)
            if check.enabled:
                checks[check.key] = check
                sources[check.key] = p.where(("checks", i))
        approvals.update(p.spec.approvals)
        if p.spec.schedule is not None:
            schedule = p.spec.schedule
        if "on_insufficient_data" in p.spec.model_fields_set:
            on_insufficient = p.spec.on_insufficient_data
    return EffectivePolicy(
        model=model,
        sources=[display_path(p.path) for p in matching],
        sha256=digest.hexdigest(),
        checks=list(checks.values()),
        check_sources={k: sources[k] for k in checks},
        approvals=approvals,
        schedule=schedule,
        on_insufficient_data=on_insufficient,
    )
