"""Training throughput on 1 vs N GPUs (DDP through accelerate), full SD2-inpainting architecture, random weights.

Launch once per GPU count, e.g.  torchrun --nproc_per_node 2 benchmarks/multi_gpu.py --out results_2.json
- lora: one SD2 LoRA step (rank 16 on attention, bf16 autocast, VAE encode included), 512², batch 4 per GPU;
- dpo: one Region-Reg-DPO step, the trainer's `region_dpo_backward` (adapter-disabled reference under the same bf16
  autocast, gradient checkpointing, one pass), 512², an 8-frame clip per GPU. The `multi_gpu_*.json` results were
  measured before the step became that function (reference then in fp32 outside autocast).
- restorer: one one-step-restorer step (SD2.1-base sizes, LoRA r256, bf16, gradient checkpointing, MSE + LPIPS-VGG +
  hinge GAN, then the discriminator step), 512², batch 6 per GPU (HYPIR's setting).
Throughput counts the global batch (per-GPU batch × GPUs); memory is the peak on each GPU.
"""

import argparse, json, os, statistics, time, traceback
from functools import partial
from pathlib import Path

for k, v in dict(NCCL_NVLS_ENABLE="0", TORCH_SYMM_MEM_DISABLE_MULTICAST="1", NVSHMEM_DISABLE_NVLS="1").items():
    os.environ.setdefault(k, v)

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs

from heritage_inpaint.dpo_loss import RegionDPOConfig
from heritage_inpaint.dpo_train import region_dpo_backward
from heritage_inpaint.masks import moving_shape_masks
from heritage_inpaint.sd2 import build_sd2_pipeline
from heritage_inpaint.sd2_lora import (
    LoraTrainConfig,
    encode_inpaint_batch,
    inpaint_diffusion_loss,
    prepare_trainable_unet,
)


def timed(acc, step, steps=20, warmup=3):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    acc.wait_for_everyone()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = torch.tensor([torch.cuda.max_memory_allocated() / 2**30], device=acc.device)
    return statistics.median(times), acc.gather(peak).tolist()


def bench_lora(acc, batch=4):
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float32, device=str(acc.device))
    params = prepare_trainable_unet(pipe.unet, LoraTrainConfig(rank=16))
    opt = torch.optim.AdamW(params, lr=1e-5)
    unet, opt = acc.prepare(pipe.unet, opt)
    pipe.vae.to(dtype=torch.bfloat16)
    from diffusers import DDPMScheduler

    sch = DDPMScheduler.from_config(pipe.scheduler.config)
    emb = torch.randn(batch, 77, 1024, device=acc.device)
    img = torch.rand(batch, 3, 512, 512, device=acc.device, dtype=torch.bfloat16) * 2 - 1
    mask = torch.zeros(batch, 1, 512, 512, device=acc.device, dtype=torch.bfloat16)
    mask[..., 128:384, 128:384] = 1

    def step():
        with torch.no_grad():
            lat, mlat, mk = encode_inpaint_batch(pipe.vae, img, mask)
        lat, mlat, mk = lat.float(), mlat.float(), mk.float()
        noise = torch.randn_like(lat)
        t = torch.randint(0, 1000, (batch,), device=acc.device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = inpaint_diffusion_loss(unet, sch, lat, mlat, mk, emb, noise, t)
        acc.backward(loss)
        opt.step()
        opt.zero_grad(set_to_none=True)

    s, mem = timed(acc, step)
    del pipe, unet, opt
    torch.cuda.empty_cache()
    return dict(
        per_gpu_batch=batch, step_s=s, global_images_per_s=batch * acc.num_processes / s, peak_mem_gib_per_gpu=mem
    )


def bench_dpo(acc, frames=8):
    pipe = build_sd2_pipeline("full", seed=0, dtype=torch.float32, device=str(acc.device))
    params = prepare_trainable_unet(pipe.unet, LoraTrainConfig(rank=16, alpha=32))
    pipe.unet.enable_gradient_checkpointing()
    opt = torch.optim.AdamW(params, lr=1e-6)
    unet, opt = acc.prepare(pipe.unet, opt)
    base = acc.unwrap_model(unet)
    n, h = frames, 64
    x = torch.randn(2 * n, 9, h, h, device=acc.device)
    tgt = torch.randn(2 * n, 4, h, h, device=acc.device)
    t = torch.full((2 * n,), 500, device=acc.device)
    emb = torch.randn(2 * n, 77, 1024, device=acc.device)
    masks = moving_shape_masks(512, 512, n, seed=0).to(acc.device)
    cfg = RegionDPOConfig(beta=500.0, rho=(100.0, 200.0, 0.0))
    ones = torch.ones(1, device=acc.device)
    bf16 = partial(torch.autocast, "cuda", dtype=torch.bfloat16)  # the Accelerator here has no mixed precision

    def step():  # the trainer's step: region_dpo_backward, reference under the same bf16 autocast, one pass
        region_dpo_backward(
            unet, base, (x, t, emb, tgt), masks, ones, cfg, 9, 0, bf16, acc.backward, partial(acc.no_sync, unet)
        )
        acc.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    s, mem = timed(acc, step)
    del pipe, unet, opt
    torch.cuda.empty_cache()
    return dict(
        frames_per_clip=n, clips_per_gpu=1, step_s=s, global_clips_per_s=acc.num_processes / s, peak_mem_gib_per_gpu=mem
    )


def bench_restorer(acc, batch=6):
    from heritage_inpaint.discriminator import MultiLevelDiscriminator, hinge_d_loss
    from heritage_inpaint.lpips import LPIPS
    from heritage_inpaint.restorer import load_restorer
    from heritage_inpaint.restorer_train import RestorerTrainConfig, generator_losses

    cfg = RestorerTrainConfig(model="sd2_base_random", batch=batch)
    r = load_restorer(cfg.restorer_config(), device=str(acc.device))
    r.vae.to(dtype=torch.bfloat16)
    r.text_encoder.to(dtype=torch.bfloat16)
    r.unet.enable_gradient_checkpointing()
    r.vae.enable_gradient_checkpointing()
    params = [p for n, p in r.unet.named_parameters() if "lora_" in n]
    disc, lp = MultiLevelDiscriminator().to(acc.device), LPIPS("vgg").to(acc.device)
    opt_g, opt_d = torch.optim.Adam(params, 1e-5), torch.optim.Adam(disc.trainable_parameters(), 1e-5)
    unet, disc_w, opt_g, opt_d = acc.prepare(r.unet, disc, opt_g, opt_d)
    emb = r.text_embedding("", batch=batch)
    lq, hq = torch.rand(batch, 3, 512, 512, device=acc.device), torch.rand(batch, 3, 512, 512, device=acc.device)
    unet.train()

    def step():
        disc.heads.requires_grad_(False)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            x, loss, _ = generator_losses(r, unet, disc, lp, lq, hq, emb, cfg)
        disc.heads.requires_grad_(True)
        acc.backward(loss)
        opt_g.step()
        opt_g.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            d = disc_w(torch.cat([hq, x.detach()]))
            ld = hinge_d_loss([o[:batch] for o in d], [o[batch:] for o in d])
        acc.backward(ld)
        opt_d.step()
        opt_d.zero_grad(set_to_none=True)

    s, mem = timed(acc, step)
    del r, unet, disc_w, opt_g, opt_d
    torch.cuda.empty_cache()
    return dict(
        per_gpu_batch=batch, step_s=s, global_images_per_s=batch * acc.num_processes / s, peak_mem_gib_per_gpu=mem
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    # BENCH_DDP=static: DDP with a static graph, gradients as bucket views and no buffer broadcast (the trainers'
    # setting
    # when it wins); default: accelerate's DDP defaults.
    ddp = os.environ.get("BENCH_DDP", "default")
    kw = dict(static_graph=True, gradient_as_bucket_view=True, broadcast_buffers=False) if ddp == "static" else {}
    acc = Accelerator(kwargs_handlers=[DistributedDataParallelKwargs(**kw)])
    ap_parts = os.environ.get("BENCH_PARTS", "lora,dpo,restorer").split(",")
    res = dict(
        gpus=acc.num_processes, ddp=ddp, ddp_kwargs=kw, device=torch.cuda.get_device_name(), torch=torch.__version__
    )
    for name, fn in (("lora", bench_lora), ("dpo", bench_dpo), ("restorer", bench_restorer)):
        if name not in ap_parts:
            continue
        try:
            res[name] = fn(acc)
        except Exception:
            res[name] = dict(error=traceback.format_exc()[-1500:])
        if acc.is_main_process:
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(json.dumps(res, indent=1))
            print(acc.num_processes, name, res[name], flush=True)


if __name__ == "__main__":
    main()
