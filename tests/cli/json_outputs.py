"""Validates the --json outputs the CLI tests produced against docs/output.schema.json.

The CLI tests run affine through a wrapper (tests/cli/affine_json_capture.in) that
keeps every output of a --json call (or calc's --to json) with its command line in a
directory; this script, run after them (the cli.json_outputs test), checks each one
against the definition the schema's x-commands picks for its command line. An output
whose command no definition names fails too, so no command's --json escapes.

usage: json_outputs.py SCHEMA DIR    validate DIR's captures (one line per failure)
       json_outputs.py SCHEMA        list the x-commands entries, one "ENTRY<TAB>DEF" a line
Needs Debian's python3-jsonschema (Draft 2020-12).
"""
import glob
import json
import os
import re
import sys

# Options of a command group that come before its subcommand and take a value.
GROUP_OPTIONS = {"xen": {"--host"}, "daemon": {"--config", "--state-dir"}}


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def entries(schema):
    """(command words, options, definition) for every x-commands entry."""
    for name, definition in schema["$defs"].items():
        for entry in definition.get("x-commands", []):
            # The command words, then options with their values ("calc --to json").
            words = re.sub(r"\s*\(.*\)$", "", entry).split()
            first_option = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
            yield words[:first_option], words[first_option:], name, entry


def tokens(argv):
    """affine's own arguments (up to "--"), with --opt=value split in two."""
    out = []
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--") and "=" in arg:
            out.extend(arg.split("=", 1))
        else:
            out.append(arg)
    return out


def command_of(argv):
    """The command words of a command line: "topo", or "xen" and its subcommand."""
    words = tokens(argv)
    if not words:
        return []
    command = [words[0]]
    if words[0] in GROUP_OPTIONS:
        i = 1
        while i < len(words) and words[i].startswith("-"):
            i += 2 if words[i] in GROUP_OPTIONS[words[0]] else 1
        if i < len(words):
            command.append(words[i])
    return command


def definitions_for(schema, argv):
    """The definitions an output of this command line may follow: of the entries that
    name its command, those naming the most of its options (all of which it has)."""
    command = command_of(argv)
    words = tokens(argv)
    best, names = -1, []
    for entry_command, options, name, _ in entries(schema):
        if entry_command != command or not all(o in words for o in options):
            continue
        if len(options) > best:
            best, names = len(options), []
        if len(options) == best:
            names.append(name)
    return names


def verdict(schema, document, names):
    """(the definition the document follows, None), or (None, the first error)."""
    from jsonschema import Draft202012Validator
    first = None
    for name in names:
        validator = Draft202012Validator({"$ref": "#/$defs/" + name, "$defs": schema["$defs"]})
        errors = sorted(validator.iter_errors(document), key=str)
        if not errors:
            return name, None
        if first is None:
            error = errors[0]
            where = "/".join(str(p) for p in error.absolute_path)
            first = f"{name}: {where or '(top)'}: {error.message}"
    return None, first


def check_directory(schema, directory):
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        print("FAIL python3-jsonschema not found (scripts/install-deps installs it)")
        return False
    Draft202012Validator.check_schema(schema)
    failures, counts = 0, {}
    for argv_path in sorted(glob.glob(os.path.join(directory, "*.argv"))):
        with open(argv_path, "rb") as f:
            test, _, args = f.read().partition(b"\n")
        argv = [a.decode("utf-8", "replace") for a in args.split(b"\0")[:-1]]
        line = "affine " + " ".join(argv)
        with open(argv_path[: -len(".argv")], "rb") as f:
            text = f.read().decode("utf-8", "replace")
        if not text.strip():
            continue  # the command printed nothing (it failed before its output)
        names = definitions_for(schema, argv)
        followed, problem = None, "no definition in the schema names this command (x-commands)"
        if names:
            try:
                followed, problem = verdict(schema, json.loads(text), names)
            except json.JSONDecodeError as e:
                problem = f"not JSON: {e}"
        if followed:
            counts[followed] = counts.get(followed, 0) + 1
            continue
        failures += 1
        print(f"FAIL {test.decode()}: {line}: {problem}")
    for name, count in sorted(counts.items()):
        print(f"ok   {name}: {count} output{'s' if count != 1 else ''}")
    print(f"{sum(counts.values())} outputs valid, {failures} invalid")
    return failures == 0


def main():
    schema = load_schema(sys.argv[1])
    if len(sys.argv) == 2:
        for _, _, name, entry in entries(schema):
            print(f"{entry}\t{name}")
        return 0
    return 0 if check_directory(schema, sys.argv[2]) else 1


if __name__ == "__main__":
    sys.exit(main())
