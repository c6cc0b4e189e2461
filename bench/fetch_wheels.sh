#!/usr/bin/env bash
# Download, on this (development) machine, the wheels the GPU machine lacks, into .whl/ at the repository root
# (ignored by git; the device tool carries it when a run names it in `carry`). That machine has Python 3.12 with
# torch 2.11, numpy, scipy, matplotlib, pillow, wrapt, typing-extensions and pytest, and no soundfile, soxr, pymoo,
# moocore or pytorch-msssim. Versions are the ones this project is tested with.
#
#   bash bench/fetch_wheels.sh          # then: see bench/gpu_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=(
  soundfile==0.14.0 cffi==2.0.0 pycparser==3.0        # audio in/out (libsndfile inside the wheel)
  soxr==1.1.0                                          # resampling
  pytorch-msssim==1.0.0                                # the SSIM window
  pymoo==0.6.2 moocore==0.3.2 platformdirs==4.14.8     # hypervolume (and NSGA-II)
  autograd==1.9.1 cma==4.5.0 Deprecated==1.3.1         # pymoo's imports
  alive-progress==3.3.0 about-time==4.2.1 graphemeu==0.7.2
)
mkdir -p .whl
python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
du -sh .whl
