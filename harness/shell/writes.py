"""Where commands write by their options, and which paths other commands hand them.

Writers name their targets in options (`gcc -o out`, `tar -C dir`, `unzip -d dir`,
`pip install --target dir`) or in the archive they create (`tar cf a.tgz`, `zip a.zip`);
`find -exec` runs a command on what it finds; listers (`find`, `git ls-files`, `grep -l`,
`ls`, `fd`, `rg -l`) print paths under their roots for `xargs` or `$(…)` to use. These are
facts about words, for `harness.shell.accesses` to resolve and the protections to judge.
"""

from __future__ import annotations

import re

from harness.shell.command import ParsedCommand, SimpleCommand

# Programs -> options whose value is a file or folder the program writes.
OUTPUT_OPTIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("gcc", "g++", "cc", "c++", "clang", "clang++", "ld", "ld.lld", "ld.gold",
                     "lld", "tcc", "nvcc", "gfortran", "emcc", "as", "strip", "objcopy", "upx"),
                    ("-o",)),
    "go": ("-o",), "rustc": ("-o", "--out-dir"), "sort": ("-o", "--output"),
    "javac": ("-d",), "tsc": ("--outDir", "--outFile"), "esbuild": ("--outfile", "--outdir"),
    "pandoc": ("-o", "--output"), "docker": ("-o", "--output"),
    "curl": ("-o", "--output"), "wget": ("-O", "--output-document", "-P", "--directory-prefix"),
    "cargo": ("--target-dir", "--root"), "pyinstaller": ("--distpath", "--workpath"),
    "pip": ("-t", "--target", "--prefix", "--root", "-d", "--dest", "-w", "--wheel-dir",
            "--src"),
    "npm": ("--prefix",), "pnpm": ("--prefix", "--dir"), "yarn": ("--modules-folder", "--cwd"),
    "gem": ("-i", "--install-dir", "--bindir"), "bun": ("--outdir", "--outfile"),
    "openssl": ("-out",), "zip": ("-O", "--output-file"), "make": ("-C", "--directory"),
}
for _pip in ("pip3", "uv"):
    OUTPUT_OPTIONS[_pip] = OUTPUT_OPTIONS["pip"]
# Options that name an output folder or file whatever the program.
GENERIC_OUTPUTS = ("--output-dir", "--outdir", "--out-dir", "--output-directory", "--outfile",
                   "--output-file", "--target-dir", "--install-dir")
TAR = {"tar", "bsdtar", "gtar"}
ZIP_VALUE_OPTIONS = {"-b", "-n", "-t", "-tt", "-P", "-Z", "-s", "-O", "-x", "-i"}
# Commands that pass on the paths they read on stdin, unchanged or fewer of them.
FILTERS = {"grep", "egrep", "fgrep", "sort", "uniq", "head", "tail"}
# Finds that pick files by a test keep a deletion to what matches; without one it is total.
FIND_TESTS = {"-name", "-iname", "-path", "-ipath", "-wholename", "-regex", "-iregex",
              "-newer", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size",
              "-empty", "-user", "-group", "-perm", "-inum", "-samefile", "-links"}
FIND_EXEC = ("-exec", "-execdir", "-ok", "-okdir")
CONTAINER_CLIS = {"docker", "podman", "nerdctl"}
HOST_NAMESPACES = ("--pid", "--ipc", "--uts", "--userns", "--cgroupns")
ESCAPE_CAPABILITIES = {"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "DAC_READ_SEARCH",
                       "SYS_RAWIO"}
# `-v/:/host` and `-itv/:/host`: the value attached to the short option (after flags).
ATTACHED_VOLUME = re.compile(r"-[itdPq]*v=?([^=-].*)")
HOST_DISK = re.compile(r"^/dev/(sd|hd|nvme|xvd|vd|disk|mmcblk|md|dm-|loop|mapper/|mem|kmem|port)")
CURRENT_DIR = re.compile(r"^(\$\(pwd\)|`pwd`|\$\{?PWD\}?)")


def option_value(cmd: SimpleCommand, short: str, long: str) -> str | None:
    """The value of `-x v`, `-abx v` (a cluster ending in the option), `--long v` or
    `--long=v`."""
    args = cmd.args
    for i, a in enumerate(args):
        if (a == long or re.fullmatch(rf"-[A-Za-z]*{short[1]}", a)) and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(long + "="):
            return a.split("=", 1)[1]
    return None


def option_values(args: list[str], options: tuple[str, ...]) -> list[str]:
    """Values of the options (`-o v`, `--out v`, `--out=v`; no clusters: `-flto` is not
    `-o`)."""
    out = []
    for i, a in enumerate(args):
        if a in options and i + 1 < len(args):
            out.append(args[i + 1])
        elif "=" in a and a.split("=", 1)[0] in options:
            out.append(a.split("=", 1)[1])
    return out


def output_paths(cmd: SimpleCommand) -> list[str]:
    """Files and folders a command writes as named by its options or, for archivers, the
    archive it creates and the folder it extracts into."""
    if cmd.program in TAR:
        return _tar_writes(cmd)
    if cmd.program in ("unzip", "7z", "7za", "7zr"):
        folder = extract_dir(cmd)
        out = [folder] if folder else []
        if cmd.program != "unzip" and cmd.positionals()[:1] in (["a"], ["u"]):
            out += cmd.positionals()[1:2]
        return out
    out = option_values(cmd.args, OUTPUT_OPTIONS.get(cmd.program, ()) + GENERIC_OUTPUTS)
    if cmd.program == "zip":
        out += _zip_archive(cmd.args)
    return out


def extract_dir(cmd: SimpleCommand) -> str | None:
    """The folder an archiver unpacks into (`tar x -C d`, `unzip -d d`, `7z x -od`; the
    current one by default), or None when the command does not unpack."""
    if cmd.program in TAR:
        args = _tar_args(cmd)
        if not ({"-x", "--extract", "--get"} & _flags(args)):
            return None
        found = option_values(args, ("-C", "--directory"))
        return found[-1] if found else "."
    if cmd.program == "unzip":
        if {"-l", "-t", "-v", "-p", "-z", "-Z"} & cmd.flags():
            return None
        return (option_values(cmd.args, ("-d",)) or ["."])[-1]
    if cmd.program in ("7z", "7za", "7zr") and cmd.positionals()[:1] in (["x"], ["e"]):
        return next((a[2:] for a in cmd.args if a.startswith("-o") and len(a) > 2), ".")
    return None


def archives_read(cmd: SimpleCommand) -> list[str]:
    """The archive an unpacking command reads."""
    if cmd.program in TAR:
        return option_values(_tar_args(cmd), ("-f", "--file"))
    pos = cmd.positionals()
    return pos[:1] if cmd.program == "unzip" else pos[1:2]


def _tar_writes(cmd: SimpleCommand) -> list[str]:
    args = _tar_args(cmd)
    flags = _flags(args)
    if {"-c", "--create", "-r", "--append", "-u", "--update"} & flags:
        return option_values(args, ("-f", "--file"))
    folder = extract_dir(cmd)
    return [folder] if folder else []


def _tar_args(cmd: SimpleCommand) -> list[str]:
    """tar's arguments with bundles split: old-style `czf a` and `-xzf a` become
    `-c -z -f a`, so an option's value follows it."""
    args = list(cmd.args)
    if args and re.fullmatch(r"[A-Za-z]+", args[0]):
        args[0] = "-" + args[0]
    out = []
    for a in args:
        if re.fullmatch(r"-[A-Za-z]{2,}", a):
            out += [f"-{c}" for c in a[1:]]
        else:
            out.append(a)
    return out


def _flags(args: list[str]) -> set[str]:
    return {a.split("=", 1)[0] for a in args if a.startswith("-")}


def _zip_archive(args: list[str]) -> list[str]:
    """zip's first operand, the archive it writes."""
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ZIP_VALUE_OPTIONS:
            skip = True
        elif not a.startswith("-"):
            return [a]
    return []


def find_roots(cmd: SimpleCommand) -> list[str]:
    roots = []
    for a in cmd.args:
        if a.startswith("-") or a in ("(", "!"):
            break
        roots.append(a)
    return roots or ["."]


def find_exec_commands(cmd: SimpleCommand) -> list[SimpleCommand]:
    """The commands a `find` runs with `-exec …`, with `{}` standing for the find's roots
    (the folders holding what it finds), one command per root; with `-name N`, for the
    files named N at any depth under them (`root/**/N`)."""
    out, args = [], cmd.args
    named = option_values(args, ("-name", "-iname"))
    for i, a in enumerate(args):
        if a not in FIND_EXEC:
            continue
        end = next((j for j in range(i + 1, len(args)) if args[j] in (";", "+")), len(args))
        argv = args[i + 1:end]
        if argv:
            for root in find_roots(cmd):
                found = f"{root.rstrip('/')}/**/{named[0]}" if named else root
                out.append(SimpleCommand(argv=[found if w == "{}" else w for w in argv],
                                         text=cmd.text, scope=cmd.scope))
    return out


def find_deletes(cmd: SimpleCommand) -> bool:
    """Does a `find` delete what it finds (`-delete`, `-exec rm …`)?"""
    args = cmd.args
    if "-delete" in args:
        return True
    for i, a in enumerate(args):
        if a in FIND_EXEC and i + 1 < len(args):
            return args[i + 1].rsplit("/", 1)[-1] in {"rm", "rmdir", "unlink", "shred"}
    return False


def find_selects_all(cmd: SimpleCommand) -> bool:
    """Does a `find` select everything under its roots (no test narrows it)?"""
    return not FIND_TESTS & set(cmd.args)


def listed_roots(cmd: SimpleCommand) -> list[str] | None:
    """The folders under which the paths a lister prints lie (as written), or None when
    the command is not a known lister. Filters after it (`| grep -v x`) keep them."""
    while cmd.program in FILTERS and not cmd.positionals()[1:] and cmd.upstream is not None:
        cmd = cmd.upstream
    prog, pos, flags = cmd.program, cmd.positionals(), cmd.flags()
    if prog == "find":
        roots = find_roots(cmd)
    elif prog == "git" and pos[:1] == ["ls-files"]:
        roots = option_values(cmd.args[:cmd.args.index("ls-files")], ("-C",)) or ["."]
    elif prog in ("grep", "egrep", "fgrep", "rg") and (
            {"-l", "-L", "--files-with-matches", "--files-without-match"} & flags
            or prog == "rg" and "--files" in flags):
        pattern_given = {"-e", "-f", "--regexp", "--file", "--files"} & flags
        roots = pos if pattern_given else pos[1:]
        roots = roots or ["."]
    elif prog in ("fd", "fdfind"):
        roots = pos[1:] or ["."]
    elif prog == "ls":
        roots = [*pos, "."]  # bare names are relative to the current folder
    else:
        return None
    return [cmd.word(r) for r in roots]


def substituted_roots(sub: ParsedCommand) -> list[str] | None:
    """For `$(…)` that lists files, the folders holding what it prints; else None."""
    if len(sub.pipelines) != 1 or any(c.subs or c.nested for c in sub.pipelines[0].commands):
        return None
    return listed_roots(sub.pipelines[0].commands[-1])


def _runs_container(cmd: SimpleCommand) -> bool:
    return cmd.program in CONTAINER_CLIS and bool({"run", "create"} & set(cmd.args[:3]))


def bind_sources(cmd: SimpleCommand) -> list[str]:
    """Host folders a container is given to write (`-v /src:/dst`, `--mount type=bind`),
    as written; `$PWD` and `$(pwd)` stand for the current folder, named volumes are left out."""
    if not _runs_container(cmd):
        return []
    volumes = option_values(cmd.args, ("-v", "--volume"))
    volumes += [m[1] for a in cmd.args if (m := ATTACHED_VOLUME.fullmatch(a))]
    sources = [v.split(":", 1)[0] for v in volumes]
    for spec in option_values(cmd.args, ("--mount",)):
        fields = dict(f.split("=", 1) for f in spec.split(",") if "=" in f)
        if fields.get("type") == "bind":
            sources.append(fields.get("source") or fields.get("src") or "")
    words = [CURRENT_DIR.sub(".", cmd.word(raw)) for raw in sources]
    return [w for w in words if w.startswith(("/", ".", "~", "$"))]


def container_privilege(cmd: SimpleCommand) -> str | None:
    """How a container run is given control of the machine (privileged, a host namespace,
    an escaping capability), or None."""
    if not _runs_container(cmd):
        return None
    if "--privileged" in cmd.flags():
        return "runs a privileged container, which controls the machine"
    for opt in HOST_NAMESPACES:
        if "host" in option_values(cmd.args, (opt,)):
            return f"shares the host's namespace ({opt}=host)"
    disk = next((d for d in option_values(cmd.args, ("--device",)) if HOST_DISK.match(d)), None)
    if disk is not None:
        return f"gives the container the host's disk or memory ({disk.split(':')[0]})"
    caps = {c.upper().removeprefix("CAP_") for c in option_values(cmd.args, ("--cap-add",))}
    if caps & ESCAPE_CAPABILITIES:
        return f"grants the container {sorted(caps & ESCAPE_CAPABILITIES)[0]}"
    return None
