"""`harness skills list | validate | route`: inspect, check and try out skill libraries.

Exit status: 0 fine, 1 `validate` found problems, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROUTERS = ("lexical", "bm25-plain", "embedding", "model", "hybrid")


def add_parser(sub: argparse._SubParsersAction) -> None:
    skills = sub.add_parser("skills", help="list, validate and route skills", description=(
        "Work with skill libraries (folders of NAME/SKILL.md). Without --root, the roots are "
        "the skills shipped with harness, the user's ($HARNESS_SKILLS_HOME or "
        "~/.config/harness/skills), $HARNESS_SKILLS_PATH, then ./skills; later roots "
        "override earlier ones by name."))
    cmds = skills.add_subparsers(dest="skills_command", metavar="COMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--root", action="append", type=Path, default=[], metavar="DIR",
                       help="a skills root (repeatable, later overrides earlier); replaces the "
                            "default roots")
        p.add_argument("--json", action="store_true", help="print JSON only")

    ls = cmds.add_parser("list", help="list the skills that load, and where from",
                         description="List every skill by name with its root and one-line "
                                     "description; problems go to stderr.")
    common(ls)
    ls.set_defaults(func=cmd_list)

    val = cmds.add_parser("validate", help="check skills against the Agent Skills format",
                          description="Validate skill folders, SKILL.md files or whole roots. "
                                      "Exit 1 if any skill has an error (or, with --strict, "
                                      "a warning).")
    val.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="skill folder, SKILL.md or root (default: the library roots)")
    val.add_argument("--strict", action="store_true", help="warnings fail too")
    common(val)
    val.set_defaults(func=cmd_validate)

    route = cmds.add_parser("route", help="show which skills a router picks for a query",
                            description="Rank the library's skills for QUERY and show the "
                                        "section the model would see.")
    route.add_argument("query")
    route.add_argument("--router", choices=ROUTERS, default="lexical")
    route.add_argument("--model", help="litellm model string for the model and hybrid routers")
    route.add_argument("--top-k", type=int, default=3)
    route.add_argument("--budget", type=int, default=1500, help="token budget of the section")
    route.add_argument("--load-confidence", type=float, default=0.5,
                       help="preload the first body at this confidence (above 1: never)")
    common(route)
    route.set_defaults(func=cmd_route)


def _library(args: argparse.Namespace):
    from harness._console import UsageError
    from harness.skills.library import SkillLibrary, default_roots

    for root in args.root:
        if not root.is_dir():
            raise UsageError(f"--root {root}: not a directory")
    return SkillLibrary(args.root or default_roots())


def cmd_list(args: argparse.Namespace) -> int:
    library = _library(args)
    rows = [{"name": s.name, "summary": s.summary, "path": str(s.path),
             "root": str(s.root) if s.root else None,
             "overrides": [str(p) for p in library.overridden.get(s.name, [])]} for s in library]
    if args.json:
        print(json.dumps({"skills": rows, "problems": [p.model_dump() for p in library.problems]}))
        return 0
    for p in library.problems:
        print(f"{p.severity}: {p}", file=sys.stderr)
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        note = f"  (overrides {len(r['overrides'])})" if r["overrides"] else ""
        print(f"{r['name']:{width}}  {r['summary']}{note}")
    if not rows:
        print("no skills found in: " + ", ".join(str(r) for r in library.roots), file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from harness._console import UsageError
    from harness.skills.library import scan_root
    from harness.skills.skill import SkillFileError, parse_skill_file

    problems, checked = [], 0
    if not args.paths:
        library = _library(args)
        problems, checked = list(library.problems), len(library) + len(library.errors)
    for path in args.paths:
        if path.is_file() or (path / "SKILL.md").is_file():
            skill_md = path if path.is_file() else path / "SKILL.md"
            checked += 1
            try:
                problems += parse_skill_file(skill_md)[1]
            except SkillFileError as exc:
                problems.append(exc.problem)
        elif path.is_dir():
            scan = scan_root(path)
            checked += len(scan.skills) + len([p for p in scan.problems if p.severity == "error"])
            problems += scan.problems
        else:
            raise UsageError(f"{path}: no such file or directory")
    errors = [p for p in problems if p.severity == "error"]
    failed = bool(errors) or (args.strict and bool(problems))
    if args.json:
        print(json.dumps({"checked": checked, "ok": not failed,
                          "problems": [p.model_dump() for p in problems]}))
    else:
        for p in problems:
            print(f"{p.severity}: {p}")
        print(f"{checked} skill(s) checked: {len(errors)} error(s), "
              f"{len(problems) - len(errors)} warning(s)", file=sys.stderr)
    return 1 if failed else 0


def make_router(args: argparse.Namespace, library):
    from harness._console import UsageError, make_model
    from harness.skills import EmbeddingRouter, HybridRouter, LexicalRouter, ModelRouter

    kw = {"top_k": args.top_k, "budget_tokens": args.budget,
          "load_confidence": args.load_confidence}
    if args.top_k < 1:
        raise UsageError("--top-k must be at least 1")
    if args.router == "lexical":
        return LexicalRouter(library, **kw)
    if args.router == "bm25-plain":
        return LexicalRouter.plain(library, **kw)
    if args.router == "embedding":
        try:
            return EmbeddingRouter(library, **kw)
        except ImportError as exc:
            raise UsageError(str(exc)) from exc
    if not args.model:
        raise UsageError(f"--router {args.router} needs --model")
    model = ModelRouter(library, make_model(args.model), **kw)
    if args.router == "model":
        return model
    return HybridRouter(library, [(LexicalRouter(library, **kw), 1.0), (model, 1.0)], **kw)


def cmd_route(args: argparse.Namespace) -> int:
    from harness._console import UsageError

    library = _library(args)
    if not len(library):
        raise UsageError("no skills found in: " + ", ".join(str(r) for r in library.roots))
    router = make_router(args, library)
    routing = router.route_query(args.query)
    ranked = router.rank(args.query)
    section = routing.section.text if routing.section else ""
    if args.json:
        print(json.dumps({"router": routing.router,
                          "candidates": [(n, round(s, 4)) for n, s in ranked],
                          "confidence": round(router.confidence(ranked), 4),
                          "loaded": routing.loaded, "tokens": router.count_tokens(section),
                          "section": section}))
        return 0
    if not ranked:
        print("no skill matches this query")
        return 0
    for i, (name, score) in enumerate(ranked, 1):
        mark = "  [body loaded]" if name in routing.loaded else ""
        print(f"{i}. {name}  {score:.3f}{mark}")
    print(f"\nconfidence {router.confidence(ranked):.2f} · section {router.count_tokens(section)} "
          f"tokens\n\n{section}")
    return 0
