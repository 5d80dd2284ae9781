"""Devices, where training data is kept, and forked random state."""

import pytest
import torch

from sklearn_snn._device import (
    FitGenerators,
    resolve_device,
    resolve_precision,
    storage_device,
)


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("tpu-ish")


@pytest.mark.parametrize("has_units", [True, False])
def test_auto_precision_is_bf16_only_on_a_cpu_with_bf16_matrix_units(
    monkeypatch, has_units
):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: has_units)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert resolve_precision("auto", "cpu") == ("bf16" if has_units else "float32")
    assert resolve_precision("auto", "cuda:0") == "float32"
    assert resolve_precision("float32", "cpu") == "float32"
    assert resolve_precision("bf16", "cuda") == "bf16"


def test_data_that_does_not_fit_the_gpu_stays_on_the_host(monkeypatch):
    assert storage_device(10**12, "cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (1000, 4000))
    assert storage_device(400, "cuda") == "cuda"
    assert storage_device(600, "cuda") == "cpu"


@pytest.mark.parametrize("device", ["meta", "cpu:0:1", "lazy"])
def test_devices_that_cannot_train_are_refused_by_name(device):
    with pytest.raises(ValueError, match="'auto', 'cpu', 'cuda'"):
        resolve_device(device)


def test_fit_generators_are_seeded_per_device_and_leave_the_global_one_alone():
    torch.manual_seed(7)
    state = torch.get_rng_state()
    generators = FitGenerators(3)
    first = torch.rand(3, generator=generators.on("cpu"))
    assert generators.on("cpu") is generators.on(torch.device("cpu"))
    second = torch.rand(3, generator=FitGenerators(3).on("cpu"))
    assert torch.equal(first, second)
    assert not torch.equal(first, torch.rand(3, generator=FitGenerators(4).on("cpu")))
    assert torch.equal(torch.get_rng_state(), state)
