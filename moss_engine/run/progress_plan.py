"""How a run's one progress fraction is shared among its stages, so that it grows about evenly with time.

Each stage reports its own 0-1 fraction; ``stage_spans`` gives each stage the share of the run it is expected to
take, counted in mask passes (one mask's forward and backward pass at full resolution, the optimiser's unit of work:
0.26 s for 30 s of preview audio on the 2-core CPU). Measured there, unloaded, on the preview preset with 40 steps
(the test data's portrait and orchestral piece, 30 s): a full step of six masks 1.5 s, a coarse step 0.8 s, a
phase-refined point 1 s, a point between neighbours 0.35 s, a point rendered 0.23 s and heard by Zimtohrli 0.8 s
more; the run took 74 s, 65 % of it optimising, 10 % refining, 3 % between neighbours, 17 % rendering and listening.
Hearing the crossfade at ``front_audio.CROSSFADE_HEARD`` levels as well (issue 22) adds about a fifth to the last
stage (measured on the 2-core CPU, loaded by other work: the bundled sample's preview finishing 21.5 s -> 26.3 s,
median of three pairs), so about 63 %, 9.5 %, 3 % and 20 % now; these weights give 65 %, 9.5 %, 3.6 % and 22 %.
Measuring every point after MP3, AAC and Opus (issue 24, the last stage) takes 1.5-1.7 s a point of 30 s there (12.7 s
for the sample's 8 points in a run on the loaded CPU), about 6 mask passes: 12 s more on the 74 s run, 14 % of it; the
weights now give 56 %, 8 %, 3 %, 19 % and 14 %.
A time-left estimate read off the fraction (the app's ``eta.TimeLeft``) is then right across stages, not only while
the optimiser steps.
"""

from __future__ import annotations

from moss_engine.optimise.coarse import COARSE_COST
from moss_engine.optimise.nsga2 import population_size
from moss_engine.run.front_audio import CROSSFADE_HEARD
from moss_engine.settings import RunSettings

#: A generation of NSGA-II evaluates without a backward pass: about a third of a mask pass per member.
NSGA2_MEMBER_COST = 0.35
#: A phase-refined point: one scoring pass plus this much per Griffin-Lim iteration (an STFT round trip).
REFINE_BASE, REFINE_PER_ITERATION = 1.0, 0.18
#: A point between neighbours: its scoring and (when both neighbours are refined) its refinement, on average.
BETWEEN_BASE, BETWEEN_PER_ITERATION = 0.5, 0.05
#: A chosen point rendered at the song's loudness, and heard by Zimtohrli (in worker processes, beside the rendering:
#: 0.8 s of a core, about 3 mask passes, of which about a third is hidden behind the rendering; with 3 the weights gave
#: the stage 22 % where 17 % was measured). A level of the crossfade heard for the reference line costs as much.
RENDER_COST = 1.0
LISTEN_COST = 2.0
#: Starting the listening worker processes (spawn, then Zimtohrli's import): about a second on the 2-core CPU
#: (measured 0.95-1.7 s to the first point heard), half of it hidden behind the rendering.
POOL_START_COST = 2.0
#: The pool of points heard is about this many times the asked points (up to ``pipeline.EAR_POOL_FACTOR`` of them,
#: near-duplicates left out, plus those tried between neighbours).
HEARD_POOL_FACTOR = 2

#: Every point of the front measured after MP3 128, AAC 128 and Opus 96 (``pipeline.measure_codecs``): six ffmpeg
#: runs and three viewer SSIMs, in threads on every core: about 1.5 s wall per point of 30 s on the 2-core CPU, in mask
#: passes.
CODEC_COST = 6.0

#: The stages of ``stage_spans``, in the order a run goes through them.
SPAN_STAGES = ("optimising", "refining", "between", "finishing", "codecs")


def stage_spans(settings: RunSettings, by_ear: bool) -> dict[str, tuple[float, float]]:
    """``{stage: (low, high)}`` for ``SPAN_STAGES``: the part of the run's fraction each fills (a stage that does not
    run has an empty span). ``finishing`` is rendering and then listening (``finishing_split`` divides it); ``codecs``
    the front's points measured after each publishing codec."""
    iterations = settings.phase_iterations
    if settings.algorithm == "nsga2":
        optimising = population_size(settings.points) * NSGA2_MEMBER_COST * settings.steps
    else:
        coarse = settings.coarse_steps if settings.coarse_steps > 0 and settings.steps > 1 else 0
        optimising = max(1, settings.points - 2) * (settings.steps - coarse + COARSE_COST * coarse)
    refining = (settings.points - 1) * (REFINE_BASE + REFINE_PER_ITERATION * iterations) if iterations else 0.0
    between = settings.points * (BETWEEN_BASE + BETWEEN_PER_ITERATION * iterations) if by_ear else 0.0
    # the points, and the crossfade's levels heard for the reference line by ear (``front_audio.CROSSFADE_HEARD``)
    heard = settings.points * (HEARD_POOL_FACTOR if by_ear else 1) + (CROSSFADE_HEARD if by_ear else 0)
    finishing = heard * (RENDER_COST + (LISTEN_COST if by_ear else 0.0)) + (POOL_START_COST if by_ear else 0.0)
    codecs = settings.points * CODEC_COST
    costs = (optimising, refining, between, finishing, codecs)
    total = sum(costs)
    spans, low = {}, 0.0
    for stage, cost in zip(SPAN_STAGES, costs, strict=True):
        high = min(1.0, low + cost / total)
        spans[stage] = (low, high)
        low = high
    last = SPAN_STAGES[-1]
    spans[last] = (spans[last][0], 1.0)
    return spans


def finishing_split(listening: bool) -> float:
    """The share of the finishing span that rendering fills (the rest is listening)."""
    return RENDER_COST / (RENDER_COST + LISTEN_COST) if listening else 1.0
