"""``flightsw ground put/get`` (the ground's CFDP end) against an in-process SIL."""

from pathlib import Path

import pytest

from flightsw.cli.main import main


@pytest.mark.parametrize("cfdp_class", ["1", "2"])
def test_ground_put_delivers_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cfdp_class: str
) -> None:
    local = tmp_path / "table.bin"
    local.write_bytes(bytes(range(256)) * 40)
    assert main(["ground", "put", str(local), "tbl2", "--class", cfdp_class]) == 0
    assert f"10240 octets, class {cfdp_class}" in capsys.readouterr().out


def test_ground_get_of_a_file_the_node_lacks_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ground", "get", "nothere", str(tmp_path / "x"), "--timeout", "20"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "PUS-1 code 16" in err[0]
    assert not (tmp_path / "x").exists()
