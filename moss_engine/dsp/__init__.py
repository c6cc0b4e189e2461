"""Signal processing: spectrograms, the picture as a target, masks, the blend, the objectives and the HidingProblem."""
