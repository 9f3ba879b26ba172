"""Bad input on the way to Ray is one line, never a traceback: a malformed or unreachable
address, no ray installed. These start no cluster."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from codeeval_rl.config import RaySettings, load_ray_settings
from codeeval_rl.distributed import RaySandbox, connect
from codeeval_rl.distributed.cluster import parse_address
from codeeval_rl.errors import ConfigError, InputError, MissingDependency


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket closes


def cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess:
    code = prelude + "from codeeval_rl.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("address", ["head", "head:port", "http://head:6379", "head:0", ":6379", "ray://head"])
def test_malformed_addresses_are_input_errors(address):
    with pytest.raises(InputError, match="expected auto, local, HOST:PORT or ray://HOST:PORT"):
        parse_address(address)


def test_addresses_that_parse():
    assert parse_address("auto") is None and parse_address("local") is None
    assert parse_address("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert parse_address("ray://head.svc:10001") == ("head.svc", 10001)
    assert parse_address("[::1]:6379") == ("::1", 6379)


def test_an_unreachable_address_fails_fast_with_one_line():
    pytest.importorskip("ray")
    port = closed_port()
    began = time.monotonic()
    with pytest.raises(InputError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}") as err:
        connect(f"127.0.0.1:{port}")
    assert time.monotonic() - began < 10 and "\n" not in str(err.value)


def test_without_ray_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as when it is not installed
    with pytest.raises(MissingDependency, match=r"pip install 'codeeval-rl\[ray\]'"):
        RaySandbox(cluster="auto").connect()
    from codeeval_rl.integrations.trl import reward_function

    with pytest.raises(MissingDependency, match="codeeval-rl"):
        reward_function(ray="auto")


def test_the_ray_section_of_a_config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train: {}\n")
    assert load_ray_settings(path) is None and load_ray_settings(None) is None
    path.write_text("ray: 10.0.0.5:6379\n")
    assert load_ray_settings(path) == RaySettings(address="10.0.0.5:6379")
    path.write_text("ray:\n  address: auto\n  actors: 8\n  cpus_per_actor: 2\n  resources: {sandbox: 1}\n")
    assert load_ray_settings(path) == RaySettings(actors=8, cpus_per_actor=2, resources={"sandbox": 1.0})
    path.write_text("ray:\n  cpus_per_actor: 0\n")
    with pytest.raises(ConfigError, match="ray.cpus_per_actor = 0"):
        load_ray_settings(path)
    path.write_text("ray:\n  adress: auto\n")
    with pytest.raises(ConfigError, match="ray.adress: unknown key"):
        load_ray_settings(path)


def test_evaluate_cli_with_an_unreachable_cluster_is_one_line(tmp_path):
    pytest.importorskip("ray")
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    port = closed_port()
    proc = cli("evaluate", "--dataset", "humaneval", "--samples", str(samples), "--output", str(tmp_path / "r.json"),
               "--ray", f"127.0.0.1:{port}")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in proc.stderr


def test_evaluate_cli_without_ray_names_the_extra(tmp_path):
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    proc = cli("evaluate", "--dataset", "humaneval", "--samples", str(samples), "--output", str(tmp_path / "r.json"),
               "--ray", "auto", prelude="import sys; sys.modules['ray'] = None; ")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "pip install 'codeeval-rl[ray]'" in proc.stderr


def test_the_training_config_takes_a_ray_section(tmp_path):
    pytest.importorskip("torch")
    from codeeval_rl.cli.train import train_command

    path = tmp_path / "train.yaml"
    path.write_text("train: {dataset: humaneval}\nray: {address: auto, actors: 2}\n")
    with pytest.raises(InputError, match="train.model is required"):  # the ray section itself is accepted
        train_command(config=path)
    path.write_text("train: {model: m, dataset: humaneval}\nray: {actors: -1}\n")
    with pytest.raises(ConfigError, match="ray.actors = -1"):
        train_command(config=path)
