"""VM configs and the files they name, as pgvisor will look them up: shared
by scripts/mkiso (Multiboot2 modules) and scripts/mkesp (files on the EFI
system partition).

Names follow the hypervisor's config_resolve_path: a config is named by its
normalised path as given; a file it names by the normalised join of the
config's directory and the value (an absolute value is only normalised).
The files are kernel, ramdisk, every module and every disk's image.
"""
import os
import re
import sys

FILE_KEYS_SINGLE = ("kernel", "ramdisk")
FILE_KEY_LIST = "modules"
# disk = [ "target,format,vdev[,access]", ... ]: the image is the first field
# (xl's positional syntax; pgvisor checks the rest).
DISK_KEY = "disk"
# "part:NAME": a partition pgvisor's own disk drivers find (vmm/load/config.h)
PARTITION_PREFIX = "part:"

TOKEN = re.compile(r"""\s*(?:(?P<str>"[^"\n]*"|'[^'\n]*')|(?P<num>-?(?:0x[0-9a-fA-F]+|\d+))
                        |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[=\[\],;])|(?P<bad>\S))""",
                   re.X)


class UsageError(Exception):
    """A problem to report in one line (the tool's name in front)."""


def tokenize(text, path):
    """(kind, value, line) for every token, comments dropped."""
    tokens = []
    for lineno, line in enumerate(text.splitlines(), 1):
        pos = 0
        while pos < len(line):
            if line[pos:].lstrip().startswith("#") or not line[pos:].strip():
                break
            m = TOKEN.match(line, pos)
            if m.group("bad"):
                raise UsageError(f"{path}:{lineno}: unexpected '{m.group('bad')}'")
            kind = m.lastgroup
            value = m.group(kind)
            if kind == "str":
                value = value[1:-1]
            elif kind == "num":
                value = int(value, 0)
            tokens.append((kind, value, lineno))
            pos = m.end()
    return tokens


def parse_cfg(text, path):
    """The settings of an xl.cfg-style file: {key: str | int | [str, ...]}."""
    tokens = tokenize(text, path)
    settings = {}
    i = 0

    def fail(what):
        line = tokens[min(i, len(tokens) - 1)][2]
        raise UsageError(f"{path}:{line}: expected {what}")

    def take(kind, what, value=None):
        nonlocal i
        if i >= len(tokens) or tokens[i][0] != kind or (value is not None
                                                         and tokens[i][1] != value):
            fail(what)
        i += 1
        return tokens[i - 1][1]

    def at(value):
        return i < len(tokens) and tokens[i][0] == "punct" and tokens[i][1] == value

    while i < len(tokens):
        key = take("ident", "a setting name")
        take("punct", "'=' after " + key, "=")
        if at("["):
            i += 1
            value = []
            while not at("]"):
                value.append(take("str", "a string or ']' in " + key))
                if not at("]"):
                    take("punct", "',' or ']' in " + key, ",")
            i += 1
        elif i < len(tokens) and tokens[i][0] in ("str", "num"):
            value = tokens[i][1]
            i += 1
        else:
            fail("a value for " + key)
        if at(";"):
            i += 1
        settings[key] = value
    return settings


def resolve(cfg_name, value):
    if os.path.isabs(value):
        return os.path.normpath(value)
    return os.path.normpath(os.path.join(os.path.dirname(cfg_name), value))


def warn(problem):
    prog = os.path.basename(sys.argv[0])
    sys.stderr.write(f"{prog}: warning: {problem}; the config goes in as it is and pgvisor "
                     "will report it\n")


def files_of_cfg(cfg_arg):
    """Names of the config itself, then of every file it names. A
    normalised name is also the file's path relative to the current
    directory. A config pgvisor would refuse (bad syntax, a file missing)
    is still put on the boot medium, with a warning: refusing it with a
    clear message is pgvisor's job, and the tests check that it does."""
    name = os.path.normpath(cfg_arg)
    try:
        with open(name, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise UsageError(f"{name}: cannot read config: {e.strerror}")
    try:
        settings = parse_cfg(text, name)
    except UsageError as e:
        warn(str(e))
        return [name]
    if "kernel" not in settings:
        raise UsageError(f"{name}: no kernel setting")
    named = []
    for key in FILE_KEYS_SINGLE:
        if key in settings:
            named.append((key, settings[key]))
    modules = settings.get(FILE_KEY_LIST, [])
    if not isinstance(modules, list):
        raise UsageError(f"{name}: {FILE_KEY_LIST} must be a list of strings")
    named += [(FILE_KEY_LIST, m) for m in modules]
    disks = settings.get(DISK_KEY, [])
    if not isinstance(disks, list):
        warn(f"{name}: {DISK_KEY} must be a list of strings")
        disks = []
    for spec in disks:
        target = spec.split(",")[0].strip(" \t")  # as pgvisor trims
        if not target:
            warn(f"{name}: {DISK_KEY} \"{spec}\": no target")
            continue
        if target.startswith(PARTITION_PREFIX):
            continue  # a partition of the machine's disk, not a file
        named.append((DISK_KEY, target))
    files = [name]
    for key, value in named:
        if not isinstance(value, str):
            raise UsageError(f"{name}: {key} must be a string")
        path = resolve(name, value)
        if not os.path.isfile(path):
            warn(f"{name}: {key} \"{value}\": no such file {path}")
            continue
        files.append(path)
    return files


def files_of_cfgs(cfgs):
    """The names of files_of_cfg for every config, each once, in order."""
    names = []
    seen = set()
    for cfg in cfgs:
        for name in files_of_cfg(cfg):
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names
