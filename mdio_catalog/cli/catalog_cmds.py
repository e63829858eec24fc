"""Catalog commands: validate, list, show, status, build, templates, schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mdio_catalog.cli.common import (
    CatalogOption,
    ClusterOption,
    JsonOption,
    QuietOption,
    SchedulerOption,
    dask_client,
    emit_json,
    find_catalog,
    load_catalog,
    print_table,
    set_quiet,
    set_workers,
)
from mdio_catalog.humanize import human_size

EXIT_STALE = 1
#: Above this many rows, tables are printed as plain aligned text: rich lays out every cell (seconds for thousands).
PLAIN_TABLE_ROWS = 200


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table for a screenful, plain aligned columns (one write, cost linear in the rows) beyond that."""
    if len(rows) <= PLAIN_TABLE_ROWS:
        print_table(title, columns, rows)
        return
    cells = [columns, *([("" if c is None else str(c)) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [title, *("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)]
    typer.echo("\n".join(lines))


def _dataset_size(url: str) -> int | None:
    """Bytes under a dataset: a plain directory walk on local disks (no links followed), one listing on stores."""
    from mdio_catalog.core.store import Location

    location = Location.of(url)
    if location.is_local:
        return _local_size(location.url)
    try:
        fs, path = location.filesystem()
        if not fs.exists(path):
            return None
        return int(fs.du(path))
    except Exception:  # a size is informative only; an unreachable store shows "-"
        return None


def _local_size(path: str) -> int | None:
    import os

    if os.path.isfile(path):  # an export's SEG-Y file
        return os.path.getsize(path)
    total, folders = 0, [path]
    try:
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_size
    except FileNotFoundError:
        return None if total == 0 and not os.path.lexists(path) else total
    except OSError:
        return None
    return total


def validate(catalog: CatalogOption = None, as_json: JsonOption = False) -> None:
    """Validate the catalog file: structure, templates, names, lineage (unknown datasets, cycles; select/step of
    derived datasets whose upstream is built) -- exit 2 with file:line messages on errors."""
    from mdio_catalog.catalog.lineage import check_built_selections

    cat = load_catalog(catalog)
    check_built_selections(cat)
    if as_json:
        emit_json({"catalog": str(cat.path), "name": cat.name, "valid": True, "datasets": cat.list()})
        return
    typer.echo(f"{cat.path}: valid catalog {cat.name!r} with {len(cat.list())} datasets.")


def list_datasets(catalog: CatalogOption = None, as_json: JsonOption = False) -> None:
    """List the datasets: name, template, source, status, shape, size."""
    from concurrent.futures import ThreadPoolExecutor

    cat = load_catalog(catalog)
    rows: list[dict[str, Any]] = []
    statuses = cat.status()
    built = [s.output for s in statuses if s.record is not None]
    with ThreadPoolExecutor(max_workers=16) as pool:  # the walks wait for the disk or the store, side by side
        sizes = dict(zip(built, pool.map(_dataset_size, built), strict=True))
    for status in statuses:
        if status.name in cat.spec.exports:  # a SEG-Y delivery of a dataset
            template, kind, source = None, "export", f"dataset:{cat.spec.exports[status.name].dataset}"
        else:
            resolved = cat.get(status.name)
            template, kind = resolved.template, resolved.kind
            upstream = getattr(resolved.source, "dataset", None)
            source = resolved.source.url or (f"dataset:{upstream}" if upstream else "(empty)")
        shape = status.record.shape if status.record is not None else None
        rows.append(
            {
                "name": status.name,
                "template": template,
                "kind": kind,
                "source": str(source),
                "status": status.state,
                "shape": shape,
                "size_bytes": sizes.get(status.output) if status.record is not None else None,
            }
        )
    if as_json:
        emit_json(rows)
        return
    _table(
        f"{cat.name} ({cat.path})",
        ["name", "template", "source", "status", "shape", "size"],
        [
            [r["name"], r["template"] or f"({r['kind']})", r["source"], r["status"],
             "x".join(map(str, r["shape"])) if r["shape"] else "-", human_size(r["size_bytes"])]
            for r in rows
        ],
    )  # fmt: skip


def show(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a dataset: resolved spec, provenance and statistics."""
    cat = load_catalog(catalog)
    if name in cat.spec.exports:  # a SEG-Y delivery: its spec and lock entry (size, sha256, derived_from)
        from mdio_catalog.specs.catalog import redact_storage_options

        spec, output = redact_storage_options(cat.spec.exports[name].to_data()), cat.spec.export_url(name, cat.base)
    else:
        spec, output = cat.get(name).redacted_data(), cat.output_url(name)
    record = cat.lock_entry(name)  # one small file, whatever the size of the catalog
    data: dict[str, Any] = {
        "name": name,
        "output": output,
        "spec": spec,
        "provenance": record.to_data(exclude_defaults=False) if record is not None else None,
    }
    if name not in cat.spec.exports:  # the last verify, kept beside the catalog (None: never verified)
        last = cat.last_verify(name)
        data["verify"] = last.status_data(record) if last is not None else None
    if as_json:
        emit_json(data)
        return
    import yaml

    typer.echo(f"# {name} -> {data['output']}")
    typer.echo(yaml.safe_dump({"spec": data["spec"]}, sort_keys=False, width=120).rstrip())
    if record is None:
        typer.echo("provenance: never built")
        return
    summary = {
        "built": f"{record.started.isoformat()} .. {record.finished.isoformat()} ({record.duration_seconds:.1f} s)",
        "spec_hash": record.spec_hash,
        "source": {k: v for k, v in record.source.to_data().items() if v is not None},
        "dimensions": dict(zip(record.dimensions, record.shape, strict=False)),
        "trace_count": record.trace_count,
        "statistics": record.statistics.to_data() if record.statistics else None,
        "access_patterns": record.access_patterns,
        "software": record.software,
    }
    if record.derived_from is not None:
        summary["derived_from"] = record.derived_from.to_data()
    if record.git is not None:
        summary["git"] = record.git.to_data(exclude_defaults=False)
    if name not in cat.spec.exports:
        last = cat.last_verify(name)
        summary["last_verify"] = last.summary(record) if last is not None else "never"
    for key in ("quality", "export"):
        if key in record.parameters:
            summary[key] = record.parameters[key]
    typer.echo(yaml.safe_dump({"provenance": summary}, sort_keys=False, width=120).rstrip())


def status(
    names: Annotated[list[str] | None, typer.Argument(help="Datasets (default: all).", show_default=False)] = None,
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; the exit code says it all.")] = False,
) -> None:
    """Fresh, stale (and why) or never built, per dataset, with the last verify result. Exit 1 when anything is
    not fresh. Warns when the spec (the catalog file, the templates used) has uncommitted changes in git."""
    from mdio_catalog.catalog.verifystate import verify_states

    cat = load_catalog(catalog)
    statuses = cat.status(names or None)
    stale = [s for s in statuses if s.needs_build]
    if quiet and not as_json:
        raise typer.Exit(EXIT_STALE if stale else 0)
    trace = cat.spec_changes([s.name for s in statuses])  # two git commands for the whole catalog
    verified = verify_states(cat.path, [s.name for s in statuses]) if cat.path is not None else {}
    warning = None
    if trace is not None and trace.dirty_datasets:
        warning = (f"the spec has uncommitted changes ({', '.join(trace.all_dirty_files())}): builds from it cannot "
                   "be traced to a commit; commit them (build --require-clean refuses until then)")  # fmt: skip
    if as_json:
        datasets = []
        for s in statuses:
            data = s.to_data()
            last = verified.get(s.name)
            data["verify"] = last.status_data(s.record) if last is not None else None
            if trace is not None:
                data["spec_dirty_files"] = trace.dirty_files(s.name)
            datasets.append(data)
        emit_json({"catalog": cat.name, "fresh": not stale, "git": trace.to_data() if trace is not None else None,
                   "warnings": [warning] if warning else [], "datasets": datasets})  # fmt: skip
    else:
        _table(
            f"{cat.name}: {len(statuses) - len(stale)} fresh, {len(stale)} to build",
            ["name", "status", "why", "verified"],
            [[s.name, s.state, "; ".join(s.reasons), _verified(cat, verified.get(s.name), s)] for s in statuses],
        )
        if warning:
            typer.echo(f"warning: {warning}", err=True)
    if stale:
        raise typer.Exit(EXIT_STALE)


def _verified(cat: Any, last: Any, status: Any) -> str:
    """The status table's verify cell: never, or the last result and its date (outdated: another build)."""
    if status.name in cat.spec.exports:  # a SEG-Y file: nothing to verify
        return "-"
    return "never" if last is None else str(last.summary(status.record))


def build(
    names: Annotated[list[str] | None, typer.Argument(help="Datasets (default: all).", show_default=False)] = None,
    catalog: CatalogOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Rebuild even fresh datasets; foreign content at an output path (not built by this catalog) is "
            "renamed aside to NAME.foreign-TIMESTAMP and kept, never deleted.",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan, build nothing.")] = False,
    upstream: Annotated[
        bool, typer.Option("--upstream", help="Also what the named datasets are derived from (when not fresh).")
    ] = False,
    downstream: Annotated[
        bool, typer.Option("--downstream", help="Also every dataset derived from the named ones (when not fresh).")
    ] = False,
    require_clean: Annotated[
        bool,
        typer.Option(
            "--require-clean",
            help="Refuse (build nothing) when the spec of a dataset to build (the catalog file, its templates) has "
            "uncommitted changes in git.",
        ),
    ] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel workers (default: all cores).")] = None,
    scheduler: SchedulerOption = None,
    cluster: ClusterOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Build what is stale or never built (everything with --force); each dataset replaces its old version only
    when complete. With --scheduler or --cluster, SEG-Y ingestion and access patterns run on the dask workers
    (same result, same lock entries). Each build records the spec's git commit and uncommitted changes."""
    set_quiet(quiet or as_json)
    set_workers(workers)
    cat = load_catalog(catalog)

    def started(status: Any) -> None:
        if not quiet and not as_json:
            typer.echo(f"building {status.name}: {'; '.join(status.reasons)}", err=True)

    if dry_run:
        report = cat.build(
            names or None, force=force, dry_run=True, upstream=upstream, downstream=downstream,
            require_clean=require_clean,
        )  # fmt: skip
    else:
        with dask_client(scheduler, cluster, quiet=quiet or as_json) as client:
            report = cat.build(
                names or None, force=force, on_start=started, client=client, upstream=upstream,
                downstream=downstream, require_clean=require_clean,
            )  # fmt: skip
    if as_json:
        emit_json(report.to_data())
        return
    if dry_run:
        rank = {n: i for i, n in enumerate(cat.graph().order())}  # the plan in build order, upstreams first
        rows = [*([s.name, "build", "; ".join(s.reasons)] for s in report.planned),
                *([s.name, "skip", "fresh"] for s in report.skipped)]  # fmt: skip
        print_table("plan (dry run)", ["name", "action", "why"], sorted(rows, key=lambda r: rank.get(r[0], 0)))
        return
    for name, path in report.moved_aside.items():  # said even with --quiet: the user's data moved
        typer.echo(f"{name}: foreign content at its output path was moved aside to {path} (kept)", err=True)
    if quiet:
        return
    print_table(
        f"built {len(report.built)}, fresh {len(report.skipped)}",
        ["name", "shape", "traces", "seconds", "output"],
        (
            [r.dataset, "x".join(map(str, r.shape)), r.trace_count, f"{r.duration_seconds:.1f}", r.output]
            for r in report.built
        ),
    )


# --- templates and schemas ----------------------------------------------------------------------------------------
templates_app = typer.Typer(help="The ready dataset templates.", no_args_is_help=True)


@templates_app.command("list")
def templates_list(catalog: CatalogOption = None, as_json: JsonOption = False) -> None:
    """List templates (built-in, plus the catalog's own when a catalog is found)."""
    registry = _registry(catalog)
    rows = []
    for name in registry.names():
        template = registry.get(name)
        rows.append({"name": name, "domain": template.domain, "dimensions": list(template.dimension_names),
                     "description": template.description.split(". ")[0]})  # fmt: skip
    if as_json:
        emit_json(rows)
        return
    print_table("templates", ["name", "domain", "dimensions", "description"],
                ([r["name"], r["domain"], ", ".join(r["dimensions"]), r["description"]] for r in rows))  # fmt: skip


@templates_app.command("show")
def templates_show(
    name: Annotated[str, typer.Argument(help="Template name or path.")],
    catalog: CatalogOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one template as YAML (or JSON)."""
    template = _registry(catalog).get(name)
    if as_json:
        emit_json(template.to_data(exclude_defaults=False))
        return
    typer.echo(template.to_yaml().rstrip())


def _registry(catalog: Path | None) -> Any:
    from mdio_catalog.exceptions import MDIONotFoundError
    from mdio_catalog.specs.registry import TemplateRegistry

    try:
        return load_catalog(catalog).registry
    except MDIONotFoundError:
        if catalog is not None:
            raise
        return TemplateRegistry.default()


def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON Schema files into this folder.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The JSON Schema of every spec kind (for editors: # yaml-language-server: $schema=...)."""
    from mdio_catalog.specs.schema import render_all

    files = render_all()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    if as_json:
        emit_json({"written_to": str(out) if out else None, "files": sorted(files)})
        return
    for name in sorted(files):
        typer.echo(str(out / name) if out else name)


__all__ = ["build", "find_catalog", "list_datasets", "schema", "show", "status", "templates_app", "validate"]
