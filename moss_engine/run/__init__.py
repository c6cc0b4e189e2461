"""A run from settings to files: the pipeline, listening, the run folder, exports, morphs, videos and plots."""
