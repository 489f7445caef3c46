"""The CUDA code path (bf16 autocast, channels-last, scoring on the GPU): runs where CUDA exists, skips elsewhere."""

from __future__ import annotations

import pytest
import torch

import edgeprune as ep
from edgeprune.train import TrainConfig, amp_dtype

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")]


def test_training_and_pruning_on_cuda_match_the_cpu_path(digits, tmp_path):
    device = torch.device("cuda")
    assert amp_dtype(device) == (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    torch.manual_seed(0)
    model = ep.create_model("vgg11_bn", data=digits, width=0.125)
    ep.fit(model, digits, TrainConfig(epochs=2, device="cuda"))
    assert next(model.parameters()).is_cuda and model.features[0].weight.is_contiguous()  # back from channels-last
    acc = ep.evaluate(model, digits, "test", device="cuda").accuracy
    assert acc > 0.5
    small = ep.prune(model.cpu(), "obd", digits, target_macs=0.5, finetune_epochs=1,
                     train_config=TrainConfig(device="cuda"), out=tmp_path / "p").model
    cpu_acc = ep.evaluate(small.cpu(), digits, "test", device="cpu").accuracy
    gpu_acc = ep.evaluate(small.cuda(), digits, "test", device="cuda").accuracy
    assert abs(cpu_acc - gpu_acc) <= 2 / len(digits.test)  # the same model on both devices
