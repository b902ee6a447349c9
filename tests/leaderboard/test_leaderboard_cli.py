import argparse

from harness.store import Store
from leaderboard import cli


def test_build_command_prints_the_index_as_a_file_url(tmp_path, capsys):
    store = tmp_path / "harness.db"
    Store(store).close()
    parser = argparse.ArgumentParser(prog="harness")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        ["leaderboard", "build", "--store", str(store), "--out", str(tmp_path / "s")]
    )
    assert args.run(args) == 0
    url = capsys.readouterr().out.strip()
    assert url == (tmp_path / "s" / "index.html").resolve().as_uri()
    assert url.startswith("file://")


def test_build_defaults_match_the_documented_layout():
    parser = argparse.ArgumentParser(prog="harness")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["leaderboard", "build"])
    assert (str(args.store), str(args.out), args.release) == ("results/harness.db", "site", None)


def test_missing_store_exits_2_with_one_line_through_the_harness_command(tmp_path, capsys):
    from harness.cli import main

    code = main(["leaderboard", "build", "--store", str(tmp_path / "none.db"),
                 "--out", str(tmp_path / "site")])
    error = capsys.readouterr().err
    assert code == 2
    assert error.count("\n") == 1 and "no results store" in error
