"""``mdio-catalog lineage`` and the lineage in build/status/show/validate, as real processes on the example catalog
(stack -> stack_crop -> stack_delivery, stack -> stack_browse)."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.clirun import cli, strict_loads


def test_lineage_text_json_and_dot(example_catalog: Path) -> None:
    folder = example_catalog.parent
    code, stdout, stderr = cli("lineage", cwd=folder)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert any(
        "segy:data/stack.sgy" in line and "--ingest-->" in line and line.endswith("stack (dataset)") for line in lines
    )
    order = [line.split()[-2] for line in lines]
    assert order.index("stack") < order.index("stack_crop") < order.index("stack_delivery")
    code, stdout, stderr = cli("lineage", "--json", cwd=folder)
    assert code == 0, stderr
    graph = strict_loads(stdout)
    edges = {(e["from"], e["to"]): e["operation"] for e in graph["edges"]}
    assert edges[("stack", "stack_crop")] == "select"
    assert edges[("stack", "stack_browse")] == "recompress"
    assert edges[("stack_crop", "stack_delivery")] == "export"
    assert {n["name"]: n["kind"] for n in graph["nodes"]}["stack_delivery"] == "export"
    code, stdout, stderr = cli("lineage", "stack_crop", "--dot", cwd=folder)
    assert code == 0, stderr
    assert stdout.startswith("digraph lineage {")
    assert '"stack" -> "stack_crop" [label="select"];' in stdout
    assert "gathers" not in stdout  # only the neighbourhood of stack_crop
    code, stdout, stderr = cli("lineage", "stak", cwd=folder)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert "did you mean 'stack'" in stderr


def test_plan_build_status_show_and_validate(example_catalog: Path) -> None:
    folder = example_catalog.parent
    code, stdout, stderr = cli("build", "stack_crop", "--upstream", "--dry-run", "--json", cwd=folder)
    assert code == 0, stderr
    assert [s["name"] for s in strict_loads(stdout)["planned"]] == ["stack", "stack_crop"]
    code, stdout, stderr = cli("build", "--dry-run", cwd=folder)
    assert code == 0, stderr
    rows = [line.split("│")[1].strip() for line in stdout.splitlines() if line.count("│") >= 3]
    assert rows.index("stack") < rows.index("stack_crop") < rows.index("stack_delivery")

    code, _, stderr = cli("build", "-q", cwd=folder)
    assert code == 0, stderr
    code, stdout, stderr = cli("status", "--json", cwd=folder)
    assert code == 0, stderr
    states = {d["name"]: d for d in strict_loads(stdout)["datasets"]}
    assert {d["state"] for d in states.values()} == {"fresh"}
    quality = states["stack_browse"]["quality"]
    assert quality["metric"] == "snr"
    assert quality["snr_db"] >= 40
    assert states["stack_crop"]["derived_from"]["dataset"] == "stack"
    code, stdout, stderr = cli("show", "stack_browse", "--json", cwd=folder)
    assert code == 0, stderr
    assert strict_loads(stdout)["provenance"]["parameters"]["quality"] == quality
    code, stdout, stderr = cli("show", "stack_browse", cwd=folder)
    assert code == 0, stderr
    assert "quality:" in stdout
    assert "derived_from:" in stdout
    code, stdout, stderr = cli("show", "stack_delivery", cwd=folder)
    assert code == 0, stderr
    assert "sha256:" in stdout

    # a select that no longer fits the built stack: validate says where, in one line
    broken = folder / "broken.yaml"
    text = example_catalog.read_text().replace("inline: [110, 129]", "inline: [110, 199]")
    broken.write_text(text)
    code, _, stderr = cli("validate", "-c", str(broken), cwd=folder)  # same folder: same catalog.lock.d
    assert code == 2
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "inline: [110, 199]" in t)
    assert f"broken.yaml:{line}:" in stderr
    assert "199 is not a inline on the grid" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr
