"""Generate the malformed-input corpus: hostile catalogs, sources that are not regular files, bad arguments.

Run as a script (``python tests/data/bad/make_corpus.py FOLDER``) to look at the files, or call
:func:`make_corpus` (the reliability tests do, into a temporary folder). Nothing is committed but this script: the
corpus holds a FIFO, a symlink loop and a 5 MiB file, which do not belong in git.

Layout of the corpus folder::

    data/        sources: a valid small SEG-Y, a FIFO, a symlink loop, a folder, pickled .npy/.npz
    catalogs/    one catalog per case (root ../out: whatever a case writes would land in FOLDER/out)

Each :class:`Case` says how to run it through the API and the command line (argv, run from the corpus folder) and
which error of ``mdio_catalog.exceptions`` it must end in (by class name).
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdio_catalog.specs.limits import MAX_OUTPUT_NAME_BYTES

#: A device that never ends when read: a source must be refused before anything reads it.
ENDLESS_DEVICE = "/dev/zero"

HEAD = "version: 1\nname: bad-corpus\nroot: ../out\n"
STACK = "    template: PostStack3DTime\n    source: {segy: ../data/stack.sgy}\n    chunks: [4, 4, 8]\n"


@dataclass(frozen=True)
class Case:
    """One malformed input and how it must fail."""

    name: str
    kind: str  # "catalog" (load fails), "build" (loads, build fails), "segy", "argument"
    argv: tuple[str, ...]  # command line (after mdio-catalog), run from the corpus folder
    error: str  # class name in mdio_catalog.exceptions
    message: str = ""  # a substring of the error message
    catalog: str | None = None  # the catalog file (relative to the corpus folder)
    source: str | None = None  # the SEG-Y source of "segy" cases


def write_segy(
    path: Path,
    inlines: range = range(10, 14),
    crosslines: range = range(20, 25),
    samples: int = 8,
    amplitudes: np.ndarray | None = None,
    interval: int = 4000,
) -> None:
    """A small big-endian IEEE-float post-stack SEG-Y (inline at byte 189, crossline at 193), written with numpy.

    ``amplitudes`` (traces x samples, C order of inline then crossline) replaces the random samples (NaN, inf...);
    ``interval`` is the sample interval in microseconds written to the binary and trace headers (0: unknown)."""
    text = ("C 1 BAD-INPUT CORPUS: A VALID FILE".ljust(80) * 40).encode("cp500")
    binary = bytearray(400)
    struct.pack_into(">h", binary, 3216 - 3200, interval)  # sample interval (us), bytes 3217-3218
    struct.pack_into(">h", binary, 3220 - 3200, samples)  # samples per trace, bytes 3221-3222
    struct.pack_into(">h", binary, 3224 - 3200, 5)  # IEEE float, bytes 3225-3226
    struct.pack_into(">h", binary, 3500 - 3200, 0x0100)  # revision 1
    traces = []
    rng = np.random.default_rng(0)
    for il in inlines:
        for xl in crosslines:
            header = bytearray(240)
            struct.pack_into(">i", header, 188, il)
            struct.pack_into(">i", header, 192, xl)
            struct.pack_into(">h", header, 114, samples)
            struct.pack_into(">h", header, 116, interval)
            values = rng.standard_normal(samples) if amplitudes is None else amplitudes[len(traces)]
            traces.append(bytes(header) + np.asarray(values).astype(">f4").tobytes())
    path.write_bytes(text + bytes(binary) + b"".join(traces))


def _catalog(folder: Path, name: str, text: str | bytes) -> str:
    path = folder / "catalogs" / f"{name}.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return f"catalogs/{name}.yaml"


def _catalog_case(folder: Path, name: str, text: str | bytes, error: str, message: str = "") -> Case:
    relative = _catalog(folder, name, text)
    return Case(name, "catalog", ("validate", "-c", relative), error, message, catalog=relative)


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{','.join([f'*{prev}'] * 9)}]")
    return HEAD + "\n".join(lines) + "\n"


def catalog_cases(folder: Path) -> list[Case]:
    """Hostile catalogs: each fails to load (validate) with a located spec error, before anything is built."""
    pattern = "patterns: [{{pattern: 's{{survey}}_{{stage}}', output: '{output}'}}]\n"
    cases = [
        _catalog_case(
            folder,
            "pattern-dotdot",
            HEAD + pattern.format(output="{survey}/{stage}.mdio") + "datasets:\n  s.._stack:\n" + STACK,
            "SpecValidationError",
            "'..' part",
        ),
        _catalog_case(
            folder,
            "pattern-dot-is-root",
            HEAD + pattern.format(output="{survey}") + "datasets:\n  s._stack:\n" + STACK,
            "SpecValidationError",
            "'.' part",
        ),
        _catalog_case(
            folder,
            "pattern-dot-in-path",
            HEAD + pattern.format(output="{survey}/{stage}.mdio") + "datasets:\n  s._stack:\n" + STACK,
            "SpecValidationError",
            "'.' part",
        ),
        _catalog_case(
            folder,
            "pattern-hidden",
            HEAD + pattern.format(output="{survey}/{stage}.mdio") + "datasets:\n  s.git_stack:\n" + STACK,
            "SpecValidationError",
            "hidden part",
        ),
        _catalog_case(
            folder,
            "pattern-nested",
            HEAD
            + "patterns:\n  - {pattern: 'top{survey}', output: '{survey}.mdio'}\n"
            + "  - {pattern: '{survey}_{stage}', output: '{survey}.mdio/{stage}.mdio'}\n"
            + "datasets:\n  topnorth:\n"
            + STACK
            + "  north_stack:\n"
            + STACK,
            "SpecValidationError",
            "inside dataset",
        ),
        _catalog_case(
            folder,
            "pattern-absolute",
            HEAD + pattern.format(output="/tmp/{survey}/{stage}.mdio") + "datasets:\n  snorth_stack:\n" + STACK,
            "SpecValidationError",
            "relative path inside the root",
        ),
        _catalog_case(
            folder,
            "name-absolute",
            HEAD + "datasets:\n  /etc/stack:\n" + STACK,
            "SpecValidationError",
            "absolute path",
        ),
        _catalog_case(
            folder,
            "name-dotdot",
            HEAD + "datasets:\n  ../stack:\n" + STACK,
            "SpecValidationError",
            "escape the catalog root",
        ),
        _catalog_case(
            folder,
            "name-too-long-to-stage",
            HEAD + "datasets:\n  " + "a" * 199 + ":\n" + STACK,
            "SpecValidationError",
            f"at most {MAX_OUTPUT_NAME_BYTES} bytes",
        ),
        _catalog_case(
            folder,
            "not-utf8",
            (HEAD + "datasets:\n  stack:\n" + STACK).encode() + b"    description: caf\xe9\n",
            "SpecValidationError",
            "save the file as UTF-8",
        ),
        _catalog_case(
            folder,
            "utf16",
            (HEAD + "datasets:\n  stack:\n" + STACK).encode("utf-16"),
            "SpecValidationError",
            "UTF-16",
        ),
        _catalog_case(
            folder,
            "control-character",
            HEAD + "datasets:\n  stack:\n" + STACK + "    description: a\x97b\n",
            "SpecValidationError",
            "U+0097",
        ),
        _catalog_case(
            folder,
            "nul-byte",
            HEAD + "datasets:\n  stack:\n" + STACK + "    description: a\x00b\n",
            "SpecValidationError",
            "U+0000",
        ),
        _catalog_case(
            folder, "billion-laughs", _billion_laughs(), "SpecLimitError", "MDIO_CATALOG_SPEC_MAX_ALIAS_NODES"
        ),
        _catalog_case(
            folder,
            "billion-laughs-merge",
            HEAD
            + "a: &a {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}\n"
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7)),
            "SpecLimitError",
            "MDIO_CATALOG_SPEC_MAX_ALIAS_NODES",
        ),
        _catalog_case(
            folder, "deep-flow", HEAD + "x: " + "[" * 5000 + "]" * 5000 + "\n", "SpecLimitError", "MAX_DEPTH"
        ),
        _catalog_case(
            folder,
            "deep-block",
            HEAD + "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300)) + "  " * 300 + "v: 1\n",
            "SpecLimitError",
            "MAX_DEPTH",
        ),
        _catalog_case(
            folder,
            "huge-file",
            HEAD + "datasets:\n  stack:\n" + STACK + ("# " + "x" * 1021 + "\n") * (5 * 1024),
            "SpecLimitError",
            "MDIO_CATALOG_SPEC_MAX_BYTES",
        ),
        _catalog_case(
            folder, "unknown-tag", HEAD + "datasets:\n  stack: !foo\n" + STACK, "SpecValidationError", "'!foo'"
        ),
        _catalog_case(
            folder,
            "python-tag",
            HEAD + "datasets:\n  stack:\n" + STACK + "    description: !!python/object/apply:os.system ['touch x']\n",
            "SpecValidationError",
            "unknown tag",
        ),
        _catalog_case(
            folder,
            "yaml11-octal",
            HEAD + "datasets:\n  stack:\n    template: PostStack3DTime\n    source: {segy: ../data/stack.sgy}\n"
            "    chunks: [020, 4, 8]\n",
            "SpecValidationError",
            "ambiguous",
        ),
        _catalog_case(
            folder,
            "yaml11-sexagesimal",
            HEAD + "datasets:\n  stack:\n    source:\n      segy: ../data/stack.sgy\n"
            "      index:\n        - name: inline\n          byte: 3:09\n"
            "        - {name: crossline, byte: 193}\n",
            "SpecValidationError",
            "valid integer",
        ),
        _catalog_case(
            folder,
            "yaml11-binary",
            HEAD + "datasets:\n  stack:\n    source:\n      segy: ../data/stack.sgy\n"
            "      index:\n        - name: inline\n          byte: 0b10111101\n"
            "        - {name: crossline, byte: 193}\n",
            "SpecValidationError",
            "valid integer",
        ),
        _catalog_case(
            folder,
            "duplicate-key",
            HEAD + "datasets:\n  stack:\n" + STACK + "  stack:\n" + STACK,
            "SpecValidationError",
            "duplicate key 'stack'",
        ),
        _catalog_case(
            folder,
            "duplicate-merge-key",
            HEAD + "base: &b {template: PostStack3DTime}\nmore: &m {chunks: [4, 4, 8]}\n"
            "datasets:\n  stack:\n    <<: *b\n    <<: *m\n    source: {segy: ../data/stack.sgy}\n",
            "SpecValidationError",
            "duplicate merge key",
        ),
        _catalog_case(
            folder,
            "recursive-alias",
            HEAD + "datasets: &d\n  stack: *d\n",
            "SpecValidationError",
            "recursive YAML alias",
        ),
        _catalog_case(
            folder,
            "two-documents",
            HEAD + "datasets: {}\n---\n" + HEAD,
            "SpecValidationError",
            "one YAML document",
        ),
        _catalog_case(
            folder,
            "huge-chunks",
            HEAD + "datasets:\n  stack:\n    template: PostStack3DTime\n    source: {segy: ../data/stack.sgy}\n"
            "    chunks: [100000, 100000, 100000]\n",
            "SpecValidationError",
            "MDIO_CATALOG_MAX_CHUNK_MIB",
        ),
        _catalog_case(
            folder,
            "huge-access-pattern",
            HEAD + "datasets:\n  stack:\n" + STACK + "    access_patterns: {fast_z: [1000000, 1000000, 1]}\n",
            "SpecValidationError",
            "MDIO_CATALOG_MAX_CHUNK_MIB",
        ),
    ]
    fifo_catalog = folder / "catalogs" / "catalog-is-fifo.yaml"
    os.mkfifo(fifo_catalog)
    cases.append(
        Case(
            "catalog-is-fifo",
            "catalog",
            ("validate", "-c", "catalogs/catalog-is-fifo.yaml"),
            "NotRegularFileError",
            "FIFO",
            catalog="catalogs/catalog-is-fifo.yaml",
        )
    )
    return cases


def source_cases(folder: Path) -> list[Case]:
    """Sources that are not regular files or need pickle: refused at once by build and the segy commands."""
    data = folder / "data"
    os.mkfifo(data / "fifo.sgy")
    os.symlink("loop.sgy", data / "loop.sgy")
    (data / "folder.sgy").mkdir()
    np.save(data / "pickled.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.savez(data / "pickled.npz", values=np.array([[1, "x"]], dtype=object))
    cases = []
    segy_sources = {
        "fifo": ("data/fifo.sgy", "NotRegularFileError", "FIFO"),
        "device": (ENDLESS_DEVICE, "NotRegularFileError", "character device"),
        "symlink-loop": ("data/loop.sgy", "NotRegularFileError", "symlink loop"),
        "folder": ("data/folder.sgy", "SegyError", "is a directory"),
    }
    for name, (source, error, message) in segy_sources.items():
        if name == "device" and not os.path.exists(ENDLESS_DEVICE):
            continue
        in_catalog = source if source.startswith("/") else f"../{source}"
        relative = _catalog(
            folder,
            f"source-{name}",
            HEAD + f"datasets:\n  stack:\n    template: PostStack3DTime\n    source: {{segy: {in_catalog}}}\n"
            "    chunks: [4, 4, 8]\n",
        )
        build_error, build_message = ("NotRegularFileError", "directory") if name == "folder" else (error, message)
        cases.append(
            Case(
                f"build-{name}", "build", ("build", "-c", relative, "-q"), build_error, build_message, catalog=relative
            )
        )
        cases.append(Case(f"scan-{name}", "segy", ("segy", "scan", source), error, message, source=source))
        cases.append(
            Case(
                f"ingest-{name}",
                "segy",
                ("segy", "ingest", source, "out/x.mdio", "-i", "inline:189", "-i", "crossline:193", "-q"),
                error,
                message,
                source=source,
            )
        )
    valid = (data / "stack.sgy").read_bytes()
    (data / "truncated.sgy").write_bytes(valid[:-7])
    bad_format = bytearray(valid)
    bad_format[3224:3226] = (99).to_bytes(2, "big")
    (data / "format99.sgy").write_bytes(bytes(bad_format))
    (data / "short.sgy").write_bytes(valid[:3000])
    malformed = {
        "truncated": ("data/truncated.sgy", "SegyTruncatedError", "truncated.sgy"),
        "format99": ("data/format99.sgy", "SegyFormatError", "sample format code 99"),
        "short": ("data/short.sgy", "SegyTruncatedError", "shorter than the 3600-byte"),
    }
    for name, (source, error, message) in malformed.items():
        cases.append(Case(f"scan-{name}", "segy", ("segy", "scan", source), error, message, source=source))
        cases.append(
            Case(
                f"ingest-{name}",
                "segy",
                ("segy", "ingest", source, "out/x.mdio", "-i", "inline:189", "-i", "crossline:193", "-q"),
                error,
                message,
                source=source,
            )
        )
    for name, entry in {"npy": "numpy: ../data/pickled.npy", "npz": "numpy: ../data/pickled.npz"}.items():
        relative = _catalog(folder, f"pickled-{name}", HEAD + f"datasets:\n  arr:\n    source: {{{entry}}}\n")
        cases.append(
            Case(
                f"build-pickled-{name}",
                "build",
                ("build", "-c", relative, "-q"),
                "NumpySourceError",
                "pickle",
                catalog=relative,
            )
        )
    return cases


def argument_cases() -> list[Case]:
    """Command-line values that are not what they say: one-line errors, nothing written."""
    ingest = ("segy", "ingest", "data/stack.sgy", "out/x.mdio")
    return [
        Case(
            "arg-index-byte",
            "argument",
            (*ingest, "-i", "inline:abc", "-i", "crossline:193"),
            "ArgumentError",
            "not an integer",
        ),
        Case(
            "arg-index-float",
            "argument",
            (*ingest, "-i", "inline:189.5", "-i", "crossline:193"),
            "ArgumentError",
            "not an integer",
        ),
        Case(
            "arg-chunks",
            "argument",
            (*ingest, "-i", "inline:189", "-i", "crossline:193", "--chunks", "4,x,8"),
            "ArgumentError",
            "not a list of integers",
        ),
        Case(
            "arg-chunks-negative",
            "argument",
            (*ingest, "-i", "inline:189", "-i", "crossline:193", "--chunks", "4,-4,8"),
            "ArgumentError",
            "positive",
        ),
        Case(
            "arg-chunks-huge",
            "argument",
            (*ingest, "-i", "inline:189", "-i", "crossline:193", "--chunks", "100000,100000,100000", "-q"),
            "ShapeError",
            "MDIO_CATALOG_MAX_CHUNK_MIB",
        ),
        Case(
            "arg-grid-overrides",
            "argument",
            (*ingest, "-i", "inline:189", "-i", "crossline:193", "--grid-overrides", "{bad"),
            "ArgumentError",
            "not valid JSON",
        ),
        Case(
            "arg-trace-field",
            "argument",
            ("segy", "trace-headers", "data/stack.sgy", "-f", "x:abc"),
            "ArgumentError",
            "not an integer",
        ),
        Case(
            "arg-trace-range",
            "argument",
            ("segy", "trace-headers", "data/stack.sgy", "-t", "a:b"),
            "ArgumentError",
            "not an integer",
        ),
    ]


def make_corpus(folder: Path) -> list[Case]:
    """Write the corpus into ``folder`` (created) and return its cases."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "catalogs").mkdir(exist_ok=True)
    write_segy(folder / "data" / "stack.sgy")
    return [*catalog_cases(folder), *empty_source_cases(folder), *source_cases(folder), *argument_cases()]


def empty_source_cases(folder: Path) -> list[Case]:
    """``empty:`` sources with non-finite or repeated coordinates, or sizes beyond the limits (issue 15)."""
    from tests.data.bad.degenerate import EMPTY_SOURCES

    head = HEAD + "datasets:\n  e:\n    template: PostStack3DTime\n    source:\n      empty: "
    return [
        _catalog_case(folder, name, f"{head}{dims}\n", "SpecValidationError", words)
        for name, dims, words in EMPTY_SOURCES
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bad-corpus")
    made = make_corpus(target)
    for case in made:
        print(f"{case.name:28} {case.error:22} mdio-catalog {' '.join(case.argv)}")
    print(f"{len(made)} cases in {target}")
